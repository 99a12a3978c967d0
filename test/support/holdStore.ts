/**
 * A third connection holds a read-write transaction on one store, the event log by default, one request after another,
 * until `release` (`held` settles once it does), as another tab's long write holds it: an engine cannot open meanwhile
 * (it reads the log as it opens), nor log a change; nor, held on a type's store, write or read that type.
 */
export function holdStore(indexedDB: IDBFactory, name: string, storeName = 'events') {
  let release = false;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const done = new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const store = db.transaction([storeName], 'readwrite').objectStore(storeName);
      const spin = () => void (holding(), release || (store.count().onsuccess = spin));
      spin();
      store.transaction.oncomplete = () => {
        db.close();
        resolve();
      };
    };
  });
  return {
    /** Settles once the transaction holds the store. */
    held,
    release: () => {
      release = true;
      return done;
    },
  };
}
