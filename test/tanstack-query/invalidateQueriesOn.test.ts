// invalidateQueriesOn with real QueryClients: a library event, emitted in this tab or another (two
// in-process caches of one name on one database, talking over Node's BroadcastChannel), refetches
// the queries it maps to; their queryFn reads through the cache, so they fetch anew.
import { IDBFactory } from 'fake-indexeddb';
import { readFileSync } from 'node:fs';
import { Query, QueryClient, QueryObserver, type QueryKey } from '@tanstack/query-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cache } from '../../src/index';
import { experimental_createQueryPersister, persistQueryClientRestore, persistQueryClientSave } from '@tanstack/query-persist-client-core';
import { createPersister, createQueryStorage, invalidateQueriesOn, type QueryKeysOf } from '../../src/tanstack-query';
import { openCache, uniqueName } from '../support/openCache';
import { brokenFactory, deleteUnderTabs } from '../support/faultyIndexedDB';
import { LOG_KEEP, trimmingTab } from '../support/trimmingTab';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A tab's QueryClient with a mounted (active) query for an album's year, read through the cache. */
function tabWithAlbumYear(cache: Cache, fetchYear: () => Promise<number>) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const queryKey: QueryKey = ['albumYear', 'a1'];
  const observer = new QueryObserver(client, { queryKey, queryFn: () => cache.getOrSet('album_year', 'a1', fetchYear) });
  // Each value the query got (a refetch that brings the same value again shows twice).
  const seen: unknown[] = [];
  let updatedAt = 0;
  const unsubscribe = observer.subscribe((result) => {
    if (result.status === 'success' && result.dataUpdatedAt !== updatedAt) seen.push(result.data);
    updatedAt = result.dataUpdatedAt;
  });
  cleanups.push(unsubscribe, () => client.clear());
  return { client, seen, queryKey };
}

describe('invalidateQueriesOn', () => {
  it('an event in one tab refetches the mapped query in both; each reads the new value through the cache', async () => {
    const first = await openCache();
    const second = await openCache({ name: first.name, indexedDB: first.indexedDB, clock: first.clock });
    let year = 1971;
    const fetchYear = vi.fn(async () => year);
    const tabs = [tabWithAlbumYear(first.cache, fetchYear), tabWithAlbumYear(second.cache, fetchYear)];
    await vi.waitFor(() => expect(tabs.map((tab) => tab.seen)).toEqual([[1971], [1971]]));
    const mapped = vi.fn<QueryKeysOf>((event) => (event.eventType === 'library_sync' ? [['albumYear']] : []));
    for (const [index, tab] of tabs.entries()) cleanups.push(invalidateQueriesOn([first, second][index]!.cache, tab.client, mapped));

    year = 1972;
    await first.cache.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(tabs.map((tab) => tab.seen)).toEqual([[1971, 1972], [1971, 1972]]));
    expect(mapped.mock.calls.map(([event, context]) => [event.eventType, context.source]).sort()).toEqual([
      ['library_sync', 'local'],
      ['library_sync', 'remote'],
    ]);
    // Once for the first read (the tabs elect one fetch over the channel: Node has no Web Locks), then
    // once for the refetch, or twice when one tab's refetch starts after the other's has stored.
    expect(fetchYear.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(fetchYear.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it('an event it maps to nothing refetches nothing; after unsubscribing, nothing is refetched', async () => {
    const { cache } = await openCache();
    const fetchYear = vi.fn(async () => 1971);
    const tab = tabWithAlbumYear(cache, fetchYear);
    await vi.waitFor(() => expect(tab.seen).toEqual([1971]));
    const unsubscribe = invalidateQueriesOn(cache, tab.client, (event) => (event.eventType === 'library_sync' ? [tab.queryKey] : []));
    await cache.emit({ eventType: 'track_added', trackId: 't1' });
    unsubscribe();
    await cache.emit({ eventType: 'library_sync' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tab.client.getQueryState(tab.queryKey)?.isInvalidated).toBe(false);
    expect(fetchYear).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['given a cache made by createCache', false],
    ['over a wrapper of the app\'s (no internals)', true],
  ])('unsubscribed (%s) while the first fetch of a query an event named is under way: once that fetch answers, the query is not refetched', async (_, wrapped) => {
    const { cache } = await openCache();
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const fetchYear = vi.fn(async () => (fetchYear.mock.calls.length === 1 ? (await answered, 1971) : 1972));
    const tab = tabWithAlbumYear(cache, fetchYear);
    await vi.waitFor(() => expect(fetchYear).toHaveBeenCalledTimes(1));
    const listened: Cache = wrapped ? ({ on: cache.on.bind(cache), get: cache.get.bind(cache) } as unknown as Cache) : cache;
    const unsubscribe = invalidateQueriesOn(listened, tab.client, (event) => (event.trackId ? [tab.queryKey] : []));
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    unsubscribe();
    answer();
    await vi.waitFor(() => expect(tab.seen).toEqual([1971]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fetchYear).toHaveBeenCalledTimes(1);
    expect(tab.seen).toEqual([1971]);
  });

  it('a mapped query that is not mounted is marked invalid and refetched on its next use', async () => {
    const { cache } = await openCache();
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    client.setQueryData(['tracks', 't2'], 'kept');
    cleanups.push(invalidateQueriesOn(cache, client, (event) => [['tracks', event.trackId]]));
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
    // Even a query fresh forever fetches again once invalidated; another track's is left alone.
    const fresh = { staleTime: Infinity, queryFn: async () => 'new' };
    expect(await client.fetchQuery({ queryKey: ['tracks', 't1'], ...fresh })).toBe('new');
    expect(await client.fetchQuery({ queryKey: ['tracks', 't2'], ...fresh })).toBe('kept');
  });

  it('a mapping that gives undefined among its keys invalidates the keys it gives, not every query, and the cache\'s logger reports it', async () => {
    const { cache, logger } = await openCache();
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    client.setQueryData(['albums', 'a1'], 'kept');
    // A JavaScript mapping whose condition fell through: `undefined` is no query key.
    cleanups.push(invalidateQueriesOn(cache, client, (event) => [['tracks', event.trackId], event.metadata?.album ? ['albums', event.metadata.album] : undefined] as never));
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
    // Before: TanStack took `queryKey: undefined` for "every query", so the album's query was invalidated too.
    expect(client.getQueryState(['albums', 'a1'])?.isInvalidated).toBe(false);
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('a handler for'), expect.objectContaining({ code: 'invalid_argument' })));
    expect(String((logger.error.mock.calls[0] as [string, Error])[1].message)).toMatch(/track_modified/);
  });

  it('bad arguments throw invalid_argument; a mapping that returns no array is reported and the other listeners still run', async () => {
    const { cache, logger } = await openCache();
    const client = new QueryClient();
    expect(() => invalidateQueriesOn(cache, client, undefined as never)).toThrow(expect.objectContaining({ name: 'CacheError', code: 'invalid_argument' }));
    expect(() => invalidateQueriesOn(cache, {} as never, () => [])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    cleanups.push(invalidateQueriesOn(cache, client, () => 'album' as never));
    const after = vi.fn();
    cleanups.push(cache.on('*', after));
    await cache.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(after).toHaveBeenCalledTimes(1));
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('a handler for'), expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('on a closed cache throws closed and leaves nothing subscribed to the QueryClient', async () => {
    const { cache } = await openCache();
    const client = new QueryClient();
    await cache.close();
    expect(() => invalidateQueriesOn(cache, client, () => [])).toThrow(expect.objectContaining({ name: 'CacheError', code: 'closed' }));
    expect(client.getQueryCache().hasListeners()).toBe(false);
  });

  /** A tab of a cache made by createCache, on a page whose lifecycle the test drives (freeze, then resume). */
  async function pageTab(name: string, indexedDB: IDBFactory) {
    const document = new EventTarget();
    vi.stubGlobal('document', document);
    vi.stubGlobal('window', new EventTarget());
    cleanups.push(() => vi.unstubAllGlobals());
    const opened = await openCache({ name, indexedDB });
    return {
      ...opened,
      freeze: () => document.dispatchEvent(new Event('freeze')),
      // Resumed once a call made after the resume answers: it waits for the replay.
      resume: async () => {
        document.dispatchEvent(new Event('resume'));
        await opened.cache.stats();
      },
    };
  }

  it('a tab that comes back after missing more changes than the event log keeps (trimmed by the periodic cleanup) invalidates every query once: it cannot know which events it missed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const trimming = await trimmingTab(name, indexedDB);
    const page = await pageTab(name, indexedDB);
    let year = 1971;
    const fetchYear = vi.fn(async () => year);
    const tab = tabWithAlbumYear(page.cache, fetchYear);
    await vi.waitFor(() => expect(tab.seen).toEqual([1971]));
    tab.client.setQueryData(['tracks', 't1'], 'old');
    const invalidate = vi.spyOn(tab.client, 'invalidateQueries');
    // It maps no event to any query.
    cleanups.push(invalidateQueriesOn(page.cache, tab.client, () => []));
    page.freeze();
    year = 1972;
    await trimming.emitMany(LOG_KEEP + 1);
    await trimming.trim();
    await page.resume();
    await vi.waitFor(() => expect(tab.seen).toEqual([1971, 1972]));
    expect(tab.client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true);
    expect(invalidate.mock.calls).toEqual([[]]);
  }, 60_000);

  it("a tab that comes back after missing more changes than the event log keeps refetches a query first used after, once its persisterFn restored the copy saved before (createQueryStorage without trackId, which the missed events left)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const trimming = await trimmingTab(name, indexedDB);
    const page = await pageTab(name, indexedDB);
    const storage = createQueryStorage(page.cache, 'track_metadata');
    // Saved a second before the tab froze (the last session, or another tab).
    await storage.setItem('tanstack-query-["track","t1"]', JSON.stringify({ buster: '', queryHash: '["track","t1"]', queryKey: ['track', 't1'], state: { data: 'old', dataUpdatedAt: Date.now() - 1000 } }));
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister: experimental_createQueryPersister({ storage }).persisterFn } } });
    cleanups.push(() => client.clear());
    cleanups.push(invalidateQueriesOn(page.cache, client, (event) => (event.trackId ? [['track', event.trackId]] : [])));
    page.freeze();
    // While it is frozen another tab modifies t1, then logs more than the log keeps, which its cleanup trims.
    await trimming.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await trimming.emitMany(LOG_KEEP + 1);
    await trimming.trim();
    await page.resume();

    const queryFn = vi.fn(async () => 'new');
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    expect(queryFn).toHaveBeenCalledTimes(1);
  }, 60_000);

  it('a tab that comes back after its database was deleted and recreated invalidates every query once; an ordinary start and a resume that missed nothing invalidate none; unsubscribed, none', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const other = await openCache({ name, indexedDB });
    await other.cache.emit({ eventType: 'library_sync' });
    const page = await pageTab(name, indexedDB);
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    const unsubscribe = invalidateQueriesOn(page.cache, client, () => []);
    await page.cache.get('generic', 'k');
    page.freeze();
    await page.resume();
    expect(invalidate).not.toHaveBeenCalled();
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await other.cache.set('album_year', 'a1', 1);
    await page.resume();
    await vi.waitFor(() => expect(invalidate.mock.calls).toEqual([[]]));
    expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true);
    // Once more, unsubscribed: nothing.
    unsubscribe();
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await page.resume();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invalidate).toHaveBeenCalledTimes(1);
  });

  it("a tab that comes back after its database was deleted and recreated, a query's first fetch under way since before it froze, leaves the query with what the server has after it", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const other = await openCache({ name, indexedDB });
    const page = await pageTab(name, indexedDB);
    // The server's data, as each fetch reads it when it starts; the first answers only when let go.
    let server = 'old';
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const queryFn = vi.fn(async () => {
      const read = server;
      if (queryFn.mock.calls.length === 1) await released;
      return read;
    });
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    cleanups.push(() => client.clear());
    cleanups.push(invalidateQueriesOn(page.cache, client, () => []));
    const observer = new QueryObserver(client, { queryKey: ['tracks', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    await vi.waitFor(() => expect(queryFn).toHaveBeenCalledTimes(1));
    await page.cache.get('generic', 'k');
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await other.cache.set('album_year', 'a1', 1);
    server = 'new';
    await page.resume();
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
    release();

    // Before: 'old' for good, fetched once: the invalidation of every query joined the fetch under way, whose success cleared it.
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));
    expect(queryFn).toHaveBeenCalledTimes(2);
  });

  /** Two tabs without IndexedDB; the page's query ['tracks', 't1'] holds 'old', as does its entry t1, invalidated by track events. */
  async function queryOfTabWithoutIndexedDB() {
    const name = uniqueName();
    const other = await openCache({ name, indexedDB: brokenFactory() });
    const page = await pageTab(name, brokenFactory());
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    cleanups.push(invalidateQueriesOn(page.cache, client, (event) => (event.trackId ? [['tracks', event.trackId]] : [])));
    await page.cache.set('track_metadata', 't1', 'old', { trackId: 't1' });
    return { other, page, client };
  }

  it('a tab without IndexedDB restored from the back/forward cache, holding nothing (a clear heard before it froze emptied it), invalidates the query of an event another tab emitted meanwhile: it missed the event', async () => {
    const { other, page, client } = await queryOfTabWithoutIndexedDB();
    await other.cache.clear('track_metadata');
    await vi.waitFor(async () => expect(await page.cache.get('track_metadata', 't1')).toBeUndefined());
    page.freeze();
    await other.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await page.resume();
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
  });

  it('a tab without IndexedDB whose page read as it froze (the app\'s own freeze listener, after the cache\'s) invalidates, once restored, the query of an event another tab emitted while it was frozen', async () => {
    const { other, page, client } = await queryOfTabWithoutIndexedDB();
    page.freeze();
    expect(await page.cache.get('track_metadata', 't1')).toBeUndefined();
    // Then frozen, it misses the event.
    client.setQueryData(['tracks', 't1'], 'refetched');
    await other.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await page.resume();
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
  });

  it('a tab without IndexedDB (no log to know what it missed) restored from the back/forward cache invalidates every query once, whether it held entries or nothing, a call made before the resume included', async () => {
    const name = uniqueName();
    const page = await pageTab(name, brokenFactory());
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    cleanups.push(invalidateQueriesOn(page.cache, client, () => []));
    // Holding nothing: another tab's event it missed may have made any query stale.
    page.freeze();
    await page.resume();
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invalidate.mock.calls).toEqual([[]]);
    await page.cache.set('album_year', 'a1', 1971);
    page.freeze();
    // The app's own pageshow listener reads before the cache resumes.
    expect(await page.cache.get('album_year', 'a1')).toBeUndefined();
    await page.resume();
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalledTimes(2));
    // Holding nothing, the app's listener reading before the cache resumes: once too.
    page.freeze();
    expect(await page.cache.get('album_year', 'a1')).toBeUndefined();
    await page.resume();
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalledTimes(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invalidate.mock.calls).toEqual([[], [], []]);
  });

  it('two mappings on one QueryClient (invalidateQueriesOn called twice) invalidate every query once when the tab forgot: a second invalidation would cancel and start again each refetch', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const other = await openCache({ name, indexedDB });
    const page = await pageTab(name, indexedDB);
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    const first = invalidateQueriesOn(page.cache, client, () => []);
    cleanups.push(first, invalidateQueriesOn(page.cache, client, () => []));
    await page.cache.get('generic', 'k');
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await other.cache.set('album_year', 'a1', 1);
    await page.resume();
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invalidate.mock.calls).toEqual([[]]);
    // One of the two unsubscribed: the other still invalidates, once.
    first();
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await other.cache.set('album_year', 'a1', 1);
    await page.resume();
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalledTimes(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invalidate.mock.calls).toEqual([[], []]);
  });

  it('two mappings on one QueryClient, the first unsubscribed: when the tab forgot, a first fetch under way then is refetched once it answers, by the other', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const other = await openCache({ name, indexedDB });
    const page = await pageTab(name, indexedDB);
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    cleanups.push(() => client.clear());
    invalidateQueriesOn(page.cache, client, () => [])();
    cleanups.push(invalidateQueriesOn(page.cache, client, () => []));
    await page.cache.get('generic', 'k');
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const queryFn = vi.fn(async () => (queryFn.mock.calls.length === 1 ? (await answered, 'old') : 'new'));
    cleanups.push(new QueryObserver(client, { queryKey: ['tracks', 't1'], queryFn }).subscribe(() => {}));
    await vi.waitFor(() => expect(queryFn).toHaveBeenCalledTimes(1));
    page.freeze();
    await deleteUnderTabs(indexedDB, name);
    await other.cache.set('album_year', 'a1', 1);
    await page.resume();
    answer();
    await vi.waitFor(() => expect(client.getQueryData(['tracks', 't1'])).toBe('new'));
    expect(queryFn).toHaveBeenCalledTimes(2);
  });

  it('over a cache not made by createCache (a wrapper of the app\'s), it still invalidates on events', async () => {
    const { cache } = await openCache();
    const wrapper = { ...cache, on: cache.on.bind(cache) } as unknown as Cache;
    const client = new QueryClient();
    cleanups.push(() => client.clear());
    client.setQueryData(['tracks', 't1'], 'old');
    cleanups.push(invalidateQueriesOn(wrapper, client, (event) => [['tracks', event.trackId]]));
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(client.getQueryState(['tracks', 't1'])?.isInvalidated).toBe(true));
  });

  it.each(['its component built the query before the restore (useQuery under PersistQueryClientProvider)', 'the query is first used after the restore'])(
    "an event heard while the page starts, before its persisted client is restored (saved by another tab before the event), still refetches the query it maps to: %s",
    async (when) => {
      const page = await openCache();
      const other = await openCache({ name: page.name, indexedDB: page.indexedDB, clock: page.clock });
      // The other tab saved the client with the track as it was.
      const saved = new QueryClient();
      cleanups.push(() => saved.clear());
      saved.setQueryData(['track', 't1'], 'old', { updatedAt: Date.now() - 1000 });
      await persistQueryClientSave({ queryClient: saved, persister: createPersister(other.cache, { type: 'successful_api_metadata', throttleTime: 0 }) });
      // This page starts: its client and mapping, and (first case) the query its component renders, not yet subscribed.
      const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
      cleanups.push(() => client.clear());
      const queryFn = vi.fn(async () => 'new');
      const built = when.startsWith('its component') ? new QueryObserver(client, { queryKey: ['track', 't1'], queryFn }) : undefined;
      const mapped = vi.fn<QueryKeysOf>((event) => (event.trackId ? [['track', event.trackId]] : []));
      cleanups.push(invalidateQueriesOn(page.cache, client, mapped));
      // The track is modified in the other tab, and this page hears it before its restore is done.
      await other.cache.emit({ eventType: 'track_modified', trackId: 't1' });
      await vi.waitFor(() => expect(mapped).toHaveBeenCalled());
      await persistQueryClientRestore({ queryClient: client, persister: createPersister(page.cache, { type: 'successful_api_metadata' }) });

      const observer = built ?? new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
      cleanups.push(observer.subscribe(() => {}));
      // Before: 'old' for good (staleTime Infinity), the queryFn never called: the restore put back the
      // data the event made stale after the event had invalidated the query (or nothing).
      await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
      expect(queryFn).toHaveBeenCalledTimes(1);
    },
  );

  it("an event heard before a query is first used, its copy persisted one by one (createQueryStorage without trackId, which the event leaves), refetches it once its persisterFn restored it", async () => {
    const page = await openCache();
    const storage = createQueryStorage(page.cache, 'successful_api_metadata');
    // Saved a second before the event (the last session, or another tab).
    await storage.setItem('tanstack-query-["track","t1"]', JSON.stringify({ buster: '', queryHash: '["track","t1"]', queryKey: ['track', 't1'], state: { data: 'old', dataUpdatedAt: Date.now() - 1000 } }));
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister: experimental_createQueryPersister({ storage }).persisterFn } } });
    cleanups.push(() => client.clear());
    cleanups.push(invalidateQueriesOn(page.cache, client, (event) => (event.trackId ? [['track', event.trackId]] : [])));
    await page.cache.emit({ eventType: 'track_modified', trackId: 't1' });

    const queryFn = vi.fn(async () => 'new');
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    // Before: 'old' for good, the queryFn never called (the restored query fresh, staleTime Infinity).
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    expect(queryFn).toHaveBeenCalledTimes(1);
    // Another track's query, saved as long before, is restored and left as it is.
    await storage.setItem('tanstack-query-["track","t2"]', JSON.stringify({ buster: '', queryHash: '["track","t2"]', queryKey: ['track', 't2'], state: { data: 'kept', dataUpdatedAt: Date.now() - 1000 } }));
    const other = new QueryObserver(client, { queryKey: ['track', 't2'], queryFn });
    cleanups.push(other.subscribe(() => {}));
    await vi.waitFor(() => expect(other.getCurrentResult().data).toBe('kept'));
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));
    expect(queryFn).toHaveBeenCalledTimes(1);
  });

  it('an event heard before a query is first used refetches it once its persisterFn restored it, after 500 more events that each invalidated the same list key and another track', async () => {
    const page = await openCache();
    const storage = createQueryStorage(page.cache, 'successful_api_metadata');
    await storage.setItem('tanstack-query-["track","t1"]', JSON.stringify({ buster: '', queryHash: '["track","t1"]', queryKey: ['track', 't1'], state: { data: 'old', dataUpdatedAt: Date.now() - 1000 } }));
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister: experimental_createQueryPersister({ storage }).persisterFn } } });
    cleanups.push(() => client.clear());
    // A common mapping: the list of tracks, and the track.
    cleanups.push(invalidateQueriesOn(page.cache, client, (event) => (event.trackId ? [['tracks'], ['track', event.trackId]] : [])));
    await page.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    // A sync that modified 500 other tracks: 1,000 invalidations, 501 distinct keys.
    await Promise.all(Array.from({ length: 500 }, (_, index) => page.cache.emit({ eventType: 'track_modified', trackId: `other${index}` })));

    const queryFn = vi.fn(async () => 'new');
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    expect(queryFn).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['its refetch answering later', false],
    ['also when the refetch answers within the millisecond of the restore', true],
  ] as const)("an event heard while a query's persisterFn restores it (its async deserialize under way) refetches it once restored, %s", async (_, sameMillisecond) => {
    const page = await openCache();
    const storage = createQueryStorage(page.cache, 'successful_api_metadata');
    await storage.setItem('tanstack-query-["track","t1"]', JSON.stringify({ buster: '', queryHash: '["track","t1"]', queryKey: ['track', 't1'], state: { data: 'old', dataUpdatedAt: Date.now() - 1000 } }));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const deserialize = vi.fn(async (stored: string) => (await released, JSON.parse(stored)));
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister: experimental_createQueryPersister({ storage, deserialize }).persisterFn } } });
    cleanups.push(() => client.clear());
    const mapped = vi.fn<QueryKeysOf>((event) => (event.trackId ? [['track', event.trackId]] : []));
    cleanups.push(invalidateQueriesOn(page.cache, client, mapped));
    const queryFn = vi.fn(async () => 'new');
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    await vi.waitFor(() => expect(deserialize).toHaveBeenCalled());
    await page.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(mapped).toHaveBeenCalled());
    if (sameMillisecond) {
      // From here on one millisecond (a loaded machine): the restore and the refetch it calls for answer at one time.
      const now = vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 1);
      cleanups.push(() => now.mockRestore());
    }
    release();

    // Before: 'old' for good: the invalidation joined the restore under way, whose success cleared it.
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Before, in the same millisecond: 2 (the check after the restore took the refetch's answer, of the same time, for the restore's).
    expect(queryFn).toHaveBeenCalledTimes(1);
  });

  it("an event heard before the app restores its persisted queries at start (restoreQueries, createQueryStorage without trackId) refetches the query it maps to", async () => {
    const page = await openCache();
    const storage = createQueryStorage(page.cache, 'successful_api_metadata');
    // Saved a second before the event (the last session, or another tab).
    await storage.setItem('tanstack-query-["track","t1"]', JSON.stringify({ buster: '', queryHash: '["track","t1"]', queryKey: ['track', 't1'], state: { data: 'old', dataUpdatedAt: Date.now() - 1000 } }));
    await storage.setItem('tanstack-query-["track","t2"]', JSON.stringify({ buster: '', queryHash: '["track","t2"]', queryKey: ['track', 't2'], state: { data: 'kept', dataUpdatedAt: Date.now() - 1000 } }));
    const persister = experimental_createQueryPersister({ storage });
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister: persister.persisterFn } } });
    cleanups.push(() => client.clear());
    cleanups.push(invalidateQueriesOn(page.cache, client, (event) => (event.trackId ? [['track', event.trackId]] : [])));
    await page.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await persister.restoreQueries(client);

    const queryFn = vi.fn(async () => 'new');
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    cleanups.push(observer.subscribe(() => {}));
    // Before: 'old' for good, the queryFn never called (restoreQueries sets the data with its old updatedAt, fresh with staleTime Infinity).
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toBe('new'));
    expect(queryFn).toHaveBeenCalledTimes(1);
    // Another track's query, restored as old, is left as it is; so is data the app sets.
    client.setQueryData(['track', 't1'], 'set');
    const other = new QueryObserver(client, { queryKey: ['track', 't2'], queryFn });
    cleanups.push(other.subscribe(() => {}));
    await vi.waitFor(() => expect(other.getCurrentResult().data).toBe('kept'));
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));
    expect(observer.getCurrentResult().data).toBe('set');
    expect(queryFn).toHaveBeenCalledTimes(1);
  });
  it("asks for @tanstack/query-core 5.40 or later, the first whose queries give the fetch under way (query.promise), which the refetch after a fetch under way at an event waits for", () => {
    // With 5.0 to 5.39 (query.promise undefined) an event heard during a query's first fetch or a prefetch
    // left it with what that fetch brought, fresh for good: seen with query-core 5.38's source, ['old', 1 fetch].
    const { peerDependencies } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> };
    expect(peerDependencies['@tanstack/query-core']).toBe('>=5.40.0');
    expect(Object.getOwnPropertyDescriptor(Query.prototype, 'promise')?.get).toBeTypeOf('function');
  });

  it.each([
    ['its first fetch (no data yet), which the invalidation joins instead of starting another', 'first', 2],
    ['a prefetch (no component uses the query yet), which the invalidation leaves running', 'prefetch', 2],
    ['a refetch of the data it has, which the invalidation cancels and starts again (no fetch more)', 'refetch', 3],
    ['a prefetch of the data it has, which the invalidation leaves running', 'prefetch again', 3],
  ] as const)("an event heard while a query's fetch that started before it is under way leaves the query with what the server has after it: %s", async (_, fetching, calls) => {
    const { cache } = await openCache();
    // The fetch under way is the query's second (it has data) or its first.
    const again = fetching === 'refetch' || fetching === 'prefetch again';
    // The server's track, as each fetch reads it when it starts; the fetch under way answers only when let go.
    let server = 'old';
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fetchTrack = vi.fn(async () => {
      const read = { title: server };
      if (fetchTrack.mock.calls.length === (again ? 2 : 1)) await released;
      return read;
    });
    // Read through the cache, as the README's queryFn.
    const queryFn = vi.fn(() => cache.getOrSet('track_metadata', 't1', fetchTrack, { trackId: 't1' }));
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    cleanups.push(() => client.clear());
    cleanups.push(invalidateQueriesOn(cache, client, (event) => (event.trackId ? [['track', event.trackId]] : [])));
    // A component's, subscribed once the prefetch has answered.
    let observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    if (fetching === 'prefetch') void client.prefetchQuery({ queryKey: ['track', 't1'], queryFn });
    else if (fetching === 'prefetch again') await client.prefetchQuery({ queryKey: ['track', 't1'], queryFn });
    else cleanups.push(observer.subscribe(() => {}));
    if (again) {
      await vi.waitFor(() => expect(client.getQueryData(['track', 't1'])).toEqual({ title: 'old' }));
      // Its entry gone (evicted, say), the refetch fetches.
      await cache.delete('track_metadata', 't1');
      if (fetching === 'refetch') void observer.refetch();
      else void client.prefetchQuery({ queryKey: ['track', 't1'], queryFn, staleTime: 0 });
    }
    await vi.waitFor(() => expect(fetchTrack).toHaveBeenCalledTimes(again ? 2 : 1));
    // The track changes on the server, and the app says so while that fetch is still under way.
    server = 'new';
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    release();
    if (fetching.startsWith('prefetch')) {
      await vi.waitFor(() => expect(client.isFetching()).toBe(0));
      observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
      cleanups.push(observer.subscribe(() => {}));
    }

    // Before: 'old' for good (staleTime Infinity), no fetch after the event: the fetch under way, started
    // before it, answered, and its success cleared the invalidation (a first fetch or a prefetch).
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toEqual({ title: 'new' }));
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([observer.getCurrentResult().data, queryFn.mock.calls.length]).toEqual([{ title: 'new' }, calls]);
  });
});
