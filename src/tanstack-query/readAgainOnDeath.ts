import { isWorkerDeath } from '../workerDeath';

/**
 * Makes `read` once more when its worker died with it: the next worker starts at once. TanStack takes a
 * read that fails for a stored value it cannot use, and removes it (`persistQueryClientRestore`,
 * `retrieveQuery`): a crash would cost the persisted client, paused mutations and all. A read stores
 * nothing, so it may be made twice.
 */
export async function readAgainOnDeath<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!isWorkerDeath(error)) throw error;
    return read();
  }
}
