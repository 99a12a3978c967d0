import { isCacheError } from '../CacheError';
import { isWorkerDeath } from '../workerDeath';

/**
 * Makes `call` once more when its worker died with it (the next worker starts at once), while `still()`
 * says it is wanted. TanStack takes a read that fails for a stored value it cannot use, and removes it
 * (`persistQueryClientRestore`, `retrieveQuery`): a crash would cost the persisted client, paused mutations
 * and all; a read stores nothing, so it may be made twice. A save the next worker says did not happen is
 * made there, unless a later one of the same entry came meanwhile (`still`).
 */
export async function againOnDeath<T>(call: () => Promise<T>, still: () => boolean = () => true): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isWorkerDeath(error) || !still()) throw error;
    // Made after an await: close(), which settles the call that died, refuses this one, and the death is what to tell.
    return call().catch((again: unknown) => {
      throw isCacheError(again, 'closed') ? error : again;
    });
  }
}
