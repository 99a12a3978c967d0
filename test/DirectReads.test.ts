import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { CacheError } from '../src/CacheError';
import { createCacheEvent } from '../src/cacheEvent';
import { checkedChannel } from '../src/checkedChannel';
import { DirectReads } from '../src/DirectReads';
import type { EngineApi } from '../src/protocol';
import { RemoteEngine } from '../src/RemoteEngine';
import { typesOf } from '../src/typesOf';
import { brokenFactory, deleteUnderTabs, failCommit, failRequest, tabFactory } from './support/faultyIndexedDB';
import { inProcessWorkers, openRemoteCache, type RemoteCacheOptions } from './support/inProcessWorkers';
import { lossyChannel } from './support/lossyChannel';
import { SmartCacheConfig } from '../src/SmartCacheConfig';
import { Engine, type EngineOptions } from '../worker/Engine';
import type { ValidConfig } from '../src/configSchema';
import { fakeClock, openCache, uniqueName } from './support/openCache';

/** A cache "in a worker" whose page reads IndexedDB itself, with the worker's calls listed. */
/** The cache pageReading opens. */
type PageCache = Awaited<ReturnType<typeof pageReading>>['cache'];

async function pageReading(options: Partial<RemoteCacheOptions<never>> = {}) {
  const calls: string[] = [];
  const clock = fakeClock();
  const name = options.name ?? uniqueName();
  const indexedDB = options.indexedDB ?? new IDBFactory();
  const opened = await openRemoteCache({
    name,
    indexedDB,
    now: clock.now,
    ...options,
    beforeCall: (method, args, worker) => {
      calls.push(method);
      return options.beforeCall?.(method, args, worker);
    },
  });
  return { ...opened, calls, clock, name, indexedDB };
}

const hitsOf = async (cache: { stats(): Promise<{ types: Record<string, { hits: number; misses: number }> }> }, type: string) => {
  const { hits, misses } = (await cache.stats()).types[type]!;
  return { hits, misses };
};

/**
 * Once armed, holds the next call of `method` on its way to the worker
 * until released; the calls made after it arrive after it, as a worker's messages do.
 */
function slowCall(method: string) {
  let held: Promise<void> | null = null;
  let release = () => {};
  let last: Promise<void> = Promise.resolve();
  const beforeCall = (called: string) => {
    if (held && called === method) {
      const mine = held;
      held = null;
      last = last.then(() => mine);
    }
    return last;
  };
  const arm = () => void (held = new Promise<void>((resolve) => (release = resolve)));
  return { beforeCall, arm, release: () => release() };
}

/**
 * A page whose first worker gave IndexedDB up (its connection closed under it, its opens refused) and died;
 * its next worker opened it again and wrote `reopened` there. Each worker its own view of IndexedDB (see tabFactory).
 */
async function reopenedAfterALoss() {
  const inner = new IDBFactory();
  const sides: ReturnType<typeof tabFactory>[] = [];
  let refusing = false;
  const workerEngine = () => {
    const side = tabFactory(inner);
    if (refusing) side.refuse();
    sides.push(side);
    return { indexedDB: side.factory };
  };
  const name = uniqueName();
  const opened = await openRemoteCache({ name, indexedDB: inner, workerEngine, storageDelayMs: 20 });
  const { cache, workers } = opened;
  await cache.set('track_metadata', 'k', 'in IndexedDB');
  const changes: string[] = [];
  cache.watch('track_metadata', null, ({ kind, keys }) => changes.push(`${kind} ${keys ?? 'any'}`));
  sides[0]!.refuse();
  sides[0]!.loseConnection();
  await cache.set('track_metadata', 'other', 'in memory');
  workers[0]!.kill();
  expect(await cache.get('track_metadata', 'k')).toBe('in IndexedDB');
  await cache.set('track_metadata', 'reopened', 'in IndexedDB');
  expect((await cache.stats()).degraded).toBeNull();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(changes).toEqual(['clear any', 'set other', 'clear any', 'set reopened']);
  return { ...opened, inner, name, sides, changes, refuseNext: () => void (refusing = true) };
}

/** Its next worker (after reopenedAfterALoss) is killed: the one after reads a miss of what it wrote, and its watchers heard the loss once. */
async function killedAfterTheReopen({ cache, workers, changes }: Pick<Awaited<ReturnType<typeof reopenedAfterALoss>>, 'cache' | 'workers' | 'changes'>): Promise<void> {
  workers[1]!.kill();
  expect(await cache.get('track_metadata', 'reopened')).toBeUndefined();
  expect(workers).toHaveLength(3);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(changes).toEqual(['clear any', 'set other', 'clear any', 'set reopened', 'clear any']);
  await cache.close();
}

describe('reads the page answers itself', () => {
  it('a hit is read from IndexedDB with no call to the worker, and the worker counts it (hits, and its read time for eviction)', async () => {
    const { cache, calls } = await pageReading();
    await cache.setMany('track_metadata', [
      { key: 'a', value: { title: 'A' } },
      { key: 'b', value: { title: 'B' } },
    ]);
    calls.length = 0;
    expect(await cache.get('track_metadata', 'a')).toEqual({ title: 'A' });
    expect(await Promise.all([cache.get('track_metadata', 'a'), cache.get('track_metadata', 'b')])).toEqual([{ title: 'A' }, { title: 'B' }]);
    expect(await cache.getMany('track_metadata', ['b', 'a'])).toEqual([{ title: 'B' }, { title: 'A' }]);
    expect(calls).toEqual([]);
    // Told to the worker before its next call: stats count them.
    expect(await hitsOf(cache, 'track_metadata')).toEqual({ hits: 5, misses: 0 });
    expect(calls).toEqual(['touched', 'stats']);
  });

  it('what is neither a plain hit nor a plain miss is the worker’s (an expired entry, a fingerprint that differs); every answer counted as without the page', async () => {
    const counts = async (direct: boolean) => {
      const { cache, clock, calls } = await pageReading({ direct });
      // album_year: hybrid, so a fingerprint that differs invalidates.
      await cache.set('album_year', 'old', 1, { ttlSeconds: 60 });
      await cache.set('album_year', 'printed', 2, { fingerprint: 'f1' });
      clock.advance(61_000);
      calls.length = 0;
      const answers = [
        await cache.get('album_year', 'missing'),
        await cache.get('album_year', 'old'),
        await cache.get('album_year', 'printed', { fingerprint: 'f2' }),
        await cache.get('album_year', 'printed'),
      ];
      const { types } = await cache.stats();
      const { hits, misses, expirations, invalidations, entries } = types.album_year;
      return { answers, counts: { hits, misses, expirations, invalidations, entries }, workerReads: calls.filter((call) => call === 'getMany').length };
    };
    const [page, worker] = [await counts(true), await counts(false)];
    expect(page.answers).toEqual([undefined, undefined, undefined, undefined]);
    expect(page.counts).toEqual(worker.counts);
    expect(page.counts).toEqual({ hits: 0, misses: 4, expirations: 1, invalidations: 1, entries: 0 });
    // The expired entry and the mismatch; the two keys with no record were the page's.
    expect(page.workerReads).toBe(2);
    expect(worker.workerReads).toBe(4);
  });

  it('an entry written while the clock ran a year ahead is the worker’s once the clock is set right (its age is unknown): a miss, counted as an expiration', async () => {
    const { cache, clock, calls } = await pageReading();
    const year = 365 * 86_400_000;
    clock.advance(year);
    await cache.set('album_year', 'ahead', 1999, { ttlSeconds: 3600 });
    clock.advance(-year);
    await cache.set('album_year', 'x', 2001, { ttlSeconds: 3600 });
    calls.length = 0;
    expect(await cache.get('album_year', 'ahead')).toBeUndefined();
    expect(await cache.get('album_year', 'x')).toBe(2001);
    expect(calls).toEqual(['getMany']);
    expect((await cache.stats()).types.album_year).toMatchObject({ entries: 1, expirations: 1 });
  });

  it('a miss (no record) is the page’s too: no call to the worker, counted before its next call', async () => {
    const { cache, calls } = await pageReading();
    await cache.set('album_year', 'x', 1999);
    calls.length = 0;
    const answers = await Promise.all(['x', 'y', 'x', 'z'].map((key) => cache.get('album_year', key)));
    expect(answers).toEqual([1999, undefined, 1999, undefined]);
    expect(await cache.getMany('album_year', ['nothing', 'x'])).toEqual([undefined, 1999]);
    expect(calls).toEqual([]);
    expect(await hitsOf(cache, 'album_year')).toEqual({ hits: 3, misses: 3 });
    expect(calls).toEqual(['touched', 'stats']);
  });

  it('one batch of gets with an expired entry in it is the worker’s, whole: one read, one snapshot, each caller its own answer', async () => {
    const { cache, calls, clock } = await pageReading();
    await cache.set('album_year', 'x', 1999);
    await cache.set('album_year', 'old', 1, { ttlSeconds: 60 });
    clock.advance(61_000);
    calls.length = 0;
    const answers = await Promise.all(['x', 'y', 'old', 'x'].map((key) => cache.get('album_year', key)));
    expect(answers).toEqual([1999, undefined, undefined, 1999]);
    expect(calls).toEqual(['getMany']);
    expect(await hitsOf(cache, 'album_year')).toEqual({ hits: 2, misses: 2 });
  });

  it('a getMany is one snapshot: never part before and part after a write made meanwhile, by this page or another tab', async () => {
    for (const writer of ['this page', 'another tab'] as const) {
      let between: (() => Promise<unknown>) | undefined;
      const { cache, name, indexedDB, clock } = await pageReading({
        // Another tab's write lands after the page's read, before any read of the worker.
        beforeCall: async (method) => {
          if (method !== 'getMany' || !between) return;
          const write = between;
          between = undefined;
          await write();
        },
      });
      const { cache: other } = await openRemoteCache({ name, indexedDB, now: clock.now, direct: false });
      await cache.set('track_metadata', 'a', 'old');
      // Expired: the batch is the worker's to answer (a plain miss would be the page's).
      await cache.set('track_metadata', 'b', 'expired', { ttlSeconds: 60 });
      clock.advance(61_000);
      const fresh = [
        { key: 'a', value: 'new' },
        { key: 'b', value: 'new' },
      ];
      let values: unknown[];
      if (writer === 'this page') [values] = await Promise.all([cache.getMany('track_metadata', ['a', 'b']), cache.setMany('track_metadata', fresh)]);
      else {
        between = () => other.setMany('track_metadata', fresh);
        values = await cache.getMany('track_metadata', ['a', 'b']);
      }
      expect([['old', undefined], ['new', 'new']], writer).toContainEqual(values);
    }
  });

  it('entries of an import are the page’s to read once it has committed (its records keep the batch’s id)', async () => {
    const { cache, calls } = await pageReading({ engine: { importChunk: 10 } });
    const keys = Array.from({ length: 30 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', keys.map((key) => ({ key, value: key })));
    calls.length = 0;
    expect(await cache.getMany('track_metadata', keys)).toEqual(keys);
    expect(calls).toEqual([]);
  });

  it('a getMany of more than 1,000 keys is the worker’s: issuing its requests and taking in its values would hold the page’s thread in one long task', async () => {
    const { cache, calls } = await pageReading();
    const keys = Array.from({ length: 1001 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', keys.map((key) => ({ key, value: key })));
    calls.length = 0;
    expect(await cache.getMany('track_metadata', keys.slice(0, 1000))).toEqual(keys.slice(0, 1000));
    expect(calls).toEqual([]);
    expect(await cache.getMany('track_metadata', keys)).toEqual(keys);
    expect(calls).toEqual(['touched', 'getMany']);
  });

  it('types kept in memory are read by the worker', async () => {
    const { cache, calls } = await pageReading();
    await cache.set('generic', 'k', 'v');
    calls.length = 0;
    expect(await cache.get('generic', 'k')).toBe('v');
    expect(calls).toEqual(['getMany']);
  });

  it('while a write of this page is on its way, reads go to the worker, after it', async () => {
    const { cache, calls } = await pageReading();
    await cache.set('track_metadata', 'k', 1);
    calls.length = 0;
    const writing = cache.setMany('track_metadata', [{ key: 'k', value: 2 }]);
    // The write has reached the engine, not finished.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['setMany']);
    const read = cache.get('track_metadata', 'k');
    await writing;
    expect(await read).toBe(2);
    expect(calls).toEqual(['setMany', 'getMany']);
  });

  it('a write on its way sends reads of the keys it writes to the worker, after it; other keys and other types stay the page’s', async () => {
    const slow = slowCall('setMany');
    const { cache, calls } = await pageReading({ beforeCall: (method) => slow.beforeCall(method) });
    await cache.set('track_metadata', 't', { title: 'T' }, { trackId: 't' });
    await cache.setMany('album_year', [
      { key: 'y', value: 1999 },
      { key: 'z', value: 1980 },
    ]);
    calls.length = 0;
    slow.arm();
    const writing = cache.setMany('album_year', [
      { key: 'y', value: 2000 },
      { key: 'new', value: 2001 },
    ]);
    // Unchanged by the write: read by the page, while the write is on its way.
    expect(await cache.get('track_metadata', 't')).toEqual({ title: 'T' });
    expect(await cache.getMany('album_year', ['z', 'nothing'])).toEqual([1980, undefined]);
    expect(calls).toEqual(['setMany']);
    // What it writes is the worker's, after the write: a key it changes, and one it makes.
    const [year, made] = [cache.get('album_year', 'y'), cache.get('album_year', 'new')];
    await new Promise((resolve) => setImmediate(resolve));
    slow.release();
    await writing;
    expect([await year, await made]).toEqual([2000, 2001]);
    expect(calls.filter((call) => call === 'getMany')).toHaveLength(1);
  });

  it('an event on its way sends reads of the entries it may remove to the worker, after it; the others stay the page’s', async () => {
    const slow = slowCall('emit');
    const { cache, calls } = await pageReading({ beforeCall: (method) => slow.beforeCall(method) });
    await cache.set('track_metadata', 't', { title: 'T' }, { trackId: 't' });
    await cache.set('track_metadata', 'u', { title: 'U' }, { trackId: 'u' });
    await cache.set('successful_api_metadata', 'a', { year: 1970 }, { album: { artist: 'Artist', album: 'Album' } });
    await cache.set('successful_api_metadata', 'b', { year: 1980 }, { album: { artist: 'Other', album: 'Album' } });
    calls.length = 0;
    slow.arm();
    const event = cache.emit({ eventType: 'track_removed', trackId: 't', metadata: { artist: 'ARTIST ', album: 'album' } });
    // Entries of other tracks and albums, and keys with no entry (an event makes none): the page's.
    expect(await cache.getMany('track_metadata', ['u', 'nothing'])).toEqual([{ title: 'U' }, undefined]);
    expect(await cache.get('successful_api_metadata', 'b')).toEqual({ year: 1980 });
    expect(calls).toEqual(['emit']);
    // The track's entry and the album's: the worker's, after the event.
    const gone = [cache.get('track_metadata', 't'), cache.get('successful_api_metadata', 'a')];
    await new Promise((resolve) => setImmediate(resolve));
    slow.release();
    expect(await event).toMatchObject({ invalidated: { track_metadata: 1, successful_api_metadata: 1 } });
    expect(await Promise.all(gone)).toEqual([undefined, undefined]);
    expect(calls.filter((call) => call === 'getMany')).toHaveLength(2);
  });

  it('an event that may remove every entry of a type sends each read of it to the worker, after it', async () => {
    const slow = slowCall('emit');
    const { cache, calls } = await pageReading({ beforeCall: (method) => slow.beforeCall(method) });
    await cache.set('album_year', 'y', 1999);
    calls.length = 0;
    slow.arm();
    const event = cache.emit({ eventType: 'library_sync' });
    const year = cache.get('album_year', 'y');
    await new Promise((resolve) => setImmediate(resolve));
    slow.release();
    await event;
    expect(await year).toBeUndefined();
    expect(calls).toEqual(['emit', 'getMany']);
  });

  it('a write that lands while the page reads still sends the read of its key to the worker: what was on its way when the read was made counts', async () => {
    const slow = slowCall('setMany');
    const { cache, calls } = await pageReading({ beforeCall: (method) => slow.beforeCall(method) });
    await cache.set('album_year', 'y', 1999);
    await cache.get('album_year', 'y');
    slow.arm();
    const setting = cache.set('album_year', 'y', 2000);
    // The page's read starts with the write on its way; the write goes on at once and may commit first.
    const read = cache.get('album_year', 'y');
    slow.release();
    await setting;
    expect(await read).toBe(2000);
    expect(calls.at(-1)).toBe('getMany');
  });

  it('a read sent to the worker after a write of its type sees the write, also when a full disk makes the worker write it again', async () => {
    const { cache, calls, name } = await pageReading();
    await cache.set('track_metadata', 'k', 1);
    const fault = failCommit({ database: name });
    try {
      const writing = cache.set('track_metadata', 'k', 2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls.at(-1)).toBe('setMany');
      const read = cache.get('track_metadata', 'k');
      await writing;
      expect(fault.fired()).toBe(true);
      expect(await read).toBe(2);
    } finally {
      fault();
    }
  });

  it('reads the page answered keep their order for eviction: the least recently read entry goes first, as when the worker answers them', async () => {
    for (const direct of [false, true]) {
      // About 966 bytes an entry: three fit below the mark (3,355 bytes), a fourth takes the type above it.
      const { cache, clock } = await pageReading({ direct, config: { caching: { policies: { album_year: { maxSizeMb: 0.004 } } } } });
      const value = 'v'.repeat(450);
      for (const key of ['x', 'y', 'z']) await cache.set('album_year', key, value);
      // Read in the other order, each a millisecond apart: z is now the least recently used.
      for (const key of ['z', 'y', 'x']) {
        clock.advance(1);
        expect(await cache.get('album_year', key)).toBe(value);
      }
      await cache.set('album_year', 'w', value);
      const kept = (await cache.getMany('album_year', ['x', 'y', 'z', 'w'])).map((found) => found !== undefined);
      expect(kept, direct ? 'read by the page' : 'read by the worker').toEqual([true, true, false, true]);
    }
  });

  it.each([
    ['reads the page answered in one millisecond keep their order', async (cache: PageCache, value: string) => {
      for (const key of ['z', 'y', 'x']) expect(await cache.get('album_year', key)).toBe(value);
    }],
    ['the keys of one getMany the page answered keep the order it named them (as when the worker answers it)', async (cache: PageCache, value: string) => {
      expect(await cache.getMany('album_year', ['z', 'y', 'x'])).toEqual([value, value, value]);
    }],
  ] as const)('%s for another tab’s eviction right after them', async (_, read) => {
    const config = { caching: { policies: { album_year: { maxSizeMb: 0.004 } } } };
    const { cache, clock, name, indexedDB } = await pageReading({ config });
    const { cache: other } = await openCache({ name, indexedDB, clock, config });
    const value = 'v'.repeat(450);
    for (const key of ['x', 'y', 'z']) await cache.set('album_year', key, value);
    clock.advance(1);
    // Read in the other order within one millisecond (a list's rows): z is now the least recently used.
    await read(cache, value);
    await other.set('album_year', 'w', value);
    const kept = (await other.getMany('album_year', ['x', 'y', 'z', 'w'])).map((found) => found !== undefined);
    expect(kept).toEqual([true, true, false, true]);
  });

  it('a read the page answered counts as a use when it was made, not when the page tells its worker (up to a second later): another tab’s reads in between are later uses', async () => {
    for (const direct of [false, true]) {
      const config = { caching: { policies: { album_year: { maxSizeMb: 0.004 } } } };
      const { cache, clock, name, indexedDB } = await pageReading({ direct, config });
      const { cache: other } = await openCache({ name, indexedDB, clock, config });
      const value = 'v'.repeat(450);
      for (const key of ['x', 'y', 'z']) await cache.set('album_year', key, value);
      clock.advance(1000);
      expect(await cache.get('album_year', 'z')).toBe(value);
      clock.advance(500);
      // Another tab reads the other two after it: z is now the least recently used.
      expect(await other.getMany('album_year', ['x', 'y'])).toEqual([value, value]);
      clock.advance(500);
      // The page tells its worker of its read, which writes its read times (on close at the latest).
      await cache.close();
      await other.set('album_year', 'w', value);
      const kept = (await other.getMany('album_year', ['x', 'y', 'z', 'w'])).map((found) => found !== undefined);
      expect(kept, direct ? 'read by the page' : 'read by the worker').toEqual([true, true, false, true]);
    }
  });

  it('reads the page answered keep their order for eviction when its report of the first waits for the next worker (the last died) and a read on its way meanwhile is told first', async () => {
    const config = { caching: { policies: { album_year: { maxSizeMb: 0.004 } } } };
    // The next worker's script takes a while to load (a slow network).
    let load = (_: boolean) => {};
    let started = 0;
    const loads = () => !started++ || new Promise<boolean>((resolve) => (load = resolve));
    const { cache, clock, name, indexedDB, workers } = await pageReading({ config, loads });
    const value = 'v'.repeat(450);
    for (const key of ['a', 'b']) await cache.set('album_year', key, value);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let b: Promise<unknown>;
    try {
      clock.advance(1);
      expect(await cache.get('album_year', 'a')).toBe(value);
      clock.advance(1);
      // Read by the page as the worker dies; its report of a (a second after a) waits for the next worker.
      b = cache.get('album_year', 'b');
      workers[0]!.kill();
      for (let tick = 0; tick < 10; tick++) await Promise.resolve();
      vi.advanceTimersByTime(1000);
    } finally {
      vi.useRealTimers();
    }
    expect(await b).toBe(value);
    load(true);
    clock.advance(1);
    await cache.set('album_year', 'c', value);
    await cache.close();
    // a is the least recently used of the three: a fourth entry takes its place.
    const { cache: other } = await openCache({ name, indexedDB, clock, config });
    await other.set('album_year', 'w', value);
    const kept = (await other.getMany('album_year', ['a', 'b', 'c', 'w'])).map((found) => found !== undefined);
    expect(kept).toEqual([false, true, true, true]);
  });

  for (const [what, change] of [
    ['a delete', (cache: PageCache) => cache.delete('track_metadata', 'k')],
    ['a clear', (cache: PageCache) => cache.clear('track_metadata')],
    ['an event', (cache: PageCache) => cache.emit({ eventType: 'track_removed', trackId: 't1' })],
  ] as const) {
    it(`${what} of this page on its way when its worker dies before it lands: a read made while the next worker opens is that worker’s, after the retry, and misses what the change removes`, async () => {
      // The next worker's engine opens once let go: the page reads for itself meanwhile.
      let release = () => {};
      let opens = 0;
      const opening = () => (opens++ ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve());
      let armed = false;
      const method = { 'a delete': 'deleteMany', 'a clear': 'clear', 'an event': 'emit' }[what];
      const { cache, calls, workers } = await pageReading({
        opening,
        // As a browser kills one: the call dies with it, before it lands.
        beforeCall: (called, _args, worker) => void (armed && called === method && ((armed = false), worker.kill())),
      });
      await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
      expect(await cache.get('track_metadata', 'k')).toBe(1);
      armed = true;
      const changing = change(cache);
      await vi.waitFor(() => expect(workers).toHaveLength(2));
      calls.length = 0;
      const read = cache.get('track_metadata', 'k');
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await changing;
      expect(await read).toBeUndefined();
      expect(calls).toEqual([method, 'getMany']);
      await cache.close();
    });
  }

  it('a deleteMany of 100,000 keys on its way: a get of one of its keys made right after misses, and a get of a key it does not name still hits', async () => {
    const { cache } = await pageReading();
    const keys = Array.from({ length: 100_000 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', [{ key: 'k77777', value: 1 }, { key: 'other', value: 2 }]);
    expect(await cache.get('track_metadata', 'k77777')).toBe(1);
    const deleting = cache.deleteMany('track_metadata', keys);
    const [gone, other] = [cache.get('track_metadata', 'k77777'), cache.get('track_metadata', 'other')];
    expect([await gone, await other, await deleting]).toEqual([undefined, 2, 1]);
    expect(await cache.get('track_metadata', 'k77777')).toBeUndefined();
    await cache.close();
  });

  it('after another tab’s write or event has resolved, the page reads what it left', async () => {
    const { cache, name, indexedDB, clock } = await pageReading();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await other.set('track_metadata', 'k', 1, { trackId: 't1' });
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    await other.set('track_metadata', 'k', 2, { trackId: 't1' });
    expect(await cache.get('track_metadata', 'k')).toBe(2);
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('another tab’s clear whose message this tab lost: once it has resolved, the page reads none of what it removed', async () => {
    // The page's worker listens on a channel that loses every message: it hears nothing of the clear.
    const lossy = lossyChannel(uniqueName());
    lossy.lose = true;
    const { cache, name, indexedDB, clock, calls } = await pageReading({ engine: { openChannel: lossy.open } });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await cache.setMany('album_year', [
      { key: 'y', value: 1999 },
      { key: 'z', value: 1980 },
    ]);
    expect(await cache.getMany('album_year', ['y', 'z'])).toEqual([1999, 1980]);
    await other.clear();
    calls.length = 0;
    expect(await cache.getMany('album_year', ['y', 'z'])).toEqual([undefined, undefined]);
    expect(calls).toEqual([]);
  });

  it('a database another tab deleted and made again, with entries of its own: the page reads the new one, none of the old one’s entries', async () => {
    const { cache, name, indexedDB, clock } = await pageReading();
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'old' },
      { key: 'gone', value: 'old' },
    ]);
    expect(await cache.getMany('track_metadata', ['k', 'gone'])).toEqual(['old', 'old']);
    await deleteUnderTabs(indexedDB, name, { turns: 50 });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await other.set('track_metadata', 'k', 'new');
    expect(await cache.getMany('track_metadata', ['k', 'gone'])).toEqual(['new', undefined]);
  });

  it('never sees part of another tab’s import: each read has all of what it replaces, or all of it', async () => {
    const { cache, name, indexedDB, clock } = await pageReading();
    const keys = Array.from({ length: 60 }, (_, index) => `k${index}`);
    await cache.setMany('track_metadata', keys.map((key) => ({ key, value: 'old' })));
    // Another tab imports over them in steps of 10 entries (a transaction each).
    const { cache: other } = await openRemoteCache({ name, indexedDB, now: clock.now, direct: false, engine: { importChunk: 10 } });
    let done = false;
    const importing = other.setMany('track_metadata', keys.map((key) => ({ key, value: 'new' }))).finally(() => (done = true));
    const seen = new Set<string>();
    while (!done) {
      const values = await cache.getMany('track_metadata', keys);
      seen.add([...new Set(values)].join());
      await new Promise((resolve) => setImmediate(resolve));
    }
    await importing;
    expect([...seen].every((values) => values === 'old' || values === 'new')).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
    expect(await cache.getMany('track_metadata', keys)).toEqual(keys.map(() => 'new'));
  });
});

/**
 * A RemoteEngine on "workers" that open real engines (in this thread), each open waiting while `hold()`
 * is in force; the page reads persistent entries itself through `direct` (the workers' factory by default).
 */
async function holdableOpens(options: {
  name: string;
  indexedDB: IDBFactory;
  direct?: IDBFactory;
  config?: ValidConfig;
  engine?: Partial<EngineOptions>;
  /** The first worker's open waits too, until `release()`. */
  held?: boolean;
  beforeCall?: (method: string) => void;
}) {
  const { name, indexedDB, direct = indexedDB, config = new SmartCacheConfig().toJSON(), engine, beforeCall } = options;
  let release = () => {};
  let gate = options.held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const { workers, connect } = inProcessWorkers(
    async (client) => {
      await gate;
      return Engine.create({ name, config, indexedDB, cloneValues: false, client, logger: { error() {} }, ...engine });
    },
    { beforeCall },
  );
  const callbacks = { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} };
  const remote = await RemoteEngine.start({ connect: connect(callbacks), logger: { error: vi.fn() }, direct: new DirectReads({ name, indexedDB: direct, types: typesOf(config) }) });
  return { remote, workers, hold: () => void (gate = new Promise((resolve) => (release = resolve))), release: () => release() };
}

/**
 * The page's view of `inner` while its main thread is busy (a long task of the app's start): its
 * connections hear another's versionchange `busyMs` late, as a browser queues the event behind that task.
 */
function busyPage(inner: IDBFactory, busyMs: number): IDBFactory {
  const open = (name: string, version?: number) => {
    const request = inner.open(name, version);
    request.addEventListener('success', () => {
      const db = request.result;
      const dispatch = db.dispatchEvent.bind(db);
      db.dispatchEvent = (event) => (event.type === 'versionchange' ? (setTimeout(() => dispatch(event), busyMs), true) : dispatch(event));
    });
    return request;
  };
  return { open, deleteDatabase: inner.deleteDatabase.bind(inner), cmp: inner.cmp.bind(inner), databases: inner.databases.bind(inner) } as IDBFactory;
}

/** Kills the worker and holds the next one's open: a read of 'k' made then waits for that open; returns its answer. */
async function readWhileTheNextWorkerOpens({ remote, workers, hold, release }: Awaited<ReturnType<typeof holdableOpens>>) {
  hold();
  workers[0]!.kill();
  await vi.waitFor(() => expect(workers).toHaveLength(2));
  let answered = false;
  const read = remote.getMany('track_metadata', ['k']).finally(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(answered).toBe(false);
  release();
  return read;
}

describe('while the worker’s engine opens', () => {
  it('the page answers the first reads (the worker’s start is not waited for); calls made meanwhile wait for the open', async () => {
    const indexedDB = new IDBFactory();
    const { cache: writer, name } = await openCache({ indexedDB });
    await writer.set('track_metadata', 'k', 'stored');
    const calls: string[] = [];
    const opens = await holdableOpens({ name, indexedDB, held: true, beforeCall: (method) => void calls.push(method) });
    const { remote } = opens;
    expect(await remote.getMany('track_metadata', ['k', 'absent'])).toEqual([expect.objectContaining({ value: 'stored' }), undefined]);
    let stats = 'pending';
    void remote.stats().then(() => (stats = 'answered'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stats).toBe('pending');
    expect(calls).toEqual([]);
    opens.release();
    await vi.waitFor(() => expect(stats).toBe('answered'));
    // The page's reads reach the worker's counts first.
    expect(calls).toEqual(['touched', 'stats']);
    await remote.close();
  });

  it('a read the page takes on does not hang once the worker, blocked from upgrading by an older connection, gives up and keeps its types in memory', async () => {
    const indexedDB = new IDBFactory();
    const { cache: writer, name } = await openCache({ indexedDB });
    await writer.set('track_metadata', 'k', 'stored');
    await writer.close();
    // Another tab's connection that does not close for an upgrade (an older app, a tool).
    const blocker = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    // This page's config has a new persistent custom type: its worker must add a store (an upgrade).
    const { config, schedule } = upgradingWorker();
    const { remote } = await holdableOpens({ name, indexedDB, config, engine: { schedule } });
    // The worker's upgrade waits on the blocker (the page's own connection closed for it).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const read = remote.getMany('track_metadata', ['k']);
    // The worker has long answered where it keeps its types (memory) and would answer the read.
    await vi.waitFor(async () => expect((await remote.stats()).degraded).toMatch(/blocked/), { timeout: 2000 });
    expect(await Promise.race([read.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('hung'), 1000))])).toBe('answered');
    blocker.close();
    await remote.close();
  });
});

describe('a first worker that keeps the types elsewhere than the database the page read as it opened', () => {
  /** `k` in a database another tab wrote it in, and closed. */
  async function storedByAnotherTab() {
    const indexedDB = new IDBFactory();
    const { cache: other, name, clock } = await openCache({ indexedDB });
    await other.set('track_metadata', 'k', 'stored');
    await other.close();
    return { indexedDB, name, clock };
  }

  /**
   * A page whose first worker's open waits for `release`, after the page read `k` from the database another tab
   * wrote it in; `refused`: that worker cannot open IndexedDB (it keeps its types in memory).
   */
  async function readBeforeTheOpen({ refused = false } = {}) {
    const { indexedDB, name, clock } = await storedByAnotherTab();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const workerEngine = () => {
      const side = tabFactory(indexedDB);
      if (refused) side.refuse();
      return { indexedDB: side.factory };
    };
    const { cache } = await openRemoteCache({ name, indexedDB, now: clock.now, opening: () => held, workerEngine });
    const changes: string[] = [];
    cache.watch('track_metadata', 'k', ({ kind, source }) => void changes.push(`${source} ${kind}`));
    cache.watch('generic', null, ({ kind, source }) => void changes.push(`generic: ${source} ${kind}`));
    expect(await cache.get('track_metadata', 'k')).toBe('stored');
    return { cache, changes, indexedDB, name, release };
  }

  it('in memory (its IndexedDB refused): the watchers hear the loss of what the page read, once, before a read that then misses', async () => {
    const { cache, changes, release } = await readBeforeTheOpen({ refused: true });
    release();
    expect((await cache.stats()).degraded).toMatch(/IndexedDB/);
    expect(changes).toEqual(['remote clear']);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(changes).toEqual(['remote clear']);
    await cache.close();
  });

  it('in the database made since the one the page read was deleted (site data cleared): the watchers hear the loss', async () => {
    const { cache, changes, indexedDB, name, release } = await readBeforeTheOpen();
    await deleteUnderTabs(indexedDB, name);
    release();
    await cache.stats();
    expect(changes).toEqual(['remote clear']);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await cache.close();
  });

  it('in the database made since the one the page read was deleted, which the page opened too before the worker said so: the watchers hear the loss', async () => {
    const { cache, changes, indexedDB, name, release } = await readBeforeTheOpen();
    await deleteUnderTabs(indexedDB, name);
    // Another tab makes the new database; this page's next read opens it (and is left to the worker: the page moved).
    const { cache: third } = await openCache({ indexedDB, name });
    await third.stats();
    const again = cache.get('track_metadata', 'other');
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect(await again).toBeUndefined();
    await cache.stats();
    expect(changes).toEqual(['remote clear']);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await cache.close();
    await third.close();
  });

  /** A page that read `k` itself, its first worker opened with `options`, whose watchers of every key are listed. */
  async function readAndWatched(options: Partial<RemoteCacheOptions<never>>) {
    const { indexedDB, name, clock } = await storedByAnotherTab();
    const { cache } = await openRemoteCache({ name, indexedDB, now: clock.now, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)), ...options });
    const changes: string[] = [];
    cache.watch('track_metadata', null, ({ kind, source, keys }) => void changes.push(`${source} ${kind} ${keys}`));
    expect(await cache.get('track_metadata', 'k')).toBe('stored');
    /** Site data cleared: another tab makes the database again, and writes `k2` there. */
    const remade = async () => {
      await deleteUnderTabs(indexedDB, name);
      const { cache: third } = await openCache({ indexedDB, name, clock });
      await third.set('track_metadata', 'k2', 'v2');
      return third;
    };
    return { cache, changes, indexedDB, name, remade };
  }

  it("in the database made since, where another tab wrote meanwhile: the watchers hear the loss before that tab's write", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { cache, changes, remade } = await readAndWatched({ opening: () => held });
    const third = await remade();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await cache.stats();
    await vi.waitFor(() => expect(changes).toEqual(['remote clear null', 'remote set k2']));
    expect(await cache.get('track_metadata', 'k2')).toBe('v2');
    await cache.close();
    await third.close();
  });

  it('in the database it read, deleted after the worker opened it, and the one made since opened by the page before the worker said where: only the first is lost, once, and the second when it goes', async () => {
    // The worker's word of where it keeps the types reaches the page late.
    const { cache, changes, indexedDB, name, remade } = await readAndWatched({ storageDelayMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await remade();
    await cache.get('track_metadata', 'other');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await cache.stats();
    await vi.waitFor(() => expect(changes).toEqual(['remote clear null', 'remote set k2']));
    await third.set('track_metadata', 'k3', 'v3');
    await deleteUnderTabs(indexedDB, name);
    await vi.waitFor(async () => expect(await cache.get('track_metadata', 'k3')).toBeUndefined());
    await vi.waitFor(() => expect(changes).toEqual(['remote clear null', 'remote set k2', 'remote set k3', 'remote clear null']));
    await cache.close();
    await third.close();
  });

  it('in the database the page read: nothing is told', async () => {
    const { cache, changes, release } = await readBeforeTheOpen();
    release();
    await cache.stats();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(changes).toEqual([]);
    expect(await cache.get('track_metadata', 'k')).toBe('stored');
    await cache.close();
  });
});

describe('when the worker loses IndexedDB', () => {
  it('the page stops reading it before any write kept in memory resolves: no stale answer', async () => {
    const inner = new IDBFactory();
    const workerSide = tabFactory(inner);
    // The page hears of it late: the write must wait for that.
    const { cache, calls } = await pageReading({ indexedDB: workerSide.factory, direct: inner, storageDelayMs: 20 });
    await cache.set('track_metadata', 'k', 'first');
    expect(await cache.get('track_metadata', 'k')).toBe('first');
    // The worker's connection is lost and cannot be opened again: it keeps its types in memory from now on.
    workerSide.refuse();
    workerSide.loseConnection();
    await cache.set('track_metadata', 'k', 'second');
    expect((await cache.stats()).degraded).toMatch(/IndexedDB/);
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBe('second');
    expect(calls).toEqual(['getMany']);
  });

  it('an event applied in memory only is not undone by a read of IndexedDB', async () => {
    const inner = new IDBFactory();
    const workerSide = tabFactory(inner);
    const { cache } = await pageReading({ indexedDB: workerSide.factory, direct: inner, storageDelayMs: 20 });
    await cache.set('track_metadata', 'k', 'v', { trackId: 't1' });
    workerSide.refuse();
    workerSide.loseConnection();
    await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('a worker that starts without IndexedDB is never read around once it has said so (before, the page reads what the other tabs share)', async () => {
    const inner = new IDBFactory();
    const { cache: other, name, clock } = await openCache({ indexedDB: inner });
    await other.set('track_metadata', 'k', 'in IndexedDB');
    const workerSide = tabFactory(inner);
    workerSide.refuse();
    const { cache, calls } = await pageReading({ name, indexedDB: workerSide.factory, direct: inner, now: clock.now });
    // Any answer of the worker comes after its open, which said where it keeps its types.
    expect((await cache.stats()).degraded).toMatch(/IndexedDB/);
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    expect(calls).toContain('getMany');
  });
  it('the next worker cannot open it (its open request errors) while the page can: a watcher told of the loss reads none of what IndexedDB kept', async () => {
    const inner = new IDBFactory();
    // Each worker its own view of IndexedDB: the second one's open request fails, as in a browser that lost its storage.
    let started = 0;
    const workerEngine = () => {
      const side = tabFactory(inner);
      if (started++) side.refuse();
      return { indexedDB: side.factory };
    };
    // The worker's word on where it keeps its types takes a while to reach the page, as a round trip may.
    const { cache, workers } = await openRemoteCache({ name: uniqueName(), indexedDB: inner, workerEngine, storageDelayMs: 20 });
    await cache.set('track_metadata', 'k', 'in IndexedDB');
    expect(await cache.get('track_metadata', 'k')).toBe('in IndexedDB');
    const heard: unknown[] = [];
    cache.watch('track_metadata', 'k', ({ kind }) => {
      if (kind === 'clear') void cache.get('track_metadata', 'k').then((value) => heard.push(value));
    });
    workers[0]!.kill();
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(heard).toEqual([undefined]);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await cache.close();
  });
  it('the live worker’s connection closes under it and opening again errors while the page can read: a watcher told of the loss reads none of what IndexedDB kept, nor do stats() and entries()', async () => {
    const inner = new IDBFactory();
    const workerSide = tabFactory(inner);
    // The worker's word on where it keeps its types takes a while to reach the page, as a round trip may.
    const { cache } = await pageReading({ indexedDB: workerSide.factory, direct: inner, storageDelayMs: 20 });
    await cache.set('track_metadata', 'k', 'in IndexedDB');
    expect(await cache.get('track_metadata', 'k')).toBe('in IndexedDB');
    const heard: unknown[] = [];
    cache.watch('track_metadata', 'k', ({ kind }) => {
      heard.push(kind);
      if (kind === 'clear') void cache.get('track_metadata', 'k').then((value) => heard.push(value));
    });
    const changes: string[] = [];
    cache.watch('track_metadata', null, ({ kind, keys }) => changes.push(`${kind} ${keys ?? 'any'}`));
    // The browser closes the connection (site data cleared, a disk failure) and refuses the worker's opens from then on.
    workerSide.refuse();
    workerSide.loseConnection();
    await cache.set('track_metadata', 'other', 'in memory');
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(heard).toEqual(['clear', undefined]);
    // The loss first: what was written after it stays.
    expect(changes).toEqual(['clear any', 'set other']);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    expect(await cache.entries('track_metadata')).toEqual([['other', 'in memory']]);
    const stats = await cache.stats();
    expect(stats.degraded).toMatch(/IndexedDB/);
    expect(stats.types.track_metadata).toMatchObject({ entries: 1, storage: 'memory' });
    await cache.close();
  });
  it('the live worker gives it up (connection closed, opens refused) and dies; its next worker opens it again: the watchers hear that any key may have changed (a clear), and one reading as it hears it reads what IndexedDB kept, not the dead worker’s memory', async () => {
    const inner = new IDBFactory();
    // Each worker its own view of IndexedDB: the first one's is closed and refused, the next one's opens.
    const sides: ReturnType<typeof tabFactory>[] = [];
    const workerEngine = () => {
      const side = tabFactory(inner);
      sides.push(side);
      return { indexedDB: side.factory };
    };
    const { cache, workers } = await openRemoteCache({ name: uniqueName(), indexedDB: inner, workerEngine, storageDelayMs: 20 });
    await cache.set('track_metadata', 'k', 'in IndexedDB');
    const heard: unknown[] = [];
    cache.watch('track_metadata', 'k', ({ kind }) => {
      heard.push(kind);
      void cache.get('track_metadata', 'k').then((value) => heard.push(value));
    });
    const changes: string[] = [];
    cache.watch('track_metadata', null, ({ kind, keys }) => changes.push(`${kind} ${keys ?? 'any'}`));
    sides[0]!.refuse();
    sides[0]!.loseConnection();
    await cache.set('track_metadata', 'other', 'in memory');
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(changes).toEqual(['clear any', 'set other']);
    // Terminated, or crashed: the next worker starts at once, and IndexedDB opens for it.
    workers[0]!.kill();
    expect(await cache.get('track_metadata', 'k')).toBe('in IndexedDB');
    expect(await cache.get('track_metadata', 'other')).toBeUndefined();
    expect((await cache.stats()).degraded).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes).toEqual(['clear any', 'set other', 'clear any']);
    expect(heard).toEqual(['clear', undefined, 'clear', 'in IndexedDB']);
    await cache.close();
  });
  it('the live worker gives it up and dies; its next worker opens it again, writes there, then gives it up too within two minutes: the watchers hear that second loss (a clear), and reads miss what the next worker wrote there', async () => {
    const { cache, sides, workers, changes } = await reopenedAfterALoss();
    // The next worker's connection closes under it in turn, and its opens are refused too.
    sides[1]!.refuse();
    sides[1]!.loseConnection();
    await cache.set('track_metadata', 'later', 'in memory');
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'reopened')).toBeUndefined();
    expect(changes).toEqual(['clear any', 'set other', 'clear any', 'set reopened', 'clear any', 'set later']);
    await cache.close();
  });
  it('the live worker gives it up and dies; its next worker opens it again and writes there; the database is deleted under it (site data cleared), which it tells, and it dies: the watchers hear that loss once, not again from the worker after', async () => {
    const { cache, workers, changes, inner, name } = await reopenedAfterALoss();
    await deleteUnderTabs(inner, name);
    await vi.waitFor(() => expect(changes).toHaveLength(5));
    await killedAfterTheReopen({ cache, workers, changes });
  });
  it('the live worker gives it up and dies; its next worker opens it again, writes there and dies; the one after cannot open it: the watchers hear that loss (a clear), and reads miss what the next worker wrote there', async () => {
    const { cache, workers, changes, refuseNext } = await reopenedAfterALoss();
    refuseNext();
    await killedAfterTheReopen({ cache, workers, changes });
  });
});

describe('a worker whose death cannot be observed (no Web Locks)', () => {
  it('is found (probed through the page’s report of its hits) while the page answers every read itself', async () => {
    const indexedDB = new IDBFactory();
    const { cache: writer, name } = await openCache({ indexedDB });
    await writer.set('track_metadata', 'k', 1);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let fail!: (error: Error) => void;
      const died = new Promise<never>((_, reject) => (fail = reject));
      died.catch(() => {});
      const terminate = vi.fn(() => fail(new CacheError('worker_failed', 'The cache worker was terminated')));
      // A worker that hangs: no call is ever answered, not even a ping.
      const engine = new Proxy({} as EngineApi, { get: () => () => new Promise(() => {}) });
      const connections = [{ engine, died, terminate, probe: () => new Promise<void>(() => {}), storage: () => 'indexeddb' as const }];
      const remote = await RemoteEngine.start({
        connect: async () => connections.shift() ?? Promise.reject(new CacheError('worker_failed', 'no more workers')),
        logger: { error: vi.fn() },
        direct: new DirectReads({ name, indexedDB, types: typesOf({}) }),
      });
      for (let second = 0; second < 10 && !terminate.mock.calls.length; second++) {
        expect(await remote.getMany('track_metadata', ['k'])).toEqual([expect.objectContaining({ value: 1 })]);
        await vi.advanceTimersByTimeAsync(1000);
      }
      expect(terminate).toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a worker that kept its types in memory', () => {
  it('dies: the page does not read around the next one before it has said where it keeps them (IndexedDB may lack what the last one applied in memory)', async () => {
    const inner = new IDBFactory();
    const { cache: other, name } = await openCache({ indexedDB: inner });
    await other.set('track_metadata', 'k', 'in IndexedDB');
    const workerSide = tabFactory(inner);
    workerSide.refuse();
    const opens = await holdableOpens({ name, indexedDB: workerSide.factory, direct: inner });
    const { remote } = opens;
    expect((await remote.stats()).degraded).toMatch(/IndexedDB/);
    expect(await remote.getMany('track_metadata', ['k'])).toEqual([undefined]);
    expect(await readWhileTheNextWorkerOpens(opens)).toEqual([undefined]);
    await remote.close();
  });

  it('loses IndexedDB while it runs, applies an event in memory only, then dies: the page does not read around the next one before it has said where it keeps them', async () => {
    const inner = new IDBFactory();
    const name = uniqueName();
    const workerSide = tabFactory(inner);
    const opens = await holdableOpens({ name, indexedDB: workerSide.factory, direct: inner });
    const { remote } = opens;
    await remote.setMany('track_metadata', [{ key: 'k', value: 'v', trackIds: ['t1'] }]);
    expect(await remote.getMany('track_metadata', ['k'])).toEqual([expect.objectContaining({ value: 'v' })]);
    workerSide.refuse();
    workerSide.loseConnection();
    // Applied in the worker's memory only: IndexedDB keeps the entry.
    await remote.emit(createCacheEvent({ eventType: 'track_removed', trackId: 't1' }));
    expect((await remote.stats()).degraded).toMatch(/IndexedDB/);
    expect(await remote.getMany('track_metadata', ['k'])).toEqual([undefined]);
    expect(await readWhileTheNextWorkerOpens(opens)).toEqual([undefined]);
    await remote.close();
  });
});

describe('the page’s connection', () => {
  it('closes when the worker fails to start (createCache rejects: there is no cache to close)', async () => {
    const inner = new IDBFactory();
    const { cache, name } = await openCache({ indexedDB: inner });
    await cache.set('track_metadata', 'k', 1);
    const page = tabFactory(inner);
    const direct = new DirectReads({ name, indexedDB: page.factory, types: typesOf({}) });
    const connect = () => new Promise<never>((_, reject) => setTimeout(() => reject(new CacheError('worker_failed', 'could not start')), 20));
    await expect(RemoteEngine.start({ connect, logger: { error: vi.fn() }, direct })).rejects.toThrow(/could not start/);
    expect(page.connections()).toEqual([]);
  });

  it('an IndexedDB whose open throws (as a sandboxed page’s, or a disabled one, does) leaves nothing unhandled: reads go to the worker, and try again later', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      let now = 0;
      let opens = 0;
      const refused = brokenFactory('SecurityError', 'access to the Indexed Database API is denied in this context');
      const indexedDB = { open: (...args: Parameters<IDBFactory['open']>) => (opens++, refused.open(...args)) } as IDBFactory;
      const reads = new DirectReads({ name: uniqueName(), indexedDB, types: typesOf({}), now: () => now });
      reads.warm();
      expect(await reads.read('track_metadata', ['k'])).toBeNull();
      expect(opens).toBe(1);
      now += 1000;
      expect(await reads.read('track_metadata', ['k'])).toBeNull();
      expect(opens).toBe(2);
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('after an open that failed, a clock set back (a year: the system clock corrected) does not keep the page from opening again for that year', async () => {
    let now = Date.UTC(2027, 0, 1);
    let opens = 0;
    const refused = brokenFactory('SecurityError', 'access to the Indexed Database API is denied in this context');
    const indexedDB = { open: (...args: Parameters<IDBFactory['open']>) => (opens++, refused.open(...args)) } as IDBFactory;
    const reads = new DirectReads({ name: uniqueName(), indexedDB, types: typesOf({}), now: () => now });
    expect(await reads.read('track_metadata', ['k'])).toBeNull();
    expect(opens).toBe(1);
    now -= 365 * 86_400_000;
    expect(await reads.read('track_metadata', ['k'])).toBeNull();
    expect(opens).toBe(2);
  });

  it('makes no database where there is none', async () => {
    const indexedDB = new IDBFactory();
    const reads = new DirectReads({ name: 'absent', indexedDB, types: typesOf({}) });
    expect(await reads.read('track_metadata', ['k'])).toBeNull();
    expect(await indexedDB.databases()).toEqual([]);
  });

  it('holds up no other tab: an upgrade (a new custom type) and a deletion go through, and the page reads again after', async () => {
    const { cache, name, indexedDB, clock, calls } = await pageReading();
    await cache.set('track_metadata', 'k', 1);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    const { cache: other } = await openCache({
      name,
      indexedDB,
      clock,
      config: { caching: { customTypes: { lyrics: { ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1, persistent: true } } } },
    });
    // Not blocked until the open gives up and keeps its types in memory.
    expect((await other.stats()).degraded).toBeNull();
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    expect(calls).toEqual([]);
    await deleteUnderTabs(indexedDB, name, { turns: 50 });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    await cache.set('track_metadata', 'k', 2);
    clock.advance(2000);
    expect(await cache.get('track_metadata', 'k')).toBe(2);
  });

  it('holds up no upgrade of its own worker (a new custom type) while the page is busy: the worker keeps its types in IndexedDB, not in memory for the session', async () => {
    const indexedDB = new IDBFactory();
    const { cache: writer, name } = await openCache({ indexedDB });
    await writer.set('track_metadata', 'k', 'stored');
    await writer.close();
    const { config, schedule } = upgradingWorker();
    const { remote } = await holdableOpens({ name, indexedDB, direct: busyPage(indexedDB, 1000), config, engine: { schedule } });
    expect((await remote.stats()).degraded).toBeNull();
    expect(await remote.getMany('track_metadata', ['k'])).toEqual([expect.objectContaining({ value: 'stored' })]);
    await remote.close();
  });

  it('closed by the browser under a read (a backend failure): that read is the worker’s, answered as it stands; the next read opens again and is the page’s', async () => {
    const inner = new IDBFactory();
    const page = tabFactory(inner);
    const { cache, calls, clock } = await pageReading({ indexedDB: inner, direct: page.factory });
    await cache.set('track_metadata', 'k', 1);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    await cache.set('track_metadata', 'k', 2);
    calls.length = 0;
    const read = cache.get('track_metadata', 'k');
    // The page's transaction is made once the gets of this task are gathered: lost right after.
    await Promise.resolve();
    page.loseConnection();
    expect(await read).toBe(2);
    expect(calls).toEqual(['getMany']);
    clock.advance(2000);
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBe(2);
    expect(calls).toEqual([]);
    expect(page.connections()).toHaveLength(1);
  });

  it('a read whose request fails (its transaction aborted: a value Chromium cannot read back) is the worker’s, and the page keeps no connection open for it: after three, one connection', async () => {
    const inner = new IDBFactory();
    // Made first: fake-indexeddb leaves open the connection of an upgrade the page aborts (no database yet), which a browser closes.
    const { cache: writer, name } = await openCache({ indexedDB: inner });
    await writer.set('track_metadata', 'k', 1);
    await writer.close();
    const page = tabFactory(inner);
    const { cache, calls } = await pageReading({ name, indexedDB: inner, direct: page.factory });
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    for (let attempt = 0; attempt < 3; attempt++) {
      const fault = failRequest({ nth: 1, name: 'UnknownError', methods: ['get'], database: name });
      calls.length = 0;
      expect(await cache.get('track_metadata', 'k')).toBe(1);
      expect(fault.fired()).toBe(true);
      // (After the worker hears of the page's earlier hit.)
      expect(calls.filter((call) => call !== 'touched')).toEqual(['getMany']);
    }
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    expect(calls).toEqual([]);
    expect(page.connections()).toHaveLength(1);
  });

  it('closed by the browser with every connection of the origin (site data cleared) and made again by another tab: the next read is the worker’s, whose watchers hear the loss (a clear) before it answers; the read after is the page’s', async () => {
    const inner = new IDBFactory();
    const [workerSide, pageSide, otherSide] = [tabFactory(inner), tabFactory(inner), tabFactory(inner)];
    const { cache, name, clock, calls } = await pageReading({ indexedDB: workerSide.factory, direct: pageSide.factory });
    const { cache: other } = await openCache({ name, indexedDB: otherSide.factory, clock });
    await cache.set('track_metadata', 'k', 'old');
    expect(await cache.get('track_metadata', 'k')).toBe('old');
    const changes: string[] = [];
    cache.watch('track_metadata', null, ({ kind, keys }) => changes.push(`${kind} ${keys ?? 'any'}`));
    // Chromium closes them (a `close` event, no versionchange) and deletes the database; the other tab's next call makes it again.
    for (const side of [workerSide, pageSide, otherSide]) side.loseConnection();
    await deleteUnderTabs(inner, name, { turns: 50 });
    await other.set('track_metadata', 'x', 'new');
    const value = await cache.get('track_metadata', 'k');
    expect({ value, changes }).toEqual({ value: undefined, changes: ['clear any'] });
    calls.length = 0;
    expect(await cache.get('track_metadata', 'x')).toBe('new');
    expect(calls).toEqual([]);
  });

  /**
   * A page that read k and watches its type; another tab opens with a new custom type, whose upgrade closes the worker's
   * connection and the page's (the page opens again at its next read). `deletedAndMadeAgain`: site data cleared, the
   * database made again by that tab: the page's next read of k is a miss, after its watchers heard the loss.
   */
  async function readWatchedThenUpgraded() {
    const { cache, name, indexedDB, clock, calls } = await pageReading();
    await cache.set('track_metadata', 'k', 'old');
    expect(await cache.get('track_metadata', 'k')).toBe('old');
    const changes: string[] = [];
    cache.watch('track_metadata', null, ({ kind, keys }) => changes.push(`${kind} ${keys ?? 'any'}`));
    const lyrics = { ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1, persistent: true } as const;
    const { cache: other } = await openCache({ name, indexedDB, clock, config: { caching: { customTypes: { lyrics } } } });
    const deletedAndMadeAgain = async () => {
      await deleteUnderTabs(indexedDB, name, { turns: 50 });
      await other.set('track_metadata', 'x', 'new');
      const value = await cache.get('track_metadata', 'k');
      expect({ value, changes }).toEqual({ value: undefined, changes: ['clear any'] });
    };
    return { cache, calls, deletedAndMadeAgain };
  }

  it('deleted (site data cleared, at versionchange) while its worker, idle since another tab’s upgrade closed its connection, has none, and made again by another tab: the next read is the worker’s, whose watchers hear the loss (a clear) before it answers', async () => {
    const { cache, calls, deletedAndMadeAgain } = await readWatchedThenUpgraded();
    calls.length = 0;
    expect(await cache.get('track_metadata', 'k')).toBe('old');
    expect(calls).toEqual([]);
    await deletedAndMadeAgain();
  });

  it('deleted (site data cleared) while neither its worker nor the page holds a connection (both closed at another tab’s upgrade, no read since), and made again by another tab: the next read is the worker’s, whose watchers hear the loss (a clear) before it answers', async () => {
    const { deletedAndMadeAgain } = await readWatchedThenUpgraded();
    await deletedAndMadeAgain();
  });

  it('closes with the cache', async () => {
    const { cache, name, indexedDB } = await pageReading();
    await cache.set('track_metadata', 'k', 1);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    await cache.close();
    // Nothing left open: a deletion goes through.
    await deleteUnderTabs(indexedDB, name, { turns: 50 });
  });
});

/**
 * A config with a new persistent custom type, whose worker must add a store (an upgrade), and a schedule under
 * which that worker gives up on a blocked upgrade after 300 ms (3 s in a browser).
 */
function upgradingWorker() {
  const config = new SmartCacheConfig({
    caching: { customTypes: { lyrics: { ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1, persistent: true } } },
  } as never).toJSON();
  const schedule = (run: () => void, ms: number) => {
    const timer = setTimeout(run, Math.min(ms, 300));
    return () => clearTimeout(timer);
  };
  return { config, schedule };
}
