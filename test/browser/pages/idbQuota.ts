// Plain IndexedDB in the page (no Reprise code), for test/browser/idbQuota.test.ts: each case opens its own
// connection (IndexedDB takes the quota in force when a connection opens), runs one transaction and reports
// every request's outcome and the transaction's, in the order they happened.

/** What one transaction did: its requests' events ('success' or 'error:<name>') then 'complete' or 'abort:<name>'. */
export interface Outcome {
  events: string[];
  /** The transaction's error, if it aborted: name and message. */
  error: { name: string; message: string } | null;
}

declare global {
  interface Window {
    quotaProbe: {
      /** Fills the probe databases with `big` values of `size` bytes each; resolves with the origin's usage after. */
      fill(big: number, size: number): Promise<number>;
      /** Runs the case `name` on a fresh connection. */
      run(name: CaseName): Promise<Outcome>;
      /** The origin's usage and quota as the page sees them. */
      estimate(): Promise<{ usage: number; quota: number }>;
    };
  }
}

const DB = 'quota-probe';
/** Another database, upgraded by the 'upgrade' case, so that the others keep their version. */
const UPGRADED = 'quota-probe-upgraded';
/** Another one, upgraded by the cases that only add stores and indexes (each one version up from where it is). */
const SCHEMA = 'quota-probe-schema';

/** 32 hex digits, as Reprise's randomId: data a store's name may carry. */
function hexId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Creates an empty store with the indexes of one of Reprise's entry stores. */
function entryStoreLike(db: IDBDatabase, name: string): void {
  const store = db.createObjectStore(name, { keyPath: 'key' });
  store.createIndex('track', 'trackIds', { multiEntry: true });
  store.createIndex('album', 'albumKey');
  store.createIndex('fingerprint', 'fingerprint');
  store.createIndex('expiry', 'expiry');
  store.createIndex('access', 'lastAccess');
}

/** Opens `name` one version above its own, running `upgrade`: 'opened one version up' or the open's error. */
async function upgradeOnce(name: string, upgrade: (db: IDBDatabase) => void): Promise<Outcome> {
  try {
    const current = await open(name);
    const version = current.version + 1;
    current.close();
    const db = await open(name, version, upgrade);
    db.close();
    return { events: [db.version === version ? 'opened one version up' : `opened v${db.version}`], error: null };
  } catch (error) {
    const { name, message } = error as DOMException;
    return { events: [`open error:${name}`], error: { name, message } };
  }
}

/** Random letters: Chromium compresses values, and a quota is about what is stored. */
function letters(size: number): string {
  let text = '';
  for (let done = 0; done < size; done += 50_000) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(50_000, size - done)));
    text += String.fromCharCode(...bytes.map((byte) => 97 + (byte % 26)));
  }
  return text;
}

function open(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error(`opening ${name} failed`));
    request.onblocked = () => reject(new Error(`opening ${name} is blocked`));
  });
}

/** Runs one transaction on a fresh connection; `body` makes its requests (a request it returns is watched). */
async function transact(stores: string[], mode: IDBTransactionMode, body: (tx: IDBTransaction, watch: (request: IDBRequest) => IDBRequest) => void): Promise<Outcome> {
  const db = await open(DB);
  try {
    return await new Promise<Outcome>((resolve) => {
      const events: string[] = [];
      const tx = db.transaction(stores, mode);
      const watch = (request: IDBRequest) => {
        request.addEventListener('success', () => events.push('success'));
        request.addEventListener('error', () => events.push(`error:${request.error?.name}`));
        return request;
      };
      db.onclose = () => events.push('connection closed');
      tx.oncomplete = () => resolve({ events: [...events, 'complete'], error: null });
      tx.onabort = () => resolve({ events: [...events, `abort:${tx.error?.name ?? 'null'}`], error: tx.error && { name: tx.error.name, message: tx.error.message } });
      body(tx, watch);
    }).then(async (outcome) => (outcome.error ? { ...outcome, events: [...outcome.events, `then a read: ${await readAfter(db)}`] } : outcome));
  } finally {
    db.close();
  }
}

/** Whether the connection still serves a read after its transaction aborted. */
function readAfter(db: IDBDatabase): Promise<string> {
  return new Promise((resolve) => {
    try {
      const request = db.transaction('s', 'readonly').objectStore('s').count();
      request.onsuccess = () => resolve('success');
      request.onerror = () => resolve(`error:${request.error?.name}`);
    } catch (error) {
      resolve(`throws:${(error as DOMException).name}`);
    }
  });
}

/** Deletes every record a cursor over `store` visits, one cursor.delete() each. */
function deleteWithCursor(tx: IDBTransaction, store: string, watch: (request: IDBRequest) => IDBRequest, count: number) {
  const cursor = tx.objectStore(store).openCursor();
  let deleted = 0;
  cursor.onsuccess = () => {
    if (!cursor.result || deleted === count) return;
    watch(cursor.result.delete());
    deleted++;
    cursor.result.continue();
  };
}

const cases = {
  /** A put of a new 2 MB value. */
  putLarge: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').put(letters(2_000_000), 'large'))),
  /** A put of a new 100 kB value. */
  putNew: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').put(letters(100_000), 'new'))),
  /** A put of a new 10-byte value. */
  putTiny: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').put('0123456789', 'tiny'))),
  /** A put of a 10-byte value over a 200 kB one: the store shrinks. */
  putSmallerOver: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').put('0123456789', 'big-0'))),
  /** A cursor's update to a 10-byte value over a 200 kB one. */
  cursorUpdateSmaller: () =>
    transact(['s'], 'readwrite', (tx, watch) => {
      const cursor = tx.objectStore('s').openCursor('big-1');
      cursor.onsuccess = () => void (cursor.result && watch(cursor.result.update('0123456789')));
    }),
  /** A delete of a 200 kB value and a put of a 10-byte one in the same transaction (an eviction that writes a usage record). */
  deleteAndPutTiny: () =>
    transact(['s'], 'readwrite', (tx, watch) => {
      watch(tx.objectStore('s').delete('big-2'));
      watch(tx.objectStore('s').put('0123456789', 'usage'));
    }),
  /** A read-write transaction that only deletes one 200 kB value. */
  deleteOnly: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').delete('big-3'))),
  /** A read-write transaction that deletes a key that is not there. */
  deleteMissing: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').delete('absent'))),
  /** A read-write transaction that deletes a key range. */
  deleteRange: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').delete(IDBKeyRange.bound('big-4', 'big-5')))),
  /** A read-write transaction that deletes two records with cursor.delete(). */
  cursorDelete: () => transact(['s'], 'readwrite', (tx, watch) => deleteWithCursor(tx, 's', watch, 2)),
  /** A read-write transaction that clears a store. */
  clear: () => transact(['t'], 'readwrite', (tx, watch) => void watch(tx.objectStore('t').clear())),
  /** A read-only transaction: get, getAll, count. */
  readOnly: () =>
    transact(['s'], 'readonly', (tx, watch) => {
      const store = tx.objectStore('s');
      watch(store.get('small-0'));
      watch(store.getAll());
      watch(store.count());
    }),
  /** A read-write transaction that only reads. */
  readWriteReadsOnly: () =>
    transact(['s'], 'readwrite', (tx, watch) => {
      const store = tx.objectStore('s');
      watch(store.get('small-0'));
      watch(store.getAll());
    }),
  /** An add of a key that is there: a ConstraintError at the request, whatever the quota. */
  addExisting: () => transact(['s'], 'readwrite', (tx, watch) => void watch(tx.objectStore('s').add('0123456789', 'small-0'))),
  /** A database upgrade that creates an object store. */
  upgrade: async (): Promise<Outcome> => {
    const events: string[] = [];
    try {
      const db = await open(UPGRADED, 2, (db) => void db.createObjectStore('more'));
      events.push(`opened v${db.version}`);
      db.close();
      return { events, error: null };
    } catch (error) {
      const { name, message } = error as DOMException;
      return { events: [...events, `open error:${name}`], error: { name, message } };
    }
  },
  /** A database upgrade that creates an object store and puts a 10-byte record in it (as a new database's first record). */
  upgradeWithPut: async (): Promise<Outcome> => {
    try {
      const db = await open(UPGRADED, 3, (db) => void db.createObjectStore('named').put('0123456789', 'epoch'));
      db.close();
      return { events: [`opened v${db.version}`], error: null };
    } catch (error) {
      const { name, message } = error as DOMException;
      return { events: [`open error:${name}`], error: { name, message } };
    }
  },
  /** An upgrade that creates a store with five indexes (as a Reprise entry store, empty) and an index on an empty store: no put. */
  upgradeIndexes: () =>
    upgradeOnce(SCHEMA, (db) => {
      entryStoreLike(db, `entries-${hexId()}`);
      db.createObjectStore(`plain-${hexId()}`).createIndex('i', 'i');
    }),
  /** An upgrade that creates an empty store whose name carries 32 hex digits of data (`epoch:<id>`). */
  upgradeNamed: () => upgradeOnce(SCHEMA, (db) => void db.createObjectStore(`epoch:${hexId()}`)),
  /** An upgrade that creates an empty store with a 10 000-character name: whether a name's bytes count. */
  upgradeLongName: () => upgradeOnce(SCHEMA, (db) => void db.createObjectStore(`name:${letters(10_000)}`)),
  /** Creating a database with Reprise's whole layout, and the epoch as a store's name, putting nothing (as a first open could). */
  openNewNamed: async (): Promise<Outcome> => {
    try {
      const db = await open(`quota-probe-named-${hexId()}`, 2, (db) => {
        for (const type of ['track_metadata', 'successful_api_metadata', 'failed_api_lookup', 'album_year', 'negative_result', 'generic']) entryStoreLike(db, type);
        db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('meta');
        db.createObjectStore('layout:3');
        db.createObjectStore(`epoch:${hexId()}`);
      });
      const named = Array.from(db.objectStoreNames).some((name) => name.startsWith('epoch:'));
      db.close();
      return { events: [named ? 'opened, named' : 'opened, no name'], error: null };
    } catch (error) {
      const { name, message } = error as DOMException;
      return { events: [`open error:${name}`], error: { name, message } };
    }
  },
  /** Opening (creating) a database that does not exist yet. */
  openNew: async (): Promise<Outcome> => {
    try {
      const db = await open(`quota-probe-new-${Math.random()}`, 1, (db) => void db.createObjectStore('s'));
      db.close();
      return { events: ['opened'], error: null };
    } catch (error) {
      const { name, message } = error as DOMException;
      return { events: [`open error:${name}`], error: { name, message } };
    }
  },
};

export type CaseName = keyof typeof cases;

window.quotaProbe = {
  async fill(big, size) {
    const db = await open(DB, 1, (db) => {
      db.createObjectStore('s');
      db.createObjectStore('t');
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(['s', 't'], 'readwrite');
      for (let index = 0; index < big; index++) tx.objectStore('s').put(letters(size), `big-${index}`);
      for (let index = 0; index < 4; index++) tx.objectStore('t').put(letters(size), `big-${index}`);
      for (let index = 0; index < 10; index++) tx.objectStore('s').put(`small value ${index}`, `small-${index}`);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('fill aborted'));
    });
    db.close();
    (await open(UPGRADED, 1, (db) => void db.createObjectStore('s'))).close();
    (await open(SCHEMA, 1, (db) => void db.createObjectStore('s'))).close();
    return (await this.estimate()).usage;
  },
  run: (name) => cases[name](),
  async estimate() {
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    return { usage, quota };
  },
};
