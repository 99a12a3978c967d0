import { IDBDatabase, IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SET_MANY_CHUNK, type CacheClient } from '../src/CacheClient';
import { isCacheError, type Cache, type CacheChange, type ContentType } from '../src/index';
import { checkedChannel } from '../src/checkedChannel';
import { brokenFactory, failCommits } from './support/faultyIndexedDB';
import { killAtFirst, openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';

async function code(promise: Promise<unknown>) {
  const error = await rejection(promise);
  expect(isCacheError(error)).toBe(true);
  return error.code;
}

describe('get, set, delete, clear', () => {
  it('returns what was set, a copy that callers cannot change', async () => {
    const { cache } = await openCache();
    for (const type of ['track_metadata', 'generic'] as const) {
      const value = { title: 'Song', tags: ['a'] };
      await cache.set(type, 'k', value);
      value.tags.push('changed after set');
      const read = (await cache.get(type, 'k')) as typeof value;
      expect(read).toEqual({ title: 'Song', tags: ['a'] });
      read.title = 'changed after get';
      expect(await cache.get(type, 'k')).toEqual({ title: 'Song', tags: ['a'] });
    }
  });

  it('stores null, and structured-cloneable values such as Map, Date and bytes', async () => {
    const { cache } = await openCache();
    const value = { map: new Map([['a', 1]]), when: new Date(0), bytes: new Uint8Array([1, 2]) };
    await cache.set('track_metadata', 'rich', value);
    await cache.set('generic', 'nothing', null);
    expect(await cache.get('track_metadata', 'rich')).toEqual(value);
    expect(await cache.get('generic', 'nothing')).toBeNull();
  });

  it('delete says whether there was an entry; clear empties one type or all', async () => {
    const { cache } = await openCache();
    await cache.set('generic', 'a', 1);
    await cache.set('album_year', 'b', 2);
    await cache.set('track_metadata', 'c', 3);
    expect(await cache.delete('generic', 'a')).toBe(true);
    expect(await cache.delete('generic', 'a')).toBe(false);
    await cache.clear('album_year');
    expect(await cache.get('album_year', 'b')).toBeUndefined();
    expect(await cache.get('track_metadata', 'c')).toBe(3);
    await cache.clear();
    expect(await cache.get('track_metadata', 'c')).toBeUndefined();
    const { types } = await cache.stats();
    expect(Object.values(types).every((stats) => stats.entries === 0 && stats.bytes === 0)).toBe(true);
  });

  it('counts hits and misses per type', async () => {
    const { cache } = await openCache();
    await cache.set('generic', 'a', 1);
    await cache.getMany('generic', ['a', 'b', 'a']);
    expect((await cache.stats()).types.generic).toMatchObject({ hits: 2, misses: 1, entries: 1 });
  });

  it('reports maxBytes as maxSizeMb × 2^20', async () => {
    const { cache } = await openCache({ config: { caching: { policies: { generic: { maxSizeMb: null } } } } });
    const { types } = await cache.stats();
    expect(types.track_metadata.maxBytes).toBe(100 * 2 ** 20);
    expect(types.failed_api_lookup.maxBytes).toBe(5 * 2 ** 20);
    expect(types.generic.maxBytes).toBeNull();
  });
});

describe('getMany and setMany', () => {
  it('getMany returns values in key order with undefined for misses', async () => {
    const { cache } = await openCache();
    await cache.setMany('track_metadata', [
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(await cache.getMany('track_metadata', ['b', 'x', 'a'])).toEqual([2, undefined, 1]);
    expect(await cache.getMany('track_metadata', [])).toEqual([]);
  });

  it("getMany takes get's options too (SPEC: getMany(type, keys, opts?)): one fingerprint checks every key", async () => {
    const { cache } = await openCache();
    for (const type of ['album_year', 'generic'] as const) {
      await cache.set(type, 'a', 1, { fingerprint: 'F1' });
      await cache.set(type, 'b', 2, { fingerprint: 'F2' });
    }
    expect(await cache.getMany('album_year', ['a', 'b'], { fingerprint: 'F1' })).toEqual([1, undefined]);
    expect(await cache.has('album_year', 'b')).toBe(false);
    // generic does not validate fingerprints: the option changes nothing there, as get's does not.
    expect(await cache.getMany('generic', ['a', 'b'], { fingerprint: 'F1' })).toEqual([1, 2]);
    expect(await code(cache.getMany('album_year', ['a'], { fingerprint: 'F1', fingerprints: ['F1'] }))).toBe('invalid_argument');
  });

  it('getMany and deleteMany of 100,000 keys take them as they are when called: the caller emptying or changing its array right after changes nothing', async () => {
    const { cache } = await openCache();
    const keys = Array.from({ length: 100_000 }, (_, index) => `k${index}`);
    await cache.setMany('generic', [{ key: 'k0', value: 0 }, { key: 'k99999', value: 99_999 }, { key: 'kept', value: 1 }]);
    const asked = [...keys];
    const reading = cache.getMany('generic', asked);
    asked.length = 0;
    const found = await reading;
    expect([found.length, found[0], found[99_999], found.filter((value) => value !== undefined).length]).toEqual([100_000, 0, 99_999, 2]);
    const given = [...keys];
    const deleting = cache.deleteMany('generic', given);
    given.fill('kept');
    expect(await deleting).toBe(2);
    expect(await cache.keys('generic')).toEqual(['kept']);
  });

  it('getMany and deleteMany of 100,000 keys name a bad one by its index, as for a few, and read or delete nothing; a key of 4096 emoji (8192 UTF-16 units) among them is a key', async () => {
    const { cache } = await openCache();
    const emoji = '\u{1F3B5}'.repeat(4096);
    await cache.setMany('generic', [{ key: emoji, value: 1 }, { key: 'k0', value: 0 }]);
    const keys = Array.from({ length: 100_000 }, (_, index) => (index === 5 ? emoji : `k${index}`));
    const bad = [...keys.slice(0, 99_999), ''];
    for (const [call, path] of [
      [() => cache.getMany('generic', bad), 'keys.99999'],
      [() => cache.deleteMany('generic', bad), '99999'],
      [() => cache.deleteMany('generic', [...keys.slice(0, 99_999), 'k'.repeat(4097)]), '99999'],
    ] as const) {
      const { code, issues } = await rejection(call());
      expect({ code, issues }).toEqual({ code: 'invalid_argument', issues: [{ path, message: expect.stringMatching(/^key must be/) }] });
    }
    expect(await cache.keys('generic')).toEqual(['k0', emoji]);
    expect((await cache.getMany('generic', keys)).filter((value) => value !== undefined)).toEqual([0, 1]);
    expect(await cache.deleteMany('generic', keys)).toBe(2);
    expect(await cache.keys('generic')).toEqual([]);
  });

  it('getMany takes null options as none, as get, set, setMany, keys and resolve do', async () => {
    const { cache } = await openCache();
    await cache.set('generic', 'a', 1, null as never);
    expect(await cache.get('generic', 'a', null as never)).toBe(1);
    expect(await cache.getMany('generic', ['a'], null as never)).toEqual([1]);
  });

  it('config: null is no config, as null options are none; keys: null is refused with invalid_argument, never taken for every key', async () => {
    const { cache } = await openCache({ config: null as never });
    expect((await cache.stats()).types.generic.maxBytes).toBe(30 * 2 ** 20);
    await cache.setMany('generic', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(await code(cache.deleteMany('generic', null as never))).toBe('invalid_argument');
    expect(await code(cache.getMany('generic', null as never))).toBe('invalid_argument');
    expect(await code(cache.clear(null as never))).toBe('unknown_content_type');
    expect(await cache.keys('generic')).toEqual(['a', 'b']);
  });

  it('setMany reports progress, ending with total of total (the entries passed), and the last entry for a key wins', async () => {
    const { cache } = await openCache();
    const progress = vi.fn();
    const entries = Array.from({ length: 2500 }, (_, index) => ({ key: `k${index % 2400}`, value: index }));
    await cache.setMany('track_metadata', entries, { onProgress: progress });
    expect(progress).toHaveBeenLastCalledWith(2500, 2500);
    expect(progress.mock.calls.every(([, total]) => total === 2500)).toBe(true);
    const calls = progress.mock.calls.map(([done]) => done as number);
    expect(calls).toEqual([...calls].sort((a, b) => a - b));
    expect(await cache.get('track_metadata', 'k0')).toBe(2400);
    expect((await cache.stats()).types.track_metadata.entries).toBe(2400);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: setMany reports progress of the entries passed, a key given twice counted twice', async (type) => {
    const { cache } = await openCache();
    const progress = vi.fn();
    await cache.setMany(type, [{ key: 'k', value: 1 }, { key: 'k', value: 2 }], { onProgress: progress });
    expect(progress).toHaveBeenLastCalledWith(2, 2);
    expect(await cache.get(type, 'k')).toBe(2);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: a setMany of no entries reports no progress', async (type) => {
    const { cache } = await openCache();
    const progress = vi.fn();
    await cache.setMany(type, [], { onProgress: progress });
    expect(progress.mock.calls).toEqual([]);
  });

  it('a setMany that rejects (a full disk at commit, the retry too) never reported all of its entries done', async () => {
    const { cache, name } = await openCache();
    const progress = vi.fn();
    // This cache's commits: not those of a cache an earlier test left writing its read times.
    const restore = failCommits(2, undefined, name);
    try {
      const error = await rejection(cache.setMany('track_metadata', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }], { onProgress: progress }));
      expect(isCacheError(error, 'quota_exceeded')).toBe(true);
    } finally {
      restore();
    }
    expect(progress).not.toHaveBeenCalledWith(2, 2);
    expect(await cache.getMany('track_metadata', ['a', 'b'])).toEqual([undefined, undefined]);
  });

  it('an onProgress that rejects (an async one that throws) is reported to the logger like one that throws, not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { cache, logger } = await openCache();
      const failure = new Error('the progress bar is gone');
      await cache.setMany('track_metadata', [{ key: 'k', value: 1 }], {
        onProgress: async () => {
          throw failure;
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
      expect(logger.error).toHaveBeenCalledWith('Reprise: onProgress failed', failure);
      expect(await cache.get('track_metadata', 'k')).toBe(1);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it.each([10, SET_MANY_CHUNK * 2 + 7])('setMany of %i entries with one bad entry writes none', async (count) => {
    const { cache } = await openCache();
    const good = Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: index }));
    const bad = [...good];
    bad[count - 3] = { key: '', value: 1 };
    const error = await rejection(cache.setMany('track_metadata', bad));
    expect(error).toMatchObject({ code: 'invalid_argument' });
    expect(error.message).toContain(`entry ${count - 3}`);
    expect((await cache.stats()).types.track_metadata.entries).toBe(0);
    await cache.setMany('track_metadata', good);
    expect((await cache.stats()).types.track_metadata.entries).toBe(count);
  });

  it.each(['sync', 'async'] as const)('setMany validates in slices of a few milliseconds, letting the thread run between them, even within one chunk (a %s validator)', async (kind) => {
    // A schema that takes a millisecond per value: 200 entries (one chunk) are 200 ms of validation.
    const slow = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate(value: unknown) {
          const until = performance.now() + 1;
          while (performance.now() < until);
          validatedAt.push(ticks);
          // An async one's promise settles in a microtask, which lets no other task run.
          return kind === 'sync' ? { value } : Promise.resolve({ value });
        },
      },
    };
    const validatedAt: number[] = [];
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const { cache } = await openCache({ schemas: { generic: slow } });
    await cache.setMany('generic', Array.from({ length: 200 }, (_, index) => ({ key: `k${index}`, value: index })));
    ticking = false;
    // Entries validated between two turns of the event loop: a slice's worth (time-based, so a
    // slower machine validates fewer per slice, never more), not the whole chunk.
    const perTurn = new Map<number, number>();
    for (const at of validatedAt) perTurn.set(at, (perTurn.get(at) ?? 0) + 1);
    expect(validatedAt).toHaveLength(200);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(20);
    expect(await cache.get('generic', 'k199')).toBe(199);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: a value that cannot be cloned rejects with not_cloneable and writes nothing', async (type) => {
    const { cache } = await openCache();
    await cache.set(type, 'before', 0);
    expect(await code(cache.set(type, 'fn', () => 1))).toBe('not_cloneable');
    const entries = [
      { key: 'a', value: 1 },
      { key: 'b', value: { nested: Symbol('no') } },
      { key: 'c', value: 3 },
    ];
    expect(await code(cache.setMany(type, entries))).toBe('not_cloneable');
    expect(await cache.getMany(type, ['before', 'a', 'b', 'c'])).toEqual([0, undefined, undefined, undefined]);
    expect((await cache.stats()).types[type].entries).toBe(1);
  });
});

describe.each(['in process', 'in process without IndexedDB', 'with a worker'] as const)('%s: an event whose metadata cannot be cloned', (mode) => {
  // Deeper than the limit values have (a worker rebuilds what the page copies only so far: in Chromium an
  // event ~2,000 levels deep passes the page's copy and costs every tab's worker that hears it).
  let deep: Record<string, unknown> = { artist: 'A' };
  for (let level = 0; level < 600; level++) deep = { deeper: deep };
  it.each([
    ['a function', { artist: 'A', album: 'B', done: () => {} }, 'copying it threw'],
    ['nested 600 levels', deep, '500 levels'],
  ])('%s: rejects with not_cloneable and invalidates nothing, here or in another tab', async (_, metadata, reason) => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const open = () =>
      mode === 'with a worker' ? openRemoteCache({ name, indexedDB, now: Date.now }) : openCache({ name, indexedDB: mode === 'in process' ? indexedDB : brokenFactory() });
    const [{ cache }, { cache: other }] = [await open(), await open()];
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await cache.set('generic', 'g', 1, { trackId: 't1' });
    await other.set('generic', 'g', 2, { trackId: 't1' });
    const heard: string[] = [];
    other.on('*', (event) => void heard.push(event.eventType));
    const error = await rejection(cache.emit({ eventType: 'track_removed', trackId: 't1', metadata }));
    expect([error.code, error.message]).toEqual(['not_cloneable', expect.stringContaining(reason)]);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    expect(await cache.get('generic', 'g')).toBe(1);
    // A later event reaches the other tab: the failed one never does.
    await cache.emit({ eventType: 'library_sync' });
    await other.stats();
    await vi.waitFor(() => expect(heard).toEqual(['library_sync']));
    expect(await other.get('generic', 'g')).toBe(2);
  });
});

describe('getOrSet', () => {
  it('calls the fetcher once for concurrent calls and caches the value', async () => {
    const { cache } = await openCache();
    let resolve!: (value: string) => void;
    const fetcher = vi.fn(() => new Promise<string>((done) => (resolve = done)));
    const calls = [1, 2, 3].map(() => cache.getOrSet('successful_api_metadata', 'k', fetcher, { trackId: 't1' }));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    resolve('fetched');
    expect(await Promise.all(calls)).toEqual(['fetched', 'fetched', 'fetched']);
    expect(await cache.getOrSet('successful_api_metadata', 'k', fetcher)).toBe('fetched');
    expect(fetcher).toHaveBeenCalledTimes(1);
    await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(await cache.get('successful_api_metadata', 'k')).toBeUndefined();
  });

  it('a failing fetcher rejects every waiter, caches nothing, and the next call fetches again', async () => {
    const { cache } = await openCache();
    const failure = new Error('API down');
    const failing = vi.fn(async () => {
      throw failure;
    });
    const calls = [cache.getOrSet('generic', 'k', failing), cache.getOrSet('generic', 'k', failing)];
    for (const call of calls) expect(await rejection(call)).toBe(failure);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await cache.get('generic', 'k')).toBeUndefined();
    expect(await cache.getOrSet('generic', 'k', () => 'ok')).toBe('ok');
  });

  it('different keys do not share a fetch', async () => {
    const { cache } = await openCache();
    const fetcher = vi.fn(async () => 'v');
    await Promise.all([cache.getOrSet('generic', 'a', fetcher), cache.getOrSet('generic', 'b', fetcher), cache.getOrSet('album_year', 'a', fetcher)]);
    expect(fetcher).toHaveBeenCalledTimes(3);
  });

  it('rejects a fetcher that returns undefined', async () => {
    const { cache } = await openCache();
    expect(await code(cache.getOrSet('generic', 'k', () => undefined))).toBe('invalid_value');
  });
});

describe('getOrSet never stores a value an event made stale during its fetch', () => {
  /** A fetcher that waits until the test lets it answer. */
  function gatedFetcher(value: unknown) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = vi.fn();
    return {
      fetcher: async () => {
        started();
        await gate;
        return value;
      },
      started,
      release,
    };
  }

  const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };

  it.each(['successful_api_metadata', 'generic'] as const)('%s: an event of this tab, emitted while fetching', async (type) => {
    const { cache } = await openCache({ config });
    const gated = gatedFetcher('fetched');
    const pending = cache.getOrSet(type, 'k', gated.fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    await cache.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    gated.release();
    expect(await pending).toBe('fetched');
    expect(await cache.get(type, 'k')).toBeUndefined();
  });

  it.each(['successful_api_metadata', 'generic'] as const)('%s: an event of another tab, emitted while fetching', async (type) => {
    const { cache, indexedDB, name, clock } = await openCache({ config });
    const { cache: other } = await openCache({ indexedDB, name, clock, config });
    const gated = gatedFetcher('fetched');
    const pending = cache.getOrSet(type, 'k', gated.fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    await other.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    gated.release();
    expect(await pending).toBe('fetched');
    expect(await cache.get(type, 'k')).toBeUndefined();
    expect(await other.get(type, 'k')).toBeUndefined();
  });

  it.each(['successful_api_metadata', 'generic'] as const)('%s: a call made once a clear of this tab has resolved does not join a fetch started before it (its value is not stored either): it fetches again', async (type) => {
    const { cache } = await openCache({ config });
    const gated = gatedFetcher('before the clear');
    const first = cache.resolve(type, 'k', gated.fetcher);
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    await cache.clear(type);
    const second = cache.resolve(type, 'k', async () => 'after the clear');
    gated.release();
    expect(await first).toEqual({ value: 'before the clear', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the clear', source: 'fetch' });
    expect(await cache.get(type, 'k')).toBe('after the clear');
  });

  it.each([
    ['clear', (cache: Cache) => cache.clear('successful_api_metadata')],
    ['invalidate', (cache: Cache) => cache.emit({ eventType: 'manual_invalidation', trackId: 't1' })],
  ] as const)('a call made by a watcher as it hears a %s of this tab (before that call resolves) does not join a fetch started before it', async (kind, change) => {
    const { cache } = await openCache({ config });
    // Something for the event to remove, so that the type's watchers hear it.
    await cache.set('successful_api_metadata', 'other', 'stored', { trackId: 't1' });
    const gated = gatedFetcher('before the change');
    const first = cache.resolve('successful_api_metadata', 'k', gated.fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    let second: Promise<unknown> | undefined;
    cache.watch('successful_api_metadata', null, (heard) => {
      if (heard.kind === kind) second = cache.resolve('successful_api_metadata', 'k', async () => 'after the change');
    });
    await change(cache);
    gated.release();
    expect(await first).toEqual({ value: 'before the change', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the change', source: 'fetch' });
  });

  it.each(['successful_api_metadata', 'generic'] as const)('%s: a call made once this tab has heard of another tab’s clear does not join a fetch started before it', async (type) => {
    const { cache, indexedDB, name, clock } = await openCache({ config });
    const { cache: other } = await openCache({ indexedDB, name, clock, config });
    const gated = gatedFetcher('before the clear');
    const first = cache.resolve(type, 'k', gated.fetcher);
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    const heard = new Promise<void>((resolve) => cache.watch(type, null, (change) => change.kind === 'clear' && resolve()));
    await other.clear();
    await heard;
    const second = cache.resolve(type, 'k', async () => 'after the clear');
    gated.release();
    expect(await first).toEqual({ value: 'before the clear', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the clear', source: 'fetch' });
  });

  it('an event that does not concern the value lets it be stored', async () => {
    const { cache } = await openCache({ config });
    const gated = gatedFetcher('fetched');
    const pending = cache.getOrSet('successful_api_metadata', 'k', gated.fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(gated.started).toHaveBeenCalled());
    await cache.emit({ eventType: 'track_removed', trackId: 't2' });
    gated.release();
    expect(await pending).toBe('fetched');
    expect(await cache.get('successful_api_metadata', 'k')).toBe('fetched');
  });
});

describe('schemas', () => {
  const schemas = { album_year: z.object({ year: z.number().int() }), generic: z.string() };

  it('validate values on write: a bad one is rejected with its path, and nothing is written', async () => {
    const { cache } = await openCache({ schemas });
    const error = await rejection(cache.set('album_year', 'k', { year: 'soon' } as never));
    expect(error.code).toBe('invalid_value');
    expect(error.issues?.[0]?.path).toBe('year');
    expect(await code(cache.setMany('album_year', [{ key: 'a', value: { year: 1 } }, { key: 'b', value: { year: 1.5 } }]))).toBe('invalid_value');
    expect((await cache.stats()).types.album_year.entries).toBe(0);
  });

  it('type what get returns', async () => {
    const { cache } = await openCache({ schemas });
    await cache.set('album_year', 'k', { year: 1999 });
    const value = await cache.get('album_year', 'k');
    expect(value?.year).toBe(1999);
  });

  it('on read: a stored value that no longer parses is a miss, is deleted and counted as corrupt', async () => {
    const { cache, indexedDB, clock, name } = await openCache();
    await cache.set('album_year', 'old-format', { released: 1999 });
    await cache.set('album_year', 'good', { year: 2001 });
    const { cache: strict } = await openCache({ indexedDB, clock, name, schemas });
    expect(await strict.getMany('album_year', ['old-format', 'good'])).toEqual([undefined, { year: 2001 }]);
    expect((await strict.stats()).types.album_year).toMatchObject({ corrupt: 1, entries: 1, hits: 1, misses: 1 });
  });
});

/** A database holding album_year 'a' in an older format ({ released }, which today's schema refuses) and 'good' in today's ({ year }). */
async function storedBeforeTheSchema() {
  const indexedDB = new IDBFactory();
  const name = uniqueName();
  const { cache: old, clock } = await openCache({ indexedDB, name });
  await old.setMany('album_year', [
    { key: 'a', value: { released: 1999 } },
    { key: 'good', value: { year: 2001 } },
  ]);
  await old.close();
  return { indexedDB, name, clock };
}

describe('a value found corrupt', () => {
  /** A cache whose album_year schema refuses a and b, stored by an older deploy before the app tightened it. */
  async function tightened(where: 'in-process' | 'with a worker') {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache: old, clock } = await openCache({ indexedDB, name });
    await old.setMany('album_year', [
      { key: 'a', value: { released: 1999 } },
      { key: 'b', value: { released: 2000 } },
      { key: 'good', value: { year: 2001 } },
    ]);
    await old.close();
    const schemas = { album_year: z.object({ year: z.number() }) };
    return (where === 'in-process' ? await openCache({ indexedDB, name, clock, schemas }) : await openRemoteCache({ name, indexedDB, now: clock.now, schemas })).cache;
  }

  it('is deleted only if no other tab has rewritten it since it was read', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache: other, clock } = await openCache({ indexedDB, name });
    await other.set('album_year', 'k', { released: 1999 });
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      now: clock.now,
      schemas: { album_year: z.object({ year: z.number() }) },
      // Between this tab's read and its discard, the other tab writes a good value.
      beforeCall: async (method) => {
        if (method === 'discardCorrupt') await other.set('album_year', 'k', { year: 2001 });
      },
    });
    expect(await cache.get('album_year', 'k')).toBeUndefined();
    expect(await cache.get('album_year', 'k')).toEqual({ year: 2001 });
    expect(await other.get('album_year', 'k')).toEqual({ year: 2001 });
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 1, entries: 1 });
  });

  it.each(['in-process', 'with a worker'] as const)('%s: is counted corrupt once, however many reads met it (a key asked twice, concurrent gets)', async (where) => {
    const cache = await tightened(where);
    expect(await cache.getMany('album_year', ['a', 'good', 'a'])).toEqual([undefined, { year: 2001 }, undefined]);
    expect(await Promise.all([cache.get('album_year', 'b'), cache.get('album_year', 'b')])).toEqual([undefined, undefined]);
    // Each read is a miss; each of the two entries is corrupt once.
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 2, entries: 1, hits: 1, misses: 4 });
  });

  it.each(['in-process', 'with a worker'] as const)('%s: has and keys leave it out as get and entries do (deleted, counted corrupt, no hit or miss)', async (where) => {
    const cache = await tightened(where);
    expect(await cache.has('album_year', 'a')).toBe(false);
    expect(await cache.has('album_year', 'good')).toBe(true);
    expect(await cache.keys('album_year')).toEqual(['good']);
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 2, entries: 1, hits: 0, misses: 1 });
  });

  it.each(['in-process', 'with a worker'] as const)(
    '%s: delete and deleteMany do not count it as removed (has says it is not there): it is deleted and counted corrupt, as a read does, and watchers hear of its deletion',
    async (where) => {
      const cache = await tightened(where);
      const heard: CacheChange[] = [];
      cache.watch('album_year', null, (change) => void heard.push(change));
      expect(await cache.delete('album_year', 'a')).toBe(false);
      expect(await cache.deleteMany('album_year', ['b', 'good', 'missing', 'b'])).toBe(1);
      expect(await cache.keys('album_year')).toEqual([]);
      expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 2, entries: 0, hits: 0, misses: 0 });
      // What a read that discards it tells: the entry is gone (another tab, without the schema, had it).
      expect(heard).toEqual([
        { type: 'album_year', kind: 'delete', keys: ['a'], source: 'local' },
        { type: 'album_year', kind: 'delete', keys: ['b', 'good'], source: 'local' },
      ]);
    },
  );

  it('of a memory type (its schema refuses it since it was stored, async): delete does not count it as removed; counted corrupt', async () => {
    const known = new Set(['Song', 'Other']);
    const { cache } = await openCache({ schemas: { generic: z.string().refine(async (title) => known.has(title)) } });
    await cache.setMany('generic', [
      { key: 'a', value: 'Song' },
      { key: 'b', value: 'Other' },
    ]);
    known.delete('Song');
    expect(await cache.has('generic', 'b')).toBe(true);
    expect(await cache.deleteMany('generic', ['a', 'b'])).toBe(1);
    expect((await cache.stats()).types.generic).toMatchObject({ corrupt: 1, entries: 0 });
  });

  it('a worker that dies between the delete and the page’s check of what it removed: the call resolves as it would have; counted corrupt at most once', async () => {
    const { indexedDB, name, clock } = await storedBeforeTheSchema();
    let dies = () => {};
    // The app's validator is slow (async): the worker dies while it checks what the delete removed.
    const year = z.object({ year: z.number() }).refine(async () => (dies(), true));
    const { cache, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, schemas: { album_year: year } });
    dies = () => workers[0]!.kill();
    expect(await cache.deleteMany('album_year', ['a', 'good'])).toBe(1);
    expect(workers).toHaveLength(2);
    expect(await cache.keys('album_year')).toEqual([]);
    const { corrupt, entries } = (await cache.stats()).types.album_year;
    expect(entries).toBe(0);
    expect(corrupt).toBeLessThanOrEqual(1);
  });

  it('a deleteMany whose worker dies after applying it, before answering: resolves with what the dead worker removed, as its mark says (the values are gone: the page cannot check them), counting nothing corrupt', async () => {
    const { indexedDB, name, clock } = await storedBeforeTheSchema();
    let killed = false;
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      now: clock.now,
      schemas: { album_year: z.object({ year: z.number() }) },
      afterCall: (method, _args, worker) => {
        if (method !== 'deleteMany' || killed) return;
        killed = true;
        worker.kill();
      },
    });
    expect(await cache.deleteMany('album_year', ['a', 'good'])).toBe(2);
    expect(workers).toHaveLength(2);
    expect(await cache.keys('album_year')).toEqual([]);
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 0, entries: 0 });
  });

  it.each(['get', 'has', 'keys', 'entries', 'getOrSet'] as const)(
    '%s: a worker that dies as the page discards it answers as it would have (a miss), not worker_failed: the read has its answer, the discard is housekeeping',
    async (method) => {
      const { indexedDB, name, clock } = await storedBeforeTheSchema();
      const schemas = { album_year: z.object({ year: z.number() }) };
      const { cache, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, schemas, beforeCall: killAtFirst('discardCorrupt') });
      const answers = {
        get: () => cache.get('album_year', 'a'),
        has: () => cache.has('album_year', 'a'),
        keys: () => cache.keys('album_year'),
        entries: () => cache.entries('album_year'),
        getOrSet: () => cache.getOrSet('album_year', 'a', () => ({ year: 1999 })),
      };
      const expected = { get: undefined, has: false, keys: ['good'], entries: [['good', { year: 2001 }]], getOrSet: { year: 1999 } };
      expect(await answers[method]().catch((error: unknown) => error)).toEqual(expected[method]);
      expect(workers).toHaveLength(2);
      // The next read that meets it discards it, and counts it, once.
      await cache.keys('album_year');
      expect((await cache.stats()).types.album_year.corrupt).toBeLessThanOrEqual(1);
    },
  );
});

describe.each(['in process', 'with a worker'] as const)('%s: the values of a big read checked by a schema', (where) => {
  const count = 2000;
  const keys = Array.from({ length: count }, (_, index) => `k${String(index).padStart(4, '0')}`);
  /** Every tenth value stored before the app's schema asked for a year. */
  const refused = (index: number) => index % 10 === 3;

  /**
   * A cache whose album_year schema takes some 50 µs a value (2,000 of them: 100 ms) and records, in a task
   * it schedules as it checks the first, how many it had checked by the time that task ran.
   */
  async function slowlyChecked(kind: 'sync' | 'async') {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache: old, clock } = await openCache({ indexedDB, name });
    await old.setMany('album_year', keys.map((key, index) => ({ key, value: refused(index) ? { released: index } : { year: index } })));
    await old.close();
    const seen = { checked: 0, byNextTask: undefined as number | undefined };
    const year = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate(value: unknown) {
          if (seen.checked++ === 0) setTimeout(() => (seen.byNextTask = seen.checked));
          const until = performance.now() + 0.05;
          while (performance.now() < until);
          const result = typeof (value as { year?: unknown }).year === 'number' ? { value } : { issues: [{ message: 'year required' }] };
          // An async one's promise settles in a microtask, which lets no other task run.
          return kind === 'sync' ? result : Promise.resolve(result);
        },
      },
    };
    const schemas = { album_year: year };
    const { cache } = where === 'in process' ? await openCache({ indexedDB, name, clock, schemas }) : await openRemoteCache({ name, indexedDB, now: clock.now, schemas });
    return { cache, seen };
  }

  const good = keys.flatMap((key, index) => (refused(index) ? [] : [[key, { year: index }] as const]));
  const calls = {
    entries: (cache: Cache) => cache.entries('album_year'),
    keys: (cache: Cache) => cache.keys('album_year'),
    getMany: (cache: Cache) => cache.getMany('album_year', keys),
    deleteMany: (cache: Cache) => cache.deleteMany('album_year', keys),
  };
  const answers = {
    entries: good,
    keys: good.map(([key]) => key),
    getMany: keys.map((_, index) => (refused(index) ? undefined : { year: index })),
    deleteMany: good.length,
  };
  // A read counts a hit or a miss per key only for getMany; each refused value is corrupt once.
  const counts = {
    entries: { hits: 0, misses: 0, entries: good.length },
    keys: { hits: 0, misses: 0, entries: good.length },
    getMany: { hits: good.length, misses: count - good.length, entries: good.length },
    deleteMany: { hits: 0, misses: 0, entries: 0 },
  };

  const methods = ['entries', 'keys', 'getMany', 'deleteMany'] as const;
  it.each(methods.flatMap((method) => (['sync', 'async'] as const).map((kind) => [method, kind] as const)))(
    '%s (%s schema) checks them in slices, letting the page run other tasks between them (the same answer and counts)',
    async (method, kind) => {
      const { cache, seen } = await slowlyChecked(kind);
      expect(await calls[method](cache as Cache)).toEqual(answers[method]);
      expect((await cache.stats()).types.album_year).toMatchObject({ ...counts[method], corrupt: count - good.length });
      expect(seen.checked).toBe(count);
      // A task scheduled as the first value is checked runs before the last is: not one long task of 2,000 checks.
      expect(seen.byNextTask).toBeLessThan(count);
    },
  );
});

describe('schemas with a transform', () => {
  // The stored value is what the caller gave; every read returns what the schema makes of it.
  const schemas = {
    album_year: z.object({ year: z.string().transform(Number) }),
    generic: z.string().transform((text) => text.length),
  };

  it.each(['album_year', 'generic'] as const)('%s: get after set returns what the schema made of the value, and nothing is corrupt', async (type) => {
    const { cache } = await openCache({ schemas });
    const given = type === 'album_year' ? { year: '1999' } : 'abcd';
    const made = type === 'album_year' ? { year: 1999 } : 4;
    await cache.set(type, 'k', given as never);
    expect(await cache.get(type, 'k')).toEqual(made);
    expect(await cache.get(type, 'k')).toEqual(made);
    await cache.setMany(type, [{ key: 'm', value: given as never }]);
    expect(await cache.getMany(type, ['k', 'm'])).toEqual([made, made]);
    expect(await cache.getOrSet(type, 'f', () => given as never)).toEqual(made);
    expect(await cache.get(type, 'f')).toEqual(made);
    expect((await cache.stats()).types[type]).toMatchObject({ corrupt: 0, entries: 3 });
  });
});

describe('events and listeners', () => {
  it('emit reports counts and runs local listeners after invalidation', async () => {
    const { cache } = await openCache();
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    const seen: unknown[] = [];
    cache.on('track_removed', async (event, context) => {
      seen.push([event.eventType, context, await cache.get('track_metadata', 'k')]);
    });
    cache.on('*', (event, context) => seen.push(['*', event.eventType, context.source]));
    cache.on('library_sync', () => seen.push('not this one'));
    const report = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(report).toEqual({ eventType: 'track_removed', invalidated: { track_metadata: 1, successful_api_metadata: 0 } });
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen).toContainEqual(['track_removed', { source: 'local', invalidated: report.invalidated }, undefined]);
    expect(seen).toContainEqual(['*', 'track_removed', 'local']);
  });

  it('a listener that throws is reported and does not stop the others or the emit', async () => {
    const { cache, logger } = await openCache();
    const after = vi.fn();
    cache.on('*', () => {
      throw new Error('listener bug');
    });
    cache.on('*', after);
    await cache.emit({ eventType: 'library_sync' });
    expect(after).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('library_sync'), expect.any(Error));
  });

  it('a listener that rewrites what it is told (the event, its invalidated counts) changes it for no other listener, nor for the emit’s caller', async () => {
    const { cache } = await openCache();
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    cache.on('*', (event, context) => {
      (event as { trackId?: string }).trackId = 'rewritten';
      context.invalidated['track_metadata'] = 99;
    });
    const later: unknown[] = [];
    cache.on('track_removed', (event, context) => void later.push(event.trackId, context.invalidated['track_metadata']));
    const event = { eventType: 'track_removed', trackId: 't1' } as const;
    const report = await cache.emit(event);
    expect(later).toEqual(['t1', 1]);
    expect(report.invalidated['track_metadata']).toBe(1);
    expect(event.trackId).toBe('t1');
  });

  it('a listener that rewrites the event’s metadata changes it for no other listener, nor for the emit’s caller', async () => {
    const { cache } = await openCache();
    cache.on('*', (event) => {
      (event.metadata as { artist: string }).artist = 'rewritten';
    });
    const later: unknown[] = [];
    cache.on('track_modified', (event) => void later.push(event.metadata?.['artist']));
    const metadata = { artist: 'Artist', album: 'Album' };
    await cache.emit({ eventType: 'track_modified', trackId: 't1', metadata });
    expect(later).toEqual(['Artist']);
    expect(metadata.artist).toBe('Artist');
  });

  it('unsubscribe stops a listener', async () => {
    const { cache } = await openCache();
    const listener = vi.fn();
    const off = cache.on('library_sync', listener);
    off();
    await cache.emit({ eventType: 'library_sync' });
    expect(listener).not.toHaveBeenCalled();
  });
});

// The seed's events have Optional[...] = None fields: a port of its tests emits `trackId: null`.
describe.each(['in process', 'with a worker'] as const)('%s: an event with null for an optional field', (mode) => {
  const open = (name: string, indexedDB: IDBFactory) => (mode === 'with a worker' ? openRemoteCache({ name, indexedDB, now: Date.now }) : openCache({ name, indexedDB }));

  it('is applied and told to this tab and another without the field, as if it were absent', async () => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const [{ cache }, { cache: other }] = [await open(name, indexedDB), await open(name, indexedDB)];
    await cache.set('album_year', 'a', 1999);
    await cache.set('track_metadata', 'k', 1, { trackId: 't1', fingerprint: 'old' });
    await other.set('generic', 'g', 2, { trackId: 't1' });
    const here: unknown[] = [];
    const there: unknown[] = [];
    cache.on('*', (event, { source }) => void here.push([event, source]));
    other.on('*', (event, { source }) => void there.push([event, source]));
    const sync = await cache.emit({ eventType: 'library_sync', trackId: null, fingerprint: null, metadata: null });
    expect(sync).toEqual({ eventType: 'library_sync', invalidated: { album_year: 1 } });
    const changed = await cache.emit({ eventType: 'fingerprint_changed', trackId: null, fingerprint: 'old', metadata: null });
    expect(changed.invalidated).toEqual({ track_metadata: 1 });
    // A manual invalidation without a trackId removes every entry of the types it affects, in every tab.
    await cache.emit({ eventType: 'manual_invalidation', trackId: null });
    await other.stats();
    const told = [{ eventType: 'library_sync' }, { eventType: 'fingerprint_changed', fingerprint: 'old' }, { eventType: 'manual_invalidation' }];
    await vi.waitFor(() => expect(there).toHaveLength(3));
    expect(here).toStrictEqual(told.map((event) => [event, 'local']));
    expect(there).toStrictEqual(told.map((event) => [event, 'remote']));
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('with a required field null is invalid_event, as without it, and invalidates nothing', async () => {
    const { cache } = await open(uniqueName(), new IDBFactory());
    await cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    const error = await rejection(cache.emit({ eventType: 'track_removed', trackId: null, metadata: null } as never));
    expect([error.code, error.message]).toEqual(['invalid_event', 'Invalid event: trackId: trackId required for track_removed']);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
  });
});

// The seed's writes and reads take `track_id=None`, `fingerprint=None`; JSON has null, not undefined.
describe.each(['in process', 'with a worker'] as const)('%s: null for an entry option that says what the entry belongs to is the option absent', (mode) => {
  const open = () => (mode === 'with a worker' ? openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: Date.now }) : openCache());

  it('set, setMany, getOrSet and resolve take trackId, album and fingerprint null as not given; get and getMany take fingerprint(s) null as no check', async () => {
    const { cache } = await open();
    const none = { trackId: null, album: null, fingerprint: null };
    await cache.set('track_metadata', 'set', 1, none);
    await cache.setMany('track_metadata', [{ key: 'many', value: 2, ...none }, { key: 'tagged', value: 3, trackId: 't1', album: null, fingerprint: null }]);
    expect(await cache.getOrSet('track_metadata', 'getOrSet', () => 4, none)).toBe(4);
    expect(await cache.resolve('successful_api_metadata', 'resolve', () => 5, none)).toEqual({ value: 5, source: 'fetch' });
    expect(await cache.resolve('successful_api_metadata', 'resolve', () => 6, none)).toEqual({ value: 5, source: 'cache' });
    expect(await cache.get('track_metadata', 'set', { fingerprint: null })).toBe(1);
    expect(await cache.getMany('track_metadata', ['set', 'many', 'getOrSet'], { fingerprint: null })).toEqual([1, 2, 4]);
    expect(await cache.getMany('track_metadata', ['set', 'many'], { fingerprints: [null, null] })).toEqual([1, 2]);
    expect(await cache.getMany('track_metadata', ['set', 'many'], { fingerprint: null, fingerprints: [null, null] })).toEqual([1, 2]);
    // Untagged, as without the options: a track event removes only the entry given a trackId.
    await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(await cache.getMany('track_metadata', ['set', 'many', 'tagged', 'getOrSet'])).toEqual([1, 2, undefined, 4]);
  });

  it('ttlSeconds null stays invalid_argument: it could mean the policy’s TTL (the seed’s ttl=None) or none at all (as maxSizeMb: null)', async () => {
    const { cache } = await open();
    const error = await rejection(cache.set('generic', 'k', 1, { ttlSeconds: null } as never));
    expect([error.code, error.message]).toEqual(['invalid_argument', 'Invalid set options: ttlSeconds: expected a number of seconds (0 or less: expired at once), or Infinity']);
    expect(await cache.has('generic', 'k')).toBe(false);
  });
});

/** An object whose `field` throws when read, as a getter of an app's model object may. */
function throwing(field: string, rest: object = {}): object {
  return Object.defineProperty({ ...rest }, field, {
    enumerable: true,
    get() {
      throw new Error(`${field} is not loaded`);
    },
  });
}

describe('bad input: a CacheError with a code, and nothing written', () => {
  const cases: [string, (cache: Cache) => Promise<unknown>, string][] = [
    ['an unknown content type', (cache) => cache.get('podcast' as ContentType, 'k'), 'unknown_content_type'],
    ['an unknown content type on set', (cache) => cache.set('podcast' as ContentType, 'k', 1), 'unknown_content_type'],
    ['an empty key', (cache) => cache.get('generic', ''), 'invalid_argument'],
    ['a key that is not a string', (cache) => cache.set('generic', 7 as never, 1), 'invalid_argument'],
    ['keys that are not an array', (cache) => cache.getMany('generic', 'k' as never), 'invalid_argument'],
    ['fingerprints not matching the keys', (cache) => cache.getMany('generic', ['a'], { fingerprints: ['x', 'y'] }), 'invalid_argument'],
    ['an unknown set option', (cache) => cache.set('generic', 'k', 1, { ttl: 5 } as never), 'invalid_argument'],
    ['a blank trackId', (cache) => cache.set('generic', 'k', 1, { trackId: ' ' }), 'invalid_argument'],
    ['a NaN ttlSeconds', (cache) => cache.set('generic', 'k', 1, { ttlSeconds: Number.NaN }), 'invalid_argument'],
    ['a ttlSeconds of -Infinity', (cache) => cache.set('generic', 'k', 1, { ttlSeconds: -Infinity }), 'invalid_argument'],
    ['an album without artist', (cache) => cache.set('generic', 'k', 1, { album: { album: 'x' } as never }), 'invalid_argument'],
    ['an undefined value', (cache) => cache.set('generic', 'k', undefined), 'invalid_value'],
    ['entries that are not an array', (cache) => cache.setMany('generic', {} as never), 'invalid_argument'],
    ['onProgress that is not a function', (cache) => cache.setMany('generic', [], { onProgress: 1 } as never), 'invalid_argument'],
    ['a fetcher that is not a function', (cache) => cache.getOrSet('generic', 'k', 'v' as never), 'invalid_argument'],
    ['an invalid event', (cache) => cache.emit({ eventType: 'track_removed' } as never), 'invalid_event'],
    ['an unknown event type', (cache) => cache.emit({ eventType: 'play' } as never), 'invalid_event'],
    ['clear of an unknown type', (cache) => cache.clear('podcast' as ContentType), 'unknown_content_type'],
    ['options whose getter throws', (cache) => cache.set('generic', 'k', 1, throwing('ttlSeconds') as never), 'invalid_argument'],
    ['a setMany entry whose getter throws', (cache) => cache.setMany('generic', [throwing('key') as never]), 'invalid_argument'],
    ['getOrSet options whose getter throws', (cache) => cache.getOrSet('generic', 'k', () => 1, throwing('signal') as never), 'invalid_argument'],
    ['an event whose getter throws', (cache) => cache.emit(throwing('trackId', { eventType: 'track_removed' }) as never), 'invalid_event'],
  ];

  it('a key is a non-empty string of at most 4096 characters, counted as code points (an emoji is one); a key of another type with a length is told both', async () => {
    const { cache } = await openCache();
    const refusal = async (promise: Promise<unknown>) => {
      const { code, issues } = await rejection(promise);
      return { code, issues };
    };
    const emoji = '\u{1F3B5}';
    await cache.set('generic', emoji.repeat(4096), 1);
    expect(await cache.get('generic', emoji.repeat(4096))).toBe(1);
    expect(await refusal(cache.set('generic', emoji.repeat(4097), 1))).toEqual({
      code: 'invalid_argument',
      issues: [{ path: '', message: 'key must be at most 4096 characters' }],
    });
    expect(await refusal(cache.get('generic', 'k'.repeat(4097)))).toEqual({
      code: 'invalid_argument',
      issues: [{ path: '', message: 'key must be at most 4096 characters' }],
    });
    expect(await refusal(cache.getMany('generic', ['a', '']))).toEqual({
      code: 'invalid_argument',
      issues: [{ path: 'keys.1', message: 'key must be a non-empty string' }],
    });
    expect(await refusal(cache.get('generic', [] as never))).toEqual({
      code: 'invalid_argument',
      issues: [
        { path: '', message: 'key must be a non-empty string' },
        { path: '', message: 'key must be a non-empty string' },
      ],
    });
    expect(await refusal(cache.delete('generic', { length: 4097 } as never))).toEqual({
      code: 'invalid_argument',
      issues: [
        { path: '0', message: 'key must be a non-empty string' },
        { path: '0', message: 'key must be at most 4096 characters' },
      ],
    });
    expect(await cache.keys('generic')).toEqual([emoji.repeat(4096)]);
  });

  it.each(cases)('%s', async (_what, call, expected) => {
    const { cache } = await openCache();
    expect(await code(call(cache))).toBe(expected);
    const { types } = await cache.stats();
    expect(Object.values(types).every((stats) => stats.entries === 0)).toBe(true);
  });

  it.each([
    ['in process', () => openCache()],
    ['from a worker', () => openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() })],
  ] as const)('%s: a value whose getter throws cannot be stored: not_cloneable with the getter’s error as cause, nothing written', async (_, open) => {
    const { cache } = await open();
    const getterError = new Error('not loaded');
    const value = {
      get title(): string {
        throw getterError;
      },
    };
    for (const type of ['album_year', 'generic'] as const) {
      for (const call of [() => cache.set(type, 'k', value), () => cache.setMany(type, [{ key: 'a', value: 1 }, { key: 'k', value }])]) {
        const error = await rejection(call());
        expect(error).toMatchObject({ code: 'not_cloneable', cause: getterError });
      }
      expect((await cache.stats()).types[type].entries).toBe(0);
    }
  });

  it('from a worker: a value holding a function is not_cloneable naming its key, worded as a value whose getter throws', async () => {
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() });
    const value = { title: 'T', load: () => 1 };
    for (const call of [() => cache.set('generic', 'b', value), () => cache.setMany('generic', [{ key: 'a', value: 1 }, { key: 'b', value }])]) {
      const error = await rejection(call());
      expect([error.code, error.message]).toEqual(['not_cloneable', expect.stringMatching(/^The value of "b" cannot be stored: copying it threw \(.+\)$/)]);
    }
  });

  it.each([
    ['in process', () => openCache()],
    ['from a worker', () => openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() })],
  ] as const)('%s: a promise given as the value (an await forgotten) is not_cloneable at once, whatever it comes to', async (_, open) => {
    const { cache } = await open();
    const never = new Promise(() => {});
    const failing = Promise.reject(new Error('offline'));
    failing.catch(() => {});
    const outcomes: unknown[] = [];
    for (const value of [never, failing]) {
      for (const call of [() => cache.set('generic', 'k', value), () => cache.setMany('generic', [{ key: 'a', value: 1 }, { key: 'k', value }])]) {
        const settled = await Promise.race([call().then(() => 'resolved', (error: Error & { code?: string }) => error.code ?? error.message), new Promise((resolve) => setTimeout(() => resolve('pending'), 100))]);
        outcomes.push(settled);
      }
    }
    expect(outcomes).toEqual(['not_cloneable', 'not_cloneable', 'not_cloneable', 'not_cloneable']);
    expect((await cache.stats()).types.generic.entries).toBe(0);
  });

  it('rejects instead of throwing synchronously', async () => {
    const { cache } = await openCache();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = cache.get('podcast' as ContentType, '');
    }).not.toThrow();
    expect(await code(promise!)).toBe('unknown_content_type');
  });

  it('on with an unknown event type or a non-function throws at once', async () => {
    const { cache } = await openCache();
    expect(() => cache.on('play' as never, () => {})).toThrow(expect.objectContaining({ code: 'invalid_event' }));
    expect(() => cache.on('*', 'x' as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe.each(['in process', 'with a worker'] as const)('%s: calls made one after another, without awaiting each, apply in the order made', (mode) => {
  async function opened() {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const { cache } = mode === 'in process' ? await openCache({ name, indexedDB }) : await openRemoteCache({ name, indexedDB, now: Date.now });
    // Opened and used once: the calls below find the engine ready.
    await cache.set('track_metadata', 'warm', 0);
    return cache;
  }

  it('a set, then an event removing its track: the entry is gone', async () => {
    const cache = await opened();
    const calls = [cache.set('track_metadata', 'k', 1, { trackId: 't1' }), cache.emit({ eventType: 'track_removed', trackId: 't1' })];
    const [, report] = await Promise.all(calls);
    expect(report).toMatchObject({ invalidated: { track_metadata: 1 } });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('an event, then a set of its track: the entry set stays', async () => {
    const cache = await opened();
    await cache.set('track_metadata', 'k', 0, { trackId: 't1' });
    await Promise.all([cache.emit({ eventType: 'track_removed', trackId: 't1' }), cache.set('track_metadata', 'k', 1, { trackId: 't1' })]);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
  });

  it.each(['track_metadata', 'generic'] as const)('%s: a set then a delete of its key, a set then a clear: nothing left; a delete then a set: the value', async (type) => {
    const cache = await opened();
    expect(await Promise.all([cache.set(type, 'a', 1), cache.delete(type, 'a')])).toEqual([undefined, true]);
    await Promise.all([cache.set(type, 'b', 1), cache.clear(type)]);
    await Promise.all([cache.delete(type, 'c'), cache.set(type, 'c', 3)]);
    expect(await cache.getMany(type, ['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
  });

  /** A Standard Schema that checks each value for about 20 µs (sync), or answers in a promise (async). */
  function schemaOf(kind: 'slow' | 'async') {
    return {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate(value: unknown) {
          if (kind === 'async') return Promise.resolve({ value });
          const until = performance.now() + 0.02;
          while (performance.now() < until);
          return { value };
        },
      },
    };
  }

  async function openedWith(kind: 'slow' | 'async') {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const schemas = { track_metadata: schemaOf(kind), generic: schemaOf(kind) };
    const { cache } = mode === 'in process' ? await openCache({ name, indexedDB, schemas }) : await openRemoteCache({ name, indexedDB, now: Date.now, schemas });
    await cache.set('track_metadata', 'warm', 0);
    return cache;
  }

  it('a setMany of 1,500 entries of one track, its schema checking them over 10 ms (its validation yields), then an event removing the track: none left', async () => {
    const cache = await openedWith('slow');
    const tracks = Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index, trackId: 't1' }));
    await Promise.all([cache.setMany('track_metadata', tracks), cache.emit({ eventType: 'track_removed', trackId: 't1' })]);
    expect(await cache.getMany('track_metadata', ['k0', 'k1499'])).toEqual([undefined, undefined]);
    expect((await cache.stats()).types.track_metadata.entries).toBe(1);
  });

  it('a setMany its schema checks over 10 ms, then an event of a track, a get of that track\'s entry and close(): the get sees the event, every call settles as it would have', async () => {
    const cache = await openedWith('slow');
    await cache.set('track_metadata', 'old', 0, { trackId: 't1' });
    const entries = Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index }));
    const calls = [cache.setMany('track_metadata', entries), cache.emit({ eventType: 'track_removed', trackId: 't1' }), cache.get('track_metadata', 'old'), cache.has('track_metadata', 'old')];
    const closing = cache.close();
    const [, report, ...read] = await Promise.all(calls);
    await closing;
    expect(report).toMatchObject({ invalidated: { track_metadata: 1 } });
    expect(read).toEqual([undefined, false]);
  });

  it('generic (kept in memory, no import): a setMany of 1,500 entries its schema checks over 10 ms, then a set of one of its keys: the set wins', async () => {
    const cache = await openedWith('slow');
    const entries = Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index }));
    await Promise.all([cache.setMany('generic', entries), cache.set('generic', 'k7', 'later')]);
    expect(await cache.get('generic', 'k7')).toBe('later');
  });

  it.each(['track_metadata', 'generic'] as const)('%s, with an async schema: a set then a delete of its key, a set then a clear: nothing left; a get made after a set returns it', async (type) => {
    const cache = await openedWith('async');
    const calls = [cache.set(type, 'a', 1), cache.delete(type, 'a'), cache.set(type, 'b', 2), cache.clear(type), cache.set(type, 'c', 3), cache.get(type, 'c')];
    expect(await Promise.all(calls)).toEqual([undefined, true, undefined, undefined, undefined, 3]);
    expect(await cache.getMany(type, ['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
  });

  it('generic, with an async schema: a set, then 3,000 gets made in one go (a long list rendered): each waits for the calls before it, in a time that grows with their number, not its square', async () => {
    const cache = await openedWith('async');
    const calls = [cache.set('generic', 'k', 1), ...Array.from({ length: 3000 }, () => cache.get('generic', 'k'))];
    expect(new Set(await Promise.all(calls))).toEqual(new Set([undefined, 1]));
  }, 5000);

  it('with an async schema: a set, then an event whose metadata the caller changes right after emit: the event applies as emitted (its album), not as changed', async () => {
    const cache = await openedWith('async');
    await cache.set('successful_api_metadata', 'x', 1, { album: { artist: 'A', album: 'X' } });
    await cache.set('successful_api_metadata', 'y', 2, { album: { artist: 'A', album: 'Y' } });
    const metadata = { artist: 'A', album: 'X' };
    const calls = [cache.set('track_metadata', 'k', 1), cache.emit({ eventType: 'track_modified', trackId: 't1', metadata })] as const;
    metadata.album = 'Y';
    await Promise.all(calls);
    expect(await cache.getMany('successful_api_metadata', ['x', 'y'])).toEqual([undefined, 2]);
  });

  it('with an async schema: a getOrSet whose fetch answers while a set of its type is checked, and a get of its key with another fingerprint made before it answered: the fetched entry stays', async () => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    let release!: () => void;
    const checked = new Promise<void>((resolve) => (release = resolve));
    // Checks 'slow' once released, any other value at once.
    const schema = { '~standard': { version: 1 as const, vendor: 'test', validate: (value: unknown) => (value === 'slow' ? checked : Promise.resolve()).then(() => ({ value })) } };
    const schemas = { album_year: schema };
    const { cache } = mode === 'in process' ? await openCache({ name, indexedDB, schemas }) : await openRemoteCache({ name, indexedDB, now: Date.now, schemas });
    let answer: ((value: string) => void) | undefined;
    const fetched = cache.getOrSet('album_year', 'k', () => new Promise<string>((resolve) => (answer = resolve)), { fingerprint: 'G' });
    await vi.waitFor(() => expect(answer).toBeDefined());
    const calls = [cache.set('album_year', 'other', 'slow'), cache.get('album_year', 'k', { fingerprint: 'F' })];
    answer!('v');
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(await Promise.all([fetched, ...calls])).toEqual(['v', undefined, undefined]);
    expect(await cache.get('album_year', 'k', { fingerprint: 'G' })).toBe('v');
    expect((await cache.stats()).types.album_year.invalidations).toBe(0);
  });

  it('with an async schema: a set then an event of its track: the entry is gone', async () => {
    const cache = await openedWith('async');
    const calls = [cache.set('track_metadata', 'k', 1, { trackId: 't1' }), cache.emit({ eventType: 'track_removed', trackId: 't1' })] as const;
    expect((await Promise.all(calls))[1]).toMatchObject({ invalidated: { track_metadata: 1 } });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
  });
});

describe.each(['in process', 'with a worker'] as const)('%s: a read with a fingerprint made before a write of its key, answered after it', (mode) => {
  /** A fingerprint-validating type kept in IndexedDB (album_year, hybrid) and one kept in memory (custom). */
  const config = { caching: { customTypes: { checked: { persistent: false, ttlSeconds: 3600, invalidationStrategy: 'fingerprint_based', maxSizeMb: 1 } } } } as const;
  const [F, G, H] = ['f'.repeat(64), 'a'.repeat(64), 'b'.repeat(64)];

  async function opened() {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const opened = mode === 'in process' ? await openCache({ name, indexedDB, config }) : await openRemoteCache({ name, indexedDB, now: Date.now, config });
    const cache = opened.cache as unknown as Cache<{}, 'checked'>;
    await cache.set('album_year', 'warm', 0);
    return cache;
  }

  it.each(['album_year', 'checked'] as const)('%s: get(F) then set(G), not awaited in turn: the set stays (get with G returns it), and no watcher hears invalidate', async (type) => {
    const cache = await opened();
    const heard: string[] = [];
    cache.watch(type, 'k', (change) => heard.push(change.kind));
    expect(await Promise.all([cache.get(type, 'k', { fingerprint: F }), cache.set(type, 'k', 1, { fingerprint: G })])).toEqual([undefined, undefined]);
    expect(await cache.get(type, 'k', { fingerprint: G })).toBe(1);
    expect(heard).toEqual(['set']);
    expect((await cache.stats()).types[type].invalidations).toBe(0);
  });

  it.each(['album_year', 'checked'] as const)('%s: over an entry of another fingerprint, getMany(F), get(F) or resolve(F) then set(G): the set stays, and is the last change heard (the resolve’s fetch, started after it, then writes)', async (type) => {
    const cache = await opened();
    await cache.setMany(
      type,
      ['a', 'b', 'c'].map((key) => ({ key, value: 0, fingerprint: H })),
    );
    const heard: string[] = [];
    cache.watch(type, null, (change) => heard.push(`${change.kind} ${change.keys?.join()}`));
    const calls = [
      cache.getMany(type, ['a'], { fingerprint: F }),
      cache.set(type, 'a', 1, { fingerprint: G }),
      cache.get(type, 'b', { fingerprint: F }),
      cache.set(type, 'b', 2, { fingerprint: G }),
      cache.resolve(type, 'c', () => 'fetched', { fingerprint: F }),
      cache.set(type, 'c', 3, { fingerprint: G }),
    ];
    expect(await Promise.all(calls)).toEqual([[undefined], undefined, undefined, undefined, { value: 'fetched', source: 'fetch' }, undefined]);
    expect(await cache.getMany(type, ['a', 'b'], { fingerprint: G })).toEqual([1, 2]);
    expect(await cache.get(type, 'c', { fingerprint: F })).toBe('fetched');
    // The entries of H may be removed by the reads made before the sets; the last change of each key is a set.
    expect(['a', 'b', 'c'].map((key) => heard.filter((change) => change.endsWith(` ${key}`)).at(-1))).toEqual(['set a', 'set b', 'set c']);
  });

  it.each(['album_year', 'checked'] as const)('%s: a mismatch met by a read made after the write still removes the entry', async (type) => {
    const cache = await opened();
    await cache.set(type, 'k', 1, { fingerprint: G });
    expect(await Promise.all([cache.set(type, 'k', 2, { fingerprint: G }), cache.get(type, 'k', { fingerprint: F })])).toEqual([undefined, undefined]);
    expect(await cache.get(type, 'k', { fingerprint: G })).toBeUndefined();
    expect((await cache.stats()).types[type].invalidations).toBe(1);
  });

  it.each(['album_year', 'checked'] as const)('%s: a get or getMany with a fingerprint never returns an entry past its TTL, though inside the stale-while-revalidate window (only a read-through serves it)', async (type) => {
    const clock = fakeClock();
    const swr = {
      caching: { policies: { album_year: { staleWhileRevalidateSeconds: 60 } }, customTypes: { checked: { ...config.caching.customTypes.checked, staleWhileRevalidateSeconds: 60 } } },
    };
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    const { cache } = mode === 'in process' ? await openCache({ name, indexedDB, clock, config: swr }) : await openRemoteCache({ name, indexedDB, now: clock.now, config: swr });
    const typed = cache as unknown as Cache<{}, 'checked'>;
    await typed.setMany(type, ['a', 'b'].map((key) => ({ key, value: 1, fingerprint: F, ttlSeconds: 1 })));
    clock.advance(2000);
    expect(await typed.get(type, 'a', { fingerprint: F })).toBeUndefined();
    expect(await typed.getMany(type, ['a', 'b'], { fingerprint: F })).toEqual([undefined, undefined]);
    expect(await typed.resolve(type, 'a', () => 2, { fingerprint: F })).toEqual({ value: 1, source: 'stale' });
  });
});

describe('close', () => {
  it('later calls reject with closed; closing twice is fine', async () => {
    const { cache } = await openCache();
    await cache.close();
    await cache.close();
    for (const call of [
      cache.get('generic', 'k'),
      cache.set('generic', 'k', 1),
      cache.getMany('generic', ['k']),
      cache.setMany('generic', []),
      cache.getOrSet('generic', 'k', () => 1),
      cache.delete('generic', 'k'),
      cache.clear(),
      cache.emit({ eventType: 'library_sync' }),
      cache.stats(),
      cache.cleanup(),
    ]) {
      expect(await code(call)).toBe('closed');
    }
    expect(() => cache.on('*', () => {})).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it.each(['in process', 'with a worker'] as const)(
    '%s: calls made before close() settle as they would have (writes in flight happen and resolve); every close() waits for it',
    async (mode) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const opened =
        mode === 'in process' ? { ...(await openCache({ name, indexedDB })), workers: [] } : await openRemoteCache({ name, indexedDB, now: Date.now });
      const { cache } = opened;
      await cache.setMany('track_metadata', [{ key: 'gone', value: 0 }, { key: 'kept', value: 9 }]);
      const calls = [
        cache.set('track_metadata', 'a', 1),
        cache.setMany('track_metadata', [{ key: 'b', value: 2 }]),
        cache.delete('track_metadata', 'gone'),
        cache.get('track_metadata', 'kept'),
      ];
      const [first, second] = [cache.close(), cache.close()];
      expect(await Promise.allSettled(calls)).toEqual([
        { status: 'fulfilled', value: undefined },
        { status: 'fulfilled', value: undefined },
        { status: 'fulfilled', value: true },
        { status: 'fulfilled', value: 9 },
      ]);
      await second;
      // The second close() resolved only once the cache was closed: the worker is gone.
      expect(opened.workers.every((worker) => worker.dead)).toBe(true);
      await first;
      const { cache: reopened } = await openCache({ name, indexedDB });
      expect(await reopened.getMany('track_metadata', ['a', 'b', 'gone'])).toEqual([1, 2, undefined]);
    },
  );
  it.each(['in process', 'with a worker'] as const)(
    '%s: calls still checking values against an async schema, or between two chunks of a setMany, when close() is called settle as they would have',
    async (mode) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      // Stored by a tab without the schema: a value the schema refuses (corrupt for this one).
      const { cache: writer } = await openCache({ name, indexedDB });
      await writer.set('track_metadata', 'bad', -1);
      await writer.close();
      let release!: () => void;
      const checking = new Promise<void>((resolve) => (release = resolve));
      // An async validator (a lookup, say) still running when close() is called.
      const schemas = { track_metadata: z.number().refine(async (value) => (await checking, value >= 0)) };
      const opened =
        mode === 'in process' ? await openCache({ name, indexedDB, schemas }) : await openRemoteCache({ name, indexedDB, now: Date.now, schemas });
      const { cache } = opened;
      const calls = [
        cache.set('track_metadata', 'a', 1),
        cache.setMany('track_metadata', [{ key: 'b', value: 2 }]),
        cache.get('track_metadata', 'bad'),
        // Sent in chunks, with a yield between two of them (no schema here).
        cache.setMany('album_year', Array.from({ length: SET_MANY_CHUNK + 1 }, (_, index) => ({ key: `y${index}`, value: index }))),
      ];
      const closing = cache.close();
      setTimeout(release, 0);
      expect(await Promise.allSettled(calls)).toEqual([
        { status: 'fulfilled', value: undefined },
        { status: 'fulfilled', value: undefined },
        { status: 'fulfilled', value: undefined },
        { status: 'fulfilled', value: undefined },
      ]);
      await closing;
      const { cache: reopened } = await openCache({ name, indexedDB });
      expect(await reopened.getMany('track_metadata', ['a', 'b', 'bad'])).toEqual([1, 2, undefined]);
      expect((await reopened.stats()).types.album_year.entries).toBe(SET_MANY_CHUNK + 1);
    },
  );
  it.each(['in process', 'with a worker'] as const)(
    '%s: the watchers hear the changes of calls made before close(), as its listeners hear their events',
    async (mode) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const { cache } = mode === 'in process' ? await openCache({ name, indexedDB }) : await openRemoteCache({ name, indexedDB, now: Date.now });
      await cache.set('track_metadata', 'old', 0, { trackId: 't1' });
      const changes: CacheChange[] = [];
      const heard: string[] = [];
      cache.watch('track_metadata', null, (change) => void changes.push(change));
      cache.on('*', (event) => void heard.push(event.eventType));
      const calls = [cache.set('track_metadata', 'k', 1), cache.emit({ eventType: 'track_removed', trackId: 't1' })];
      await cache.close();
      await Promise.all(calls);
      expect(heard).toEqual(['track_removed']);
      expect(changes.map(({ kind, keys, source }) => ({ kind, keys, source }))).toEqual([
        { kind: 'set', keys: ['k'], source: 'local' },
        { kind: 'invalidate', keys: ['old'], source: 'local' },
      ]);
    },
  );
  it.each(['in process', 'with a worker'] as const)(
    '%s: from close() on, its listeners and watchers hear no other tab’s event or change (also while a write of its own still settles: that one they hear)',
    async (mode) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      let release!: () => void;
      const checking = new Promise<void>((resolve) => (release = resolve));
      // An async validator (a lookup, say) still running as close() is called.
      const schemas = { track_metadata: z.number().refine(async (value) => (await checking, value >= 0)) };
      const pageChannel = () => checkedChannel(() => new BroadcastChannel(name));
      const { cache } = mode === 'in process' ? await openCache({ name, indexedDB, schemas }) : await openRemoteCache({ name, indexedDB, now: Date.now, schemas, pageChannel });
      const { cache: other } = await openCache({ name, indexedDB });
      const changes: CacheChange[] = [];
      const heard: string[] = [];
      cache.watch('track_metadata', null, (change) => void changes.push(change));
      cache.on('*', (event) => void heard.push(event.eventType));
      // What the engine tells the cache (another tab's event, the changes): spied on to know it arrived.
      const told = cache as unknown as Pick<CacheClient, 'remoteEvent' | 'changed'>;
      const [remoteEvent, changed] = [vi.spyOn(told, 'remoteEvent'), vi.spyOn(told, 'changed')];
      const mine = cache.set('track_metadata', 'mine', 1);
      const closing = cache.close();
      // Another tab's write and event reach this tab while close() waits for that write.
      await other.set('track_metadata', 'theirs', 2);
      await other.emit({ eventType: 'library_sync' });
      await vi.waitFor(() => {
        expect(remoteEvent).toHaveBeenCalled();
        expect(changed.mock.calls.flat(2).map(({ keys }) => keys)).toContainEqual(['theirs']);
      });
      release();
      await mine;
      await closing;
      // And after it.
      await other.set('track_metadata', 'later', 3);
      await other.emit({ eventType: 'track_removed', trackId: 't1' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual([]);
      expect(changes.map(({ kind, keys, source }) => ({ kind, keys, source }))).toEqual([{ kind: 'set', keys: ['mine'], source: 'local' }]);
      await other.close();
    },
  );
});

describe('transactions', () => {
  it('getMany reads in one transaction, however many entries; a big setMany writes in several short ones, on its own store', async () => {
    const { cache, name } = await openCache();
    const entries = Array.from({ length: SET_MANY_CHUNK * 3 }, (_, index) => ({ key: `k${index}`, value: index }));
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    // Other tests' caches may write their read times meanwhile: count this cache's transactions only.
    const mine = () =>
      transaction.mock.calls.filter((_, index) => (transaction.mock.contexts[index] as IDBDatabase).name === name).map(([stores, mode]) => [stores, mode]);
    try {
      await cache.setMany('track_metadata', entries);
      // An import (more than a thousand entries): short transactions, each on its own store only (the usage
      // record, the commit mark and the import's batch record are in it) — steps (the first of 500 entries,
      // then sized by how long the last took), a commit; then one tidying its key lists. Its start reads too
      // what the event log holds since the import reached the engine (the log's head, read then), and the
      // database's epoch and how far its log was trimmed, which say whether that place still tells.
      await vi.waitFor(() => expect(mine().length).toBeGreaterThanOrEqual(5));
      expect(new Set(mine().map((call) => JSON.stringify(call)))).toEqual(
        new Set([[['track_metadata'], 'readwrite'], [['events', 'meta'], 'readonly'], [['track_metadata', 'events', 'meta'], 'readwrite']].map((call) => JSON.stringify(call))),
      );
      transaction.mockClear();
      const values = await cache.getMany('track_metadata', entries.map((entry) => entry.key));
      expect(values).toEqual(entries.map((entry) => entry.value));
      // Reads stay read-only; their access times are written back later, in one batch of their own.
      expect(mine().filter(([, mode]) => mode !== 'readwrite')).toEqual([[['track_metadata'], 'readonly']]);
      expect(mine().length).toBeLessThanOrEqual(2);
    } finally {
      transaction.mockRestore();
    }
    // Six thousand entries written and read: seconds on a loaded machine.
  }, 20_000);
});

describe.each(['deleteMany', 'set'] as const)('a %s whose worker died after telling it, retried once another tab made more than a thousand changes', (method) => {
  /** A tab whose worker dies after applying and telling its first `method` once armed, and whose retry waits for 1,001 sets of `other` to reach the next worker. */
  async function dyingTab() {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const state = { armed: false, killed: false };
    let other!: Cache;
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) },
      // Applied and told, then gone before its answer reached the page.
      afterCall: (called, _args, worker) => {
        if (!state.armed || called !== (method === 'set' ? 'setMany' : 'deleteMany') || state.killed) return;
        state.killed = true;
        worker.kill();
      },
      // Meanwhile another tab makes 1,001 changes, which the next worker tells the page before the retry reaches it.
      beforeCall: async (called, _args, worker) => {
        if (!state.killed || worker.dead || (called !== 'deleteMany' && called !== 'committed')) return;
        await Promise.all(Array.from({ length: 1001 }, (_, index) => other.set('track_metadata', `other${index}`, index)));
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    other = (await openCache({ name, indexedDB })).cache;
    await cache.set('track_metadata', 'k', 1);
    const change = async () => {
      state.armed = true;
      if (method === 'set') await cache.set('track_metadata', 'k', 2);
      else expect(await cache.deleteMany('track_metadata', ['k'])).toBe(1);
      expect(workers).toHaveLength(2);
      await new Promise((resolve) => setTimeout(resolve, 20));
    };
    return { cache, name, indexedDB, change };
  }

  it("is heard once by its watcher: the page keeps the ids of its own unsettled changes, however many others' it hears", async () => {
    const { cache, change } = await dyingTab();
    const seen: CacheChange[] = [];
    cache.watch('track_metadata', 'k', (change) => void seen.push(change));
    await change();
    expect(seen.map((change) => [change.kind, change.source])).toEqual([[method === 'set' ? 'set' : 'delete', 'local']]);
  });

  it('is heard once by a watcher in a third tab, which heard those 1,001 changes between the dead worker’s news and the retry’s', async () => {
    const { name, indexedDB, change } = await dyingTab();
    const { cache: third } = await openCache({ name, indexedDB });
    const seen: CacheChange[] = [];
    third.watch('track_metadata', 'k', (change) => void seen.push(change));
    await change();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.map((change) => [change.kind, change.source])).toEqual([[method === 'set' ? 'set' : 'delete', 'remote']]);
  });
});

describe('a set that evicted others to fit its budget, whose worker died after telling it, retried more than two minutes later and after a thousand other changes', () => {
  it('is heard once, its eviction too: the page keeps the ids of all it told of its own unsettled change', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const config = { caching: { policies: { track_metadata: { maxSizeMb: 0.01 } } } };
    const state = { armed: false, killed: false };
    let other!: Cache;
    // The page's monotonic clock, which a slow restart (a worker script that takes minutes to load) moves on.
    let later = 0;
    const now = performance.now.bind(performance);
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now() + later);
    try {
      const { cache, workers } = await openRemoteCache({
        name,
        indexedDB,
        config,
        engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) },
        // Applied and told, then gone before its answer reached the page.
        afterCall: (called, _args, worker) => {
          if (!state.armed || called !== 'setMany' || state.killed) return;
          state.killed = true;
          worker.kill();
        },
        // The retry reaches the next worker more than two minutes later, after another tab made 1,001 changes that it told the page.
        beforeCall: async (called, _args, worker) => {
          if (!state.killed || worker.dead || called !== 'committed') return;
          later = 121_000;
          await Promise.all(Array.from({ length: 1001 }, (_, index) => other.set('album_year', `other${index}`, index)));
          await new Promise((resolve) => setTimeout(resolve, 20));
        },
      });
      other = (await openCache({ name, indexedDB, config })).cache;
      for (let index = 0; index < 6; index++) await cache.set('track_metadata', `old${index}`, 'x'.repeat(1000));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const seen: CacheChange[] = [];
      cache.watch('track_metadata', null, (change) => void seen.push(change));
      state.armed = true;
      await cache.set('track_metadata', 'new', 'x'.repeat(1000));
      expect(workers).toHaveLength(2);
      expect(await cache.has('track_metadata', 'old0')).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.map((change) => [change.kind, change.source])).toEqual([['set', 'local'], ['evict', 'local']]);
    } finally {
      clock.mockRestore();
    }
  });
});
