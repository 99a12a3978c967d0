// One scenario, run in Chromium (test/browser/idbDelete.test.ts) and against fake-indexeddb
// (test/faultyIndexedDB.test.ts): a database is deleted while a connection to it has a read-write
// transaction under way, and that connection closes on `versionchange`; an open is queued right behind
// the delete. Plain IndexedDB, no Reprise, so that the page can run it as it is.

/**
 * Runs the scenario on a fresh database `name` of `factory`; `remove` deletes it (a plain deleteDatabase, or
 * the harness's deleteUnderTabs) and resolves when the delete succeeded. Resolves with what happened, in order:
 * `versionchange after N puts` (the connection closes there), `transaction after close(): <error name>`, `complete after N puts` or `abort:<name>`,
 * `deleted`, then `reopened from version V` and `reopened: stores [...]` (each store's record count).
 */
export async function deleteDuringWrite(factory: IDBFactory, name: string, remove: (name: string) => Promise<void>): Promise<string[]> {
  const log: string[] = [];
  const done = <T>(request: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      request.addEventListener('success', () => resolve(request.result));
      request.addEventListener('error', () => reject(request.error ?? new Error('request failed')));
    });
  const create = factory.open(name, 1);
  create.onupgradeneeded = () => create.result.createObjectStore('s');
  const db = await done(create);
  await done(db.transaction('s', 'readwrite').objectStore('s').put('before', 0));

  let puts = 0;
  let closedAt: number | undefined;
  db.onversionchange = () => {
    log.push(`versionchange after ${puts} puts`);
    closedAt = puts;
    db.close();
    try {
      db.transaction('s');
      log.push('a transaction made after close()');
    } catch (error) {
      log.push(`transaction after close(): ${(error as DOMException).name}`);
    }
  };
  db.onclose = () => log.push('close');
  const tx = db.transaction('s', 'readwrite');
  const store = tx.objectStore('s');
  const ended = new Promise<void>((resolve) => {
    tx.oncomplete = () => resolve(void log.push(`complete after ${puts} puts`));
    tx.onabort = () => resolve(void log.push(`abort:${tx.error?.name}`));
  });
  let removed: Promise<void> | undefined;
  let reopened: Promise<void> | undefined;
  // Chained puts keep the transaction running: each is made in the previous one's success, until 3 more
  // after the connection closed (a cap of 10,000 should versionchange never come).
  const put = () => {
    const request = store.put(`write ${puts + 1}`, puts + 1);
    request.onsuccess = () => {
      puts++;
      if (puts === 1) {
        removed = remove(name).then(() => void log.push('deleted'));
        reopened = reopen();
      }
      if (closedAt === undefined ? puts < 10_000 : puts < closedAt + 3) put();
    };
  };
  const reopen = async () => {
    const request = factory.open(name);
    request.onupgradeneeded = (event) => log.push(`reopened from version ${event.oldVersion}`);
    const again = await done(request);
    const names = [...again.objectStoreNames];
    const counts = await Promise.all(names.map((store) => done(again.transaction(store).objectStore(store).count())));
    log.push(`reopened: stores [${names.map((store, i) => `${store}: ${counts[i]}`).join(', ')}]`);
    again.close();
  };
  put();
  await ended;
  await Promise.all([removed, reopened]);
  return log;
}
