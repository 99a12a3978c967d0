import { CacheError, isCacheError } from '../src/CacheError';
import type { TypeName } from '../src/contentType';
import type { ExpiredBy, Removed, Spared, Store } from './Store';

/** Where roomOnFullDisk frees room, and for how big a change. */
export interface Room {
  store: Store;
  /** Whose least recently used entries go, in this order. */
  types: TypeName[];
  /** The change's size. */
  bytes: number;
  expiredBy: ExpiredBy;
  /** Keys freeing room must leave: what a deletion is to delete (see Store.free). */
  spare?: Spared;
}

/**
 * Runs `attempt`; on a quota error (it aborted: nothing of it happened) removes expired entries, then
 * the least recently used of `types` in order, and runs it once more; a second quota error rejects
 * with `failed(entries removed)`. It frees twice the write, and at least a quarter of what is held:
 * a full disk (or a spent share of it) rarely gets back under its limit by the size of one write,
 * sizes are estimates, and the browser counts its own overhead. `removed` hears what was freed, per type.
 */
export async function roomOnFullDisk<T>(
  attempt: () => Promise<T>,
  room: Room,
  failed: (count: number) => string,
  removed: (type: TypeName, removed: Removed) => void,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isCacheError(error, 'quota_exceeded')) throw error;
    const { store, types, bytes, expiredBy, spare } = room;
    const held = (await store.usage(types)).reduce((sum, usage) => sum + usage.bytes, 0);
    const freed = await store.free(types, Math.max(2 * bytes, held / 4), expiredBy, spare);
    let count = 0;
    for (const [freedType, removedOfType] of Object.entries(freed) as [TypeName, Removed][]) {
      removed(freedType, removedOfType);
      count += removedOfType.expired + removedOfType.evicted;
    }
    try {
      return await attempt();
    } catch (retryError) {
      if (!isCacheError(retryError, 'quota_exceeded')) throw retryError;
      throw new CacheError('quota_exceeded', failed(count), { cause: retryError });
    }
  }
}
