import type { TypeName } from '../src/contentType';
import { entryKeys, entryStore, USAGE_KEY, usageOf, type EntryRecord, type UsageRecord } from './databaseSchema';
import { requestDone } from './idbRequests';
import { walkCursor } from './walkCursor';
import type { Usage } from './Store';
import { noUsage } from './usage';

/** A type's usage as its record keeps it (in the type's own store, written in the transaction of each change), or recounted where it is missing. */
export async function readUsage(tx: IDBTransaction, type: TypeName): Promise<Usage> {
  return usageOf((await requestDone(tx.objectStore(entryStore(type)).get(USAGE_KEY))) as UsageRecord | undefined) ?? (await recount(tx, type));
}

export function putUsage(tx: IDBTransaction, type: TypeName, usage: Usage): IDBRequest {
  return tx.objectStore(entryStore(type)).put({ ...usage, key: USAGE_KEY });
}

/**
 * A type's usage, counted from its entries: for a type whose usage record is missing (freed over the
 * quota, see IdbStore.free). An empty type costs one count. Its count of deletes cannot be counted again:
 * it starts where no earlier record of the type likely was (from 0, one delete later, it could equal a
 * read-through's mark taken before the record went, and that delete would go unseen: see Holds.deletes).
 */
export async function recount(tx: IDBTransaction, type: TypeName): Promise<Usage> {
  const store = tx.objectStore(entryStore(type));
  const usage: Usage = { ...noUsage(), deletes: Math.floor(Math.random() * 2 ** 31) };
  if ((await requestDone(store.count(entryKeys()))) === 0) return usage;
  await walkCursor(store.openCursor(entryKeys()), (cursor) => {
    usage.entries++;
    usage.bytes += (cursor.value as EntryRecord).bytes;
    return true;
  });
  return usage;
}
