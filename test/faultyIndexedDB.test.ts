// The fault injectors must fail the way browsers do: asynchronously, through events, rolling data back.
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteDuringWrite } from './support/deleteDuringWrite';
import { countRecordsRead, deleteUnderTabs, failCommit, failRequest, fillDisk, tabFactory, type Fault } from './support/faultyIndexedDB';

const STORES = ['track_metadata', 'album_year', 'usage'];

let databases = 0;
const dbName = () => `faulty-${++databases}`;

const faults: Fault[] = [];
afterEach(() => {
  for (const fault of faults.splice(0)) fault();
});
function arm(fault: Fault): Fault {
  faults.push(fault);
  return fault;
}

/** One event-loop turn, as fake-indexeddb schedules its tasks. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Opens a database with the test stores, noting the old version of any upgrade in `upgrades`. */
function open(factory: IDBFactory, name: string, upgrades: number[] = []): Promise<IDBDatabase> {
  const request = factory.open(name);
  request.onupgradeneeded = (event) => {
    upgrades.push(event.oldVersion);
    for (const store of STORES) if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
  };
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** How an open request ends, listening only after `open` returned: proves the outcome comes asynchronously. */
function outcome(request: IDBOpenDBRequest) {
  const events: string[] = [];
  for (const type of ['upgradeneeded', 'success', 'error', 'blocked']) request.addEventListener(type, () => events.push(type));
  return new Promise<{ events: string[]; error: DOMException | null }>((resolve) => {
    request.addEventListener('success', () => resolve({ events, error: null }));
    request.addEventListener('error', () => resolve({ events, error: request.error }));
  });
}

/** The event a transaction ends with. */
function finished(tx: IDBTransaction): Promise<'complete' | 'abort'> {
  return new Promise((resolve) => {
    tx.addEventListener('complete', () => resolve('complete'));
    tx.addEventListener('abort', () => resolve('abort'));
  });
}

/** The name of the error a request ends with, or 'success'. */
function settled(request: IDBRequest): Promise<string> {
  return new Promise((resolve) => {
    request.addEventListener('success', () => resolve('success'));
    request.addEventListener('error', () => resolve(request.error?.name ?? 'no error'));
  });
}

async function write(db: IDBDatabase, store: string, entries: [number, unknown][]): Promise<'complete' | 'abort'> {
  const tx = db.transaction(store, 'readwrite');
  for (const [key, value] of entries) tx.objectStore(store).put(value, key);
  return finished(tx);
}

function readAll(db: IDBDatabase, store: string): Promise<unknown[]> {
  const request = db.transaction(store).objectStore(store).getAll();
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

describe('failRequest', () => {
  it.each([1, 3, 5])('fails put %i of 5 asynchronously, aborts the transaction with its error and rolls it back', async (nth) => {
    const db = await open(new IDBFactory(), dbName());
    const fault = arm(failRequest({ nth, name: 'UnknownError' }));
    const tx = db.transaction(['track_metadata', 'usage'], 'readwrite');
    const bubbled: string[] = [];
    tx.addEventListener('error', (event) => bubbled.push(`tx:${(event.target as IDBRequest).error?.name}`));
    db.addEventListener('error', (event) => bubbled.push(`db:${(event.target as IDBRequest).error?.name}`));
    const ended = finished(tx);
    const requests = [1, 2, 3, 4, 5].map((key) => tx.objectStore('track_metadata').put({ key }, key));
    expect(requests.map((request) => request.readyState)).toEqual(Array(5).fill('pending'));
    const results = await Promise.all(requests.map(settled));

    expect(results).toEqual([...Array(nth - 1).fill('success'), 'UnknownError', ...Array(5 - nth).fill('AbortError')]);
    expect(await ended).toBe('abort');
    expect(tx.error?.name).toBe('UnknownError');
    expect(tx.error).toBe(requests[nth - 1]?.error);
    expect(bubbled.slice(0, 2)).toEqual(['tx:UnknownError', 'db:UnknownError']);
    expect(fault.fired()).toBe(true);
    expect(await readAll(db, 'track_metadata')).toEqual([]);
  });

  it('lets the transaction commit the other writes when the error event is canceled', async () => {
    const db = await open(new IDBFactory(), dbName());
    arm(failRequest({ nth: 2, name: 'ConstraintError' }));
    const tx = db.transaction('track_metadata', 'readwrite');
    const requests = [1, 2, 3, 4, 5].map((key) => tx.objectStore('track_metadata').put(key, key));
    let cancelable = false;
    requests[1]!.onerror = (event) => {
      cancelable = event.cancelable;
      event.preventDefault();
    };

    expect(await finished(tx)).toBe('complete');
    expect(cancelable).toBe(true);
    expect(tx.error).toBeNull();
    expect(await readAll(db, 'track_metadata')).toEqual([1, 3, 4, 5]);
  });

  it('counts puts, adds and deletes on the entry stores only, across transactions, and fires once', async () => {
    const db = await open(new IDBFactory(), dbName());
    const fault = arm(failRequest({ nth: 2, name: 'UnknownError' }));
    const first = db.transaction(['usage', 'track_metadata'], 'readwrite');
    first.objectStore('usage').put('not counted', 1);
    first.objectStore('track_metadata').delete(1); // the 1st
    expect(await finished(first)).toBe('complete');
    expect(fault.fired()).toBe(false);

    const second = db.transaction('album_year', 'readwrite');
    const add = second.objectStore('album_year').add(1999, 'album'); // the 2nd
    expect(await settled(add)).toBe('UnknownError');
    expect(await finished(second)).toBe('abort');
    expect(second.error?.name).toBe('UnknownError');
    expect(fault.fired()).toBe(true);

    expect(await write(db, 'album_year', [[1, 1999], [2, 2000]])).toBe('complete');
  });

  it.each(['update', 'delete'] as const)("counts a cursor's %s as a write of its record: the request fails, then the transaction aborts with its error and rolls back", async (method) => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a'], [2, 'b']])).toBe('complete');
    const fault = arm(failRequest({ nth: 1, name: 'UnknownError', matching: (value) => value === 'B' || value === 2 }));
    const tx = db.transaction('track_metadata', 'readwrite');
    const ended = finished(tx);
    const requests: Promise<string>[] = [];
    tx.objectStore('track_metadata').openCursor().onsuccess = (event) => {
      const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>).result;
      if (!cursor) return;
      requests.push(settled(method === 'update' ? cursor.update((cursor.value as string).toUpperCase()) : cursor.delete()));
      cursor.continue();
    };
    expect(await ended).toBe('abort');
    expect(await Promise.all(requests)).toEqual(['success', 'UnknownError']);
    expect(tx.error?.name).toBe('UnknownError');
    expect(fault.fired()).toBe(true);
    expect(await readAll(db, 'track_metadata')).toEqual(['a', 'b']);
  });

  it('refuses a QuotaExceededError: Chromium fails no request for quota, it aborts the transaction at commit (browser idbQuota.test)', () => {
    expect(() => arm(failRequest({ nth: 1, name: 'QuotaExceededError' }))).toThrow(/failCommit/);
  });

  it('selects stores with `stores`, and does nothing once restored', async () => {
    const db = await open(new IDBFactory(), dbName());
    const usage = arm(failRequest({ nth: 1, name: 'UnknownError', stores: (name) => name === 'usage' }));
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('complete');
    expect(await write(db, 'usage', [[1, 'b']])).toBe('abort');
    expect(usage.fired()).toBe(true);

    const restored = failRequest({ nth: 1, name: 'UnknownError' });
    restored();
    expect(await write(db, 'track_metadata', [[2, 'c']])).toBe('complete');
    expect(restored.fired()).toBe(false);
  });
});

describe('failCommit', () => {
  it('aborts a transaction that wrote entries at commit, after every request succeeded', async () => {
    const db = await open(new IDBFactory(), dbName());
    const fault = arm(failCommit());
    const eviction = db.transaction('track_metadata', 'readwrite');
    eviction.objectStore('track_metadata').delete(1);
    expect(await finished(eviction)).toBe('complete'); // deletes free space: they commit

    const tx = db.transaction('track_metadata', 'readwrite');
    const requests = [1, 2].map((key) => tx.objectStore('track_metadata').put(key, key));
    const ended = finished(tx);
    expect(await Promise.all(requests.map(settled))).toEqual(['success', 'success']);
    expect(await ended).toBe('abort');
    expect(tx.error?.name).toBe('QuotaExceededError');
    expect(fault.fired()).toBe(true);
    expect(await readAll(db, 'track_metadata')).toEqual([]);
    expect(await write(db, 'track_metadata', [[1, 1]])).toBe('complete');
  });

  it('commits a read-write transaction that only read entries (nothing written: no quota to refuse), and aborts the next that writes', async () => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('complete');
    const fault = arm(failCommit());
    const tx = db.transaction('track_metadata', 'readwrite');
    tx.objectStore('track_metadata').get(1);
    tx.objectStore('track_metadata').getAll();
    expect(await finished(tx)).toBe('complete');
    expect(fault.fired()).toBe(false);
    expect(await write(db, 'track_metadata', [[2, 'b']])).toBe('abort');
    expect(fault.fired()).toBe(true);
  });

  it("aborts, at commit, a transaction that only updated entries through a cursor", async () => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('complete');
    const fault = arm(failCommit());
    const tx = db.transaction('track_metadata', 'readwrite');
    tx.objectStore('track_metadata').openCursor().onsuccess = (event) => (event.target as IDBRequest<IDBCursorWithValue | null>).result?.update('A');
    expect(await finished(tx)).toBe('abort');
    expect(tx.error?.name).toBe('QuotaExceededError');
    expect(fault.fired()).toBe(true);
    expect(await readAll(db, 'track_metadata')).toEqual(['a']);
  });

  it('aborts a transaction that put into any store (a log or usage record only): Chromium counts every put (browser idbQuota.test)', async () => {
    const db = await open(new IDBFactory(), dbName());
    const fault = arm(failCommit());
    expect(await write(db, 'usage', [[1, 'record']])).toBe('abort');
    expect(fault.fired()).toBe(true);
    expect(await readAll(db, 'usage')).toEqual([]);
  });

  it('aborts the `nth` transaction that puts, counting neither those that only delete or read nor those `matching` rejects', async () => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('complete');
    const fault = arm(failCommit({ nth: 2, matching: (record) => record !== 'not counted' }));
    expect(await write(db, 'album_year', [[1, 1999]])).toBe('complete'); // the 1st
    const deletes = db.transaction('track_metadata', 'readwrite');
    deletes.objectStore('track_metadata').delete(1);
    deletes.objectStore('track_metadata').clear();
    expect(await finished(deletes)).toBe('complete');
    expect(await write(db, 'usage', [[1, 'not counted']])).toBe('complete');
    expect(fault.fired()).toBe(false);
    expect(await write(db, 'usage', [[2, 'the 2nd']])).toBe('abort');
    expect(fault.fired()).toBe(true);
    expect(await write(db, 'usage', [[3, 'after']])).toBe('complete');
  });

  it('fails the transaction `when` selects, with `name`', async () => {
    const db = await open(new IDBFactory(), dbName());
    arm(failCommit({ name: 'UnknownError', when: (tx) => tx.objectStoreNames.contains('usage') }));
    expect(await write(db, 'track_metadata', [[1, 1]])).toBe('complete');
    const tx = db.transaction('usage', 'readwrite');
    tx.objectStore('usage').put(1, 1);
    expect(await finished(tx)).toBe('abort');
    expect(tx.error?.name).toBe('UnknownError');
    expect(await readAll(db, 'usage')).toEqual([]);
  });
});

describe('countRecordsRead', () => {
  it('counts the entries `database` hands back, not those another database hands back meanwhile (a cache an earlier test left open, writing its read times late)', async () => {
    const [mine, other] = [dbName(), dbName()];
    const [db, earlier] = await Promise.all([open(new IDBFactory(), mine), open(new IDBFactory(), other)]);
    const entries: [number, unknown][] = [1, 2, 3].map((index) => [index, { key: `k${index}` }]);
    for (const each of [db, earlier]) expect(await write(each, 'track_metadata', entries)).toBe('complete');
    const read = await countRecordsRead(mine, async () => {
      const [own, theirs] = await Promise.all([readAll(db, 'track_metadata'), readAll(earlier, 'track_metadata')]);
      expect([own.length, theirs.length]).toEqual([3, 3]);
    });
    expect(read).toBe(3);
  });
});

describe('fillDisk', () => {
  it('aborts at commit every transaction that puts, in any store, while deletes and reads commit, until one that only deletes (and removed a record) has committed', async () => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a'], [2, 'b']])).toBe('complete');
    const full = arm(fillDisk());
    expect(await write(db, 'track_metadata', [[3, 'c']])).toBe('abort');
    expect(await write(db, 'usage', [[1, 'record']])).toBe('abort');
    // A delete beside a put frees nothing first: Chromium counts only what it puts.
    const both = db.transaction(['track_metadata', 'usage'], 'readwrite');
    both.objectStore('track_metadata').delete(1);
    both.objectStore('usage').put('record', 1);
    expect(await finished(both)).toBe('abort');
    expect(both.error?.name).toBe('QuotaExceededError');
    const reads = db.transaction('track_metadata', 'readwrite');
    reads.objectStore('track_metadata').getAll();
    expect(await finished(reads)).toBe('complete');
    expect(await write(db, 'album_year', [[1, 1999]])).toBe('abort');
    expect(full.fired()).toBe(true);

    const freeing = db.transaction('track_metadata', 'readwrite');
    freeing.objectStore('track_metadata').delete(1);
    expect(await finished(freeing)).toBe('complete');
    expect(await write(db, 'track_metadata', [[3, 'c']])).toBe('complete');
    expect(await readAll(db, 'track_metadata')).toEqual(['b', 'c']);
  });

  it('is not freed by a transaction that only deletes but removes nothing (an absent key, an empty range, an empty store): Chromium’s usage falls only by what deletes remove', async () => {
    const db = await open(new IDBFactory(), dbName());
    expect(await write(db, 'track_metadata', [[1, 'a'], [2, 'b']])).toBe('complete');
    const full = arm(fillDisk());
    const nothing = db.transaction(['track_metadata', 'album_year'], 'readwrite');
    nothing.objectStore('track_metadata').delete(3);
    nothing.objectStore('track_metadata').delete(IDBKeyRange.bound(10, 20));
    nothing.objectStore('album_year').clear();
    expect(await finished(nothing)).toBe('complete');
    const put = db.transaction('track_metadata', 'readwrite');
    const ended = Promise.all([settled(put.objectStore('track_metadata').put('c', 3)), finished(put)]);
    expect([...(await ended), put.error?.name]).toEqual(['success', 'abort', 'QuotaExceededError']);
    expect(full.fired()).toBe(true);
    expect(await readAll(db, 'track_metadata')).toEqual(['a', 'b']);
  });

  it('refuses an upgrade that puts (the open fails with AbortError, the version stays), while one that only creates stores and indexes commits', async () => {
    const factory = new IDBFactory();
    const name = dbName();
    (await open(factory, name)).close();
    arm(fillDisk());
    const upgrade = (version: number, change: (db: IDBDatabase) => void) => {
      const request = factory.open(name, version);
      request.onupgradeneeded = () => change(request.result);
      return outcome(request);
    };
    expect(await upgrade(2, (db) => void db.createObjectStore('named').put('0123456789', 'epoch'))).toEqual({
      events: ['upgradeneeded', 'error'],
      error: expect.objectContaining({ name: 'AbortError' }),
    });
    expect(await upgrade(2, (db) => void db.createObjectStore(`epoch:${'f'.repeat(32)}`).createIndex('i', 'i'))).toEqual({ events: ['upgradeneeded', 'success'], error: null });
    const db = await open(factory, name);
    expect([db.version, Array.from(db.objectStoreNames)]).toEqual([2, [`epoch:${'f'.repeat(32)}`, ...STORES].sort()]);
    // Still full: the upgrade freed nothing.
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('abort');
  });

  it('is freed by a clear() too, and only by a transaction of `database`', async () => {
    const factory = new IDBFactory();
    const [name, other] = [dbName(), dbName()];
    const [db, otherDb] = [await open(factory, name), await open(factory, other)];
    expect(await write(db, 'track_metadata', [[2, 'b']])).toBe('complete');
    arm(fillDisk({ database: name }));
    expect(await write(otherDb, 'track_metadata', [[1, 'elsewhere']])).toBe('complete');
    const elsewhere = otherDb.transaction('track_metadata', 'readwrite');
    elsewhere.objectStore('track_metadata').clear();
    expect(await finished(elsewhere)).toBe('complete');
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('abort');
    const clear = db.transaction('track_metadata', 'readwrite');
    clear.objectStore('track_metadata').clear();
    expect(await finished(clear)).toBe('complete');
    expect(await write(db, 'track_metadata', [[1, 'a']])).toBe('complete');
  });
});

describe('tabFactory', () => {
  it('kill aborts the dead tab’s transactions only, and its later opens fail asynchronously', async () => {
    const inner = new IDBFactory();
    const [a, b] = [tabFactory(inner), tabFactory(inner)];
    const name = dbName();
    const dbA = await open(a.factory, name);
    const dbB = await open(b.factory, name);
    expect(await write(dbA, 'track_metadata', [[1, 'kept']])).toBe('complete');

    const tx = dbA.transaction('track_metadata', 'readwrite');
    const [first, , last] = [2, 3, 4].map((key) => tx.objectStore('track_metadata').put('lost', key));
    const txB = dbB.transaction('album_year', 'readwrite');
    txB.objectStore('album_year').put(1999, 1);
    const ended = [finished(tx), finished(txB), settled(last!)];
    await settled(first!); // the transaction is in flight: one record written, two queued
    a.kill();

    expect(await Promise.all(ended)).toEqual(['abort', 'complete', 'AbortError']);
    expect(tx.error?.name).toBe('AbortError');
    expect(a.connections()).toEqual([]);
    expect(() => dbA.transaction('usage')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));

    const later = a.factory.open(name);
    expect(later.readyState).toBe('pending');
    expect(await outcome(later)).toEqual({ events: ['error'], error: expect.objectContaining({ name: 'AbortError' }) });

    expect(await readAll(dbB, 'track_metadata')).toEqual(['kept']);
    expect(await readAll(dbB, 'album_year')).toEqual([1999]);
    expect(await write(dbB, 'track_metadata', [[5, 'b']])).toBe('complete');
    expect(b.connections()).toEqual([dbB]);
  });

  it('kill stops pending opens from yielding a connection, even mid-upgrade', async () => {
    const inner = new IDBFactory();
    const name = dbName();
    const fresh = dbName();
    (await open(inner, name)).close();
    const a = tabFactory(inner);
    const pending = outcome(a.factory.open(name));
    const upgrading = a.factory.open(fresh);
    let upgraded = false;
    upgrading.onupgradeneeded = () => (upgraded = true);
    const upgradingOutcome = outcome(upgrading);
    a.kill();

    expect(await pending).toEqual({ events: ['error'], error: expect.objectContaining({ name: 'AbortError' }) });
    expect((await upgradingOutcome).error?.name).toBe('AbortError');
    expect(upgraded).toBe(false);

    // No zombie connection blocks the next version, and the aborted creation left nothing behind.
    const b = tabFactory(inner);
    const v2 = b.factory.open(name, 2);
    expect((await outcome(v2)).events).toEqual(['upgradeneeded', 'success']);
    const created = b.factory.open(fresh);
    let oldVersion = -1;
    created.onupgradeneeded = (event) => (oldVersion = event.oldVersion);
    expect((await outcome(created)).error).toBeNull();
    expect(oldVersion).toBe(0);
  });

  it.each([false, true])('loseConnection aborts the tab’s transactions, then fires close; the tab can reopen (another tab busy: %s)', async (busy) => {
    const inner = new IDBFactory();
    const [a, b] = [tabFactory(inner), tabFactory(inner)];
    const name = dbName();
    const dbA = await open(a.factory, name);
    const dbB = await open(b.factory, name);
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => dbA.addEventListener('close', () => resolve()));
    dbA.addEventListener('close', () => events.push('close'));
    dbB.addEventListener('close', () => events.push('close B'));

    const tx = dbA.transaction('track_metadata', 'readwrite');
    tx.addEventListener('abort', () => events.push(`abort:${tx.error?.name}`));
    const [first] = [1, 2].map((key) => tx.objectStore('track_metadata').put('lost', key));
    // Another tab's transaction in flight: fake-indexeddb delays 'close' until it ends, which it must.
    const endedB = busy ? write(dbB, 'album_year', [[1, 1], [2, 2], [3, 3]]) : 'complete';
    await settled(first!);
    a.loseConnection();

    expect(a.connections()).toEqual([]);
    expect(() => dbA.transaction('usage')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    await closed;
    expect(events).toEqual(['abort:AbortError', 'close']);
    expect(await endedB).toBe('complete');

    const again = await open(a.factory, name);
    expect(a.connections()).toEqual([again]);
    expect(await readAll(again, 'track_metadata')).toEqual([]);
    expect(await readAll(again, 'album_year')).toEqual(busy ? [1, 2, 3] : []);
  });

  it('refuse makes opens fail with an error event, never a throw', async () => {
    const inner = new IDBFactory();
    const [a, b] = [tabFactory(inner), tabFactory(inner)];
    a.refuse();
    const request = a.factory.open(dbName());
    expect(request.readyState).toBe('pending');
    expect(await outcome(request)).toEqual({ events: ['error'], error: expect.objectContaining({ name: 'InvalidStateError' }) });
    b.refuse('SecurityError');
    expect((await outcome(b.factory.open(dbName()))).error?.name).toBe('SecurityError');
    expect((await outcome(tabFactory(inner).factory.open(dbName()))).error).toBeNull();
  });
});

describe('deleteUnderTabs', () => {
  it('deletes once the tabs close on versionchange; a reopen gets an empty database at version 1', async () => {
    const inner = new IDBFactory();
    const a = tabFactory(inner);
    const name = dbName();
    const db = await open(a.factory, name);
    expect(await write(db, 'track_metadata', [[1, 'x']])).toBe('complete');
    let newVersion: number | null | undefined;
    db.onversionchange = (event) => {
      newVersion = event.newVersion;
      db.close();
    };

    await deleteUnderTabs(inner, name);
    expect(newVersion).toBeNull();
    expect(await inner.databases()).toEqual([]);
    const upgrades: number[] = [];
    const reopened = await open(a.factory, name, upgrades);
    expect([upgrades, reopened.version]).toEqual([[0], 1]);
    expect(await readAll(reopened, 'track_metadata')).toEqual([]);
  });

  it('waits while blocked by a tab that closes late', async () => {
    const inner = new IDBFactory();
    const name = dbName();
    const db = await open(tabFactory(inner).factory, name);
    let deleted = false;
    db.onversionchange = async () => {
      for (let i = 0; i < 10; i++) await turn();
      expect(deleted).toBe(false);
      db.close();
    };
    await deleteUnderTabs(inner, name).then(() => (deleted = true));
    expect(await inner.databases()).toEqual([]);
  });

  // What Chromium does (browser idbDelete.test): the transaction completes, the delete succeeds after it, and
  // an open queued behind the delete finds a new database.
  const asChromium = (log: string[]) => {
    const closedAt = Number(/^versionchange after (\d+) puts$/.exec(log[0] ?? '')?.[1]);
    return [`versionchange after ${closedAt} puts`, 'transaction after close(): InvalidStateError', `complete after ${closedAt + 3} puts`, 'deleted', 'reopened from version 0', 'reopened: stores []'];
  };

  it('waits for the transactions of a connection that closes on versionchange while writing, as Chromium does', async () => {
    const inner = new IDBFactory();
    const log = await deleteDuringWrite(tabFactory(inner).factory, dbName(), (name) => deleteUnderTabs(inner, name));
    expect(log).toEqual(asChromium(log));
  });

  it('makes a plain deleteDatabase wait for them too, without a blocked event (Chromium fires none)', async () => {
    const inner = new IDBFactory();
    let blocked = false;
    const log = await deleteDuringWrite(inner, dbName(), (name) => {
      const request = inner.deleteDatabase(name);
      request.onblocked = () => (blocked = true);
      return new Promise((resolve) => (request.onsuccess = () => resolve()));
    });
    expect([log, blocked]).toEqual([asChromium(log), false]);
  });

  it('a tab that dies while its connection, closed on versionchange, still writes: the write aborts, and the delete ends after it', async () => {
    const inner = new IDBFactory();
    const tab = tabFactory(inner);
    const name = dbName();
    const db = await open(tab.factory, name);
    const tx = db.transaction('track_metadata', 'readwrite');
    const [first] = [1, 2, 3].map((key) => tx.objectStore('track_metadata').put('lost', key));
    const events: string[] = [];
    finished(tx).then((end) => events.push(end));
    db.onversionchange = () => {
      events.push('versionchange');
      db.close();
    };
    await settled(first!);
    const deleted = deleteUnderTabs(inner, name).then(() => events.push('deleted'));
    await turn();
    await turn();
    tab.kill();
    await deleted;
    expect(events).toEqual(['versionchange', 'abort', 'deleted']);
  });

  it('rejects after a bounded number of turns when a tab never closes', async () => {
    const inner = new IDBFactory();
    const name = dbName();
    const db = await open(tabFactory(inner).factory, name);
    await expect(deleteUnderTabs(inner, name, { turns: 50 })).rejects.toThrow(/is blocked after 50 event-loop turns/);
    // The delete still waits, as in a browser, and goes through once the connection closes.
    db.close();
    const reopened = outcome(inner.open(name));
    expect((await reopened).events).toEqual(['upgradeneeded', 'success']);
  });
});
