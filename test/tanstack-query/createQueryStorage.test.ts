// createQueryStorage as the storage of TanStack's experimental_createQueryPersister (one entry per
// query), with a real QueryClient on a real in-process cache (fake-indexeddb).
import { QueryClient, QueryObserver, type QueryKey } from '@tanstack/query-core';
import { experimental_createQueryPersister, type PersistedQuery } from '@tanstack/query-persist-client-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createQueryStorage, invalidateQueriesOn } from '../../src/tanstack-query';
import { IDBFactory } from 'fake-indexeddb';
import { failCommits, failRequest } from '../support/faultyIndexedDB';
import { killAtFirst, openRemoteCache } from '../support/inProcessWorkers';
import { openCache, rejection, uniqueName } from '../support/openCache';
import { unhandledRejections } from '../support/unhandledRejections';

const clients: QueryClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.clear();
});

/** A QueryClient whose queries persist through `persister`, fresh forever (only a miss fetches). */
function queryClient(persister: ReturnType<typeof experimental_createQueryPersister<never>>['persisterFn']): QueryClient {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister } } });
  clients.push(client);
  return client;
}

const ALBUM_KEY = 'tanstack-query-["album","a1"]';

/** A database of a new name holding one persisted query (album a1, data { title: 'Blue' }), its cache closed: the page about to open. */
async function storedAlbum(): Promise<{ name: string; indexedDB: IDBFactory; stored: string }> {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const { cache: before } = await openCache({ name, indexedDB });
  const stored = JSON.stringify({ buster: '', queryHash: '["album","a1"]', queryKey: ['album', 'a1'], state: { data: { title: 'Blue' }, dataUpdatedAt: Date.now() } });
  await createQueryStorage(before, 'successful_api_metadata').setItem(ALBUM_KEY, stored);
  await before.close();
  return { name, indexedDB, stored };
}
const LYRICS_KEY = 'tanstack-query-["lyrics","t1"]';

/**
 * Fetches ['lyrics', 't1'] through `storage` with a fetch that answers 'la' only once `emit` (an event of
 * t1's) is made: the fetch started before the event. Resolves once TanStack's save of what it brought has settled.
 */
async function fetchOvertaken(storage: ReturnType<typeof createQueryStorage<string>>, emit: () => Promise<unknown>, deserialize?: (stored: string) => Promise<PersistedQuery>) {
  const setItem = vi.spyOn(storage, 'setItem');
  let answer: (() => void) | undefined;
  const queryFn = vi.fn(() => new Promise<string>((resolve) => (answer = () => resolve('la'))));
  const persister = experimental_createQueryPersister({ storage, ...(deserialize && { deserialize }) });
  const fetching = queryClient(persister.persisterFn).fetchQuery({ queryKey: ['lyrics', 't1'], queryFn });
  await vi.waitFor(() => expect(answer).toBeDefined());
  await emit();
  answer!();
  expect(await fetching).toBe('la');
  await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(1));
  await Promise.all(setItem.mock.results.map(({ value }) => value));
}

describe('createQueryStorage', () => {
  it('with the default JSON: each query is an entry, and after a reload it comes back without a fetch', async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'successful_api_metadata') });
    const queryFn = vi.fn(async () => ({ title: 'Blue' }));
    await queryClient(persister.persisterFn).fetchQuery({ queryKey: ['album', 'a1'], queryFn });
    await vi.waitFor(async () => expect(await cache.keys('successful_api_metadata')).toEqual([ALBUM_KEY]));
    expect(JSON.parse((await cache.get('successful_api_metadata', ALBUM_KEY)) as string)).toMatchObject({ queryKey: ['album', 'a1'], state: { data: { title: 'Blue' } } });
    await cache.close();

    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    const restored = experimental_createQueryPersister({ storage: createQueryStorage(reopened, 'successful_api_metadata') });
    expect(await queryClient(restored.persisterFn).fetchQuery({ queryKey: ['album', 'a1'], queryFn })).toEqual({ title: 'Blue' });
    expect(queryFn).toHaveBeenCalledTimes(1);
  });

  // TanStack's retrieveQuery removes the entry on any error of getItem, and fetches: a worker that died
  // with the read lost the persisted query (offline, the query then fails). The next worker starts at once.
  it('a worker that dies while getItem reads: the read is asked of the next one, and the query is restored, not removed and fetched', async () => {
    const { name, indexedDB } = await storedAlbum();
    // The page cannot read it itself: the read goes to the worker, which the browser kills as it arrives.
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      direct: false,
      beforeCall: killAtFirst('getMany'),
    });
    try {
      const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'successful_api_metadata') });
      const queryFn = vi.fn(async () => ({ title: 'offline' }));
      const data = await queryClient(persister.persisterFn).fetchQuery({ queryKey: ['album', 'a1'], queryFn });
      // Before: fetched ('offline'), the stored query removed first.
      expect([data, queryFn.mock.calls.length]).toEqual([{ title: 'Blue' }, 0]);
    } finally {
      await cache.close();
    }
  });

  it("a worker that dies while entries reads (restoreQueries as the page opens): the read is asked of the next one, and the queries are restored", async () => {
    const { name, indexedDB } = await storedAlbum();
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      direct: false,
      beforeCall: killAtFirst('entries'),
    });
    try {
      const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'successful_api_metadata') });
      const client = queryClient(persister.persisterFn);
      const restored = await persister.restoreQueries(client).then(
        () => 'restored',
        (error: { code?: string }) => error.code,
      );
      // Before: worker_failed, and nothing restored (getItem and restoreClient read again on the next worker).
      expect([restored, client.getQueryData(['album', 'a1'])]).toEqual(['restored', { title: 'Blue' }]);
    } finally {
      await cache.close();
    }
  });

  // retrieveQuery removes the entry on any error of getItem, then fetches: a read that failed for good lost
  // the stored query, which a fetch that fails (offline) cannot replace. A failed read is a miss instead.
  it.each([
    ['IndexedDB fails it (UnknownError, as Chromium\'s "Failed to read large IndexedDB value")', 'storage_unavailable', false],
    ['its worker dies with it, and the next one with the read made again', 'worker_failed', true],
  ])("a getItem whose read fails, %s, answers nothing: TanStack fetches without removing the stored query, and the cache's logger is told, with %s", async (_, code, remote) => {
    const { name, indexedDB, stored } = await storedAlbum();
    let deaths = 0;
    const opened = remote
      ? await openRemoteCache({ name, indexedDB, direct: false, beforeCall: (method, __, worker) => void (method === 'getMany' && deaths++ < 2 && worker.kill()) })
      : await openCache({ name, indexedDB });
    const { cache, logger } = opened;
    const fault = remote ? () => {} : failRequest({ nth: 1, methods: ['get', 'getAll'], name: 'UnknownError', database: name });
    try {
      const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'successful_api_metadata') });
      const offline = vi.fn(async () => Promise.reject(new Error('offline')));
      expect(await rejection(queryClient(persister.persisterFn).fetchQuery({ queryKey: ['album', 'a1'], queryFn: offline }))).toMatchObject({ message: 'offline' });
      fault();
      // Before: undefined (TanStack removed it after the failed read), and the logger told nothing of it.
      const told = logger.error.mock.calls.filter(([message]) => /createQueryStorage/.test(String(message)));
      expect([await cache.get('successful_api_metadata', ALBUM_KEY), told]).toEqual([stored, [[expect.stringMatching(/createQueryStorage/), expect.objectContaining({ name: 'CacheError', code })]]]);
    } finally {
      fault();
      await cache.close();
    }
  });

  it('a query first used after close() (the app closed the cache, its QueryClient goes on) is fetched, not failed with closed, without a word', async () => {
    const { cache, logger } = await openCache();
    const storage = createQueryStorage(cache, 'track_metadata');
    const setItem = vi.spyOn(storage, 'setItem');
    await cache.close();
    const client = queryClient(experimental_createQueryPersister({ storage }).persisterFn);
    const unhandled = await unhandledRejections(async () => {
      const data = await client.fetchQuery({ queryKey: ['player'], queryFn: async () => ({ track: 't1' }) }).catch((error: { code?: string }) => error.code);
      // Before: closed (getItem rejected, and so did the removeItem TanStack made then).
      expect(data).toEqual({ track: 't1' });
      await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(1));
      await Promise.allSettled(setItem.mock.results.map(({ value }) => value));
    });
    expect(unhandled).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each([
    ['a save after a miss (guarded by its mark)', true],
    ['a save of a query that has data', false],
  ])('a save whose worker dies with it is made on the next one: %s', async (_, missed) => {
    const { cache, logger } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      beforeCall: killAtFirst('setMany'),
    });
    try {
      const storage = createQueryStorage(cache, 'track_metadata', { trackId: (queryKey) => String(queryKey[1]) });
      if (missed) expect(await storage.getItem(LYRICS_KEY)).toBeUndefined();
      await storage.setItem(LYRICS_KEY, '"la"');
      // Before: undefined, and the logger told worker_failed.
      expect([await cache.get('track_metadata', LYRICS_KEY), logger.error.mock.calls.filter(([message]) => /createQueryStorage/.test(String(message)))]).toEqual(['"la"', []]);
    } finally {
      await cache.close();
    }
  });

  it('with serialize and deserialize left out (identity), stores the persisted query itself, as IndexedDB can', async () => {
    const { cache } = await openCache();
    const storage = createQueryStorage<PersistedQuery>(cache, 'track_metadata');
    const persister = experimental_createQueryPersister<PersistedQuery>({ storage, serialize: (query) => query, deserialize: (query) => query });
    await queryClient(persister.persisterFn).fetchQuery({ queryKey: ['track', 't1'], queryFn: async () => ({ title: 'River', seconds: 184 }) });
    await vi.waitFor(async () => expect(await storage.entries()).toHaveLength(1));
    expect(await cache.get('track_metadata', 'tanstack-query-["track","t1"]')).toMatchObject({
      queryHash: '["track","t1"]',
      queryKey: ['track', 't1'],
      state: { data: { title: 'River', seconds: 184 }, status: 'success' },
    });
  });

  it('entries: restoreQueries brings back every stored query; persisterGc drops busted ones; other keys of the type are left alone', async () => {
    const { cache } = await openCache();
    const storage = createQueryStorage(cache, 'album_year');
    await cache.set('album_year', 'not-a-query', 1999);
    const old = experimental_createQueryPersister({ storage, buster: 'v1' });
    const client = queryClient(old.persisterFn);
    await client.fetchQuery({ queryKey: ['year', 'a1'], queryFn: async () => 1971 });
    await client.fetchQuery({ queryKey: ['year', 'a2'], queryFn: async () => 1984 });
    await vi.waitFor(async () => expect(await cache.keys('album_year')).toHaveLength(3));

    const fresh = queryClient(old.persisterFn);
    await old.restoreQueries(fresh);
    expect([fresh.getQueryData(['year', 'a1']), fresh.getQueryData(['year', 'a2'])]).toEqual([1971, 1984]);

    await experimental_createQueryPersister({ storage, buster: 'v2' }).persisterGc();
    expect(await cache.keys('album_year')).toEqual(['not-a-query']);
  });

  it("with trackId, each query is stored tagged with its track: the track's event, emitted while no tab has the query, removes it, and a reload fetches it anew", async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const trackId = (queryKey: QueryKey) => (queryKey[0] === 'lyrics' ? String(queryKey[1]) : undefined);
    const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'track_metadata', { trackId }) });
    const server = { t1: 'la', t2: 'do' };
    const queryFn = vi.fn(async ({ queryKey }: { queryKey: QueryKey }) => server[queryKey[1] as 't1' | 't2']);
    const client = queryClient(persister.persisterFn);
    for (const id of ['t1', 't2']) await client.fetchQuery({ queryKey: ['lyrics', id], queryFn });
    await vi.waitFor(async () => expect(await cache.keys('track_metadata')).toHaveLength(2));
    client.clear();
    // The track's lyrics change while no open tab has its query: invalidateQueriesOn has nothing to refetch.
    server.t1 = 'la la';
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await cache.close();

    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    const restored = queryClient(experimental_createQueryPersister({ storage: createQueryStorage(reopened, 'track_metadata', { trackId }) }).persisterFn);
    // Before: the entry was stored untagged, the event left it, and the reload restored the old lyrics.
    expect(await restored.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn })).toBe('la la');
    expect(await restored.fetchQuery({ queryKey: ['lyrics', 't2'], queryFn })).toBe('do');
    expect(queryFn).toHaveBeenCalledTimes(3);
  });

  it("with trackId, a query whose fetch started before its track's event (another tab's) is returned but not stored, as getOrSet's (no stale write-back): a reload fetches it anew", async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const trackId = (queryKey: QueryKey) => String(queryKey[1]);
    const storage = createQueryStorage(cache, 'track_metadata', { trackId });
    // The lyrics change ('la la' since), and another tab says so, while the fetch is on its way.
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await fetchOvertaken(storage, () => other.emit({ eventType: 'track_modified', trackId: 't1' }));
    await Promise.all([cache.close(), other.close()]);

    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    const restored = queryClient(experimental_createQueryPersister({ storage: createQueryStorage(reopened, 'track_metadata', { trackId }) }).persisterFn);
    // Before: the old lyrics, stored after the event had removed the entry, restored for good ('la').
    expect(await restored.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn: async () => 'la la' })).toBe('la la');
  });

  it.each([1, 3])("with trackId, a query whose first %i attempt(s) failed (TanStack's retries: a getItem miss each), its track's event made meanwhile: the attempt after it is saved, and so is a refetch", async (fails) => {
    const { cache } = await openCache();
    const trackId = (queryKey: QueryKey) => String(queryKey[1]);
    const storage = createQueryStorage<string>(cache, 'track_metadata', { trackId });
    const setItem = vi.spyOn(storage, 'setItem');
    const getItem = vi.spyOn(storage, 'getItem');
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: 0, retry: fails, retryDelay: 0, persister: experimental_createQueryPersister({ storage }).persisterFn } } });
    clients.push(client);
    const queryFn = vi.fn(async () => {
      const attempt = queryFn.mock.calls.length;
      if (attempt > fails) return `la${attempt}`;
      // The last failing attempt ends after the event: the one after it starts after it.
      if (attempt === fails) await cache.emit({ eventType: 'track_modified', trackId: 't1' });
      throw new Error('offline');
    });
    expect(await client.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn })).toBe(`la${fails + 1}`);
    expect(getItem).toHaveBeenCalledTimes(fails + 1);
    const saved = async (count: number) => {
      await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(count));
      await Promise.all(setItem.mock.results.map(({ value }) => value));
      return JSON.parse((await storage.getItem(LYRICS_KEY))!).state.data;
    };
    expect(await saved(1)).toBe(`la${fails + 1}`);
    await client.refetchQueries({ queryKey: ['lyrics', 't1'] });
    expect(await saved(2)).toBe(`la${fails + 2}`);
    await cache.close();
  });

  // deserialize may be async (TanStack awaits it: a decompression, a decryption), so TanStack's removeItem
  // of an expired query, and the fetch after it, may come turns after the getItem that read it.
  it("with trackId and an async deserialize, a query restored expired, removed and fetched, whose fetch started before its track's event (another tab's) is not stored", async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const trackId = (queryKey: QueryKey) => String(queryKey[1]);
    const storage = createQueryStorage(cache, 'track_metadata', { trackId });
    await storage.setItem(LYRICS_KEY, JSON.stringify({ buster: '', queryHash: '["lyrics","t1"]', queryKey: ['lyrics', 't1'], state: { data: 'la', dataUpdatedAt: clock.now() - 2 * 86_400_000 } }));
    const deserialize = async (stored: string): Promise<PersistedQuery> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return JSON.parse(stored) as PersistedQuery;
    };
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await fetchOvertaken(storage, () => other.emit({ eventType: 'track_modified', trackId: 't1' }), deserialize);
    // Before: the fetch's old lyrics were stored after the event ('la'): the read was forgotten a turn after getItem, before TanStack removed it.
    expect(await cache.get('track_metadata', LYRICS_KEY)).toBeUndefined();
    await Promise.all([cache.close(), other.close()]);
  });

  it("with trackId, a worker that dies with the mark a miss's getItem takes: the mark is taken of the next one, and a query whose fetch started before its track's event is not stored", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      beforeCall: killAtFirst('mark'),
    });
    try {
      const storage = createQueryStorage(cache, 'track_metadata', { trackId: (queryKey) => String(queryKey[1]) });
      await fetchOvertaken(storage, () => cache.emit({ eventType: 'track_modified', trackId: 't1' }));
      // Before: the mark died with its worker, the save went unguarded, and the old lyrics were stored after the event.
      expect(await cache.get('track_metadata', LYRICS_KEY)).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it.each([
    ['restored (then refetched after the event by invalidateQueriesOn)', 'restored'],
    ['restored expired, which TanStack removes and fetches (the fetch started after the event)', 'expired'],
  ])("with trackId, a query's fetch started after its track's event is stored: %s", async (_, how) => {
    const { cache, clock } = await openCache();
    const trackId = (queryKey: QueryKey) => String(queryKey[1]);
    const storage = createQueryStorage(cache, 'track_metadata', { trackId });
    const setItem = vi.spyOn(storage, 'setItem');
    const dataUpdatedAt = how === 'expired' ? clock.now() - 2 * 86_400_000 : Date.now();
    await storage.setItem(LYRICS_KEY, JSON.stringify({ buster: '', queryHash: '["lyrics","t1"]', queryKey: ['lyrics', 't1'], state: { data: 'la', dataUpdatedAt } }));
    const client = queryClient(experimental_createQueryPersister({ storage }).persisterFn);
    const server = { lyrics: 'la la' };
    const queryFn = vi.fn(async () => server.lyrics);
    const stop = invalidateQueriesOn(cache, client, (event) => [['lyrics', event.trackId]]);
    try {
      if (how === 'restored') {
        const observer = new QueryObserver(client, { queryKey: ['lyrics', 't1'], queryFn });
        const unsubscribe = observer.subscribe(() => {});
        await vi.waitFor(() => expect(client.getQueryData(['lyrics', 't1'])).toBe('la'));
        await cache.emit({ eventType: 'track_modified', trackId: 't1' });
        await vi.waitFor(() => expect(client.getQueryData(['lyrics', 't1'])).toBe('la la'));
        unsubscribe();
      } else {
        await cache.emit({ eventType: 'track_modified', trackId: 't1' });
        await storage.setItem(LYRICS_KEY, JSON.stringify({ buster: '', queryHash: '["lyrics","t1"]', queryKey: ['lyrics', 't1'], state: { data: 'la', dataUpdatedAt } }));
        expect(await client.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn })).toBe('la la');
      }
      await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(how === 'expired' ? 3 : 2));
      await Promise.all(setItem.mock.results.map(({ value }) => value));
      expect(JSON.parse((await cache.get('track_metadata', LYRICS_KEY)) as string)).toMatchObject({ state: { data: 'la la' } });
    } finally {
      stop();
    }
  });

  it.each(['in process', 'with a worker'] as const)("%s, with trackId: a query first used after its track's event, while that event is held behind a set an async schema checks, is stored (its fetch started after the event)", async (mode) => {
    const [name, indexedDB] = [uniqueName(), new IDBFactory()];
    let release!: () => void;
    const checked = new Promise<void>((resolve) => (release = resolve));
    // Checks 'slow' once released, any other value at once.
    const schema = { '~standard': { version: 1 as const, vendor: 'test', validate: (value: unknown) => (value === 'slow' ? checked : Promise.resolve()).then(() => ({ value })) } };
    const schemas = { album_year: schema };
    const { cache } = mode === 'in process' ? await openCache({ name, indexedDB, schemas }) : await openRemoteCache({ name, indexedDB, now: Date.now, schemas });
    try {
      // (A cache of album_year's own schema: typed as one of the default schemas' it is not.)
      const storage = createQueryStorage<string>(cache as never, 'track_metadata', { trackId: (queryKey) => String(queryKey[1]) });
      const setItem = vi.spyOn(storage, 'setItem');
      // The event is held (emit holds every type) until the set's value is checked.
      const calls = [cache.set('album_year', 'other', 'slow'), cache.emit({ eventType: 'track_modified', trackId: 't1' })];
      const fetching = queryClient(experimental_createQueryPersister({ storage }).persisterFn).fetchQuery({ queryKey: ['lyrics', 't1'], queryFn: async () => 'la la' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      await Promise.all(calls);
      expect(await fetching).toBe('la la');
      await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(1));
      await Promise.all(setItem.mock.results.map(({ value }) => value));
      // Before: its mark was taken before the held event reached the engine, which then left the save out.
      expect(await cache.get('track_metadata', LYRICS_KEY)).toEqual(expect.stringContaining('"data":"la la"'));
    } finally {
      await cache.close();
    }
  });

  it("trackId: a query of several tracks goes with any of them; a key holding no query key is reported to the cache's logger with invalid_argument and writes nothing", async () => {
    const { cache, logger } = await openCache();
    const storage = createQueryStorage(cache, 'successful_api_metadata', { trackId: (queryKey) => (queryKey[1] as { ids: string[] }).ids });
    await storage.setItem('tanstack-query-["playlist",{"ids":["t1","t2"]}]', '"mix"');
    await storage.setItem('tanstack-query-["playlist",{"ids":["t3"]}]', '"solo"');
    await cache.emit({ eventType: 'track_removed', trackId: 't2' });
    expect(await cache.keys('successful_api_metadata')).toEqual(['tanstack-query-["playlist",{"ids":["t3"]}]']);
    // Before: each rejected.
    await storage.setItem('not-a-query', '"v"');
    expect(await cache.has('successful_api_metadata', 'not-a-query')).toBe(false);
    await storage.setItem(42 as never, '"v"');
    expect(logger.error.mock.calls).toEqual([0, 1].map(() => [expect.stringMatching(/createQueryStorage/), expect.objectContaining({ name: 'CacheError', code: 'invalid_argument' })]));
    expect(() => createQueryStorage(cache, 'track_metadata', { trackId: 't1' as never })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it("trackId reads the query key after TanStack's prefix, a custom one holding '-[' too: the query is stored, and its track's event removes it", async () => {
    const { cache } = await openCache();
    const trackId = (queryKey: QueryKey) => String(queryKey[1]);
    for (const prefix of ['lyrics', 'app-[v2]']) {
      const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'track_metadata', { trackId }), prefix });
      const client = queryClient(persister.persisterFn);
      client.setQueryData(['lyrics', 't1'], 'la');
      // Before: with 'app-[v2]', the key was read from its first '-[', which is the prefix's: it held no query key, and the save rejected.
      await persister.persistQueryByKey(['lyrics', 't1'], client);
    }
    expect(await cache.keys('track_metadata')).toEqual(['app-[v2]-["lyrics","t1"]', 'lyrics-["lyrics","t1"]']);
    await cache.emit({ eventType: 'track_modified', trackId: 't1' });
    expect(await cache.keys('track_metadata')).toEqual([]);
  });

  // persisterFn saves a query it fetched from a callback it schedules, which catches nothing: a setItem
  // that rejected was the app's unhandled rejection.
  it.each([
    ['a value that cannot be cloned', 'not_cloneable', { track: 't1', onEnd: () => {} }, () => () => {}],
    ['a full disk', 'quota_exceeded', { track: 't1' }, (database: string) => failCommits(2, undefined, database)],
  ])("a query's save after its fetch that fails, %s, leaves nothing unhandled: the cache's logger is told, with %s, and the next queries are stored", async (_, code, data, fault) => {
    const { cache, logger, name } = await openCache();
    const storage = createQueryStorage<PersistedQuery>(cache, 'track_metadata');
    const setItem = vi.spyOn(storage, 'setItem');
    const client = queryClient(experimental_createQueryPersister<PersistedQuery>({ storage, serialize: (query) => query, deserialize: (query) => query }).persisterFn);
    const restore = fault(name);
    try {
      const unhandled = await unhandledRejections(async () => {
        expect(await client.fetchQuery({ queryKey: ['player'], queryFn: async () => data })).toBe(data);
        await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(1));
        await Promise.allSettled(setItem.mock.results.map(({ value }) => value));
        restore();
        await client.fetchQuery({ queryKey: ['album', 'a1'], queryFn: async () => ({ title: 'Blue' }) });
        await vi.waitFor(async () => expect(await cache.keys('track_metadata')).toEqual([ALBUM_KEY]));
      });
      // Before: the save rejected, and nothing caught it.
      expect(unhandled).toEqual([]);
      expect(logger.error.mock.calls).toEqual([[expect.stringMatching(/createQueryStorage/), expect.objectContaining({ name: 'CacheError', code })]]);
    } finally {
      restore();
    }
  });

  it('a query fetched while the cache closes (its queryFn answers after close()) is not stored, without a word', async () => {
    const { cache, logger } = await openCache();
    const storage = createQueryStorage(cache, 'track_metadata');
    const setItem = vi.spyOn(storage, 'setItem');
    const client = queryClient(experimental_createQueryPersister({ storage }).persisterFn);
    let answer: ((data: unknown) => void) | undefined;
    const unhandled = await unhandledRejections(async () => {
      const fetching = client.fetchQuery({ queryKey: ['player'], queryFn: () => new Promise((resolve) => (answer = resolve)) });
      await vi.waitFor(() => expect(answer).toBeDefined());
      await cache.close();
      answer!({ track: 't1' });
      expect(await fetching).toEqual({ track: 't1' });
      await vi.waitFor(() => expect(setItem).toHaveBeenCalledTimes(1));
      await Promise.allSettled(setItem.mock.results.map(({ value }) => value));
    });
    // Before: the save rejected with closed, unhandled.
    expect(unhandled).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  // The cache refuses an option it does not know (its options are strict objects): so does the storage.
  it("an option it does not know (a misspelt trackId, experimental_createQueryPersister's prefix) throws invalid_argument at once, naming it", async () => {
    const { cache } = await openCache();
    for (const option of ['trackID', 'prefix']) {
      // Before: taken without a word (a misspelt trackId stored every query untagged: its track's events left it).
      expect(() => createQueryStorage(cache, 'track_metadata', { [option]: () => 't1' } as never)).toThrow(
        expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringContaining(`options.${option}`) }),
      );
    }
    expect(() => createQueryStorage(cache, 'track_metadata', 't1' as never)).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringMatching(/options must be an object/) }));
  });

  it('removeItem deletes the entry; a missing one reads as undefined', async () => {
    const { cache } = await openCache();
    const storage = createQueryStorage(cache, 'track_metadata');
    await storage.setItem('q', '"v"');
    expect(await storage.getItem('q')).toBe('"v"');
    await storage.removeItem('q');
    expect(await storage.getItem('q')).toBeUndefined();
    expect(await cache.keys('track_metadata')).toEqual([]);
  });

  it('a setItem or removeItem made just before close() is applied, as the cache applies its own calls made before close()', async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const storage = createQueryStorage(cache, 'track_metadata');
    await storage.setItem('a', '"old"');
    await storage.setItem('b', '"gone"');
    const writes = Promise.all([storage.setItem('a', '"new"'), storage.removeItem('b')]);
    await cache.close();
    // Before: each reached the cache only after an await, once it was closed: they rejected with closed.
    await writes;
    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    expect(await createQueryStorage(reopened, 'track_metadata').entries()).toEqual([['a', '"new"']]);
  });

  // A save whose worker died with it is made again on the next worker, but after an await: close(), which
  // settles the calls made before it, refuses that one with closed, told to no one.
  it('a setItem made just before close() whose worker dies with it (the next one says it did not happen) is not stored, and is told to the cache\'s logger as worker_failed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache, logger } = await openRemoteCache({ name, indexedDB, beforeCall: killAtFirst('setMany') });
    const saved = createQueryStorage(cache, 'track_metadata').setItem('a', '"new"');
    await cache.close();
    await saved;
    const { cache: reopened } = await openCache({ name, indexedDB });
    expect(await reopened.keys('track_metadata')).toEqual([]);
    // Before: [], the save dropped without a word.
    expect(logger.error.mock.calls).toEqual([[expect.stringMatching(/createQueryStorage could not save a/), expect.objectContaining({ name: 'CacheError', code: 'worker_failed' })]]);
  });

  it("the storage's first calls, made just before close(), are applied too, in a custom persistent type as in a built-in one", async () => {
    const customTypes = { queries: { persistent: true, ttlSeconds: 86_400, invalidationStrategy: 'time_based', maxSizeMb: 5 } } as const;
    const { cache, name, indexedDB, clock } = await openCache({ config: { caching: { customTypes } } });
    await cache.set('track_metadata', 'b', '"gone"');
    const writes = Promise.all([createQueryStorage(cache, 'queries').setItem('a', '"new"'), createQueryStorage(cache, 'track_metadata').removeItem('b')]);
    await cache.close();
    // Before: they waited for the check that the type is persistent, reached the cache after close(), and rejected with closed.
    await writes;
    const { cache: reopened } = await openCache({ name, indexedDB, clock, config: { caching: { customTypes } } });
    expect(await reopened.entries('queries')).toEqual([['a', '"new"']]);
    expect(await reopened.keys('track_metadata')).toEqual([]);
  });

  it("a temporary type: the storage's reads reject with invalid_argument, so does the query using them, a setItem is reported to the cache's logger with it, and nothing is written", async () => {
    const { cache, logger } = await openCache();
    const storage = createQueryStorage(cache, 'negative_result');
    // Before: it rejected.
    await storage.setItem('q', 'v');
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/createQueryStorage/), expect.objectContaining({ name: 'CacheError', code: 'invalid_argument' }));
    expect(await rejection(storage.entries())).toMatchObject({ code: 'invalid_argument' });
    const persister = experimental_createQueryPersister({ storage });
    const failure = await rejection(queryClient(persister.persisterFn).fetchQuery({ queryKey: ['q'], queryFn: async () => 1 }));
    expect(failure).toMatchObject({ code: 'invalid_argument' });
    expect(failure.message).toMatch(/"negative_result" is temporary/);
    expect(await cache.keys('negative_result')).toEqual([]);
    expect(() => createQueryStorage(cache, undefined as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
