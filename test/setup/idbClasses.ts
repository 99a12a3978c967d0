// idb recognises requests, cursors and transactions with `instanceof IDBRequest` and friends, so Node
// needs fake-indexeddb's classes as globals. The factory itself is NOT installed: every test passes its
// own `new IDBFactory()`, which proves the engine opens through the factory it is given.
import { IDBCursor, IDBCursorWithValue, IDBDatabase, IDBIndex, IDBKeyRange, IDBObjectStore, IDBOpenDBRequest, IDBRequest, IDBTransaction, IDBVersionChangeEvent } from 'fake-indexeddb';

Object.assign(globalThis, {
  IDBCursor,
  IDBCursorWithValue,
  IDBDatabase,
  IDBIndex,
  IDBKeyRange,
  IDBObjectStore,
  IDBOpenDBRequest,
  IDBRequest,
  IDBTransaction,
  IDBVersionChangeEvent,
});
