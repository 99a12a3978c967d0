// Issue 13, item 2: a big setMany (an import) commits in short transactions, yet stays all or nothing —
// when a step fails, when its worker dies, across tabs — and events, clears and writes made during it
// apply as documented in worker/importBatch.ts. Two or three engines ("tabs") share one IndexedDB.
import { IDBFactory, IDBObjectStore, IDBVersionChangeEvent } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheError, isCacheError } from '../src/CacheError';
import { createCache } from '../src/createCache';
import type { CacheConfig } from '../src/configSchema';
import type { EmitReport } from '../src/Cache';
import { entryStore } from '../worker/databaseSchema';
import { IMPORT_STEP_MS, nextStepSize } from '../worker/importBatch';
import type { EntryRecord } from '../worker/databaseSchema';
import { engineTab } from './support/engineTab';
import { openRemoteCache } from './support/inProcessWorkers';
import { openCache, rejection } from './support/openCache';
import { fakeLocks, refusingLocks } from './support/fakeLocks';
import { countRecordsRead, deleteUnderTabs, failCommit, failCommits, failRequest, tabFactory, type Fault } from './support/faultyIndexedDB';
import { requestDone } from '../worker/idbRequests';
import type { Schedule } from '../worker/schedule';
import type { EngineOptions } from '../worker/Engine';

/** Entries per import transaction here: an import of 100 takes ten. */
const CHUNK = 10;

let names = 0;
const closers: (() => Promise<void>)[] = [];
const faults: Fault[] = [];

afterEach(async () => {
  for (const fault of faults.splice(0)) fault();
  for (const close of closers.splice(0)) await close().catch(() => {});
});

/** Tabs of one cache over one IndexedDB, each with its own connections and Web Locks (unless `locks` is false; refusing ones for a tab opened with `'refused'`). */
function browserOf({ locks = true, prefix = '' }: { locks?: boolean; prefix?: string } = {}) {
  const inner = new IDBFactory();
  const name = `${prefix}imports-${Date.now()}-${++names}`;
  const registry = fakeLocks();
  const open = async (config: CacheConfig = {}, tabLocks?: 'refused', schedule: Schedule = (run, ms) => void setTimeout(run, ms / 100), now?: () => number, more: Partial<EngineOptions> = {}) => {
    const tab = tabFactory(inner);
    const agent = registry.agent();
    const opened = await engineTab({ name, indexedDB: tab.factory, config, engine: { importChunk: CHUNK, locks: tabLocks ? (refusingLocks() as unknown as LockManager) : locks ? agent.locks : undefined, schedule, now, ...more } });
    closers.push(() => opened.cache.close());
    return {
      ...opened,
      /** The tab's worker dies: its transactions abort, its connections close, its locks go. */
      kill() {
        tab.kill();
        agent.kill();
        void opened.engine.close();
      },
      /** The browser closes the tab's connections under it: their transactions abort, and the tab reopens. */
      loseConnection: () => tab.loseConnection(),
    };
  };
  return { inner, name, open };
}

const entries = (count: number, value: string, from = 0) =>
  Array.from({ length: count }, (_, index) => ({ key: `k${from + index}`, value: `${value}${from + index}`, trackId: `t${(from + index) % 5}` }));

/** fake-indexeddb's event class, which it does not export (its IDBVersionChangeEvent extends it): to replay an event held back. */
const FakeEvent = Object.getPrototypeOf(IDBVersionChangeEvent) as new (type: string, init?: EventInit) => Event;

const keys = (count: number) => Array.from({ length: count }, (_, index) => `k${index}`);

/** What reads of k0–k99 give after `entries(50, 'old')`, and before an import of `entries(100, 'new')` commits. */
const old = keys(100).map((_, index) => (index < 50 ? `old${index}` : undefined));

/** What the database holds for a type once its counts are checked: the usage record equals a recount of the records. */
async function expectExactCounts(browser: { inner: IDBFactory; name: string }) {
  const after = await raw(browser.inner, browser.name);
  expect(after.usage).toEqual(after.counted);
  return after;
}

/** What the database holds for a type, read without Reprise: entries and bytes counted, the usage record, the import records left. */
async function raw(indexedDB: IDBFactory, name: string, type = 'track_metadata') {
  const db = await requestDone(indexedDB.open(name));
  try {
    const tx = db.transaction(entryStore(type), 'readonly');
    const store = tx.objectStore(entryStore(type));
    const all = store.getAll(IDBKeyRange.bound('', [], false, true));
    const usage = store.get(0);
    const batches = store.getAllKeys(IDBKeyRange.bound(['batch'], ['batchkeys', []]));
    await new Promise((resolve) => (tx.oncomplete = resolve));
    const records = all.result as EntryRecord[];
    const { entries, bytes } = (usage.result ?? { entries: 0, bytes: 0 }) as { entries: number; bytes: number };
    return {
      // Usage counts each record's own entry, never a prior (importBatch.ts).
      counted: [records.length, records.reduce((sum, record) => sum + record.bytes, 0)],
      usage: [entries, bytes],
      importRecords: batches.result.length,
      priors: records.filter((record) => record.prior !== undefined).length,
    };
  } finally {
    db.close();
  }
}

/**
 * The `nth` (first) transaction of `database` after an import's commit that puts usage records aborts
 * at commit, as a full disk does (not one of a cache an earlier test left writing its read times). The store's delete and put are watched only (never thrown from): to tell which
 * transaction commits the import, and which write usage records.
 */
function fullDiskAfterImportCommit(database: string, nth = 1): Fault {
  const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest; put(this: IDBObjectStore, value: unknown, key?: unknown): IDBRequest };
  const { delete: del, put } = proto;
  let committed: IDBTransaction | undefined;
  const putsUsage = new WeakSet<IDBTransaction>();
  proto.delete = function (this: IDBObjectStore, key: unknown) {
    if (Array.isArray(key) && key[0] === 'batch') committed ??= this.transaction;
    return del.call(this, key);
  };
  proto.put = function (this: IDBObjectStore, value: unknown, key?: unknown) {
    if ((value as { key?: unknown } | undefined)?.key === 0) putsUsage.add(this.transaction);
    return key === undefined ? put.call(this, value) : put.call(this, value, key);
  };
  let seen = 0;
  const fault = failCommit({ name: 'QuotaExceededError', when: (tx) => committed !== undefined && tx !== committed && putsUsage.has(tx) && ++seen === nth, database });
  const restore = Object.assign(() => {
    proto.delete = del;
    proto.put = put;
    fault();
  }, { fired: fault.fired });
  faults.push(restore);
  return restore;
}

/** Kills `worker` once the transaction that commits an import (it deletes the batch record) has completed; the store's delete is watched only. */
function killAfterImportCommit(worker: { kill(): void }): Fault {
  const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest };
  const original = proto.delete;
  let killed = false;
  proto.delete = function (this: IDBObjectStore, key: unknown) {
    if (Array.isArray(key) && key[0] === 'batch' && !killed) {
      killed = true;
      this.transaction.addEventListener('complete', () => worker.kill());
    }
    return original.call(this, key);
  };
  const restore = Object.assign(() => void (proto.delete = original), { fired: () => killed });
  faults.push(restore);
  return restore;
}

/** Runs `then` with the transaction that commits an import (it deletes the batch record), once; the store's delete is watched only. */
function atImportCommit(then: (tx: IDBTransaction) => void): Fault {
  const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest };
  const original = proto.delete;
  let fired = false;
  proto.delete = function (this: IDBObjectStore, key: unknown) {
    if (Array.isArray(key) && key[0] === 'batch' && !fired) {
      fired = true;
      then(this.transaction);
    }
    return original.call(this, key);
  };
  const restore = Object.assign(() => void (proto.delete = original), { fired: () => fired });
  faults.push(restore);
  return restore;
}

/**
 * Once armed, a worker that dies (`kill`) as soon as the first transaction deleting an import's batch record (its commit, or
 * the last step of its rollback) has committed; `commitId()`: the id of the last commit mark written, which its page asks about.
 */
function dyingOnceBatchGoes() {
  const proto = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, value: unknown, key?: unknown): IDBRequest; delete(this: IDBObjectStore, key: unknown): IDBRequest };
  const { put, delete: remove } = proto;
  let killed = false;
  let commitId: string | undefined;
  faults.push(Object.assign(() => void Object.assign(proto, { put, delete: remove }), { fired: () => killed }));
  return {
    arm(kill: () => void) {
      proto.put = function (this: IDBObjectStore, value: unknown, key?: unknown) {
        const markKey = (value as { key?: unknown } | null)?.key;
        if (Array.isArray(markKey) && markKey[0] === 'commit') commitId = markKey[1] as string;
        return put.call(this, value, key);
      };
      proto.delete = function (this: IDBObjectStore, key: unknown) {
        if (Array.isArray(key) && key[0] === 'batch' && !killed) {
          killed = true;
          this.transaction.addEventListener('complete', kill);
        }
        return remove.call(this, key);
      };
    },
    killed: () => killed,
    commitId: () => commitId,
  };
}

describe('an import (a setMany of more entries than one transaction takes)', () => {
  it('is written in short transactions, and reads in another tab see all of it or none of it, never part', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const snapshots: Promise<(string | undefined)[]>[] = [];
    const listings: Promise<string[]>[] = [];
    await a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        snapshots.push(b.cache.getMany('track_metadata', keys(100)) as Promise<(string | undefined)[]>);
        listings.push(b.cache.keys('track_metadata'));
      },
    });
    const all = keys(100).map((_, index) => `new${index}`);
    const seen = await Promise.all(snapshots);
    // One report a step (the last one short of the end: 99 of 100), then 100 once it has committed.
    expect(seen.length).toBe(11);
    for (const snapshot of seen) expect([old, all]).toContainEqual(snapshot);
    // The first steps are long done before the import commits.
    expect(seen[0]).toEqual(old);
    for (const listing of await Promise.all(listings)) expect([keys(50).sort(), keys(100).sort()]).toContainEqual(listing.sort());
    expect(await b.cache.getMany('track_metadata', keys(100))).toEqual(all);
    await expect.poll(() => raw(browser.inner, browser.name)).toMatchObject({ counted: [100, expect.any(Number)], importRecords: 0, priors: 0 });
    const after = await expectExactCounts(browser);
    expect((await b.cache.stats()).types.track_metadata).toMatchObject({ entries: 100, bytes: after.counted[1] });
  });

  it('lets reads through in its own tab too: a read made during it answers before it commits, with none of it', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const snapshots: { values: Promise<unknown[]>; answeredFirst: Promise<boolean> }[] = [];
    let committed = false;
    const importing = a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        const values = a.cache.getMany('track_metadata', keys(100));
        snapshots.push({ values, answeredFirst: values.then(() => !committed) });
      },
    });
    await importing;
    committed = true;
    const first = snapshots[0]!;
    expect(await first.values).toEqual(old);
    expect(await first.answeredFirst).toBe(true);
    for (const { values } of snapshots) expect([old, keys(100).map((_, index) => `new${index}`)]).toContainEqual(await values);
  });

  it('that replaces a type\'s entries leaves it within its budget once it resolves (what it replaced is not counted)', async () => {
    const browser = browserOf();
    // 40 entries of about 1 kB in a budget of 64 kB: the import's 40 new ones and the 40 they replace would not fit.
    const a = await browser.open({ caching: { policies: { track_metadata: { maxSizeMb: 1 / 16 } } } });
    const big = (value: string) => Array.from({ length: 40 }, (_, index) => ({ key: `k${index}`, value: `${value}${index}`.padEnd(500, '.') }));
    await a.cache.setMany('track_metadata', big('old'));
    await a.cache.setMany('track_metadata', big('new'));
    const stats = (await a.cache.stats()).types.track_metadata;
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes!);
    expect(stats).toMatchObject({ entries: 40, evictions: 0 });
    expect(await a.cache.getMany('track_metadata', keys(40))).toEqual(big('new').map((entry) => entry.value));
  });

  it('that fails in a middle step (a request fails and aborts its transaction) rejects, and every entry and byte count is as before', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const before = await raw(browser.inner, browser.name);
    // The 45th entry written: in the fifth step.
    faults.push(failRequest({ nth: 45, name: 'UnknownError', database: browser.name }));
    const error = await a.cache.setMany('track_metadata', entries(100, 'new')).catch((error: unknown) => error);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect(await b.cache.getMany('track_metadata', keys(100))).toEqual(old);
    expect(await raw(browser.inner, browser.name)).toEqual(before);
    expect((await a.cache.stats()).types.track_metadata).toMatchObject({ entries: 50, bytes: before.counted[1] });
  });

  it('whose step fails at commit rejects, and nothing of it remains', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const before = await raw(browser.inner, browser.name);
    let steps = 0;
    // This cache's transactions only: another test's cache writing its read times would count among the steps.
    faults.push(failCommit({ name: 'QuotaExceededError', when: (tx) => tx.objectStoreNames.contains('track_metadata') && ++steps === 4, database: browser.name }));
    // A quota error is retried once after freeing room; the second attempt fails at commit too.
    faults.push(failCommit({ name: 'UnknownError', when: (tx) => tx.objectStoreNames.contains('track_metadata') && steps > 4 && ++steps === 8, database: browser.name }));
    const outcome = await a.cache.setMany('track_metadata', entries(100, 'new')).then(
      () => 'resolved',
      (error: unknown) => (error as CacheError).code,
    );
    const values = await a.cache.getMany('track_metadata', keys(100));
    if (outcome === 'resolved') expect(values).toEqual(keys(100).map((_, index) => `new${index}`));
    else {
      expect(values).toEqual(old);
      expect(await raw(browser.inner, browser.name)).toMatchObject({ counted: before.counted, usage: before.usage, importRecords: 0 });
    }
    await expectExactCounts(browser);
  });

  it('whose step fails at commit writes no step after the one already under way, and rolls back', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const before = await raw(browser.inner, browser.name);
    let steps = 0;
    // The fourth step's transaction aborts at commit (not a full disk: nothing to retry); the fifth is made by then.
    faults.push(failCommit({ name: 'UnknownError', when: (tx) => tx.objectStoreNames.contains('track_metadata') && tx.mode === 'readwrite' && ++steps === 5, database: browser.name }));
    const reported: number[] = [];
    const error = await a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: (done) => void reported.push(done) }).catch((error: unknown) => error);
    expect(isCacheError(error)).toBe(true);
    // Steps of ten: the three before it and the one under way, not the five after.
    expect(Math.max(...reported)).toBeLessThanOrEqual(50);
    expect(await a.cache.getMany('track_metadata', keys(100))).toEqual(old);
    expect(await raw(browser.inner, browser.name)).toMatchObject({ counted: before.counted, usage: before.usage, importRecords: 0 });
  });

  it('whose commit the browser aborts as it closes the connection is committed on a new one, and resolves; another tab\'s stats() meanwhile takes it for alive', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    let aborted = false;
    let stats: Promise<unknown> | undefined;
    // A task after the commit's requests are made, before it has committed: it aborts, unwritten, and is tried again.
    const fault = atImportCommit((tx) => {
      tx.addEventListener('abort', () => void (aborted = true));
      setImmediate(() => {
        a.loseConnection();
        stats = b.cache.stats();
      });
    });
    await a.cache.setMany('track_metadata', entries(100, 'new'));
    await stats;
    expect([fault.fired(), aborted]).toEqual([true, true]);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k49', 'k99'])).toEqual(['new0', 'new49', 'new99']);
    expect((await b.cache.stats()).types.track_metadata.entries).toBe(100);
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it.each([
    ['alone', false],
    ['while another tab opens and tidies it before the try again', true],
  ])('whose commit lands but its answer is lost with its connection (an abort heard instead), %s, resolves: every entry is there', async (_, tidied) => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    let heard: Promise<void> | undefined;
    const fault = atImportCommit((tx) => {
      const { onabort } = tx;
      // The commit lands; the worker hears an abort instead of its completion, as when the browser closes the connection then.
      tx.oncomplete = () => {
        heard = (async () => {
          if (tidied) {
            await browser.open();
            await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
          }
          onabort!.call(tx, new FakeEvent('abort'));
        })();
      };
    });
    await a.cache.setMany('track_metadata', entries(100, 'new'));
    await heard;
    expect(fault.fired()).toBe(true);
    expect(await a.cache.getMany('track_metadata', ['k0', 'k49', 'k99'])).toEqual(['new0', 'new49', 'new99']);
    expect((await a.cache.stats()).types.track_metadata.entries).toBe(100);
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it('whose worker dies in the middle is never seen, and the next tab to open rolls it back', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await b.cache.setMany('track_metadata', entries(50, 'old'));
    const before = await raw(browser.inner, browser.name);
    let steps = 0;
    const call = a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        if (++steps === 4) a.kill();
      },
    });
    await call.catch(() => {});
    expect(await b.cache.getMany('track_metadata', keys(100))).toEqual(old);
    // Its records are there, pending: invisible to every read and listing.
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    expect((await b.cache.keys('track_metadata')).sort()).toEqual(keys(50).sort());
    expect((await b.cache.entries('track_metadata')).length).toBe(50);
    const c = await browser.open();
    expect(await raw(browser.inner, browser.name)).toEqual(before);
    expect(await c.cache.getMany('track_metadata', keys(100))).toEqual(old);
    // And a new import of the type goes through.
    await c.cache.setMany('track_metadata', entries(30, 'again', 100));
    expect(await b.cache.get('track_metadata', 'k129')).toBe('again129');
  });

  it('of a cache whose name starts with \'-\' (which Web Locks refuse as a lock name), whose worker dies in the middle, is rolled back by the next tab to open', async () => {
    const browser = browserOf({ prefix: '-' });
    const a = await browser.open();
    const b = await browser.open();
    await b.cache.setMany('track_metadata', entries(50, 'old'));
    const before = await raw(browser.inner, browser.name);
    let steps = 0;
    await a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => void (++steps === 4 && a.kill()) }).catch(() => {});
    const c = await browser.open();
    expect(await raw(browser.inner, browser.name)).toEqual(before);
    expect((await c.cache.stats()).types.track_metadata.entries).toBe(50);
  });

  it('without Web Locks: one whose tab died is left invisible until an import of its type has seen it write nothing for a while, and rolls it back', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(20, 'old'));
    const before = await raw(browser.inner, browser.name);
    let steps = 0;
    await a.cache
      .setMany('track_metadata', entries(100, 'new'), {
        onProgress: () => {
          if (++steps === 3) a.kill();
        },
      })
      .catch(() => {});
    // A tab opening now cannot tell a dead import from a live one: it leaves it alone (and invisible).
    const b = await browser.open();
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k50'])).toEqual(['old0', undefined]);
    expect((await b.cache.stats()).types.track_metadata.entries).toBeGreaterThan(20);
    // The next import of the type waits, sees no step written, rolls it back and goes on.
    await b.cache.setMany('track_metadata', entries(30, 'again', 100));
    const after = await raw(browser.inner, browser.name);
    expect(after.counted[0]).toBe(50);
    expect([after.usage, after.importRecords]).toEqual([after.counted, expect.any(Number)]);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k50', 'k129'])).toEqual(['old0', undefined, 'again129']);
    expect(before.counted[0]).toBe(20);
  });

  it('without Web Locks: one whose tab died counts in no tab\'s stats, and makes no cleanup evict, once it has written nothing for ten seconds', async () => {
    const browser = browserOf({ locks: false });
    // 20 entries and what the import's first steps wrote would not fit within the low-water mark; the 20 alone do.
    const config = { caching: { policies: { track_metadata: { maxSizeMb: 8 / 1024 } } } };
    const a = await browser.open(config);
    const big = (count: number, value: string, from = 0) => entries(count, value, from).map((entry) => ({ ...entry, value: entry.value.padEnd(100, '.') }));
    await a.cache.setMany('track_metadata', big(20, 'old'));
    const before = (await a.cache.stats()).types.track_metadata;
    let steps = 0;
    await a.cache.setMany('track_metadata', big(25, 'new', 100), { onProgress: () => void (++steps === 2 && a.kill()) }).catch(() => {});
    // Another tab, whose clock is ahead: a moment later it cannot tell; ten seconds later it can.
    let ahead = 0;
    const b = await browser.open(config, undefined, undefined, () => Date.now() + ahead);
    expect((await b.cache.stats()).types.track_metadata.entries).toBeGreaterThan(20);
    ahead = 10_000;
    expect((await b.cache.stats()).types.track_metadata).toMatchObject({ entries: 20, bytes: before.bytes });
    expect(await b.cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await b.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([expect.stringMatching(/^old0/), expect.stringMatching(/^old19/)]);
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it('without Web Locks, the periodic sweep rolls back an import that writes nothing, after ten seconds of it, however often the sweep runs', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(20, 'old'));
    let steps = 0;
    // Its tab dies after three steps: to the others, an import that writes nothing (dead, or alive but slow).
    await a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => void (++steps === 3 && a.kill()) }).catch(() => {});
    // A tab whose upkeep runs every two seconds (cleanupIntervalSeconds: 2): its runs are made here, one at a time.
    const runs: (() => void)[] = [];
    const b = await browser.open({ caching: { cleanupIntervalSeconds: 2 } }, undefined, (run, ms) => void (ms === 2000 ? runs.push(run) : setTimeout(run, ms / 100)));
    const upkeep = async () => {
      await vi.waitFor(() => expect(runs).toHaveLength(1));
      runs.shift()!();
      // Done once the next is scheduled.
      await vi.waitFor(() => expect(runs).toHaveLength(1));
    };
    // Eight seconds of silence seen: not yet.
    for (let run = 1; run <= 4; run++) await upkeep();
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k50'])).toEqual(['old0', undefined]);
    // Ten: rolled back.
    await upkeep();
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k50'])).toEqual(['old0', undefined]);
    await expectExactCounts(browser);
  });

  it.each([
    ['an hour ago: the first comes 2 s after the open, which takes no look at a silent import; the next, an interval later, rolls it back', 3_600_000, [2_000, 300_000]],
    ['100 s ago: the first comes 200 s after the open, long enough for a second look, and rolls it back', 100_000, [200_000]],
  ] as const)('without Web Locks, the last upkeep through the database %s', async (_, ago, runsUntilRolledBack) => {
    const browser = browserOf({ locks: false });
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(20, 'old'));
    let steps = 0;
    await a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => void (++steps === 3 && a.kill()) }).catch(() => {});
    const db = await requestDone(browser.inner.open(browser.name));
    const tx = db.transaction('meta', 'readwrite');
    tx.objectStore('meta').put(Date.now() - ago, 'upkeptAt');
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    // The upkeep's runs (each about as long after the one before as given), made here one at a time.
    const runs: [number, () => void][] = [];
    const near = (ms: number, expected: number) => Math.abs(ms - expected) < 10_000;
    const upkeep = (ms: number) => runsUntilRolledBack.some((expected) => near(ms, expected)) || near(ms, 300_000);
    const b = await browser.open({ caching: { cleanupIntervalSeconds: 300 } }, undefined, (run, ms) => void (upkeep(ms) ? runs.push([ms, run]) : setTimeout(run, ms / 100)));
    for (const [index, expected] of runsUntilRolledBack.entries()) {
      await vi.waitFor(() => expect(runs.map(([ms]) => near(ms, expected))).toEqual([true]));
      if (index === runsUntilRolledBack.length - 1) break;
      runs.shift()![1]();
      await vi.waitFor(() => expect(runs).toHaveLength(1));
      expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    }
    runs.shift()![1]();
    await vi.waitFor(async () => expect((await raw(browser.inner, browser.name)).importRecords).toBe(0));
    expect(await b.cache.getMany('track_metadata', ['k0', 'k50'])).toEqual(['old0', undefined]);
    await expectExactCounts(browser);
  });

  it('without Web Locks, rolled back on a full disk and retried once room is made, lands at once: its tab does not wait to see its own dead import write nothing', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open();
    await a.cache.setMany('track_metadata', entries(20, 'old'));
    // The disk fills after the import's first step (every transaction that puts fails at commit, as
    // Chromium reports it) until the room made for the retry (deletes only) has freed some.
    let full: (() => void) | undefined;
    const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest };
    const { delete: del } = proto;
    let freed = false;
    proto.delete = function (this: IDBObjectStore, key: unknown) {
      // The usage record goes last when room is made on a full disk (IdbStore.free).
      if (key === 0 && full && !freed) {
        freed = true;
        full();
      }
      return del.call(this, key);
    };
    faults.push(Object.assign(() => {
      proto.delete = del;
      full?.();
    }, { fired: () => freed }));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const call = a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => void (full ??= failCommits(Infinity)) }).finally(() => (settled = true));
      // Turns of the event loop only: no time passes.
      for (let turn = 0; turn < 2000 && !settled; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(freed).toBe(true);
      expect(settled).toBe(true);
      await call;
    } finally {
      // What still waits (before the fix, ten seconds of looks at the dead import) ends before the clock is real again.
      await vi.advanceTimersByTimeAsync(20_000);
      vi.useRealTimers();
    }
    expect(await a.cache.getMany('track_metadata', ['k0', 'k99'])).toEqual(['new0', 'new99']);
    await expectExactCounts(browser);
  });

  it('in another tab, of the same type, is waited for: both land whole', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    const order: string[] = [];
    await Promise.all([
      a.cache.setMany('track_metadata', entries(60, 'a')).then(() => order.push('a')),
      b.cache.setMany('track_metadata', entries(60, 'b', 30)).then(() => order.push('b')),
    ]);
    const values = await a.cache.getMany('track_metadata', keys(90));
    // Keys 30–59 are in both: the import that committed last wins them, whole.
    const last = order[1]!;
    expect(values).toEqual(keys(90).map((_, index) => (index < 30 ? `a${index}` : index >= 60 ? `b${index}` : `${last}${index}`)));
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    const after = await raw(browser.inner, browser.name);
    expect([after.usage, after.priors]).toEqual([after.counted, 0]);
  });
});

/** One tab of a cache of its own, its engine in process or behind a port as in a worker; closed after the test. */
async function openTab(mode: 'in process' | 'with a worker') {
  const [name, indexedDB] = [`imports-${Date.now()}-${++names}`, new IDBFactory()];
  const { cache } = mode === 'in process' ? await openCache({ name, indexedDB }) : await openRemoteCache({ name, indexedDB, now: Date.now });
  closers.push(() => cache.close());
  return cache;
}

describe('two setManys of one type sent in chunks (above 2,000 entries each), in one tab', () => {
  const values = (count: number, value: string | undefined, trackId?: string) => Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value, trackId }));
  /** 2,500 entries, one of them (in the second chunk) no value: refused as that chunk is checked. */
  const refused = () => values(2500, 'refused').map((entry, index) => (index === 2100 ? { ...entry, value: undefined } : entry)) as never;

  it.each(['in process', 'with a worker'] as const)('%s: made one after the other without awaiting each, they apply in the order made: the second one\'s values win', async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([cache.setMany('track_metadata', values(6001, 'first')), cache.setMany('track_metadata', values(2001, 'second'))]);
    expect(await cache.getMany('track_metadata', ['k0', 'k2000', 'k6000'])).toEqual(['second', 'second', 'first']);
  });

  // An import small enough to be sent whole (1,001–2,000 entries) would reach the engine, and begin, before the earlier one's commit.
  it.each(['in process', 'with a worker'] as const)("%s: then an import of 1,500 entries (sent in one message), made after it without awaiting: the later one's values win", async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([cache.setMany('track_metadata', values(6001, 'first')), cache.setMany('track_metadata', values(1500, 'second'))]);
    expect(await cache.getMany('track_metadata', ['k0', 'k1499', 'k6000'])).toEqual(['second', 'second', 'first']);
  });

  it.each(['in process', 'with a worker'] as const)("%s: then an event of their track, then an import of 1,500 entries: the event removes the first one's entries, not the later one's", async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([
      cache.setMany('track_metadata', values(6001, 'first', 't1')),
      cache.emit({ eventType: 'track_removed', trackId: 't1' }),
      cache.setMany('track_metadata', values(1500, 'second', 't1')),
    ]);
    expect(await cache.getMany('track_metadata', ['k0', 'k1499', 'k6000'])).toEqual(['second', 'second', undefined]);
  });

  it.each(['in process', 'with a worker'] as const)("%s: three made one after the other, the middle one refused (a value that is no value): the third one's values win over the first's", async (mode) => {
    const cache = await openTab(mode);
    const outcomes = await Promise.allSettled([
      cache.setMany('track_metadata', values(20001, 'first')),
      cache.setMany('track_metadata', refused()),
      cache.setMany('track_metadata', values(2500, 'third')),
    ]);
    expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'resolved'))).toEqual(['resolved', 'invalid_value', 'resolved']);
    expect(await cache.getMany('track_metadata', ['k0', 'k2499', 'k20000'])).toEqual(['third', 'third', 'first']);
  });

  it.each(['in process', 'with a worker'] as const)("%s: one refused while an earlier one is sent, then another made once it was: the last one's values win over the first's", async (mode) => {
    const cache = await openTab(mode);
    const first = cache.setMany('track_metadata', values(20001, 'first'));
    expect((await rejection(cache.setMany('track_metadata', refused()))).code).toBe('invalid_value');
    await cache.setMany('track_metadata', values(2500, 'last'));
    await first;
    expect(await cache.getMany('track_metadata', ['k0', 'k2499', 'k20000'])).toEqual(['last', 'last', 'first']);
  });
});

describe('a setMany sent in chunks (above 2,000 entries), then an event or a clear made after it without awaiting it, in its tab', () => {
  // The change reaches the engine while the setMany's chunks are still being sent: before its import has begun.
  const ofTrack = Array.from({ length: 2001 }, (_, index) => ({ key: `k${index}`, value: 'v', trackId: 't1' }));

  it.each(['in process', 'with a worker'] as const)('%s: an event of its track removes its entries, as after a set', async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([cache.setMany('track_metadata', ofTrack), cache.emit({ eventType: 'track_removed', trackId: 't1' })]);
    expect(await cache.getMany('track_metadata', ['k0', 'k2000'])).toEqual([undefined, undefined]);
    expect((await cache.stats()).types.track_metadata.entries).toBe(0);
  });

  it.each(['in process', 'with a worker'] as const)('%s: a clear leaves nothing of it', async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([cache.setMany('track_metadata', ofTrack), cache.clear('track_metadata')]);
    expect(await cache.getMany('track_metadata', ['k0', 'k2000'])).toEqual([undefined, undefined]);
    expect((await cache.stats()).types.track_metadata.entries).toBe(0);
  });

  it.each(['in process', 'with a worker'] as const)('%s: an event of its track made just before it (not awaited) leaves its entries', async (mode) => {
    const cache = await openTab(mode);
    await Promise.all([cache.emit({ eventType: 'track_removed', trackId: 't1' }), cache.setMany('track_metadata', ofTrack)]);
    expect(await cache.getMany('track_metadata', ['k0', 'k2000'])).toEqual(['v', 'v']);
  });

  it('whose database is deleted (cleared site data) while it is sent rejects with storage_unavailable and writes nothing: the new database\'s log cannot tell what was made after it', async () => {
    const [name, indexedDB] = [`imports-chunked-${Date.now()}-${++names}`, new IDBFactory()];
    // Each value checked in a task of its own: the setMany is still being sent as the deletion goes through.
    const checked = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => new Promise<{ value: unknown }>((resolve) => setImmediate(() => resolve({ value }))) } } as const;
    const { cache } = await openCache({ name, indexedDB, schemas: { track_metadata: checked } });
    closers.push(() => cache.close());
    await cache.set('track_metadata', 'warm', 'w');
    let deleted = false;
    const setting = cache.setMany('track_metadata', ofTrack).then(
      () => ({ deleted, code: 'resolved' }),
      (error: { code?: string }) => ({ deleted, code: error.code }),
    );
    await deleteUnderTabs(indexedDB, name);
    deleted = true;
    expect(await setting).toEqual({ deleted: true, code: 'storage_unavailable' });
    expect(await cache.getMany('track_metadata', ['warm', 'k0', 'k2000'])).toEqual([undefined, undefined, undefined]);
  });

  it('with a worker that dies once the event is made, before the setMany\'s first chunk of entries is sent (its values still being checked): the event removes its entries, or it rejects and writes nothing', async () => {
    const [name, indexedDB] = [`imports-chunked-${Date.now()}-${++names}`, new IDBFactory()];
    // Each value checked in a task of its own: the first chunk of entries is sent well after the event is answered.
    const checked = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => new Promise<{ value: unknown }>((resolve) => setImmediate(() => resolve({ value }))) } } as const;
    const { cache, workers } = await openRemoteCache({ name, indexedDB, now: Date.now, schemas: { track_metadata: checked } });
    closers.push(() => cache.close());
    const setting = cache.setMany('track_metadata', ofTrack).then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    workers[0]!.kill();
    const outcome = await setting;
    expect(workers.length).toBeGreaterThan(1);
    expect({ outcome, values: await cache.getMany('track_metadata', ['k0', 'k2000']) }).toEqual({ outcome: expect.stringMatching(/^(resolved|worker_failed)$/), values: [undefined, undefined] });
  });

  it('an event of its track made before it, held behind a set of another type an async schema checks, leaves its entries', async () => {
    const checked = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => new Promise<{ value: unknown }>((resolve) => setTimeout(() => resolve({ value }), 20)) } } as const;
    const { cache } = await openCache({ name: `imports-chunked-${Date.now()}-${++names}`, schemas: { generic: checked } });
    closers.push(() => cache.close());
    await Promise.all([cache.set('generic', 'g', 1), cache.emit({ eventType: 'track_removed', trackId: 't1' }), cache.setMany('track_metadata', ofTrack)]);
    expect(await cache.getMany('track_metadata', ['k0', 'k2000'])).toEqual(['v', 'v']);
  });
});

describe('two imports of one type made one after the other in one tab, while another tab imports it', () => {
  it('without Web Locks: they apply in the order made, whichever of their looks at the other tab\'s import comes first once it is done', async () => {
    const browser = browserOf({ locks: false });
    const b = await browser.open();
    // Tab A's looks at B's import (every 250 ms), fired here in the order they were scheduled.
    const looks: (() => void)[] = [];
    const a = await browser.open({}, undefined, (run, ms) => void (ms === 250 ? looks.push(run) : setTimeout(run, ms / 100)));
    let steps = 0;
    let done = false;
    const other = b.cache.setMany('track_metadata', entries(600, 'b', 1000), { onProgress: () => void steps++ }).finally(() => (done = true));
    await vi.waitFor(() => expect(steps).toBeGreaterThan(0), { interval: 1 });
    const first = a.cache.setMany('track_metadata', entries(30, 'first'));
    await vi.waitFor(() => expect(looks).toHaveLength(1), { interval: 1 });
    const second = a.cache.setMany('track_metadata', entries(20, 'second'));
    // Time for the second to look too, if it does.
    const at = steps;
    await vi.waitFor(() => expect(steps).toBeGreaterThan(at + 5), { interval: 1 });
    const waiting = looks.length;
    // The first one's look comes while B's import runs (and schedules the next), any other once it is done.
    looks.shift()!();
    await vi.waitFor(() => expect(looks).toHaveLength(waiting), { interval: 1 });
    expect(done).toBe(false);
    await other;
    let settled = false;
    const both = Promise.all([first, second]).finally(() => (settled = true));
    while (!settled) {
      looks.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await both;
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19', 'k29'])).toEqual(['second0', 'second19', 'first29']);
    await expectExactCounts(browser);
  }, 20_000);
});

describe('an import, then a change of its type made before it began (without awaiting it), in its tab', () => {
  // Checked at once (no validation step): the import reaches the engine first, the change just after.
  const ofTrack = (count: number) => entries(count, 'a').map((entry) => ({ ...entry, trackId: 't1' }));

  it('an event of its track removes its entries, as after a set', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.set('track_metadata', 'warm', 0);
    await Promise.all([a.cache.setMany('track_metadata', ofTrack(20)), a.cache.emit({ eventType: 'track_removed', trackId: 't1' })]);
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([undefined, undefined]);
    expect((await a.cache.stats()).types.track_metadata.entries).toBe(1);
    await expectExactCounts(browser);
  });

  it('a clear leaves nothing of it', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.set('track_metadata', 'warm', 0);
    await Promise.all([a.cache.setMany('track_metadata', ofTrack(20)), a.cache.clear('track_metadata')]);
    expect(await a.cache.getMany('track_metadata', ['warm', 'k0', 'k19'])).toEqual([undefined, undefined, undefined]);
    await expectExactCounts(browser);
  });

  it('a clear, the import\'s commit landing but its answer lost with its connection (an abort heard instead): it resolves all the same, and leaves nothing of it', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await a.cache.set('track_metadata', 'warm', 0);
    const proto = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, value: unknown, key?: IDBValidKey): IDBRequest };
    const original = proto.put;
    let fired = false;
    // The import's commit mark as a clear rolled it back: it set nothing.
    proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const { key: at, written } = (value ?? {}) as { key?: unknown; written?: unknown[] };
      if (!fired && Array.isArray(at) && at[0] === 'commit' && written?.length === 0) {
        fired = true;
        const tx = this.transaction;
        const { onabort } = tx;
        tx.oncomplete = () => onabort!.call(tx, new FakeEvent('abort'));
      }
      return original.call(this, value, key);
    };
    faults.push(Object.assign(() => void (proto.put = original), { fired: () => fired }));
    await Promise.all([a.cache.setMany('track_metadata', ofTrack(20)), a.cache.clear('track_metadata')]);
    expect(fired).toBe(true);
    expect(await a.cache.getMany('track_metadata', ['warm', 'k0', 'k19'])).toEqual([undefined, undefined, undefined]);
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it('waiting for an earlier import of its type in its tab: an event of its track made meanwhile removes its entries, not the earlier one\'s of other tracks', async () => {
    const browser = browserOf();
    const a = await browser.open();
    await Promise.all([
      a.cache.setMany('track_metadata', entries(100, 'first', 1000)),
      a.cache.setMany('track_metadata', ofTrack(20)),
      a.cache.emit({ eventType: 'track_removed', trackId: 't1' }),
    ]);
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19', 'k1000', 'k1001'])).toEqual([undefined, undefined, 'first1000', undefined]);
    await expectExactCounts(browser);
  });

  it('waiting for another tab\'s import of the type: an event of its track made meanwhile removes its entries', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    let steps = 0;
    let during: Promise<unknown> | undefined;
    await b.cache.setMany('track_metadata', entries(100, 'b', 1000), {
      onProgress: () => {
        if (++steps !== 3) return;
        // Tab A's import waits for B's to end; A's event, made after it, goes through at once.
        during = Promise.all([a.cache.setMany('track_metadata', ofTrack(20)), a.cache.emit({ eventType: 'track_removed', trackId: 't1' })]);
      },
    });
    await during;
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([undefined, undefined]);
    await expectExactCounts(browser);
  });
});

describe('an import of a tab whose rules spare its entries, then an event of another deploy whose rules remove them, made before it began', () => {
  const ofTrack = (count: number) => entries(count, 'a').map((entry) => ({ ...entry, trackId: 't1' }));

  it('waiting for another tab\'s import of the type: the event removes its entries, as it would have made during it', async () => {
    const browser = browserOf();
    // Tab A's deploy keeps track_metadata for its TTL alone; tab C's (and B's) removes a changed track's.
    const a = await browser.open({ caching: { policies: { track_metadata: { invalidationStrategy: 'time_based' } } } });
    const b = await browser.open();
    const c = await browser.open();
    let steps = 0;
    let imported: Promise<unknown> | undefined;
    let emitted: Promise<unknown> | undefined;
    await b.cache.setMany('track_metadata', entries(100, 'b', 1000), {
      onProgress: () => {
        // Tab A's import reaches its engine and waits for B's to end; C's event, made after it, goes through at once.
        if (++steps === 3) imported = a.cache.setMany('track_metadata', ofTrack(20));
        if (steps === 6) emitted = c.cache.emit({ eventType: 'track_modified', trackId: 't1' });
      },
    });
    await Promise.all([imported, emitted]);
    expect(await c.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([undefined, undefined]);
    await expectExactCounts(browser);
  });
});

describe('an import waiting for an earlier one of its type in its tab as the database is deleted under the tabs (cleared site data), then an event of its track', () => {
  it('it rejects and writes nothing, since its place in the deleted database\'s log says nothing of the changes made in the new one (an event of its track, made before it began)', async () => {
    const browser = browserOf();
    const a = await browser.open();
    // The log of the database deleted is ahead of the new one's: its place there says nothing of the new one.
    for (let index = 0; index < 5; index++) await a.cache.emit({ eventType: 'track_added', trackId: `x${index}` });
    let steps = 0;
    let emitted: Promise<unknown> | undefined;
    const first = a.cache.setMany('track_metadata', entries(100, 'first', 1000), {
      onProgress: () => {
        if (++steps !== 3) return;
        const deletion = browser.inner.deleteDatabase(browser.name);
        emitted = new Promise((resolve) => (deletion.onsuccess = resolve)).then(() => a.cache.emit({ eventType: 'track_removed', trackId: 't1' }));
      },
    });
    const second = a.cache.setMany('track_metadata', entries(20, 'a').map((entry) => ({ ...entry, trackId: 't1' })));
    // The first one's steps go on in the database deleted: it is rolled back (storage_unavailable).
    await Promise.allSettled([first, second]);
    await emitted;
    // As an import already under way when the database goes, and as a guarded write's entries are left out.
    await expect(second).rejects.toMatchObject({ code: 'storage_unavailable' });
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([undefined, undefined]);
    await expectExactCounts(browser);
  });
});

describe('an import waiting for another tab\'s import of its type while the event log is trimmed past where it reached the engine', () => {
  it('an event of its track made meanwhile, then trimmed from the log (a thousand events after it, a day old): it rejects and writes nothing', async () => {
    const browser = browserOf({ locks: false });
    const c = await browser.open();
    // C's tab dies in the middle of its import: to the others, an import that writes nothing (dead, or alive but slow).
    let steps = 0;
    await c.cache.setMany('track_metadata', entries(100, 'c', 1000), { onProgress: () => void (++steps === 3 && c.kill()) }).catch(() => {});
    // A looks again at C's import when this test lets it.
    const looks: (() => void)[] = [];
    const a = await browser.open({}, undefined, (run, ms) => void (ms === 250 ? looks.push(run) : setTimeout(run, ms / 100)));
    // B's upkeep (which trims the log) runs when this test lets it, by a clock it moves on.
    let ahead = 0;
    const runs: (() => void)[] = [];
    const b = await browser.open({ caching: { cleanupIntervalSeconds: 2 } }, undefined, (run, ms) => void (ms === 2000 ? runs.push(run) : setTimeout(run, ms / 100)), () => Date.now() + ahead);
    const importing = a.cache.setMany('track_metadata', entries(20, 'a').map((entry) => ({ ...entry, trackId: 't1' })));
    await vi.waitFor(() => expect(looks.length).toBeGreaterThan(0));
    await b.cache.emit({ eventType: 'track_removed', trackId: 't1' });
    for (let index = 0; index < 1000; index++) await b.cache.emit({ eventType: 'track_added', trackId: `x${index}` });
    // Two days later (a machine asleep), B's upkeep trims the log to its newest thousand, and rolls C's import back.
    ahead = 2 * 24 * 60 * 60 * 1000;
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    runs.shift()!();
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    looks.splice(0).forEach((look) => look());
    // What was logged since it was made is not known: it writes nothing (a resolved setMany happened).
    await expect(importing).rejects.toMatchObject({ code: 'storage_unavailable' });
    expect(await a.cache.getMany('track_metadata', ['k0', 'k19'])).toEqual([undefined, undefined]);
    await expectExactCounts(browser);
  }, 30_000);
});

describe('an import where Web Locks refuse every request', () => {
  it('in-process, in a detached iframe: a setMany of more than a thousand entries lands whole, as where there are no Web Locks', async () => {
    const locks = refusingLocks();
    vi.stubGlobal('navigator', { locks });
    try {
      const logger = { error: vi.fn() };
      const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), name: `imports-${Date.now()}-${++names}`, logger });
      closers.push(() => cache.close());
      const many = Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index }));
      await cache.setMany('track_metadata', many);
      expect(await cache.getMany('track_metadata', ['k0', 'k1499'])).toEqual([0, 1499]);
      expect((await cache.stats()).types.track_metadata.entries).toBe(1500);
      // They were there, and asked.
      expect(locks.request.mock.calls.length + locks.query.mock.calls.length).toBeGreaterThan(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('is not taken for dead by a tab whose Web Locks work: that tab\'s import of the type waits for it, and both land whole', async () => {
    const browser = browserOf();
    const a = await browser.open({}, 'refused');
    const b = await browser.open();
    let started: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', entries(100, 'a'), {
      onProgress: () => void (started ??= b.cache.setMany('track_metadata', entries(30, 'b', 100))),
    });
    await started;
    expect(await a.cache.getMany('track_metadata', ['k0', 'k99', 'k129'])).toEqual(['a0', 'a99', 'b129']);
    await expectExactCounts(browser);
  });
});

describe('an import judged by its steps (its tab has no Web Locks)', () => {
  it('that writes a step again as another tab, which found it silent, asks the browser which locks are held is not rolled back by that tab: both land whole', async () => {
    const inner = new IDBFactory();
    const name = `imports-${Date.now()}-${++names}`;
    const registry = fakeLocks();
    // Tab A's Web Locks refuse (a detached iframe): other tabs judge its imports by their steps. Its
    // connection is lost mid-import, and the reopen waits (a slow backing store) while `stall` is pending.
    const tabA = tabFactory(inner);
    let stall: Promise<void> | undefined;
    let release = () => {};
    const factoryA: IDBFactory = {
      ...tabA.factory,
      open(dbName: string, version?: number) {
        const request = tabA.factory.open(dbName, version);
        const held = stall;
        let replayed = false;
        if (held) {
          request.addEventListener('success', (event) => {
            if (replayed) return;
            event.stopImmediatePropagation();
            void held.then(() => ((replayed = true), request.dispatchEvent(new FakeEvent('success'))));
          });
        }
        return request;
      },
    };
    const a = await engineTab({ name, indexedDB: factoryA, engine: { importChunk: CHUNK, locks: refusingLocks() as unknown as LockManager, schedule: (run, ms) => void setTimeout(run, ms) } });
    closers.push(() => a.cache.close());
    // Tab B has Web Locks: its 41st look at A's import (the 40th that sees no new step) asks which locks are
    // held, and A writes its next step before the browser answers.
    const agentB = registry.agent();
    let looks = 0;
    let onLook: (() => Promise<void>) | undefined;
    const locksB = {
      request: (...args: unknown[]) => (agentB.locks.request as (...args: unknown[]) => Promise<unknown>)(...args),
      query: async () => {
        if (onLook && ++looks === 41) await onLook();
        return agentB.locks.query();
      },
    } as unknown as LockManager;
    const b = await engineTab({ name, indexedDB: tabFactory(inner).factory, engine: { importChunk: CHUNK, locks: locksB, schedule: (run, ms) => void setTimeout(run, ms / 100) } });
    closers.push(() => b.cache.close());
    let steps = 0;
    let wroteAgain = () => {};
    const again = new Promise<void>((resolve) => (wroteAgain = resolve));
    let other: Promise<void> | undefined;
    const importing = a.cache.setMany('track_metadata', entries(100, 'a'), {
      onProgress: () => {
        if (++steps === 4) wroteAgain();
        if (steps !== 3) return;
        stall = new Promise((resolve) => (release = resolve));
        tabA.loseConnection();
        onLook = async () => {
          stall = undefined;
          release();
          await again;
        };
        other = b.cache.setMany('track_metadata', entries(30, 'b', 100));
      },
    });
    const settled = await Promise.allSettled([importing]);
    expect(settled[0]).toEqual({ status: 'fulfilled', value: undefined });
    await other;
    expect(looks).toBeGreaterThanOrEqual(41);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k99', 'k129'])).toEqual(['a0', 'a99', 'b129']);
    await expectExactCounts({ inner, name });
  });
});

describe('calls made during an import', () => {
  /** Runs an import of 100 entries in tab A, calling `during` (in tab B) once its fifth step is written. */
  type Tab = Awaited<ReturnType<ReturnType<typeof browserOf>['open']>>;

  async function importWith(during: (b: Tab) => Promise<void>, before?: (a: Tab, b: Tab) => void) {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    before?.(a, b);
    let steps = 0;
    let called: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        if (++steps === 5) called = during(b);
      },
    });
    await called;
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    const after = await expectExactCounts(browser);
    return { a, b, browser, after };
  }

  it('an event removes what it finds now, and at commit the import’s entries it finds, written before it or after it', async () => {
    let during: unknown[] = [];
    const { b } = await importWith(async (b) => {
      const report = await b.cache.emit({ eventType: 'track_removed', trackId: 't1' });
      // What reads saw of track t1 (10 of the 50 old entries) is gone at once.
      expect(report.invalidated.track_metadata).toBe(10);
      during = await b.cache.getMany('track_metadata', keys(100));
    });
    expect(during).toEqual(keys(100).map((_, index) => (index < 50 && index % 5 !== 1 ? `old${index}` : undefined)));
    // After the commit: the import's entries of track t1 (20 of them, half written after the event) are left out.
    expect(await b.cache.getMany('track_metadata', keys(100))).toEqual(keys(100).map((_, index) => (index % 5 === 1 ? undefined : `new${index}`)));
  });

  it('an event during it: watchers hear of the import, then of what the event removed from it; stats count those', async () => {
    const heard: { tab: string; kind: string; keys: number | null }[] = [];
    const { a, b } = await importWith(
      async (b) => {
        await b.cache.emit({ eventType: 'track_removed', trackId: 't1' });
      },
      (a, b) => {
        for (const [tab, cache] of [['a', a.cache], ['b', b.cache]] as const) {
          cache.watch('track_metadata', null, (change) => heard.push({ tab, kind: change.kind, keys: change.keys?.length ?? null }));
        }
      },
    );
    await expect.poll(() => heard.filter((change) => change.tab === 'b').at(-1)?.kind).toBe('invalidate');
    // In the importing tab, the import's 100 keys are set, then the 20 of track t1 invalidated (any key of the type).
    const mine = heard.filter((change) => change.tab === 'a');
    expect(mine.slice(-2)).toEqual([
      { tab: 'a', kind: 'set', keys: 100 },
      { tab: 'a', kind: 'invalidate', keys: null },
    ]);
    // The importing tab counts the 20 it removed at commit; the emitting tab the 10 it removed at once.
    expect((await a.cache.stats()).types.track_metadata.invalidations).toBe(20);
    expect((await b.cache.stats()).types.track_metadata.invalidations).toBe(10);
  });

  it.each([
    ['an invalidation of every entry', (b: Tab) => b.cache.emit({ eventType: 'manual_invalidation' })],
    ['a change of a track', (b: Tab) => b.cache.emit({ eventType: 'track_removed', trackId: 't1' })],
  ])('%s during it: stats count as invalidated, in the importing tab, the import\'s entries it removed at commit; the emitting tab what reads saw', async (_, emit) => {
    const { a, b, after } = await importWith(async (b) => void (await emit(b)));
    const gone = 100 - after.counted[0]!;
    const [importing, emitting] = [await a.cache.stats(), await b.cache.stats()].map((stats) => stats.types.track_metadata.invalidations);
    // The emitting tab removed at once what reads saw of the 50 old entries (all of them, or the 10 of track t1).
    expect(emitting).toBe(gone === 100 ? 50 : 10);
    expect(importing).toBe(gone);
  });

  it('a clear removes everything reads see, and the import then commits nothing (it resolves: it was cleared)', async () => {
    let during: unknown[] = [];
    const { b, after } = await importWith(async (b) => {
      await b.cache.clear('track_metadata');
      during = await b.cache.getMany('track_metadata', keys(100));
    });
    expect(during.every((value) => value === undefined)).toBe(true);
    expect(await b.cache.getMany('track_metadata', keys(100))).toEqual(keys(100).map(() => undefined));
    expect(after.counted).toEqual([0, 0]);
  });

  it('a clear during it: the watchers of every tab hear the clear last, not a set of what the import did not commit', async () => {
    const heard: { tab: string; kind: string }[] = [];
    await importWith(
      async (b) => {
        await b.cache.clear('track_metadata');
      },
      (a, b) => {
        for (const [tab, cache] of [['a', a.cache], ['b', b.cache]] as const) cache.watch('track_metadata', 'k0', (change) => void heard.push({ tab, kind: change.kind }));
      },
    );
    // Let the other tab's messages arrive: the clear, and a set that would come after it.
    await vi.waitFor(() => expect(new Set(heard.filter((change) => change.kind === 'clear').map((change) => change.tab))).toEqual(new Set(['a', 'b'])));
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const tab of ['a', 'b']) expect(heard.filter((change) => change.tab === tab).at(-1)?.kind, `tab ${tab}: ${JSON.stringify(heard)}`).toBe('clear');
  });

  it('library_sync removes and reports what reads saw, not the import\'s entries (they land after it)', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('album_year', entries(20, 'old', 1000));
    let steps = 0;
    let during: Promise<[string[], number | undefined]> | undefined;
    await a.cache.setMany('album_year', entries(100, 'new'), {
      onProgress: () => {
        if (++steps !== 5) return;
        during = (async () => {
          const seen = await b.cache.keys('album_year');
          return [seen, (await b.cache.emit({ eventType: 'library_sync' })).invalidated.album_year];
        })();
      },
    });
    const [seen, reported] = await during!;
    expect(seen).toHaveLength(20);
    expect(reported).toBe(20);
  });

  it('a second library_sync during it reports and tells what it removed, also after the first emptied the type', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('album_year', entries(20, 'old', 1000));
    const heard: (string[] | null)[] = [];
    b.cache.watch('album_year', 'x1', (change) => void heard.push(change.keys));
    let steps = 0;
    let during: Promise<(number | undefined)[]> | undefined;
    await a.cache.setMany('album_year', entries(100, 'new'), {
      onProgress: () => {
        if (++steps !== 3) return;
        during = (async () => {
          const first = (await b.cache.emit({ eventType: 'library_sync' })).invalidated.album_year;
          await b.cache.setMany('album_year', [{ key: 'x1', value: 1 }, { key: 'x2', value: 2 }]);
          expect(await b.cache.keys('album_year')).toEqual(['x1', 'x2']);
          const second = (await b.cache.emit({ eventType: 'library_sync' })).invalidated.album_year;
          return [first, second];
        })();
      },
    });
    expect(await during).toEqual([20, 2]);
    // Both syncs remove "any key" of the type: x1's watcher hears each, and its set between them.
    await expect.poll(() => heard).toEqual([null, ['x1', 'x2'], null]);
    expect(await b.cache.keys('album_year')).toEqual([]);
  });

  it('library_sync after a write of a key the import created reports and tells that it removed the written entry', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    const heard: (string[] | null)[] = [];
    b.cache.watch('album_year', 'k5', (change) => void heard.push(change.keys));
    let steps = 0;
    let during: Promise<[unknown, number | undefined]> | undefined;
    await a.cache.setMany('album_year', entries(100, 'new'), {
      onProgress: () => {
        if (++steps !== 3) return;
        during = (async () => {
          // k5 is the import's (pending, where there was nothing): this write goes under it, and reads see it.
          await b.cache.set('album_year', 'k5', 'written');
          const seen = await b.cache.get('album_year', 'k5');
          return [seen, (await b.cache.emit({ eventType: 'library_sync' })).invalidated.album_year];
        })();
      },
    });
    expect(await during).toEqual(['written', 1]);
    await expect.poll(() => heard).toEqual([['k5'], null]);
  });

  it('an invalidation of every entry, after a delete and an event removed entries the import replaces, reports and counts what reads saw', async () => {
    let during: unknown;
    const { b } = await importWith(async (b) => {
      // k2 and the 10 old entries of track t1 are what reads see of keys the import writes: they go now.
      expect(await b.cache.deleteMany('track_metadata', ['k2'])).toBe(1);
      expect((await b.cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated.track_metadata).toBe(10);
      const seen = (await b.cache.keys('track_metadata')).length;
      during = [seen, (await b.cache.emit({ eventType: 'manual_invalidation' })).invalidated.track_metadata];
    });
    expect(during).toEqual([39, 39]);
    expect((await b.cache.stats()).types.track_metadata.invalidations).toBe(49);
  });

  it('an event that removes more of the import than one step writes: its commit is one transaction, so no read sees part of it', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', keys(30).map((key) => ({ key, value: `old ${key}`, trackId: 'x' })));
    const before = keys(30).map((key) => `old ${key}`);
    const after = keys(30).map(() => undefined);
    let steps = 0;
    const snapshots: unknown[][] = [];
    let reading: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', keys(30).map((key) => ({ key, value: `new ${key}`, trackId: 't' })), {
      onProgress: () => {
        if (++steps > 1) return;
        reading = (async () => {
          // The event removes all 30 at commit (three steps' worth); reads run all along until that shows.
          await b.cache.emit({ eventType: 'track_removed', trackId: 't' });
          for (let read = 0; read < 1000 && snapshots.at(-1)?.some((value) => value !== undefined) !== false; read++) {
            snapshots.push(await b.cache.getMany('track_metadata', keys(30)));
          }
        })();
      },
    });
    await reading;
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    for (const snapshot of snapshots) expect([before, after]).toContainEqual(snapshot);
    expect(await b.cache.getMany('track_metadata', keys(30))).toEqual(after);
  });

  it('an event whose two targets both find an imported entry removes the entry reads see (its prior) once, counted and told by key', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    const album = { artist: 'Joni', album: 'Blue' };
    // k0's entry reads see during the import: of another track, on the same album.
    await a.cache.set('successful_api_metadata', 'k0', 'old', { trackId: 'tX', album });
    const heard: (string[] | null)[] = [];
    b.cache.watch('successful_api_metadata', 'k0', (change) => void (change.kind === 'invalidate' && heard.push(change.keys)));
    let steps = 0;
    let called: Promise<void> | undefined;
    let report: EmitReport | undefined;
    let during: unknown = 'unread';
    await a.cache.setMany(
      'successful_api_metadata',
      Array.from({ length: 100 }, (_, index) => ({ key: `k${index}`, value: `new${index}`, trackId: 't1', album })),
      {
        onProgress: () => {
          if (++steps !== 5) return;
          called = (async () => {
            // Its track target finds k0 (the import's record, of t1) but not what reads see there; its album target finds both.
            report = await b.cache.emit({ eventType: 'track_modified', trackId: 't1', metadata: album });
            during = await b.cache.get('successful_api_metadata', 'k0');
          })();
        },
      },
    );
    await called;
    expect(report?.invalidated.successful_api_metadata).toBe(1);
    expect(during).toBeUndefined();
    await expect.poll(() => heard[0]).toEqual(['k0']);
  });

  it('an event of the track of entries the import re-tags (a key of track t1 imported as t2’s) removes what reads see there, counted and told by key, in every tab', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const heard: (string[] | null)[] = [];
    for (const cache of [a.cache, b.cache]) cache.watch('track_metadata', 'k1', (change) => void (change.kind === 'invalidate' && heard.push(change.keys)));
    let steps = 0;
    let called: Promise<void> | undefined;
    let report: EmitReport | undefined;
    let during: unknown[] = [];
    // Each key imported as the next track's: k1 (t1's) as t2's, k0 (t0's) as t1's.
    const retagged = keys(100).map((key, index) => ({ key, value: `new${index}`, trackId: `t${(index + 1) % 5}` }));
    await a.cache.setMany('track_metadata', retagged, {
      onProgress: () => {
        if (++steps !== 5) return;
        called = (async () => {
          report = await b.cache.emit({ eventType: 'track_removed', trackId: 't1' });
          during = await b.cache.getMany('track_metadata', keys(50));
        })();
      },
    });
    await called;
    // What reads saw of track t1 during the import: the ten old entries (k1, k6 … k46), all replaced by then.
    expect(during).toEqual(keys(50).map((_, index) => (index % 5 === 1 ? undefined : `old${index}`)));
    expect(report?.invalidated.track_metadata).toBe(10);
    expect((await b.cache.stats()).types.track_metadata.invalidations).toBe(10);
    // Told by key in both tabs (the importing one hears too, at its commit, that the import's entries of t1 went: any key).
    const told = ['k1', 'k11', 'k16', 'k21', 'k26', 'k31', 'k36', 'k41', 'k46', 'k6'];
    await expect.poll(() => heard.filter((keys) => keys !== null)).toEqual([told, told]);
    // After the commit: the import's entries of track t1 (k0, k5 … k95) are left out, as if the event came after it; k1 is t2's.
    expect(await b.cache.getMany('track_metadata', ['k0', 'k1', 'k5'])).toEqual([undefined, 'new1', undefined]);
    await expectExactCounts(browser);
  });

  it('an event of the track of a write another tab made during the import, of an imported key under other tags, removes it: counted and told by key, in every tab', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const heard: (string[] | null)[] = [];
    for (const cache of [a.cache, b.cache]) cache.watch('track_metadata', 'k3', (change) => void (change.kind === 'invalidate' && heard.push(change.keys)));
    let steps = 0;
    let called: Promise<void> | undefined;
    let report: EmitReport | undefined;
    let during: unknown;
    await a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        if (++steps !== 5) return;
        called = (async () => {
          // k3 is the import's already (of t3): written under it as track tx's, which the import's record is not.
          await b.cache.set('track_metadata', 'k3', 'written during', { trackId: 'tx' });
          report = await b.cache.emit({ eventType: 'track_removed', trackId: 'tx' });
          during = await b.cache.get('track_metadata', 'k3');
        })();
      },
    });
    await called;
    expect(during).toBeUndefined();
    expect(report?.invalidated.track_metadata).toBe(1);
    expect((await b.cache.stats()).types.track_metadata.invalidations).toBe(1);
    await expect.poll(() => heard.filter((keys) => keys !== null)).toEqual([['k3'], ['k3']]);
    // The import's entry of k3 (t3's) lands at its commit; the counts equal a recount.
    expect(await b.cache.get('track_metadata', 'k3')).toBe('new3');
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it('an import whose worker dies after another tab wrote an imported key under other tags: the rollback shows that write, and leaves no record of the import', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    let steps = 0;
    let written: Promise<void> | undefined;
    await a.cache
      .setMany('track_metadata', entries(100, 'new'), {
        onProgress: () => {
          if (++steps === 1) written = b.cache.set('track_metadata', 'k3', 'written during', { trackId: 'tx' });
          if (steps === 2) void written!.then(() => a.kill());
        },
      })
      .catch(() => {});
    await written;
    const c = await browser.open();
    expect(await c.cache.get('track_metadata', 'k3')).toBe('written during');
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    await expectExactCounts(browser);
  });

  it('a write of an imported key is read until the import commits, then the import’s entry', async () => {
    let during: unknown;
    const { b, after } = await importWith(async (b) => {
      await b.cache.set('track_metadata', 'k3', 'written during');
      await b.cache.set('track_metadata', 'k97', 'written during');
      during = await b.cache.getMany('track_metadata', ['k3', 'k97']);
    });
    expect(during).toEqual(['written during', 'written during']);
    expect(await b.cache.getMany('track_metadata', ['k3', 'k97'])).toEqual(['new3', 'new97']);
    expect(after.priors).toBe(0);
  });

  it('a write of a key the import created (its step replaced nothing), under the import’s tags or others: once it commits, no record keeps that write as a prior', async () => {
    const browser = browserOf();
    const a = await browser.open();
    const b = await browser.open();
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    let steps = 0;
    let called: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', entries(100, 'new'), {
      onProgress: () => {
        // Its seventh step created k60–k69: none of them replaced an entry.
        if (++steps !== 7) return;
        called = (async () => {
          await b.cache.set('track_metadata', 'k60', 'written during', { trackId: 'tx' });
          await b.cache.set('track_metadata', 'k61', 'written during', { trackId: 't1' });
        })();
      },
    });
    await called;
    expect(await b.cache.getMany('track_metadata', ['k60', 'k61'])).toEqual(['new60', 'new61']);
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    // Tidied as the import's other records are: what a write under it held goes (it is counted nowhere, yet takes room).
    expect((await expectExactCounts(browser)).priors).toBe(0);
  });

  it('a delete of an imported key removes what reads see; the import’s entry comes with its commit', async () => {
    let during: unknown;
    const { b } = await importWith(async (b) => {
      expect(await b.cache.deleteMany('track_metadata', ['k2', 'k60'])).toBe(1);
      during = await b.cache.getMany('track_metadata', ['k2', 'k60']);
    });
    expect(during).toEqual([undefined, undefined]);
    expect(await b.cache.getMany('track_metadata', ['k2', 'k60'])).toEqual(['new2', 'new60']);
  });
});

describe('an import and the type\'s budget', () => {
  // maxSizeMb 1/64: 16,384 bytes, low-water mark 13,107; values of about 270 bytes.
  const config = { caching: { policies: { track_metadata: { maxSizeMb: 1 / 64 } } } };
  const sized = (count: number, from = 0) => Array.from({ length: count }, (_, index) => ({ key: `k${from + index}`, value: `v${from + index}`.padEnd(100, '.') }));
  const within = async (tab: { cache: { stats(): Promise<{ types: Record<string, { bytes: number; maxBytes: number | null }> }> } }) => {
    const stats = (await tab.cache.stats()).types.track_metadata!;
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes!);
  };

  /** Makes the transaction that commits the next import (it deletes the batch record) abort at commit; `delete` is only watched. */
  function failImportCommit(name: string): Fault {
    const committing = new WeakSet<IDBTransaction>();
    const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest };
    const original = proto.delete;
    proto.delete = function (this: IDBObjectStore, key: unknown) {
      if (Array.isArray(key) && key[0] === 'batch') committing.add(this.transaction);
      return original.call(this, key);
    };
    const fault = failCommit({ name, when: (tx) => committing.has(tx) });
    return Object.assign(() => {
      proto.delete = original;
      fault();
    }, { fired: fault.fired });
  }

  it('that fails at its commit never reported all of its entries done: its steps only, short of the end', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const fault = failImportCommit('UnknownError');
    faults.push(fault);
    const reported: [number, number][] = [];
    const error = await a.cache.setMany('track_metadata', sized(30), { onProgress: (done, total) => void reported.push([done, total]) }).catch((error: unknown) => error);
    expect(fault.fired()).toBe(true);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.filter(([done, total]) => done >= total)).toEqual([]);
  });

  it('that fails evicts nothing: the entries it would have made room for are all there, and no eviction is counted', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    const before = await a.cache.getMany('track_metadata', sized(40, 100).map((entry) => entry.key));
    const fault = failImportCommit('UnknownError');
    faults.push(fault);
    const error = await a.cache.setMany('track_metadata', sized(30)).catch((error: unknown) => error);
    expect(fault.fired()).toBe(true);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect(await a.cache.getMany('track_metadata', sized(40, 100).map((entry) => entry.key))).toEqual(before);
    expect((await a.cache.stats()).types.track_metadata).toMatchObject({ entries: 40, evictions: 0 });
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
  });

  it('that lands makes room once committed: the oldest other entries go, its own stay, and the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    await a.cache.setMany('track_metadata', sized(30));
    expect((await a.cache.getMany('track_metadata', keys(30))).every((value) => value !== undefined)).toBe(true);
    const stats = (await a.cache.stats()).types.track_metadata;
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.bytes).toBeLessThanOrEqual(13_108);
    await expectExactCounts(browser);
  });

  it('a write landing between its last step and its commit: once both resolve, the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    let written: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', sized(60), {
      onProgress: (done, total) => {
        // Its last step reports all but one entry: all of them is said once it has committed.
        if (done === total - 1) written ??= b.cache.set('track_metadata', 'other', 'x'.padEnd(1500, '.'));
      },
    });
    await written;
    await within(a);
    expect((await a.cache.getMany('track_metadata', keys(60))).every((value) => value !== undefined)).toBe(true);
    await expectExactCounts(browser);
  });

  it('a write made while it is pending, which the type cannot hold with it: once the write resolves, the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    // 60 of about 270 bytes: within the budget on its own. Its tab dies after 50, which stay pending.
    await a.cache.setMany('track_metadata', sized(60), { onProgress: (done) => void (done === 50 && a.kill()) }).catch(() => {});
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    await b.cache.set('track_metadata', 'other', 'x'.padEnd(3000, '.'));
    await within(b);
    expect(await b.cache.get('track_metadata', 'other')).toMatch(/^x/);
    await expectExactCounts(browser);
  });

  it('a write made while it is pending, which the type cannot hold with it, waits for it, but reads of the type made after that write in its tab go through meanwhile', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open(config);
    const b = await browser.open(config);
    // Its tab dies after 50 of its steps: without Web Locks, the write waits forty looks at its silence.
    await a.cache.setMany('track_metadata', sized(60), { onProgress: (done) => void (done === 50 && a.kill()) }).catch(() => {});
    let written = false;
    const write = b.cache.set('track_metadata', 'other', 'x'.padEnd(3000, '.')).then(() => void (written = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(written).toBe(false);
    // What the write wrote is there already: only the room it makes after the import is still to come.
    expect(await b.cache.has('track_metadata', 'other')).toBe(true);
    expect(written).toBe(false);
    await write;
    await within(b);
  });

  it('a write made while it is pending, which the type cannot hold with it, then a delete of its key: watchers hear the set, then the delete', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open(config);
    const b = await browser.open(config);
    const seen: string[] = [];
    b.cache.watch('track_metadata', 'other', ({ kind }) => void seen.push(kind));
    await a.cache.setMany('track_metadata', sized(60), { onProgress: (done) => void (done === 50 && a.kill()) }).catch(() => {});
    const write = b.cache.set('track_metadata', 'other', 'x'.padEnd(3000, '.'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await b.cache.delete('track_metadata', 'other');
    await write;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await b.cache.has('track_metadata', 'other')).toBe(false);
    expect(seen).toEqual(['set', 'delete']);
  });

  it('a big write made in another tab while it runs, which the type cannot hold with it: once the write resolves, the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    let made!: (call: { written: Promise<void> }) => void;
    const write = new Promise<{ written: Promise<void> }>((resolve) => (made = resolve));
    // After two of its six steps, the import's entries (about 5.4 kB) and the write's (12 kB) do not fit together.
    const imported = a.cache.setMany('track_metadata', sized(60), {
      onProgress: (done) => void (done === 20 && made({ written: b.cache.set('track_metadata', 'other', 'x'.padEnd(6000, '.')) })),
    });
    await (await write).written;
    await within(b);
    await imported;
    await within(a);
    expect((await a.cache.getMany('track_metadata', keys(60))).every((value) => value !== undefined)).toBe(true);
    await expectExactCounts(browser);
  });

  it('without Web Locks: a write made while it is pending, which the type cannot hold with it, looking again as the import commits: once both resolve, every entry of the import is there', async () => {
    const browser = browserOf({ locks: false });
    const a = await browser.open(config);
    // The write's looks at the import (every 250 ms) wait until the import's commit is under way, then go: the first finds it committed.
    const looks: (() => void)[] = [];
    let commit = false;
    const schedule: Schedule = (run, ms) => void (ms === 250 && !commit ? looks.push(run) : setTimeout(run, ms / 100));
    const b = await browser.open(config, undefined, schedule);
    atImportCommit(() => ((commit = true), looks.splice(0).forEach((run) => run())));
    // 45 of about 270 bytes (12 kB, below the mark); the write's 10 of about 1.1 kB, made after its third step, do not fit beside them (nor beside the 30 written by then).
    let written: Promise<void> | undefined;
    await a.cache.setMany('track_metadata', sized(45), {
      onProgress: (done) => void (done === 30 && (written ??= b.cache.setMany('track_metadata', Array.from({ length: 10 }, (_, index) => ({ key: `w${index}`, value: 'x'.padEnd(500, '.') }))))),
    });
    await written;
    expect(commit).toBe(true);
    const values = await a.cache.getMany('track_metadata', keys(45));
    expect(keys(45).filter((_, index) => values[index] === undefined)).toEqual([]);
    await within(a);
    await expectExactCounts(browser);
  });

  it('that fails after a write made under it (counted as the import\'s): rolled back, that write is read and the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    const fault = failImportCommit('UnknownError');
    faults.push(fault);
    let written: Promise<void> | undefined;
    const error = await a.cache
      .setMany('track_metadata', sized(30), {
        // k0 is the import's (pending): this write goes under it.
        onProgress: () => void (written ??= b.cache.set('track_metadata', 'k0', 'w'.padEnd(7500, '.'))),
      })
      .catch((error: unknown) => error);
    await written;
    expect(fault.fired()).toBe(true);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect(await b.cache.get('track_metadata', 'k0')).toMatch(/^w/);
    await within(b);
    await expectExactCounts(browser);
    // What made room is counted as evictions, though the call that made it rejected.
    const gone = (await a.cache.getMany('track_metadata', sized(40, 100).map((entry) => entry.key))).filter((value) => value === undefined).length;
    const evictions = (await a.cache.stats()).types.track_metadata.evictions + (await b.cache.stats()).types.track_metadata.evictions;
    expect(gone).toBeGreaterThan(0);
    expect(evictions).toBe(gone);
  });

  /**
   * An import of 50 in tab a, cleared by tab b during it, then written under by b (three writes of about 15 kB in
   * all, counted as the import's entries) before its commit, which rolls it back. `beforeCommit` runs once b has
   * written. Resolves with the tabs, the keys b wrote, and the kinds a's watchers were told of the type.
   */
  async function clearedThenWrittenUnder(beforeCommit: (aTab: ReturnType<typeof tabFactory>, a: Awaited<ReturnType<typeof engineTab>>) => void = () => {}, writes = 3) {
    const browser = browserOf();
    const b = await browser.open(config);
    let cleared: Promise<void> | undefined;
    // The importing tab's page answers the report of the import's last step once the other tab has written
    // (a page busy meanwhile): the import commits after that. Steps of two entries, so that the clear lands among them.
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    let lastStep!: () => void;
    const written = new Promise<void>((resolve) => (lastStep = resolve));
    const told: string[] = [];
    const aTab = tabFactory(browser.inner);
    const a = await engineTab({
      name: browser.name,
      indexedDB: aTab.factory,
      config,
      engine: {
        importChunk: 2,
        client: {
          remoteEvent: () => {},
          listening: () => {},
          log: () => {},
          changed: (changes) => void told.push(...changes.map((change) => change.kind)),
          progress: (_batch, done, total) => {
            if (done === 2) cleared = b.cache.clear('track_metadata');
            return done === total ? (lastStep(), answered) : undefined;
          },
        },
      },
    });
    closers.push(() => a.cache.close());
    const imported = a.cache.setMany('track_metadata', sized(50), { onProgress: () => {} });
    await written;
    await cleared;
    // The keys the import wrote since the clear (pending): writes of about 15 kB each go under them, counted as the import's entries.
    const db = await requestDone(browser.inner.open(browser.name));
    const records = (await requestDone(db.transaction('track_metadata').objectStore('track_metadata').getAll(IDBKeyRange.bound('', [], false, true)))) as EntryRecord[];
    db.close();
    const under = records.filter((record) => record.batch !== undefined).map((record) => record.key).slice(0, writes);
    expect(under.length).toBe(writes);
    for (const key of under) await b.cache.set('track_metadata', key, 'w'.padEnd(7500, '.'));
    beforeCommit(aTab, a);
    release();
    const outcome = await imported.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    return { browser, a, b, under, told, outcome };
  }

  it('cleared during it, then written under by another tab before its commit (which rolls it back): once it resolves, the type is within its budget', async () => {
    const { browser, a, b, under, told, outcome } = await clearedThenWrittenUnder();
    expect(outcome).toBe('resolved');
    await within(a);
    await within(b);
    await expectExactCounts(browser);
    // The clear rolled the import back: the three writes show again, as many as fit (the last), the others evicted, counted in the importing tab.
    expect((await b.cache.getMany('track_metadata', under)).map((value) => (value === undefined ? value : String(value).slice(0, 1)))).toEqual([undefined, undefined, 'w']);
    expect((await a.cache.stats()).types.track_metadata.evictions).toBe(2);
    expect(told.filter((kind) => kind === 'evict')).toEqual(['evict']);
  });

  it('cleared during it, then written under by another tab, rolled back at its commit: once it resolves, no record of the import (batch, key chunks, priors) is left, and the counts equal a recount', async () => {
    const { browser, b, under, outcome } = await clearedThenWrittenUnder();
    expect(outcome).toBe('resolved');
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect((await expectExactCounts(browser)).priors).toBe(0);
    expect((await b.cache.getMany('track_metadata', under)).filter((value) => value !== undefined)).toHaveLength(1);
  });

  /** Makes the `nth` transaction that makes room once an import is rolled back (it deletes entries, after the one that deleted the batch record) abort at commit with a full disk. */
  function failRoomAfterRollback(nth: number): Fault {
    const proto = IDBObjectStore.prototype as unknown as { delete(this: IDBObjectStore, key: unknown): IDBRequest };
    const original = proto.delete;
    let rolledBack = false;
    const room = new Set<IDBTransaction>();
    const making = new WeakSet<IDBTransaction>();
    proto.delete = function (this: IDBObjectStore, key: unknown) {
      if (Array.isArray(key) && key[0] === 'batch') rolledBack = true;
      // An entry's key, or a run of entries' keys (an eviction deletes such a run at once: see deleteKeys).
      else if (rolledBack && (typeof key === 'string' || (key instanceof IDBKeyRange && typeof key.lower === 'string')) && !room.has(this.transaction)) {
        room.add(this.transaction);
        if (room.size === nth) making.add(this.transaction);
      }
      return original.call(this, key);
    };
    const fault = failCommit({ name: 'QuotaExceededError', when: (tx) => making.has(tx) });
    const restore = Object.assign(
      () => {
        proto.delete = original;
        fault();
      },
      { fired: fault.fired },
    );
    faults.push(restore);
    return restore;
  }

  it('cleared during it, then written under by another tab, rolled back at its commit, whose room making meets a full disk: once it resolves, the type is within its budget, each entry gone counted and told once', async () => {
    let fault: Fault | undefined;
    const { a, b, under, told, outcome } = await clearedThenWrittenUnder(() => void (fault = failRoomAfterRollback(1)));
    expect([outcome, fault?.fired()]).toEqual(['resolved', true]);
    // Counted by a recount: deletes only on a full disk, the usage record among them (see IdbStore.free).
    await within(a);
    await within(b);
    const gone = (await b.cache.getMany('track_metadata', under)).filter((value) => value === undefined).length;
    expect(gone).toBe(2);
    expect((await a.cache.stats()).types.track_metadata.evictions).toBe(gone);
    expect(told.filter((kind) => kind === 'evict')).toEqual(['evict']);
  });

  it('cleared during it, then written under by another tab, rolled back at its commit, whose room making meets a full disk after a first step: what that step evicted is counted too', async () => {
    let fault: Fault | undefined;
    // Five writes of about 15 kB: room is made two entries at a time (an import step's worth), in two steps.
    const { a, b, under, told, outcome } = await clearedThenWrittenUnder(() => void (fault = failRoomAfterRollback(2)), 5);
    expect([outcome, fault?.fired()]).toEqual(['resolved', true]);
    // Counted by a recount: deletes only on a full disk, the usage record among them (see IdbStore.free).
    await within(a);
    await within(b);
    const gone = (await b.cache.getMany('track_metadata', under)).filter((value) => value === undefined).length;
    expect(gone).toBe(4);
    expect((await a.cache.stats()).types.track_metadata.evictions).toBe(gone);
    expect(told.filter((kind) => kind === 'evict')).toEqual(['evict']);
  });

  it('cleared during it, then written under by another tab, rolled back at its commit, whose worker dies once it is rolled back, before room is made: the next worker, asked whether it happened, brings the type within its budget', async () => {
    // The commit id its page gave it, from the mark its commit wrote; the worker dies once the rollback's last step (which deletes the batch record) has committed.
    const dying = dyingOnceBatchGoes();
    const { browser, b, under } = await clearedThenWrittenUnder((aTab, a) =>
      dying.arm(() => {
        aTab.kill();
        void a.engine.close();
      }),
    );
    // Its answer, whatever it is, dies with it: the page asks its next worker (see CacheClient).
    const commitId = dying.commitId();
    expect([dying.killed(), typeof commitId]).toEqual([true, 'string']);
    // The page's next worker, asked as a page asks when its worker died before answering (see CacheClient).
    const next = await engineTab({ name: browser.name, indexedDB: tabFactory(browser.inner).factory, config });
    closers.push(() => next.cache.close());
    expect(await next.engine.committed('track_metadata', commitId!, new Set(sized(50).map((entry) => entry.key)))).toBe(true);
    await within(next);
    await within(b);
    await expectExactCounts(browser);
    const gone = (await b.cache.getMany('track_metadata', under)).filter((value) => value === undefined).length;
    expect(gone).toBe(2);
    expect((await next.cache.stats()).types.track_metadata.evictions).toBe(gone);
  });

  it.each([
    ['removes them first, no live entry in their place', false],
    ['says it happened though reading which of its entries are expired fails (a request fails), and makes room as if none were', true],
  ])('of entries written already expired (ttlSeconds 0), past the budget, whose worker dies once it has committed, before room is made: the next worker, asked whether it happened, %s', async (_, readFails) => {
    const browser = browserOf();
    const config = { caching: { policies: { album_year: { maxSizeMb: 0.002 } } } };
    const a = await browser.open(config);
    const live = Array.from({ length: 8 }, (_, index) => `live${index}`);
    await a.cache.setMany('album_year', live.map((key) => ({ key, value: 'x'.repeat(20) })));
    // The import's commit deletes its batch record: its worker dies once that has committed.
    const dying = dyingOnceBatchGoes();
    dying.arm(() => a.kill());
    const dead = Array.from({ length: CHUNK + 2 }, (_, index) => `dead${index}`);
    await a.cache.setMany('album_year', dead.map((key) => ({ key, value: 'x'.repeat(20), ttlSeconds: 0 }))).catch(() => {});
    const commitId = dying.commitId();
    expect([dying.killed(), typeof commitId]).toEqual([true, 'string']);
    const next = await engineTab({ name: browser.name, indexedDB: tabFactory(browser.inner).factory, config });
    closers.push(() => next.cache.close());
    const failing = readFails && failRequest({ nth: 1, name: 'UnknownError', methods: ['index.getAllKeys'], stores: (store) => store === 'album_year', database: browser.name });
    if (failing) faults.push(failing);
    expect(await next.engine.committed('album_year', commitId!, new Set(dead))).toBe(true);
    if (failing) expect(failing.fired()).toBe(true);
    const stats = (await next.cache.stats()).types.album_year;
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes!);
    // Read or not, the expired entries go; only where reading them failed, live ones with them.
    if (!readFails) expect([await next.cache.keys('album_year'), stats.evictions]).toEqual([live, 0]);
  });

  it('that makes room once committed, during which another tab\'s event removes some of its entries: its tab\'s watchers hear the import\'s set, then the event', async () => {
    const browser = browserOf();
    // Steps of two entries: making room takes a dozen short transactions, during which the event is heard.
    const open = async () => {
      const opened = await engineTab({ name: browser.name, indexedDB: tabFactory(browser.inner).factory, config, engine: { importChunk: 2 } });
      closers.push(() => opened.cache.close());
      return opened;
    };
    const a = await open();
    const b = await open();
    // About 10.8 kB, below the mark; the import's 30 (about 8 kB) take the type above it: the 40 go, a couple at a time.
    await a.cache.setMany('track_metadata', sized(40, 100));
    const heard: string[] = [];
    a.cache.watch('track_metadata', 'k1', ({ kind }) => void heard.push(kind));
    let emitted: Promise<unknown> | undefined;
    // Once the import has committed (before its tab makes room), another tab removes track t1's entries, k1 among them.
    faults.push(atImportCommit((tx) => tx.addEventListener('complete', () => (emitted = b.cache.emit({ eventType: 'track_removed', trackId: 't1' })))));
    await a.cache.setMany('track_metadata', sized(30).map((entry, index) => ({ ...entry, trackId: `t${index % 5}` })));
    await emitted;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await a.cache.get('track_metadata', 'k1')).toBeUndefined();
    // The import committed before the event was made: the last change heard of k1 is the event's (room made is told of any key).
    expect(heard.filter((kind) => kind !== 'evict')).toEqual(['set', 'invalidate']);
  });

  it('that resolves while an import another tab began once it had committed is written: the type reads above its budget until that one commits and makes room, then within it, counts exact', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    // About 10.8 kB, below the mark; each import's 40 (about 10.8 kB) fit the budget on their own, not together.
    await a.cache.setMany('track_metadata', sized(40, 100));
    let other: Promise<void> | undefined;
    // Once the first import has committed (before its tab makes room), another tab begins its own: nothing of the type is pending then.
    faults.push(atImportCommit((tx) => tx.addEventListener('complete', () => (other = b.cache.setMany('track_metadata', sized(40, 200))))));
    await a.cache.setMany('track_metadata', sized(40));
    // Its room made of the other entries, the other import's, counted as they are written and not evictable before it commits, hold the rest.
    const { bytes, maxBytes } = (await a.cache.stats()).types.track_metadata;
    expect(bytes).toBeGreaterThan(maxBytes!);
    await other;
    await within(a);
    await within(b);
    // The later import's entries stay, and room is made of the earlier's.
    expect((await b.cache.getMany('track_metadata', sized(40, 200).map((entry) => entry.key))).every((value) => value !== undefined)).toBe(true);
    await expectExactCounts(browser);
  });

  it('whose worker dies between its commit and making room: the setMany resolves (it happened), and the type is within its budget', async () => {
    const indexedDB = new IDBFactory();
    const name = `imports-${Date.now()}-${++names}`;
    const { cache, workers } = await openRemoteCache({ name, indexedDB, config, engine: { importChunk: CHUNK } });
    closers.push(() => cache.close());
    // About 10.8 kB, below the mark; the import's 30 (about 8 kB) take the type above its whole budget until room is made.
    await cache.setMany('track_metadata', sized(40, 100));
    const killed = killAfterImportCommit(workers[0]!);
    await cache.setMany('track_metadata', sized(30));
    expect([killed.fired(), workers[0]!.dead]).toEqual([true, true]);
    expect((await cache.getMany('track_metadata', keys(30))).every((value) => value !== undefined)).toBe(true);
    await within({ cache });
  });

  it('whose worker dies between its commit and making room, after another tab wrote during it: the room is made of those entries, and every entry of the import is there', async () => {
    const indexedDB = new IDBFactory();
    const name = `imports-${Date.now()}-${++names}`;
    const { cache, workers } = await openRemoteCache({ name, indexedDB, config, engine: { importChunk: CHUNK } });
    closers.push(() => cache.close());
    const b = await engineTab({ name, indexedDB, config, engine: { importChunk: CHUNK } });
    closers.push(() => b.cache.close());
    const killed = killAfterImportCommit(workers[0]!);
    // 45 of about 270 bytes (12 kB, below the mark); another tab's 10 (2.7 kB), written while it is pending, are used after its entries.
    let progress = 0;
    let written: Promise<number> | undefined;
    await cache.setMany('track_metadata', sized(45), {
      onProgress: (done) => {
        progress = done;
        if (done === 10) written = b.cache.setMany('track_metadata', sized(10, 200)).then(() => progress);
      },
    });
    // The write landed before the import's last step, so before its commit.
    expect(await written).toBeLessThan(45);
    expect([killed.fired(), workers[0]!.dead]).toEqual([true, true]);
    expect((await cache.getMany('track_metadata', keys(45))).filter((value) => value === undefined)).toHaveLength(0);
    await within({ cache });
  });

  it('whose room-making after the commit meets a full disk, after another tab wrote during it: deletes only, of those entries, and every entry of the import is there', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    const fault = fullDiskAfterImportCommit(browser.name);
    let progress = 0;
    let written: Promise<number> | undefined;
    await a.cache.setMany('track_metadata', sized(45), {
      onProgress: (done) => {
        progress = done;
        if (done === 10) written = b.cache.setMany('track_metadata', sized(10, 200)).then(() => progress);
      },
    });
    expect(await written).toBeLessThan(45);
    expect(fault.fired()).toBe(true);
    expect((await a.cache.getMany('track_metadata', keys(45))).filter((value) => value === undefined)).toHaveLength(0);
    await within(a);
  });

  it('whose worker dies after a write made under it: the tab that rolls it back shows that write, and the type is within its budget', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    let steps = 0;
    let written: Promise<void> | undefined;
    await a.cache
      .setMany('track_metadata', sized(30), {
        onProgress: () => {
          steps++;
          // k0 is the import's (pending): this write goes under it, counted as the import's entry.
          if (steps === 1) written = b.cache.set('track_metadata', 'k0', 'w'.padEnd(7500, '.'));
          if (steps === 2) void written!.then(() => a.kill());
        },
      })
      .catch(() => {});
    await written;
    // The next tab to open rolls the dead import back.
    const c = await browser.open(config);
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect(await c.cache.get('track_metadata', 'k0')).toMatch(/^w/);
    await within(c);
    await expectExactCounts(browser);
  });

  it('whose worker dies between its commit and making room, after another tab\'s write it put above the budget: that write makes the room, and what its first step evicted is counted and told though its second meets a full disk', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    const b = await browser.open(config);
    const told: string[] = [];
    b.cache.watch('track_metadata', null, ({ kind, source }) => void (source === 'local' && told.push(kind)));
    killAfterImportCommit(a);
    // Room is made in steps of ten entries' worth (CHUNK): from about 18.2 kB, two steps to the mark; the second's commit meets a full disk.
    const fault = fullDiskAfterImportCommit(browser.name, 2);
    let written: Promise<void> | undefined;
    // 45 of about 270 bytes (12.2 kB); the other tab's 6 kB, written under the import's last steps, take the type above its budget.
    await a.cache
      .setMany('track_metadata', sized(45), { onProgress: (done) => void (done === 40 && (written ??= b.cache.set('track_metadata', 'other', 'x'.padEnd(3000, '.')))) })
      .catch(() => {});
    await written;
    expect(fault.fired()).toBe(true);
    await within(b);
    const gone = (await b.cache.getMany('track_metadata', keys(45))).filter((value) => value === undefined).length;
    expect(gone).toBeGreaterThan(0);
    expect([(await b.cache.stats()).types.track_metadata.evictions, told.filter((kind) => kind === 'evict')]).toEqual([gone, ['evict']]);
  });

  it('whose room-making after the commit meets a full disk still resolves within its budget (deletes only)', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    const fault = fullDiskAfterImportCommit(browser.name);
    await a.cache.setMany('track_metadata', sized(30));
    expect(fault.fired()).toBe(true);
    await within(a);
    expect((await a.cache.getMany('track_metadata', keys(30))).every((value) => value !== undefined)).toBe(true);
    expect((await a.cache.stats()).types.track_metadata.evictions).toBeGreaterThan(0);
  });

  it('whose room-making after the commit meets a full disk after a first step: what that step evicted is counted, and deletes only free what is still above the mark, no more', async () => {
    const browser = browserOf();
    const a = await browser.open(config);
    await a.cache.setMany('track_metadata', sized(40, 100));
    const each = (await a.cache.stats()).types.track_metadata.bytes / 40;
    // About 18.9 kB once it lands: room is made in steps of ten entries' worth (CHUNK), three to the mark; the second's commit meets a full disk.
    const fault = fullDiskAfterImportCommit(browser.name, 2);
    await a.cache.setMany('track_metadata', sized(30));
    expect(fault.fired()).toBe(true);
    expect((await a.cache.getMany('track_metadata', keys(30))).every((value) => value !== undefined)).toBe(true);
    const gone = (await a.cache.getMany('track_metadata', sized(40, 100).map((entry) => entry.key))).filter((value) => value === undefined).length;
    const { evictions, bytes } = (await a.cache.stats()).types.track_metadata;
    // Within the mark (13,107 bytes), which one entry fewer gone would not be.
    expect({ evictions, bytes: bytes <= 13_107, oneFewer: bytes + each > 13_107 }).toEqual({ evictions: gone, bytes: true, oneFewer: true });
  });
});

describe('writes another tab makes under an import, held before its commit (R148)', () => {
  type Tab = Awaited<ReturnType<ReturnType<typeof browserOf>['open']>>;

  /** The key chunks of the type's imports, read without Reprise (see KeyChunk). */
  async function keyChunks(browser: { inner: IDBFactory; name: string }) {
    const db = await requestDone(browser.inner.open(browser.name));
    try {
      return (await requestDone(db.transaction('track_metadata').objectStore('track_metadata').getAll(IDBKeyRange.bound(['batchkeys'], ['batchkeys', []])))) as { key: [string, number, number]; keys: string[]; priors: number; retagged?: string[] }[];
    } finally {
      db.close();
    }
  }

  /** Whether a record is a key chunk a write under an import put (named by its key; numbered below zero by earlier versions), not a step's. */
  const isUnderChunk = (value: unknown) => {
    const key = (value as { key?: unknown } | null)?.key;
    return Array.isArray(key) && key[0] === 'batchkeys' && (typeof key[2] === 'string' || (key[2] as number) < 0);
  };

  /**
   * Tab a imports entries(100, 'new') (of tracks t0–t4) over entries(50, 'old') in steps of ten, and waits before its commit
   * (its page answers the report of its last step late) while `during` runs: every record of the import is written, pending.
   * Resolves once the import has settled (committed or rolled back) and its tab left no import record behind.
   */
  async function heldImport(during: (b: Tab, a: Tab, browser: ReturnType<typeof browserOf>) => Promise<void>, options: { config?: CacheConfig; outcome?: 'resolved' | 'rejected' } = {}) {
    const browser = browserOf();
    let lastStep!: () => void;
    const stepped = new Promise<void>((resolve) => (lastStep = resolve));
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const a: Tab = await browser.open(options.config, undefined, undefined, undefined, {
      client: {
        remoteEvent: () => {},
        listening: () => {},
        log: () => {},
        changed: () => {},
        progress: (_batch, done, total) => (done === total ? (lastStep(), answered) : undefined),
      },
    });
    const b = await browser.open(options.config);
    await a.cache.setMany('track_metadata', entries(50, 'old'));
    const imported = a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => {} }).then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    );
    await stepped;
    await during(b, a, browser);
    release();
    expect(await imported).toBe(options.outcome ?? 'resolved');
    return { a, b, browser };
  }

  /** Once the import has settled: no import record, key chunk or prior is left, and the usage record equals a recount. */
  async function expectSettled(browser: { inner: IDBFactory; name: string }) {
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect((await expectExactCounts(browser)).priors).toBe(0);
  }

  it('a key written twenty times as another track\'s is listed once: an event of that track reads its record once, removes it, counted once', async () => {
    let chunks: Awaited<ReturnType<typeof keyChunks>> = [];
    let read = 0;
    let report: EmitReport | undefined;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      for (let time = 0; time < 20; time++) await b.cache.set('track_metadata', 'k3', `written ${time}`, { trackId: 'tx' });
      chunks = (await keyChunks(browser)).filter(isUnderChunk);
      read = await countRecordsRead(browser.name, async () => (report = await b.cache.emit({ eventType: 'track_removed', trackId: 'tx' })));
      expect(await b.cache.get('track_metadata', 'k3')).toBeUndefined();
    });
    expect(read).toBe(1);
    expect(report?.invalidated.track_metadata).toBe(1);
    expect(chunks.map((chunk) => chunk.keys)).toEqual([['k3']]);
    expect(await b.cache.get('track_metadata', 'k3')).toBe('new3');
    await expectSettled(browser);
  });

  it('a key the import created, written twenty times under its tags, is listed once, and tidied once it commits', async () => {
    let chunks: Awaited<ReturnType<typeof keyChunks>> = [];
    let during: unknown;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      for (let time = 0; time < 20; time++) await b.cache.set('track_metadata', 'k60', `written ${time}`, { trackId: 't0' });
      chunks = (await keyChunks(browser)).filter(isUnderChunk);
      during = await b.cache.get('track_metadata', 'k60');
    });
    expect(during).toBe('written 19');
    expect(chunks.map((chunk) => chunk.keys)).toEqual([['k60']]);
    expect(await b.cache.get('track_metadata', 'k60')).toBe('new60');
    await expectSettled(browser);
  });

  it('a write then a delete of keys it replaced and created: nothing read until it commits, then its entries; rolled back instead (its worker dead), nothing of it nor of the write', async () => {
    let during: unknown;
    const { b, browser } = await heldImport(async (b) => {
      await b.cache.setMany('track_metadata', [
        { key: 'k3', value: 'written', trackId: 'tx' },
        { key: 'k60', value: 'written', trackId: 'tx' },
        { key: 'k61', value: 'written' },
      ]);
      expect(await b.cache.deleteMany('track_metadata', ['k3', 'k60', 'k61'])).toBe(3);
      during = await b.cache.getMany('track_metadata', ['k3', 'k60', 'k61']);
    });
    expect(during).toEqual([undefined, undefined, undefined]);
    expect(await b.cache.getMany('track_metadata', ['k3', 'k60', 'k61'])).toEqual(['new3', 'new60', 'new61']);
    await expectSettled(browser);

    let c: Tab | undefined;
    const rolledBack = await heldImport(
      async (b, a, browser) => {
        await b.cache.setMany('track_metadata', [
          { key: 'k3', value: 'written', trackId: 'tx' },
          { key: 'k60', value: 'written', trackId: 'tx' },
          { key: 'k61', value: 'written' },
        ]);
        expect(await b.cache.deleteMany('track_metadata', ['k3', 'k60', 'k61'])).toBe(3);
        a.kill();
        c = await browser.open();
      },
      { outcome: 'rejected' },
    );
    expect(await c!.cache.getMany('track_metadata', ['k3', 'k4', 'k60', 'k61'])).toEqual([undefined, 'old4', undefined, undefined]);
    expect((await c!.cache.stats()).types.track_metadata.entries).toBe(49);
    await expectSettled(rolledBack.browser);
  });

  it('a write made as the importing worker dies (before the write commits): the next tab rolls the import back and shows the write', async () => {
    let c: Tab | undefined;
    const { browser } = await heldImport(
      async (b, a, browser) => {
        // The importing tab dies once the write has put its key chunk, before the write commits.
        const proto = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, value: unknown, key?: unknown): IDBRequest };
        const { put } = proto;
        let killed = false;
        faults.push(Object.assign(() => void (proto.put = put), { fired: () => killed }));
        proto.put = function (this: IDBObjectStore, value: unknown, key?: unknown) {
          if (!killed && isUnderChunk(value)) {
            killed = true;
            a.kill();
          }
          return key === undefined ? put.call(this, value) : put.call(this, value, key);
        };
        await b.cache.setMany('track_metadata', [
          { key: 'k3', value: 'written', trackId: 'tx' },
          { key: 'k60', value: 'written' },
        ]);
        expect(killed).toBe(true);
        c = await browser.open();
      },
      { outcome: 'rejected' },
    );
    expect(await c!.cache.getMany('track_metadata', ['k3', 'k4', 'k60', 'k61'])).toEqual(['written', 'old4', 'written', undefined]);
    expect((await c!.cache.stats()).types.track_metadata.entries).toBe(51);
    await expectSettled(browser);
  });

  it('a write whose own worker dies before it commits leaves nothing of it: the import then lands whole', async () => {
    const { browser, b: left } = await heldImport(async (_b, _a, browser) => {
      const writer = await browser.open();
      const proto = IDBObjectStore.prototype as unknown as { put(this: IDBObjectStore, value: unknown, key?: unknown): IDBRequest };
      const { put } = proto;
      let killed = false;
      faults.push(Object.assign(() => void (proto.put = put), { fired: () => killed }));
      proto.put = function (this: IDBObjectStore, value: unknown, key?: unknown) {
        const request = key === undefined ? put.call(this, value) : put.call(this, value, key);
        if (!killed && isUnderChunk(value)) {
          killed = true;
          writer.kill();
        }
        return request;
      };
      await writer.cache.setMany('track_metadata', [{ key: 'k3', value: 'written', trackId: 'tx' }, { key: 'k60', value: 'written' }]).catch(() => {});
      expect(killed).toBe(true);
      expect(await keyChunks(browser)).toHaveLength(10);
    });
    expect(await left.cache.getMany('track_metadata', ['k3', 'k60'])).toEqual(['new3', 'new60']);
    await expectSettled(browser);
  });

  it('a write whose connection the browser closes after it read the pending imports, before it commits, is made once on a new one', async () => {
    let aborted = false;
    let during: unknown;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      const proto = IDBObjectStore.prototype as unknown as { getAll(this: IDBObjectStore, query?: unknown): IDBRequest };
      const { getAll } = proto;
      let closed = false;
      faults.push(Object.assign(() => void (proto.getAll = getAll), { fired: () => closed }));
      proto.getAll = function (this: IDBObjectStore, query?: unknown) {
        const request = getAll.call(this, query);
        // The batch records, read by the write (read-write) of tab b: the connection closes a task later, its requests made.
        if (!closed && this.transaction.mode === 'readwrite' && query instanceof IDBKeyRange && JSON.stringify(query.lower) === '["batch"]') {
          closed = true;
          this.transaction.addEventListener('abort', () => void (aborted = true));
          request.addEventListener('success', () => setImmediate(() => b.loseConnection()));
        }
        return request;
      };
      await b.cache.setMany('track_metadata', [{ key: 'k3', value: 'written', trackId: 'tx' }, { key: 'k60', value: 'written' }]);
      expect(closed).toBe(true);
      during = await b.cache.getMany('track_metadata', ['k3', 'k60']);
      expect((await keyChunks(browser)).filter(isUnderChunk).flatMap((chunk) => chunk.keys).sort()).toEqual(['k3', 'k60']);
    });
    expect(aborted).toBe(true);
    expect(during).toEqual(['written', 'written']);
    expect(await b.cache.getMany('track_metadata', ['k3', 'k60'])).toEqual(['new3', 'new60']);
    await expectSettled(browser);
  });

  it('a write whose key chunk a full disk refuses (its transaction aborts at commit), also once room is made, rejects and leaves nothing of it', async () => {
    let error: unknown;
    let during: unknown;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      const before = await raw(browser.inner, browser.name);
      // The first key chunk the write puts, in its first attempt and in the one made once room is made.
      let named: string | undefined;
      const first = (value: unknown) => isUnderChunk(value) && JSON.stringify((value as { key: unknown }).key) === (named ??= JSON.stringify((value as { key: unknown }).key));
      // The second fault is not asked about the transaction the first aborts: it takes the next.
      faults.push(failCommit({ matching: first, database: browser.name }));
      faults.push(failCommit({ matching: first, database: browser.name }));
      error = await b.cache.setMany('track_metadata', [{ key: 'k3', value: 'written', trackId: 'tx' }, { key: 'k60', value: 'written' }]).catch((error: unknown) => error);
      during = await b.cache.getMany('track_metadata', ['k3', 'k60']);
      // The room made first frees with deletes only, the usage record among them (recounted when next needed): the records are as before.
      expect(await raw(browser.inner, browser.name)).toMatchObject({ counted: before.counted, importRecords: before.importRecords, priors: before.priors });
    });
    expect(isCacheError(error, 'quota_exceeded')).toBe(true);
    expect(during).toEqual(['old3', undefined]);
    expect(await b.cache.getMany('track_metadata', ['k3', 'k60'])).toEqual(['new3', 'new60']);
    await expectSettled(browser);
  });

  it('a write of a key both of two imports of one type write (the second waiting in a third tab): the second lands whole, and nothing of the first is left', async () => {
    let second: Promise<void> | undefined;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      const c = await browser.open();
      second = c.cache.setMany('track_metadata', entries(100, 'second'));
      await b.cache.setMany('track_metadata', [{ key: 'k3', value: 'written', trackId: 'tx' }, { key: 'k60', value: 'written', trackId: 'tx' }]);
    });
    await second;
    expect(await b.cache.getMany('track_metadata', ['k3', 'k60', 'k99'])).toEqual(['second3', 'second60', 'second99']);
    await expectSettled(browser);
  });

  it('of a database written by the previous code (a pending import with a key listed in a chunk numbered below zero, and no count of writes under it): a write under it lists its key without unlisting the other, and an event of their track removes both', async () => {
    let report: EmitReport | undefined;
    let during: unknown;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      // As 5af694d's writeUnderImports left k3 written as track tx's: its record's prior, a chunk [-1] listing it, the batch's count of keys listed.
      const db = await requestDone(browser.inner.open(browser.name));
      const tx = db.transaction('track_metadata', 'readwrite');
      const store = tx.objectStore('track_metadata');
      const [batch] = (await requestDone(store.getAll(IDBKeyRange.bound(['batch'], ['batch', []])))) as { key: [string, number]; targets: unknown[]; retagged?: number }[];
      const record = (await requestDone(store.get('k3'))) as EntryRecord;
      const prior = { ...record.prior!, value: 'written', trackIds: ['tx'], revision: (record.prior!.revision ?? 0) + 1 };
      store.put({ ...record, prior, priorAfter: batch!.targets.length });
      store.put({ key: ['batchkeys', batch!.key[1], -1], keys: [], priors: 0, retagged: ['k3'] });
      store.put({ ...batch!, retagged: (batch!.retagged ?? 0) + 1 });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
      expect(await b.cache.get('track_metadata', 'k3')).toBe('written');
      await b.cache.set('track_metadata', 'k4', 'written', { trackId: 'tx' });
      report = await b.cache.emit({ eventType: 'track_removed', trackId: 'tx' });
      during = await b.cache.getMany('track_metadata', ['k3', 'k4']);
    });
    expect(during).toEqual([undefined, undefined]);
    expect(report?.invalidated.track_metadata).toBe(2);
    expect(await b.cache.getMany('track_metadata', ['k3', 'k4'])).toEqual(['new3', 'new4']);
    await expectSettled(browser);
  });

  it('of a database 0.2 left as its commit went over several transactions (its worker dead after the first, which removed the entries of an event made during it: applied 0): the next tab rolls it back, every entry as the event left it, the counts equal to a recount, nothing left', async () => {
    let c: Tab | undefined;
    const { browser } = await heldImport(
      async (b, a, browser) => {
        expect((await b.cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated.track_metadata).toBe(10);
        // As 2408c8b's #commitImport left it: the records of track t1 it found gone (their priors were what the event
        // removed), counted out of the usage, and the batch record still open, saying which target it was on.
        const db = await requestDone(browser.inner.open(browser.name));
        const tx = db.transaction('track_metadata', 'readwrite');
        const store = tx.objectStore('track_metadata');
        const [batch] = (await requestDone(store.getAll(IDBKeyRange.bound(['batch'], ['batch', []])))) as { key: [string, number] }[];
        const usage = (await requestDone(store.get(0))) as { entries: number; bytes: number };
        const found = (await requestDone(store.index('track').getAll('t1'))) as EntryRecord[];
        for (const record of found.filter((record) => record.batch === batch!.key[1]).slice(0, 15)) {
          store.delete(record.key);
          usage.entries--;
          usage.bytes -= record.bytes;
        }
        store.put(usage);
        store.put({ ...batch!, applied: 0 });
        await new Promise((resolve) => (tx.oncomplete = resolve));
        db.close();
        a.kill();
        c = await browser.open();
      },
      { outcome: 'rejected' },
    );
    expect(await c!.cache.getMany('track_metadata', keys(100))).toEqual(old.map((value, index) => (index % 5 === 1 ? undefined : value)));
    expect((await c!.cache.stats()).types.track_metadata.entries).toBe(40);
    await expectSettled(browser);
  });

  it('of a database the previous release (0.2 before key chunks of writes under an import) left with writes under a pending import, a key it created and one it re-tags, in no chunk: its worker dead, the next tab rolls it back and shows both writes, the counts equal to a recount, nothing left', async () => {
    let c: Tab | undefined;
    const { browser } = await heldImport(
      async (_b, a, browser) => {
        // As 14f898e's writeUnderImports left k60 (created by the import) and k3 (replaced) written as track tx's: each record's prior, no chunk.
        const db = await requestDone(browser.inner.open(browser.name));
        const tx = db.transaction('track_metadata', 'readwrite');
        const store = tx.objectStore('track_metadata');
        const [batch] = (await requestDone(store.getAll(IDBKeyRange.bound(['batch'], ['batch', []])))) as { key: [string, number]; targets: unknown[]; created: number }[];
        for (const key of ['k60', 'k3']) {
          const record = (await requestDone(store.get(key))) as EntryRecord;
          const { batch: _batch, prior: _prior, priorAfter: _after, ...plain } = record;
          const prior = { ...plain, value: 'written', bytes: record.bytes + 1, trackIds: ['tx'] };
          store.put({ ...record, prior, priorAfter: batch!.targets.length });
        }
        // The write counted its entry in place of the import's, then gave the import's back: the usage as the import left it.
        store.put({ ...batch!, created: batch!.created - 1 });
        await new Promise((resolve) => (tx.oncomplete = resolve));
        db.close();
        a.kill();
        c = await browser.open();
      },
      { outcome: 'rejected' },
    );
    expect(await c!.cache.getMany('track_metadata', ['k3', 'k4', 'k60', 'k61'])).toEqual(['written', 'old4', 'written', undefined]);
    expect((await c!.cache.stats()).types.track_metadata.entries).toBe(51);
    await expectSettled(browser);
    expect((await c!.cache.emit({ eventType: 'track_removed', trackId: 'tx' })).invalidated.track_metadata).toBe(2);
    await expectSettled(browser);
  });

  it('of a database the last version wrote (a key it created, written under it, listed in chunk [-1], counted by under): written again, and another with it, then committed: nothing of it is left', async () => {
    let during: unknown;
    const { b, browser } = await heldImport(async (b, _a, browser) => {
      // As 92ba51a's writeUnderImports left k60 written under the import: its record's prior, a chunk [-1] listing it, the batch's count of those.
      const db = await requestDone(browser.inner.open(browser.name));
      const tx = db.transaction('track_metadata', 'readwrite');
      const store = tx.objectStore('track_metadata');
      const [batch] = (await requestDone(store.getAll(IDBKeyRange.bound(['batch'], ['batch', []])))) as { key: [string, number]; targets: unknown[]; created: number }[];
      const record = (await requestDone(store.get('k60'))) as EntryRecord;
      const { batch: _batch, prior: _prior, priorAfter: _after, ...plain } = record;
      store.put({ ...record, prior: { ...plain, value: 'written' }, priorAfter: batch!.targets.length });
      store.put({ key: ['batchkeys', batch!.key[1], -1], keys: ['k60'], priors: 1 });
      store.put({ ...batch!, created: batch!.created - 1, under: 1 });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
      await b.cache.setMany('track_metadata', [{ key: 'k60', value: 'again', trackId: 'tx' }, { key: 'k61', value: 'written' }]);
      during = await b.cache.getMany('track_metadata', ['k60', 'k61']);
    });
    expect(during).toEqual(['again', 'written']);
    expect(await b.cache.getMany('track_metadata', ['k60', 'k61'])).toEqual(['new60', 'new61']);
    await expectSettled(browser);
  });
});

describe('the size of an import’s steps', () => {
  it('follows how long the last step took, halfway towards the target, within bounds', () => {
    expect(nextStepSize(500, IMPORT_STEP_MS)).toBe(500);
    expect(nextStepSize(500, IMPORT_STEP_MS * 4)).toBe(250);
    expect(nextStepSize(500, IMPORT_STEP_MS / 4)).toBe(1000);
    expect(nextStepSize(500, 100_000)).toBe(100);
    expect(nextStepSize(4000, 0)).toBe(5000);
  });
});

describe('a cleanup() in steps (of 7 here) made in another tab during an import of its type (R264)', () => {
  /** Two tabs on one clock the test moves (`clock.now`): `a` imports, `b` cleans up in steps of 7. */
  async function twoTabs(options?: { locks?: boolean }) {
    const browser = browserOf(options);
    const clock = { now: Date.now() };
    const a = await browser.open({}, undefined, undefined, () => clock.now);
    const b = await browser.open({}, undefined, undefined, () => clock.now, { requestChunk: 7 });
    return { browser, clock, a, b };
  }

  /** As twoTabs, with 30 entries an import replaces and 60 others that expired five seconds ago. */
  async function twoTabsOverExpired() {
    const tabs = await twoTabs();
    await tabs.b.cache.setMany('track_metadata', [...entries(30, 'old'), ...entries(60, 'other', 1000).map((entry) => ({ ...entry, ttlSeconds: 1 }))]);
    tabs.clock.now += 5000;
    return tabs;
  }

  it('without Web Locks, an import whose tab died a moment ago (pending, alive for all a tab can tell), whose entries expired before the others (a shorter TTL): the steps go past them and remove every other expired entry', async () => {
    const { browser, clock, a, b } = await twoTabs({ locks: false });
    await b.cache.setMany('track_metadata', entries(20, 'other', 1000).map((entry) => ({ ...entry, ttlSeconds: 3 })));
    let steps = 0;
    await a.cache.setMany('track_metadata', entries(100, 'new').map((entry) => ({ ...entry, ttlSeconds: 1 })), { onProgress: () => void (++steps === 3 && a.kill()) }).catch(() => {});
    // Five seconds on: the 20 have expired, and so have the 30 entries the import wrote (first in the expiry index).
    clock.now += 5000;
    expect(await b.cache.cleanup()).toEqual({ expired: 20, evicted: 0 });
    // The import is still pending (rolled back once it has written nothing for ten seconds): its 30 entries, counted as written.
    expect((await b.cache.stats()).types.track_metadata.entries).toBe(30);
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    await expectExactCounts(browser);
  });

  it.each([
    ['that commits', false],
    ['whose commit aborts (a backing store failure)', true],
  ])('over expired entries the import does not write, while it replaces others, %s: its steps and the cleanup’s go between each other, reads see the import whole or not at all, and the counts equal a recount', async (_, fails) => {
    const { browser, a, b } = await twoTabsOverExpired();
    let commit: IDBTransaction | undefined;
    if (fails) {
      atImportCommit((tx) => (commit = tx));
      faults.push(failCommit({ name: 'UnknownError', when: (tx) => tx === commit }));
    }
    // 300 entries, 30 steps; the cleanup is made once the second has committed.
    let steps = 0;
    let cleanup: Promise<unknown> | undefined;
    let during: Promise<unknown[]> | undefined;
    let stepsDone = 0;
    const call = a.cache.setMany('track_metadata', entries(300, 'new'), {
      onProgress: () => {
        if (++steps !== 2) return;
        cleanup = b.cache.cleanup().then((report) => {
          stepsDone = steps;
          during = b.cache.getMany('track_metadata', ['k0', 'k29', 'k30', 'k299']);
          return report;
        });
      },
    });
    expect(await call.then(() => 'resolved', (error: unknown) => (error as CacheError).code)).toBe(fails ? 'storage_unavailable' : 'resolved');
    // The cleanup's nine steps removed the 60 expired entries while the import was still being written.
    expect(await cleanup).toEqual({ expired: 60, evicted: 0 });
    expect(stepsDone).toBeLessThan(30);
    expect(await during).toEqual(['old0', 'old29', undefined, undefined]);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k29', 'k30', 'k299', 'k1000'])).toEqual(fails ? ['old0', 'old29', undefined, undefined, undefined] : ['new0', 'new29', 'new30', 'new299', undefined]);
    expect((await b.cache.stats()).types.track_metadata).toMatchObject({ entries: fails ? 30 : 300, expirations: 60 });
    await expect.poll(async () => (await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect((await expectExactCounts(browser)).priors).toBe(0);
  });

  it('whose worker dies as its commit is under way, after its last step: a cleanup() made at its ninth step removes the expired entries, not its pending ones; the next cleanup() rolls the import back at once (its Web Lock is free), reads see what was there before, and the counts equal a recount', async () => {
    const { browser, a, b } = await twoTabsOverExpired();
    const fault = atImportCommit(() => a.kill());
    let steps = 0;
    let cleanup: Promise<unknown> | undefined;
    await a.cache.setMany('track_metadata', entries(100, 'new'), { onProgress: () => void (++steps === 9 && (cleanup = b.cache.cleanup())) }).catch(() => {});
    expect(fault.fired()).toBe(true);
    expect(await cleanup).toEqual({ expired: 60, evicted: 0 });
    // Its records are there, pending: no read sees them.
    expect((await raw(browser.inner, browser.name)).importRecords).toBeGreaterThan(0);
    expect(await b.cache.getMany('track_metadata', ['k0', 'k29', 'k30', 'k99'])).toEqual(['old0', 'old29', undefined, undefined]);
    expect(await b.cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect((await raw(browser.inner, browser.name)).importRecords).toBe(0);
    expect((await b.cache.stats()).types.track_metadata.entries).toBe(30);
    expect((await expectExactCounts(browser)).priors).toBe(0);
  });
});
