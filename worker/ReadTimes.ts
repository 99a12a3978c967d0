import type { TypeName } from '../src/contentType';
import type { EntryRecord } from './databaseSchema';
import { requestsDone } from './idbRequests';
import { entryStore } from './layout';

/**
 * Reads remembered, not written: a read stays a read-only transaction, and its time is written to the
 * entry (for least-recently-used eviction) later, in bulk.
 */
export class ReadTimes {
  readonly #times = new Map<TypeName, Map<string, number>>();
  #pending = 0;

  /** How many entries have a read time not yet written. */
  get pending(): number {
    return this.#pending;
  }

  get types(): TypeName[] {
    return [...this.#times.keys()];
  }

  touch(type: TypeName, key: string, at: number): void {
    let times = this.#times.get(type);
    if (!times) this.#times.set(type, (times = new Map()));
    if (!times.has(key)) this.#pending++;
    times.set(key, at);
  }

  /** Whether the entry was read since its read time was last written. */
  has(type: TypeName, key: string): boolean {
    return this.#times.get(type)?.has(key) ?? false;
  }

  /** Forgets the type's read times (its entries are gone), returning them. */
  drop(type: TypeName): Map<string, number> | undefined {
    const times = this.#times.get(type);
    this.#times.delete(type);
    this.#pending -= times?.size ?? 0;
    return times;
  }

  /** Writes the type's read times into its entries, inside `tx` (read-write on the type's store); kept if `tx` aborts. */
  async writeInto(tx: IDBTransaction, type: TypeName): Promise<void> {
    const times = this.drop(type);
    if (!times?.size) return;
    // Remembered again if the transaction does not commit (a full disk at its commit): not lost.
    tx.addEventListener('abort', () => {
      for (const [key, at] of times) {
        const since = this.#times.get(type)?.get(key);
        if (since === undefined || at > since) this.touch(type, key, at);
      }
    });
    await recordReads(tx, type, times);
  }
}

/** Writes read times (key → epoch ms) into the type's entries still there, inside `tx` (read-write on the type's store); never moves one back. */
export async function recordReads(tx: IDBTransaction, type: TypeName, times: ReadonlyMap<string, number>): Promise<void> {
  const store = tx.objectStore(entryStore(type));
  const reads = [...times.keys()].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
  await requestsDone(reads);
  for (const read of reads) {
    const entry = read.result;
    const at = entry && times.get(entry.key);
    if (entry && at !== undefined && at > entry.lastAccess) store.put({ ...entry, lastAccess: at });
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
