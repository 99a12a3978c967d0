// The floor: raw IndexedDB in a worker, as lean as it gets. One readwrite transaction with relaxed
// durability, requests issued without awaiting them one by one, an object store with no index.
import type { TrackRecord } from './records';

export type RawRequest =
  | { id: number; op: 'open'; name: string }
  | { id: number; op: 'put'; records: TrackRecord[] }
  | { id: number; op: 'getMany'; keys: string[] }
  | { id: number; op: 'close' };

let db: IDBDatabase | undefined;

function open(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('tracks', { keyPath: 'key' });
    request.onsuccess = () => {
      db = request.result;
      resolve();
    };
    request.onerror = () => reject(request.error);
  });
}

function put(records: TrackRecord[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db!.transaction('tracks', 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore('tracks');
    for (const record of records) store.put(record);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
}

function getMany(keys: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const tx = db!.transaction('tracks', 'readonly');
    const store = tx.objectStore('tracks');
    const requests = keys.map((key) => store.get(key));
    tx.oncomplete = () => resolve(requests.map((request) => request.result));
    tx.onabort = () => reject(tx.error);
  });
}

self.onmessage = async ({ data }: MessageEvent<RawRequest>) => {
  try {
    let result: unknown;
    if (data.op === 'open') result = await open(data.name);
    else if (data.op === 'put') result = await put(data.records);
    else if (data.op === 'getMany') result = await getMany(data.keys);
    else db?.close();
    self.postMessage({ id: data.id, result });
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error) });
  }
};
