// The floor: raw IndexedDB in a worker, as lean as it gets. Transactions with relaxed durability,
// requests issued without awaiting them one by one.
import { IMPORT_STEP_MS } from '../../worker/importBatch';
import { openRawDatabase, transactionDone } from './rawDatabase';
import type { TrackRecord } from './records';

export type RawRequest =
  | { id: number; op: 'open'; name: string; indexed: boolean }
  | { id: number; op: 'put'; records: TrackRecord[] }
  | { id: number; op: 'import'; records: TrackRecord[] }
  | { id: number; op: 'getMany'; keys: string[] }
  | { id: number; op: 'close' };

/** Puts issued at once within a step of `importInSteps`: the step checks its time after each burst. */
const BURST = 100;

let db: IDBDatabase | undefined;

/** One readwrite transaction for all the records (rows 1 and 2). */
function put(records: TrackRecord[]): Promise<void> {
  const tx = db!.transaction('tracks', 'readwrite', { durability: 'relaxed' });
  const store = tx.objectStore('tracks');
  for (const record of records) store.put(record);
  return transactionDone(tx);
}

/**
 * Row 10's import: consecutive readwrite transactions, each issuing puts for Reprise's step time
 * (IMPORT_STEP_MS, in bursts of BURST), then committing; the next begins once it has. How many it took.
 */
async function importInSteps(records: TrackRecord[]): Promise<number> {
  let steps = 0;
  for (let next = 0; next < records.length; steps++) {
    const tx = db!.transaction('tracks', 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore('tracks');
    const began = performance.now();
    const burst = () => {
      let last: IDBRequest | undefined;
      for (const end = Math.min(next + BURST, records.length); next < end; next++) last = store.put(records[next]);
      last!.onsuccess = () => {
        if (next < records.length && performance.now() - began < IMPORT_STEP_MS) burst();
      };
    };
    burst();
    await transactionDone(tx);
  }
  return steps;
}

function getMany(keys: string[]): Promise<unknown[]> {
  const tx = db!.transaction('tracks', 'readonly');
  const store = tx.objectStore('tracks');
  const requests = keys.map((key) => store.get(key));
  return transactionDone(tx).then(() => requests.map((request) => request.result));
}

self.onmessage = async ({ data }: MessageEvent<RawRequest>) => {
  try {
    let result: unknown;
    if (data.op === 'open') db = await openRawDatabase(data.name, data.indexed);
    else if (data.op === 'put') result = await put(data.records);
    else if (data.op === 'import') result = await importInSteps(data.records);
    else if (data.op === 'getMany') result = await getMany(data.keys);
    else db?.close();
    self.postMessage({ id: data.id, result });
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error) });
  }
};
