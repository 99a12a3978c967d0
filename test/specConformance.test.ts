// SPEC.md statements checked through the public API, in-process (worker: false) and with the engine
// "in a worker" (test/support/inProcessWorkers), where the other suites check them in one mode only.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { INFINITE_TTL, MINUTE, SmartCacheConfig, createCache, type Schemas } from '../src/index';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';

type Opened = Awaited<ReturnType<typeof openCache>>;
type Open = (options?: { clock?: ReturnType<typeof fakeClock>; config?: SmartCacheConfig | Record<string, unknown> }) => Promise<Opened>;

const modes: [string, Open][] = [
  ['worker: false', (options = {}) => openCache(options as Parameters<typeof openCache>[0])],
  [
    'in a worker',
    async ({ clock = fakeClock(), config } = {}) => {
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const plain = config instanceof SmartCacheConfig ? config.toJSON() : config;
      const { cache, logger } = await openRemoteCache({ name, indexedDB, now: clock.now, config: plain as never });
      return { cache: cache as unknown as Opened['cache'], clock, indexedDB, name, logger };
    },
  ],
];

describe.each(modes)('SPEC §3 methods, %s', (_mode, open) => {
  it('get of a miss is undefined; getMany answers in key order, undefined for each miss, a key asked twice answered twice', async () => {
    const { cache } = await open();
    await cache.set('track_metadata', 'b', 2);
    expect(await cache.get('track_metadata', 'a')).toBeUndefined();
    expect(await cache.getMany('track_metadata', ['a', 'b', 'c', 'b'])).toEqual([undefined, 2, undefined, 2]);
  });

  it('delete resolves true for an entry, false for none or an expired one; clear(type) clears that type, clear() every type', async () => {
    const { cache, clock } = await open();
    await cache.set('generic', 'a', 1);
    expect(await cache.delete('generic', 'a')).toBe(true);
    expect(await cache.delete('generic', 'a')).toBe(false);
    await cache.set('album_year', 'e', 1, { ttlSeconds: 1 });
    clock.advance(2000);
    expect(await cache.delete('album_year', 'e')).toBe(false);
    await cache.set('generic', 'a', 1);
    await cache.set('album_year', 'a', 1);
    await cache.clear('generic');
    expect(await cache.get('generic', 'a')).toBeUndefined();
    expect(await cache.get('album_year', 'a')).toBe(1);
    await cache.clear();
    expect(await cache.get('album_year', 'a')).toBeUndefined();
  });

  it('emit reports a count for each type the event applies to (0 included) and none for the others', async () => {
    const { cache } = await open();
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await cache.set('successful_api_metadata', 'k', 1, { trackId: ['t0', 't1'] });
    expect(await cache.emit({ eventType: 'track_removed', trackId: 't1' })).toEqual({
      eventType: 'track_removed',
      invalidated: { track_metadata: 1, successful_api_metadata: 1 },
    });
    expect(await cache.emit({ eventType: 'track_added', trackId: 't1' })).toEqual({ eventType: 'track_added', invalidated: {} });
    expect(await cache.emit({ eventType: 'library_sync' })).toEqual({ eventType: 'library_sync', invalidated: { album_year: 0 } });
    expect((await cache.emit({ eventType: 'manual_invalidation' })).invalidated).toEqual({ track_metadata: 0, successful_api_metadata: 0, album_year: 0 });
  });

  it("on('*') hears a local event after its invalidation, with its counts; unsubscribed, it hears no more", async () => {
    const { cache } = await open();
    const heard: unknown[] = [];
    const off = cache.on('*', (event, context) => heard.push([event, context]));
    await cache.set('album_year', 'x', 1);
    await cache.emit({ eventType: 'library_sync' });
    expect(heard).toEqual([[{ eventType: 'library_sync' }, { source: 'local', invalidated: { album_year: 1 } }]]);
    off();
    await cache.emit({ eventType: 'library_sync' });
    expect(heard).toHaveLength(1);
  });

  it('stats: every type in order with every field, maxBytes = maxSizeMb × 2²⁰ or null, degraded null, droppedMessages 0', async () => {
    const { cache } = await open({ config: { caching: { policies: { generic: { maxSizeMb: null } } } } });
    const stats = await cache.stats();
    expect(stats.degraded).toBeNull();
    expect(stats.droppedMessages).toBe(0);
    expect(Object.keys(stats.types)).toEqual(['track_metadata', 'successful_api_metadata', 'failed_api_lookup', 'album_year', 'negative_result', 'generic']);
    const empty = { entries: 0, bytes: 0, hits: 0, misses: 0, evictions: 0, expirations: 0, invalidations: 0, corrupt: 0 };
    expect(stats.types.track_metadata).toEqual({ ...empty, maxBytes: 100 * 2 ** 20, storage: 'indexeddb' });
    expect(stats.types.failed_api_lookup).toEqual({ ...empty, maxBytes: 5 * 2 ** 20, storage: 'memory' });
    expect(stats.types.generic).toEqual({ ...empty, maxBytes: null, storage: 'memory' });
  });

  it('hits and misses: get, getMany and getOrSet count, has and keys do not; an expired read is a miss and an expiration', async () => {
    const { cache, clock } = await open();
    for (const type of ['generic', 'album_year'] as const) {
      await cache.set(type, 'a', 1, { ttlSeconds: 60 });
      await cache.get(type, 'a');
      await cache.get(type, 'b');
      await cache.getMany(type, ['a', 'b']);
      await cache.getOrSet(type, 'c', () => 3);
      await cache.getOrSet(type, 'c', () => 4);
      await cache.has(type, 'a');
      await cache.has(type, 'z');
      await cache.keys(type);
    }
    clock.advance(61_000);
    for (const type of ['generic', 'album_year'] as const) {
      expect(await cache.get(type, 'a')).toBeUndefined();
      const stats = (await cache.stats()).types[type];
      expect([stats.hits, stats.misses, stats.expirations]).toEqual([3, 4, 1]);
    }
  });

  it('fingerprint validation: another fingerprint is a miss and deletes the entry; getOrSet with a new fingerprint fetches anew', async () => {
    const { cache } = await open();
    await cache.set('album_year', 'a', 1990, { fingerprint: 'f1' });
    expect(await cache.get('album_year', 'a', { fingerprint: 'f1' })).toBe(1990);
    expect(await cache.get('album_year', 'a', { fingerprint: 'f2' })).toBeUndefined();
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    await cache.set('album_year', 'b', 1990, { fingerprint: 'f1' });
    expect(await cache.resolve('album_year', 'b', () => 2000, { fingerprint: 'f2' })).toEqual({ value: 2000, source: 'fetch' });
    expect(await cache.get('album_year', 'b', { fingerprint: 'f2' })).toBe(2000);
  });

  it('a TTL at or above INFINITE_TTL never expires, on read and in the sweep', async () => {
    const { cache, clock } = await open();
    await cache.set('generic', 'a', 1, { ttlSeconds: INFINITE_TTL });
    await cache.set('generic', 'b', 1, { ttlSeconds: Infinity });
    await cache.set('track_metadata', 'a', 1);
    clock.advance(INFINITE_TTL * 2000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect(await cache.getMany('generic', ['a', 'b'])).toEqual([1, 1]);
    expect(await cache.get('track_metadata', 'a')).toBe(1);
  });

  it('each bad argument rejects with its code', async () => {
    const { cache } = await open();
    const code = async (call: Promise<unknown>) => (await rejection(call)).code;
    expect(await code(cache.get('generic', ''))).toBe('invalid_argument');
    expect(await code(cache.get('podcast' as never, 'a'))).toBe('unknown_content_type');
    expect(await code(cache.keys('podcast' as never))).toBe('unknown_content_type');
    expect(await code(cache.set('generic', 'a', Symbol('s')))).toBe('not_cloneable');
    expect(await code(cache.set('album_year', 'a', () => 1))).toBe('not_cloneable');
    expect(await code(cache.set('generic', 'a', undefined))).toBe('invalid_value');
    expect(await code(cache.set('generic', 'a', 1, { ttlSeconds: Number.NaN }))).toBe('invalid_argument');
    expect(await code(cache.emit({ eventType: 'track_removed' } as never))).toBe('invalid_event');
    expect(await code(cache.emit({ eventType: 'track_deleted', trackId: 't' } as never))).toBe('invalid_event');
    expect(await code(cache.getMany('generic', 'a' as never))).toBe('invalid_argument');
    expect(await code(cache.getOrSet('generic', 'a', 5 as never))).toBe('invalid_argument');
    expect(() => cache.on('track_deleted' as never, () => {})).toThrow(expect.objectContaining({ code: 'invalid_event' }));
    expect(() => cache.watch('podcast' as never, null, () => {})).toThrow(expect.objectContaining({ code: 'unknown_content_type' }));
    expect(await cache.keys('generic')).toEqual([]);
  });

  it('a write leaving a type above cleanupThreshold × maxSizeMb evicts below that mark, never what it writes', async () => {
    const { cache } = await open({ config: { caching: { policies: { album_year: { maxSizeMb: 0.01, cleanupThreshold: 0.5 } } } } });
    for (let i = 0; i < 30; i++) await cache.set('album_year', `k${i}`, 'x'.repeat(500));
    const stats = (await cache.stats()).types.album_year;
    expect(stats.bytes).toBeLessThanOrEqual(0.5 * 0.01 * 2 ** 20);
    expect(stats.evictions).toBe(30 - stats.entries);
    expect(await cache.get('album_year', 'k29')).toBe('x'.repeat(500));
  });

  it('close: later calls reject with closed, on and watch throw it; close again resolves', async () => {
    const { cache } = await open();
    await cache.close();
    for (const call of [cache.get('generic', 'a'), cache.stats(), cache.emit({ eventType: 'library_sync' }), cache.getOrSet('generic', 'a', () => 1), cache.cleanup()]) {
      expect((await rejection(call)).code).toBe('closed');
    }
    expect(() => cache.on('*', () => {})).toThrow(expect.objectContaining({ code: 'closed' }));
    expect(() => cache.watch('generic', null, () => {})).toThrow(expect.objectContaining({ code: 'closed' }));
    await cache.close();
  });

  it('[Symbol.asyncDispose]() closes the cache, as close() does: later calls reject with closed', async () => {
    const { cache } = await open();
    await cache.set('album_year', 'a', 1);
    await cache[Symbol.asyncDispose]();
    for (const call of [cache.get('album_year', 'a'), cache.set('generic', 'a', 1), cache.stats()]) expect((await rejection(call)).code).toBe('closed');
    await cache.close();
  });

  it("resolve: 'fetch', then 'cache', 'stale' within the window (refreshed with the stale value given), 'shared' for a concurrent caller", async () => {
    const { cache, clock } = await open({ config: { caching: { policies: { generic: { staleWhileRevalidateSeconds: 60 } } } } });
    expect(await cache.resolve('generic', 'a', () => 1)).toEqual({ value: 1, source: 'fetch' });
    expect(await cache.resolve('generic', 'a', () => 2)).toEqual({ value: 1, source: 'cache' });
    clock.advance(5 * MINUTE * 1000 + 1000);
    expect(await cache.get('generic', 'a')).toBeUndefined();
    expect(await cache.has('generic', 'a')).toBe(false);
    const refresh = vi.fn(({ stale }: { stale: unknown }) => (stale as number) + 2);
    expect(await cache.resolve('generic', 'a', refresh)).toEqual({ value: 1, source: 'stale' });
    await vi.waitFor(async () => expect(await cache.get('generic', 'a')).toBe(3));
    expect(refresh).toHaveBeenCalledTimes(1);
    let release!: (value: number) => void;
    const fetcher = vi.fn(() => new Promise<number>((resolve) => (release = resolve)));
    const both = Promise.all([cache.resolve('generic', 'z', fetcher), cache.resolve('generic', 'z', fetcher)]);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalled());
    release(9);
    expect((await both).map(({ source }) => source).sort()).toEqual(['fetch', 'shared']);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it("the fetcher's signal aborts only once every waiting caller has aborted; the fetch goes on for the others and is stored", async () => {
    const { cache } = await open();
    const [first, second] = [new AbortController(), new AbortController()];
    let signal: AbortSignal | undefined;
    let release!: (value: number) => void;
    const fetcher = (context: { signal: AbortSignal }) => ((signal = context.signal), new Promise<number>((resolve) => (release = resolve)));
    const calls = [cache.getOrSet('generic', 'k', fetcher, { signal: first.signal }), cache.getOrSet('generic', 'k', fetcher, { signal: second.signal })];
    const staying = cache.getOrSet('generic', 'k', fetcher);
    await vi.waitFor(() => expect(signal).toBeDefined());
    first.abort();
    second.abort();
    for (const call of calls) expect((await rejection(call)).code).toBe('aborted');
    expect(signal!.aborted).toBe(false);
    release(5);
    expect(await staying).toBe(5);
    expect(await cache.get('generic', 'k')).toBe(5);
  });

  it('watch: set, delete and clear of a key, and an event, reach its watchers with their kind', async () => {
    const { cache } = await open();
    const ofKey: unknown[] = [];
    const ofType: { kind: string }[] = [];
    cache.watch('album_year', 'a', (change) => ofKey.push(change));
    cache.watch('album_year', null, (change) => ofType.push(change));
    await cache.set('album_year', 'a', 1);
    await cache.set('album_year', 'b', 1);
    await cache.delete('album_year', 'a');
    await cache.clear('album_year');
    await cache.set('album_year', 'a', 1);
    await cache.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(ofKey).toHaveLength(5));
    expect(ofKey).toEqual([
      { type: 'album_year', keys: ['a'], kind: 'set', source: 'local' },
      { type: 'album_year', keys: ['a'], kind: 'delete', source: 'local' },
      { type: 'album_year', keys: null, kind: 'clear', source: 'local' },
      { type: 'album_year', keys: ['a'], kind: 'set', source: 'local' },
      expect.objectContaining({ type: 'album_year', kind: 'invalidate', source: 'local' }),
    ]);
    expect(ofType.map(({ kind }) => kind)).toEqual(['set', 'set', 'delete', 'clear', 'set', 'invalidate']);
  });
});

describe('SPEC §3 createCache defaults (worker: false)', () => {
  it("name defaults to 'reprise': the database is called so, and two caches opened without a name share it", async () => {
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const a = await createCache({ worker: false, indexedDB, now: clock.now });
    const b = await createCache({ worker: false, indexedDB, now: clock.now });
    await a.set('album_year', 'k', 1);
    expect(await b.get('album_year', 'k')).toBe(1);
    expect((await indexedDB.databases()).map((db) => db.name)).toEqual(['reprise']);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('SPEC §3 across tabs (worker: false)', () => {
  it('clear() in one tab clears the persistent types for the other at once, and its memory tier once told', async () => {
    const a = await openCache();
    const b = await openCache({ name: a.name, indexedDB: a.indexedDB, clock: a.clock });
    await b.cache.set('generic', 'k', 2);
    await b.cache.set('album_year', 'k', 2);
    const told: unknown[] = [];
    b.cache.watch('generic', 'k', (change) => told.push(change));
    await a.cache.clear();
    expect(await b.cache.get('album_year', 'k')).toBeUndefined();
    await vi.waitFor(() => expect(told).toEqual([{ type: 'generic', keys: null, kind: 'clear', source: 'remote' }]));
    expect(await b.cache.get('generic', 'k')).toBeUndefined();
  });

  it("an event removes another tab's memory-tier entries of a custom type that lists it, before that tab's next read; its listeners hear it as remote", async () => {
    const config = {
      caching: { customTypes: { mem: { persistent: false, ttlSeconds: 1000, invalidationStrategy: 'event_driven' as const, maxSizeMb: 1, invalidatedBy: ['track_removed' as const] } } },
    };
    const a = await openCache<Schemas, 'mem'>({ config });
    const b = await openCache<Schemas, 'mem'>({ name: a.name, indexedDB: a.indexedDB, clock: a.clock, config });
    await b.cache.set('mem', 'k', 2, { trackId: 't' });
    await a.cache.set('track_metadata', 'k', 2, { trackId: 't' });
    const heard: unknown[] = [];
    b.cache.on('track_removed', (event, context) => heard.push([event, context]));
    expect((await a.cache.emit({ eventType: 'track_removed', trackId: 't' })).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 0, mem: 0 });
    expect(await b.cache.get('mem', 'k')).toBeUndefined();
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(heard[0]).toEqual([{ eventType: 'track_removed', trackId: 't' }, { source: 'remote', invalidated: { track_metadata: 1, successful_api_metadata: 0, mem: 1 } }]);
  });
});

describe('SPEC §3 values (worker: false)', () => {
  // In a worker the config's updates travel by createCache's wiring (createCache.test), which openRemoteCache has not.
  it('cleanup() after a budget cut evicts each type down to its mark and reports what it removed', async () => {
    const config = new SmartCacheConfig();
    const { cache } = await openCache({ config });
    for (let i = 0; i < 20; i++) {
      await cache.set('album_year', `k${i}`, 'x'.repeat(1000));
      await cache.set('generic', `k${i}`, 'x'.repeat(1000));
    }
    config.updatePolicy('album_year', { maxSizeMb: 0.01 });
    config.updatePolicy('generic', { maxSizeMb: 0.01 });
    const report = await cache.cleanup();
    const { album_year, generic } = (await cache.stats()).types;
    for (const stats of [album_year, generic]) expect(stats.bytes).toBeLessThanOrEqual(0.8 * 0.01 * 2 ** 20);
    expect(report).toEqual({ expired: 0, evicted: album_year.evictions + generic.evictions });
  });

  it('setMany is all or nothing: one entry that cannot be stored leaves every entry as it was', async () => {
    for (const type of ['generic', 'album_year'] as const) {
      const { cache } = await openCache();
      await cache.set(type, 'x', 0);
      const error = await rejection(cache.setMany(type, [{ key: 'a', value: 1 }, { key: 'x', value: 5 }, { key: 'b', value: Symbol('s') }]));
      expect(error.code).toBe('not_cloneable');
      expect(await cache.entries(type)).toEqual([['x', 0]]);
    }
  });

  it('byte counts stay exact with the same key twice in one call, rewrites and deletes', async () => {
    for (const type of ['generic', 'album_year'] as const) {
      const a = await openCache();
      const b = await openCache();
      await a.cache.setMany(type, [{ key: 'k', value: 'x'.repeat(100) }, { key: 'k', value: 'yy' }, { key: 'j', value: 1 }]);
      await b.cache.set(type, 'k', 'yy');
      await b.cache.set(type, 'j', 1);
      const expected = (await b.cache.stats()).types[type];
      expect((await a.cache.stats()).types[type]).toMatchObject({ entries: 2, bytes: expected.bytes });
      await a.cache.set(type, 'k', 'x'.repeat(50));
      await a.cache.set(type, 'k', 'yy');
      expect((await a.cache.stats()).types[type].bytes).toBe(expected.bytes);
      expect(await a.cache.deleteMany(type, ['k', 'k', 'j'])).toBe(2);
      expect((await a.cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0 });
    }
  });

  it('a schema whose transform changes the type round-trips through get, getMany, entries and getOrSet, counting nothing corrupt', async () => {
    for (const type of ['album_year', 'generic'] as const) {
      const { cache } = await openCache({ schemas: { [type]: z.string().transform((text) => text.length) } });
      await cache.set(type, 'k', 'abcd' as never);
      expect(await cache.get(type, 'k')).toBe(4);
      expect(await cache.getMany(type, ['k'])).toEqual([4]);
      expect(await cache.entries(type)).toEqual([['k', 4]]);
      expect(await cache.getOrSet(type, 'j', () => 'xy' as never)).toBe(2);
      expect(await cache.get(type, 'j')).toBe(2);
      expect((await cache.stats()).types[type].corrupt).toBe(0);
    }
  });

  it('a stored value its schema now refuses is a miss, deleted and counted corrupt, by get, getMany and entries', async () => {
    const first = await openCache();
    await first.cache.setMany('album_year', [
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
      { key: 'c', value: 'z' },
    ]);
    await first.cache.close();
    const { cache } = await openCache({ name: first.name, indexedDB: first.indexedDB, clock: first.clock, schemas: { album_year: z.number() } });
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    expect(await cache.getMany('album_year', ['b'])).toEqual([undefined]);
    expect(await cache.entries('album_year')).toEqual([]);
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 3, entries: 0 });
  });
});
