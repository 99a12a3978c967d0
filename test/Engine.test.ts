import { IDBDatabase, IDBFactory, IDBIndex, IDBObjectStore, forceCloseDatabase } from 'fake-indexeddb';
import { later } from '../worker/schedule';
import { OVERDUE_AFTER_MS } from '../worker/PeriodicCleanup';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../worker/Engine';
import {
  CONTENT_TYPES,
  HOUR,
  INFINITE_TTL,
  MINUTE,
  SmartCacheConfig,
  createCache,
  isCacheError,
  type Cache,
  type CacheConfigOf,
  type CacheEventInput,
  type ContentType,
  type Schemas,
} from '../src/index';
import { brokenFactory, countRecordsRead, failCommit, failCommits, failRequest, fillDisk, holdNextOpen, tabFactory, trackedFactory } from './support/faultyIndexedDB';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { openRemoteCache } from './support/inProcessWorkers';
import { CacheClient, SET_MANY_CHUNK } from '../src/CacheClient';
import { LAYOUT, USAGE_KEY, commitMarks, entryStore } from '../worker/databaseSchema';
import { unhandledRejections } from './support/unhandledRejections';
import { requestDone } from '../worker/idbRequests';
import { recordReadsNow } from '../worker/recordReads';
import { engineTab } from './support/engineTab';
import { refusingLocks } from './support/fakeLocks';
import { tableOf } from './support/tableOf';
import { holdStore } from './support/holdStore';

const restores: (() => void)[] = [];

/** Runs `run` with fake setTimeout and clearTimeout, real ones again afterwards. */
async function withFakeTimers(run: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await run();
  } finally {
    vi.useRealTimers();
  }
}
afterEach(() => {
  while (restores.length) restores.pop()?.();
});

const PERSISTENT: ContentType[] = ['track_metadata', 'successful_api_metadata', 'album_year'];
const TEMPORARY: ContentType[] = ['failed_api_lookup', 'negative_result', 'generic'];

/**
 * A factory whose connections the browser closes under the tab at the given moment of the first `times`
 * opens: during the upgrade (which aborts the open), or right after the open succeeded.
 */
function losingConnection(when: 'upgradeneeded' | 'success', times: number) {
  const inner = new IDBFactory();
  const tab = tabFactory(inner);
  const opens = { count: 0 };
  const factory = {
    ...tab.factory,
    open(name: string, version?: number) {
      const request = tab.factory.open(name, version);
      request.addEventListener(when, () => {
        if (++opens.count <= times) setImmediate(() => tab.loseConnection());
      });
      return request;
    },
  } as IDBFactory;
  return { factory, inner, opens };
}

describe('persistent and temporary types', () => {
  it('a second cache on the same IndexedDB sees every persistent entry and no temporary one', async () => {
    const { cache, indexedDB, clock, name } = await openCache();
    for (const type of CONTENT_TYPES) await cache.set(type, 'k', { type });
    const { cache: reloaded } = await openCache({ indexedDB, clock, name });
    for (const type of PERSISTENT) expect(await reloaded.get(type, 'k')).toEqual({ type });
    for (const type of TEMPORARY) expect(await reloaded.get(type, 'k')).toBeUndefined();
    await cache.close();
    const { cache: afterClose } = await openCache({ indexedDB, clock, name });
    expect(await afterClose.get('track_metadata', 'k')).toEqual({ type: 'track_metadata' });
  });

  it('stats say where each type lives', async () => {
    const { cache } = await openCache();
    const { types, degraded, droppedMessages } = await cache.stats();
    for (const type of PERSISTENT) expect(types[type].storage).toBe('indexeddb');
    for (const type of TEMPORARY) expect(types[type].storage).toBe('memory');
    expect(degraded).toBeNull();
    expect(droppedMessages).toBe(0);
  });
});

describe('TTL', () => {
  const negativeResultTtl = 2 * HOUR;
  const config = new SmartCacheConfig({ caching: { negativeResultTtl } });
  const finite = CONTENT_TYPES.filter((type) => config.getTtl(type) < INFINITE_TTL);
  const eternal = CONTENT_TYPES.filter((type) => config.getTtl(type) >= INFINITE_TTL);

  it.each(finite)('%s entries expire exactly at their TTL', async (type) => {
    const { cache, clock } = await openCache({ config: { caching: { negativeResultTtl } } });
    await cache.set(type, 'k', 'v');
    clock.advance(config.getTtl(type) * 1000 - 1);
    expect(await cache.get(type, 'k')).toBe('v');
    clock.advance(1);
    expect(await cache.get(type, 'k')).toBeUndefined();
    const stats = (await cache.stats()).types[type];
    expect(stats).toMatchObject({ entries: 0, bytes: 0, expirations: 1, hits: 1, misses: 1 });
  });

  it.each([
    ['album_year', 'a write'],
    ['generic', 'a write'],
    ['album_year', 'an import'],
  ] as const)('%s, %s of entries already expired as written (ttlSeconds 0) past the budget: they go first, as any expired entry, and no live entry is evicted', async (type, how) => {
    const config = { caching: { policies: { [type]: { maxSizeMb: 0.002 } } } };
    const clock = fakeClock();
    const { cache } = how === 'an import' ? await engineTab({ name: uniqueName(), indexedDB: new IDBFactory(), config, engine: { now: clock.now, importChunk: 2 } }) : await openCache({ config, clock });
    const live = Array.from({ length: 8 }, (_, index) => `live${index}`);
    await cache.setMany(type, live.map((key) => ({ key, value: 'x'.repeat(20) })));
    await cache.setMany(type, live.map((key) => ({ key: `dead-${key}`, value: 'x'.repeat(20), ttlSeconds: 0 })));
    expect(await cache.keys(type)).toEqual(live);
    expect((await cache.stats()).types[type]).toMatchObject({ evictions: 0 });
    expect((await cache.stats()).types[type].expirations).toBeGreaterThan(0);
  });

  it.each(eternal)('%s entries (TTL INFINITE_TTL) never expire, on read or in the sweep', async (type) => {
    expect(eternal).toEqual(['track_metadata', 'successful_api_metadata']);
    const { cache, clock } = await openCache();
    await cache.set(type, 'k', 'v');
    clock.advance(3 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.get(type, 'k')).toBe('v');
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 1, expirations: 0, hits: 1 });
  });

  it.each(CONTENT_TYPES)('%s: a ttlSeconds at or above INFINITE_TTL (Infinity too) never expires, one below does, on read and in the sweep', async (type) => {
    const { cache, clock } = await openCache();
    await cache.set(type, 'at', 'v', { ttlSeconds: INFINITE_TTL });
    await cache.set(type, 'above', 'v', { ttlSeconds: INFINITE_TTL + 1 });
    await cache.set(type, 'infinity', 'v', { ttlSeconds: Infinity });
    await cache.setMany(type, [
      { key: 'many', value: 'v', ttlSeconds: 10 * INFINITE_TTL },
      { key: 'many-infinity', value: 'v', ttlSeconds: Infinity },
      { key: 'below', value: 'v', ttlSeconds: INFINITE_TTL - 1 },
      { key: 'read-below', value: 'v', ttlSeconds: INFINITE_TTL - 1 },
    ]);
    clock.advance(INFINITE_TTL * 1000);
    expect(await cache.get(type, 'read-below')).toBeUndefined();
    expect(await cache.cleanup()).toEqual({ expired: 1, evicted: 0 });
    clock.advance(20 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.getMany(type, ['at', 'above', 'infinity', 'many', 'many-infinity', 'below'])).toEqual(['v', 'v', 'v', 'v', 'v', undefined]);
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 5, expirations: 2 });
  });

  it('a ttlSeconds on set overrides the policy', async () => {
    const { cache, clock } = await openCache();
    await cache.set('track_metadata', 'short', 'v', { ttlSeconds: 10 });
    await cache.set('generic', 'long', 'v', { ttlSeconds: 2 * HOUR });
    clock.advance(10_000);
    expect(await cache.get('track_metadata', 'short')).toBeUndefined();
    clock.advance(HOUR * 1000);
    expect(await cache.get('generic', 'long')).toBe('v');
  });

  it.each([
    ['a built-in temporary type configured', { policies: { generic: { ttlSeconds: INFINITE_TTL } } }, 'generic'],
    ['a built-in persistent type configured above', { policies: { album_year: { ttlSeconds: 2 * INFINITE_TTL } } }, 'album_year'],
    ['negativeResultTtl', { negativeResultTtl: INFINITE_TTL }, 'negative_result'],
    ['a persistent custom type', { customTypes: { art: { persistent: true, ttlSeconds: INFINITE_TTL, invalidationStrategy: 'time_based', maxSizeMb: 1 } } }, 'art'],
    ['a temporary custom type', { customTypes: { art: { persistent: false, ttlSeconds: INFINITE_TTL + 1, invalidationStrategy: 'time_based', maxSizeMb: 1 } } }, 'art'],
  ] as const)('%s with a TTL at or above INFINITE_TTL never expires, on read or in the sweep', async (_what, caching, type) => {
    const { cache, clock } = await openCache<Schemas, 'art'>({ config: { caching } as CacheConfigOf<'art'> });
    await cache.set(type, 'k', 'v');
    clock.advance(5 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.has(type, 'k')).toBe(true);
    expect(await cache.get(type, 'k')).toBe('v');
    expect(await cache.keys(type)).toEqual(['k']);
  });

  it('updatePolicy to a TTL at INFINITE_TTL makes later writes eternal; a ttlSeconds on set still overrides it', async () => {
    const config = new SmartCacheConfig();
    const { cache, clock } = await openCache({ config });
    config.updatePolicy('failed_api_lookup', { ttlSeconds: INFINITE_TTL });
    await cache.set('failed_api_lookup', 'eternal', 1);
    await cache.set('failed_api_lookup', 'short', 2, { ttlSeconds: 30 });
    clock.advance(31_000);
    expect(await cache.get('failed_api_lookup', 'short')).toBeUndefined();
    clock.advance(2 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.get('failed_api_lookup', 'eternal')).toBe(1);
  });

  it.each(['album_year', 'generic'] as const)('a set called before an updatePolicy is written under the policy as it was (%s): its TTL, its budget', async (type) => {
    const config = new SmartCacheConfig();
    const { cache, clock } = await openCache({ config });
    const setting = cache.set(type, 'k', 'x'.repeat(3000));
    config.updatePolicy(type, { ttlSeconds: 1, maxSizeMb: 0.001 });
    expect(await setting.then(() => 'written', (error: { code?: string }) => error.code)).toBe('written');
    clock.advance(2000);
    expect(await cache.get(type, 'k')).toBe('x'.repeat(3000));
  });

  it.each([
    ['its value checked by an async schema', 'generic'],
    ['sent in chunks', 'album_year'],
  ] as const)('a set called before an updatePolicy keeps the policy as it was, also when it reaches the engine after the patch (%s)', async (how, type) => {
    const config = new SmartCacheConfig();
    // A Standard Schema whose check takes a task (a lookup, say): the value reaches the engine after it.
    const checked = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => ({ value }) } } as const;
    const { cache, clock } = await openCache({ config, schemas: how === 'sent in chunks' ? {} : { [type]: checked } });
    const count = how === 'sent in chunks' ? SET_MANY_CHUNK + 1 : 1;
    const setting = cache.setMany(type, Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: 'x' })));
    config.updatePolicy(type, { ttlSeconds: 1 });
    await setting;
    clock.advance(2000);
    expect(await cache.get(type, 'k0')).toBe('x');
  });

  it('a short ttlSeconds on set makes an entry of an eternal type expire, on read and in the sweep', async () => {
    const { cache, clock } = await openCache();
    await cache.set('successful_api_metadata', 'read', 'v', { ttlSeconds: 1 });
    await cache.set('successful_api_metadata', 'swept', 'v', { ttlSeconds: 1 });
    await cache.set('successful_api_metadata', 'kept', 'v');
    clock.advance(1000);
    expect(await cache.has('successful_api_metadata', 'read')).toBe(false);
    expect(await cache.get('successful_api_metadata', 'read')).toBeUndefined();
    expect(await cache.cleanup()).toEqual({ expired: 1, evicted: 0 });
    expect(await cache.keys('successful_api_metadata')).toEqual(['kept']);
  });

  it('rejects a ttlSeconds on set that is not a number of seconds (NaN, -Infinity, a string) with invalid_argument, writing nothing', async () => {
    const { cache } = await openCache();
    for (const ttlSeconds of [Number.NaN, -Infinity, '60']) {
      const error = await rejection(cache.set('generic', 'k', 'v', { ttlSeconds } as never));
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
    }
    expect(await cache.has('generic', 'k')).toBe(false);
  });

  it('the sweep removes expired entries of every store and counts them', async () => {
    const { cache, clock } = await openCache();
    await cache.setMany('generic', [
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    await cache.set('album_year', 'x', 1999, { ttlSeconds: 60 });
    await cache.set('album_year', 'y', 2001);
    clock.advance(5 * MINUTE * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 3, evicted: 0 });
    const { types } = await cache.stats();
    expect(types.generic).toMatchObject({ entries: 0, bytes: 0, expirations: 2 });
    expect(types.album_year).toMatchObject({ entries: 1, expirations: 1 });
    expect(await cache.get('album_year', 'y')).toBe(2001);
  });

});

describe('a system clock set wrong for a while (set ahead, then corrected; a dead clock battery)', () => {
  const YEAR = 365 * 24 * HOUR * 1000;
  const value = (index: number) => ({ index, text: 'x'.repeat(450) });

  it.each(['delete', 'deleteMany'] as const)('a %s made while the clock is set back an hour (the entry used ahead of it: of unknown age), the clock set right as it removes, leaves no entry', async (method) => {
    const { cache, clock, name } = await openCache();
    await cache.set('album_year', 'k', 1999);
    clock.advance(-HOUR * 1000);
    // The clock is set right as the entry is removed: what the deletion found (of unknown age: expired) decides.
    // Only this cache's: the caches of earlier tests, still open, may write (a read time's late write) meanwhile.
    const remove = IDBObjectStore.prototype.delete;
    let removals = 0;
    IDBObjectStore.prototype.delete = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['delete']>) {
      if (this.transaction.db.name === name && args[0] === 'k' && ++removals === 1) clock.advance(HOUR * 1000);
      return remove.apply(this, args);
    };
    restores.push(() => (IDBObjectStore.prototype.delete = remove));
    expect(method === 'delete' ? await cache.delete('album_year', 'k') : await cache.deleteMany('album_year', ['k'])).toBe(method === 'delete' ? false : 0);
    expect(removals).toBe(1);
    expect(await cache.get('album_year', 'k')).toBeUndefined();
  });

  it.each(['delete', 'deleteMany'] as const)('a %s of an entry found expired (the clock ran ahead), the disk full just after it deleted: once the clock is set back, the entry is not served again', async (method) => {
    const { cache, clock, name } = await openCache();
    await cache.set('album_year', 'k', 1999, { ttlSeconds: 60 });
    clock.advance(2 * MINUTE * 1000);
    const changes: string[] = [];
    cache.watch('album_year', 'k', (change) => changes.push(change.kind));
    // The disk fills once the deletion has committed: the next write of album_year aborts at commit.
    let writes = 0;
    restores.push(failCommit({ when: (tx) => tx.mode === 'readwrite' && [...tx.objectStoreNames].some((store) => store.includes('album_year')) && ++writes === 2, database: name }));
    expect(method === 'delete' ? await cache.delete('album_year', 'k') : await cache.deleteMany('album_year', ['k'])).toBe(method === 'delete' ? false : 0);
    // The clock is set right: written 30 s ago, with a TTL of a minute.
    clock.advance(-90 * 1000);
    expect(await cache.get('album_year', 'k')).toBeUndefined();
    expect(changes).toEqual(['expire']);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
  });

  it('a cleanup that waited (behind another tab’s transaction) as the clock was set back does not take an entry written since, fresh by the clock then', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache, clock } = await openCache({ name, indexedDB });
    // Another tab's read-write transaction of track_metadata, kept busy: the cleanup's IndexedDB step waits for it.
    const other = await requestDone(indexedDB.open(name));
    restores.push(() => other.close());
    const busy = other.transaction('track_metadata', 'readwrite').objectStore('track_metadata');
    let holding = true;
    const keepBusy = () => void (holding && (busy.get('x').onsuccess = keepBusy));
    keepBusy();
    const cleanup = cache.cleanup();
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    // An hour set back (NTP correcting a clock that ran ahead), then a write of a type kept in memory, with a TTL of 2 s.
    clock.advance(-HOUR * 1000);
    await cache.set('failed_api_lookup', 'k', 'v', { ttlSeconds: 2 });
    holding = false;
    expect(await cleanup).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.get('failed_api_lookup', 'k')).toBe('v');
  });

  /**
   * A type whose budget holds about ten of `value`'s entries: four written while the clock ran a year ahead, then, once
   * it is set right (and `corrected` ran), six a second apart, `written(index)` after each.
   */
  async function aheadThenLive(type: 'album_year' | 'track_metadata' | 'generic', ttlSeconds: number, hooks: { corrected?: (cache: Cache) => Promise<void>; written?: (cache: Cache, index: number) => Promise<void> } = {}) {
    const opened = await openCache({ config: { caching: { policies: { [type]: { maxSizeMb: 0.01 } } } } });
    const { cache, clock } = opened;
    clock.advance(YEAR);
    for (let index = 0; index < 4; index++) await cache.set(type, `ahead${index}`, value(index), { ttlSeconds });
    clock.advance(-YEAR);
    await hooks.corrected?.(cache);
    for (let index = 0; index < 6; index++) {
      clock.advance(1000);
      await cache.set(type, `live${index}`, value(index), { ttlSeconds });
      await hooks.written?.(cache, index);
    }
    return opened;
  }

  it.each(['album_year', 'generic'] as const)('%s: an entry written while the clock ran a year ahead is not served once it is set right (its age is unknown): get, getMany, has, keys, entries all miss, and it goes as an expiration', async (type) => {
    const { cache, clock } = await openCache();
    clock.advance(YEAR);
    await cache.set(type, 'ahead', 'v', { ttlSeconds: HOUR });
    await cache.set(type, 'eternal', 'v', { ttlSeconds: INFINITE_TTL });
    clock.advance(-YEAR);
    await cache.set(type, 'now', 'v', { ttlSeconds: HOUR });
    clock.advance(MINUTE * 1000);
    expect(await cache.has(type, 'ahead')).toBe(false);
    expect(await cache.keys(type)).toEqual(['eternal', 'now']);
    expect((await cache.entries(type)).map(([key]) => key)).toEqual(['eternal', 'now']);
    expect(await cache.getMany(type, ['ahead', 'eternal', 'now'])).toEqual([undefined, 'v', 'v']);
    expect(await cache.get(type, 'ahead')).toBeUndefined();
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 2, expirations: 1 });
  });

  it.each(['album_year', 'generic'] as const)('%s: a clock corrected by a few seconds (an NTP step) keeps what was written meanwhile', async (type) => {
    const { cache, clock } = await openCache();
    clock.advance(5000);
    await cache.set(type, 'k', 'v', { ttlSeconds: HOUR });
    clock.advance(-5000);
    expect(await cache.get(type, 'k')).toBe('v');
    expect(await cache.has(type, 'k')).toBe(true);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
  });

  it('the sweep removes entries written while the clock ran ahead, of every store, and counts them as expired; an eternal one stays', async () => {
    const { cache, clock } = await openCache();
    clock.advance(YEAR);
    await cache.set('album_year', 'y', 1999, { ttlSeconds: HOUR });
    await cache.set('generic', 'g', 1);
    await cache.set('track_metadata', 't', 'eternal');
    clock.advance(-YEAR);
    expect(await cache.cleanup()).toEqual({ expired: 2, evicted: 0 });
    const { types } = await cache.stats();
    expect(types.album_year).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
    expect(types.generic).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
    expect(await cache.get('track_metadata', 't')).toBe('eternal');
  });

  it.each(['album_year', 'generic'] as const)('%s: making room takes entries written while the clock ran ahead first, as expired ones, before any live one', async (type) => {
    const { cache } = await aheadThenLive(type, HOUR);
    const stats = (await cache.stats()).types[type];
    expect(stats).toMatchObject({ evictions: 0 });
    expect(stats.expirations).toBeGreaterThan(0);
    expect(await cache.getMany(type, ['live0', 'live1', 'live5'])).toEqual([value(0), value(1), value(5)]);
  });

  it.each(['album_year', 'generic'] as const)('%s: a resolve that meets an entry written while the clock ran ahead fetches anew, even within a stale-while-revalidate window of years: never served stale', async (type) => {
    const { cache, clock } = await openCache({ config: { caching: { policies: { [type]: { staleWhileRevalidateSeconds: (10 * YEAR) / 1000 } } } } });
    clock.advance(YEAR);
    await cache.set(type, 'k', 'ahead', { ttlSeconds: HOUR });
    clock.advance(-YEAR);
    const fetched: string[] = [];
    expect(await cache.resolve(type, 'k', async () => (fetched.push('k'), 'fetched'))).toMatchObject({ value: 'fetched' });
    expect(fetched).toEqual(['k']);
    expect(await cache.get(type, 'k')).toBe('fetched');
  });

  it.each(['track_metadata', 'generic'] as const)('%s: making room takes entries that never expire but were used while the clock ran ahead (when, unknown) before those used since, not after them for that year', async (type) => {
    const { cache } = await aheadThenLive(type, INFINITE_TTL);
    expect(await cache.getMany(type, ['live0', 'live1', 'live5'])).toEqual([value(0), value(1), value(5)]);
    expect((await cache.stats()).types[type]).toMatchObject({ expirations: 0 });
    expect(await cache.has(type, 'ahead0')).toBe(false);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: an entry that never expires used while the clock ran ahead, read once it is set right and before any sweep, counts as used then', async (type) => {
    // Read after live0..live2 were written: more recently used than they are.
    const { cache } = await aheadThenLive(type, INFINITE_TTL, { written: async (cache, index) => void (index === 2 && expect(await cache.get(type, 'ahead0')).toEqual(value(0))) });
    expect(await cache.getMany(type, ['ahead0', 'live1', 'live5'])).toEqual([value(0), value(1), value(5)]);
    expect(await cache.getMany(type, ['ahead1', 'ahead2'])).toEqual([undefined, undefined]);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: making room takes entries written while the clock ran ahead that can expire (expired) before those that never expire used then, however many of those there are', async (type) => {
    const value = (index: number) => ({ index, text: 'x'.repeat(450) });
    const { cache, clock } = await openCache({ config: { caching: { policies: { [type]: { maxSizeMb: 0.01 } } } } });
    clock.advance(YEAR);
    for (let index = 0; index < 4; index++) await cache.set(type, `eternal${index}`, value(index), { ttlSeconds: INFINITE_TTL });
    for (let index = 0; index < 2; index++) await cache.set(type, `expiring${index}`, value(index), { ttlSeconds: HOUR });
    clock.advance(-YEAR);
    let removed = 0;
    for (let index = 0; removed === 0 && index < 12; index++) {
      clock.advance(1000);
      await cache.set(type, `live${index}`, value(index), { ttlSeconds: INFINITE_TTL });
      const { expirations, evictions } = (await cache.stats()).types[type];
      removed = expirations + evictions;
    }
    const { expirations, evictions } = (await cache.stats()).types[type];
    expect({ expirations, evictions, eternal: await cache.getMany(type, ['eternal0', 'eternal1']) }).toEqual({ expirations: 1, evictions: 0, eternal: [value(0), value(1)] });
  });

  it('after one sweep, entries that never expire but were used while the clock ran a year ahead are no longer read by every keys() (they leave the range above the clock): same entries and bytes, nothing counted as removed', async () => {
    const { cache, clock, name } = await openCache();
    clock.advance(YEAR);
    await cache.setMany('track_metadata', Array.from({ length: 50 }, (_, index) => ({ key: `ahead${index}`, value: index })));
    clock.advance(-YEAR);
    await cache.set('track_metadata', 'now', 'v');
    const before = (await cache.stats()).types.track_metadata;
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    let keys: string[] = [];
    const read = await countRecordsRead(name, async () => {
      keys = await cache.keys('track_metadata');
    });
    expect(keys).toHaveLength(51);
    expect(read).toBe(0);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 51, bytes: before.bytes, expirations: 0, evictions: 0 });
    expect(await cache.get('track_metadata', 'ahead7')).toBe(7);
  });

  it('an entry read while the clock ran ahead, then set again once it is set right, is served after a reload: the read, written last (at close), does not make the new value one of unknown age', async () => {
    const { cache, clock, indexedDB, name } = await openCache();
    await cache.set('album_year', 'k', 'old', { ttlSeconds: HOUR });
    clock.advance(10 * MINUTE * 1000);
    expect(await cache.get('album_year', 'k')).toBe('old');
    clock.advance(-10 * MINUTE * 1000);
    await cache.set('album_year', 'k', 'new', { ttlSeconds: HOUR });
    await cache.close();
    const { cache: reloaded } = await openCache({ indexedDB, clock, name });
    expect(await reloaded.get('album_year', 'k')).toBe('new');
  });

  it('an entry that never expires read while the clock ran ahead, and read in another tab once it is set right, is not taken first when making room', async () => {
    const value = (index: number) => ({ index, text: 'x'.repeat(450) });
    const config = { caching: { policies: { track_metadata: { maxSizeMb: 0.01 } } } };
    const first = await openCache({ config });
    const { clock, indexedDB, name } = first;
    await first.cache.set('track_metadata', 'read', value(0));
    clock.advance(10 * MINUTE * 1000);
    expect(await first.cache.get('track_metadata', 'read')).toEqual(value(0));
    clock.advance(-10 * MINUTE * 1000);
    const { cache: other } = await openCache({ clock, indexedDB, name, config });
    for (let index = 0; index < 4; index++) {
      clock.advance(1000);
      await other.set('track_metadata', `old${index}`, value(index));
    }
    clock.advance(1000);
    expect(await other.get('track_metadata', 'read')).toEqual(value(0));
    await other.close();
    // The first tab writes the read times it still holds as it closes; a tab opened since makes room.
    await first.cache.close();
    const { cache } = await openCache({ clock, indexedDB, name, config });
    for (let index = 0; index < 6; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `live${index}`, value(index));
    }
    expect(await cache.getMany('track_metadata', ['read', 'old0'])).toEqual([value(0), undefined]);
  });

  it.each([
    ['in the sweep’s own transaction (a full disk: it sweeps again, deleting only)', 1],
    ['in a step of its own, past the sweep’s', 2],
  ])('a sweep whose giving an unknown last use to entries used ahead fails %s still resolves with what it removed, bytes right, and the next sweep gives it', async (_, nth) => {
    const clock = fakeClock();
    const name = uniqueName();
    const { cache } = await engineTab({ name, indexedDB: new IDBFactory(), engine: { now: clock.now, requestChunk: 4 } });
    clock.advance(YEAR);
    for (let index = 0; index < 10; index++) await cache.set('track_metadata', `ahead${index}`, index);
    await cache.set('album_year', 'y', 1999, { ttlSeconds: HOUR });
    clock.advance(-YEAR);
    const { bytes } = (await cache.stats()).types.track_metadata;
    const keysRead = () => countRecordsRead(name, () => cache.keys('track_metadata'));
    // The `nth` transaction that gives one (a full disk: Chromium aborts it at commit).
    const fault = failCommit({ nth, database: name, matching: (record) => (record as { lastAccess?: number }).lastAccess === 0 });
    restores.push(fault);
    expect(await cache.cleanup()).toEqual({ expired: 1, evicted: 0 });
    expect(fault.fired()).toBe(true);
    expect(await keysRead()).toBeGreaterThan(0);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await keysRead()).toBe(0);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 10, bytes, expirations: 0, evictions: 0 });
    expect(await cache.getMany('track_metadata', ['ahead0', 'ahead9'])).toEqual([0, 9]);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: once the sweep has met entries that never expire but were used while the clock ran ahead, they still go first when making room, but one read since counts as used then', async (type) => {
    const { cache } = await aheadThenLive(type, INFINITE_TTL, {
      corrected: async (cache) => void expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 }),
      // Read after live0..live2 were written: more recently used than they are.
      written: async (cache, index) => void (index === 2 && expect(await cache.get(type, 'ahead0')).toEqual(value(0))),
    });
    expect(await cache.getMany(type, ['ahead0', 'live1', 'live5'])).toEqual([value(0), value(1), value(5)]);
    // The two that went are among those of unknown use, not read since.
    expect(await cache.getMany(type, ['ahead1', 'ahead2'])).toEqual([undefined, undefined]);
    expect((await cache.stats()).types[type]).toMatchObject({ expirations: 0, evictions: 2 });
  });
});

describe('an open whose sweep of unfinished imports finds IndexedDB gone for good', () => {
  it('goes on in memory, and the engine made on IndexedDB before the sweep stops: no cleanup of it stays scheduled', async () => {
    const tab = tabFactory(new IDBFactory());
    // Every cleanup run scheduled and not cancelled (none runs here).
    const scheduled = new Set<object>();
    const schedule = () => {
      const run = {};
      scheduled.add(run);
      return () => void scheduled.delete(run);
    };
    // The sweep's transaction (read-only, over the persistent types' stores): the browser closes the
    // connection under it and refuses to open it again, so the transaction cannot start and the reopen fails.
    const transaction = IDBDatabase.prototype.transaction;
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      if (args[1] === 'readonly' && [args[0]].flat().sort().join() === 'album_year,successful_api_metadata,track_metadata') {
        spy.mockRestore();
        tab.refuse();
        tab.loseConnection();
      }
      return transaction.apply(this, args);
    });
    const logger = { error: vi.fn() };
    try {
      const engine = await Engine.create({ name: uniqueName(), config: tableOf(new SmartCacheConfig()), indexedDB: tab.factory, cloneValues: true, logger, schedule });
      expect((await engine.stats()).degraded).toMatch(/cannot be opened/);
      expect(scheduled.size).toBe(1);
      await engine.close();
      expect(scheduled.size).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the periodic cleanup', () => {
  it('runs the sweep every cleanupIntervalSeconds', async () => {
    await withFakeTimers(async () => {
      const { cache, clock } = await openCache({ config: { caching: { cleanupIntervalSeconds: 60 } } });
      await cache.set('generic', 'a', 1, { ttlSeconds: 30 });
      clock.advance(30_000);
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(async () => expect((await cache.stats()).types.generic.expirations).toBe(1));
      await cache.close();
    });
  });

  it.each([
    ['', false],
    [', the last one noted while the clock ran a year ahead (set right since)', true],
  ])('a page opened an interval or more after the last upkeep that went through the database%s runs one 2 s after it opens: pages that each live less than an interval sweep too', async (_, ahead) => {
    await withFakeTimers(async () => {
      const clock = fakeClock();
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const page = () => openCache({ name, indexedDB, clock, config: { caching: { cleanupIntervalSeconds: 300 } } });
      if (ahead) {
        const year = 365 * 86_400_000;
        clock.advance(year);
        // Its open notes the time of the database's first upkeep, a year ahead.
        await (await page()).cache.close();
        clock.advance(-year);
      }
      // A page that lives a minute: its own first upkeep, five minutes after it opened (or later), never comes.
      const first = await page();
      await first.cache.set('album_year', 'a', 1, { ttlSeconds: 60 });
      clock.advance(60_000);
      await vi.advanceTimersByTimeAsync(60_000);
      await first.cache.close();
      clock.advance(3_600_000);
      const { cache } = await page();
      try {
        expect((await cache.stats()).types.album_year).toMatchObject({ entries: 1, expirations: 0 });
        clock.advance(2_000);
        await vi.advanceTimersByTimeAsync(2_000);
        await vi.waitFor(async () => expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, expirations: 1 }));
      } finally {
        await cache.close();
      }
    });
  });

  it('an interval longer than timers allow (2^31 - 1 ms, about 24.8 days) does not make it run at once', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const { cache } = await openCache({ config: { caching: { cleanupIntervalSeconds: 365 * 86_400 } } });
      const delays = setTimeoutSpy.mock.calls.map(([, delay]) => delay);
      expect(delays).toContain(2 ** 31 - 1);
      expect(delays.every((delay) => (delay ?? 0) <= 2 ** 31 - 1)).toBe(true);
      await cache.close();
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });

  it('an interval longer than timers allow sweeps once per interval, not every 24.8 days (the longest timer)', async () => {
    await withFakeTimers(async () => {
      const day = 86_400_000;
      const { cache, clock } = await openCache({ config: { caching: { cleanupIntervalSeconds: 365 * 86_400 } } });
      try {
        await cache.set('generic', 'a', 1, { ttlSeconds: 1 });
        clock.advance(364 * day);
        await vi.advanceTimersByTimeAsync(364 * day);
        expect((await cache.stats()).types.generic.expirations).toBe(0);
        clock.advance(day);
        await vi.advanceTimersByTimeAsync(day);
        await vi.waitFor(async () => expect((await cache.stats()).types.generic.expirations).toBe(1));
      } finally {
        await cache.close();
      }
    });
  });

  it('cleanupIntervalSeconds: Infinity runs no periodic sweep, as a TTL of Infinity never expires; cleanup() still sweeps', async () => {
    await withFakeTimers(async () => {
      const { cache, clock } = await openCache({ config: { caching: { cleanupIntervalSeconds: Infinity } } });
      try {
        await cache.set('generic', 'a', 1, { ttlSeconds: 1 });
        clock.advance(2 * INFINITE_TTL * 1000);
        await vi.advanceTimersByTimeAsync(2 * INFINITE_TTL * 1000);
        expect((await cache.stats()).types.generic.expirations).toBe(0);
        expect(await cache.cleanup()).toEqual({ expired: 1, evicted: 0 });
      } finally {
        await cache.close();
      }
    });
  });

  it('stops with close(): a closed cache leaves no timer (which would hold it in memory until it fired)', async () => {
    await withFakeTimers(async () => {
      const { cache } = await openCache({ config: { caching: { cleanupIntervalSeconds: 300 } } });
      await cache.set('track_metadata', 'k', 1);
      expect(await cache.get('track_metadata', 'k')).toBe(1);
      await cache.close();
      // Work already due (the change feed's turn) runs; nothing is left waiting.
      await vi.advanceTimersByTimeAsync(0);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  /** An engine of its own database that cleans up every minute, on the clock `now`. */
  function minutelyEngine(now: () => number, options: { logger?: { error: () => void } | undefined; locks?: LockManager; name?: string }) {
    return Engine.create({ name: uniqueName(), config: tableOf(new SmartCacheConfig({ caching: { cleanupIntervalSeconds: 60 } })), indexedDB: new IDBFactory(), now, cloneValues: true, ...options });
  }

  /** An engine with `locks` that cleans up every minute, once the clock has run a minute past its entries' expiry, one in memory and one in IndexedDB (fake timers). */
  async function cleaningEveryMinute(locks: LockManager, logger?: { error: () => void }) {
    let time = 0;
    const engine = await minutelyEngine(() => time, { logger, locks });
    await engine.setMany('generic', [{ key: 'a', value: 1, ttlSeconds: 1 }]);
    await engine.setMany('album_year', [{ key: 'a', value: 1, ttlSeconds: 1 }]);
    time = 2000;
    await vi.advanceTimersByTimeAsync(60_000);
    return engine;
  }

  it('runs in one tab at a time in IndexedDB: it takes the Web Lock if available and skips that part of the round if not; its memory tier, which no other tab sweeps, is swept either way', async () => {
    await withFakeTimers(async () => {
      let heldElsewhere = true;
      const request = vi.fn((name: string, _options: LockOptions, callback: (lock: Lock | null) => unknown) =>
        Promise.resolve(callback(heldElsewhere ? null : ({ name, mode: 'exclusive' } as Lock))),
      );
      const engine = await cleaningEveryMinute({ request } as unknown as LockManager);
      expect(request).toHaveBeenCalledWith(expect.stringMatching(/:cleanup$/), { ifAvailable: true }, expect.any(Function));
      await vi.waitFor(async () => expect((await engine.stats()).types.generic?.expirations).toBe(1));
      expect((await engine.stats()).types.album_year?.expirations).toBe(0);
      heldElsewhere = false;
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(async () => expect((await engine.stats()).types.album_year?.expirations).toBe(1));
      await engine.close();
    });
  });

  it('of a cache whose name starts with \'-\' (a lock name Web Locks refuse) still runs in one tab at a time: held elsewhere, its IndexedDB part is skipped', async () => {
    await withFakeTimers(async () => {
      // As browsers: a name starting with '-' is refused (NotSupportedError); any other is held by another tab.
      const request = vi.fn(async (name: string, _options: LockOptions, callback: (lock: Lock | null) => unknown) => {
        if (name.startsWith('-')) throw new DOMException('Names cannot start with \'-\'.', 'NotSupportedError');
        return callback(null);
      });
      let time = 0;
      const engine = await minutelyEngine(() => time, { locks: { request } as unknown as LockManager, name: `-${uniqueName()}` });
      await engine.setMany('generic', [{ key: 'a', value: 1, ttlSeconds: 1 }]);
      await engine.setMany('album_year', [{ key: 'a', value: 1, ttlSeconds: 1 }]);
      time = 2000;
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(async () => expect((await engine.stats()).types.generic?.expirations).toBe(1));
      // The round is over once the next one is scheduled (its IndexedDB part, had it run, done by then).
      await vi.waitFor(() => expect(vi.getTimerCount()).toBeGreaterThan(0));
      expect((await engine.stats()).types.album_year?.expirations).toBe(0);
      await engine.close();
    });
  });

  it('runs every step though one fails: a full disk refusing the event log’s trim (it puts how far) still lets the day-old commit marks go, deleting only; the failure is reported', async () => {
    await withFakeTimers(async () => {
      let time = 0;
      const logger = { error: vi.fn() };
      const name = uniqueName();
      const engine = await minutelyEngine(() => time, { logger, name });
      await engine.setMany('track_metadata', [{ key: 'k', value: 1 }], { commitId: 'write-1' });
      // More than the 1,000 newest the log always keeps, all older than a day once the clock has moved on.
      for (let index = 0; index < 1001; index++) await engine.emit({ eventType: 'library_sync' });
      time = 25 * HOUR * 1000;
      // The disk is full: the next transaction that puts (the trim's record of how far it trimmed) aborts at its commit.
      const puts = new WeakSet<IDBTransaction>();
      const store = IDBObjectStore.prototype as unknown as { put: (this: IDBObjectStore, ...args: unknown[]) => IDBRequest };
      const put = store.put;
      store.put = function (this: IDBObjectStore, ...args: unknown[]) {
        puts.add(this.transaction);
        return put.apply(this, args);
      };
      restores.push(() => (store.put = put));
      const fault = failCommit({ when: (tx) => puts.has(tx), database: name });
      restores.push(fault);
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith('Reprise: periodic cleanup failed', expect.objectContaining({ code: 'quota_exceeded', message: expect.stringContaining('trimming the event log') })));
      expect(fault.fired()).toBe(true);
      expect(await engine.committed('track_metadata', 'write-1')).toBe(false);
      await engine.close();
    });
  });

  it('runs where Web Locks refuse every request (a detached iframe), as where there are none, and logs no failure', async () => {
    await withFakeTimers(async () => {
      const logger = { error: vi.fn() };
      const engine = await cleaningEveryMinute(refusingLocks() as unknown as LockManager, logger);
      await vi.waitFor(async () => expect((await engine.stats()).types.generic?.expirations).toBe(1));
      expect(logger.error).not.toHaveBeenCalled();
      await engine.close();
    });
  });
});

describe('a sweep of many expired entries, in steps (issue 13: it holds no type\u2019s writes for its whole length)', () => {
  const keys = Array.from({ length: 20 }, (_, index) => `k${String(index).padStart(2, '0')}`);

  /** 20 album_year entries of a second's TTL, then the clock 10 s on: every one expired; steps of 7 (requestChunk). */
  async function expiredEntries(open: (now: () => number) => Promise<CacheClient>) {
    const clock = fakeClock();
    const cache = await open(clock.now);
    await cache.setMany('album_year', keys.map((key) => ({ key, value: 'x'.repeat(100), ttlSeconds: 1 })));
    const each = (await cache.stats()).types.album_year.bytes / keys.length;
    clock.advance(10_000);
    const told: string[] = [];
    cache.watch('album_year', null, ({ kind }) => void told.push(kind));
    return { cache, each, told };
  }

  it('cleanup() whose second step aborts at commit (a backing store failure): the first step\u2019s removal is counted and told once, the byte counts exact; the next cleanup() removes the rest', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache, each, told } = await expiredEntries(async (now) => (await engineTab({ name, indexedDB, engine: { requestChunk: 7, now } })).cache);
    // Each step puts the usage it leaves: the second to put after this aborts at its commit, as Chromium reports a failed backing store.
    const fault = failCommit({ name: 'UnknownError', database: name, nth: 2 });
    restores.push(fault);
    expect((await rejection(cache.cleanup())).code).toBe('storage_unavailable');
    expect(fault.fired()).toBe(true);
    expect(told).toEqual(['expire']);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 13, bytes: 13 * each, expirations: 7 });
    expect(await cache.cleanup()).toEqual({ expired: 13, evicted: 0 });
    // Told as each step committed: 7, then 6.
    expect(told).toEqual(['expire', 'expire', 'expire']);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, bytes: 0, expirations: 20 });
  });

  it('cleanup() whose worker dies between two steps: the steps that committed stay removed and the byte counts exact; the next worker\u2019s cleanup() removes the rest', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    let workers: { kill(): void }[] = [];
    const { cache, each } = await expiredEntries(async (now) => {
      const opened = await openRemoteCache({ name, indexedDB, now, engine: { requestChunk: 7 } });
      workers = opened.workers;
      return opened.cache;
    });
    // The worker dies as the sweep's first step commits, before the second begins.
    const original = IDBObjectStore.prototype.delete;
    let killed = false;
    const deletes = vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(function (this: IDBObjectStore, key: IDBValidKey | IDBKeyRange) {
      if (!killed && this.name === entryStore('album_year')) {
        killed = true;
        this.transaction.addEventListener('complete', () => workers[0]!.kill());
      }
      return original.call(this, key);
    });
    restores.push(() => deletes.mockRestore());
    await cache.cleanup().catch(() => {});
    expect(killed).toBe(true);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 13, bytes: 13 * each });
    expect(await cache.cleanup()).toEqual({ expired: 13, evicted: 0 });
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('fingerprint validation', () => {
  it('album_year (hybrid): another fingerprint is a miss and deletes the entry', async () => {
    const { cache } = await openCache();
    await cache.set('album_year', 'abba/gold', 1992, { fingerprint: 'F1' });
    expect(await cache.get('album_year', 'abba/gold', { fingerprint: 'F1' })).toBe(1992);
    expect(await cache.get('album_year', 'abba/gold')).toBe(1992);
    expect(await cache.get('album_year', 'abba/gold', { fingerprint: 'F2' })).toBeUndefined();
    expect(await cache.get('album_year', 'abba/gold', { fingerprint: 'F1' })).toBeUndefined();
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, hits: 2, misses: 2, invalidations: 1 });
  });

  it('an entry stored without a fingerprint fails a fingerprinted read', async () => {
    const { cache } = await openCache();
    await cache.set('album_year', 'k', 1);
    expect(await cache.get('album_year', 'k', { fingerprint: 'F' })).toBeUndefined();
  });

  it('types without fingerprint validation ignore the fingerprint', async () => {
    const { cache } = await openCache();
    await cache.set('track_metadata', 't', 'v', { fingerprint: 'F1' });
    expect(await cache.get('track_metadata', 't', { fingerprint: 'F2' })).toBe('v');
  });

  it('a read with another fingerprint keeps the entry another tab wrote anew while it read', async () => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const { cache: reader } = await openCache({ name, indexedDB });
    const { cache: writer } = await openCache({ name, indexedDB });
    await writer.set('album_year', 'k', 1, { fingerprint: 'F1' });
    // The other tab writes the key anew, with its new fingerprint, as this tab's read of the old entry is made.
    const store = IDBObjectStore.prototype as unknown as { get(this: IDBObjectStore, key: unknown): IDBRequest };
    const get = store.get;
    let written: Promise<void> | undefined;
    store.get = function (this: IDBObjectStore, key: unknown) {
      const request = get.call(this, key);
      if (this.name === 'album_year' && key === 'k') written ??= writer.set('album_year', 'k', 3, { fingerprint: 'F3' });
      return request;
    };
    try {
      expect(await reader.get('album_year', 'k', { fingerprint: 'F2' })).toBeUndefined();
      await written;
    } finally {
      store.get = get;
    }
    expect(written).toBeDefined();
    expect(await writer.get('album_year', 'k', { fingerprint: 'F3' })).toBe(3);
    expect(await reader.get('album_year', 'k', { fingerprint: 'F3' })).toBe(3);
  });

  it('a plain read made after a read with another fingerprint does not wait for its removal: it answers first (IndexedDB runs it before the removal, a readwrite transaction begun after it)', async () => {
    const { cache } = await openCache();
    await cache.setMany('album_year', [
      { key: 'a', value: 1, fingerprint: 'F1' },
      { key: 'b', value: 2 },
    ]);
    const answered: string[] = [];
    const calls = [
      cache.getMany('album_year', ['a'], { fingerprint: 'F2' }).finally(() => answered.push('with a fingerprint')),
      cache.getMany('album_year', ['b']).finally(() => answered.push('plain')),
    ];
    expect(await Promise.all(calls)).toEqual([[undefined], [2]]);
    expect(answered).toEqual(['plain', 'with a fingerprint']);
    // A write made after the read with a fingerprint still comes after it: its entry stays.
    await Promise.all([cache.get('album_year', 'b', { fingerprint: 'F2' }), cache.set('album_year', 'b', 3, { fingerprint: 'F3' })]);
    expect(await cache.get('album_year', 'b', { fingerprint: 'F3' })).toBe(3);
  });

  it('a type configured fingerprint_based validates too, in memory', async () => {
    const { cache } = await openCache({ config: { caching: { policies: { generic: { invalidationStrategy: 'fingerprint_based' } } } } });
    await cache.set('generic', 'k', 'v', { fingerprint: 'A' });
    expect(await cache.getMany('generic', ['k', 'k'], { fingerprints: ['A', 'B'] })).toEqual(['v', undefined]);
    expect(await cache.get('generic', 'k')).toBeUndefined();
  });
});

describe('event invalidation, end to end (the seed table)', () => {
  /** Five entries per type: of track t1, of t2, of an album, and two with fingerprint F1 of tracks t3 and t4. */
  async function seeded(config?: Parameters<typeof openCache>[0]) {
    const opened = await openCache(config);
    for (const type of CONTENT_TYPES) {
      await cache(opened.cache).setMany(type, [
        { key: 'track', value: 1, trackId: 't1' },
        { key: 'other', value: 2, trackId: ['t2', 't5'] },
        { key: 'album', value: 3, album: { artist: 'ABBA', album: 'Gold' } },
        { key: 'fp', value: 4, fingerprint: 'F1', trackId: 't3' },
        { key: 'fp-t4', value: 5, fingerprint: 'F1', trackId: 't4' },
      ]);
    }
    return opened;
  }
  const cache = (value: Cache) => value;
  const ALL = ['track', 'other', 'album', 'fp', 'fp-t4'];

  async function removedBy(event: CacheEventInput, config?: Parameters<typeof openCache>[0]) {
    const { cache } = await seeded(config);
    const report = await cache.emit(event);
    const removed: Partial<Record<ContentType, string[]>> = {};
    for (const type of CONTENT_TYPES) {
      const values = await cache.getMany(type, ALL);
      const gone = ALL.filter((_, index) => values[index] === undefined);
      if (gone.length) removed[type] = gone;
    }
    return { removed, report };
  }

  it('track_added removes nothing', async () => {
    expect(await removedBy({ eventType: 'track_added', trackId: 't1' })).toEqual({
      removed: {},
      report: { eventType: 'track_added', invalidated: {} },
    });
  });

  it.each(['track_removed', 'track_modified'] as const)('%s removes the track in track_metadata and successful_api_metadata', async (eventType) => {
    expect(await removedBy({ eventType, trackId: 't1' })).toEqual({
      removed: { track_metadata: ['track'], successful_api_metadata: ['track'] },
      report: { eventType, invalidated: { track_metadata: 1, successful_api_metadata: 1 } },
    });
  });

  it.each(['track_removed', 'track_modified'] as const)('%s with artist and album also removes that album from successful_api_metadata', async (eventType) => {
    const { removed, report } = await removedBy({ eventType, trackId: 't1', metadata: { artist: '  abba ', album: 'GOLD' } });
    expect(removed).toEqual({ track_metadata: ['track'], successful_api_metadata: ['track', 'album'] });
    expect(report.invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 2 });
  });

  it('an album event leaves another album that Reprise 0.1 would have folded alike (dotless ı is not i), in IndexedDB and in memory', async () => {
    // albumKey('Sıla', 'Yara') ≠ albumKey('Sila', 'Yara'); only 0.1, whose fold took ı to i, keyed them alike.
    const config = { caching: { customTypes: { scratch: { persistent: false, ttlSeconds: 600, invalidationStrategy: 'event_driven' as const, maxSizeMb: null, invalidatedBy: ['track_modified' as const] } } } };
    const { cache } = await openCache({ config });
    await cache.set('successful_api_metadata', 'sila', 1, { album: { artist: 'Sila', album: 'Yara' } });
    await cache.set('scratch', 'sila', 1, { album: { artist: 'Sila', album: 'Yara' } });
    await cache.set('successful_api_metadata', 'sıla', 2, { album: { artist: 'SıLA', album: 'yara' } });
    const report = await cache.emit({ eventType: 'track_modified', trackId: 'x', metadata: { artist: 'Sıla', album: 'Yara' } });
    expect(report.invalidated).toEqual({ track_metadata: 0, successful_api_metadata: 1, scratch: 0 });
    expect(await cache.getMany('successful_api_metadata', ['sila', 'sıla'])).toEqual([1, undefined]);
    expect(await cache.get('scratch', 'sila')).toBe(1);
  });

  it('a track tagged with several ids is removed by any of them', async () => {
    const { removed } = await removedBy({ eventType: 'track_removed', trackId: 't5' });
    expect(removed).toEqual({ track_metadata: ['other'], successful_api_metadata: ['other'] });
  });

  it('fingerprint_changed removes track_metadata stored with the stale fingerprint', async () => {
    expect(await removedBy({ eventType: 'fingerprint_changed', fingerprint: 'F1' })).toEqual({
      removed: { track_metadata: ['fp', 'fp-t4'] },
      report: { eventType: 'fingerprint_changed', invalidated: { track_metadata: 2 } },
    });
  });

  it('fingerprint_changed with a trackId removes only that track’s entries', async () => {
    const { removed } = await removedBy({ eventType: 'fingerprint_changed', fingerprint: 'F1', trackId: 't4' });
    expect(removed).toEqual({ track_metadata: ['fp-t4'] });
  });

  it('library_sync removes every album_year entry', async () => {
    expect(await removedBy({ eventType: 'library_sync' })).toEqual({
      removed: { album_year: ALL },
      report: { eventType: 'library_sync', invalidated: { album_year: 5 } },
    });
  });

  it('manual_invalidation with a trackId removes that track in every event-invalidated type', async () => {
    expect(await removedBy({ eventType: 'manual_invalidation', trackId: 't1' })).toEqual({
      removed: { track_metadata: ['track'], successful_api_metadata: ['track'], album_year: ['track'] },
      report: { eventType: 'manual_invalidation', invalidated: { track_metadata: 1, successful_api_metadata: 1, album_year: 1 } },
    });
  });

  it('manual_invalidation without a trackId empties every event-invalidated type', async () => {
    const { removed, report } = await removedBy({ eventType: 'manual_invalidation' });
    expect(removed).toEqual({ track_metadata: ALL, successful_api_metadata: ALL, album_year: ALL });
    expect(report.invalidated).toEqual({ track_metadata: 5, successful_api_metadata: 5, album_year: 5 });
  });

  it('follows a configured strategy, in memory too', async () => {
    const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const }, track_metadata: { invalidationStrategy: 'time_based' as const } } } };
    const { removed } = await removedBy({ eventType: 'manual_invalidation', trackId: 't1' }, { config });
    expect(removed).toEqual({ successful_api_metadata: ['track'], album_year: ['track'], generic: ['track'] });
  });

  it('counts invalidations in stats', async () => {
    const { cache } = await seeded();
    await cache.emit({ eventType: 'library_sync' });
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, bytes: 0, invalidations: 5 });
  });

  it('finds entries through indexes: an event touching 5 entries among 20,000 reads those 5', async () => {
    const { cache, name } = await openCache();
    const entries = Array.from({ length: 20_000 }, (_, index) => ({
      key: `k${index}`,
      value: { title: `Song ${index}` },
      trackId: index % 4000 === 0 ? 'target' : `t${index}`,
    }));
    await cache.setMany('track_metadata', entries);
    let report: unknown;
    const read = await countRecordsRead(name, async () => {
      report = await cache.emit({ eventType: 'track_removed', trackId: 'target' });
    });
    expect(report).toEqual({ eventType: 'track_removed', invalidated: { track_metadata: 5, successful_api_metadata: 0 } });
    expect(read).toBe(5);
    expect((await cache.stats()).types.track_metadata.entries).toBe(19_995);
  }, 60_000);

  it('an emit called before an updatePolicy applies the rules as they were, in IndexedDB and in memory alike: its report says so', async () => {
    const config = new SmartCacheConfig();
    const { cache } = await openCache({ config });
    await cache.set('generic', 'k', 1, { trackId: 't' });
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    const emitted = cache.emit({ eventType: 'manual_invalidation', trackId: 't' });
    config.updatePolicy('generic', { invalidationStrategy: 'event_driven' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'time_based' });
    expect(await emitted).toEqual({ eventType: 'manual_invalidation', invalidated: { track_metadata: 1, successful_api_metadata: 0, album_year: 0 } });
    expect(await cache.getMany('generic', ['k'])).toEqual([1]);
    expect(await cache.getMany('track_metadata', ['k'])).toEqual([undefined]);
  });

  it('an emit called before an updatePolicy keeps the rules as they were, also when it reaches the engine after the patch (held behind a value an async schema checks)', async () => {
    const config = new SmartCacheConfig();
    const checked = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => ({ value }) } } as const;
    const { cache } = await openCache({ config, schemas: { generic: checked } });
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    // The emit waits for this set, its value being checked: the page's calls reach the engine in the order made.
    const setting = cache.set('generic', 'x', 1);
    const emitted = cache.emit({ eventType: 'track_removed', trackId: 't' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    await setting;
    expect(await emitted).toEqual({ eventType: 'track_removed', invalidated: { track_metadata: 1, successful_api_metadata: 0 } });
    expect(await cache.getMany('track_metadata', ['k'])).toEqual([undefined]);
  });

  it('a get with a fingerprint that reached the engine before an updatePolicy keeps the rules as they were, though it waits there behind a set of its type (another connection holds its store)', async () => {
    const config = new SmartCacheConfig();
    const { cache, indexedDB, name } = await openCache({ config });
    await cache.set('track_metadata', 'k', 1, { fingerprint: 'a'.repeat(64) });
    const store = holdStore(indexedDB, name, 'track_metadata');
    await store.held;
    const setting = cache.set('track_metadata', 'other', 2);
    // Event-driven as it is called: its fingerprint is not checked, and it removes nothing.
    const got = cache.get('track_metadata', 'k', { fingerprint: 'b'.repeat(64) });
    // Gathered with the gets of its task, it reaches the engine a task later.
    await new Promise((resolve) => setTimeout(resolve, 0));
    config.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    await store.release();
    await setting;
    expect(await got).toBe(1);
    expect(await cache.has('track_metadata', 'k')).toBe(true);
  });
});

describe('byte budgets', () => {
  // 0.01 MiB ≈ 10 kB: each value below is about 1 kB, so 30 writes are three times the budget.
  const config = {
    caching: { policies: { track_metadata: { maxSizeMb: 0.01 }, generic: { maxSizeMb: 0.01 } } },
  };
  const value = (index: number) => ({ index, text: 'x'.repeat(450) });

  it.each(['track_metadata', 'generic'] as const)('%s never exceeds its budget after a write, and cleanup brings it under the mark', async (type) => {
    const { cache } = await openCache({ config });
    const maxBytes = 0.01 * 2 ** 20;
    for (let index = 0; index < 30; index++) {
      await cache.set(type, `k${index}`, value(index));
      const stats = (await cache.stats()).types[type];
      expect(stats.maxBytes).toBe(maxBytes);
      expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    }
    await cache.cleanup();
    const stats = (await cache.stats()).types[type];
    expect(stats.bytes).toBeLessThanOrEqual(0.8 * maxBytes);
    expect(stats.evictions).toBeGreaterThan(10);
    expect(await cache.get(type, 'k29')).toEqual(value(29));
  });

  it.each(['track_metadata', 'generic'] as const)('%s spares recently read entries', async (type) => {
    const { cache, clock } = await openCache({ config });
    for (let index = 0; index < 30; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
      expect(await cache.get(type, 'k0')).toEqual(value(0));
    }
    expect(await cache.get(type, 'k1')).toBeUndefined();
  });

  // The same answers whichever tier keeps the type: entries one call writes or reads at once are used in
  // the order the call names them (as if written or read one by one), not in the order of their keys.
  it.each(['track_metadata', 'generic'] as const)('%s: of the entries one setMany wrote, the first it named goes first; a key named twice counts where it was named last', async (type) => {
    const { cache, clock } = await openCache({ config });
    // Eight values fill the type up to its mark; a ninth evicts one.
    await cache.setMany(type, ['k5', 'k3', 'k1', 'k7', 'k2', 'k4', 'k6', 'k0'].map((key) => ({ key, value: value(Number(key[1])) })));
    clock.advance(1000);
    await cache.set(type, 'new', value(8));
    expect(await cache.keys(type)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k6', 'k7', 'new']);
    await cache.clear(type);
    await cache.setMany(type, ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k0'].map((key) => ({ key, value: value(Number(key[1])) })));
    clock.advance(1000);
    await cache.set(type, 'new', value(8));
    expect(await cache.keys(type)).toEqual(['k0', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'new']);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: the entries a write evicts are the least recently used whatever the order of their keys: a newer key between two of them stays, and the bytes stay exact', async (type) => {
    const { cache, clock } = await openCache({ config });
    const write = (keys: string[]) => cache.setMany(type, keys.map((key) => ({ key, value: value(Number(key[1])) })));
    await write(['a0', 'a1', 'a2', 'a4', 'a6']);
    clock.advance(1000);
    await write(['a3', 'a5']);
    clock.advance(1000);
    // Twelve values, four above the eight that fill the type up to its mark: a0, a1, a2 and a4 go, not a3 between them.
    await write(['z0', 'z1', 'z2', 'z3', 'z4']);
    const { evictions } = (await cache.stats()).types[type];
    const keys = await cache.keys(type);
    expect({ keys, evictions }).toEqual({ keys: ['a3', 'a5', 'a6', 'z0', 'z1', 'z2', 'z3', 'z4'], evictions: 4 });
    await cache.deleteMany(type, keys);
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0 });
  });

  it.each(['track_metadata', 'generic'] as const)('%s: sets made together (not awaited in between) that pass the mark together leave the type below it once they resolve, as one after another would: the earlier ones go', async (type) => {
    const { cache } = await openCache({ config });
    // About 3 kB each: two are below the mark (80 % of 10 kB), three above it, yet within the budget.
    const big = (index: number) => ({ index, text: 'x'.repeat(1450) });
    await Promise.all([0, 1, 2, 3].map((index) => cache.set(type, `g${index}`, big(index))));
    const stats = (await cache.stats()).types[type];
    expect({ keys: await cache.keys(type), evictions: stats.evictions, belowMark: stats.bytes <= 0.8 * stats.maxBytes! }).toEqual({ keys: ['g2', 'g3'], evictions: 2, belowMark: true });
  });

  it.each(['track_metadata', 'generic'] as const)('%s: sets made together, the later rewriting the entry the earlier’s room would evict: that entry was replaced, not evicted (counted and told once)', async (type) => {
    const { cache, clock } = await openCache({ config });
    // Seven values, k0 the least recently used: an eighth fills the type up to its mark, a ninth evicts one.
    for (let index = 0; index < 7; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
    }
    clock.advance(1000);
    const kinds: string[] = [];
    cache.watch(type, null, (change) => kinds.push(`${change.kind} ${change.keys?.join(',') ?? '*'}`));
    // The first fills the type up to its mark; the two made while it waits for its turn are written together (see SetGroups):
    // k0's old entry is replaced by the later one, and the room is made of k1. One after another, 'new' would evict k0 first.
    await Promise.all([cache.set(type, 'k7', value(7)), cache.set(type, 'new', value(8)), cache.set(type, 'k0', value(9))]);
    const stats = (await cache.stats()).types[type];
    await vi.waitFor(() => expect(kinds.length).toBeGreaterThanOrEqual(4));
    expect({ keys: await cache.keys(type), evictions: stats.evictions, expirations: stats.expirations, kinds: kinds.toSorted() }).toEqual({
      keys: ['k0', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'new'],
      evictions: 1,
      expirations: 0,
      kinds: ['evict *', 'set k0', 'set k7', 'set new'],
    });
  });

  it.each(['track_metadata', 'generic'] as const)('%s: an entry read, then set again once the clock is set back by seconds (an NTP step), counts as used at the set: an entry written after it goes after it', async (type) => {
    const { cache, clock } = await openCache({ config });
    for (let index = 1; index < 7; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
    }
    clock.advance(1000);
    await cache.set(type, 'k0', value(0));
    // Read twice: the second read's time waits to be written (IndexedDB), as most reads' do.
    for (let read = 0; read < 2; read++) {
      clock.advance(1000);
      expect(await cache.get(type, 'k0')).toEqual(value(0));
    }
    clock.advance(-30_000);
    await cache.set(type, 'k0', value(0));
    clock.advance(1000);
    await cache.set(type, 'k7', value(7));
    clock.advance(1000);
    // The ninth entry passes the mark: of k0 and k7, both written since the clock was set back, k0 was used first.
    await cache.set(type, 'k8', value(8));
    expect(await cache.getMany(type, ['k0', 'k7', 'k8'])).toEqual([undefined, value(7), value(8)]);
  });

  it('a write whose transaction fails as it reads the type\'s usage record (read times still waiting to be written, in the same transaction) rejects, and leaves no rejection unhandled', async () => {
    const name = uniqueName();
    const { cache } = await openCache({ name, config });
    await cache.set('track_metadata', 'k0', value(0));
    // Read twice: the second read's time waits to be written, by the next write of the type.
    for (let read = 0; read < 2; read++) expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    const unhandled = await unhandledRejections(async () => {
      // A read failing as Chromium fails one it cannot complete (UnknownError), aborting the transaction.
      const fault = failRequest({ nth: 1, name: 'UnknownError', database: name, methods: ['get'], matching: (key) => key === USAGE_KEY });
      try {
        expect(await rejection(cache.set('track_metadata', 'k1', value(1)))).toMatchObject({ code: 'storage_unavailable' });
        expect(fault.fired()).toBe(true);
      } finally {
        fault();
      }
    });
    expect(unhandled).toEqual([]);
  });

  it('an entry read, then set again by an import once the clock is set back by seconds, counts as used at the import: an entry written after it goes after it', async () => {
    const clock = fakeClock();
    const { cache } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory(), config, engine: { now: clock.now, importChunk: 2 } });
    for (let index = 1; index < 7; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `k${index}`, value(index));
    }
    clock.advance(1000);
    await cache.set('track_metadata', 'k0', value(0));
    for (let read = 0; read < 2; read++) {
      clock.advance(1000);
      expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    }
    clock.advance(-30_000);
    // Three entries, above the import chunk: an import.
    await cache.setMany('track_metadata', ['k0', 'x', 'y'].map((key) => ({ key, value: key === 'k0' ? value(0) : key })));
    clock.advance(1000);
    await cache.set('track_metadata', 'k7', value(7));
    clock.advance(1000);
    await cache.set('track_metadata', 'k8', value(8));
    expect(await cache.getMany('track_metadata', ['k0', 'k7', 'k8'])).toEqual([undefined, value(7), value(8)]);
  });

  it('an entry read just before an import of it that fails and is rolled back still counts as used at the read: the least recently used goes first', async () => {
    const clock = fakeClock();
    const name = uniqueName();
    const { cache } = await engineTab({ name, indexedDB: new IDBFactory(), config, engine: { now: clock.now, importChunk: 2 } });
    // Seven values: k0 read (its first read's time written at once), then k1 written, then k0 read again (that time waits).
    clock.advance(1000);
    await cache.set('track_metadata', 'k0', value(0));
    clock.advance(1000);
    expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    for (let index = 1; index < 7; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `k${index}`, value(index));
    }
    clock.advance(1000);
    expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    clock.advance(1000);
    // Three entries, above the import chunk: an import, whose second step fails (a put that fails aborts its transaction).
    restores.push(failRequest({ nth: 1, database: name, methods: ['put'], matching: (record) => (record as { key?: string }).key === 'y', name: 'UnknownError' }));
    expect((await rejection(cache.setMany('track_metadata', ['k0', 'x', 'y'].map((key) => ({ key, value: value(9) }))))).code).toBeDefined();
    // k0 is used more recently than k1 (read after it was written): an eighth fills the type up to its mark, a ninth evicts k1.
    clock.advance(1000);
    await cache.set('track_metadata', 'k7', value(7));
    clock.advance(1000);
    await cache.set('track_metadata', 'k8', value(8));
    expect(await cache.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
  });

  it('an entry read during an import of it that fails and is rolled back still counts as used at that read, for another tab’s eviction right after: the least recently used goes first', async () => {
    const clock = fakeClock();
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache } = await engineTab({ name, indexedDB, config, engine: { now: clock.now, importChunk: 2 } });
    const { cache: other } = await engineTab({ name, indexedDB, config, engine: { now: clock.now } });
    // Seven values, k0 the oldest.
    for (let index = 0; index < 7; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `k${index}`, value(index));
    }
    clock.advance(1000);
    // An import of k0 and twenty small entries, two a step: k0 is read (the entry the import replaces, which reads see)
    // once the first step is written; a step after that read resolved fails (a put that fails aborts its transaction).
    let read = false;
    restores.push(failRequest({ nth: 1, database: name, methods: ['put'], matching: (record) => read && String((record as { key?: unknown }).key).startsWith('x'), name: 'UnknownError' }));
    let reading: Promise<void> | undefined;
    const entries = [{ key: 'k0', value: value(9) }, ...Array.from({ length: 20 }, (_, index) => ({ key: `x${index}`, value: index }))];
    const importing = cache.setMany('track_metadata', entries, {
      onProgress: () =>
        void (reading ??= cache.get('track_metadata', 'k0').then((found) => {
          expect(found).toEqual(value(0));
          read = true;
        })),
    });
    expect((await rejection(importing)).code).toBeDefined();
    await reading;
    // k0 is used more recently than k1 (read after it was written): in the other tab, an eighth fills the type up to its mark, a ninth evicts k1.
    clock.advance(1000);
    await other.set('track_metadata', 'k7', value(7));
    clock.advance(1000);
    await other.set('track_metadata', 'k8', value(8));
    expect(await other.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: of the entries one getMany read, the first it named goes first', async (type) => {
    const { cache, clock } = await openCache({ config });
    for (let index = 0; index < 8; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
    }
    clock.advance(1000);
    await cache.getMany(type, ['k7', 'k6', 'k5', 'k4', 'k3', 'k2', 'k1', 'k0']);
    clock.advance(1000);
    await cache.set(type, 'new', value(8));
    expect(await cache.keys(type)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'new']);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: a read and a write made together, not awaited in between, are used in the order made: the read first', async (type) => {
    const { cache, clock } = await openCache({ config });
    for (let index = 0; index < 7; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
    }
    clock.advance(1000);
    // k0 read, then k7 written: k0 is the older use of the two, whichever lands first.
    expect(await Promise.all([cache.getMany(type, ['k0']), cache.set(type, 'k7', value(7))])).toEqual([[value(0)], undefined]);
    clock.advance(1000);
    await cache.getMany(type, ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    clock.advance(1000);
    await cache.set(type, 'new', value(8));
    expect(await cache.keys(type)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'new']);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: of the expired entries, the one that expired first goes first, whichever was used last', async (type) => {
    const { cache, clock } = await openCache({ config });
    const changes: { kind: string; keys: string[] | null }[] = [];
    cache.watch(type, null, ({ kind, keys }) => void changes.push({ kind, keys }));
    // 'late' is used least recently but expires last; 'early' is bigger, so that either alone makes the room.
    await cache.set(type, 'late', value(0), { ttlSeconds: 10 });
    clock.advance(1000);
    await cache.set(type, 'early', { text: 'x'.repeat(900) }, { ttlSeconds: 5 });
    for (let index = 1; index <= 5; index++) {
      clock.advance(1000);
      await cache.set(type, `k${index}`, value(index));
    }
    clock.advance(20_000);
    await cache.set(type, 'new', value(6));
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 7, expirations: 1, evictions: 0 });
    changes.length = 0;
    // What is left of the two is removed as it is read, and told.
    expect(await cache.getMany(type, ['early', 'late'])).toEqual([undefined, undefined]);
    expect(changes).toEqual([{ kind: 'expire', keys: ['late'] }]);
  });

  describe('least recently used across tabs and reloads', () => {
    /** Writes k{from}…k{to - 1} one second apart, as one tab's writes. */
    async function writeKeys(cache: { set: CacheClient['set'] }, clock: ReturnType<typeof fakeClock>, from: number, to: number) {
      for (let index = from; index < to; index++) {
        clock.advance(1000);
        await cache.set('track_metadata', `k${index}`, value(index));
      }
    }

    /** A tab as createCache wires it in-process, with the engine's deferred work run when the test says. */
    async function openTab(name: string, indexedDB: IDBFactory, clock: ReturnType<typeof fakeClock>) {
      const deferred: (() => void)[] = [];
      const engine = await Engine.create({
        name,
        config: tableOf(new SmartCacheConfig(config)),
        indexedDB,
        now: clock.now,
        cloneValues: true,
        schedule: (run) => void deferred.push(run),
      });
      const runDeferred = async () => {
        for (const run of deferred.splice(0)) run();
        // What it started runs on fake-indexeddb's own tasks (setImmediate): turns of the event loop, not
        // time, which a loaded machine gives fewer of in 20 ms.
        for (let turn = 0; turn < 1000; turn++) await new Promise((resolve) => setImmediate(resolve));
      };
      return { cache: new CacheClient(engine), engine, runDeferred };
    }

    it('a read in one tab spares the entry from an eviction run by another', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const writer = await openTab(name, indexedDB, clock);
      const reader = await openTab(name, indexedDB, clock);
      await writeKeys(writer.cache, clock, 0, 7);
      clock.advance(1000);
      expect(await reader.cache.get('track_metadata', 'k0')).toEqual(value(0));
      await reader.runDeferred();
      await writeKeys(writer.cache, clock, 7, 9);
      expect(await writer.cache.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
    });

    it('a read in one tab counts for an eviction another tab runs right after it resolves (createCache, no wait)', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const { cache: writer } = await openCache({ name, indexedDB, clock, config });
      const { cache: reader } = await openCache({ name, indexedDB, clock, config });
      await writeKeys(writer, clock, 0, 7);
      clock.advance(1000);
      expect(await reader.get('track_metadata', 'k0')).toEqual(value(0));
      await writeKeys(writer, clock, 7, 9);
      expect(await writer.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
      await writer.close();
      await reader.close();
    });

    it('a read the page answers itself (no worker) counts for an eviction another tab runs right after it resolves', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const { cache: writer } = await openCache({ name, indexedDB, clock, config });
      const called: string[] = [];
      const { cache: reader } = await openRemoteCache({ name, indexedDB, now: clock.now, config, beforeCall: (method) => void called.push(method) });
      await writeKeys(writer, clock, 0, 7);
      await reader.stats();
      clock.advance(1000);
      expect(await reader.get('track_metadata', 'k0')).toEqual(value(0));
      // Read by the page, not its worker.
      expect(called).not.toContain('getMany');
      await writeKeys(writer, clock, 7, 9);
      expect(await writer.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
      await writer.close();
      await reader.close();
    });

    it('a cleanup spares an entry written again, or read, between its plan and its removal: the least recently used go instead', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const tab = await openTab(name, indexedDB, clock);
      const other = await openTab(name, indexedDB, clock);
      await writeKeys(tab.cache, clock, 0, 8);
      // A smaller budget: the cleanup must evict about half of the eight.
      tab.engine.updatePolicy('track_metadata', { maxSizeMb: 0.005 });
      clock.advance(1000);
      // Watched only: once the cleanup plans from the access index (read-only), the other tab writes k0
      // again and this one reads k1, before the cleanup's removal starts.
      const proto = IDBIndex.prototype as unknown as { openKeyCursor(this: IDBIndex, ...args: unknown[]): IDBRequest };
      const original = proto.openKeyCursor;
      let during: Promise<unknown> | undefined;
      proto.openKeyCursor = function (this: IDBIndex, ...args: unknown[]) {
        if (this.name === 'access' && this.objectStore.transaction.mode === 'readonly') {
          during ??= Promise.all([other.cache.set('track_metadata', 'k0', value(100)), tab.cache.get('track_metadata', 'k1')]);
        }
        return original.apply(this, args);
      };
      restores.push(() => (proto.openKeyCursor = original));
      const report = await tab.cache.cleanup();
      expect(during).toBeDefined();
      expect(await during).toEqual([undefined, value(1)]);
      expect(report.evicted).toBeGreaterThan(0);
      // k0 was just written and k1 just read: the oldest others go first.
      expect(await tab.cache.getMany('track_metadata', ['k0', 'k1', 'k2'])).toEqual([value(100), value(1), undefined]);
    });

    it('a read before a reload (close, reopen) still counts', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const first = await openTab(name, indexedDB, clock);
      await writeKeys(first.cache, clock, 0, 7);
      clock.advance(1000);
      expect(await first.cache.get('track_metadata', 'k0')).toEqual(value(0));
      await first.cache.close();
      const reloaded = await openTab(name, indexedDB, clock);
      await writeKeys(reloaded.cache, clock, 7, 9);
      expect(await reloaded.cache.getMany('track_metadata', ['k0', 'k1'])).toEqual([value(0), undefined]);
    });

    it('a clock set back (the system clock corrected) is followed: a read in another tab after a write made since still counts as the later use', async () => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const clock = fakeClock();
      const { cache: first } = await openCache({ name, indexedDB, clock, config });
      const { cache: second } = await openCache({ name, indexedDB, clock, config });
      await writeKeys(first, clock, 0, 6);
      // The clock runs an hour ahead while the first tab is used, then is set right.
      clock.advance(HOUR * 1000);
      expect(await first.get('track_metadata', 'k5')).toEqual(value(5));
      clock.advance(-HOUR * 1000 + 1000);
      await first.set('track_metadata', 'old', value(10));
      // Read after 'old' was written: each of them is used more recently than 'old'.
      for (let index = 0; index < 5; index++) {
        clock.advance(1000);
        expect(await second.get('track_metadata', `k${index}`)).toEqual(value(index));
      }
      // The ninth and tenth entries pass the mark: two entries go, k5 (read an hour ahead of the clock: when, unknown) and
      // then the least recently used.
      await writeKeys(second, clock, 6, 9);
      expect((await second.stats()).types.track_metadata.evictions).toBe(2);
      expect(await second.getMany('track_metadata', ['k5', 'old', 'k0', 'k1', 'k4'])).toEqual([undefined, undefined, value(0), value(1), value(4)]);
      await first.close();
      await second.close();
    });
  });

  it('evicts the least recently used first, whatever else indexes the entries, and never what the write itself writes (a clock set back)', async () => {
    const { cache, clock } = await openCache({ config });
    // Track ids in the opposite order: the track index must not decide what goes.
    for (let index = 0; index < 8; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `k${index}`, value(index), { trackId: `t${7 - index}` });
    }
    clock.advance(1000);
    expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    // Set back: the new entry is the oldest by its read time, yet its own write keeps it.
    clock.advance(-60_000);
    await cache.set('track_metadata', 'new', value(8), { trackId: 'tnew' });
    expect((await cache.stats()).types.track_metadata.evictions).toBeGreaterThan(0);
    expect(await cache.getMany('track_metadata', ['new', 'k0', 'k1', 'k7'])).toEqual([value(8), value(0), undefined, value(7)]);
  });

  it('takes every expired entry before a live one, even expired entries smaller than the average', async () => {
    const { cache, clock } = await openCache({ config });
    for (let index = 0; index < 7; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `live${index}`, value(index));
    }
    // Fifteen small entries (~80 bytes) that expire: together more than the write below needs freed.
    for (let index = 0; index < 15; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `e${String(index).padStart(2, '0')}`, index, { ttlSeconds: 1 });
    }
    clock.advance(5000);
    await cache.set('track_metadata', 'new', value(99));
    const stats = (await cache.stats()).types.track_metadata;
    expect(stats.bytes).toBeLessThanOrEqual(0.8 * 0.01 * 2 ** 20);
    expect(stats).toMatchObject({ evictions: 0 });
    expect(stats.expirations).toBeGreaterThan(0);
    expect(await cache.getMany('track_metadata', ['live0', 'live1', 'new'])).toEqual([value(0), value(1), value(99)]);
  });

  it('a read time outlives a write that aborts at commit (a full disk): the retry still spares the entry just read', async () => {
    const { cache, clock, name } = await openCache({ config });
    for (let index = 0; index < 8; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', `k${index}`, value(index));
    }
    clock.advance(1000);
    // k0 is the most recently used now; its read time is not written yet.
    expect(await cache.get('track_metadata', 'k0')).toEqual(value(0));
    clock.advance(1000);
    // The write passes the mark (it records read times and evicts in its transaction), then its commit fails.
    const fault = failCommit({ database: name });
    restores.push(fault);
    await cache.set('track_metadata', 'k8', value(8));
    expect(fault.fired()).toBe(true);
    expect(await cache.getMany('track_metadata', ['k8', 'k0', 'k1'])).toEqual([value(8), value(0), undefined]);
  });

  it('evicts expired entries before live ones', async () => {
    const { cache, clock } = await openCache({ config });
    await cache.set('track_metadata', 'short', value(0), { ttlSeconds: 1 });
    for (let index = 1; index < 8; index++) await cache.set('track_metadata', `k${index}`, value(index));
    clock.advance(2000);
    // The eighth ~1 kB entry passes the 80 % mark: the expired entry goes, though it is not the oldest read.
    await cache.set('track_metadata', 'k8', value(8));
    const stats = (await cache.stats()).types.track_metadata;
    expect(stats).toMatchObject({ expirations: 1, evictions: 0 });
    expect(await cache.get('track_metadata', 'k1')).toEqual(value(1));
  });

  it('rejects a value larger than the whole budget, and a batch that cannot fit, writing nothing', async () => {
    const { cache } = await openCache({ config });
    await cache.set('generic', 'keep', 1);
    const big = await rejection(cache.set('generic', 'big', 'x'.repeat(6000)));
    expect(big).toMatchObject({ code: 'invalid_value' });
    expect(big.message).toContain('budget');
    const batch = Array.from({ length: 12 }, (_, index) => ({ key: `b${index}`, value: value(index) }));
    expect(await rejection(cache.setMany('track_metadata', batch))).toMatchObject({ code: 'invalid_value' });
    expect((await cache.stats()).types.track_metadata.entries).toBe(0);
    expect(await cache.get('generic', 'keep')).toBe(1);
  });

  it('names the budget in bytes (a whole number) when a value or a batch exceeds it', async () => {
    const { cache } = await openCache({ config: { caching: { policies: { generic: { maxSizeMb: 0.001 } } } } });
    const big = await rejection(cache.set('generic', 'big', 'x'.repeat(2000)));
    expect(big.message).toMatch(/^Value for generic "big" takes about \d+ bytes, more than the type's whole budget of 1048 bytes$/);
    const batch = await rejection(cache.setMany('generic', [{ key: 'a', value: 'x'.repeat(300) }, { key: 'b', value: 'x'.repeat(300) }]));
    expect(batch.message).toMatch(/^These 2 generic entries take about \d+ bytes together, more than the type's whole budget of 1048 bytes$/);
  });

  it('a type without a budget (maxSizeMb null) is never evicted', async () => {
    const { cache } = await openCache({ config: { caching: { policies: { generic: { maxSizeMb: null } } } } });
    await cache.setMany('generic', Array.from({ length: 100 }, (_, index) => ({ key: `k${index}`, value: 'x'.repeat(10_000) })));
    const stats = (await cache.stats()).types.generic;
    expect(stats).toMatchObject({ entries: 100, maxBytes: null, evictions: 0 });
  });
});

describe('byte counts stay exact', () => {
  it.each(CONTENT_TYPES)('%s: a key given twice to getMany, once expired and once mismatched, is removed and counted once', async (type) => {
    const { cache, clock } = await openCache({ config: { caching: { policies: { [type]: { invalidationStrategy: 'hybrid' } } } } });
    await cache.set(type, 'gone', 'v', { ttlSeconds: 1 });
    await cache.set(type, 'other', 'w', { fingerprint: 'F1' });
    await cache.set(type, 'kept', 'x');
    clock.advance(1000);
    expect(await cache.getMany(type, ['gone', 'gone'])).toEqual([undefined, undefined]);
    expect(await cache.getMany(type, ['other', 'other'], { fingerprints: ['F2', 'F2'] })).toEqual([undefined, undefined]);
    const stats = (await cache.stats()).types[type];
    expect(stats).toMatchObject({ entries: 1, expirations: 1, invalidations: 1 });
    expect(await cache.get(type, 'kept')).toBe('x');
    await cache.delete(type, 'kept');
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('quota errors', () => {
  /** Which transactions put, and how many entries deletes have removed (as their transactions complete): what a full disk that frees up by deletes looks at. */
  function watchWrites() {
    let deleted = 0;
    const puts = new WeakSet<IDBTransaction>();
    const store = IDBObjectStore.prototype as unknown as Record<'put' | 'delete', (this: IDBObjectStore, ...args: unknown[]) => IDBRequest>;
    const [put, remove] = [store.put, store.delete];
    store.put = function (this: IDBObjectStore, ...args: unknown[]) {
      puts.add(this.transaction);
      return put.apply(this, args);
    };
    store.delete = function (this: IDBObjectStore, ...args: unknown[]) {
      const [key] = args;
      // An entry's key, or a run of entries' keys (an eviction deletes such a run at once: see deleteKeys), counted as it runs.
      const entries = typeof key === 'string' ? 1 : key instanceof IDBKeyRange && typeof key.lower === 'string' ? this.count(key) : 0;
      if (entries) this.transaction.addEventListener('complete', () => (deleted += typeof entries === 'number' ? entries : entries.result));
      return remove.apply(this, args);
    };
    restores.push(() => Object.assign(store, { put, delete: remove }));
    return { puts, deleted: () => deleted };
  }

  const config = { caching: { policies: { track_metadata: { maxSizeMb: null } } } };

  it.each([
    ['at commit', (database: string) => failCommits(1, undefined, database)],
  ])('%s: evicts the least recently used and retries once', async (_how, fault) => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('track_metadata', 'old', 'o'.repeat(200));
    clock.advance(1000);
    await cache.set('track_metadata', 'recent', 'r');
    restores.push(fault(name));
    await cache.setMany('track_metadata', [
      { key: 'new1', value: 1 },
      { key: 'new2', value: 2 },
    ]);
    expect(await cache.getMany('track_metadata', ['old', 'recent', 'new1', 'new2'])).toEqual([undefined, 'r', 1, 2]);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 3, evictions: 1 });
  });

  /**
   * A disk with about 50 kB left, for `name`'s transactions: Chromium checks at commit what a transaction puts (whole
   * records) against the room left, and aborts it with QuotaExceededError when it does not fit.
   */
  function nearlyFullDisk(name: string): void {
    const bytes = new WeakMap<IDBTransaction, number>();
    const store = IDBObjectStore.prototype as unknown as Record<'put', (this: IDBObjectStore, ...args: unknown[]) => IDBRequest>;
    const put = store.put;
    store.put = function (this: IDBObjectStore, ...args: unknown[]) {
      bytes.set(this.transaction, (bytes.get(this.transaction) ?? 0) + JSON.stringify(args[0]).length);
      return put.apply(this, args);
    };
    restores.push(() => Object.assign(store, { put }));
    restores.push(failCommit({ when: (tx) => (bytes.get(tx) ?? 0) > 50_000, database: name }));
  }

  it('a small set made just after a list of big entries was read fits in the room a nearly full disk has left: nothing is evicted for it', async () => {
    const { cache, name } = await openCache({ config });
    const big = 'x'.repeat(5000);
    const keys = Array.from({ length: 40 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', keys.map((key) => ({ key, value: big })));
    // The list read (its read times wait about a second to be written, but for the first few, written at once).
    expect(await cache.getMany('track_metadata', keys)).toEqual(keys.map(() => big));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    nearlyFullDisk(name);
    await cache.set('track_metadata', 'new', 'a small value');
    const { entries, evictions } = (await cache.stats()).types.track_metadata!;
    expect({ entries, evictions, list: (await cache.getMany('track_metadata', keys)).filter((value) => value === big).length }).toEqual({ entries: 41, evictions: 0, list: 40 });
  });

  it('an import made just after a list of big entries was read fits in the room a nearly full disk has left: nothing is evicted for it', async () => {
    const name = uniqueName();
    const { cache } = await engineTab({ name, indexedDB: new IDBFactory(), config, engine: { importChunk: 2 } });
    const big = 'x'.repeat(5000);
    const keys = Array.from({ length: 40 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', keys.map((key) => ({ key, value: big })));
    expect(await cache.getMany('track_metadata', keys)).toEqual(keys.map(() => big));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    nearlyFullDisk(name);
    // Three small entries, above the import chunk: an import.
    await cache.setMany('track_metadata', ['a', 'b', 'c'].map((key) => ({ key, value: key })));
    const { entries, evictions } = (await cache.stats()).types.track_metadata!;
    expect({ entries, evictions, list: (await cache.getMany('track_metadata', keys)).filter((value) => value === big).length }).toEqual({ entries: 43, evictions: 0, list: 40 });
  });

  it('a read made after a write or an event of its type sees it, also when that change is retried after a full disk', async () => {
    const { cache, name } = await openCache({ config });
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    restores.push(failCommits(1, undefined, name));
    const writing = cache.set('track_metadata', 'k', 2, { trackId: 't' });
    const [read, has] = [cache.get('track_metadata', 'k'), cache.has('track_metadata', 'k')];
    await writing;
    expect([await read, await has]).toEqual([2, true]);
    // An event's transaction puts its log record: aborted at commit the same way, then retried.
    restores.push(failCommit({ when: (tx) => [...tx.objectStoreNames].includes('events'), database: name }));
    const emitting = cache.emit({ eventType: 'track_removed', trackId: 't' });
    const [after, listed] = [cache.get('track_metadata', 'k'), cache.keys('track_metadata')];
    await emitting;
    expect([await after, await listed]).toEqual([undefined, []]);
  });

  // 2,500 entries are an import: written in steps of their own transactions, any of which Chromium may refuse at commit.
  const batch = Array.from({ length: 2500 }, (_, index) => ({ key: `n${index}`, value: index }));
  /** A record of the batch's entry `nth` (counting from 1). */
  const entry = (nth: number) => (record: unknown) => (record as { key?: unknown }).key === `n${nth - 1}`;

  it.each([1, 999, 1000, 1001, 1250, 2500])(
    'a QuotaExceededError at the commit of the step that writes entry %i of a 2,500-entry setMany evicts and retries: all are written',
    async (nth) => {
      const { cache, name } = await openCache({ config });
      await cache.setMany('successful_api_metadata', Array.from({ length: 50 }, (_, index) => ({ key: `old${index}`, value: 'o'.repeat(2000) })));
      // Only this cache's transactions count: an earlier test's cache may still be writing its read times.
      const fault = failCommit({ database: name, matching: entry(nth) });
      restores.push(fault);
      await cache.setMany('track_metadata', batch);
      expect(fault.fired()).toBe(true);
      expect(await cache.getMany('track_metadata', batch.map((entry) => entry.key))).toEqual(batch.map((entry) => entry.value));
      expect((await cache.stats()).types.successful_api_metadata.evictions).toBeGreaterThan(0);
    },
  );

  it('a QuotaExceededError at the commit of a middle step, then at its retry’s: quota_exceeded, and none of the batch is written', async () => {
    const { cache, name } = await openCache({ config });
    await cache.set('track_metadata', 'before', 0);
    // The step that writes entry 1,250, then the next transaction that writes it (a fault is not asked about one an earlier fault aborts).
    const [first, retry] = [failCommit({ database: name, matching: entry(1250) }), failCommit({ database: name, matching: entry(1250) })];
    restores.push(first, retry);
    const error = await rejection(cache.setMany('track_metadata', batch));
    expect([first.fired(), retry.fired()]).toEqual([true, true]);
    expect(error).toMatchObject({ code: 'quota_exceeded' });
    expect((await cache.getMany('track_metadata', batch.map((entry) => entry.key))).filter((value) => value !== undefined)).toEqual([]);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 0, bytes: 0 });
  });

  it.each(['emit', 'clear'] as const)('%s: a full disk at its commit (its log record) frees room and tries once more; twice, quota_exceeded and nothing invalidated', async (call) => {
    const { cache, clock, name } = await openCache({ config });
    const old = Array.from({ length: 8 }, (_, index) => ({ key: `old${index}`, value: 'o'.repeat(2000) }));
    await cache.setMany('track_metadata', old);
    await cache.setMany('successful_api_metadata', old);
    clock.advance(1000);
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    const logging = (tx: IDBTransaction) => tx.objectStoreNames.contains('events');
    const change = () => (call === 'emit' ? cache.emit({ eventType: 'track_removed', trackId: 't1' }) : cache.clear('track_metadata'));
    const fault = failCommit({ when: logging, database: name });
    restores.push(fault);
    const report = await change();
    expect(fault.fired()).toBe(true);
    if (report) expect(report.invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 0 });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    // Room was made among the least recently used.
    expect((await cache.stats()).types.track_metadata.evictions).toBeGreaterThan(0);

    clock.advance(1000);
    await cache.setMany('track_metadata', old);
    clock.advance(1000);
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    restores.push(failCommit({ when: logging, database: name }), failCommit({ when: logging, database: name }));
    expect(await rejection(change())).toMatchObject({ code: 'quota_exceeded' });
    expect(await cache.get('track_metadata', 'k')).toBe(1);
  });

  it('frees expired entries of every type first, then the least recently used of the type written', async () => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('album_year', 'expired', 1, { ttlSeconds: 1 });
    await cache.set('album_year', 'live', 2);
    await cache.set('successful_api_metadata', 'other', 3);
    await cache.set('track_metadata', 'big', 'x'.repeat(500));
    clock.advance(2000);
    restores.push(failCommits(1, undefined, name));
    await cache.set('track_metadata', 'new', 'y'.repeat(100));
    const { types } = await cache.stats();
    expect(types.album_year).toMatchObject({ entries: 1, expirations: 1, evictions: 0 });
    expect(types.track_metadata).toMatchObject({ entries: 1, evictions: 1 });
    expect(types.successful_api_metadata).toMatchObject({ entries: 1, evictions: 0 });
  });

  it('then the other persistent types, when the type written has too little', async () => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('successful_api_metadata', 'older', 'x'.repeat(300));
    clock.advance(1000);
    await cache.set('album_year', 'newer', 'x'.repeat(300));
    restores.push(failCommits(1, undefined, name));
    await cache.set('track_metadata', 'new', 'y'.repeat(100));
    const { types } = await cache.stats();
    expect(types.successful_api_metadata).toMatchObject({ entries: 0, evictions: 1 });
    expect(types.album_year).toMatchObject({ entries: 1, evictions: 0 });
    expect(await cache.get('track_metadata', 'new')).toBe('y'.repeat(100));
  });

  it('entries read in another tab between planning the room and freeing it are spared, and others freed in their place: the retry fits', async () => {
    const { cache, clock, indexedDB, name } = await openCache({ config });
    const old = Array.from({ length: 40 }, (_, index) => `old${index}`);
    for (const key of old) {
      clock.advance(1000);
      await cache.set('track_metadata', key, 'o'.repeat(200));
    }
    // Another tab, whose page records the reads it answers itself on its own connection.
    const other = await requestDone(indexedDB.open(name));
    restores.push(() => other.close());
    // A full disk: this tab's writes of entries abort at commit until ten entries have been deleted.
    const { puts, deleted } = watchWrites();
    const full = (tx: IDBTransaction) => tx.db !== other && puts.has(tx) && deleted() < 10;
    const first = failCommit({ when: full, database: name });
    restores.push(first, failCommit({ when: full, database: name }));
    // While the room is planned, the other tab reads the twenty oldest entries (its read times are written at once).
    const index = IDBIndex.prototype as unknown as { openKeyCursor: (this: IDBIndex, ...args: unknown[]) => IDBRequest };
    const openKeyCursor = index.openKeyCursor;
    let read = false;
    index.openKeyCursor = function (this: IDBIndex, ...args: unknown[]) {
      const request = openKeyCursor.apply(this, args);
      if (first.fired() && !read && this.name === 'access') {
        read = true;
        recordReadsNow(other, new Map([['track_metadata', new Map(old.slice(0, 20).map((key) => [key, clock.now()]))]]));
      }
      return request;
    };
    restores.push(() => (index.openKeyCursor = openKeyCursor));
    clock.advance(1000);
    await cache.set('track_metadata', 'new', 'n');
    expect(read).toBe(true);
    expect(await cache.get('track_metadata', 'new')).toBe('n');
    expect((await cache.getMany('track_metadata', old.slice(0, 20))).every((value) => value !== undefined)).toBe(true);
    expect((await cache.stats()).types.track_metadata.evictions).toBeGreaterThanOrEqual(10);
  });

  it('a write on a full disk when every entry was read since its read time was last written evicts the least recently read: the retry fits', async () => {
    const { cache, clock, name } = await openCache({ config });
    for (const key of ['a', 'b', 'c']) {
      clock.advance(1000);
      await cache.set('track_metadata', key, key.repeat(200));
    }
    // Each read in turn, b first: their read times are written with the deferred write, a second later.
    for (const key of ['b', 'a', 'c']) {
      clock.advance(1000);
      expect(await cache.get('track_metadata', key)).toBe(key.repeat(200));
    }
    // A full disk: every transaction that puts aborts at its commit until an entry has been deleted.
    const { puts, deleted } = watchWrites();
    const full = (tx: IDBTransaction) => puts.has(tx) && deleted() === 0;
    const first = failCommit({ when: full, database: name });
    restores.push(first, failCommit({ when: full, database: name }), failCommit({ when: full, database: name }));
    clock.advance(1000);
    await cache.set('track_metadata', 'new', 'n');
    expect(first.fired()).toBe(true);
    expect(await cache.getMany('track_metadata', ['a', 'b', 'c', 'new'])).toEqual(['a'.repeat(200), undefined, 'c'.repeat(200), 'n']);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('a write on a full disk when every entry was read while the disk was full (no read time written) evicts the least recently read, not the least recently written', async () => {
    const { cache, clock, name } = await openCache({ config });
    for (const key of ['a', 'b', 'c']) {
      clock.advance(1000);
      await cache.set('track_metadata', key, key.repeat(200));
    }
    // A full disk from now on: every transaction that puts (the reads' times too) aborts at its commit until an entry has been deleted.
    const { puts, deleted } = watchWrites();
    const full = (tx: IDBTransaction) => puts.has(tx) && deleted() === 0;
    restores.push(...Array.from({ length: 12 }, () => failCommit({ when: full, database: name })));
    // Read in turn, c first (the least recently read), a last: on the full disk no read time is written.
    for (const key of ['c', 'b', 'a']) {
      clock.advance(1000);
      expect(await cache.get('track_metadata', key)).toBe(key.repeat(200));
    }
    clock.advance(1000);
    await cache.set('track_metadata', 'new', 'n');
    expect(await cache.getMany('track_metadata', ['a', 'b', 'c', 'new'])).toEqual(['a'.repeat(200), 'b'.repeat(200), undefined, 'n']);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 3, evictions: 1 });
  });

  it.each(['delete', 'deleteMany'] as const)('%s: a full disk at its commit (it records its usage and its mark) frees room and tries once more: the entry is deleted', async (call) => {
    const { cache, clock, name } = await openCache({ config });
    await cache.setMany('track_metadata', Array.from({ length: 8 }, (_, index) => ({ key: `old${index}`, value: 'o'.repeat(2000) })));
    clock.advance(1000);
    await cache.set('track_metadata', 'k', 1);
    restores.push(failCommits(1, undefined, name));
    expect(await (call === 'delete' ? cache.delete('track_metadata', 'k') : cache.deleteMany('track_metadata', ['k']))).toBe(call === 'delete' ? true : 1);
    expect(await cache.has('track_metadata', 'k')).toBe(false);
  });

  it.each(['delete', 'deleteMany'] as const)('%s of the least recently used entry on a full disk answers that it deleted it: the room made for its retry spares its own keys', async (call) => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('track_metadata', 'old', 'o'.repeat(2000));
    clock.advance(1000);
    await cache.setMany('track_metadata', Array.from({ length: 8 }, (_, index) => ({ key: `k${index}`, value: 'k'.repeat(2000) })));
    const changes: string[] = [];
    cache.watch('track_metadata', 'old', (change) => changes.push(change.kind));
    restores.push(failCommits(1, undefined, name));
    expect(await (call === 'delete' ? cache.delete('track_metadata', 'old') : cache.deleteMany('track_metadata', ['old']))).toBe(call === 'delete' ? true : 1);
    expect(await cache.has('track_metadata', 'old')).toBe(false);
    // Told as deleted (the eviction of the others is told too, without keys).
    expect(changes.at(-1)).toBe('delete');
  });

  it.each(['delete', 'deleteMany', 'clear'] as const)("%s of album_year on a full disk makes its room from album_year first, not from track_metadata's older entries (SPEC: the type it changes, then the others)", async (call) => {
    const { cache, clock, name } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: null }, album_year: { maxSizeMb: null } } } } });
    // track_metadata's entries are the least recently used of all, and come first in the config.
    await cache.setMany('track_metadata', Array.from({ length: 8 }, (_, index) => ({ key: `t${index}`, value: 'o'.repeat(2000) })));
    clock.advance(1000);
    await cache.setMany('album_year', Array.from({ length: 8 }, (_, index) => ({ key: `a${index}`, value: 'o'.repeat(2000) })));
    clock.advance(1000);
    restores.push(failCommits(1, undefined, name));
    if (call === 'clear') await cache.clear('album_year');
    else expect(await (call === 'delete' ? cache.delete('album_year', 'a7') : cache.deleteMany('album_year', ['a7']))).toBe(call === 'delete' ? true : 1);
    const { types } = await cache.stats();
    expect([types.track_metadata.entries, types.track_metadata.evictions]).toEqual([8, 0]);
    expect(types.album_year.entries).toBe(call === 'clear' ? 0 : 7 - types.album_year.evictions);
  });

  it.each(['get', 'has', 'entries', 'get with another fingerprint'] as const)('%s of an expired (or stale) entry on a full disk (removing it, a write, fails at commit) answers: the entry is a miss, left for later', async (call) => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('album_year', 'k', 1, { ttlSeconds: 1 });
    await cache.set('album_year', 'f', 2, { fingerprint: 'a' });
    clock.advance(2000);
    restores.push(failCommits(1, undefined, name));
    const answers = {
      get: () => cache.get('album_year', 'k'),
      has: () => cache.has('album_year', 'k'),
      entries: async () => (await cache.entries('album_year')).map(([key]) => key),
      'get with another fingerprint': () => cache.get('album_year', 'f', { fingerprint: 'b' }),
    };
    expect(await answers[call]()).toEqual({ get: undefined, has: false, entries: ['f'], 'get with another fingerprint': undefined }[call]);
  });

  it('a get of a value its schema now refuses, on a full disk (removing it fails at commit), answers a miss; the read that then discards it counts it corrupt, once', async () => {
    const { cache: before, indexedDB, name, clock } = await openCache({ config });
    await before.set('album_year', 'k', { released: 1999 });
    const { cache } = await openCache({ config, indexedDB, name, clock, schemas: { album_year: { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => (typeof (value as { year?: unknown }).year === 'number' ? { value } : { issues: [{ message: 'year expected' }] }) } } } });
    restores.push(failCommits(2, undefined, name));
    expect(await cache.get('album_year', 'k')).toBeUndefined();
    expect(await cache.get('album_year', 'k')).toBeUndefined();
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 1, misses: 2, corrupt: 0 });
    expect(await cache.get('album_year', 'k')).toBeUndefined();
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, misses: 3, corrupt: 1 });
  });

  it('when the retry fails too, rejects with quota_exceeded and writes nothing', async () => {
    const { cache, name } = await openCache({ config });
    await cache.set('track_metadata', 'before', 0);
    restores.push(failCommits(2, undefined, name));
    const error = await rejection(
      cache.setMany('track_metadata', [
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ]),
    );
    expect(isCacheError(error, 'quota_exceeded')).toBe(true);
    expect(await cache.getMany('track_metadata', ['a', 'b'])).toEqual([undefined, undefined]);
    const stats = (await cache.stats()).types.track_metadata;
    expect(stats.entries).toBe(0);
    expect(stats.bytes).toBe(0);
  });

  it.each(['set', 'setMany'] as const)('%s overwriting the least recently used entries on a full disk whose retry fails too: quota_exceeded, and the old values are still there', async (call) => {
    const { cache, clock, name } = await openCache({ config });
    await cache.setMany('track_metadata', ['old1', 'old2'].map((key) => ({ key, value: `${key} before` })));
    clock.advance(1000);
    const others = Array.from({ length: 8 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', others.map((key) => ({ key, value: 'k'.repeat(2000) })));
    restores.push(failCommits(2, undefined, name));
    const keys = call === 'set' ? ['old1'] : ['old1', 'old2', 'new'];
    const error = await rejection(call === 'set' ? cache.set('track_metadata', 'old1', 'after') : cache.setMany('track_metadata', keys.map((key) => ({ key, value: 'after' }))));
    expect(error).toMatchObject({ code: 'quota_exceeded' });
    // Its own keys as they were (old2, not among a set's, may have gone to make room).
    expect(await cache.getMany('track_metadata', keys)).toEqual(['old1 before', 'old2 before', undefined].slice(0, keys.length));
    // Counted as held: what freeing room removed of the others is what is missing.
    const held = (await cache.getMany('track_metadata', ['old1', 'old2', ...others])).filter((value) => value !== undefined).length;
    expect((await cache.stats()).types.track_metadata.entries).toBe(held);
  });

  it('a set overwriting the least recently used entry on a full disk frees room among the others: the retry fits, and the new value is there', async () => {
    const { cache, clock, name } = await openCache({ config });
    await cache.set('track_metadata', 'old', 'before');
    clock.advance(1000);
    const others = Array.from({ length: 8 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', others.map((key) => ({ key, value: 'k'.repeat(2000) })));
    const full = fillDisk({ database: name });
    restores.push(full);
    await cache.set('track_metadata', 'old', 'after');
    expect(full.fired()).toBe(true);
    expect(await cache.get('track_metadata', 'old')).toBe('after');
    const { entries, evictions } = (await cache.stats()).types.track_metadata;
    expect(evictions).toBeGreaterThan(0);
    expect(entries).toBe(1 + (await cache.getMany('track_metadata', others)).filter((value) => value !== undefined).length);
  });

  it('an import overwriting the least recently used entries on a full disk whose retry fails too: quota_exceeded, and every entry it would have replaced is still there', async () => {
    const { cache, clock, name } = await openCache({ config });
    const olds = Array.from({ length: 20 }, (_, index) => ({ key: `n${index}`, value: `n${index} before` }));
    await cache.setMany('track_metadata', olds);
    clock.advance(1000);
    await cache.setMany('track_metadata', Array.from({ length: 8 }, (_, index) => ({ key: `k${index}`, value: 'k'.repeat(2000) })));
    // The step that writes entry 1,250, then the next transaction that writes it: the import, then its retry.
    restores.push(failCommit({ database: name, matching: entry(1250) }), failCommit({ database: name, matching: entry(1250) }));
    expect(await rejection(cache.setMany('track_metadata', batch))).toMatchObject({ code: 'quota_exceeded' });
    expect(await cache.getMany('track_metadata', olds.map(({ key }) => key))).toEqual(olds.map(({ value }) => value));
    expect(await cache.get('track_metadata', 'n1249')).toBeUndefined();
  });

  it('cleanup on a full disk (every transaction that puts is refused) still removes the expired entries and evicts down to the mark, deleting only, sparing what was just read', async () => {
    const policies = new SmartCacheConfig({ caching: { policies: { album_year: { maxSizeMb: 0.01 } } } });
    const { cache, clock, name } = await openCache({ config: policies });
    await cache.set('album_year', 'expired', 1, { ttlSeconds: 1 });
    for (let index = 0; index < 8; index++) {
      clock.advance(1000);
      await cache.set('album_year', `k${index}`, 'x'.repeat(450));
    }
    // About 7.8 kB held: a budget of 0.005 MiB puts the mark at about 4.2 kB.
    policies.updatePolicy('album_year', { maxSizeMb: 0.005 });
    // Full until the test ends: a write of entries (a usage record, a read time) aborts at its commit.
    restores.push(failCommits(Infinity, undefined, name));
    clock.advance(1000);
    expect(await cache.get('album_year', 'k0')).toBeDefined();
    const report = await cache.cleanup().catch((error: unknown) => error);
    expect(report).toMatchObject({ expired: 1, evicted: 4 });
    // The least recently used went, but not k0, read since they were written.
    const value = 'x'.repeat(450);
    expect(await cache.getMany('album_year', ['k0', 'k1', 'k4', 'k5', 'k7'])).toEqual([value, undefined, undefined, value, value]);
    const stats = (await cache.stats()).types.album_year;
    expect(stats).toMatchObject({ entries: 4, expirations: 1, evictions: 4 });
    expect(stats.bytes).toBeLessThanOrEqual(0.8 * 0.005 * 2 ** 20);
  });

  it('cleanup() on a full disk (every transaction that puts aborts at commit) still removes the expired and evicts to the mark, with deletes only; the counts stay exact', async () => {
    // One tab wrote 20 album_year entries of about 1 kB without a budget; this one's budget is 0.01 MiB (its mark 80 % of that).
    const { cache: wrote, indexedDB, name, clock } = await openCache({ config: { caching: { policies: { album_year: { maxSizeMb: null } } } } });
    const keys = Array.from({ length: 20 }, (_, index) => `k${index}`);
    for (const [index, key] of keys.entries()) await wrote.set('album_year', key, 'x'.repeat(1000), index === 0 ? { ttlSeconds: 60 } : {});
    const { cache } = await openCache({ indexedDB, name, clock, config: { caching: { policies: { album_year: { maxSizeMb: 0.01 } } } } });
    await cache.set('generic', 'g', 1, { ttlSeconds: 60 });
    clock.advance(2 * MINUTE * 1000);
    restores.push(failCommits(1000, undefined, name));
    const report = await cache.cleanup();
    restores.pop()?.();
    expect(report.expired).toBe(2);
    expect(report.evicted).toBeGreaterThan(0);
    const left = (await cache.getMany('album_year', keys)).filter((value) => value !== undefined).length;
    const { types } = await cache.stats();
    expect(types.album_year).toMatchObject({ entries: left, expirations: 1, evictions: report.evicted });
    expect(types.album_year.bytes).toBeLessThanOrEqual(0.8 * 0.01 * 2 ** 20);
    expect(types.generic).toMatchObject({ entries: 0, expirations: 1 });
    expect(left).toBe(19 - report.evicted);
  });
});

describe('storage faults', () => {
  it.each([
    ['a delete request fails, aborting its transaction', (database: string) => failRequest({ nth: 2, name: 'UnknownError', database })],
    ['its commit fails', (database: string) => failCommits(1, 'UnknownError', database)],
  ])('an event whose transaction fails (%s) rejects, and nothing of it happened: entries, counts and the log as before', async (_how, fault) => {
    const { cache, indexedDB, name } = await openCache();
    const keys = ['a', 'b', 'c'];
    await cache.setMany('track_metadata', keys.map((key, index) => ({ key, value: index, trackId: key === 'c' ? 't2' : 't1' })));
    const before = (await cache.stats()).types.track_metadata;
    const logged = () => countRecords(indexedDB, name, 'events');
    const logBefore = await logged();
    const restore = fault(name);
    restores.push(restore);
    expect(await rejection(cache.emit({ eventType: 'track_removed', trackId: 't1' }))).toMatchObject({ name: 'CacheError', code: 'storage_unavailable' });
    restore();
    expect(await cache.getMany('track_metadata', keys)).toEqual([0, 1, 2]);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: before.entries, bytes: before.bytes, invalidations: 0 });
    expect(await logged()).toBe(logBefore);
    // The same event, once the fault is gone, does all of it.
    expect((await cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated.track_metadata).toBe(2);
    expect(await logged()).toBe(logBefore + 1);
  });

  it('works in memory when IndexedDB cannot be opened, and says why', async () => {
    const { cache } = await openCache({ indexedDB: brokenFactory() });
    await cache.set('track_metadata', 'k', 'v');
    expect(await cache.get('track_metadata', 'k')).toBe('v');
    const stats = await cache.stats();
    expect(stats.degraded).toMatch(/IndexedDB is disabled/);
    expect(stats.types.track_metadata.storage).toBe('memory');
  });

  it('an open refused at once logs the same line as IndexedDB failing later on: "IndexedDB is unusable, keeping persistent types in memory"', async () => {
    const { cache, logger } = await openCache({ indexedDB: brokenFactory('SecurityError', 'The operation is insecure.') });
    expect((await cache.stats()).types.track_metadata.storage).toBe('memory');
    expect(String(logger.error.mock.calls[0]?.[0])).toMatch(/^Reprise: IndexedDB is unusable, keeping persistent types in memory \(.*The operation is insecure/);
  });

  it.each(['UnknownError', 'InvalidStateError'])('an open that keeps failing with %s (an error event, as a browser fails it): the first thing logged says IndexedDB cannot be opened and that persistent types are kept in memory', async (error) => {
    const tab = tabFactory(new IDBFactory());
    tab.refuse(error);
    const { cache, logger } = await openCache({ indexedDB: tab.factory });
    await cache.set('track_metadata', 'k', 'v');
    expect(await cache.get('track_metadata', 'k')).toBe('v');
    expect((await cache.stats()).degraded).toContain(error);
    const [first] = logger.error.mock.calls.map(([message]) => String(message));
    expect(first).toMatch(/^Reprise: IndexedDB .*keeping persistent types in memory/);
    expect(first).toContain(`cannot be opened (${error}`);
    // With the failure itself (its cause the browser's error), not undefined: a console prints it.
    expect(logger.error.mock.calls[0]?.[1]).toMatchObject({ code: 'storage_unavailable', cause: expect.objectContaining({ name: error }) });
  });

  it('a connection lost while the cache opens (its first transaction aborted) does not keep the cache in memory', async () => {
    const { factory, inner } = losingConnection('success', 1);
    const { cache, name, clock } = await openCache({ indexedDB: factory });
    expect((await cache.stats()).degraded).toBeNull();
    await cache.set('track_metadata', 'k', 1);
    const { cache: other } = await openCache({ indexedDB: inner, name, clock });
    expect(await other.get('track_metadata', 'k')).toBe(1);
  });

  it('an open whose upgrade is aborted under it (the connection closed meanwhile) is tried again, not given up for memory', async () => {
    const { factory, opens } = losingConnection('upgradeneeded', 1);
    const { cache } = await openCache({ indexedDB: factory });
    expect(opens.count).toBe(2);
    expect((await cache.stats()).degraded).toBeNull();
    await cache.set('album_year', 'k', 1);
    expect(await cache.get('album_year', 'k')).toBe(1);
  });

  it('opens aborted twice in a row fail that attempt only; the cache stays on IndexedDB and the next open works', async () => {
    const { factory, opens } = losingConnection('upgradeneeded', 2);
    const { cache } = await openCache({ indexedDB: factory });
    expect(opens.count).toBe(3);
    expect((await cache.stats()).degraded).toBeNull();
    await cache.set('album_year', 'k', 1);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 1, storage: 'indexeddb' });
  });

  it('works in memory where there is no IndexedDB at all', async () => {
    const cache = await createCache({ worker: false, name: uniqueName() });
    await cache.set('album_year', 'k', 1);
    expect(await cache.get('album_year', 'k')).toBe(1);
    expect((await cache.stats()).degraded).toMatch(/not available/);
  });

  it('a database deleted from another tab is closed, reopened and used again', async () => {
    const { cache, indexedDB, name } = await openCache();
    await cache.set('track_metadata', 'k', 'v');
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await cache.set('track_metadata', 'k', 'again');
    expect(await cache.get('track_metadata', 'k')).toBe('again');
    expect((await cache.stats()).degraded).toBeNull();
  });

  it('a newer layout opened in another tab closes this connection, and the cache goes on in memory', async () => {
    const { cache, logger, indexedDB, name } = await openCache();
    await cache.set('track_metadata', 'k', 'v');
    const newer = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 3);
      // A newer Reprise that changed the layout marks it (adding custom types' stores bumps versions too).
      request.onupgradeneeded = () => request.result.createObjectStore(`layout:${LAYOUT + 1}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await cache.set('track_metadata', 'k2', 'v2');
    expect(await cache.get('track_metadata', 'k2')).toBe('v2');
    const stats = await cache.stats();
    expect(stats.degraded).toMatch(/VersionError/);
    expect(stats.types.track_metadata.storage).toBe('memory');
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('in memory'), expect.objectContaining({ code: 'storage_unavailable' }));
    newer.close();
  });

  it('a newer layout opened in another tab: a read of a memory type that checks the log goes on in memory too', async () => {
    const { cache, indexedDB, name } = await openCache({ config: { caching: { policies: { generic: { invalidationStrategy: 'event_driven' } } } } });
    await cache.set('generic', 'k', 'v');
    const newer = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 3);
      // A newer Reprise that changed the layout marks it (adding custom types' stores bumps versions too).
      request.onupgradeneeded = () => request.result.createObjectStore(`layout:${LAYOUT + 1}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    expect(await cache.get('generic', 'k')).toBe('v');
    expect((await cache.stats()).degraded).toMatch(/VersionError/);
    newer.close();
  });

  it('a lost connection is reopened and the operation retried', async () => {
    const { factory, connections } = trackedFactory();
    const { cache } = await openCache({ indexedDB: factory });
    await cache.set('track_metadata', 'k', 'v');
    for (const connection of connections) forceCloseDatabase(connection as never);
    expect(await cache.get('track_metadata', 'k')).toBe('v');
    await cache.set('track_metadata', 'k2', 'v2');
    expect(connections.length).toBe(2);
    expect((await cache.stats()).degraded).toBeNull();
  });

  it.each(['set', 'delete', 'emit'] as const)('a %s whose transaction the browser aborts as it closes the connection (AbortError, as the spec has it) is retried on a new connection and happens', async (call) => {
    const tab = tabFactory(new IDBFactory());
    const { cache } = await openCache({ indexedDB: tab.factory });
    await cache.set('track_metadata', 'k', 'v', { trackId: 't' });
    // Site data cleared elsewhere, a backend failure: the browser closes the connection as the call's transaction writes.
    const put = IDBObjectStore.prototype.put;
    let lost = false;
    const spy = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      const request = put.apply(this, args);
      if (!lost && this.transaction.mode === 'readwrite') {
        lost = true;
        // Once the call's code has placed its requests (the browser's close comes from outside it).
        queueMicrotask(() => tab.loseConnection());
      }
      return request;
    });
    restores.push(() => spy.mockRestore());
    const done = call === 'set' ? cache.set('track_metadata', 'k2', 'v2') : call === 'delete' ? cache.delete('track_metadata', 'k') : cache.emit({ eventType: 'track_removed', trackId: 't' });
    const outcome = await done.then(
      () => 'resolved',
      (error: { code?: string; message?: string }) => `rejected ${error.code} ${error.message}`,
    );
    expect(lost).toBe(true);
    expect(outcome).toBe('resolved');
    expect(await cache.getMany('track_metadata', ['k', 'k2'])).toEqual(call === 'set' ? ['v', 'v2'] : [undefined, undefined]);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: call === 'set' ? 2 : 0, storage: 'indexeddb' });
  });

  it('another failure of a write rejects with storage_unavailable and writes nothing', async () => {
    const { cache, name } = await openCache();
    restores.push(failCommits(1, 'UnknownError', name));
    const error = await rejection(cache.set('track_metadata', 'k', 'v'));
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    expect((await cache.stats()).degraded).toBeNull();
  });
});

/** How many records an object store of the database holds, read without Reprise. */
async function countRecords(indexedDB: IDBFactory, name: string, store: string): Promise<number> {
  const db = await requestDone(indexedDB.open(name));
  try {
    return await requestDone(db.transaction(store, 'readonly').objectStore(store).count());
  } finally {
    db.close();
  }
}

describe('deleteMany under an id (a retry after the worker died)', () => {
  /** An engine whose track_metadata holds 'old', expired, and 'live'. */
  async function oneExpiredOneLive() {
    const clock = fakeClock();
    const name = uniqueName();
    const tab = await engineTab({ name, indexedDB: new IDBFactory(), engine: { now: clock.now } });
    await tab.cache.set('track_metadata', 'old', 'v', { ttlSeconds: 1 });
    await tab.cache.set('track_metadata', 'live', 'w');
    clock.advance(2000);
    return { ...tab, name };
  }

  it('a retry answers as the first attempt did: an expired entry it removed as an expiration is not counted as deleted', async () => {
    const { cache, engine } = await oneExpiredOneLive();
    const once = { id: 'delete-1' };
    expect(await engine.deleteMany('track_metadata', ['old', 'live'], { ...once, retry: false })).toBe(1);
    // The answer was lost with the worker: the next one is asked again under the same id.
    expect(await engine.deleteMany('track_metadata', ['old', 'live'], { ...once, retry: true })).toBe(1);
    await cache.close();
  });

  it('the expired entry goes in the deletion’s own transaction: one that aborts at commit (a full disk) is tried once more whole, answers its count, and counts the expiration once', async () => {
    const { cache, engine, name } = await oneExpiredOneLive();
    // This cache's transactions only: another test's cache writing its read times would count among them.
    const fault = failCommit({ when: (tx) => tx.mode === 'readwrite' && [...tx.objectStoreNames].some((store) => store.includes('track_metadata')), database: name });
    restores.push(fault);
    expect(await engine.deleteMany('track_metadata', ['old', 'live'], { id: 'delete-2', retry: false })).toBe(1);
    expect(fault.fired()).toBe(true);
    expect(await cache.has('track_metadata', 'live')).toBe(false);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
    // The answer lost with the worker: the retry answers the same, and counts nothing again.
    expect(await engine.deleteMany('track_metadata', ['old', 'live'], { id: 'delete-2', retry: true })).toBe(1);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
    await cache.close();
  });
});

describe('one tab’s changes of a type apply in the order they reach the engine', () => {
  const many = (count: number) => Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: index }));

  // An import (a persistent type's) holds up none made after it: see importBatch.test. In memory a setMany is one step, whatever its size.
  it.each([
    ['generic', 'generic', () => new IDBFactory()],
    ['track_metadata kept in memory', 'track_metadata', () => brokenFactory()],
  ] as const)('%s: a set, a setMany of more than a thousand entries, then (once the set has resolved) a delete of one of its keys: the key is gone', async (_what, type, indexedDB) => {
    const { cache, engine } = await engineTab({ name: uniqueName(), indexedDB: indexedDB() });
    await cache.set(type, 'warm', 0);
    // Straight to the engine, as a page hands them over: the setMany waits for the set, the delete for nothing left on its way.
    const set = engine.setMany(type, [{ key: 'x', value: 'x' }]);
    const setMany = engine.setMany(type, many(1500));
    await set;
    const deleted = engine.deleteMany(type, ['k0']);
    await setMany;
    expect(await deleted).toBe(1);
    expect(await cache.getMany(type, ['k0', 'k1', 'x'])).toEqual([undefined, 1, 'x']);
    await cache.close();
  });
});

describe('a commit mark written before marks listed what their write set (an older Reprise: no revisions)', () => {
  it('still says the write happened, and tells its keys, but those its guard left out', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache, engine } = await engineTab({ name, indexedDB });
    const seen: { kind: string; keys: string[] | null }[] = [];
    cache.watch('track_metadata', null, ({ kind, keys }) => void seen.push({ kind, keys }));
    const db = await requestDone(indexedDB.open(name));
    const tx = db.transaction('track_metadata', 'readwrite');
    tx.objectStore('track_metadata').put({ key: ['commit', 'old-1'], at: Date.now(), left: ['b'] });
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    expect(await engine.committed('track_metadata', 'old-1', new Set(['a', 'b']))).toBe(true);
    await vi.waitFor(() => expect(seen).not.toEqual([]));
    expect(seen).toEqual([{ kind: 'set', keys: ['a'] }]);
    await cache.close();
  });
});

describe('commit marks (how a next worker tells whether a dead one’s change happened)', () => {
  /** The commit marks in a type's store: on disk (navigator.storage.estimate counts them), though neither stats() nor a budget does. */
  async function marksOnDisk(indexedDB: IDBFactory, name: string, type: ContentType): Promise<number> {
    const db = await requestDone(indexedDB.open(name));
    try {
      return await requestDone(db.transaction(type, 'readonly').objectStore(type).count(commitMarks()));
    } finally {
      db.close();
    }
  }

  /**
   * A tab on `indexedDB` whose connection the browser closes under it (`close()`); its reopen then waits (the machine
   * asleep) until `reopen()`, answered as the real open made at that moment is.
   */
  function closedUntilReopened(indexedDB: IDBFactory) {
    const side = tabFactory(indexedDB);
    let reopen!: () => void;
    const close = () => {
      reopen = holdNextOpen(side);
      side.loseConnection();
    };
    return { factory: side.factory, close, reopen: () => reopen() };
  }

  /** A tab whose periodic upkeep (its turn in IndexedDB: the day-old commit marks trimmed) runs when `upkeep()` is awaited. */
  async function upkeepTab(name: string, indexedDB: IDBFactory, now: () => number) {
    let run: (() => void) | undefined;
    let ran: unknown;
    const locks = {
      request: (lock: string, _options: LockOptions, callback: (lock: Lock | null) => unknown) => (lock.endsWith(':cleanup') ? (ran = Promise.resolve(callback({ name: lock } as Lock))) : callback({ name: lock } as Lock)),
      query: async () => ({ held: [] }),
    } as unknown as LockManager;
    const config = tableOf(new SmartCacheConfig({ caching: { cleanupIntervalSeconds: 3600 } }));
    const engine = await Engine.create({ name, config, indexedDB, now, cloneValues: true, locks, schedule: (callback, ms) => (ms === 3_600_000 || ms === OVERDUE_AFTER_MS ? void (run = callback) : later(callback, ms)) });
    return {
      engine,
      async upkeep() {
        run!();
        await ran;
      },
    };
  }

  it.each(['setMany', 'setMany of 1,500 entries (an import)', 'deleteMany'] as const)(
    'a %s held up (its connection closed under it, the reopen waiting while the machine sleeps a day) keeps its mark for a day from its commit: a next worker finds it made, and answers as it did',
    async (call) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const clock = fakeClock();
      const { engine: other } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
      await other.setMany('track_metadata', [{ key: 'k', value: 'before' }]);
      const tab = closedUntilReopened(indexedDB);
      const { engine: dying } = await engineTab({ name, indexedDB: tab.factory, engine: { now: clock.now } });
      await dying.stats();
      tab.close();
      // An import (a setMany of more than a thousand entries) is stamped in its last step's transaction, which commits it.
      const sets = call.endsWith('(an import)') ? Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index })) : [{ key: 'k', value: 'set' }];
      const change = call === 'deleteMany' ? dying.deleteMany('track_metadata', ['k'], { id: 'c1', retry: false }) : dying.setMany('track_metadata', sets, { commitId: 'c1' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      clock.advance(25 * HOUR * 1000);
      tab.reopen();
      await change;
      // Its answer lost (its worker died as it committed); another tab's hourly upkeep runs meanwhile.
      const { engine: cleaner, upkeep } = await upkeepTab(name, indexedDB, clock.now);
      await upkeep();
      const { engine: next } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
      if (call !== 'deleteMany') {
        expect(await next.committed('track_metadata', 'c1')).toBe(true);
      } else {
        // Another tab sets the key again before the page's next worker gets the delete again.
        await other.setMany('track_metadata', [{ key: 'k', value: 'set since' }]);
        expect(await next.deleteMany('track_metadata', ['k'], { id: 'c1', retry: true })).toBe(1);
        expect((await next.getMany('track_metadata', ['k']))[0]?.value).toBe('set since');
      }
      await Promise.all([other, dying, next, cleaner].map((engine) => engine.close()));
    },
  );

  it('a tab’s answered writes, read-throughs and deletes leave about one mark per type on disk, not one per call for a day', async () => {
    const { cache, clock, indexedDB, name } = await openCache();
    // A value saved again and again (a persister's), lists written, read through and deleted.
    for (let index = 0; index < 50; index++) {
      clock.advance(1000);
      await cache.set('track_metadata', 'saved', { index });
    }
    for (let index = 0; index < 10; index++) await cache.setMany('track_metadata', Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: n })));
    await cache.setMany('track_metadata', Array.from({ length: 1500 }, (_, n) => ({ key: `big${n}`, value: n })));
    for (let index = 0; index < 10; index++) expect(await cache.getOrSet('track_metadata', `fetched${index}`, () => index)).toBe(index);
    for (let index = 0; index < 10; index++) expect(await cache.delete('track_metadata', `k${index}`)).toBe(true);
    await cache.set('track_metadata', 'last', 1);
    expect(await marksOnDisk(indexedDB, name, 'track_metadata')).toBeLessThanOrEqual(1);
    await cache.close();
  });

  it('a set refused because the injected clock read NaN leaves the marks of the sets answered before it to the next write, which deletes them', async () => {
    let time = Date.UTC(2026, 0, 1);
    const { cache, indexedDB, name } = await openCache({ now: () => time });
    for (let index = 0; index < 3; index++) {
      time += 1000;
      await cache.set('track_metadata', 'saved', { index });
    }
    time = NaN;
    expect(isCacheError(await rejection(cache.set('track_metadata', 'during', 1)), 'invalid_argument')).toBe(true);
    time = Date.UTC(2026, 0, 1, 0, 1);
    await cache.set('track_metadata', 'after', 1);
    await cache.set('track_metadata', 'last', 1);
    expect(await marksOnDisk(indexedDB, name, 'track_metadata')).toBeLessThanOrEqual(1);
    await cache.close();
  });
});

describe('concurrent sets of a type (an app caching each answer as it arrives)', () => {
  const sets = (count: number, from = 0) => Array.from({ length: count }, (_, index) => ({ key: `k${from + index}`, value: { index: from + index } }));

  /** The readwrite transactions of `name` on the track_metadata store made while `run` runs. */
  async function writesOf(name: string, run: () => Promise<unknown>): Promise<number> {
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      await run();
      return transaction.mock.calls.filter(([stores, mode], index) => (transaction.mock.contexts[index] as IDBDatabase).name === name && mode === 'readwrite' && [stores].flat().includes('track_metadata')).length;
    } finally {
      transaction.mockRestore();
    }
  }

  it('200 sets made at once are written in a few transactions, not one each; every one is stored, counted once, and heard', async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    await cache.set('track_metadata', 'first', 0);
    const heard: string[] = [];
    cache.watch('track_metadata', null, (change) => heard.push(...(change.keys ?? [])));
    const writes = await writesOf(name, () => Promise.all(sets(200).map(({ key, value }) => cache.set('track_metadata', key, value))));
    expect(writes).toBeLessThanOrEqual(3);
    expect(await cache.getMany('track_metadata', sets(200).map(({ key }) => key))).toEqual(sets(200).map(({ value }) => value));
    expect((await cache.stats()).types.track_metadata.entries).toBe(201);
    expect(new Set(heard)).toEqual(new Set(sets(200).map(({ key }) => key)));
    // Another tab finds them all in IndexedDB.
    const { cache: other } = await openCache({ name, indexedDB, clock });
    expect((await other.keys('track_metadata')).length).toBe(201);
  });

  it('each set resolves once its write has committed: another tab reading the key then finds it', async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await cache.set('track_metadata', 'first', 0);
    const seen = await Promise.all(sets(50).map(({ key, value }) => cache.set('track_metadata', key, value).then(() => other.get('track_metadata', key))));
    expect(seen).toEqual(sets(50).map(({ value }) => value));
  });

  it('a value over the type’s whole budget rejects invalid_value alone: the sets made with it are written', async () => {
    const { cache } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: 0.01 } } } } });
    await cache.set('track_metadata', 'first', 0);
    const settled = await Promise.allSettled([
      ...sets(5).map(({ key, value }) => cache.set('track_metadata', key, value)),
      cache.set('track_metadata', 'huge', 'x'.repeat(20_000)),
      ...sets(5, 5).map(({ key, value }) => cache.set('track_metadata', key, value)),
    ]);
    expect(settled.map((result) => result.status)).toEqual([...Array(5).fill('fulfilled'), 'rejected', ...Array(5).fill('fulfilled')]);
    expect(((settled[5] as PromiseRejectedResult).reason as { code: string }).code).toBe('invalid_value');
    expect(await cache.getMany('track_metadata', [...sets(10).map(({ key }) => key), 'huge'])).toEqual([...sets(10).map(({ value }) => value), undefined]);
  });

  it.each([
    // The tenth request is past the first set's transaction: in the others' (theirs together, or one's alone);
    // the second write to commit is then the retry's (after room is made), or the next set's.
    ['the others’ transaction aborts at commit (QuotaExceededError), and again the retry’s', (database: string) => {
      let commits = 0;
      return [failCommit({ nth: 2, database }), failCommit({ database, when: (tx) => tx.mode === 'readwrite' && [...tx.objectStoreNames].includes('track_metadata') && ++commits === 2 })];
    }],
    ['the second write transaction aborts at commit (UnknownError)', (database: string) => {
      let writes = 0;
      return [failCommit({ name: 'UnknownError', database, when: (tx) => tx.mode === 'readwrite' && [...tx.objectStoreNames].includes('track_metadata') && ++writes === 2 })];
    }],
  ])('%s: no set rejects for another’s transaction, and all are written', async (_how, faults) => {
    const { cache, name } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: null } } } } });
    await cache.set('track_metadata', 'first', 0);
    // The sets after the first wait for it, together.
    const first = cache.set('track_metadata', 'k0', { index: 0 });
    restores.push(...faults(name));
    const settled = await Promise.allSettled([first, ...sets(20, 1).map(({ key, value }) => cache.set('track_metadata', key, value))]);
    const rejected = settled.filter((result) => result.status === 'rejected');
    // As before: the set whose own transaction failed twice rejects; none other does.
    expect(rejected.length).toBeLessThanOrEqual(1);
    const stored = await cache.getMany('track_metadata', sets(21).map(({ key }) => key));
    expect(stored.filter((value, index) => value === undefined && settled[index]!.status === 'fulfilled')).toEqual([]);
    // A full disk evicts the least recently used ('first'): the count is of what is there.
    expect((await cache.stats()).types.track_metadata.entries).toBe((await cache.keys('track_metadata')).length);
  });

  it('a worker that dies as a group of 1,000 sets commits (room made for them) leaves each to be told again by the next: a watcher hears each key once', async () => {
    const name = uniqueName();
    const clock = fakeClock();
    let answers = 0;
    let armed = false;
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: new IDBFactory(),
      now: clock.now,
      config: { caching: { policies: { track_metadata: { maxSizeMb: 0.25 } } } },
      // The second set's answer is lost: the first waits alone, the others together after it.
      afterCall: (method, _args, worker) => void (method === 'setMany' && armed && ++answers === 2 && worker.kill()),
    });
    for (let index = 0; index < 20; index++) await cache.set('track_metadata', `old${index}`, 'x'.repeat(5000));
    const heard = new Map<string, number>();
    cache.watch('track_metadata', null, (change) => change.kind === 'set' && change.keys?.forEach((key) => heard.set(key, (heard.get(key) ?? 0) + 1)));
    armed = true;
    const keys = Array.from({ length: 1001 }, (_, index) => `k${index}`);
    const settled = await Promise.allSettled(keys.map((key) => cache.set('track_metadata', key, { key })));
    expect(workers.length).toBe(2);
    const written = keys.filter((_, index) => settled[index]!.status === 'fulfilled');
    expect(written.length).toBeGreaterThan(1);
    expect([...heard].filter(([, times]) => times > 1)).toEqual([]);
    expect([...heard.keys()].sort()).toEqual(written.sort());
  });

  it('two sets of one key made at once leave the later; a delete between them keeps its place', async () => {
    const { cache } = await openCache();
    await cache.set('track_metadata', 'first', 0);
    const heard: string[] = [];
    cache.watch('track_metadata', 'k', (change) => heard.push(change.kind));
    await Promise.all([
      cache.set('track_metadata', 'k', 1),
      cache.set('track_metadata', 'j', 1),
      cache.set('track_metadata', 'k', 2),
      cache.delete('track_metadata', 'j'),
      cache.set('track_metadata', 'k', 3),
      cache.set('track_metadata', 'i', 1),
      cache.delete('track_metadata', 'i'),
      cache.set('track_metadata', 'j', 2),
    ]);
    expect(await cache.getMany('track_metadata', ['k', 'j', 'i'])).toEqual([3, 2, undefined]);
    const stats = (await cache.stats()).types.track_metadata;
    expect(stats.entries).toBe(3);
    expect(heard).toEqual(['set', 'set', 'set']);
  });
});
