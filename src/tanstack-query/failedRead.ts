import { isCacheError } from '../CacheError';
import { tellFailure } from './tellFailure';

/**
 * What a read of TanStack's answers when it failed for good (IndexedDB's error, its worker dead twice,
 * the cache closed): nothing stored. TanStack removes what a rejected read was to restore
 * (`persistQueryClientRestore`, `retrieveQuery`), which its next save or fetch would replace all the same,
 * except a query's fetch that fails (offline); a rejected restore also keeps `persistQueryClient` from
 * subscribing (nothing of the session saved), and after `close()` the removal rejects too, failing the
 * query instead of fetching it. The failure is told to the cache's logger, as a save's is (not `closed`).
 * A type that cannot hold TanStack's data still rejects: the app's mistake, which every call makes alike.
 */
export function failedRead(cache: object, message: string, error: unknown): undefined {
  if (isCacheError(error, 'invalid_argument') || isCacheError(error, 'unknown_content_type')) throw error;
  tellFailure(cache, message, error);
  return undefined;
}
