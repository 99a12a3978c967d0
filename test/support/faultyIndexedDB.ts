// Ways to make fake-indexeddb fail like a real browser does, for fault tests.
import { IDBFactory, IDBIndex, IDBObjectStore, IDBTransaction } from 'fake-indexeddb';
import { CONTENT_TYPES } from '../../src/contentType';

interface FakeTransaction {
  _requests: unknown[];
  _state: string;
  _abort(name: string | null): void;
  _start(): void;
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

/**
 * Makes the next `times` transactions that put entries abort at commit with `name`
 * (QuotaExceededError by default): how Chromium usually reports a full disk. Transactions that only
 * delete (eviction) commit normally. Returns the restore function.
 */
export function failCommits(times: number, name = 'QuotaExceededError'): Restore {
  const doomed = new WeakSet<object>();
  let left = times;
  const store = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, ...args: unknown[]): IDBRequest };
  const transaction = IDBTransaction.prototype as unknown as FakeTransaction;
  const restorePut = patch(store, 'put', (put) =>
    function (this: IDBObjectStore, ...args: unknown[]) {
      if (isEntryStore(this.name) && left > 0 && !doomed.has(this.transaction)) {
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

/** Makes the `nth` put of an entry (counting from 1) throw `name` synchronously, `times` times. */
export function failPuts(nth: number, times = 1, name = 'QuotaExceededError'): Restore {
  let seen = 0;
  let left = times;
  const store = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, ...args: unknown[]): IDBRequest };
  return patch(store, 'put', (put) =>
    function (this: IDBObjectStore, ...args: unknown[]) {
      if (isEntryStore(this.name) && left > 0 && ++seen === nth) {
        left--;
        seen = 0;
        throw new DOMException('The quota has been exceeded.', name);
      }
      return put.apply(this, args);
    },
  );
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
 * Counts cache entries IndexedDB hands back while `run` runs: every record of get/getAll results and
 * every cursor step, on the entry stores and their indexes. Proves a lookup went through an index.
 */
export async function countRecordsRead(run: () => Promise<unknown>): Promise<number> {
  let read = 0;
  const restores: (() => void)[] = [];
  for (const prototype of [IDBObjectStore.prototype, IDBIndex.prototype] as unknown as Record<string, unknown>[]) {
    for (const method of ['get', 'getAll', 'openCursor']) {
      const original = prototype[method] as (...args: unknown[]) => IDBRequest;
      prototype[method] = function (this: unknown, ...args: unknown[]) {
        const request = original.apply(this, args);
        const store = (this as { objectStore?: IDBObjectStore }).objectStore ?? (this as IDBObjectStore);
        if (!isEntryStore(store.name)) return request;
        request.addEventListener('success', () => {
          const result: unknown = request.result;
          read += Array.isArray(result) ? result.length : result ? 1 : 0;
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
