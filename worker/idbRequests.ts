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
