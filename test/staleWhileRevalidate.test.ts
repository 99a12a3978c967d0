// Stale while revalidate (SPEC §3b): past its TTL but within the window, getOrSet/resolve serve an
// entry at once and refresh it in the background; nothing else returns it; the sweep keeps it.
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { INFINITE_TTL, SmartCacheConfig, type CacheConfig, type FetcherContext } from '../src/index';
import type { Schemas } from '../src/Cache';
import { failCommits } from './support/faultyIndexedDB';
import { openCache, rejection } from './support/openCache';

const WINDOW = 60;
const config = (type: string): CacheConfig => ({ caching: { policies: { [type]: { staleWhileRevalidateSeconds: WINDOW } } } });

function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** An entry 5 s past its TTL, served stale by a resolve that started its background refresh; the refresh's fetcher waits for `reply`. */
async function refreshing(type: 'album_year' | 'generic', options: { schemas?: Schemas } = {}) {
  const opened = await openCache({ config: config(type), ...options });
  await opened.cache.set(type, 'k', 'old', { ttlSeconds: 10 });
  opened.clock.advance(15_000);
  let signal: AbortSignal | undefined;
  let settle: (value: string) => void = () => {};
  const fetcher = vi.fn((context: FetcherContext) => ((signal = context.signal), new Promise<string>((resolve) => (settle = resolve))));
  expect(await opened.cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  return { ...opened, fetcher, refresh: () => signal, reply: (value: string) => settle(value) };
}

describe.each(['album_year', 'generic'] as const)('%s with a 60 s window', (type) => {
  it("serves the expired entry at once ('stale'), refreshes it once in the background with the stale value, then serves the new one", async () => {
    const { cache, clock } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const contexts: FetcherContext[] = [];
    const fetcher = vi.fn(async (context: FetcherContext) => (contexts.push(context), 'new'));
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
    expect(await cache.getOrSet(type, 'k', fetcher)).toBeDefined();
    await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('new'));
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(contexts[0]?.stale).toBe('old');
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'new', source: 'cache' });
  });

  it('get, getMany, has, keys and entries never return a stale entry; the sweep keeps it until the window ends', async () => {
    const { cache, clock } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    expect(await cache.get(type, 'k')).toBeUndefined();
    expect(await cache.getMany(type, ['k'])).toEqual([undefined]);
    expect(await cache.has(type, 'k')).toBe(false);
    expect(await cache.keys(type)).toEqual([]);
    expect(await cache.entries(type)).toEqual([]);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    expect((await cache.stats()).types[type].entries).toBe(1);
    const never = vi.fn(() => new Promise<string>(() => {}));
    expect(await cache.resolve(type, 'k', never)).toEqual({ value: 'old', source: 'stale' });
    // The refresh reads the key again under its fetch lock before it fetches: past the window, that read
    // would remove the entry itself (on a loaded machine, ChannelLocks' claim takes that long).
    await vi.waitFor(() => expect(never).toHaveBeenCalledTimes(1));
    clock.advance(WINDOW * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 1, evicted: 0 });
    expect((await cache.stats()).types[type].entries).toBe(0);
  });

  it('delete and deleteMany of an entry within the window count it as deleted (a resolve would have served it) and tell it as a delete; past the window, it was not there', async () => {
    const { cache, clock } = await openCache({ config: config(type) });
    await cache.set(type, 'past', 'past', { ttlSeconds: 1 });
    clock.advance((WINDOW + 2) * 1000);
    await cache.setMany(type, ['s1', 's2'].map((key) => ({ key, value: key, ttlSeconds: 10 })));
    await cache.set(type, 'fresh', 'fresh', { ttlSeconds: 3600 });
    // s1 and s2 are 5 s past their TTL, within the window; 'past' is past it.
    clock.advance(15_000);
    const told: string[] = [];
    cache.watch(type, null, (change) => void told.push(`${change.kind} ${change.keys?.slice().sort().join(',')}`));
    expect(await cache.delete(type, 's1')).toBe(true);
    expect(await cache.deleteMany(type, ['s2', 'fresh', 'past'])).toBe(2);
    await vi.waitFor(() => expect(told.sort()).toEqual(['delete fresh,s2', 'delete s1', 'expire past']));
    expect((await cache.stats()).types[type].expirations).toBe(1);
    expect(await cache.resolve(type, 's2', () => 'new')).toEqual({ value: 'new', source: 'fetch' });
  });

  it('past the window, resolve fetches while the caller waits', async () => {
    const { cache, clock } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(10_000 + WINDOW * 1000);
    expect(await cache.resolve(type, 'k', () => 'new')).toEqual({ value: 'new', source: 'fetch' });
  });

  it('a failing refresh is logged and caches nothing: the stale entry is served until the window ends', async () => {
    const { cache, clock, logger } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const failing = vi.fn(async () => {
      throw new Error('API down');
    });
    expect(await cache.resolve(type, 'k', failing)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith(`Reprise: refreshing the stale ${type} "k" failed`, expect.objectContaining({ message: 'API down' })));
    expect(await cache.resolve(type, 'k', failing)).toEqual({ value: 'old', source: 'stale' });
  });

  it('a caller that joins the background refresh and then aborts does not stop it', async () => {
    const { cache, clock, logger } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    let refresh: AbortSignal | undefined;
    let reply!: (value: string) => void;
    const fetcher = vi.fn(({ signal }: FetcherContext) => {
      refresh = signal;
      return new Promise<string>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
        reply = resolve;
      });
    });
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // Another component asks past the window's per-call option (so it waits on the refresh), then unmounts.
    const leaving = new AbortController();
    const joined = cache.resolve(type, 'k', fetcher, { signal: leaving.signal, staleWhileRevalidateSeconds: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    leaving.abort();
    expect(await joined.catch((error: { code?: string }) => error.code)).toBe('aborted');
    reply('new');
    await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('new'));
    expect(refresh?.aborted).toBe(false);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a refresh whose fetcher never answers (and ignores its signal) holds the key only until the stale window ends: then a call of this tab or another fetches', async () => {
    const { cache, clock, indexedDB, name, logger } = await openCache({ config: config(type) });
    const { cache: other } = await openCache({ config: config(type), indexedDB, name, clock });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(10_000);
    const never = vi.fn(() => new Promise<string>(() => {}));
    // The window's end is a timer (SharedFetch's): faked, it comes once the refresh has called its fetcher, not after so many
    // ms of a machine that may take longer to get there (a mark, ChannelLocks' 25 ms claim, a read under the lock, a mark
    // again): a window that ends first stops the refresh before its fetcher (see the test below). Other timers run as time passes.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'], shouldAdvanceTime: true });
    try {
      // The policy's window, 60 s: more than the faked timers move (as time passes, and 50 ms a vi.waitFor check) before vi.waitFor gives up.
      expect(await cache.resolve(type, 'k', never)).toEqual({ value: 'old', source: 'stale' });
      await vi.waitFor(() => expect(never).toHaveBeenCalledTimes(1), { timeout: 5000 });
      clock.advance(WINDOW * 1000);
      await vi.advanceTimersByTimeAsync(WINDOW * 1000);
      const within = <T>(call: Promise<T>) => Promise.race([call, new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2000))]);
      expect(await within(other.resolve(type, 'k', () => 'fetched by the other tab', { staleWhileRevalidateSeconds: 0 }))).toEqual({ value: 'fetched by the other tab', source: 'fetch' });
      // Stored in IndexedDB by the other tab (album_year); fetched here (generic: each tab's memory).
      expect(await within(cache.getOrSet(type, 'k', () => 'fetched here', { staleWhileRevalidateSeconds: 0 }))).toBe(type === 'album_year' ? 'fetched by the other tab' : 'fetched here');
    } finally {
      vi.useRealTimers();
    }
    expect(never).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a refresh whose window ends before it calls its fetcher (a thread busy that long, a lock claimed late) stops there, unreported: the next call fetches', async () => {
    const { cache, clock, logger } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(10_000);
    const late = vi.fn(() => 'refreshed');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      expect(await cache.resolve(type, 'k', late, { staleWhileRevalidateSeconds: 0.1 })).toEqual({ value: 'old', source: 'stale' });
      // The window's timer fires before the refresh's way to its fetcher is done (ChannelLocks' 25 ms claim at least), as on a
      // thread busy for the whole window: stopped with nobody waiting on it, the refresh calls no fetcher (README "Stale while revalidate").
      clock.advance(100);
      vi.advanceTimersByTime(100);
    } finally {
      vi.useRealTimers();
    }
    expect(await cache.resolve(type, 'k', () => 'fetched', { staleWhileRevalidateSeconds: 0 })).toEqual({ value: 'fetched', source: 'fetch' });
    expect(late).not.toHaveBeenCalled();
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a refresh a caller joined, which that caller leaves once the window has ended, stops without a report: nobody waits on it, as when it ends unjoined', async () => {
    const { cache, clock, logger } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(10_000);
    const never = vi.fn(({ signal }: FetcherContext) => new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    // The window (the policy's, 60 s) ends once the refresh has called its fetcher and the other call joined it, not after so many
    // ms (see the 'never answers' test): its timer faked, other timers run as time passes.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'], shouldAdvanceTime: true });
    try {
      expect(await cache.resolve(type, 'k', never)).toEqual({ value: 'old', source: 'stale' });
      await vi.waitFor(() => expect(never).toHaveBeenCalledTimes(1), { timeout: 5000 });
      // Another component asks without a window (it waits on the refresh), past the window leaves (unmounts).
      const leaving = new AbortController();
      const joined = cache.resolve(type, 'k', never, { signal: leaving.signal, staleWhileRevalidateSeconds: 0 });
      clock.advance(WINDOW * 1000);
      await vi.advanceTimersByTimeAsync(WINDOW * 1000);
      leaving.abort();
      expect(await joined.catch((error: { code?: string }) => error.code)).toBe('aborted');
      expect(await cache.resolve(type, 'k', () => 'fetched', { staleWhileRevalidateSeconds: 0 })).toEqual({ value: 'fetched', source: 'fetch' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      vi.useRealTimers();
    }
    expect(never).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a set of the key made while the background refresh runs stays: what the refresh brings is not stored', async () => {
    const { cache, reply } = await refreshing(type);
    await cache.set(type, 'k', 'written');
    reply('refreshed');
    // The refresh's write, had it been made, within the task its fetcher answered in.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await cache.get(type, 'k')).toBe('written');
    expect(await cache.resolve(type, 'k', () => 'not called')).toEqual({ value: 'written', source: 'cache' });
  });

  it.each(['stays', 'leaves'] as const)(
    'a call the stale entry serves, made while a call without a window fetches the key, is served at once, not once that fetch answers; the entry is refreshed, by that fetch or (its caller %s) by the refresh',
    async (first) => {
      const { cache, clock, logger } = await openCache({ config: config(type) });
      await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
      clock.advance(15_000);
      const replies: ((value: string) => void)[] = [];
      const fetcher = vi.fn(
        ({ signal }: FetcherContext) =>
          new Promise<string>((resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason));
            replies.push(resolve);
          }),
      );
      // A view that shows nothing stale fetches the key; a list row, within the policy's window, asks for it meanwhile.
      const leaving = new AbortController();
      const fetching = cache.resolve(type, 'k', fetcher, { staleWhileRevalidateSeconds: 0, signal: leaving.signal });
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
      const served = cache.resolve(type, 'k', fetcher);
      expect(await Promise.race([served, new Promise((resolve) => setTimeout(() => resolve('still waiting after 1 s'), 1000))])).toEqual({ value: 'old', source: 'stale' });
      if (first === 'leaves') {
        leaving.abort();
        expect((await rejection(fetching)).code).toBe('aborted');
        // That fetch stopped (nobody waits on it): the refresh fetches.
        await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(2));
      }
      replies.at(-1)!('new');
      if (first === 'stays') expect(await fetching).toEqual({ value: 'new', source: 'fetch' });
      await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('new'));
      expect(fetcher).toHaveBeenCalledTimes(first === 'stays' ? 1 : 2);
      expect(logger.error).not.toHaveBeenCalled();
    },
  );

  it('a call the stale entry serves, while whose value is checked a forceFresh fetches the key, starts no refresh of its own: a call made after the forceFresh joins it', async () => {
    const checking = gate<void>();
    let held = true;
    // The stale value's check waits for the test once: the forceFresh is called meanwhile.
    const schemas = { [type]: z.string().refine(async (value) => value !== 'old' || !held || ((held = false), await checking.promise, true)) };
    const { cache, clock } = await openCache({ config: config(type), schemas } as { config: CacheConfig });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const served = cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(held).toBe(false));
    const fresh = cache.resolve(type, 'k', fetcher, { forceFresh: true });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    checking.open();
    expect(await served).toEqual({ value: 'old', source: 'stale' });
    const after = cache.resolve(type, 'k', () => 'not called');
    reply.open('fresh');
    expect(await fresh).toEqual({ value: 'fresh', source: 'fetch' });
    expect(await after).toEqual({ value: 'fresh', source: 'shared' });
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('close() cuts a background refresh short: its fetcher is told through its signal, and close() does not wait for it', async () => {
    const { cache, logger, refresh } = await refreshing(type);
    expect(refresh()?.aborted).toBe(false);
    await cache.close();
    expect(refresh()?.aborted).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('close() cuts short a background refresh a caller joined too: the caller rejects with closed at once, the fetcher is told', async () => {
    const { cache, logger, fetcher, refresh, reply } = await refreshing(type);
    // Past the per-call window it does not serve: it waits on the refresh.
    const joined = cache.resolve(type, 'k', fetcher, { staleWhileRevalidateSeconds: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await cache.close();
    expect(refresh()?.aborted).toBe(true);
    expect(await rejection(joined)).toMatchObject({ code: 'closed' });
    reply('new');
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('close() cuts short a background refresh that a later one for the key replaced (an event came between), not only the last', async () => {
    const { cache, clock, logger } = await openCache({ config: { caching: { policies: { [type]: { staleWhileRevalidateSeconds: WINDOW, invalidationStrategy: 'event_driven' } } } } });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const signals: AbortSignal[] = [];
    const fetcher = vi.fn(({ signal }: FetcherContext) => (signals.push(signal), new Promise<string>(() => {})));
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // An event for the type (that removes nothing here): the refresh under way may bring what it made stale, so
    // the next caller, still served the stale entry, starts a refresh of its own (which waits for the key's
    // fetch lock, held by the first).
    await cache.emit({ eventType: 'manual_invalidation', trackId: 'someone-else' });
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await cache.close();
    expect(signals[0]?.aborted).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('the per-call option: 0 turns stale serving off; a longer window than the policy serves what is still kept', async () => {
    const { cache, clock } = await openCache({ config: config(type) });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const fetched = await cache.resolve(type, 'k', () => 'fresh', { staleWhileRevalidateSeconds: 0 });
    expect(fetched).toEqual({ value: 'fresh', source: 'fetch' });
  });
});

describe('album_year: close() while a background refresh’s write waits its turn', () => {
  it('behind a set of another key whose value an async schema checks: the refresh stores nothing from then on (the stale entry stays), the set is stored', async () => {
    const checked = gate<void>();
    // The value 'slow' is checked until the test lets it through.
    const schemas = { album_year: z.string().refine(async (value) => value !== 'slow' || (await checked.promise, true)) };
    const { cache, clock, name, indexedDB, logger, reply } = await refreshing('album_year', { schemas });
    const setting = cache.set('album_year', 'other', 'slow');
    reply('refreshed');
    // The refresh's write waits for the set called before it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = cache.close();
    checked.open();
    await setting;
    await closing;
    const { cache: reopened } = await openCache({ name, indexedDB, clock, config: config('album_year') });
    expect(await reopened.get('album_year', 'other')).toBe('slow');
    expect(await reopened.resolve('album_year', 'k', () => 'fetched')).toEqual({ value: 'old', source: 'stale' });
    expect(logger.error).not.toHaveBeenCalled();
  });
});

describe('album_year: a background refresh whose write fails on a full disk, its retry after making room too', () => {
  it('is reported (quota_exceeded) and leaves the stale entry as it was: served stale again, and refreshed by the next call', async () => {
    const { cache, name, logger, reply } = await refreshing('album_year');
    // This cache's commits: its write, and the write again once room is made (deleting only, never the entry its key holds).
    const restore = failCommits(2, undefined, name);
    try {
      reply('refreshed');
      await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith('Reprise: refreshing the stale album_year "k" failed', expect.objectContaining({ code: 'quota_exceeded' })));
    } finally {
      restore();
    }
    expect(await cache.resolve('album_year', 'k', () => 'refreshed again')).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(async () => expect(await cache.get('album_year', 'k')).toBe('refreshed again'));
    expect(logger.error).toHaveBeenCalledTimes(1);
  });
});

describe('the policy field', () => {
  it('is set by config and updatePolicy, 0 by default, validated, and listed', () => {
    const smart = new SmartCacheConfig({ caching: { policies: { generic: { staleWhileRevalidateSeconds: 30 } } } });
    expect(smart.getPolicy('generic').staleWhileRevalidateSeconds).toBe(30);
    expect(smart.getPolicy('album_year').staleWhileRevalidateSeconds).toBe(0);
    expect(smart.updatePolicy('album_year', { staleWhileRevalidateSeconds: 3600 }).staleWhileRevalidateSeconds).toBe(3600);
    expect(smart.getAllPolicies().album_year.staleWhileRevalidateSeconds).toBe(3600);
    expect(new SmartCacheConfig(smart.toJSON()).getPolicy('album_year').staleWhileRevalidateSeconds).toBe(3600);
    for (const bad of [-1, Number.NaN, '60']) {
      expect(() => new SmartCacheConfig({ caching: { policies: { generic: { staleWhileRevalidateSeconds: bad as number } } } })).toThrowError(
        expect.objectContaining({ code: 'invalid_config' }),
      );
    }
  });

  it('takes Infinity, as ttlSeconds does (`staleTime: Infinity` in TanStack terms): kept as INFINITE_TTL, a number JSON keeps, in config, updatePolicy and the per-call option', async () => {
    const smart = new SmartCacheConfig({ caching: { policies: { generic: { staleWhileRevalidateSeconds: Infinity } } } });
    expect(smart.getPolicy('generic').staleWhileRevalidateSeconds).toBe(INFINITE_TTL);
    expect(smart.updatePolicy('album_year', { staleWhileRevalidateSeconds: Infinity }).staleWhileRevalidateSeconds).toBe(INFINITE_TTL);
    expect(new SmartCacheConfig(JSON.parse(JSON.stringify(smart.toJSON()))).getPolicy('album_year').staleWhileRevalidateSeconds).toBe(INFINITE_TTL);
    for (const options of [{ config: { caching: { policies: { generic: { staleWhileRevalidateSeconds: Infinity } } } } }, {}]) {
      const { cache, clock } = await openCache(options);
      await cache.set('generic', 'k', 'old', { ttlSeconds: 10 });
      // A year past its TTL, and a sweep: still kept, and served stale while it is refreshed.
      clock.advance(365 * 24 * 3600 * 1000);
      if ('config' in options) expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
      expect(await cache.resolve('generic', 'k', () => 'new', { staleWhileRevalidateSeconds: Infinity })).toEqual({ value: 'old', source: 'stale' });
      await vi.waitFor(async () => expect(await cache.get('generic', 'k')).toBe('new'));
    }
  });

  it('without a policy window, a per-call window serves an expired entry still kept (nothing swept or read it away yet), and refreshes it', async () => {
    const { cache, clock } = await openCache();
    await cache.set('generic', 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    expect(await cache.resolve('generic', 'k', () => 'new', { staleWhileRevalidateSeconds: 30 })).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(async () => expect(await cache.get('generic', 'k')).toBe('new'));
  });

  it.each(['album_year', 'generic'] as const)(
    'without a policy window, %s: the background refresh a per-call window started keeps the entry it refreshes, served stale while it runs and after it fails',
    async (type) => {
      const { cache, clock, logger } = await openCache();
      await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
      clock.advance(15_000);
      let fail!: (error: Error) => void;
      const refreshing = vi.fn(() => new Promise<string>((_, reject) => (fail = reject)));
      const window = { staleWhileRevalidateSeconds: 600 };
      expect(await cache.resolve(type, 'k', refreshing, window)).toEqual({ value: 'old', source: 'stale' });
      await vi.waitFor(() => expect(refreshing).toHaveBeenCalledTimes(1));
      expect(await cache.resolve(type, 'k', () => 'other', window)).toEqual({ value: 'old', source: 'stale' });
      fail(new Error('network down'));
      await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith(`Reprise: refreshing the stale ${type} "k" failed`, expect.objectContaining({ message: 'network down' })));
      expect((await cache.stats()).types[type].expirations).toBe(0);
      expect(await cache.resolve(type, 'k', () => 'new', window)).toEqual({ value: 'old', source: 'stale' });
      await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('new'));
    },
  );

  it("without a policy window, another tab asking within its per-call window while a tab's background refresh runs is served the stale entry, and never gets that refresh's failure", async () => {
    const a = await openCache();
    const b = await openCache({ clock: a.clock, name: a.name, indexedDB: a.indexedDB });
    await a.cache.set('album_year', 'k', 'old', { ttlSeconds: 10 });
    a.clock.advance(15_000);
    let fail!: (error: Error) => void;
    const refreshing = vi.fn(() => new Promise<string>((_, reject) => (fail = reject)));
    const window = { staleWhileRevalidateSeconds: 600 };
    expect(await a.cache.resolve('album_year', 'k', refreshing, window)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(refreshing).toHaveBeenCalledTimes(1));
    const other = vi.fn(() => new Promise<string>(() => {}));
    expect(await b.cache.resolve('album_year', 'k', other, window)).toEqual({ value: 'old', source: 'stale' });
    fail(new Error('network down'));
    await vi.waitFor(() => expect(a.logger.error).toHaveBeenCalledTimes(1));
    expect(await b.cache.resolve('album_year', 'k', other, window)).toEqual({ value: 'old', source: 'stale' });
    await a.cache.close();
    await b.cache.close();
  });

  it('without a policy window, an expired entry that a get has read away is fetched', async () => {
    const { cache, clock } = await openCache();
    await cache.set('generic', 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    expect(await cache.get('generic', 'k')).toBeUndefined();
    expect(await cache.resolve('generic', 'k', () => 'new', { staleWhileRevalidateSeconds: 30 })).toEqual({ value: 'new', source: 'fetch' });
  });
});
