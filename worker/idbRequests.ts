// Raw IndexedDB requests for the hot paths: one listener per batch instead of one promise per record.

/** Resolves with the request's result; a failed request rejects (and, left unhandled, aborts its transaction). */
export function requestDone<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Waits for a batch of requests of one transaction: requests complete in the order they were made, so
 * when the last succeeds, all have. A failure rejects with that request's own error (a quota error in
 * the middle of a batch, say), not with the AbortError the later requests get when it aborts the
 * transaction — as idb and Dexie do. Awaiting it keeps the transaction alive, and each batch runs in a
 * task of its own, so the thread is never held for long.
 */
export function requestsDone(requests: readonly IDBRequest[]): Promise<void> {
  const last = requests[requests.length - 1];
  if (!last) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const fail = (event: Event) => reject((event.target as IDBRequest).error);
    for (const request of requests) request.onerror = fail;
    last.onsuccess = () => resolve();
  });
}

/** Visits each record of a cursor until `visit` returns false. */
export function walkCursor<C extends IDBCursor>(request: IDBRequest<C | null>, visit: (cursor: C) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor && visit(cursor)) cursor.continue();
      else resolve();
    };
  });
}

/**
 * Resolves when the transaction commits; rejects with its error (a quota error often surfaces only
 * here, at commit). Made at the start of a transaction and awaited at its end, so it is marked handled
 * meanwhile: an early throw must not leave an unhandled rejection behind.
 */
export function transactionDone(tx: IDBTransaction): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('Transaction aborted', 'AbortError'));
  });
  done.catch(() => {});
  return done;
}
