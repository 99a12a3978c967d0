/**
 * A third connection holds a read-write transaction on the event log (or on `store`), one request after another,
 * until `release` (`held` settles once it does): an engine cannot open meanwhile (it reads the log as it opens),
 * nor log a change (nor write that store), as another tab's long write holds it.
 */
export function holdEventLog(indexedDB: IDBFactory, name: string, store = 'events') {
  let release = false;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const done = new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const tx = db.transaction([store], 'readwrite');
      const spin = () => void (holding(), release || (tx.objectStore(store).count().onsuccess = spin));
      spin();
      tx.oncomplete = () => {
        db.close();
        resolve();
      };
    };
  });
  return {
    /** Settles once the transaction holds the log. */
    held,
    release: () => {
      release = true;
      return done;
    },
  };
}
