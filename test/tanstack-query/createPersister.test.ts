// createPersister with a real QueryClient and TanStack's own persistQueryClientSave/Restore, on a
// real in-process cache (fake-indexeddb): what comes back after a "reload" (the cache closed and
// opened again on the same database), and what a wrong type or key does.
import { dehydrate } from '@tanstack/query-core';
import { persistQueryClient, persistQueryClientRestore, persistQueryClientSave, removeOldestQuery } from '@tanstack/query-persist-client-core';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createCache } from '../../src/createCache';
import type { Cache } from '../../src/Cache';
import { createPersister, createQueryStorage, invalidateQueriesOn, type PersistedClient, type Persister } from '../../src/tanstack-query';
import { IDBFactory } from 'fake-indexeddb';
import { failCommits, failRequest } from '../support/faultyIndexedDB';
import { killAtFirst, openRemoteCache } from '../support/inProcessWorkers';
import { openCache, rejection, uniqueName } from '../support/openCache';
import { unhandledRejections } from '../support/unhandledRejections';
import { queryClient, reloadPersisted } from './queryClients';

/** A query function that counts its calls. */
const counted = <T>(value: T) => vi.fn(async () => value);

/** What a reload (the cache opened again on its database, a new QueryClient) restores for the query ['k']. */
async function restoredAfterReload(database: Pick<Awaited<ReturnType<typeof openCache>>, 'name' | 'indexedDB' | 'clock'>): Promise<unknown> {
  const { cache } = await openCache(database);
  const after = queryClient();
  await persistQueryClientRestore({ queryClient: after, persister: createPersister(cache, { type: 'successful_api_metadata' }) });
  return after.getQueryData(['k']);
}

/** A persister on `cache` that saved 'first' and holds a save of 'held', made within its throttle time. */
async function holdingASave(cache: Awaited<ReturnType<typeof openCache>>['cache'], throttleTime?: number): Promise<{ cache: typeof cache; persister: Persister; held: Promise<void> }> {
  const persister = createPersister(cache, { type: 'successful_api_metadata', throttleTime });
  const client = queryClient();
  client.setQueryData(['k'], 'first');
  await persistQueryClientSave({ queryClient: client, persister });
  client.setQueryData(['k'], 'held');
  // In an object: an async function returning the promise itself would wait for it.
  return { cache, persister, held: persistQueryClientSave({ queryClient: client, persister }) };
}

/** What the persisted client a tab reads holds: each query's data (undefined when there is none). */
const clients = async (cache: Cache) => ((await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined)?.clientState.queries.map((query) => query.state.data);

/**
 * A cache holding a save (see holdingASave), and another tab of it that stored 101 other keys of the type: a deleteMany of them is
 * told as of any key. `settled(tab, ms)`: once the held save has settled and `ms` more have passed, the clients `tab` reads; both closed then.
 */
async function holdingBesideManyKeys(throttleTime: number) {
  const { cache, name, indexedDB, clock } = await openCache();
  const { cache: other } = await openCache({ name, indexedDB, clock });
  const others = Array.from({ length: 101 }, (_, index) => `other${index}`);
  await other.setMany('successful_api_metadata', others.map((key) => ({ key, value: 'x' })));
  const holding = await holdingASave(cache, throttleTime);
  const settled = async (tab: typeof cache, ms: number) => {
    await holding.held;
    await new Promise((resolve) => setTimeout(resolve, ms));
    const found = await clients(tab);
    await other.close();
    await cache.close();
    return found;
  };
  return { other, others, settled, ...holding };
}

describe('createPersister', () => {
  it('after a reload both queries come back from the persister, and nothing is fetched again', async () => {
    const opened = await openCache();
    const before = queryClient();
    const album = counted({ title: 'Blue' });
    const track = counted({ title: 'River' });
    await before.fetchQuery({ queryKey: ['album', 'a1'], queryFn: album });
    await before.fetchQuery({ queryKey: ['track', 't1'], queryFn: track });
    // The reload: a new cache on the same database, a new QueryClient.
    const after = await reloadPersisted(opened, before);
    expect(after.getQueryData(['album', 'a1'])).toEqual({ title: 'Blue' });
    expect(after.getQueryData(['track', 't1'])).toEqual({ title: 'River' });
    await after.fetchQuery({ queryKey: ['album', 'a1'], queryFn: album });
    await after.fetchQuery({ queryKey: ['track', 't1'], queryFn: track });
    expect([album.mock.calls.length, track.mock.calls.length]).toEqual([1, 1]);
  });

  // TanStack removes the persisted client on any error of restoreClient (persistQueryClientRestore), and
  // PersistQueryClientProvider then saves the empty client over it: a worker that died with the read lost
  // every persisted query and paused mutation. The next worker starts at once.
  it('a worker that dies while restoreClient reads (it died as the page opened): the read is asked of the next one, and the client is restored, not removed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: before } = await openCache({ name, indexedDB });
    const saved = queryClient();
    saved.setQueryData(['album', 'a1'], { title: 'Blue' });
    await persistQueryClientSave({ queryClient: saved, persister: createPersister(before, { type: 'successful_api_metadata' }) });
    await before.close();
    // The page cannot read it itself (its connection still waits behind the worker's upgrade after an
    // app update, say): the read goes to the worker, which the browser kills as it arrives.
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      direct: false,
      beforeCall: killAtFirst('getMany'),
    });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const after = queryClient();
      const restored = await persistQueryClientRestore({ queryClient: after, persister: createPersister(cache, { type: 'successful_api_metadata' }) }).then(
        () => 'restored',
        (error: { code?: string }) => error.code,
      );
      // Before: worker_failed, no data, and the persisted client removed ([]).
      expect([restored, after.getQueryData(['album', 'a1']), await cache.keys('successful_api_metadata')]).toEqual(['restored', { title: 'Blue' }, ['tanstack-query']]);
    } finally {
      consoleError.mockRestore();
      consoleWarn.mockRestore();
      await cache.close();
    }
  });

  // A read that failed for good rejected: TanStack removed the persisted client (which the next save
  // replaces all the same), and persistQueryClient, its restore rejected, never subscribed: nothing of the
  // session was saved, and its promise (which TanStack's own examples leave alone) rejected unhandled.
  it("a restoreClient whose read fails (IndexedDB's UnknownError) restores nothing and tells the cache's logger: persistQueryClient goes on to save the session's changes", async () => {
    const { cache, logger, name } = await openCache();
    const persister = createPersister(cache, { type: 'successful_api_metadata', throttleTime: 0 });
    const before = queryClient();
    before.setQueryData(['album', 'a1'], { title: 'Blue' });
    await persistQueryClientSave({ queryClient: before, persister });
    const fault = failRequest({ nth: 1, methods: ['get', 'getAll'], name: 'UnknownError', database: name });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const client = queryClient();
      const [unsubscribe, restored] = persistQueryClient({ queryClient: client, persister });
      const outcome = await restored.then(
        () => 'restored',
        (error: { code?: string }) => error.code,
      );
      fault();
      client.setQueryData(['album', 'a2'], { title: 'Hejira' });
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined;
      unsubscribe();
      // Before: storage_unavailable, the client removed and nothing saved after it (undefined), the logger told nothing.
      expect([outcome, stored?.clientState.queries.map((query) => query.queryKey), logger.error.mock.calls]).toEqual([
        'restored',
        [['album', 'a2']],
        [[expect.stringMatching(/createPersister/), expect.objectContaining({ name: 'CacheError', code: 'storage_unavailable' })]],
      ]);
    } finally {
      fault();
      consoleError.mockRestore();
      consoleWarn.mockRestore();
    }
  });

  // A worker the browser kills (memory pressure, a crash) as a save reaches it: the write did not happen,
  // which the next worker tells, and the next worker starts at once.
  it.each([
    ['without retry', undefined],
    ['with retry (removeOldestQuery), which a dead worker is no reason to ask', removeOldestQuery],
  ])('a save whose worker dies with it is made on the next one, whole: %s', async (_, retry) => {
    const { cache, logger } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      beforeCall: killAtFirst('setMany'),
    });
    try {
      const client = queryClient();
      client.setQueryData(['album', 'a1'], { title: 'Blue' });
      client.setQueryData(['album', 'a2'], { title: 'Hejira' });
      await persistQueryClientSave({ queryClient: client, persister: createPersister(cache, { type: 'successful_api_metadata', retry }) });
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined;
      // Before: not stored (the logger told worker_failed), or stored without its oldest query (retry asked).
      expect([stored?.clientState.queries.map((query) => query.queryKey), logger.error.mock.calls.filter(([message]) => /createPersister/.test(String(message)))]).toEqual([
        [
          ['album', 'a1'],
          ['album', 'a2'],
        ],
        [],
      ]);
    } finally {
      await cache.close();
    }
  });

  // Two deaths in a row (a browser under memory pressure): the save is not made, but no smaller client would have fared better.
  it('a save whose worker dies with it, and the next one too, is told to the logger as worker_failed, and retry is not asked for a smaller client', async () => {
    let deaths = 0;
    const { cache, logger } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      beforeCall: (method, _, worker) => {
        if (method === 'setMany' && deaths < 2) {
          deaths++;
          worker.kill();
        }
      },
    });
    try {
      const retry = vi.fn(removeOldestQuery);
      const client = queryClient();
      client.setQueryData(['album', 'a1'], { title: 'Blue' });
      client.setQueryData(['album', 'a2'], { title: 'Hejira' });
      await persistQueryClientSave({ queryClient: client, persister: createPersister(cache, { type: 'successful_api_metadata', retry }) });
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined;
      // Before: retry was asked after the second death, and its client, without the oldest query, stored.
      expect([deaths, retry.mock.calls.length, stored?.clientState.queries.map((query) => query.queryKey), logger.error.mock.calls.filter(([message]) => /createPersister/.test(String(message)))]).toEqual([
        2,
        0,
        undefined,
        [[expect.stringMatching(/createPersister/), expect.objectContaining({ name: 'CacheError', code: 'worker_failed' })]],
      ]);
    } finally {
      await cache.close();
    }
  });

  it("is one entry under the key, 'tanstack-query' by default; removeClient deletes it", async () => {
    const { cache } = await openCache();
    const client = queryClient();
    client.setQueryData(['k'], 1);
    const persister = createPersister(cache, { type: 'track_metadata' });
    const named = createPersister(cache, { type: 'track_metadata', key: 'player' });
    await persistQueryClientSave({ queryClient: client, persister });
    await persistQueryClientSave({ queryClient: client, persister: named, buster: 'v2' });
    expect(await cache.keys('track_metadata')).toEqual(['player', 'tanstack-query']);
    expect(await named.restoreClient()).toMatchObject({ buster: 'v2', clientState: { queries: [{ queryKey: ['k'], state: { data: 1 } }] } });
    await persister.removeClient();
    expect(await cache.keys('track_metadata')).toEqual(['player']);
    expect(await persister.restoreClient()).toBeUndefined();
  });

  // Before: a later save reached the cache only after an await, once it was closed; a first one, while
  // the check that the type is persistent (a stats() round trip) still ran: both rejected with closed.
  it.each([
    ['a save made just before close() (the cache settles calls made before close())', ['old', 'new']],
    ["a persister's first call, made just before close() (an unmount, the end of `await using`)", ['saved']],
  ])('%s is stored, so a reload restores it', async (_, versions) => {
    const { cache, name, indexedDB, clock } = await openCache();
    const persister = createPersister(cache, { type: 'successful_api_metadata' });
    const client = queryClient();
    const save = (version: string) => {
      client.setQueryData(['k'], version);
      return persistQueryClientSave({ queryClient: client, persister });
    };
    for (const version of versions.slice(0, -1)) await save(version);
    const saving = save(versions.at(-1)!);
    await cache.close();
    await saving;
    expect(await restoredAfterReload({ name, indexedDB, clock })).toBe(versions.at(-1));
  });

  it("throttles saves as TanStack's own persisters do (1000 ms by default): a burst writes the client at once, then its last state once", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache } = await openCache();
      // The writes of the persisted client.
      const written: unknown[] = [];
      cache.watch('successful_api_metadata', 'tanstack-query', (change) => written.push(change.kind));
      const persister = createPersister(cache, { type: 'successful_api_metadata' });
      const client = queryClient();
      // persistQueryClient saves the whole client on every query cache event: a page of queries loading is a burst.
      const saves = [1, 2, 3, 4, 5].map((version) => {
        client.setQueryData(['k'], version);
        return persistQueryClientSave({ queryClient: client, persister });
      });
      await saves[0];
      const stored = async () => ((await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient).clientState.queries[0]?.state.data;
      // Before: each save wrote the whole client, five writes in a row.
      expect(await stored()).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      await Promise.all(saves);
      expect(await stored()).toBe(5);
      expect(written).toEqual(['set', 'set']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a save the throttle holds when close() is called is stored before the cache closes, and no timer is left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, name, indexedDB, clock } = await openCache();
      const { held } = await holdingASave(cache);
      await cache.close();
      await held;
      // As a closed cache keeps no timer, its persister keeps none.
      expect(vi.getTimerCount()).toBe(0);
      vi.useRealTimers();
      expect(await restoredAfterReload({ name, indexedDB, clock })).toBe('held');
    } finally {
      vi.useRealTimers();
    }
  });

  // close() settles a held save by making it before it takes no more calls, but a second attempt comes after an
  // await (the rest without a query that cannot be cloned, retry's smaller client): close() refuses it with
  // closed, which is told to no one, so the first failure was not told either (or told as if the rest were saved).
  it.each([
    ['the rest, without a query whose data cannot be cloned', undefined, 'not_cloneable'],
    ["retry's smaller client, after the full disk refused it", removeOldestQuery, 'quota_exceeded'],
  ] as const)("a save the throttle holds when close() is called, which fails and whose next attempt (%s) close() refuses, is told to the cache's logger with its failure", async (_, retry, code) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, logger, name, indexedDB, clock } = await openCache();
      const persister = createPersister(cache, { type: 'successful_api_metadata', retry });
      const client = queryClient();
      client.setQueryData(['k'], 'first', { updatedAt: 1000 });
      await persistQueryClientSave({ queryClient: client, persister });
      client.setQueryData(['k'], 'held', { updatedAt: 2000 });
      if (!retry) client.setQueryData(['page', 1], { items: ['t1'], next: () => 2 });
      const held = persistQueryClientSave({ queryClient: client, persister });
      const full = retry && failCommits(2, undefined, name);
      try {
        await cache.close();
        await held;
      } finally {
        full?.();
      }
      vi.useRealTimers();
      // Not stored: a reload restores the client saved before (the room a full disk makes never takes the key being written).
      expect(await restoredAfterReload({ name, indexedDB, clock })).toBe('first');
      // Before: the not_cloneable query named only (as if the rest were saved), or nothing told at all.
      expect(logger.error.mock.calls.filter(([message]) => /could not save/.test(String(message)))).toEqual([
        [expect.stringMatching(/createPersister could not save tanstack-query/), expect.objectContaining({ name: 'CacheError', code })],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a save the throttle holds is made as soon as the page is hidden (a tab switched away, a reload, a phone locked), not a throttle time later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The page's document, as the browser has it: being hidden (before unload too) is said by visibilitychange.
    const page = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
    vi.stubGlobal('document', page);
    try {
      const { cache } = await openCache();
      const { held } = await holdingASave(cache);
      page.visibilityState = 'hidden';
      page.dispatchEvent(new Event('visibilitychange'));
      // No time passes: the page may never run again.
      await held;
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient;
      expect(stored.clientState.queries[0]?.state.data).toBe('held');
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  // A tab already hidden (in the background) is told nothing more by visibilitychange: its being closed,
  // reloaded or navigated away is said by pagehide (on the window), its being frozen by freeze (on the document).
  it.each([
    ['closed, reloaded or navigated away (pagehide)', 'window', 'pagehide'],
    ['frozen, after which it may be discarded (freeze)', 'document', 'freeze'],
  ] as const)('a save the throttle holds in a tab already hidden is made as soon as that tab is %s, not a throttle time later', async (_, target, type) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const page = Object.assign(new EventTarget(), { visibilityState: 'hidden' as DocumentVisibilityState });
    const view = new EventTarget();
    vi.stubGlobal('document', page);
    vi.stubGlobal('window', view);
    try {
      const { cache } = await openCache();
      const { held } = await holdingASave(cache);
      // As browsers dispatch them: pagehide is a PageTransitionEvent (Node has none), freeze a plain Event.
      (target === 'window' ? view : page).dispatchEvent(Object.assign(new Event(type), { persisted: false }));
      // No time passes: the page may never run again. A read made after a write sees it.
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient;
      // Before: 'first' (the held save waited for its timer, which a closed or frozen tab never runs).
      expect(stored.clientState.queries[0]?.state.data).toBe('held');
      await held;
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  it('a save the throttle holds is made before a restoreClient, and dropped by a removeClient made after it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache } = await openCache();
      const persister = createPersister(cache, { type: 'successful_api_metadata' });
      const client = queryClient();
      const save = (data: string) => {
        client.setQueryData(['k'], data);
        return persistQueryClientSave({ queryClient: client, persister });
      };
      await save('first');
      const held = save('held');
      expect(await persister.restoreClient()).toMatchObject({ clientState: { queries: [{ state: { data: 'held' } }] } });
      await held;
      // A logout: the client is removed, and what was held (saved within the throttle time) is not written back.
      const dropped = save('logged out');
      await persister.removeClient();
      await dropped;
      await vi.advanceTimersByTimeAsync(1000);
      expect(await cache.keys('successful_api_metadata')).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retry: a smaller client it gives after a later save was made is not written over that save', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, name } = await openCache();
      const client = queryClient();
      let answer!: (client: PersistedClient | undefined) => void;
      // An app's retry that takes its time (it awaits something, or the write it answers was slow).
      const retry = vi.fn((props: Parameters<typeof removeOldestQuery>[0]) => new Promise<PersistedClient | undefined>((resolve) => (answer = () => resolve(removeOldestQuery(props)))));
      const persister = createPersister(cache, { type: 'successful_api_metadata', retry });
      const save = (data: string) => {
        client.setQueryData(['k'], data, { updatedAt: 1000 });
        client.setQueryData(['other'], data, { updatedAt: 2000 });
        return persistQueryClientSave({ queryClient: client, persister });
      };
      const restore = failCommits(2, undefined, name);
      const first = save('first');
      await vi.waitFor(() => expect(retry).toHaveBeenCalled(), { timeout: 10_000 });
      restore();
      const later = save('later');
      await vi.advanceTimersByTimeAsync(1000);
      await later;
      answer(undefined);
      await first;
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient;
      // Before: the first client, less its oldest query, was written after the later one.
      expect(stored.clientState.queries.map((query) => query.state.data)).toEqual(['later', 'later']);
    } finally {
      vi.useRealTimers();
    }
  }, 20_000);

  it.each([
    ['its own removeClient', false],
    ["another persister's removeClient (a logout's) or save", true],
  ])('retry: a smaller client it gives after %s was made is not written over it', async (_, another) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, name } = await openCache();
      const client = queryClient();
      let answer!: () => void;
      // An app's retry that takes its time (it awaits something, or the write it answers was slow).
      const retry = vi.fn((props: Parameters<typeof removeOldestQuery>[0]) => new Promise<PersistedClient | undefined>((resolve) => (answer = () => resolve(removeOldestQuery(props)))));
      const persister = createPersister(cache, { type: 'successful_api_metadata', retry });
      const logout = another ? createPersister(cache, { type: 'successful_api_metadata' }) : persister;
      client.setQueryData(['k'], 'first', { updatedAt: 1000 });
      client.setQueryData(['other'], 'first', { updatedAt: 2000 });
      const restore = failCommits(2, undefined, name);
      const first = persistQueryClientSave({ queryClient: client, persister });
      await vi.waitFor(() => expect(retry).toHaveBeenCalled(), { timeout: 10_000 });
      restore();
      await logout.removeClient();
      answer();
      await first;
      const removed = await cache.keys('successful_api_metadata');
      if (another) {
        // A later save by the other persister stands for the failed one, too.
        client.setQueryData(['k'], 'later', { updatedAt: 3000 });
        const failing = failCommits(2, undefined, name);
        const second = persistQueryClientSave({ queryClient: client, persister });
        // Held by the throttle until a second after the first save: waitFor's own steps of the fake clock
        // (50 ms a try) would pass it only if it tried twenty times within its bound.
        await vi.advanceTimersByTimeAsync(1000);
        await vi.waitFor(() => expect(retry).toHaveBeenCalledTimes(2), { timeout: 10_000 });
        failing();
        await persistQueryClientSave({ queryClient: client, persister: logout });
        answer();
        await second;
        const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient;
        expect([removed, stored.clientState.queries.length]).toEqual([[], 2]);
      } else {
        // Before: the logged-out client, less its oldest query, was written back after the removal.
        expect(removed).toEqual([]);
      }
    } finally {
      vi.useRealTimers();
    }
  }, 20_000);

  it("two persisters of one entry (the provider's, and a logout's made where it is needed): one's removeClient drops the other's held save, one's restoreClient makes it", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache } = await openCache();
      const { held } = await holdingASave(cache);
      const other = createPersister(cache, { type: 'successful_api_metadata' });
      expect(await other.restoreClient()).toMatchObject({ clientState: { queries: [{ state: { data: 'held' } }] } });
      await held;
      const { held: dropped } = await holdingASave(cache);
      await other.removeClient();
      await dropped;
      await vi.advanceTimersByTimeAsync(1000);
      // Before: the first persister's held save wrote the client back after the removal.
      expect(await cache.keys('successful_api_metadata')).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  // A logout that clears the cache (and reloads): the client saved within the last throttleTime must not come back.
  it.each([
    ['a clear() of its type', (cache: Cache) => cache.clear('successful_api_metadata')],
    ['a clear() of every type', (cache: Cache) => cache.clear()],
    ["another tab's clear() of its type", async (_: Cache, other: Cache) => other.clear('successful_api_metadata')],
    ["another tab's delete of its entry (that tab's removeClient)", async (_: Cache, other: Cache) => void (await other.delete('successful_api_metadata', 'tanstack-query'))],
  ])('a save the throttle holds is dropped by %s, not written back after it', async (_, clear) => {
    const { cache, name, indexedDB, clock } = await openCache();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    const { held } = await holdingASave(cache, 300);
    await clear(cache, other);
    // Heard from the other tab, if it was its change.
    await vi.waitFor(async () => expect(await cache.keys('successful_api_metadata')).toEqual([]));
    await held;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await cache.keys('successful_api_metadata')).toEqual([]);
    await other.close();
    await cache.close();
  });

  // Told as a change of any key (keys: null): the store says whether the client went with them.
  it.each([
    ['more than 100 other keys of its type', false, ['held']],
    ['more than 100 keys of its type, its own among them', true, undefined],
  ])("another tab's deleteMany of %s: the save the throttle holds is made as it would have been, or dropped", async (_, itsOwn, left) => {
    const { cache, other, others, settled } = await holdingBesideManyKeys(300);
    const heard: (string[] | null)[] = [];
    cache.watch('successful_api_metadata', null, ({ kind, keys }) => void (kind === 'delete' && heard.push(keys)));
    expect(await other.deleteMany('successful_api_metadata', [...others, ...(itsOwn ? ['tanstack-query'] : [])])).toBe(itsOwn ? 102 : 101);
    await vi.waitFor(() => expect(heard).toEqual([null]));
    expect(await settled(cache, 400)).toEqual(left);
  });

  // As it hears such a delete, this tab asks the store whether its key went: meanwhile the save held then is not made by
  // close() (nor by the page hidden), and a save given meanwhile is not dropped with it.
  it.each([
    ['a save given meanwhile is made', false, ['after the delete']],
    ['close() meanwhile does not write the held save back', true, undefined],
  ])("another tab's deleteMany of more than 100 keys, its own among them, heard while it holds a save: %s", async (_, closing, left) => {
    const { cache, other, others, persister, settled } = await holdingBesideManyKeys(5000);
    let after: Promise<void> | undefined;
    cache.watch('successful_api_metadata', null, ({ kind, source }) => {
      if (kind !== 'delete' || source !== 'remote') return;
      const client = queryClient();
      client.setQueryData(['k'], 'after the delete');
      after = closing ? cache.close() : persistQueryClientSave({ queryClient: client, persister });
    });
    expect(await other.deleteMany('successful_api_metadata', [...others, 'tanstack-query'])).toBe(102);
    await vi.waitFor(() => expect(after).toBeDefined());
    await after;
    expect(await settled(other, 50)).toEqual(left);
  });

  // The store's answer comes one round trip later (slower here, as from a busy worker): what the app did meanwhile stands.
  it.each([
    ['removeClient()', (persister: Persister) => persister.removeClient(), undefined],
    ['a save given and made', async (persister: Persister) => {
      const client = queryClient();
      client.setQueryData(['k'], 'newer');
      await persister.persistClient({ timestamp: Date.now(), buster: '', clientState: dehydrate(client) });
    }, ['newer']],
  ])("another tab's deleteMany of more than 100 other keys, then %s while the store says whether its key went: the save set aside is not made after it", async (_, meanwhile, left) => {
    const { cache, other, others, persister, settled } = await holdingBesideManyKeys(100);
    const has = cache.has.bind(cache);
    let asked!: () => void;
    const answered = new Promise<void>((resolve) => (asked = resolve));
    vi.spyOn(cache, 'has').mockImplementation(async (...args) => {
      const there = await has(...args);
      await answered;
      return there;
    });
    expect(await other.deleteMany('successful_api_metadata', others)).toBe(101);
    await vi.waitFor(() => expect(cache.has).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 150));
    await meanwhile(persister);
    asked();
    expect(await settled(other, 50)).toEqual(left);
  });

  it.each([
    ["dehydrate's state", (client: ReturnType<typeof queryClient>) => dehydrate(client)],
    ['a number', () => 5],
  ])('persistClient given what is not a persisted client (%s) saves nothing over the client saved, and tells the logger invalid_argument', async (_, given) => {
    const { cache, logger } = await openCache();
    const persister = createPersister(cache, { type: 'successful_api_metadata', throttleTime: 0 });
    const client = queryClient();
    client.setQueryData(['k'], 'saved');
    await persistQueryClientSave({ queryClient: client, persister });
    await persister.persistClient(given(client) as unknown as PersistedClient);
    expect(await clients(cache)).toEqual(['saved']);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('could not save'), expect.objectContaining({ code: 'invalid_argument' }));
    await cache.close();
  });

  // Acted on in the order the calls are made, not as the clear is heard: a save given after a clear() called is
  // stored, a save held before it is not written after it, whatever flushes it (close(), a restore, the page hidden).

  it('a save given after a clear() of its type was called, not yet landed, is stored', async () => {
    const { cache, persister } = await holdingASave((await openCache()).cache, 300);
    const clearing = cache.clear('successful_api_metadata');
    const client = queryClient();
    client.setQueryData(['k'], 'after');
    const saving = persistQueryClientSave({ queryClient: client, persister });
    await clearing;
    await saving;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await clients(cache)).toEqual(['after']);
    await cache.close();
  });

  it.each([
    ['close()', async (cache: Cache) => cache.close()],
    ['restoreClient()', async (_: Cache, persister: Persister) => expect(await persister.restoreClient()).toBeUndefined()],
  ])('a held save is not written back after a clear() of its type called before %s flushes it, though the clear has not landed', async (_, flush) => {
    const { cache, name, indexedDB, clock } = await openCache();
    const { persister, held } = await holdingASave(cache, 300);
    const clearing = cache.clear('successful_api_metadata');
    await flush(cache, persister);
    await clearing.catch(() => {});
    await held;
    const { cache: again } = await openCache({ name, indexedDB, clock });
    expect(await clients(again)).toBeUndefined();
    await again.close();
    await cache.close();
  });

  // A user logs out (the app clears its QueryClient and removes the persisted client) as the page starts,
  // while PersistQueryClientProvider still restores the last session's client: its read is on its way.
  it.each([
    ['in process, the same persister', 'in process', false],
    ["in process, a logout's persister of the same entry", 'in process', true],
    ['with a worker, the page reading for itself', 'direct', false],
    ['with a worker, the worker reading', 'worker', false],
  ] as const)('a removeClient made while restoreClient reads (%s): the old client is not restored, nor saved back', async (_, mode, another) => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    let logout: (() => void) | undefined;
    const open = () =>
      mode === 'in process'
        ? openCache({ name, indexedDB })
        : openRemoteCache({ name, indexedDB, now: Date.now, direct: mode === 'direct', beforeCall: (method) => void (method === 'getMany' && logout?.()) });
    const opened = await open();
    const before = queryClient();
    before.setQueryData(['k'], 'secret');
    await persistQueryClientSave({ queryClient: before, persister: createPersister(opened.cache, { type: 'successful_api_metadata' }) });
    await opened.cache.close();

    const { cache } = await open();
    try {
      const persister = createPersister(cache, { type: 'successful_api_metadata' });
      const client = queryClient();
      let removed: Promise<void> | undefined;
      logout = () => {
        logout = undefined;
        client.clear();
        removed = (another ? createPersister(cache, { type: 'successful_api_metadata' }) : persister).removeClient();
      };
      const [unsubscribe, restored] = persistQueryClient({ queryClient: client, persister });
      // In process, or reading from the page: the logout comes a turn after the read began.
      if (mode !== 'worker') await Promise.resolve().then(() => logout?.());
      await restored;
      await removed;
      const stored = (await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined;
      unsubscribe();
      // Before: the logged-out user's client was hydrated after the logout, and persistQueryClient saved it back.
      expect([client.getQueryData(['k']), stored?.clientState.queries.map((query) => query.state.data)]).toEqual([undefined, undefined]);
    } finally {
      await cache.close();
    }
  });

  // persistQueryClient saves from a subscription to the query cache, which catches nothing: a save that
  // rejected was the app's unhandled rejection.
  it.each([
    ['a value that cannot be cloned (the save held by the throttle fails)', 'not_cloneable', { track: 't1', onEnd: () => {} }, () => () => {}],
    ['a full disk (the save made at once fails)', 'quota_exceeded', { track: 't1' }, (database: string) => failCommits(2, undefined, database)],
  ])("a save of persistQueryClient that fails, %s, leaves nothing unhandled: the cache's logger is told, with %s, and the next saves are stored", async (_, code, data, fault) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { cache, logger, name } = await openCache();
    const restore = fault(name);
    try {
      const client = queryClient();
      const [unsubscribe, restored] = persistQueryClient({ queryClient: client, persister: createPersister(cache, { type: 'successful_api_metadata' }) });
      const stored = async () => ((await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined)?.clientState.queries[0]?.state.data;
      const unhandled = await unhandledRejections(async (seen) => {
        await restored;
        // Its query added (the empty client, saved at once), then its data set (held for the throttle time).
        client.setQueryData(['player'], data);
        await vi.advanceTimersByTimeAsync(1000);
        await vi.waitFor(() => expect([...seen, ...logger.error.mock.calls]).toHaveLength(1));
        restore();
        client.setQueryData(['player'], { track: 't2' });
        await vi.advanceTimersByTimeAsync(1000);
        await vi.waitFor(async () => expect(await stored()).toEqual({ track: 't2' }));
      });
      unsubscribe();
      // Before: the save rejected, and nothing caught it.
      expect(unhandled).toEqual([]);
      expect(logger.error.mock.calls).toEqual([[expect.stringMatching(/createPersister/), expect.objectContaining({ name: 'CacheError', code })]]);
    } finally {
      restore();
      vi.useRealTimers();
    }
  });

  it("retry (TanStack's, e.g. removeOldestQuery): a save the full disk refuses is made again with the client retry gives, until it is stored or retry gives up", async () => {
    const { cache, logger, name } = await openCache();
    const client = queryClient();
    client.setQueryData(['old'], 'o', { updatedAt: 1000 });
    client.setQueryData(['new'], 'n', { updatedAt: 2000 });
    const retry = vi.fn(removeOldestQuery);
    const persister = createPersister(cache, { type: 'successful_api_metadata', throttleTime: 0, retry });
    const storedKeys = async () => ((await cache.get('successful_api_metadata', 'tanstack-query')) as PersistedClient | undefined)?.clientState.queries.map((query) => query.queryKey);
    // The write and the cache's own retry after eviction fail; the smaller client fits.
    const restore = failCommits(2, undefined, name);
    try {
      await persistQueryClientSave({ queryClient: client, persister });
    } finally {
      restore();
    }
    expect(retry).toHaveBeenCalledWith(expect.objectContaining({ errorCount: 1, error: expect.objectContaining({ code: 'quota_exceeded' }) }));
    expect(await storedKeys()).toEqual([['new']]);
    expect(logger.error).not.toHaveBeenCalled();
    // Every write fails: retry drops the queries one by one, then gives up; the last failure is told once.
    const full = failCommits(100, undefined, name);
    try {
      await persistQueryClientSave({ queryClient: client, persister });
    } finally {
      full();
    }
    expect(retry).toHaveBeenCalledTimes(1 + 3);
    expect(logger.error.mock.calls).toEqual([[expect.stringMatching(/createPersister/), expect.objectContaining({ code: 'quota_exceeded' })]]);
  });

  it('the saves of persistQueryClient after close() (the app closed the cache, the subscription goes on) are dropped without a word', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, logger } = await openCache();
      const client = queryClient();
      const [unsubscribe, restored] = persistQueryClient({ queryClient: client, persister: createPersister(cache, { type: 'successful_api_metadata' }) });
      const unhandled = await unhandledRejections(async () => {
        await restored;
        await cache.close();
        // One save made at once, one held for the throttle time: both refused with closed.
        client.setQueryData(['player'], { track: 't1' });
        await vi.advanceTimersByTimeAsync(1000);
      });
      unsubscribe();
      // Before: each rejected with closed, unhandled.
      expect(unhandled).toEqual([]);
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['a save held when close() was called', 'holding'],
    ['no save made before', 'idle'],
    ['the persister made after it', 'after'],
  ] as const)('the saves of persistClient after close() (%s; the app keeps its QueryClient, which goes on saving) are each dropped at once, leaving no timer and no listener of the page', async (_, before) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const page = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
    const listen = vi.spyOn(page, 'addEventListener');
    vi.stubGlobal('document', page);
    try {
      const { cache, logger } = await openCache();
      const made = () => createPersister(cache, { type: 'successful_api_metadata' });
      const early = before === 'holding' ? (await holdingASave(cache)).persister : before === 'idle' ? made() : undefined;
      await cache.close();
      const persister = early ?? made();
      listen.mockClear();
      const client = queryClient();
      const settled: string[] = [];
      for (const data of ['after', 'later']) {
        client.setQueryData(['k'], data);
        void persistQueryClientSave({ queryClient: client, persister }).then(() => settled.push(data));
      }
      // No time passes.
      await vi.advanceTimersByTimeAsync(0);
      expect({ settled, timers: vi.getTimerCount(), listened: listen.mock.calls.map(([type]) => type) }).toEqual({ settled: ['after', 'later'], timers: 0, listened: [] });
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  it('a removeClient that fails rejects, and the held save it dropped resolves all the same', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { cache, logger, name } = await openCache();
      const { persister, held } = await holdingASave(cache);
      const fault = failRequest({ nth: 1, methods: ['delete'], name: 'UnknownError', database: name });
      try {
        expect(await rejection(persister.removeClient())).toMatchObject({ name: 'CacheError', code: 'storage_unavailable' });
      } finally {
        fault();
      }
      // Before: it rejected with the removal's error.
      await expect(held).resolves.toBeUndefined();
      // The removal's failure is the app's, told by removeClient: not reported again.
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('throttleTime 0 saves every time; a throttleTime that is no number of milliseconds throws invalid_argument', async () => {
    const { cache } = await openCache();
    const persister = createPersister(cache, { type: 'successful_api_metadata', throttleTime: 0 });
    const client = queryClient();
    for (const data of [1, 2]) {
      client.setQueryData(['k'], data);
      await persistQueryClientSave({ queryClient: client, persister });
      expect(await cache.get('successful_api_metadata', 'tanstack-query')).toMatchObject({ clientState: { queries: [{ state: { data } }] } });
    }
    for (const throttleTime of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000']) {
      expect(() => createPersister(cache, { type: 'track_metadata', throttleTime: throttleTime as number })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
  });

  it('restores nothing from a value under its key that is not a persisted client', async () => {
    const { cache } = await openCache();
    await cache.set('album_year', 'tanstack-query', { timestamp: 'yesterday' });
    const persister = createPersister(cache, { type: 'album_year' });
    const after = queryClient();
    await persistQueryClientRestore({ queryClient: after, persister });
    expect(after.getQueryCache().getAll()).toEqual([]);
    // The next save replaces it.
    after.setQueryData(['k'], 1);
    await persistQueryClientSave({ queryClient: after, persister });
    expect(await persister.restoreClient()).toMatchObject({ clientState: { queries: [{ queryKey: ['k'] }] } });
  });

  it("a temporary type: a save is reported to the cache's logger with invalid_argument, the other calls reject with it, and nothing is written", async () => {
    const { cache, logger } = await openCache();
    const persister = createPersister(cache, { type: 'generic' });
    const client = queryClient();
    client.setQueryData(['k'], 1);
    // Before: the save rejected (and persistQueryClient's, from its subscription, unhandled).
    await persistQueryClientSave({ queryClient: client, persister });
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/createPersister/), expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringMatching(/"generic" is temporary/) }));
    expect(await rejection(persister.restoreClient())).toMatchObject({ code: 'invalid_argument' });
    expect(await rejection(persister.removeClient())).toMatchObject({ code: 'invalid_argument' });
    expect(await cache.keys('generic')).toEqual([]);
  });

  it('an unknown type rejects with unknown_content_type; a missing type or an empty key throws invalid_argument at once', async () => {
    const { cache } = await openCache();
    expect(await rejection(createPersister(cache, { type: 'podcast' as never }).restoreClient())).toMatchObject({ code: 'unknown_content_type' });
    expect(() => createPersister(cache, { type: 'track_metadata', key: '' })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => createPersister(cache, {} as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => createPersister(cache, undefined as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('a key longer than the cache takes (4096 characters) throws invalid_argument at once, saying so', async () => {
    const { cache } = await openCache();
    // Before: created; its restore rejected (with removeClient's "Invalid keys: 0: …"), so persistQueryClient never subscribed, and each save was told to the logger.
    expect(() => createPersister(cache, { type: 'successful_api_metadata', key: 'k'.repeat(4097) })).toThrow(
      expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringMatching(/options\.key must be at most 4096 characters/) }),
    );
    // As the cache counts them: code points, when the UTF-16 units are too many.
    expect(() => createPersister(cache, { type: 'successful_api_metadata', key: '🎵'.repeat(4096) })).not.toThrow();
  });

  // The cache refuses an option it does not know (its options are strict objects): so does the persister.
  it("an option it does not know (a misspelt throttleTime, persistQueryClient's maxAge or buster) throws invalid_argument at once, naming it", async () => {
    const { cache } = await openCache();
    for (const option of ['throttle', 'maxAge', 'buster']) {
      // Before: taken without a word, and ignored (the saves throttled, nothing expired by it).
      expect(() => createPersister(cache, { type: 'successful_api_metadata', [option]: 0 } as never)).toThrow(
        expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringContaining(`options.${option}`) }),
      );
    }
    // The type given where createQueryStorage takes it: said so.
    expect(() => createPersister(cache, 'successful_api_metadata' as never)).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringMatching(/options must be an object/) }));
  });

  it('each export given no cache, or the promise createCache returns (an `await` left out), throws invalid_argument at once, saying so', async () => {
    const { cache } = await openCache();
    const client = queryClient();
    for (const notACache of [Promise.resolve(cache), undefined, {}]) {
      // Before: a TypeError ("cache.stats is not a function"), and from the persister and the storage only at their first call.
      for (const make of [
        () => createPersister(notACache as never, { type: 'track_metadata' }),
        () => createQueryStorage(notACache as never, 'track_metadata'),
        () => invalidateQueriesOn(notACache as never, client, () => []),
      ]) {
        expect(make).toThrow(expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringMatching(/cache must be a Reprise cache/) }));
      }
    }
    expect(() => createPersister(Promise.resolve(cache) as never, { type: 'track_metadata' })).toThrow(/await createCache\(\)/);
  });

  it('a cache degraded to memory (no IndexedDB) takes the persistent types and rejects the temporary ones, as one with IndexedDB does', async () => {
    const logger = { error: vi.fn() };
    const cache = await createCache({ worker: false, name: uniqueName(), logger });
    expect((await cache.stats()).degraded).not.toBeNull();
    const client = queryClient();
    client.setQueryData(['k'], 1);
    const persister = createPersister(cache, { type: 'track_metadata' });
    await persistQueryClientSave({ queryClient: client, persister });
    expect(await persister.restoreClient()).toMatchObject({ clientState: { queries: [{ state: { data: 1 } }] } });
    await persistQueryClientSave({ queryClient: client, persister: createPersister(cache, { type: 'generic' }) });
    expect(logger.error).toHaveBeenLastCalledWith(expect.stringMatching(/createPersister/), expect.objectContaining({ code: 'invalid_argument' }));
  });

  it("a cache of the app's own that wraps one (not made by createCache) is asked its stats: a temporary type is still refused, a failed save reported to console.error", async () => {
    const { cache } = await openCache();
    const wrapped = { ...Object.fromEntries((['get', 'set', 'delete', 'stats'] as const).map((name) => [name, cache[name].bind(cache)])) } as unknown as typeof cache;
    const client = queryClient();
    client.setQueryData(['k'], 1);
    const persister = createPersister(wrapped, { type: 'album_year' });
    await persistQueryClientSave({ queryClient: client, persister });
    expect(await persister.restoreClient()).toMatchObject({ clientState: { queries: [{ state: { data: 1 } }] } });
    expect(await rejection(createPersister(wrapped, { type: 'generic' }).restoreClient())).toMatchObject({ code: 'invalid_argument' });
    expect(await rejection(createPersister(wrapped, { type: 'podcast' as never }).restoreClient())).toMatchObject({ code: 'unknown_content_type' });
    // The adapter does not know its logger: the console is told.
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await persistQueryClientSave({ queryClient: client, persister: createPersister(wrapped, { type: 'generic' }) });
      expect(consoleError).toHaveBeenCalledWith(expect.stringMatching(/createPersister/), expect.objectContaining({ code: 'invalid_argument' }));
    } finally {
      consoleError.mockRestore();
    }
  });

  it('takes a cache typed by schemas, persisting in a type without one', async () => {
    const { cache } = await openCache({ schemas: { track_metadata: z.object({ title: z.string() }) } });
    const persister = createPersister(cache, { type: 'album_year' });
    const client = queryClient();
    client.setQueryData(['k'], 1);
    await persistQueryClientSave({ queryClient: client, persister });
    expect(await persister.restoreClient()).toMatchObject({ clientState: { queries: [{ queryKey: ['k'] }] } });
  });
});
