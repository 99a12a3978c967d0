// One fetch per key for all tabs (SPEC §3b): tabs simulated in one Node process, on one fake
// IndexedDB, with Web Locks after the spec (test/simulation/SimLocks) and Node's BroadcastChannel.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { ChannelLocks } from '../src/ChannelLocks';
import { FetchLocks, type FetchChannel } from '../src/FetchLocks';
import { z } from 'zod';
import { CacheError, createCache, isCacheError, type CacheConfig, type ContentType, type FetcherContext, type Schemas } from '../src/index';
import { SimLocks } from './simulation/SimLocks';
import { openCache, rejection, uniqueName } from './support/openCache';
import { engineTab } from './support/engineTab';
import { onTimeChannels } from './support/onTimeChannels';
import { checkedChannel } from '../src/checkedChannel';
import type { OpenTabChannel } from '../src/TabChannel';

async function openTabs(
  count: number,
  options: {
    locks?: SimLocks | null;
    wrapLocks?: (locks: LockManager, index: number) => LockManager;
    /** One for every tab, or each tab's (tabs of different deploys, or a tab patched by updatePolicy). */
    config?: CacheConfig | ((index: number) => CacheConfig);
    openChannel?: (name: string, index: number) => OpenTabChannel | undefined;
    /** Without Web Locks: the channel a tab's locks talk over (Node's BroadcastChannel by default). */
    lockChannel?: (name: string, index: number) => FetchChannel;
    /** The channel a tab hears the fetching tab's outcome on (Node's BroadcastChannel by default). */
    fetchChannel?: (name: string, index: number) => FetchChannel;
    /** The tabs' clock (epoch milliseconds): one for all, as tabs of one browser share it. */
    now?: () => number;
    /** Each tab's value schemas. */
    schemas?: (index: number) => Schemas;
  } = {},
) {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const locks = options.locks === undefined ? new SimLocks() : options.locks;
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const logger = { error: vi.fn() };
      const fetchLocks = new FetchLocks({
        logger,
        name,
        // Without Web Locks: locks over a channel, as createCache makes them there.
        locks: locks
          ? (options.wrapLocks ?? ((manager) => manager))(locks.manager(`tab${index}`), index)
          : new ChannelLocks(() => options.lockChannel?.(name, index) ?? new BroadcastChannel(`reprise-locks:${name}`)),
        openChannel: () => options.fetchChannel?.(name, index) ?? new BroadcastChannel(`reprise-fetch:${name}`),
      });
      const { cache } = await engineTab({ name, indexedDB, fetchLocks, config: typeof options.config === 'function' ? options.config(index) : options.config, schemas: options.schemas?.(index), openChannel: options.openChannel?.(name, index), engine: { now: options.now } });
      return { cache, tab: `tab${index}`, locks, logger, name };
    }),
  );
}

/** What a promise has come to within `ms` of real time: its value, its error's code, or still pending. */
async function within(ms: number, promise: Promise<unknown>) {
  const timer = new Promise((resolve) => setTimeout(() => resolve('still pending'), ms));
  return Promise.race([promise.then((value) => ({ value }), (error: { code?: string }) => ({ code: error.code })), timer]);
}

function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

/** Three tabs resolving one key of `type` at once, the fetch answering once all wait: each tab's cache, and the fetcher. */
async function threeAskingAtOnce(type: ContentType, options?: { ttlSeconds: number }) {
  const tabs = await openTabs(3);
  const reply = gate<{ year: number }>();
  const fetcher = vi.fn(() => reply.promise);
  const calls = tabs.map(({ cache }) => cache.resolve(type, 'k', fetcher, options));
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  reply.open({ year: 1999 });
  const results = await Promise.all(calls);
  expect(results.map((result) => result.value)).toEqual([{ year: 1999 }, { year: 1999 }, { year: 1999 }]);
  expect(results.map((result) => result.source).sort()).toEqual(['fetch', 'shared', 'shared']);
  expect(fetcher).toHaveBeenCalledTimes(1);
  return tabs;
}

it("generic (in memory) with a ttlSeconds of 0 (stored already expired): three tabs asking at once call the fetcher once, the others get its value in the message, 'shared'", async () => {
  for (const { cache } of await threeAskingAtOnce('generic', { ttlSeconds: 0 })) expect(await cache.has('generic', 'k')).toBe(false);
});

describe.each<ContentType>(['album_year', 'generic'])('%s across three tabs', (type) => {
  it("three tabs asking at once call the fetcher once in total: 'fetch' once, 'shared' twice, every tab holds the value", async () => {
    for (const { cache } of await threeAskingAtOnce(type)) expect(await cache.get(type, 'k')).toEqual({ year: 1999 });
  });

  it('a failing shared fetch reaches every caller in every tab, and caches nothing', async () => {
    const tabs = await openTabs(3);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const calls = tabs.flatMap(({ cache }) => [cache.getOrSet(type, 'k', fetcher), cache.getOrSet(type, 'k', fetcher)]);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.fail(Object.assign(new Error('API down'), { name: 'ApiError' }));
    for (const call of calls) expect(await rejection(call)).toMatchObject({ name: 'ApiError', message: 'API down' });
    expect(fetcher).toHaveBeenCalledTimes(1);
    for (const { cache } of tabs) expect(await cache.has(type, 'k')).toBe(false);
  });

  it('a CacheError from the fetching tab keeps its code in the others', async () => {
    const tabs = await openTabs(2);
    const reply = gate<unknown>();
    const fetcher = vi.fn(() => reply.promise);
    const calls = tabs.map(({ cache }) => cache.getOrSet(type, 'k', fetcher));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.open(undefined);
    for (const call of calls) expect(isCacheError(await rejection(call), 'invalid_value')).toBe(true);
  });

  // These codes tell of the cache that throws them (closed, its worker died, its storage full or gone) or of the call (its
  // signal aborted: another cache's call the fetcher gave a timeout): a caller of another tab, or one that joined, would read
  // them as its own cache's state (and stop using it) or as its own signal's abort (and ignore the failure).
  it.each(['quota_exceeded', 'closed', 'worker_failed', 'storage_unavailable', 'aborted'] as const)(
    'a fetcher that rejects with a CacheError %s of its own (from another Reprise cache it reads through): its caller gets it; every other caller in every tab gets the fetch’s failure with it as cause, not that code; the fetcher runs once',
    async (code) => {
      const tabs = await openTabs(3);
      const reply = gate<string>();
      const fetchers = tabs.map(() => vi.fn(() => reply.promise));
      const calls = tabs.map(({ cache }, index) => cache.getOrSet(type, 'k', fetchers[index]!));
      await vi.waitFor(() => expect(fetchers.flatMap((fetcher) => fetcher.mock.calls)).toHaveLength(1));
      // One that joins the fetch in each tab.
      calls.push(...tabs.map(({ cache }, index) => cache.getOrSet(type, 'k', fetchers[index]!)));
      const thrown = new CacheError(code, 'the session cache says so');
      reply.fail(thrown);
      const owner = fetchers.findIndex((fetcher) => fetcher.mock.calls.length === 1);
      const errors = await Promise.all(calls.map(rejection));
      expect(errors[owner]).toBe(thrown);
      for (const error of errors.filter((_, index) => index !== owner)) {
        expect(isCacheError(error, code)).toBe(false);
        expect(error.cause).toMatchObject({ name: 'CacheError', code, message: 'the session cache says so' });
        expect(error.message).toContain('the session cache says so');
      }
      expect(fetchers.flatMap((fetcher) => fetcher.mock.calls)).toHaveLength(1);
      for (const { cache } of tabs) expect(await cache.has(type, 'k')).toBe(false);
    },
  );

  it('when every caller of the fetching tab leaves, its fetch aborts and a waiting tab fetches for itself', async () => {
    const tabs = await openTabs(2);
    const leaving = new AbortController();
    const signals: AbortSignal[] = [];
    const fetcher = vi.fn(
      ({ signal }: FetcherContext) =>
        new Promise<string>((resolve, reject) => {
          signals.push(signal);
          if (signals.length > 1) resolve('from the second tab');
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const first = tabs[0]!.cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = tabs[1]!.cache.resolve(type, 'k', fetcher);
    leaving.abort();
    expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
    expect(await second).toEqual({ value: 'from the second tab', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('a caller that leaves while its tab waits for another tab’s fetch rejects with aborted; nothing is reported', async () => {
    const tabs = await openTabs(2);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = tabs[0]!.cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const leaving = new AbortController();
    const second = tabs[1]!.cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    // Its tab's request for the lock is queued behind the fetching tab's.
    await vi.waitFor(async () => expect((await tabs[1]!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    leaving.abort();
    expect(isCacheError(await rejection(second), 'aborted')).toBe(true);
    reply.open('v');
    expect(await first).toEqual({ value: 'v', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(tabs[1]!.logger.error).not.toHaveBeenCalled();
  });

  it('a fetcher that ignores its signal and never answers holds up no later call once its callers left: the next one, in its tab or another, fetches', async () => {
    const tabs = await openTabs(2);
    // Like fetch(url) without the signal, to a server that never answers.
    const hung = vi.fn(() => new Promise<string>(() => {}));
    const leaving = new AbortController();
    const first = tabs[0]!.cache.resolve(type, 'k', hung, { signal: leaving.signal });
    await vi.waitFor(() => expect(hung).toHaveBeenCalledTimes(1));
    leaving.abort();
    expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
    const late = (call: Promise<unknown>) => Promise.race([call, new Promise((resolve) => setTimeout(() => resolve('still waiting after 1 s'), 1000))]);
    expect(await late(tabs[0]!.cache.resolve(type, 'k', () => 'again here'))).toEqual({ value: 'again here', source: 'fetch' });
    await tabs[0]!.cache.delete(type, 'k');
    expect(await late(tabs[1]!.cache.resolve(type, 'k', () => 'in the other tab'))).toEqual({ value: 'in the other tab', source: 'fetch' });
  });

  it('when the fetching tab dies, a waiting tab fetches for itself', async () => {
    const tabs = await openTabs(2);
    const fetcher = vi.fn(() => new Promise<string>(() => {}));
    void tabs[0]!.cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = tabs[1]!.cache.resolve(type, 'k', () => 'mine');
    tabs[0]!.locks!.kill('tab0');
    expect(await second).toEqual({ value: 'mine', source: 'fetch' });
  });

  it('skipStore in the fetching tab: the others get its value, and nobody stores it', async () => {
    const tabs = await openTabs(2);
    const reply = gate<string>();
    const fetcher = vi.fn((context: FetcherContext) => (context.skipStore(), reply.promise));
    const calls = tabs.map(({ cache }) => cache.resolve(type, 'k', fetcher));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.open('once');
    expect((await Promise.all(calls)).map((result) => result.value)).toEqual(['once', 'once']);
    expect(fetcher).toHaveBeenCalledTimes(1);
    for (const { cache } of tabs) expect(await cache.has(type, 'k')).toBe(false);
  });
});

// The waiting tabs' order: tab c's request came before tab b's; tab c's message reaches tab b after its lock (nothing orders the two).
it("generic (a memory type): a tab waiting behind two others, the first of which every caller left and the second fetched, takes the second's value though its message comes 100 ms after the lock: the fetcher runs once after the first", async () => {
  // Tab b's fetch channel, holding what it hears while `late` is set.
  const late = { on: false, held: [] as (() => void)[] };
  const lateChannel = (name: string): FetchChannel => {
    const channel = new BroadcastChannel(`reprise-fetch:${name}`);
    return {
      postMessage: (message) => channel.postMessage(message),
      addEventListener: (type, listener) => channel.addEventListener(type, (event) => (late.on ? late.held.push(() => listener(event as MessageEvent)) : listener(event as MessageEvent))),
      close: () => channel.close(),
    };
  };
  const tabs = await openTabs(3, { fetchChannel: (name, index) => (index === 2 ? lateChannel(name) : new BroadcastChannel(`reprise-fetch:${name}`)) });
  const [a, c, b] = tabs.map((tab) => tab.cache);
  const pending = async (count: number) => vi.waitFor(async () => expect((await tabs[0]!.locks!.manager('observer').query()).pending).toHaveLength(count));
  const leaving = new AbortController();
  const hung = vi.fn(() => new Promise<string>(() => {}));
  const first = a!.resolve('generic', 'k', hung, { signal: leaving.signal });
  await vi.waitFor(() => expect(hung).toHaveBeenCalledTimes(1));
  const reply = gate<string>();
  const fetcher = vi.fn((): Promise<string> | string => (fetcher.mock.calls.length === 1 ? reply.promise : 'fetched again by b'));
  const second = c!.resolve('generic', 'k', fetcher);
  await pending(1);
  const third = b!.resolve('generic', 'k', fetcher);
  await pending(2);
  leaving.abort();
  expect(isCacheError(await rejection(first), 'aborted')).toBe(true);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  late.on = true;
  reply.open('fetched by c');
  expect(await second).toEqual({ value: 'fetched by c', source: 'fetch' });
  setTimeout(() => ((late.on = false), late.held.forEach((hear) => hear())), 100);
  expect(await third).toEqual({ value: 'fetched by c', source: 'shared' });
  expect(fetcher).toHaveBeenCalledTimes(1);
});

it.each<ContentType>(['album_year', 'track_metadata'])("%s: a tab whose read missed just before another tab's fetch landed takes that value, and does not fetch again", async (type) => {
  // A loaded browser: the second tab's lock request runs only after the first tab's fetch has been stored
  // and its lock released, though its read came before that.
  const late = gate<void>();
  const asked = gate<void>();
  const tabs = await openTabs(2, {
    wrapLocks: (manager, index) =>
      index === 0 ? manager : ({ request: async (...args: Parameters<LockManager['request']>) => (asked.open(), await late.promise, manager.request(...args)), query: () => manager.query() } as unknown as LockManager),
  });
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = tabs[0]!.cache.resolve(type, 'k', fetcher);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const second = tabs[1]!.cache.resolve(type, 'k', () => 'fetched again');
  await asked.promise;
  reply.open('once');
  expect(await first).toEqual({ value: 'once', source: 'fetch' });
  late.open();
  expect((await second).value).toBe('once');
  expect(fetcher).toHaveBeenCalledTimes(1);
});

it.each([30_000, 61_000])("generic (a memory type): a tab that takes another tab's value %i ms after that tab fetched it (its lock came late, its page was frozen) keeps it only until the fetch's time + TTL", async (late) => {
  let clock = 1_800_000_000_000;
  const granted = gate<void>();
  const resumed = gate<void>();
  const tabs = await openTabs(2, {
    now: () => clock,
    // The second tab's wait for the key: the lock is granted, and its callback runs only once the page resumes.
    wrapLocks: (manager, index) =>
      index === 0
        ? manager
        : ({
            request: (name: string, options: LockOptions, callback: LockGrantedCallback<unknown>) =>
              manager.request(name, options, options.ifAvailable ? callback : async (lock) => (granted.open(), await resumed.promise, callback(lock))),
            query: () => manager.query(),
          } as unknown as LockManager),
  });
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = tabs[0]!.cache.resolve('generic', 'k', fetcher, { ttlSeconds: 60 });
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const second = tabs[1]!.cache.resolve('generic', 'k', () => 'fetched again', { ttlSeconds: 60 });
  await vi.waitFor(async () => expect((await tabs[1]!.locks!.manager('tab1').query()).pending).toHaveLength(1));
  reply.open('v');
  expect(await first).toEqual({ value: 'v', source: 'fetch' });
  await granted.promise;
  clock += late;
  resumed.open();
  expect(await second).toEqual({ value: 'v', source: 'shared' });
  expect(fetcher).toHaveBeenCalledTimes(1);
  // Within the TTL counted from the fetch, both tabs answer it; past it, neither.
  expect(await tabs[1]!.cache.get('generic', 'k')).toBe(late < 60_000 ? 'v' : undefined);
  clock += 60_000 - late;
  expect([await tabs[0]!.cache.get('generic', 'k'), await tabs[1]!.cache.get('generic', 'k')]).toEqual([undefined, undefined]);
});

it("generic (a memory type): a tab that takes another tab's value keeps it for that tab's TTL, not for the one its own call gave", async () => {
  let clock = 1_800_000_000_000;
  const tabs = await openTabs(2, { now: () => clock });
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = tabs[0]!.cache.resolve('generic', 'k', fetcher, { ttlSeconds: 60 });
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const second = tabs[1]!.cache.resolve('generic', 'k', () => 'fetched again', { ttlSeconds: 3600 });
  await vi.waitFor(async () => expect((await tabs[1]!.locks!.manager('tab1').query()).pending).toHaveLength(1));
  reply.open('v');
  expect(await first).toEqual({ value: 'v', source: 'fetch' });
  expect(await second).toEqual({ value: 'v', source: 'shared' });
  // Stored as the fetching tab stored it: expired a minute after the fetch in both tabs, as it would be in IndexedDB.
  clock += 61_000;
  expect([await tabs[0]!.cache.get('generic', 'k'), await tabs[1]!.cache.get('generic', 'k')]).toEqual([undefined, undefined]);
});

it("generic (a memory type): a tab that takes another tab's value, neither call giving a TTL, keeps it for the TTL that tab's policy gave it (another deploy's config, or one patched there), not its own policy's", async () => {
  let clock = 1_800_000_000_000;
  const ttlSeconds = [60, 3600];
  const tabs = await openTabs(2, { now: () => clock, config: (index) => ({ caching: { policies: { generic: { ttlSeconds: ttlSeconds[index]! } } } }) });
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = tabs[0]!.cache.resolve('generic', 'k', fetcher);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const second = tabs[1]!.cache.resolve('generic', 'k', () => 'fetched again');
  await vi.waitFor(async () => expect((await tabs[1]!.locks!.manager('tab1').query()).pending).toHaveLength(1));
  reply.open('v');
  expect(await first).toEqual({ value: 'v', source: 'fetch' });
  expect(await second).toEqual({ value: 'v', source: 'shared' });
  clock += 61_000;
  expect([await tabs[0]!.cache.get('generic', 'k'), await tabs[1]!.cache.get('generic', 'k')]).toEqual([undefined, undefined]);
});

it("generic: a value announced by a tab of an earlier deploy (its outcome tells no time) is taken, and kept a TTL from then", async () => {
  let clock = 1_800_000_000_000;
  const [{ cache, locks, name }] = (await openTabs(1, { now: () => clock })) as [Awaited<ReturnType<typeof openTabs>>[0]];
  const lock = `reprise:${name}:fetch:${JSON.stringify(['generic', 'k'])}`;
  const holding = gate<void>();
  const done = gate<void>();
  const earlier = locks!.manager('earlier').request(lock, async () => (holding.open(), await done.promise));
  await holding.promise;
  const call = cache.resolve('generic', 'k', () => 'fetched here', { ttlSeconds: 60 });
  await vi.waitFor(async () => expect((await locks!.manager('tab0').query()).pending).toHaveLength(1));
  const channel = new BroadcastChannel(`reprise-fetch:${name}`);
  channel.postMessage({ kind: 'fetched', lock, ok: true, stored: false, cached: true, value: 'then' });
  done.open();
  await earlier;
  expect(await call).toEqual({ value: 'then', source: 'shared' });
  channel.close();
  clock += 59_000;
  expect(await cache.get('generic', 'k')).toBe('then');
});

it.each<ContentType>(['album_year', 'generic'])('%s: each getOrSet counts one read in its tab’s stats, a miss when its own read missed, however its value came', async (type) => {
  const tabs = await openTabs(2);
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = tabs[0]!.cache.getOrSet(type, 'k', fetcher);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const second = tabs[1]!.cache.getOrSet(type, 'k', fetcher);
  // The second tab has read (a miss) and waits for the first tab's lock.
  await vi.waitFor(async () => expect((await tabs[1]!.locks!.manager('tab1').query()).pending).toHaveLength(1));
  reply.open('v');
  expect([await first, await second]).toEqual(['v', 'v']);
  expect(await tabs[0]!.cache.getOrSet(type, 'k', fetcher)).toBe('v');
  const counts = await Promise.all(tabs.map(async ({ cache }) => (({ hits, misses }) => ({ hits, misses }))((await cache.stats()).types[type])));
  expect(counts).toEqual([
    { hits: 1, misses: 1 },
    { hits: 0, misses: 1 },
  ]);
});

describe('album_year (fingerprints checked) across three tabs', () => {
  it('tabs waiting on a fetch for another fingerprint: the first of them to hold the key fetches and stores for its fingerprint, the next takes that (one fetch for all tabs)', async () => {
    const type = 'album_year';
    const [F, G] = ['f'.repeat(64), 'a'.repeat(64)];
    const [a, b, c] = await openTabs(3);
    const forF = gate<string>();
    const forG = gate<string>();
    const fetchF = vi.fn(() => forF.promise);
    const fetchG = vi.fn(() => forG.promise);
    const first = a!.cache.resolve(type, 'k', fetchF, { fingerprint: F });
    await vi.waitFor(() => expect(fetchF).toHaveBeenCalledTimes(1));
    const queued = async (tab: string, count: number) => vi.waitFor(async () => expect((await a!.locks!.manager(tab).query()).pending).toHaveLength(count));
    const second = b!.cache.resolve(type, 'k', fetchG, { fingerprint: G });
    await queued('tab1', 1);
    const third = c!.cache.resolve(type, 'k', fetchG, { fingerprint: G });
    await queued('tab2', 2);
    // Tab b hears of tab a's write as it holds the key, before its own fetcher answers.
    const heard = new Promise((resolve) => b!.cache.watch(type, 'k', (change) => change.source === 'remote' && resolve(change)));
    forF.open('for F');
    expect(await first).toEqual({ value: 'for F', source: 'fetch' });
    await heard;
    await vi.waitFor(() => expect(fetchG).toHaveBeenCalledTimes(1));
    forG.open('for G');
    expect(await second).toEqual({ value: 'for G', source: 'fetch' });
    expect(await third).toEqual({ value: 'for G', source: 'shared' });
    expect(fetchG).toHaveBeenCalledTimes(1);
    expect(await c!.cache.get(type, 'k', { fingerprint: G })).toBe('for G');
  });
});

describe('generic (a memory type) made hybrid (fingerprints checked) across two tabs', () => {
  it('a tab waiting on a fetch for another fingerprint does not take its value (announced on the channel): it fetches for its own', async () => {
    const type = 'generic';
    const [F, G] = ['f'.repeat(64), 'a'.repeat(64)];
    const [a, b] = await openTabs(2, { config: { caching: { policies: { generic: { invalidationStrategy: 'hybrid' } } } } });
    const forF = gate<string>();
    const fetchF = vi.fn(() => forF.promise);
    const fetchG = vi.fn(async () => 'for G');
    const first = a!.cache.resolve(type, 'k', fetchF, { fingerprint: F });
    await vi.waitFor(() => expect(fetchF).toHaveBeenCalledTimes(1));
    const second = b!.cache.resolve(type, 'k', fetchG, { fingerprint: G });
    await vi.waitFor(async () => expect((await a!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    forF.open('for F');
    expect(await first).toEqual({ value: 'for F', source: 'fetch' });
    expect(await second).toEqual({ value: 'for G', source: 'fetch' });
    expect(await b!.cache.get(type, 'k', { fingerprint: G })).toBe('for G');
  });
});


type OpenTab = Awaited<ReturnType<typeof openTabs>>[number];

/** Tab `fetching` fetches `key` (its fetcher waits on `reply`); then tab `refreshing` asks for it with forceFresh. */
async function fetchThenForceFresh(fetching: OpenTab, refreshing: OpenTab, type: ContentType = 'album_year') {
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = fetching.cache.resolve(type, 'k', fetcher);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  const fresh = vi.fn(async () => 'after the edit');
  const second = refreshing.cache.resolve(type, 'k', fresh, { forceFresh: true });
  return { reply, fetcher, first, fresh, second };
}

// A refresh button after an edit: a fetch another tab started before may have asked before the edit, and bring what it replaced.
describe.each([
  ['Web Locks', undefined],
  ['locks over the channel', null],
] as const)('forceFresh while another tab fetches the key, %s', (_, locks) => {
  it.each<ContentType>(['album_year', 'generic'])('%s: it does not take that fetch: it fetches once, the earlier callers get their fetch, and its value stays in every tab', async (type) => {
    const [fetching, refreshing] = await openTabs(2, { locks });
    const { reply, first, fresh, second } = await fetchThenForceFresh(fetching!, refreshing!, type);
    // Until it waits for the fetching tab's lock (over the channel: once its 25 ms claim heard the holder).
    if (locks === undefined) await vi.waitFor(async () => expect((await fetching!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    else await new Promise((resolve) => setTimeout(resolve, 150));
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    expect(fresh).toHaveBeenCalledTimes(1);
    expect(await refreshing!.cache.get(type, 'k')).toBe('after the edit');
    // A memory type's value stays in the tabs that fetched it (here the refreshing one); a persistent type's in every tab.
    if (type === 'album_year') expect(await fetching!.cache.get(type, 'k')).toBe('after the edit');
  });

  // The fetching tab's write reaches the other tabs on the cache's channel, its lock's release through the browser's Web
  // Locks (or the lock channel): nothing orders the two, and the write's message may come once the forceFresh fetcher was called.
  it("its value stays when the earlier fetch's write is heard only after its fetcher was called", async () => {
    const { held, openChannel } = holdingChannel(1);
    const [fetching, refreshing] = await openTabs(2, { locks, openChannel });
    const reply = gate<string>();
    const earlier = vi.fn(() => reply.promise);
    const first = fetching!.cache.resolve('album_year', 'k', earlier);
    await vi.waitFor(() => expect(earlier).toHaveBeenCalledTimes(1));
    const fresh = gate<string>();
    const fetcher = vi.fn(() => fresh.promise);
    held.on = true;
    const second = refreshing!.cache.resolve('album_year', 'k', fetcher, { forceFresh: true });
    if (locks === undefined) await vi.waitFor(async () => expect((await fetching!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    else await new Promise((resolve) => setTimeout(resolve, 150));
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(held.messages.length).toBeGreaterThan(0));
    held.on = false;
    for (const [listener, event] of held.messages.splice(0)) listener(event);
    fresh.open('after the edit');
    expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    expect(await refreshing!.cache.get('album_year', 'k')).toBe('after the edit');
    expect(await fetching!.cache.get('album_year', 'k')).toBe('after the edit');
  });

  it('two tabs refreshing at once each fetch once, one after the other: no more, and the later value stays', async () => {
    const [a, b] = await openTabs(2, { locks });
    await a!.cache.set('album_year', 'k', 'old');
    const fetchers = ['from a', 'from b'].map((value) => vi.fn(async () => value));
    const calls = [a!.cache.resolve('album_year', 'k', fetchers[0]!, { forceFresh: true }), b!.cache.resolve('album_year', 'k', fetchers[1]!, { forceFresh: true })];
    const results = await Promise.all(calls);
    expect(results.map(({ source }) => source)).toEqual(['fetch', 'fetch']);
    expect(fetchers.map((fetcher) => fetcher.mock.calls.length)).toEqual([1, 1]);
    const stored = await a!.cache.get('album_year', 'k');
    expect(['from a', 'from b']).toContain(stored);
    expect(await b!.cache.get('album_year', 'k')).toBe(stored);
  });
});

// A claim heard late lets two tabs fetch at once (README "Reading through"): the lock holds no data, so the forceFresh value must stay all the same.
describe.each([
  ['without Web Locks, the fetching tab busy (a long task) as the claim comes: it answers 60 ms late', null],
  ['its Web Lock request refused (a detached iframe)', undefined],
] as const)('forceFresh while another tab fetches the key, two fetching at once: %s', (_, locks) => {
  it.each([
    ["the earlier fetch's value stored first: the forceFresh value stays", 'earlier first', 'after the edit'],
    ["the forceFresh value stored first: it stays, the earlier fetch's is left out", 'fresh first', 'after the edit'],
    ["a set of the key made once the earlier fetch stored, before the forceFresh answers: the set stays", 'set between', 'set meanwhile'],
  ] as const)('%s', async (_, order, stays) => {
    const busy = { on: false };
    const refusal = new DOMException("Failed to execute 'request' on 'LockManager': The document is not active.", 'InvalidStateError');
    const [fetching, refreshing] = await openTabs(2, {
      locks,
      wrapLocks: (manager, index) => (index === 0 ? manager : ({ request: () => Promise.reject(refusal), query: () => Promise.reject(refusal) } as unknown as LockManager)),
      lockChannel: (name, index) => {
        const channel = new BroadcastChannel(`reprise-locks:${name}`);
        return {
          postMessage: (message) => channel.postMessage(message),
          addEventListener: (type, listener) =>
            channel.addEventListener(type, (event) => (index === 0 && busy.on ? setTimeout(() => listener(event as MessageEvent), 60) : listener(event as MessageEvent))),
          close: () => channel.close(),
        };
      },
    });
    const reply = gate<string>();
    const earlier = vi.fn(() => reply.promise);
    const first = fetching!.cache.resolve('album_year', 'k', earlier);
    await vi.waitFor(() => expect(earlier).toHaveBeenCalledTimes(1));
    busy.on = true;
    const edited = gate<string>();
    const fresh = vi.fn(() => edited.promise);
    const second = refreshing!.cache.resolve('album_year', 'k', fresh, { forceFresh: true });
    await vi.waitFor(() => expect(fresh).toHaveBeenCalledTimes(1));
    busy.on = false;
    if (order === 'fresh first') {
      edited.open('after the edit');
      expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    }
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    if (order === 'set between') await fetching!.cache.set('album_year', 'k', 'set meanwhile');
    edited.open('after the edit');
    expect(await second).toEqual({ value: 'after the edit', source: 'fetch' });
    for (const { cache } of [fetching!, refreshing!]) expect(await cache.get('album_year', 'k')).toBe(stays);
  });
});

describe('an ordinary call made in the tab of a forceFresh that waits on another tab’s fetch', () => {
  it("once that fetch's write was heard, before the forceFresh fetcher is called: it joins the forceFresh fetch, not the value it replaces", async () => {
    // A loaded browser: the refreshing tab's lock request runs only once the other tab's fetch was stored and its write heard.
    const late = gate<void>();
    const asked = gate<void>();
    const [fetching, refreshing] = await openTabs(2, {
      wrapLocks: (manager, index) =>
        index === 0 ? manager : ({ request: async (...args: Parameters<LockManager['request']>) => (asked.open(), await late.promise, manager.request(...args)), query: () => manager.query() } as unknown as LockManager),
    });
    const { reply, fetcher, first, fresh, second } = await fetchThenForceFresh(fetching!, refreshing!);
    await asked.promise;
    const heard = new Promise<void>((resolve) => refreshing!.cache.watch('album_year', 'k', (change) => change.source === 'remote' && resolve()));
    reply.open('before the edit');
    expect(await first).toEqual({ value: 'before the edit', source: 'fetch' });
    await heard;
    const later = refreshing!.cache.resolve('album_year', 'k', fetcher);
    late.open();
    expect(await Promise.all([second, later])).toEqual([
      { value: 'after the edit', source: 'fetch' },
      { value: 'after the edit', source: 'shared' },
    ]);
    expect([fetcher.mock.calls.length, fresh.mock.calls.length]).toEqual([1, 1]);
  });
});

describe('an ordinary call made in a third tab after a forceFresh that waits on another tab’s fetch', () => {
  it('waits for the forceFresh fetch and takes what it stored: the fetcher of neither runs again', async () => {
    const [fetching, refreshing, third] = await openTabs(3);
    const { reply, fetcher, first, fresh, second } = await fetchThenForceFresh(fetching!, refreshing!);
    const pending = async () => (await fetching!.locks!.manager('observer').query()).pending ?? [];
    await vi.waitFor(async () => expect(await pending()).toHaveLength(1));
    const later = third!.cache.resolve('album_year', 'k', fetcher);
    await vi.waitFor(async () => expect(await pending()).toHaveLength(2));
    reply.open('before the edit');
    expect(await Promise.all([first, second, later])).toEqual([
      { value: 'before the edit', source: 'fetch' },
      { value: 'after the edit', source: 'fetch' },
      { value: 'after the edit', source: 'shared' },
    ]);
    expect([fetcher.mock.calls.length, fresh.mock.calls.length]).toEqual([1, 1]);
  });
});

// README, No stale write-back: "A call made after the event or the clear (in any tab …; in this one, once it resolved …) does
// not join that fetch: it fetches again." A clear reaches a time-based memory type of another tab when its message does:
// one late there (the fetching tab's page busy) must not let a tab that cleared hand itself what was fetched before.
describe.each([
  ['with Web Locks', undefined],
  ['without Web Locks', null],
] as const)('generic (a time-based memory type), %s: a call made in a tab after its own clear(), waiting on another tab’s fetch begun before it', (_, locks) => {
  it('whose message the fetching tab has not heard yet as its fetcher answers: it fetches again, and keeps what it fetched', async () => {
    const { held, openChannel } = holdingChannel(0);
    const [fetching, clearing] = await openTabs(2, { locks, openChannel });
    const reply = gate<string>();
    const before = vi.fn(() => reply.promise);
    const first = fetching!.cache.resolve('generic', 'k', before);
    await vi.waitFor(() => expect(before).toHaveBeenCalledTimes(1));
    held.on = true;
    await clearing!.cache.clear('generic');
    const after = vi.fn(async () => 'after the clear');
    const second = clearing!.cache.resolve('generic', 'k', after);
    if (locks === null) await new Promise((resolve) => setTimeout(resolve, 150));
    else await vi.waitFor(async () => expect((await fetching!.locks!.manager('observer').query()).pending).toHaveLength(1));
    reply.open('before the clear');
    expect(await first).toEqual({ value: 'before the clear', source: 'fetch' });
    expect(await second).toEqual({ value: 'after the clear', source: 'fetch' });
    expect(await clearing!.cache.get('generic', 'k')).toBe('after the clear');
    held.on = false;
    for (const [listener, event] of held.messages.splice(0)) listener(event);
    await vi.waitFor(async () => expect(await fetching!.cache.get('generic', 'k')).toBeUndefined());
    expect(await clearing!.cache.get('generic', 'k')).toBe('after the clear');
  });
});

describe('without Web Locks (plain-http pages, Node): the tabs elect the fetching one over the channel', () => {
  // Their locks' messages on time (see onTimeChannels): late, as on a thread stalled past the claim window, two may fetch.
  const overTheChannel = (count: number) => openTabs(count, { locks: null, lockChannel: onTimeChannels() });

  it.each<ContentType>(['album_year', 'generic'])("%s: three tabs asking at once call the fetcher once: 'fetch' once, 'shared' twice", async (type) => {
    const tabs = await overTheChannel(3);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const calls = tabs.map(({ cache }) => cache.resolve(type, 'k', fetcher));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.open('v');
    const results = await Promise.all(calls);
    expect(results.map((result) => result.value)).toEqual(['v', 'v', 'v']);
    expect(results.map((result) => result.source).sort()).toEqual(['fetch', 'shared', 'shared']);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('a failing fetch reaches every caller in every tab, and caches nothing', async () => {
    const tabs = await overTheChannel(2);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const calls = Promise.allSettled(tabs.map(({ cache }) => cache.getOrSet('album_year', 'k', fetcher)));
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.fail(new Error('API down'));
    expect((await calls).map((settled) => settled.status === 'rejected' && (settled.reason as Error).message)).toEqual(['API down', 'API down']);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('skipStore: a call made in another tab once the fetching tab heard an event of that tab does not get the value fetched before it: it fetches again', async () => {
    const type = 'successful_api_metadata';
    const [fetching, other] = await overTheChannel(2);
    const reply = gate<string>();
    const fetcher = vi.fn((context: FetcherContext) => (context.skipStore(), reply.promise));
    const first = fetching!.cache.resolve(type, 'k', fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const heard = new Promise((resolve) => fetching!.cache.on('track_modified', resolve));
    await other!.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await heard;
    // Made after the event, it waits for the fetching tab's lock (claimed over the channel in 25 ms).
    const second = other!.cache.resolve(type, 'k', () => 'fresh', { trackId: 't1' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    reply.open('fetched before the event');
    expect(await first).toEqual({ value: 'fetched before the event', source: 'fetch' });
    expect(await second).toEqual({ value: 'fresh', source: 'fetch' });
  });

  it('caches of one name on different storages (an injected factory each) share no fetch; tabs on one storage do', async () => {
    const name = uniqueName();
    const [one, other] = [new IDBFactory(), new IDBFactory()];
    const open = (indexedDB: IDBFactory) => openCache({ name, indexedDB }).then(({ cache }) => cache);
    const [a, b, c] = await Promise.all([open(one), open(other), open(one)]);
    const fetcher = (value: string) => vi.fn(async () => (await new Promise((resolve) => setTimeout(resolve, 50)), value));
    const [fetchA, fetchB, fetchC] = [fetcher('a'), fetcher('b'), fetcher('c')];
    const results = await Promise.all([a.resolve('generic', 'k', fetchA), b.resolve('generic', 'k', fetchB), c.resolve('generic', 'k', fetchC)]);
    expect(results[1]).toEqual({ value: 'b', source: 'fetch' });
    expect(fetchB).toHaveBeenCalledTimes(1);
    expect(fetchA.mock.calls.length + fetchC.mock.calls.length).toBe(1);
    expect(results[0]!.value).toBe(results[2]!.value);
    expect([results[0]!.source, results[2]!.source].sort()).toEqual(['fetch', 'shared']);
  });

  it('caches with no IndexedDB at all (Node: a server rendering a request each) share no fetch, though they have one name: each answers its own fetcher', async () => {
    const name = uniqueName();
    const open = () => createCache({ name, worker: false, logger: { error: () => {} } });
    const [a, b] = await Promise.all([open(), open()]);
    const fetcher = (value: string) => vi.fn(async () => (await new Promise((resolve) => setTimeout(resolve, 50)), value));
    const [fetchA, fetchB] = [fetcher('alice'), fetcher('bob')];
    const results = await Promise.all([a.resolve('track_metadata', 'me', fetchA), b.resolve('track_metadata', 'me', fetchB)]);
    expect(results).toEqual([
      { value: 'alice', source: 'fetch' },
      { value: 'bob', source: 'fetch' },
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  // README: a lock held by a tab that dies is waited for 3.5 s at most; one frozen by the browser (a background tab, the
  // back/forward cache) comes back believing it holds the key: no worse than one fetch more, no value lost or kept stale.
  it('album_year: a tab frozen while it fetches is waited for a few seconds, then a waiting tab fetches; the frozen one, back, answers its callers with its own value, and the later fetch’s value stays in every tab', async () => {
    // Tab 0's channels while it is frozen: it says nothing (its script does not run), and what it is sent waits until it thaws.
    const frozen = { on: false, held: [] as (() => void)[] };
    const freezable = (name: string): FetchChannel => {
      const channel = new BroadcastChannel(name);
      return {
        postMessage: (message) => frozen.on || channel.postMessage(message),
        addEventListener: (type, listener) => channel.addEventListener(type, (event) => (frozen.on ? frozen.held.push(() => listener(event as MessageEvent)) : listener(event as MessageEvent))),
        close: () => channel.close(),
      };
    };
    const [a, b] = await openTabs(2, {
      locks: null,
      lockChannel: (name, index) => (index === 0 ? freezable(`reprise-locks:${name}`) : new BroadcastChannel(`reprise-locks:${name}`)),
      fetchChannel: (name, index) => (index === 0 ? freezable(`reprise-fetch:${name}`) : new BroadcastChannel(`reprise-fetch:${name}`)),
      openChannel: (name, index) => (index === 0 ? checkedChannel(() => freezable(name)) : undefined),
    });
    const reply = gate<string>();
    const fetcher = vi.fn((): Promise<string> | string => (fetcher.mock.calls.length === 1 ? reply.promise : 'from b'));
    const first = a!.cache.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = b!.cache.resolve('album_year', 'k', fetcher);
    await new Promise((resolve) => setTimeout(resolve, 150));
    frozen.on = true;
    expect(await second).toEqual({ value: 'from b', source: 'fetch' });
    frozen.on = false;
    frozen.held.splice(0).forEach((hear) => hear());
    reply.open('from a');
    expect(await first).toEqual({ value: 'from a', source: 'fetch' });
    expect(fetcher).toHaveBeenCalledTimes(2);
    for (const { cache } of [a!, b!]) expect(await cache.get('album_year', 'k')).toBe('from b');
  }, 15_000);

  it('without a channel either, each tab fetches for itself', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const tabs = await Promise.all([0, 1].map(() => engineTab({ name, indexedDB, fetchLocks: new FetchLocks({ name, locks: undefined, openChannel: undefined }) })));
    const fetcher = vi.fn(async () => 'v');
    const results = await Promise.all(tabs.map(({ cache }) => cache.resolve('generic', 'k', fetcher)));
    expect(results.map((result) => result.source)).toEqual(['fetch', 'fetch']);
  });
});

describe('Web Locks that the browser refuses (not an opaque origin)', () => {
  // A detached iframe's navigator (a document no longer fully active) rejects every request with an
  // InvalidStateError, worded as Chromium's (checked by hand); a SecurityError or AbortError can come
  // at request time too.
  it.each([
    ['InvalidStateError', "Failed to execute 'request' on 'LockManager': The document is not active."],
    ['SecurityError', "Failed to execute 'request' on 'LockManager': Access to the Locks API is denied in this context."],
    ['AbortError', 'The lock request was aborted.'],
  ])('%s: getOrSet fetches for this tab alone and resolves, said once through the logger', async (name, message) => {
    const refusal = new DOMException(message, name);
    const request = vi.fn(() => Promise.reject(refusal));
    vi.stubGlobal('navigator', { locks: { request, query: request } });
    try {
      const { cache, logger } = await openCache();
      expect(await cache.resolve('album_year', 'y', async () => 1999)).toEqual({ value: 1999, source: 'fetch' });
      expect(await cache.getOrSet('generic', 'k', async () => 1)).toBe(1);
      expect(await cache.get('album_year', 'y')).toBe(1999);
      expect(request).toHaveBeenCalled();
      // (The in-process engine's own uses of the locks, such as its import rollback at open, report theirs.)
      const said = logger.error.mock.calls.filter(([report, error]) => error === refusal && /Web Lock/.test(String(report)));
      expect(said).toHaveLength(1);
      await cache.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a request refused while another tab fetches: this tab fetches for itself', async () => {
    const refusal = new DOMException("Failed to execute 'request' on 'LockManager': The document is not active.", 'InvalidStateError');
    // The lock is taken (another tab fetches); the request to wait for it is refused.
    const request = vi.fn((_name: string, options: LockOptions, callback: (lock: Lock | null) => unknown) =>
      options.ifAvailable ? Promise.resolve(callback(null)) : Promise.reject(refusal),
    );
    vi.stubGlobal('navigator', { locks: { request } });
    try {
      const { cache, logger } = await openCache();
      expect(await cache.resolve('album_year', 'y', async () => 1999)).toEqual({ value: 1999, source: 'fetch' });
      expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/Web Lock/), refusal);
      await cache.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

// README, close(): "a getOrSet or resolve whose fetcher has not answered is cut short: … its callers reject with closed at once".
describe.each([
  ['Web Locks', undefined],
  ['locks over the channel', null],
] as const)('close() in a tab waiting on another tab’s fetch, %s', (_, locks) => {
  it('once the key is its own, the fetching tab’s message not delivered yet (its page busy): close() resolves, its caller rejects with closed at once, and its fetcher is not called', async () => {
    // The fetching tab's outcome is held back as it posts it, never delivered during the test. (Held at the waiting tab's
    // end instead, it came there only if Node dispatched it before close() closed that tab's channel: not on a loaded machine.)
    const undelivered: unknown[] = [];
    const granted = gate<void>();
    const [fetching, waiting] = await openTabs(2, {
      locks,
      fetchChannel: (name, index) => {
        const channel = new BroadcastChannel(`reprise-fetch:${name}`);
        return {
          postMessage: (message) => (index === 0 && (message as { kind?: string }).kind === 'fetched' ? undelivered.push(message) : channel.postMessage(message)),
          addEventListener: (type, listener) => channel.addEventListener(type, (event) => listener(event as MessageEvent)),
          close: () => channel.close(),
        };
      },
      // When tab 1 holds the key: its Web Lock granted, or, over the channel, its "held" said.
      wrapLocks: (manager, index) =>
        index === 0
          ? manager
          : ({
              request: (name: string, options: LockOptions, callback: LockGrantedCallback<unknown>) =>
                manager.request(name, options, options.ifAvailable ? callback : async (lock) => (granted.open(), callback(lock))),
              query: () => manager.query(),
            } as unknown as LockManager),
      lockChannel: (name, index) => {
        const channel = new BroadcastChannel(`reprise-locks:${name}`);
        return {
          postMessage: (message) => (index === 1 && (message as { kind?: string }).kind === 'held' && granted.open(), channel.postMessage(message)),
          addEventListener: (type, listener) => channel.addEventListener(type, (event) => listener(event as MessageEvent)),
          close: () => channel.close(),
        };
      },
    });
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching!.cache.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const mine = vi.fn(async () => 'fetched here');
    const second = waiting!.cache.resolve('album_year', 'k', mine);
    // Until it waits for the fetching tab's lock (over the channel: once its 25 ms claim heard the holder).
    if (locks === undefined) await vi.waitFor(async () => expect((await fetching!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    else await new Promise((resolve) => setTimeout(resolve, 150));
    reply.fail(new Error('API down'));
    expect((await rejection(first)).message).toBe('API down');
    await granted.promise;
    const [closing, call] = await Promise.all([within(100, waiting!.cache.close()), within(100, second)]);
    expect({ closing, call }).toEqual({ closing: { value: undefined }, call: { code: 'closed' } });
    expect(mine).not.toHaveBeenCalled();
    expect(undelivered).toEqual([expect.objectContaining({ kind: 'fetched', ok: false })]);
  });
});

// README, close(): "one whose fetcher has answered settles as it would have, its value stored, also while an async schema still checks it".
describe.each([
  ['generic (a memory type: the value comes in the message, and the waiting tab keeps it)', 'generic', false],
  ['album_year with skipStore (the value comes in the message, and nobody keeps it)', 'album_year', true],
] as const)('close() in a tab that took another tab’s fetched value, %s', (_, type, skip) => {
  it('its async schema still checking that value when close() is called: the call settles as it would have, with the value, and its fetcher is not called', async () => {
    const checking = gate<void>();
    const checked = gate<void>();
    // Only the waiting tab's schema waits: it checks the value the fetching tab announced.
    const [fetching, waiting] = await openTabs(2, {
      schemas: (index) => ({ [type]: z.object({ year: z.number() }).refine(async () => (index === 1 && (checking.open(), await checked.promise), true)) }),
    });
    const reply = gate<{ year: number }>();
    const fetcher = vi.fn((context: FetcherContext) => (skip && context.skipStore(), reply.promise));
    const first = fetching!.cache.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const changes: string[] = [];
    waiting!.cache.watch(type, 'k', (change) => changes.push(change.kind));
    const mine = vi.fn(async () => ({ year: 2000 }));
    const second = waiting!.cache.resolve(type, 'k', mine);
    await vi.waitFor(async () => expect((await fetching!.locks!.manager('tab1').query()).pending).toHaveLength(1));
    reply.open({ year: 1999 });
    expect(await first).toEqual({ value: { year: 1999 }, source: 'fetch' });
    await checking.promise;
    const closing = waiting!.cache.close();
    checked.open();
    expect(await Promise.allSettled([second])).toEqual([{ status: 'fulfilled', value: { value: { year: 1999 }, source: 'shared' } }]);
    await closing;
    expect(mine).not.toHaveBeenCalled();
    // Kept in the waiting tab's memory as the fetching tab's was (its watcher told), or, skipStore, nowhere.
    expect(changes).toEqual(skip ? [] : ['set']);
  });
});

/**
 * The cache channel of one tab (by index) whose messages, once `held.on`, wait in `held.messages` (its page busy, say) instead of
 * reaching its listeners: a message the browser delivers late, not one thrown away.
 */
function holdingChannel(tab: number) {
  const held = { on: false, messages: [] as [(event: MessageEvent) => void, MessageEvent][] };
  const openChannel = (name: string, index: number) =>
    index === tab
      ? checkedChannel(() => {
          const channel = new BroadcastChannel(name);
          return {
            postMessage: (message: unknown) => channel.postMessage(message),
            addEventListener: (type: string, listener: (event: MessageEvent) => void) =>
              channel.addEventListener(type, (event) => (held.on ? held.messages.push([listener, event as MessageEvent]) : listener(event as MessageEvent))),
            close: () => channel.close(),
          };
        })
      : undefined;
  return { held, openChannel };
}
