/**
 * A third connection holds a read-write transaction on the event log, one request after another, until `release`
 * (`held` settles once it does): an engine cannot open meanwhile (it reads the log as it opens), nor log a change,
 * as another tab's long write holds it.
 */
export function holdEventLog(indexedDB: IDBFactory, name: string) {
  let release = false;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const done = new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const store = db.transaction(['events'], 'readwrite').objectStore('events');
      const spin = () => void (holding(), release || (store.count().onsuccess = spin));
      spin();
      store.transaction.oncomplete = () => {
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
