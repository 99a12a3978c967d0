/**
 * This global scope's IndexedDB factory, if it has one it may use: reading `indexedDB` throws in some
 * browsers when storage is blocked (a sandboxed frame, storage disabled), which must mean "none here"
 * (persistent types kept in memory, said through the logger), not a raw error out of createCache.
 */
export function indexedDBHere(): IDBFactory | undefined {
  try {
    return globalThis.indexedDB ?? undefined;
  } catch {
    return undefined;
  }
}
