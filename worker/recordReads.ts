// Writing read times into entries: what the worker's ReadTimes needs, and a page that reads IndexedDB
// itself (src/DirectReads.ts) too, apart from the class, which the page does not ship.
import type { TypeName } from '../src/contentType';
import type { EntryRecord } from './databaseSchema';
import { requestsDone } from './idbRequests';
import { entryStore } from './layout';
import { usedAhead } from './isExpired';

/**
 * Writes read times (key → epoch ms) into the type's entries still there, inside `tx` (read-write on the type's store);
 * never moves one back, but for an entry that never expires used ahead of the read (see usedAhead): that use's time is
 * unknown, the read's is not (one that can expire used ahead is expired, and stays so).
 */
export async function recordReads(tx: IDBTransaction, type: TypeName, times: ReadonlyMap<string, number>): Promise<void> {
  const store = tx.objectStore(entryStore(type));
  const reads = [...times.keys()].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
  await requestsDone(reads);
  for (const read of reads) {
    const entry = read.result;
    const at = entry && times.get(entry.key);
    if (!entry || at === undefined) continue;
    // The record of an import not committed shows its prior (see importBatch.ts): what was read, and what a rollback puts back.
    const used = [entry, entry.prior].filter((record) => record && (at > record.lastAccess || (record.expiry === undefined && usedAhead(record, at))));
    for (const record of used) record!.lastAccess = at;
    if (used.length) store.put(entry);
  }
}

/**
 * First reads of a type (since its read times were last written) written at once by one tab, per
 * second or so: enough for the entries a user just looked at, without a read-write transaction behind
 * each read of a list or a bulk read (the others are written with the deferred write).
 */
export const READS_AT_ONCE = 16;

/**
 * Starts, now, a read-write transaction of `db` that writes these read times. Another tab's write that
 * starts after it (an eviction) waits for it, as transactions of one scope run in the order they were
 * made: so a read counts for eviction in every tab as soon as it has resolved. Best effort: a failure
 * (a closed connection, a full disk) only makes eviction less precise.
 */
export function recordReadsNow(db: IDBDatabase, reads: ReadonlyMap<TypeName, ReadonlyMap<string, number>>): void {
  try {
    const tx = db.transaction([...reads.keys()].map(entryStore), 'readwrite', { durability: 'relaxed' });
    for (const [type, times] of reads) recordReads(tx, type, times).catch(() => {});
  } catch {
    // The connection closed, or a store is not there (yet): the deferred write covers it.
  }
}
