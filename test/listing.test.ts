// has, deleteMany, keys, entries and `await using` (SPEC §3b), on persistent and memory types.
import { IDBDatabase } from 'fake-indexeddb';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { IDBFactory } from 'fake-indexeddb';
import { CacheClient } from '../src/CacheClient';
import { HOUR, isCacheError, type ContentType } from '../src/index';
import type { EngineApi } from '../src/protocol';
import { SmartCacheConfig } from '../src/SmartCacheConfig';
import { Engine } from '../worker/Engine';
import { openCache, rejection, uniqueName } from './support/openCache';
import { tableOf } from './support/tableOf';

const TYPES: ContentType[] = ['track_metadata', 'generic'];

describe.each(TYPES)('%s', (type) => {
  it('has: true for a live entry, false for a missing or expired one, counting no hit or miss', async () => {
    const { cache, clock } = await openCache();
    await cache.set(type, 'live', 1);
    await cache.set(type, 'short', 2, { ttlSeconds: 10 });
    await cache.set(type, 'nothing', null);
    clock.advance(10_000);
    expect(await Promise.all(['live', 'nothing', 'short', 'absent'].map((key) => cache.has(type, key)))).toEqual([true, true, false, false]);
    expect((await cache.stats()).types[type]).toMatchObject({ hits: 0, misses: 0 });
  });

  it('has and entries remove the expired entries they meet, as get does: counted as expirations, gone from the counts, told to watchers', async () => {
    const { cache, clock } = await openCache();
    await cache.set(type, 'a', 1, { ttlSeconds: 1 });
    await cache.set(type, 'b', 2, { ttlSeconds: 1 });
    await cache.set(type, 'live', 3);
    const bytes = (await cache.stats()).types[type].bytes;
    const expired: (string[] | null)[] = [];
    cache.watch(type, null, ({ kind, keys }) => void (kind === 'expire' && expired.push(keys)));
    clock.advance(2000);
    expect(await cache.has(type, 'a')).toBe(false);
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 2, expirations: 1 });
    expect(await cache.entries(type)).toEqual([['live', 3]]);
    const stats = (await cache.stats()).types[type];
    expect(stats).toMatchObject({ entries: 1, expirations: 2, hits: 0, misses: 0 });
    expect(stats.bytes).toBeLessThan(bytes);
    await vi.waitFor(() => expect(expired.flat()).toEqual(['a', 'b']));
  });

  it('an entry past its TTL but inside the stale-while-revalidate window stays for a read-through, though has and entries leave it out', async () => {
    const config = { caching: { policies: { [type]: { staleWhileRevalidateSeconds: 60 } } } };
    const { cache, clock } = await openCache({ config });
    await cache.set(type, 'k', 1, { ttlSeconds: 1 });
    clock.advance(2000);
    expect(await cache.has(type, 'k')).toBe(false);
    expect(await cache.entries(type)).toEqual([]);
    expect(await cache.resolve(type, 'k', async () => 2)).toEqual({ value: 1, source: 'stale' });
  });

  it('deleteMany removes the entries and returns how many there were; counts follow', async () => {
    const { cache } = await openCache();
    await cache.setMany(type, ['a', 'b', 'c', 'd'].map((key) => ({ key, value: key.repeat(100) })));
    const before = (await cache.stats()).types[type].bytes;
    expect(await cache.deleteMany(type, ['a', 'c', 'a', 'zz'])).toBe(2);
    expect(await cache.deleteMany(type, [])).toBe(0);
    expect(await cache.getMany(type, ['a', 'b', 'c', 'd'])).toEqual([undefined, 'b'.repeat(100), undefined, 'd'.repeat(100)]);
    const after = (await cache.stats()).types[type];
    expect(after.entries).toBe(2);
    expect(after.bytes).toBe(before / 2);
    expect(await cache.delete(type, 'b')).toBe(true);
    expect(await cache.delete(type, 'b')).toBe(false);
  });

  it('delete and deleteMany do not count an expired entry as there (has says it is not): removed as an expiration, told to watchers as one', async () => {
    const { cache, clock } = await openCache();
    await cache.set(type, 'a', 1, { ttlSeconds: 1 });
    await cache.set(type, 'b', 2, { ttlSeconds: 1 });
    await cache.set(type, 'live', 3);
    const changes: [string, string[] | null][] = [];
    cache.watch(type, null, ({ kind, keys }) => void changes.push([kind, keys]));
    clock.advance(2000);
    expect(await cache.delete(type, 'a')).toBe(false);
    expect(await cache.deleteMany(type, ['b', 'live'])).toBe(1);
    expect((await cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0, expirations: 2 });
    await vi.waitFor(() => expect(changes).toEqual([['expire', ['a']], ['expire', ['b']], ['delete', ['live']]]));
  });

  it('keys: live keys in code-unit order, optionally by prefix', async () => {
    const { cache, clock } = await openCache();
    const keys = ['b', 'a/2', 'a/10', 'A', 'a', 'é', '\uffff', 'a\uffff', 'a\uffffb', 'ab', 'expired/1'];
    await cache.setMany(type, keys.map((key) => ({ key, value: key, ttlSeconds: key.startsWith('expired') ? 1 : HOUR })));
    clock.advance(1000);
    const sorted = keys.filter((key) => !key.startsWith('expired')).sort();
    expect(await cache.keys(type)).toEqual(sorted);
    expect(await cache.keys(type, {})).toEqual(sorted);
    expect(await cache.keys(type, { prefix: '' })).toEqual(sorted);
    expect(await cache.keys(type, { prefix: 'a' })).toEqual(['a', 'a/10', 'a/2', 'ab', 'a\uffff', 'a\uffffb']);
    expect(await cache.keys(type, { prefix: 'a/' })).toEqual(['a/10', 'a/2']);
    expect(await cache.keys(type, { prefix: 'a\uffff' })).toEqual(['a\uffff', 'a\uffffb']);
    expect(await cache.keys(type, { prefix: '\uffff' })).toEqual(['\uffff']);
    expect(await cache.keys(type, { prefix: 'expired' })).toEqual([]);
    expect(await cache.keys(type, { prefix: 'zzz' })).toEqual([]);
  });

  it('entries: live [key, value] pairs sorted by key, optionally by prefix', async () => {
    const { cache, clock } = await openCache();
    await cache.setMany(type, [
      { key: 'track/2', value: { n: 2 } },
      { key: 'track/1', value: { n: 1 } },
      { key: 'album/1', value: { n: 3 } },
      { key: 'track/old', value: { n: 0 }, ttlSeconds: 1 },
    ]);
    clock.advance(1000);
    expect(await cache.entries(type)).toEqual([
      ['album/1', { n: 3 }],
      ['track/1', { n: 1 }],
      ['track/2', { n: 2 }],
    ]);
    expect(await cache.entries(type, { prefix: 'track/' })).toEqual([
      ['track/1', { n: 1 }],
      ['track/2', { n: 2 }],
    ]);
    const [[, value]] = (await cache.entries(type, { prefix: 'album' })) as [[string, { n: number }]];
    value.n = 99;
    expect(await cache.get(type, 'album/1')).toEqual({ n: 3 });
  });

  it('bad arguments reject with a code and change nothing', async () => {
    const { cache } = await openCache();
    await cache.set(type, 'k', 1);
    const cases: [() => Promise<unknown>, string][] = [
      [() => cache.has(type, ''), 'invalid_argument'],
      [() => cache.has('podcast' as ContentType, 'k'), 'unknown_content_type'],
      [() => cache.deleteMany(type, 'k' as never), 'invalid_argument'],
      [() => cache.deleteMany(type, ['k', ''] as never), 'invalid_argument'],
      [() => cache.deleteMany(type, [5] as never), 'invalid_argument'],
      [() => cache.keys(type, { prefix: 5 } as never), 'invalid_argument'],
      [() => cache.keys(type, { start: 'a' } as never), 'invalid_argument'],
      [() => cache.entries(type, 'a' as never), 'invalid_argument'],
      [() => cache.entries('podcast' as ContentType), 'unknown_content_type'],
    ];
    for (const [call, code] of cases) expect(isCacheError(await rejection(call()), code as never)).toBe(true);
    expect(await cache.keys(type)).toEqual(['k']);
  });
});

describe('entries and schemas', () => {
  it('returns what the schema made of each value; a value it refuses is left out, deleted and counted corrupt', async () => {
    const { cache: plain, indexedDB, name, clock } = await openCache();
    await plain.setMany('track_metadata', [
      { key: 'good', value: { year: '1999' } },
      { key: 'old', value: { released: 1999 } },
    ]);
    const { cache } = await openCache({ indexedDB, name, clock, schemas: { track_metadata: z.object({ year: z.string().transform(Number) }) } });
    expect(await cache.entries('track_metadata')).toEqual([['good', { year: 1999 }]]);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ corrupt: 1, entries: 1 });
    expect(await cache.keys('track_metadata')).toEqual(['good']);
  });

  it('on a memory type too', async () => {
    let accept = true;
    const schemas = { generic: z.any().refine(() => accept).pipe(z.unknown()) };
    const { cache } = await openCache({ schemas });
    await cache.set('generic', 'a', { year: 1 });
    await cache.set('generic', 'b', { year: 2 });
    accept = false;
    expect(await cache.entries('generic')).toEqual([]);
    expect((await cache.stats()).types.generic).toMatchObject({ corrupt: 2, entries: 0 });
  });
});

describe('a big answer', () => {
  /**
   * A page over a real engine whose clock says a millisecond has gone each time it is read (a slow
   * machine: a slice holds few entries), and how many turns of the event loop went by between the
   * engine's answer to entries and the page's.
   */
  async function slowPage(schemas?: Record<string, z.ZodType>) {
    const engine = await Engine.create({ name: uniqueName(), config: tableOf(new SmartCacheConfig()), indexedDB: new IDBFactory(), cloneValues: true, logger: { error: vi.fn() } });
    let time = 0;
    const turns = { now: 0, answered: -1 };
    let ticking = true;
    const tick = () => {
      turns.now++;
      if (ticking) setImmediate(tick);
    };
    const methods = Object.getOwnPropertyNames(Engine.prototype).filter((name) => name !== 'constructor') as (keyof EngineApi)[];
    const api = Object.fromEntries(methods.map((name) => [name, (engine[name] as (...args: unknown[]) => unknown).bind(engine)])) as unknown as EngineApi;
    const entries = api.entries;
    api.entries = async (...args) => {
      const answer = await entries(...args);
      turns.answered = turns.now;
      return answer;
    };
    const cache = new CacheClient(api, { clock: () => time++, ...(schemas ? { schemas } : {}) });
    setImmediate(tick);
    return { cache, turns, stop: () => void (ticking = false) };
  }

  it.each([['without', undefined], ['with', { album_year: z.object({ year: z.number() }) }]] as const)(
    'entries of 2,000 (%s a schema) are made into pairs in slices: the page runs other tasks between the answer and the result, which is the same',
    async (_, schemas) => {
      const { cache, turns, stop } = await slowPage(schemas);
      const stored = Array.from({ length: 2000 }, (_, index) => ({ key: `k${String(index).padStart(4, '0')}`, value: { year: index } }));
      await cache.setMany('album_year', [...stored].reverse());
      try {
        const entries = await cache.entries('album_year');
        const after = turns.now - turns.answered;
        expect(entries).toEqual(stored.map(({ key, value }) => [key, value]));
        // Slices of 10 ms, the clock read every 16 entries and moving 1 ms a read: some 11 slices.
        expect(after).toBeGreaterThan(1);
      } finally {
        stop();
      }
    },
  );
});

describe('a big deleteMany', () => {
  it('of 100,000 keys keeps nothing of them on the page once it has answered (each was noted for read-throughs, two minutes)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const engine = new Proxy({}, { get: (_, name) => (name === 'then' ? undefined : async () => 0) }) as EngineApi;
    const cache = new CacheClient(engine);
    const heap = () => (gc(), gc(), process.memoryUsage().heapUsed);
    const deleteMany = (from: number) => cache.deleteMany('generic', Array.from({ length: 100_000 }, (_, index) => `track/${from + index}`));
    // A first one: what any first call allocates once (code compiled, modules' tables) is not what a call keeps.
    await deleteMany(0);
    const before = heap();
    expect(await deleteMany(100_000)).toBe(0);
    // The keys given are the caller's to drop. Noted one by one for read-throughs (Resolver), they were kept two
    // minutes (some 10 MB), and noting them took the page 60-200 ms in one task (here, under load), where checking them takes 10-40.
    // Measured again after a task, up to three times: twice in some 3,000 runs, 4.0 MB (the keys) was still held right
    // after the call, not a task later (a suspended frame's registers, by the look of it); what the page keeps stays.
    let kept = heap() - before;
    for (let attempt = 0; attempt < 3 && kept >= 1_000_000; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      kept = heap() - before;
    }
    expect(kept).toBeLessThan(1_000_000);
  });
});

describe('one transaction', () => {
  it('deleteMany removes any number of entries in one transaction; keys and entries read in one', async () => {
    const { cache, name } = await openCache();
    await cache.setMany('album_year', Array.from({ length: 3000 }, (_, index) => ({ key: `k${index}`, value: index })));
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const mine = () =>
      transaction.mock.calls.filter((_, index) => (transaction.mock.contexts[index] as IDBDatabase).name === name).map(([stores, mode]) => [stores, mode]);
    try {
      expect(await cache.deleteMany('album_year', Array.from({ length: 2000 }, (_, index) => `k${index}`))).toBe(2000);
      expect(mine()).toEqual([[['album_year'], 'readwrite']]);
      transaction.mockClear();
      expect(await cache.keys('album_year')).toHaveLength(1000);
      expect(await cache.entries('album_year', { prefix: 'k29' })).toHaveLength(100);
      expect(mine()).toEqual([
        [['album_year'], 'readonly'],
        [['album_year'], 'readonly'],
      ]);
    } finally {
      transaction.mockRestore();
    }
  });
});

describe('an entry that expires while the listing waits', () => {
  /** Another tab's read-write transaction on the type's store (its import step, its sweep), kept running until released. */
  async function busyStore(indexedDB: IDBFactory, name: string, type: string) {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const store = db.transaction(type, 'readwrite').objectStore(type);
    let busy = true;
    const spin = () => void (busy && (store.get('spin').onsuccess = spin));
    spin();
    return () => ((busy = false), db.close());
  }

  it('keys, has and entries made before it expired, answered after: none lists it (each is judged by the clock as the store is read)', async () => {
    const { cache, clock, indexedDB, name } = await openCache();
    await cache.set('track_metadata', 'short', 1, { ttlSeconds: 10 });
    await cache.set('track_metadata', 'long', 2);
    clock.advance(9000);
    const release = await busyStore(indexedDB, name, 'track_metadata');
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      const answers = Promise.all([cache.keys('track_metadata'), cache.has('track_metadata', 'short'), cache.entries('track_metadata')]);
      // Each call's transaction is made, and waits behind the other tab's.
      await vi.waitFor(() => expect(transaction.mock.calls.filter(([, mode]) => mode === 'readonly')).toHaveLength(3));
      clock.advance(2000);
      release();
      expect(await answers).toEqual([['long'], false, [['long', 2]]]);
    } finally {
      transaction.mockRestore();
      release();
    }
    expect(await cache.get('track_metadata', 'short')).toBeUndefined();
  });
});

describe('await using', () => {
  it('closes the cache at the end of the block', async () => {
    const { cache: opened } = await openCache();
    {
      await using cache = opened;
      await cache.set('generic', 'k', 1);
    }
    expect(isCacheError(await rejection(opened.get('generic', 'k')), 'closed')).toBe(true);
  });
});
