// The floor's database (raw IndexedDB), opened by the page and by rawWorker.ts alike.

/**
 * A 'tracks' store keyed by `key`: bare (rows 1 and 2), or `indexed` (rows 4 and 10) with the index that
 * finds a track's records (Dexie's 'key, trackId') and a 'years' store for another type's writes.
 */
export function openRawDatabase(name: string, indexed: boolean): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      const tracks = open.result.createObjectStore('tracks', { keyPath: 'key' });
      if (!indexed) return;
      tracks.createIndex('trackId', 'trackId');
      open.result.createObjectStore('years', { keyPath: 'key' });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

export function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
}

/** What a track event must do at the least: one readwrite transaction deleting the track's records through the index. How many it deleted. */
export async function deleteTrack(db: IDBDatabase, trackId: string): Promise<number> {
  const tx = db.transaction('tracks', 'readwrite', { durability: 'relaxed' });
  const found = tx.objectStore('tracks').index('trackId').getAllKeys(trackId);
  found.onsuccess = () => found.result.forEach((key) => tx.objectStore('tracks').delete(key));
  await transactionDone(tx);
  return found.result.length;
}
