// Which imports are pending, as reads see them (see importBatch.ts): what the worker needs, and a page
// that reads IndexedDB itself (src/DirectReads.ts) too.
import type { EntryRecord } from './databaseSchema';
import { requestDone } from './idbRequests';
import type { BatchRecord } from './importBatch';

/** The first part of a batch record's key. */
export const BATCH = 'batch';

/**
 * Names an import: random, so that no two imports share one (an id stays in its records for good). A
 * number, which costs a record 9 bytes where a hex string would cost 34.
 */
export type BatchId = number;

/** Every batch record of a store (array keys: after every entry). */
export const batchRecords = (): IDBKeyRange => IDBKeyRange.bound([BATCH], [BATCH, []]);

/** The pending batches of a store, by id. */
export async function pendingBatches(store: IDBObjectStore): Promise<Map<BatchId, BatchRecord>> {
  return byId((await requestDone(store.getAll(batchRecords()))) as BatchRecord[]);
}

/** Batch records (as `getAll(batchRecords())` reads them) by id. */
export function byId(records: readonly BatchRecord[]): Map<BatchId, BatchRecord> {
  return new Map(records.map((record) => [record.key[1], record]));
}

/**
 * Which batches named by records are pending, looked up only for records naming a batch not known to
 * have committed (a committed batch never becomes pending again: ids are random).
 */
export class BatchStates {
  readonly #committed = new Set<BatchId>();

  async pendingAmong(store: IDBObjectStore, records: readonly (EntryRecord | undefined)[]): Promise<ReadonlyMap<BatchId, BatchRecord>> {
    if (!records.some((record) => record?.batch !== undefined && !this.#committed.has(record.batch))) return NONE;
    const pending = await pendingBatches(store);
    for (const record of records) if (record?.batch !== undefined && !pending.has(record.batch)) this.#committed.add(record.batch);
    return pending;
  }
}

const NONE: ReadonlyMap<BatchId, BatchRecord> = new Map();
