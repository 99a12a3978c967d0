// resolve and getOrSet (SPEC §3b): where a value came from, the fetcher's context, forceFresh, and
// callers that stop waiting. (Stale-while-revalidate and fetches shared across tabs have their own files.)
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { z } from 'zod';
import { isCacheError, type Cache, type CacheChange, type FetcherContext } from '../src/index';
import type { TypeName } from '../src/contentType';
import type { Mark } from '../src/protocol';
import { engineTab } from './support/engineTab';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeLocks } from './support/fakeLocks';
import { failCommits, tabFactory } from './support/faultyIndexedDB';
import { lossyChannel } from './support/lossyChannel';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';

function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

/**
 * An AbortController whose signal is not an instance of this realm's AbortSignal, as one made in an iframe (Node's
 * vm contexts have no AbortController) or by a polyfill: an EventTarget with `aborted` and `reason`.
 */
function foreignAbortController() {
  const signal = Object.assign(new EventTarget(), { aborted: false, reason: undefined as unknown, onabort: null });
  const abort = (reason: unknown) => {
    Object.assign(signal, { aborted: true, reason });
    signal.dispatchEvent(new Event('abort'));
  };
  return { signal: signal as unknown as AbortSignal, abort };
}

/** Once a fetcher has answered, the write of what it brought (if any) is made within the task: a call made after this comes after it. */
function afterItsWrite() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe.each(['track_metadata', 'generic'] as const)('%s', (type) => {
  it("says where the value came from: 'fetch', then 'cache'; concurrent callers 'shared'", async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.resolve(type, 'k', fetcher);
    const second = cache.resolve(type, 'k', fetcher);
    const third = cache.getOrSet(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.open('v');
    expect(await Promise.all([first, second, third])).toEqual([
      { value: 'v', source: 'fetch' },
      { value: 'v', source: 'shared' },
      'v',
    ]);
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'v', source: 'cache' });
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('each call counts one read in stats(), whenever it comes: one that joins the fetch under way (its read would have missed) counts a miss, as one made with the first does; forceFresh (which fetches anew) counts none', async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    // Made together, each reads (and misses) before the fetch starts.
    const together = [cache.resolve(type, 'k', fetcher), cache.getOrSet(type, 'k', fetcher)];
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // Made once the fetch has started: they join it, but for forceFresh.
    const later = [cache.resolve(type, 'k', fetcher), cache.getOrSet(type, 'k', fetcher), cache.resolve(type, 'k', fetcher, { forceFresh: true })];
    reply.open('v');
    expect(await Promise.all(later)).toEqual([{ value: 'v', source: 'shared' }, 'v', { value: 'v', source: 'fetch' }]);
    expect(fetcher).toHaveBeenCalledTimes(2);
    await Promise.all(together);
    expect(await cache.getOrSet(type, 'k', fetcher)).toBe('v');
    const { hits, misses } = (await cache.stats()).types[type];
    expect({ hits, misses }).toEqual({ hits: 1, misses: 4 });
  });

  it('gives the fetcher a signal, no stale value for a miss, and skipStore', async () => {
    const { cache } = await openCache();
    let seen: FetcherContext | undefined;
    const value = await cache.getOrSet(type, 'k', (context) => {
      seen = context;
      context.skipStore();
      return 'not stored';
    });
    expect(value).toBe('not stored');
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.signal.aborted).toBe(false);
    expect(seen?.stale).toBeUndefined();
    expect(await cache.get(type, 'k')).toBeUndefined();
    expect((await cache.stats()).types[type].entries).toBe(0);
    expect(await cache.resolve(type, 'k', () => 'stored')).toEqual({ value: 'stored', source: 'fetch' });
    expect(await cache.get(type, 'k')).toBe('stored');
  });

  it('forceFresh skips the cache, fetches and stores', async () => {
    const { cache } = await openCache();
    await cache.set(type, 'k', 'old');
    expect(await cache.resolve(type, 'k', () => 'new', { forceFresh: true })).toEqual({ value: 'new', source: 'fetch' });
    expect(await cache.get(type, 'k')).toBe('new');
  });

  // A refresh button after an edit: the fetch under way may have asked before the edit, and bring what it replaced.
  it('forceFresh does not join a fetch started before it: it fetches, the earlier callers get their fetch, and its value stays', async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const fresh = vi.fn(async () => 'after the edit');
    const second = cache.resolve(type, 'k', fresh, { forceFresh: true });
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    expect(fresh).toHaveBeenCalledTimes(1);
    expect(await cache.get(type, 'k')).toBe('after the edit');
  });

  // No lock to hold the key (no Web Locks and no BroadcastChannel, or the browser refused the request): the two fetch at once.
  it('forceFresh without locks, whose fetcher answers after the fetch started before it has stored its value: its value stays', async () => {
    const { cache } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const edited = gate<string>();
    const fresh = vi.fn(() => edited.promise);
    const second = cache.resolve(type, 'k', fresh, { forceFresh: true });
    await vi.waitFor(() => expect(fresh).toHaveBeenCalledTimes(1));
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    edited.open('after the edit');
    expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    expect(await cache.get(type, 'k')).toBe('after the edit');
  });

  it.each([
    ['its fetcher throws', (): string => { throw new Error('down'); }],
    ['it calls skipStore', ({ skipStore }: FetcherContext) => (skipStore(), 'not kept')],
    ['its value is refused (undefined)', () => undefined as unknown as string],
  ] as const)('without locks, a forceFresh called after a fetch whose value it would replace, and %s: the earlier value stays', async (_, answer) => {
    const { cache } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const edited = gate<void>();
    const fresh = vi.fn(async (context: FetcherContext) => (await edited.promise, answer(context)));
    const second = cache.resolve(type, 'k', fresh, { forceFresh: true });
    await vi.waitFor(() => expect(fresh).toHaveBeenCalledTimes(1));
    reply.open('fetched');
    expect(await first).toEqual({ value: 'fetched', source: 'fetch' });
    edited.open();
    await second.catch(() => {});
    await afterItsWrite();
    expect(await cache.get(type, 'k')).toBe('fetched');
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  /** Without locks, a fetch whose fetcher was called, then a forceFresh whose fetcher was called after it and answers when `fail` is called. */
  async function twoFetches() {
    const tab = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = tab.cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const failing = gate<string>();
    const fresh = vi.fn(() => failing.promise);
    const second = tab.cache.resolve(type, 'k', fresh, { forceFresh: true });
    await vi.waitFor(() => expect(fresh).toHaveBeenCalledTimes(1));
    reply.open('fetched');
    expect(await first).toEqual({ value: 'fetched', source: 'fetch' });
    return { ...tab, second, fail: () => failing.fail(new Error('down')) };
  }

  it.each([
    ['a set of the key', (cache: Cache) => cache.set(type, 'k', 'set meanwhile'), 'set meanwhile'],
    ['a delete of the key', (cache: Cache) => cache.delete(type, 'k'), undefined],
    ['a clear', (cache: Cache) => cache.clear(type), undefined],
  ] as const)('without locks, %s made while the earlier value waits for the forceFresh called after it, which then fails: what it left stays', async (_, write, left) => {
    const { cache, second, fail } = await twoFetches();
    await write(cache as unknown as Cache);
    fail();
    await second.catch(() => {});
    await afterItsWrite();
    expect(await cache.get(type, 'k')).toBe(left);
  });

  it('without locks, once every caller of the forceFresh called after a fetch left it (its fetcher ignores its signal), the earlier value is stored', async () => {
    const tab = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = tab.cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const leaving = new AbortController();
    const fresh = vi.fn(() => new Promise<string>(() => {}));
    const second = tab.cache.resolve(type, 'k', fresh, { forceFresh: true, signal: leaving.signal });
    await vi.waitFor(() => expect(fresh).toHaveBeenCalledTimes(1));
    reply.open('fetched');
    expect(await first).toEqual({ value: 'fetched', source: 'fetch' });
    leaving.abort();
    expect(isCacheError(await rejection(second), 'aborted')).toBe(true);
    await afterItsWrite();
    expect(await tab.cache.get(type, 'k')).toBe('fetched');
  });

  it('without locks, close() while the earlier value waits for the forceFresh called after it: close resolves, and nothing is stored or reported', async () => {
    const { cache, second, logger } = await twoFetches();
    await cache.close();
    expect(isCacheError(await rejection(second), 'closed')).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each([
    ['first, second, third', ['first', 'second', 'third']],
    ['second, first, third', ['second', 'first', 'third']],
    ['first, third, second', ['first', 'third', 'second']],
    ['third, first, second', ['third', 'first', 'second']],
    ['third, second, first', ['third', 'second', 'first']],
  ] as const)('without locks, three fetches called in turn, the last one failing (answered %s): the second one\'s value stays', async (_, order) => {
    const { cache } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const replies = { first: gate<string>(), second: gate<string>(), third: gate<string>() };
    // Each made once the one before has called its fetcher: it does not join it.
    const calls: Promise<unknown>[] = [];
    for (const name of ['first', 'second', 'third'] as const) {
      const fetcher = vi.fn(() => replies[name].promise);
      calls.push(cache.resolve(type, 'k', fetcher, calls.length ? { forceFresh: true } : undefined).catch(() => 'failed'));
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    }
    for (const name of order) {
      if (name === 'third') replies.third.fail(new Error('down'));
      else replies[name].open(name);
      await afterItsWrite();
    }
    await Promise.all(calls);
    await afterItsWrite();
    expect(await cache.get(type, 'k')).toBe('second');
  });

  it('forceFresh calls made together fetch once; an ordinary call made after them joins that fetch', async () => {
    const { cache } = await openCache();
    await cache.set(type, 'k', 'old');
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    // Two components refreshing on one click: the second comes before the first's fetcher is called.
    const calls = [cache.resolve(type, 'k', fetcher, { forceFresh: true }), cache.resolve(type, 'k', fetcher, { forceFresh: true })];
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    calls.push(cache.resolve(type, 'k', fetcher));
    reply.open('new');
    expect(await Promise.all(calls)).toEqual([
      { value: 'new', source: 'fetch' },
      { value: 'new', source: 'shared' },
      { value: 'new', source: 'shared' },
    ]);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await cache.get(type, 'k')).toBe('new');
  });

  it("a caller's signal: it alone rejects with aborted; the fetch goes on for the others and is stored", async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    let fetchSignal: AbortSignal | undefined;
    const fetcher = vi.fn(({ signal }: FetcherContext) => ((fetchSignal = signal), reply.promise));
    const leaving = new AbortController();
    const first = cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    const second = cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    leaving.abort(new Error('user left'));
    const error = await rejection(first);
    expect(isCacheError(error, 'aborted')).toBe(true);
    expect((error.cause as Error).message).toBe('user left');
    expect(fetchSignal?.aborted).toBe(false);
    reply.open('v');
    expect(await second).toEqual({ value: 'v', source: 'shared' });
    expect(await cache.get(type, 'k')).toBe('v');
  });

  it("the fetcher's signal aborts once every waiting caller has aborted; a failing fetch caches nothing", async () => {
    const { cache } = await openCache();
    let fetchSignal: AbortSignal | undefined;
    const fetcher = ({ signal }: FetcherContext) =>
      new Promise<string>((_, reject) => {
        fetchSignal = signal;
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const [a, b] = [new AbortController(), new AbortController()];
    const calls = [cache.getOrSet(type, 'k', fetcher, { signal: a.signal }), cache.getOrSet(type, 'k', fetcher, { signal: b.signal })];
    await vi.waitFor(() => expect(fetchSignal).toBeDefined());
    a.abort();
    await Promise.resolve();
    expect(fetchSignal?.aborted).toBe(false);
    b.abort();
    expect(fetchSignal?.aborted).toBe(true);
    for (const call of calls) expect(isCacheError(await rejection(call), 'aborted')).toBe(true);
    expect(await cache.has(type, 'k')).toBe(false);
    // The next call fetches again.
    expect(await cache.resolve(type, 'k', () => 'again')).toEqual({ value: 'again', source: 'fetch' });
  });

  // "A rejected call wrote nothing" does not hold for a caller that stops waiting once its fetch has what it asked for: it
  // rejects at once (its signal says so), and the value fetched for every caller is kept, as close() lets a write in flight complete.
  it('a caller that aborts once its fetcher has answered (the value still checked by an async schema) rejects with aborted at once; what the fetcher brought is stored all the same', async () => {
    const checking = gate<void>();
    const checked = vi.fn(async () => (await checking.promise, true));
    const { cache } = await openCache({ schemas: { [type]: z.string().refine(checked) } });
    const leaving = new AbortController();
    const call = cache.getOrSet(type, 'k', async () => 'v', { signal: leaving.signal });
    await vi.waitFor(() => expect(checked).toHaveBeenCalled());
    leaving.abort();
    expect(isCacheError(await rejection(call), 'aborted')).toBe(true);
    checking.open();
    await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('v'));
  });

  it('a caller arriving after every other caller left a fetch (its fetcher told to stop) starts a new one', async () => {
    const { cache } = await openCache();
    const fetcher = vi.fn(
      ({ signal }: FetcherContext) =>
        new Promise<string>((resolve, reject) => {
          // Like fetch(url, { signal }): rejects with the signal's reason when it aborts.
          signal.addEventListener('abort', () => reject(signal.reason));
          setTimeout(() => resolve('v'), 50);
        }),
    );
    const leaving = new AbortController();
    const first = cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    leaving.abort();
    // In the same task (one component unmounts, another mounts on the same key): not failed by that abort.
    const second = cache.resolve(type, 'k', fetcher);
    expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
    expect(await second).toEqual({ value: 'v', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(await cache.get(type, 'k')).toBe('v');
  });

  it('a caller whose signal aborts while its read waits on the worker (busy, or being replaced) rejects with aborted at once; no fetcher is called', async () => {
    const held = gate<void>();
    let hold = false;
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: Date.now,
      direct: false,
      beforeCall: async (method) => {
        if (hold && method === 'getMany') await held.promise;
      },
    });
    hold = true;
    const leaving = new AbortController();
    const fetcher = vi.fn(() => 'v');
    const call = cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    leaving.abort();
    const outcome = await Promise.race([
      call.then(
        (value) => ({ value }),
        (error: { code?: string }) => ({ code: error.code }),
      ),
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 200)),
    ]);
    expect(outcome).toEqual({ code: 'aborted' });
    held.open();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fetcher).not.toHaveBeenCalled();
  });

  it("a signal of another frame (an iframe's AbortController, which fails instanceof here) or a polyfill's is taken as one: its abort rejects the call with aborted", async () => {
    const { cache } = await openCache();
    const foreign = foreignAbortController();
    expect(await cache.resolve(type, 'k', () => 'v', { signal: foreign.signal })).toEqual({ value: 'v', source: 'fetch' });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const call = cache.resolve(type, 'other', fetcher, { signal: foreign.signal });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    foreign.abort('left');
    const error = await rejection(call);
    expect(isCacheError(error, 'aborted')).toBe(true);
    expect(error.cause).toBe('left');
  });

  it('a signal taken by its shape whose members throw as they are read: invalid_argument with what it threw as cause, nothing fetched; a reason that throws as it aborts: aborted, with what it threw', async () => {
    const { cache } = await openCache();
    const thrown = new Error('polyfill broke');
    const fetcher = vi.fn(() => 'v');
    const refusing = {
      aborted: false,
      addEventListener: () => {
        throw thrown;
      },
    };
    const error = await rejection(cache.resolve(type, 'k', fetcher, { signal: refusing as unknown as AbortSignal }));
    expect(error).toMatchObject({ code: 'invalid_argument', cause: thrown });
    expect(error.message).toContain('signal');
    expect(fetcher).not.toHaveBeenCalled();
    const throwing = Object.assign(new EventTarget(), { aborted: false });
    Object.defineProperty(throwing, 'reason', {
      get: () => {
        throw thrown;
      },
    });
    const reply = gate<string>();
    const call = cache.resolve(type, 'k', () => reply.promise, { signal: throwing as unknown as AbortSignal });
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwing.aborted = true;
    throwing.dispatchEvent(new Event('abort'));
    expect(await rejection(call)).toMatchObject({ code: 'aborted', cause: thrown });
    expect(await cache.keys(type)).toEqual([]);
  });

  it('a signal taken by its shape, given to many calls, is listened to once (not once per call, which kept each call’s listener for the signal’s life)', async () => {
    const { cache } = await openCache();
    const foreign = foreignAbortController();
    const listen = vi.spyOn(foreign.signal, 'addEventListener');
    for (let index = 0; index < 30; index++) await cache.resolve(type, `k${index}`, () => 'v', { signal: foreign.signal });
    expect(listen).toHaveBeenCalledTimes(1);
  });

  it('a signal aborted before the call rejects at once, without fetching', async () => {
    const { cache } = await openCache();
    const fetcher = vi.fn(() => 'v');
    const error = await rejection(cache.resolve(type, 'k', fetcher, { signal: AbortSignal.abort() }));
    expect(isCacheError(error, 'aborted')).toBe(true);
    expect(fetcher).not.toHaveBeenCalled();
  });

  it('a failing fetch reaches every caller waiting on it, and caches nothing', async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const calls = [cache.resolve(type, 'k', fetcher), cache.resolve(type, 'k', fetcher)];
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.fail(new Error('API down'));
    for (const call of calls) expect((await rejection(call)).message).toBe('API down');
    expect(await cache.has(type, 'k')).toBe(false);
  });

  it('bad options reject with invalid_argument', async () => {
    const { cache } = await openCache();
    for (const options of [{ signal: {} }, { forceFresh: 'yes' }, { staleWhileRevalidateSeconds: -1 }, { staleWhileRevalidateSeconds: Number.NaN }, { ttl: 5 }]) {
      expect(isCacheError(await rejection(cache.resolve(type, 'k', () => 1, options as never)), 'invalid_argument')).toBe(true);
    }
  });
});

// No stale write-back (README › Guarantees): a write of the key called once a fetch started is newer than
// what that fetch brings, which its callers get and the cache does not keep.
describe.each(['in process', 'with a worker'] as const)('a write of the key made during a fetch wins, %s', (mode) => {
  const open = () => (mode === 'in process' ? openCache() : openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now }));

  describe.each(['track_metadata', 'generic'] as const)('%s', (type) => {
    it.each([
      ['set', (cache: Cache) => cache.set(type, 'k', 'written'), 'written'],
      ['setMany', (cache: Cache) => cache.setMany(type, [{ key: 'other', value: 1 }, { key: 'k', value: 'written' }]), 'written'],
      ['delete', (cache: Cache) => cache.delete(type, 'k'), undefined],
      ['deleteMany', (cache: Cache) => cache.deleteMany(type, ['other', 'k']), undefined],
    ] as const)('a %s: the fetch answers its callers, the write stays, and a later call does not join the fetch', async (_, write, written) => {
      const { cache } = await open();
      await cache.set(type, 'k', 'before');
      const reply = gate<string>();
      const fetcher = vi.fn(() => reply.promise);
      const first = cache.resolve(type, 'k', fetcher, { forceFresh: true });
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
      await write(cache);
      const second = cache.resolve(type, 'k', async () => 'fetched after the write');
      expect(await cache.get(type, 'k')).toBe(written);
      reply.open('fetched before the write');
      expect(await first).toEqual({ value: 'fetched before the write', source: 'fetch' });
      expect(await second).toEqual(written === undefined ? { value: 'fetched after the write', source: 'fetch' } : { value: written, source: 'cache' });
      expect(await cache.get(type, 'k')).toBe(written ?? 'fetched after the write');
    });

    it('a write called while fetching, not awaited: the fetch’s callers, joiners too, get its value; the write stays', async () => {
      const { cache } = await open();
      const reply = gate<string>();
      const fetcher = vi.fn(() => reply.promise);
      const first = cache.resolve(type, 'k', fetcher);
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
      const joiner = cache.resolve(type, 'k', () => 'not called');
      const written = cache.set(type, 'k', 'written');
      reply.open('fetched');
      expect(await Promise.all([first, joiner, written])).toEqual([{ value: 'fetched', source: 'fetch' }, { value: 'fetched', source: 'shared' }, undefined]);
      expect(await cache.get(type, 'k')).toBe('written');
    });
  });
});

// A write refused by the type's schema wrote nothing: it is no newer value than what a fetch under way brings.
describe.each(['sync', 'async'] as const)('a write of the key refused by a %s schema during a fetch', (kind) => {
  const schemas = { generic: kind === 'sync' ? z.string().refine((text) => text !== 'bad') : z.string().refine(async (text) => text !== 'bad') };
  it.each([
    ['set', (cache: Cache<typeof schemas>) => cache.set('generic', 'k', 'bad')],
    ['setMany', (cache: Cache<typeof schemas>) => cache.setMany('generic', [{ key: 'k', value: 'good' }, { key: 'other', value: 'bad' }])],
  ] as const)('a %s: what the fetch brings is stored, and a later call joins it', async (_, write) => {
    const { cache } = await openCache({ schemas });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.getOrSet('generic', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    expect(isCacheError(await rejection(write(cache)), 'invalid_value')).toBe(true);
    const again = vi.fn(async () => 'fetched again');
    const second = cache.getOrSet('generic', 'k', again);
    reply.open('fetched');
    expect([await first, await second, again.mock.calls.length, await cache.get('generic', 'k')]).toEqual(['fetched', 'fetched', 0, 'fetched']);
  });
});

// Where fetches of one key take turns (fetch locks, as createCache's caches have), the later one waits for the
// earlier and takes what it stored; without them (this cache has none) they overlap.
// A write called before a read-through is older than what its fetch brings, even while its value is still being checked.
describe('a set called (not awaited) just before a forceFresh read-through of its key, its value checked by an async schema', () => {
  const schemas = { track_metadata: z.string().refine(async () => (await new Promise((resolve) => setTimeout(resolve, 20)), true)) };
  it.each([
    ['in-process', () => openCache({ schemas })],
    ['in a worker', () => openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now, schemas })],
  ] as const)('%s: the fetched value is stored over it', async (_, open) => {
    const { cache } = await open();
    await cache.set('track_metadata', 'k', 'old');
    const setting = cache.set('track_metadata', 'k', 'set before');
    expect(await cache.resolve('track_metadata', 'k', async () => 'fetched after', { forceFresh: true })).toEqual({ value: 'fetched after', source: 'fetch' });
    await setting;
    expect(await cache.get('track_metadata', 'k')).toBe('fetched after');
  });
});

describe.each(['track_metadata', 'generic'] as const)('%s: two fetches of one key at once', (type) => {
  it('what the later one fetched stays, whichever answers last', async () => {
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now });
    for (const laterFirst of [true, false]) {
      const earlier = gate<string>();
      const later = gate<string>();
      const fetchers = [vi.fn(() => earlier.promise), vi.fn(() => later.promise)] as const;
      // The first fetch's caller leaves and its fetcher goes on (it ignores its signal): the next call fetches anew.
      const leaving = new AbortController();
      const first = cache.resolve(type, 'k', fetchers[0], { signal: leaving.signal, forceFresh: true });
      await vi.waitFor(() => expect(fetchers[0]).toHaveBeenCalledTimes(1));
      leaving.abort();
      const second = cache.resolve(type, 'k', fetchers[1], { forceFresh: true });
      await vi.waitFor(() => expect(fetchers[1]).toHaveBeenCalledTimes(1));
      const [answersFirst, answersLast] = laterFirst ? [later, earlier] : [earlier, later];
      answersFirst.open('answered first');
      await afterItsWrite();
      answersLast.open('answered last');
      await afterItsWrite();
      expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
      const kept = laterFirst ? 'answered first' : 'answered last';
      expect(await second).toEqual({ value: kept, source: 'fetch' });
      expect(await cache.get(type, 'k')).toBe(kept);
    }
  });
});

/** A worker slow to answer the `nth` mark a read-through asks it for (counted from 1): that answer waits for `held`. */
function slowMark(engine: { mark: (type: TypeName, key?: string) => Promise<Mark> }, nth: number, held: Promise<void>) {
  const mark = engine.mark.bind(engine);
  let asked = 0;
  return vi.spyOn(engine, 'mark').mockImplementation(async (type, key) => {
    const n = ++asked;
    const answer = await mark(type, key);
    if (n === nth) await held;
    return answer;
  });
}

// No lock holds the key: fetches of it overlap, and the one whose fetcher was called last brings the newest value.
describe.each(['track_metadata', 'generic'] as const)('%s without locks: two fetches of one key whose fetchers are called in another order than they started', (type) => {
  it.each([true, false])('what the one called last fetched stays (it answers first: %s)', async (calledLastAnswersFirst) => {
    const { cache, engine } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const marked = gate<void>();
    // The first fetch's mark is answered late (a busy worker): the second one's fetcher is called before its own.
    slowMark(engine, 1, marked.promise);
    const [startedFirst, startedLast] = [gate<string>(), gate<string>()];
    const fetchers = [vi.fn(() => startedFirst.promise), vi.fn(() => startedLast.promise)] as const;
    const first = cache.resolve(type, 'k', fetchers[0]);
    await vi.waitFor(() => expect(engine.mark).toHaveBeenCalledTimes(1));
    const second = cache.resolve(type, 'k', fetchers[1], { forceFresh: true });
    await vi.waitFor(() => expect(fetchers[1]).toHaveBeenCalledTimes(1));
    marked.open();
    await vi.waitFor(() => expect(fetchers[0]).toHaveBeenCalledTimes(1));
    const answers = calledLastAnswersFirst ? [startedFirst, startedLast] : [startedLast, startedFirst];
    for (const answer of answers) {
      answer.open(answer === startedFirst ? 'called last' : 'called first');
      await afterItsWrite();
    }
    expect(await first).toEqual({ value: 'called last', source: 'fetch' });
    expect(await second).toEqual({ value: 'called first', source: 'fetch' });
    expect(await cache.get(type, 'k')).toBe('called last');
  });
});

// Across tabs, only the store tells which of two fetches' fetchers was called later, by the time each write carries (see worker/fetchRevision).
describe('track_metadata without locks, two tabs: a fetch whose mark is answered late (a busy worker, the page frozen a while)', () => {
  const type = 'track_metadata';
  it.each([true, false])('and another tab’s fetch of the key, called and stored meanwhile: what the one called last fetched stays (it answers first: %s)', async (calledLastAnswersFirst) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // The clock the pages and their workers share.
    const clock = fakeClock();
    const dateNow = vi.spyOn(Date, 'now').mockImplementation(clock.now);
    onTestFinished(() => dateNow.mockRestore());
    const [a, b] = [await engineTab({ name, indexedDB, engine: { now: clock.now } }), await engineTab({ name, indexedDB, engine: { now: clock.now } })];
    const marked = gate<void>();
    // The mark taken just before its fetcher is called (the second the read-through asks for) is answered late.
    slowMark(a.engine, 2, marked.promise);
    const [calledLast, calledFirst] = [gate<string>(), gate<string>()];
    const fetchers = [vi.fn(() => calledLast.promise), vi.fn(() => calledFirst.promise)] as const;
    const first = a.cache.resolve(type, 'k', fetchers[0], { forceFresh: true });
    await vi.waitFor(() => expect(a.engine.mark).toHaveBeenCalledTimes(2));
    clock.advance(1000);
    const second = b.cache.resolve(type, 'k', fetchers[1], { forceFresh: true });
    await vi.waitFor(() => expect(fetchers[1]).toHaveBeenCalledTimes(1));
    clock.advance(1000);
    if (!calledLastAnswersFirst) {
      calledFirst.open('called first');
      expect(await second).toEqual({ value: 'called first', source: 'fetch' });
    }
    marked.open();
    await vi.waitFor(() => expect(fetchers[0]).toHaveBeenCalledTimes(1));
    calledLast.open('called last');
    expect(await first).toEqual({ value: 'called last', source: 'fetch' });
    if (calledLastAnswersFirst) {
      calledFirst.open('called first');
      expect(await second).toEqual({ value: 'called first', source: 'fetch' });
    }
    await afterItsWrite();
    expect([await a.cache.get(type, 'k'), await b.cache.get(type, 'k')]).toEqual(['called last', 'called last']);
  });
});

// Its callers get what it brought at once, and may change it once their call resolved: the cache keeps it as fetched.
describe.each(['track_metadata', 'generic'] as const)('%s without locks: a fetch that answers while one of its key called after it still runs', (type) => {
  it('stores, once that one failed, the value as fetched, not as its caller changed it after the call resolved', async () => {
    const { cache } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const [answered, failed] = [gate<{ n: number }>(), gate<{ n: number }>()];
    const fetchers = [vi.fn(() => answered.promise), vi.fn(() => failed.promise)] as const;
    const first = cache.resolve(type, 'k', fetchers[0]);
    await vi.waitFor(() => expect(fetchers[0]).toHaveBeenCalledTimes(1));
    const second = cache.resolve(type, 'k', fetchers[1], { forceFresh: true });
    await vi.waitFor(() => expect(fetchers[1]).toHaveBeenCalledTimes(1));
    answered.open({ n: 1 });
    const { value } = (await first) as { value: { n: number } };
    value.n = 2;
    failed.fail(new Error('offline'));
    await rejection(second);
    await afterItsWrite();
    expect(await cache.get(type, 'k')).toEqual({ n: 1 });
  });
});

// A write called before a fetcher is called is older than what it brings, also where it reaches the store after the fetch's mark.
describe.each(['generic', 'track_metadata'] as const)('%s: a set called while a read-through waits for its mark, just before its fetcher is called', (type) => {
  it.each([
    ['it completes before the call', false],
    ['its value, checked by an async schema, is sent as the mark is answered', true],
  ] as const)('%s: the fetched value is stored over it', async (_, checkedAfter) => {
    const checking = gate<void>();
    const schemas = { [type]: z.string().refine(async (value) => (value === 'set before the call' && checkedAfter && (await checking.promise), true)) };
    const { cache, engine } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory(), schemas });
    const marked = gate<void>();
    // The mark taken just before the fetcher is called (the second the read-through asks for) is answered late.
    slowMark(engine, 2, marked.promise);
    const fetcher = vi.fn(async () => 'fetched');
    const resolving = cache.resolve(type, 'k', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(engine.mark).toHaveBeenCalledTimes(2));
    const setting = cache.set(type, 'k', 'set before the call');
    if (!checkedAfter) await setting;
    marked.open();
    checking.open();
    await setting;
    expect(await resolving).toEqual({ value: 'fetched', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await cache.get(type, 'k')).toBe('fetched');
  });

  it('writes of the key that keep coming (progress saved every 100 ms) while it waits for its mark: its fetcher is still called, and it answers', async () => {
    const { cache, engine } = await engineTab({ name: uniqueName(), indexedDB: new IDBFactory() });
    const fetcher = vi.fn(async () => 'fetched');
    let writes = 0;
    const stream = gate<string>();
    // Each mark is answered just after the next write of the key is called, until the fetcher is (or a hundred writes went by).
    const mark = engine.mark.bind(engine);
    vi.spyOn(engine, 'mark').mockImplementation(async (markType, key) => {
      const answer = await mark(markType, key);
      if (!fetcher.mock.calls.length && ++writes <= 100) void cache.set(type, 'k', `progress ${writes}`);
      if (writes === 100) stream.open('still waiting after 100 writes of the key');
      return answer;
    });
    const resolving = cache.resolve(type, 'k', fetcher, { forceFresh: true });
    expect(await Promise.race([resolving, stream.promise])).toEqual({ value: 'fetched', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});

describe.each(['track_metadata', 'generic'] as const)('%s: a fetch started once every caller left another (whose fetcher ignores its signal)', (type) => {
  it('does not wait for it, even where fetches of one key take turns: it fetches, and its value stays; what the one left brings later is not stored', async () => {
    const { cache } = await openCache();
    const reply = gate<string>();
    const fetchers = [vi.fn(() => reply.promise), vi.fn(() => 'fetched again')] as const;
    const leaving = new AbortController();
    const first = cache.resolve(type, 'k', fetchers[0], { signal: leaving.signal });
    await vi.waitFor(() => expect(fetchers[0]).toHaveBeenCalledTimes(1));
    leaving.abort();
    expect(await cache.resolve(type, 'k', fetchers[1])).toEqual({ value: 'fetched again', source: 'fetch' });
    reply.open('fetched');
    await afterItsWrite();
    expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
    expect(await cache.get(type, 'k')).toBe('fetched again');
  });
});

// album_year checks fingerprints: an entry stored with another one is a miss for get.
describe('album_year: a call with another fingerprint than the fetch under way for its key', () => {
  it('does not join it (its value would be a miss for that fingerprint): it fetches for its own, stored with it, as a call of another tab does', async () => {
    const type = 'album_year';
    const [F, G] = ['f'.repeat(64), 'a'.repeat(64)];
    const { cache } = await openCache();
    const forF = gate<string>();
    const fetchF = vi.fn(() => forF.promise);
    const first = cache.resolve(type, 'k', fetchF, { fingerprint: F });
    await vi.waitFor(() => expect(fetchF).toHaveBeenCalledTimes(1));
    const second = cache.resolve(type, 'k', () => 'for G', { fingerprint: G });
    forF.open('for F');
    expect(await first).toEqual({ value: 'for F', source: 'fetch' });
    expect(await second).toEqual({ value: 'for G', source: 'fetch' });
    expect(await cache.get(type, 'k', { fingerprint: G })).toBe('for G');
  });

  it('leaves the fetch under way for the first fingerprint to it: a third call, with that one again, joins it', async () => {
    const type = 'album_year';
    const [F, G] = ['f'.repeat(64), 'a'.repeat(64)];
    const { cache } = await openCache();
    const forF = gate<string>();
    const forG = gate<string>();
    const fetchF = vi.fn(() => forF.promise);
    const first = cache.resolve(type, 'k', fetchF, { fingerprint: F });
    await vi.waitFor(() => expect(fetchF).toHaveBeenCalledTimes(1));
    const fetchG = vi.fn(() => forG.promise);
    const second = cache.resolve(type, 'k', fetchG, { fingerprint: G });
    // Its read missed, and its fetch waits for the key (F's holds it).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = cache.resolve(type, 'k', fetchF, { fingerprint: F });
    forF.open('for F');
    forG.open('for G');
    expect(await first).toEqual({ value: 'for F', source: 'fetch' });
    expect(await second).toEqual({ value: 'for G', source: 'fetch' });
    expect(await third).toEqual({ value: 'for F', source: 'shared' });
    expect(fetchF).toHaveBeenCalledTimes(1);
  });
});

describe('a caller that aborts during its read', () => {
  it('still has the value it read checked by the schema: one it refuses is a miss, deleted and counted corrupt, not a hit', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    // Stored by an older deploy, before the app tightened its schema.
    const { cache: old, clock } = await openCache({ indexedDB, name });
    await old.set('track_metadata', 'k', { released: 1999 });
    await old.close();
    const { cache } = await openCache({ indexedDB, name, clock, schemas: { track_metadata: z.object({ year: z.number() }) } });
    const leaving = new AbortController();
    const fetcher = vi.fn(() => ({ year: 2001 }));
    const call = cache.getOrSet('track_metadata', 'k', fetcher, { signal: leaving.signal });
    // Its read is under way.
    leaving.abort();
    expect(isCacheError(await rejection(call), 'aborted')).toBe(true);
    await vi.waitFor(async () => expect((await cache.stats()).types.track_metadata).toMatchObject({ corrupt: 1, entries: 0, hits: 0, misses: 1 }));
    expect(fetcher).not.toHaveBeenCalled();
  });
});

describe('a write of the key another tab made during a fetch wins, as far as this tab heard of it (hints)', () => {
  const type = 'track_metadata';
  it.each([
    ['set', (cache: Cache) => cache.set(type, 'k', 'written'), ['k'], 'written'],
    ['delete', (cache: Cache) => cache.delete(type, 'k'), ['k'], undefined],
    // More keys than a change names: heard as "any key of the type".
    ['setMany of many keys', (cache: Cache) => cache.setMany(type, Array.from({ length: 150 }, (_, index) => ({ key: index === 0 ? 'k' : `k${index}`, value: index === 0 ? 'written' : index }))), null, 'written'],
  ] as const)('a %s of another tab, heard while fetching', async (_, write, keys, written) => {
    const { cache, indexedDB, name, clock } = await openCache();
    const { cache: other } = await openCache({ indexedDB, name, clock });
    await cache.set(type, 'k', 'before');
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = cache.resolve(type, 'k', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const heard = new Promise<CacheChange>((resolve) => cache.watch(type, 'k', (change) => change.source === 'remote' && resolve(change)));
    await write(other);
    expect((await heard).keys).toEqual(keys);
    const second = cache.resolve(type, 'k', async () => 'fetched after the write');
    reply.open('fetched before the write');
    expect(await first).toEqual({ value: 'fetched before the write', source: 'fetch' });
    expect(await second).toEqual(written === undefined ? { value: 'fetched after the write', source: 'fetch' } : { value: written, source: 'cache' });
    expect(await other.get(type, 'k')).toBe(written ?? 'fetched after the write');
  });
});

// Messages are hints; IndexedDB is the truth (SPEC §4): a tab that lost the message of another tab's write still leaves it.
describe('a write of the key another tab made during a fetch, whose message this tab lost', () => {
  it.each([
    ['a miss', undefined],
    ['forceFresh', { forceFresh: true }],
  ] as const)('%s: the fetch answers its callers, and the write stays', async (_, options) => {
    const type = 'track_metadata';
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: writer } = await engineTab({ name, indexedDB });
    const lossy = lossyChannel(name);
    const { cache: fetching } = await engineTab({ name, indexedDB, openChannel: lossy.open });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.resolve(type, 'k', fetcher, options);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await writer.set(type, 'k', 'written');
    reply.open('fetched before the write');
    expect(await first).toEqual({ value: 'fetched before the write', source: 'fetch' });
    expect(await writer.get(type, 'k')).toBe('written');
    expect(await fetching.get(type, 'k')).toBe('written');
  });

  it('a background refresh of a stale entry: the write stays', async () => {
    const type = 'track_metadata';
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: writer } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
    const lossy = lossyChannel(name);
    const { cache: fetching, logger } = await engineTab({ name, indexedDB, openChannel: lossy.open, engine: { now: clock.now } });
    await writer.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    expect(await fetching.resolve(type, 'k', fetcher, { staleWhileRevalidateSeconds: 60 })).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await writer.set(type, 'k', 'written');
    reply.open('refreshed before the write');
    // The refresh's write, had it been made.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await writer.get(type, 'k')).toBe('written');
    expect(logger.error).not.toHaveBeenCalled();
  });
});

// Another tab's removal of the key during a fetch stays removed, its message lost or not: the fetch brought
// what the key held before it (TanStack Query drops the fetch of a query removed meanwhile).
describe('a removal of the key another tab made during a fetch, whose message this tab lost', () => {
  const type = 'track_metadata';
  const removals = [
    ['delete', (cache: Cache) => cache.delete(type, 'k')],
    ['deleteMany', (cache: Cache) => cache.deleteMany(type, ['k', 'other'])],
    ['clear of the type', (cache: Cache) => cache.clear(type)],
    ['event of its track', (cache: Cache) => cache.emit({ eventType: 'manual_invalidation', trackId: 't1' })],
  ] as const;

  it.each(removals)('forceFresh, %s: the fetch answers its callers, and the key stays empty', async (_, remove) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: remover } = await engineTab({ name, indexedDB });
    const lossy = lossyChannel(name);
    const { cache: fetching } = await engineTab({ name, indexedDB, openChannel: lossy.open });
    await remover.set(type, 'k', 'old', { trackId: 't1' });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.resolve(type, 'k', fetcher, { forceFresh: true, trackId: 't1' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await remove(remover);
    reply.open('fetched before the removal');
    expect(await first).toEqual({ value: 'fetched before the removal', source: 'fetch' });
    await afterItsWrite();
    expect(await remover.get(type, 'k')).toBeUndefined();
    expect(await fetching.get(type, 'k')).toBeUndefined();
  });

  it.each(removals)('a background refresh of a stale entry, %s: the key stays empty', async (_, remove) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: remover } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
    const lossy = lossyChannel(name);
    const { cache: fetching, logger } = await engineTab({ name, indexedDB, openChannel: lossy.open, engine: { now: clock.now } });
    await remover.set(type, 'k', 'old', { ttlSeconds: 10, trackId: 't1' });
    clock.advance(15_000);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    expect(await fetching.resolve(type, 'k', fetcher, { staleWhileRevalidateSeconds: 60, trackId: 't1' })).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await remove(remover);
    reply.open('refreshed before the removal');
    // The refresh's write, had it been made.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await remover.get(type, 'k')).toBeUndefined();
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('forceFresh, a delete after a full disk reset the type’s usage record (its count of deletes with it): the key stays empty', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: remover } = await engineTab({ name, indexedDB });
    const lossy = lossyChannel(name);
    const { cache: fetching } = await engineTab({ name, indexedDB, openChannel: lossy.open });
    // Used least lately: the room the full disk asks for below is made with it.
    await remover.set(type, 'filler', 'x'.repeat(1000));
    await remover.set(type, 'k', 'old');
    // The type's one delete so far.
    await remover.set(type, 'gone', 'x');
    await remover.delete(type, 'gone');
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.resolve(type, 'k', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    // A write refused as the disk is full: room is made deleting only (the type's usage record goes too), then it is written.
    const restore = failCommits(1, 'QuotaExceededError', name);
    try {
      await remover.set(type, 'other', 'y');
    } finally {
      restore();
    }
    expect(await remover.get(type, 'filler')).toBeUndefined();
    await remover.delete(type, 'k');
    reply.open('fetched before the removal');
    expect(await first).toEqual({ value: 'fetched before the removal', source: 'fetch' });
    await afterItsWrite();
    expect(await remover.get(type, 'k')).toBeUndefined();
    expect(await fetching.get(type, 'k')).toBeUndefined();
  });

  it('a background refresh of a stale entry another tab’s read removed as expired meanwhile: what it brings is stored', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: reader } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
    const lossy = lossyChannel(name);
    const { cache: fetching } = await engineTab({ name, indexedDB, openChannel: lossy.open, engine: { now: clock.now } });
    await reader.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const reply = gate<string>();
    expect(await fetching.resolve(type, 'k', () => reply.promise, { staleWhileRevalidateSeconds: 60 })).toEqual({ value: 'old', source: 'stale' });
    lossy.lose = true;
    // Past the stale-while-revalidate window: the read removes it.
    clock.advance(60_000);
    expect(await reader.get(type, 'k')).toBeUndefined();
    reply.open('refreshed');
    await vi.waitFor(async () => expect(await reader.get(type, 'k')).toBe('refreshed'));
  });
});

// The revision a read-through's mark holds is the one reads see: under a pending import, its record's prior.
describe('a read-through of a key a pending import wrote (its tab died mid-way)', () => {
  const type = 'track_metadata';

  /** Tabs of one cache with Web Locks; `importing` dies in the middle of an import that wrote k3, which stays pending (k3 reads 'old'). */
  async function pendingImport() {
    const name = uniqueName();
    const inner = new IDBFactory();
    const registry = fakeLocks();
    const open = async (openChannel?: ReturnType<typeof lossyChannel>['open']) => {
      const tab = tabFactory(inner);
      const agent = registry.agent();
      const opened = await engineTab({ name, indexedDB: tab.factory, openChannel, engine: { importChunk: 10, locks: agent.locks } });
      return { ...opened, kill: () => (tab.kill(), agent.kill(), void opened.engine.close()) };
    };
    const writer = await open();
    const importing = await open();
    const lossy = lossyChannel(name);
    const fetching = await open(lossy.open);
    await writer.cache.set(type, 'k3', 'old');
    let steps = 0;
    const entries = Array.from({ length: 100 }, (_, index) => ({ key: `k${index}`, value: `imported${index}` }));
    await importing.cache.setMany(type, entries, { onProgress: () => void (++steps === 5 && importing.kill()) }).catch(() => {});
    expect(await writer.cache.get(type, 'k3')).toBe('old');
    return { writer, fetching, lossy };
  }

  it('forceFresh, the import rolled back meanwhile: what it fetched is stored', async () => {
    const { writer, fetching } = await pendingImport();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.cache.resolve(type, 'k3', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // The dead import is rolled back (its Web Lock is free): k3 holds 'old' again, as reads saw it all along.
    await writer.cache.stats();
    reply.open('fresh');
    expect(await first).toEqual({ value: 'fresh', source: 'fetch' });
    expect(await writer.cache.get(type, 'k3')).toBe('fresh');
    expect(await fetching.cache.get(type, 'k3')).toBe('fresh');
  });

  it('forceFresh, another tab set the key meanwhile (its message lost): the write stays', async () => {
    const { writer, fetching, lossy } = await pendingImport();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.cache.resolve(type, 'k3', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await writer.cache.set(type, 'k3', 'written');
    reply.open('fetched before the write');
    expect(await first).toEqual({ value: 'fetched before the write', source: 'fetch' });
    expect(await writer.cache.get(type, 'k3')).toBe('written');
    expect(await fetching.cache.get(type, 'k3')).toBe('written');
  });
});

describe('many read-throughs at once', () => {
  it.each([
    ['in-process', () => openCache()],
    ['in a worker', () => openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now })],
  ] as const)('%s: twenty getOrSets waiting together, on one caller signal, make Node warn of no listener leak', async (_, open) => {
    const warnings: string[] = [];
    const warned = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', warned);
    try {
      const { cache } = await open();
      const controller = new AbortController();
      const answer = gate<void>();
      const calls = Array.from({ length: 20 }, (_, index) =>
        cache.getOrSet('generic', `k${index}`, async () => (await answer.promise, index), { signal: controller.signal }),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer.open();
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, index) => index));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning'))).toEqual([]);
      await cache.close();
    } finally {
      process.off('warning', warned);
    }
  });
});

describe('a fetcher that returns a thenable (a query builder’s, not a Promise)', () => {
  it('is awaited: what it brings is checked by the schema, stored and returned', async () => {
    const { cache } = await openCache({ schemas: { album_year: z.object({ year: z.string().transform(Number) }) } });
    const thenable: PromiseLike<{ year: string }> = { then: (onFulfilled, onRejected) => Promise.resolve({ year: '1999' }).then(onFulfilled, onRejected) };
    expect(await cache.resolve('album_year', 'k', () => thenable)).toEqual({ value: { year: 1999 }, source: 'fetch' });
    expect(await cache.get('album_year', 'k')).toEqual({ year: 1999 });
  });
});

describe.each(['track_metadata', 'generic'] as const)('%s: a value another deploy’s tab fetched, which this tab’s schema refuses', (type) => {
  it('is neither stored nor returned here, nor an error: this tab fetches for itself, whether that tab stored it where this one reads or sent it', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    // The old deploy's tab and the new one's: the app changed the type's format between them.
    const { cache: older, clock } = await openCache({ indexedDB, name, schemas: { [type]: z.object({ released: z.number() }) } });
    const { cache: newer } = await openCache({ indexedDB, name, clock, schemas: { [type]: z.object({ year: z.number() }) } });
    const reply = gate<{ released: number }>();
    const fetchOld = vi.fn(() => reply.promise);
    const first = older.resolve(type, 'k', fetchOld);
    await vi.waitFor(() => expect(fetchOld).toHaveBeenCalledTimes(1));
    const fetchNew = vi.fn(() => ({ year: 2001 }));
    const second = newer.resolve(type, 'k', fetchNew);
    // Its read missed, and its fetch waits for the key (the older tab's holds it).
    await vi.waitFor(async () => expect((await newer.stats()).types[type].misses).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    reply.open({ released: 1999 });
    expect(await first).toEqual({ value: { released: 1999 }, source: 'fetch' });
    expect(await second).toEqual({ value: { year: 2001 }, source: 'fetch' });
    expect(fetchNew).toHaveBeenCalledTimes(1);
    expect(await newer.get(type, 'k')).toEqual({ year: 2001 });
  });
});

describe.each(['in its tab', 'in another tab'] as const)('generic made fingerprint-based (a memory type): a call with another fingerprint than the fetch under way for its key, %s', (where) => {
  it('does not take that fetch’s value (a miss for its fingerprint): it fetches for its own, stored with it', async () => {
    const config = { caching: { policies: { generic: { invalidationStrategy: 'fingerprint_based' as const } } } };
    const [F, G] = ['f'.repeat(64), 'a'.repeat(64)];
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache, clock } = await openCache({ indexedDB, name, config });
    const other = where === 'in its tab' ? cache : (await openCache({ indexedDB, name, clock, config })).cache;
    const forF = gate<string>();
    const fetchF = vi.fn(() => forF.promise);
    const first = cache.resolve('generic', 'k', fetchF, { fingerprint: F });
    await vi.waitFor(() => expect(fetchF).toHaveBeenCalledTimes(1));
    const fetchG = vi.fn(() => 'for G');
    const second = other.resolve('generic', 'k', fetchG, { fingerprint: G });
    // Its read missed, and its fetch waits for the key (F's holds it).
    await vi.waitFor(async () => expect((await other.stats()).types.generic.misses).toBe(where === 'in its tab' ? 2 : 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    forF.open('for F');
    expect(await first).toEqual({ value: 'for F', source: 'fetch' });
    expect(await second).toEqual({ value: 'for G', source: 'fetch' });
    expect(await other.get('generic', 'k', { fingerprint: G })).toBe('for G');
  });
});

describe.each(['in process', 'with a worker'] as const)('a resolve whose staleWhileRevalidateSeconds is longer than the policy’s, %s', (mode) => {
  it.each(['generic', 'track_metadata'] as const)('%s: serves the entry past the policy’s window; its refresh reads the key again under its lock, which keeps it (within the call’s window): it is written over, never expired', async (type) => {
    const clock = fakeClock();
    const config = { caching: { policies: { [type]: { ttlSeconds: 10 } } } };
    const { cache } =
      mode === 'in process' ? await openCache({ clock, config }) : await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: clock.now, config });
    await cache.set(type, 'k', 'old');
    const kinds: string[] = [];
    cache.watch(type, 'k', (change) => void kinds.push(change.kind));
    clock.advance(20_000);
    const refreshed = gate<void>();
    const fetcher = vi.fn(async () => (refreshed.open(), 'new'));
    expect(await cache.resolve(type, 'k', fetcher, { staleWhileRevalidateSeconds: 60 })).toEqual({ value: 'old', source: 'stale' });
    await refreshed.promise;
    // Heard first: a get made before the refresh lands would read the expired entry away (the policy's window is 0).
    await vi.waitFor(() => expect(kinds).toEqual(['set']));
    expect(await cache.get(type, 'k')).toBe('new');
    expect((await cache.stats()).types[type]).toMatchObject({ expirations: 0, entries: 1 });
    await cache.close();
  });
});
