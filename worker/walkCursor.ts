// Apart from idbRequests.ts, which a page that reads IndexedDB itself (src/DirectReads.ts) ships too: only the engine walks cursors.

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
