import { isCacheError } from '../CacheError';
import { cacheInternals } from '../cacheInternals';

/**
 * Tells the cache's logger (console for a cache not made by `createCache`) of a failure the adapter does
 * not pass on to TanStack, unless the app closed the cache (`closed`): TanStack goes on after `close()`.
 */
export function tellFailure(cache: object, message: string, error: unknown): void {
  if (!isCacheError(error, 'closed')) (cacheInternals.get(cache)?.logger ?? console).error(message, error);
}
