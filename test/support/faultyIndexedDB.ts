// Ways to make fake-indexeddb fail like a real browser does, for fault tests.
import { forceCloseDatabase, IDBCursor, IDBFactory, IDBIndex, IDBObjectStore, IDBOpenDBRequest, IDBTransaction, IDBVersionChangeEvent } from 'fake-indexeddb';
import { CONTENT_TYPES } from '../../src/contentType';

// fake-indexeddb internals this file relies on (version 6).
interface FakeTransaction extends IDBTransaction {
  _requests: { operation: () => unknown; request: IDBRequest }[];
  /** What undoes the transaction's changes if it aborts: a delete or clear logs one entry per record it removed. */
  _rollbackLog: unknown[];
  _state: 'active' | 'inactive' | 'committing' | 'finished';
  error: DOMException | null;
  _abort(name: string | null): void;
  _start(): void;
}

interface FakeDatabase extends IDBDatabase {
  _closePending: boolean;
  _closed: boolean;
  _rawDatabase: { transactions: FakeTransaction[]; connections: FakeDatabase[] };
}

interface FakeFactory extends IDBFactory {
  _databases: Map<string, FakeDatabase['_rawDatabase']>;
}

interface FakeRequest {
  readyState: IDBRequestReadyState;
  result: unknown;
  error: DOMException | null;
}

type Restore = () => void;

/** The object stores that hold cache entries: one per content type. */
const isEntryStore = (name: string) => (CONTENT_TYPES as readonly string[]).includes(name);

/** Patches a method on a prototype until the returned function restores it. */
function patch<T extends object, K extends keyof T>(target: T, key: K, replacement: (original: T[K]) => T[K]): Restore {
  const original = target[key];
  target[key] = replacement(original);
  return () => {
    target[key] = original;
  };
}

/** A fault that can be disarmed, and tells whether it has happened. */
export type Fault = Restore & { fired(): boolean };

type WriteMethod = 'put' | 'add' | 'delete' | 'clear' | 'getAll' | 'get' | 'index.getAll' | 'index.getAllKeys';

/** Runs after every put/add/delete/clear request (a cursor's update a put, its delete a delete; and get and getAll, reads failRequest may fail) is queued. */
const requestHooks = new Set<(method: WriteMethod, store: IDBObjectStore, request: IDBRequest, args: readonly unknown[]) => void>();
/** Runs when a read-write transaction has no request left, i.e. is about to commit; a name aborts it. */
const commitHooks = new Set<(tx: FakeTransaction) => string | undefined>();

/** Each transaction's place in the order they were made: a fault acts only on transactions made after it (see madeAfter). */
const made = new WeakMap<IDBTransaction, number>();
let transactionsMade = 0;

/** Whether `tx` was made after the fault that asks was armed (when `transactionsMade` was `armed`): one still running from earlier (an earlier test's) is not the fault's. */
const madeAfter = (tx: IDBTransaction, armed: number) => (made.get(tx) ?? 0) > armed;

/** The deletes under way (requested, not yet succeeded or failed): which database of which factory. */
const deleting = new Set<{ factory: FakeFactory; name: string }>();
/**
 * Connections closed while a delete of their database waits, whose transactions still run. By the spec a connection
 * is closed once close() was called AND every transaction made on it has finished, and a delete waits for that;
 * fake-indexeddb 6 deletes as soon as close() was called, while those transactions still write (into the database
 * deleted, after the new one exists). So close() marks such a connection here (no transaction can be made on it any
 * more) and closes it for fake-indexeddb only once they have finished (browser idbDelete.test).
 */
const closing = new WeakSet<IDBDatabase>();
/** Whether close() was called on `db` (or the browser closed it). */
const closePending = (db: IDBDatabase) => closing.has(db) || (db as FakeDatabase)._closePending;

// Installed once, at import, so that patches layered on top of them (failCommits) restore to them.
{
  const database = IDBDatabase.prototype as unknown as { transaction(this: IDBDatabase, ...args: unknown[]): IDBTransaction; close(this: FakeDatabase): void };
  const open = database.transaction;
  database.transaction = function (this: IDBDatabase, ...args: unknown[]) {
    if (closing.has(this)) throw new DOMException('The database connection is closing.', 'InvalidStateError');
    const tx = open.apply(this, args);
    made.set(tx, ++transactionsMade);
    return tx;
  };
  const close = database.close;
  database.close = function (this: FakeDatabase) {
    if (closing.has(this)) return;
    const raw = this._rawDatabase;
    const running = raw.transactions.filter((tx) => tx.db === this && tx.mode !== 'versionchange' && tx._state !== 'finished');
    if (running.length === 0 || ![...deleting].some(({ factory, name }) => factory._databases.get(name) === raw)) return close.call(this);
    closing.add(this);
    let left = running.length;
    const finished = () => {
      if (--left > 0) return;
      closing.delete(this);
      close.call(this);
    };
    for (const tx of running) {
      tx.addEventListener('complete', finished);
      tx.addEventListener('abort', finished);
    }
  };
  const factory = IDBFactory.prototype as unknown as { deleteDatabase(this: FakeFactory, name: string): IDBOpenDBRequest };
  const deleteDatabase = factory.deleteDatabase;
  factory.deleteDatabase = function (this: FakeFactory, name: string) {
    const request = deleteDatabase.call(this, name);
    const entry = { factory: this, name };
    deleting.add(entry);
    const done = () => deleting.delete(entry);
    request.addEventListener('success', done);
    request.addEventListener('error', done);
    // Chromium fires blocked only at a connection whose versionchange handler did not close it (browser idbDelete.test).
    request.addEventListener('blocked', (event) => {
      const open = this._databases.get(name)?.connections.filter((db) => !db._closed && !db._closePending) ?? [];
      if (open.length > 0 && open.every((db) => closing.has(db))) event.stopImmediatePropagation();
    });
    return request;
  };
  const store = IDBObjectStore.prototype as unknown as Record<WriteMethod, (this: IDBObjectStore, ...args: unknown[]) => IDBRequest>;
  for (const method of ['put', 'add', 'delete', 'clear', 'getAll', 'get'] as const) {
    const original = store[method];
    store[method] = function (this: IDBObjectStore, ...args: unknown[]) {
      const request = original.apply(this, args);
      for (const hook of requestHooks) hook(method, this, request, args);
      return request;
    };
  }
  // An index's getAll and getAllKeys, told apart from its store's (no fault counting a store's requests counts them).
  const index = IDBIndex.prototype as unknown as Record<'getAll' | 'getAllKeys', (this: IDBIndex, ...args: unknown[]) => IDBRequest>;
  for (const method of ['getAll', 'getAllKeys'] as const) {
    const original = index[method];
    index[method] = function (this: IDBIndex, ...args: unknown[]) {
      const request = original.apply(this, args);
      for (const hook of requestHooks) hook(`index.${method}`, this.objectStore, request, args);
      return request;
    };
  }
  // A cursor's update and delete are a put and a delete of its record, in its object store (an index's too).
  const cursor = IDBCursor.prototype as unknown as Record<'update' | 'delete', (this: IDBCursor, ...args: unknown[]) => IDBRequest>;
  for (const [method, as] of [['update', 'put'], ['delete', 'delete']] as const) {
    const original = cursor[method];
    cursor[method] = function (this: IDBCursor, ...args: unknown[]) {
      const request = original.apply(this, args);
      const store = this.source instanceof IDBIndex ? this.source.objectStore : (this.source as IDBObjectStore);
      for (const hook of requestHooks) hook(as, store, request, method === 'update' ? args : [this.primaryKey]);
      return request;
    };
  }
  const transaction = IDBTransaction.prototype as unknown as FakeTransaction;
  const start = transaction._start;
  transaction._start = function (this: FakeTransaction) {
    if (this._requests.length === 0 && this._state !== 'finished' && this.mode !== 'readonly') {
      for (const hook of commitHooks) {
        const name = hook(this);
        if (name !== undefined) return this._abort(name);
      }
    }
    start.call(this);
  };
}

/** fake-indexeddb dispatches only its own event class, which it does not export; its IDBVersionChangeEvent extends it. */
const FakeEvent = Object.getPrototypeOf(IDBVersionChangeEvent) as new (type: string, init?: EventInit) => Event;

/** The types declare forceCloseDatabase as taking the class; it takes a connection. */
const forceClose = forceCloseDatabase as unknown as (db: IDBDatabase) => void;

/** fake-indexeddb's own scheduling in Node, so that our tasks interleave with its tasks in FIFO order. */
const queueTask = (task: () => void) => void setImmediate(task);

const domException = (name: string) =>
  new DOMException(name === 'QuotaExceededError' ? 'The quota has been exceeded.' : `Injected ${name}`, name);

/** Settles a request with `error` the way IndexedDB does: an error event that bubbles and can be canceled. */
function failNow(request: IDBRequest, error: DOMException): void {
  Object.assign(request as unknown as FakeRequest, { readyState: 'done', result: undefined, error });
  request.dispatchEvent(new FakeEvent('error', { bubbles: true, cancelable: true }));
}

/** An open (or delete) request that fails asynchronously, as browsers report an unusable IndexedDB: never by throwing. */
function failedOpen(error: DOMException): IDBOpenDBRequest {
  const request = new IDBOpenDBRequest();
  queueTask(() => failNow(request, error));
  return request;
}

/**
 * Makes the next `times` transactions that put entries abort at commit with `name`
 * (QuotaExceededError by default): how Chromium usually reports a full disk. Transactions that only
 * delete (eviction) commit normally. Returns the restore function. `database`: only that database's
 * transactions (not those of a cache an earlier test left writing its read times a second later).
 */
export function failCommits(times: number, name = 'QuotaExceededError', database?: string): Restore {
  const doomed = new WeakSet<object>();
  let left = times;
  const armed = transactionsMade;
  const store = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, ...args: unknown[]): IDBRequest };
  const transaction = IDBTransaction.prototype as unknown as FakeTransaction;
  const restorePut = patch(store, 'put', (put) =>
    function (this: IDBObjectStore, ...args: unknown[]) {
      if (isEntryStore(this.name) && left > 0 && (database === undefined || this.transaction.db.name === database) && madeAfter(this.transaction, armed) && !doomed.has(this.transaction)) {
        left--;
        doomed.add(this.transaction);
      }
      return put.apply(this, args);
    },
  );
  const restoreStart = patch(transaction, '_start', (start) =>
    function (this: FakeTransaction) {
      if (doomed.has(this) && this._requests.length === 0 && this._state !== 'finished') {
        doomed.delete(this);
        this._abort(name);
        return;
      }
      start.call(this);
    },
  );
  return () => {
    restorePut();
    restoreStart();
  };
}

/** A factory that hands out real fake-indexeddb connections and remembers them, so tests can break them. */
export function trackedFactory(inner = new IDBFactory()) {
  const connections: IDBDatabase[] = [];
  const factory = {
    open(name: string, version?: number) {
      const request = inner.open(name, version);
      request.addEventListener('success', () => connections.push(request.result));
      return request;
    },
    deleteDatabase: (name: string) => inner.deleteDatabase(name),
    databases: () => inner.databases(),
    cmp: (a: unknown, b: unknown) => inner.cmp(a, b),
  } as IDBFactory;
  return { factory, connections, inner };
}

/** A factory whose every open fails, as in a private window that refuses IndexedDB. */
export function brokenFactory(name = 'InvalidStateError', message = 'IndexedDB is disabled'): IDBFactory {
  return {
    open() {
      throw new DOMException(message, name);
    },
  } as unknown as IDBFactory;
}

/**
 * Counts cache entries IndexedDB hands back while `run` runs: every entry of get/getAll results and
 * every cursor step on one, on the entry stores and their indexes of `database`. Proves a lookup went through an index.
 * Only that database's: a cache an earlier test left open writes the read times of that test's reads about a second
 * later (READ_TIMES_DELAY_MS), reading those entries again, whenever that falls.
 */
export async function countRecordsRead(database: string, run: () => Promise<unknown>): Promise<number> {
  let read = 0;
  const restores: (() => void)[] = [];
  for (const prototype of [IDBObjectStore.prototype, IDBIndex.prototype] as unknown as Record<string, unknown>[]) {
    for (const method of ['get', 'getAll', 'openCursor']) {
      const original = prototype[method] as (...args: unknown[]) => IDBRequest;
      prototype[method] = function (this: unknown, ...args: unknown[]) {
        const request = original.apply(this, args);
        const store = (this as { objectStore?: IDBObjectStore }).objectStore ?? (this as IDBObjectStore);
        if (!isEntryStore(store.name) || store.transaction.db.name !== database) return request;
        // Entries only: a type's usage record (key 0) and commit marks (array keys) share its store.
        const isEntry = (record: unknown) => typeof (record as { key?: unknown } | undefined)?.key === 'string';
        request.addEventListener('success', () => {
          const result: unknown = request.result;
          if (Array.isArray(result)) read += result.filter(isEntry).length;
          else if (result instanceof IDBCursor) read += typeof result.primaryKey === 'string' ? 1 : 0;
          else read += isEntry(result) ? 1 : 0;
        });
        return request;
      };
      restores.push(() => {
        prototype[method] = original;
      });
    }
  }
  try {
    await run();
  } finally {
    for (const restore of restores) restore();
  }
  return read;
}

/**
 * Makes the `nth` put, add or delete (a cursor's update counts as a put, its delete as a delete; counting from 1, from now; or of `methods`, get and getAll reads) on a
 * store `stores` accepts (the entry stores by default) fail with a `name` DOMException (an UnknownError: a backing store
 * that failed; a ConstraintError): the call returns a request as usual; when the
 * transaction reaches it, the request gets the error and a cancelable, bubbling error event,
 * and unless a listener calls preventDefault the transaction aborts with that same error and rolls back.
 * Never a QuotaExceededError: Chromium fails no request for quota, it aborts at commit a transaction
 * that put something (browser idbQuota.test): that is failCommit.
 * Fires once; `fired()` says whether the request has run (a transaction aborted earlier never runs it).
 * A request already chosen still fails after restore: it was issued while armed. `database`: counting only
 * that database's requests (not those of a cache an earlier test left finishing its work). `matching`: counting only
 * the requests whose first argument (a put's record, a delete's key) it accepts.
 */
export function failRequest(options: { nth: number; name: string; stores?: (storeName: string) => boolean; methods?: readonly WriteMethod[]; database?: string; matching?: (value: unknown) => boolean }): Fault {
  const { nth, name, stores = isEntryStore, methods = ['put', 'add', 'delete'], database, matching } = options;
  if (name === 'QuotaExceededError') throw new Error('failRequest: Chromium fails no request with QuotaExceededError, it aborts the transaction at commit: use failCommit');
  let seen = 0;
  let fired = false;
  const armed = transactionsMade;
  const hook = (method: WriteMethod, store: IDBObjectStore, request: IDBRequest, args: readonly unknown[]) => {
    if (!methods.includes(method) || !stores(store.name) || (database !== undefined && store.transaction.db.name !== database) || !madeAfter(store.transaction, armed) || (matching && !matching(args[0])) || ++seen !== nth) return;
    requestHooks.delete(hook);
    const tx = store.transaction as FakeTransaction;
    const queued = tx._requests.find((entry) => entry.request === request);
    if (!queued) throw new Error('failRequest: fake-indexeddb no longer queues requests in transaction._requests');
    const error = domException(name);
    // fake-indexeddb's _start treats a throwing operation exactly as a failed request (error event, then abort).
    queued.operation = () => {
      fired = true;
      // The spec aborts with the request's error itself; fake-indexeddb would make a new DOMException.
      const abort = tx._abort;
      tx._abort = (abortName) => {
        abort.call(tx, abortName);
        if (abortName === name) tx.error = error;
      };
      queueMicrotask(() => Reflect.deleteProperty(tx, '_abort'));
      throw error;
    };
  };
  requestHooks.add(hook);
  return Object.assign(() => void requestHooks.delete(hook), { fired: () => fired });
}

/**
 * Makes the `nth` (the next by default) read-write transaction that `when` selects (by default: one that put or
 * added a record, in any store, that `matching` accepts, any by default) abort at commit with `name`, after all its
 * requests succeeded: how Chromium reports a full disk. It checks the quota only at commit, for what a transaction
 * put (a smaller value over a bigger one, or a put beside deletes, counts too); one that only deletes or reads
 * commits (browser idbQuota.test). Fires once; a fault is not asked about a transaction an earlier-armed one aborts
 * (two armed together abort the next two). (`failCommits(times)` makes the next `times` transactions that put
 * entries abort.) `database`: only a transaction of that database (not of a cache an earlier test left finishing its work).
 */
export function failCommit(options: { name?: string; when?: (tx: IDBTransaction) => boolean; database?: string; nth?: number; matching?: (record: unknown) => boolean } = {}): Fault {
  const { name = 'QuotaExceededError', when, database, nth = 1, matching } = options;
  const wrote = new WeakSet<IDBTransaction>();
  let seen = 0;
  let fired = false;
  const armed = transactionsMade;
  const onWrite = (method: WriteMethod, store: IDBObjectStore, _request: IDBRequest, args: readonly unknown[]) => {
    if ((method === 'put' || method === 'add') && (!matching || matching(args[0]))) wrote.add(store.transaction);
  };
  const onCommit = (tx: FakeTransaction) => {
    if (!madeAfter(tx, armed) || (database !== undefined && tx.db.name !== database) || !(when ? when(tx) : wrote.has(tx)) || ++seen !== nth) return undefined;
    fired = true;
    restore();
    return name;
  };
  const restore = () => {
    requestHooks.delete(onWrite);
    commitHooks.delete(onCommit);
  };
  if (!when) requestHooks.add(onWrite);
  commitHooks.add(onCommit);
  return Object.assign(restore, { fired: () => fired });
}

/**
 * A full disk as Chromium has it, until room is made: from now, every read-write transaction that puts or adds
 * a record (in any store, beside deletes too) aborts at commit with QuotaExceededError, while those that only
 * delete or read commit (browser idbQuota.test); once one that removed a record (by delete, clear, a cursor's delete)
 * and put nothing has committed, the disk has room again and the fault is over: one that removed nothing (an absent
 * key, an empty range or store) frees nothing, as Chromium's usage falls only by what deletes remove. `database`:
 * only that database's transactions fail or free it. `fired()`: whether it aborted any.
 */
export function fillDisk(options: { database?: string } = {}): Fault {
  const { database } = options;
  const wrote = new WeakSet<IDBTransaction>();
  const deleted = new WeakSet<IDBTransaction>();
  let fired = false;
  const armed = transactionsMade;
  const ours = (tx: IDBTransaction) => madeAfter(tx, armed) && (database === undefined || tx.db.name === database);
  const onRequest = (method: WriteMethod, store: IDBObjectStore, request: IDBRequest) => {
    const tx = store.transaction as FakeTransaction;
    if (method === 'put' || method === 'add') wrote.add(tx);
    else if (method === 'delete' || method === 'clear') {
      // Whether it removed anything shows when it runs, in its turn: by the undo entries it logs.
      const queued = tx._requests.find((entry) => entry.request === request);
      if (!queued) throw new Error('fillDisk: fake-indexeddb no longer queues requests in transaction._requests');
      const { operation } = queued;
      queued.operation = () => {
        const logged = tx._rollbackLog.length;
        const result = operation();
        if (tx._rollbackLog.length > logged) deleted.add(tx);
        return result;
      };
    }
  };
  const onCommit = (tx: FakeTransaction) => {
    if (!ours(tx)) return undefined;
    if (wrote.has(tx)) {
      fired = true;
      return 'QuotaExceededError';
    }
    if (deleted.has(tx)) tx.addEventListener('complete', restore);
    return undefined;
  };
  const restore = () => {
    requestHooks.delete(onRequest);
    commitHooks.delete(onCommit);
  };
  requestHooks.add(onRequest);
  commitHooks.add(onCommit);
  return Object.assign(restore, { fired: () => fired });
}

/** One simulated tab's view of an IndexedDB that many tabs share. */
export interface Tab {
  factory: IDBFactory;
  /** The worker or tab died: its transactions abort, its connections close silently, it never opens again. */
  kill(): void;
  /** The browser closed this tab's connections under it (cleared site data, backend failure): they get `close`. */
  loseConnection(): void;
  /** From now on opening fails with a `name` error event, as in a private window without IndexedDB. */
  refuse(name?: string): void;
  /** This tab's connections that are still open. */
  connections(): IDBDatabase[];
}

/** Aborts the unfinished transactions of `db` as a browser aborts those of a context it tears down. */
function abortTransactions(db: IDBDatabase): void {
  for (const tx of [...(db as FakeDatabase)._rawDatabase.transactions]) {
    if (tx.db === db && tx._state !== 'finished') tx._abort('AbortError');
  }
}

/**
 * Holds the next open through `tab` until the returned function is called (a reopen waiting while the machine sleeps):
 * the caller listens on a request answered once the real one, made when the wait ends, is.
 */
export function holdNextOpen(tab: Tab): () => void {
  let reopen!: () => void;
  const held = new Promise<void>((resolve) => (reopen = resolve));
  const opening = tab.factory.open;
  tab.factory.open = (...args: Parameters<IDBFactory['open']>) => {
    tab.factory.open = opening;
    const request = new IDBOpenDBRequest();
    void held.then(() => {
      const real = opening(...args);
      real.addEventListener('success', (event) => {
        Object.assign(request, { readyState: 'done', result: real.result });
        request.dispatchEvent(new (event.constructor as typeof Event)('success'));
      });
    });
    return request;
  };
  return reopen;
}

/** A tab of `inner`: opens through it, remembers its connections (a transaction belongs to its `tx.db`). */
export function tabFactory(inner: IDBFactory): Tab {
  const opened = new Set<IDBDatabase>();
  let dead = false;
  let refused: string | undefined;
  const unavailable = () =>
    dead
      ? new DOMException('The context that opened IndexedDB is gone.', 'AbortError')
      : refused === undefined
        ? undefined
        : new DOMException('IndexedDB is not available.', refused);
  const connections = () => [...opened].filter((db) => !closePending(db));

  const factory: IDBFactory = {
    open(name: string, version?: number) {
      const error = unavailable();
      if (error) return failedOpen(error);
      const request = inner.open(name, version);
      // Added before the caller's listeners, so they run first: a tab that died meanwhile gets no connection.
      request.addEventListener('upgradeneeded', (event) => {
        if (!dead) return void opened.add(request.result);
        event.stopImmediatePropagation();
        (request.transaction as FakeTransaction)._abort('AbortError'); // the open then fails with AbortError
      });
      request.addEventListener('success', (event) => {
        if (!dead) return void opened.add(request.result);
        event.stopImmediatePropagation();
        request.result.close();
        failNow(request, new DOMException('The context that opened IndexedDB is gone.', 'AbortError'));
      });
      return request;
    },
    deleteDatabase(name: string) {
      const error = unavailable();
      return error ? failedOpen(error) : inner.deleteDatabase(name);
    },
    databases() {
      const error = unavailable();
      return error ? Promise.reject(error) : inner.databases();
    },
    cmp: (first: unknown, second: unknown) => inner.cmp(first, second),
  };

  return {
    factory,
    connections,
    kill() {
      dead = true;
      // Those closed but still running transactions too (see `closing`).
      for (const db of [...opened].filter((db) => !(db as FakeDatabase)._closed)) {
        abortTransactions(db);
        db.close(); // nobody is left to hear a close event
      }
    },
    loseConnection() {
      const lost = connections();
      for (const db of lost) {
        abortTransactions(db);
        db.close(); // close pending at once: the tab can start no transaction on it any more
      }
      // 'close' comes after the abort events. It waits for every transaction of the database, other tabs' too.
      queueTask(() => lost.forEach(forceClose));
    },
    refuse(name = 'InvalidStateError') {
      refused = name;
    },
  };
}

/**
 * Cleared site data: deletes `name` through `inner`. Open connections get `versionchange`; resolves when
 * the delete succeeds, even after being blocked for a while. As in a browser, it waits for the transactions
 * still running on the connections that close (see `closing`): what they write is deleted with the database. A connection that never closes keeps the delete
 * (and every later open of `name`) waiting, as in a browser: rejects after `turns` event-loop turns.
 */
export function deleteUnderTabs(inner: IDBFactory, name: string, options: { turns?: number } = {}): Promise<void> {
  const { turns = 1000 } = options;
  return new Promise((resolve, reject) => {
    let settled = false;
    let blocked = false;
    const settle = (error?: Error | null) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    const request = inner.deleteDatabase(name);
    request.addEventListener('success', () => settle());
    request.addEventListener('error', () => settle(request.error ?? new Error(`deleteUnderTabs: deleting "${name}" failed`)));
    request.addEventListener('blocked', () => (blocked = true));
    let left = turns;
    const tick = () => {
      if (settled) return;
      if (left-- > 0) return queueTask(tick);
      settle(
        new Error(
          `deleteUnderTabs: deleting "${name}" ${blocked ? 'is blocked' : 'has not finished'} after ${turns} event-loop turns; ` +
            'some connection ignores versionchange and never closes, or one that closed has a transaction that never ends',
        ),
      );
    };
    queueTask(tick);
  });
}
