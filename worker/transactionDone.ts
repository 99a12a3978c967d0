// Apart from idbRequests.ts, which a page that reads IndexedDB itself (src/DirectReads.ts) ships too: only the engine's Database waits for a commit.

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
