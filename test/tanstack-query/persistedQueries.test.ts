// reprise/tanstack-query: what an experienced TanStack Query user expects of the adapter,
// with real QueryClients on real in-process caches (fake-indexeddb).
import { MutationObserver, QueryObserver, hashKey, onlineManager } from '@tanstack/query-core';
import { experimental_createQueryPersister, persistQueryClient, persistQueryClientRestore, persistQueryClientSave } from '@tanstack/query-persist-client-core';
import { describe, expect, it, vi } from 'vitest';
import { createPersister, createQueryStorage, invalidateQueriesOn } from '../../src/tanstack-query';
import { openCache } from '../support/openCache';
import { queryClient, reloadPersisted } from './queryClients';

describe('createQueryStorage', () => {
  it('a query whose key hashes to more than 4096 characters still works, and is persisted and restored', async () => {
    // A search over many ids: TanStack hashes the whole key, so the storage key is long.
    const queryKey = ['search', { ids: Array.from({ length: 600 }, (_, index) => `track-${index}`) }];
    expect(hashKey(queryKey).length).toBeGreaterThan(4096);
    const { cache, name, indexedDB, clock } = await openCache();
    const persister = experimental_createQueryPersister({ storage: createQueryStorage(cache, 'track_metadata') });
    const queryFn = vi.fn(async () => ['track-1', 'track-2']);
    // Before: the storage's getItem rejected (key too long), then TanStack's removeItem too, and the query failed.
    expect(await queryClient(persister.persisterFn).fetchQuery({ queryKey, queryFn })).toEqual(['track-1', 'track-2']);
    await vi.waitFor(async () => expect(await cache.keys('track_metadata')).toHaveLength(1));
    await cache.close();

    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    const storage = createQueryStorage(reopened, 'track_metadata');
    const restored = experimental_createQueryPersister({ storage });
    expect(await queryClient(restored.persisterFn).fetchQuery({ queryKey, queryFn })).toEqual(['track-1', 'track-2']);
    expect(queryFn).toHaveBeenCalledTimes(1);
    // Its entry is listed under TanStack's prefix, so persisterGc and removeQueries find and remove it.
    const [[storageKey]] = (await storage.entries()) as [[string, string]];
    expect(storageKey.startsWith('tanstack-query-')).toBe(true);
    await restored.removeQueries({ queryKey: ['search'] });
    expect(await reopened.keys('track_metadata')).toEqual([]);
  });
});

describe('invalidateQueriesOn with a queryFn reading through the cache', () => {
  it('two events in a row for one track: the query ends with what the server had after the second', async () => {
    const { cache } = await openCache();
    const client = queryClient();
    // The server's version of the track; each fetch answers with the version it saw when it started.
    let version = 0;
    let held: (() => void) | undefined;
    const fetcher = vi.fn(() => {
      const seen = `v${version}`;
      // The refetch after the first event is slow (held until released); the others answer at once.
      if (fetcher.mock.calls.length !== 2) return Promise.resolve(seen);
      return new Promise<string>((resolve) => (held = () => resolve(seen)));
    });
    const queryFn = vi.fn(() => cache.getOrSet('track_metadata', 't1', fetcher, { trackId: 't1' }));
    const observer = new QueryObserver(client, { queryKey: ['track', 't1'], queryFn });
    const unsubscribe = observer.subscribe(() => {});
    const stop = invalidateQueriesOn(cache, client, (event) => (event.trackId ? [['track', event.trackId]] : []));
    try {
      await vi.waitFor(() => expect(client.getQueryData(['track', 't1'])).toBe('v0'));

      version = 1;
      await cache.emit({ eventType: 'track_modified', trackId: 't1' });
      await vi.waitFor(() => expect(held).toBeDefined());
      // The second modification arrives while the refetch of the first is still on its way: TanStack
      // cancels that refetch and runs the queryFn again, after the event.
      version = 2;
      await cache.emit({ eventType: 'track_modified', trackId: 't1' });
      await vi.waitFor(() => expect(queryFn).toHaveBeenCalledTimes(3));
      held!();
      await vi.waitFor(() => expect(client.isFetching()).toBe(0));

      // Before: the queryFn run after the second event joined the fetch started before it, so the query
      // kept v1 for good (fresh forever), while the cache, knowing v1 stale, had not stored it.
      expect(client.getQueryData(['track', 't1'])).toBe('v2');
      expect(await cache.get('track_metadata', 't1')).toBe('v2');
    } finally {
      stop();
      unsubscribe();
    }
  });
});

describe('createPersister', () => {
  it('with persistQueryClient (a save on every change, throttled): the queries fetched before close() all come back after a reload', async () => {
    const { cache, name, indexedDB, clock } = await openCache();
    const client = queryClient();
    const [unsubscribe, restoring] = persistQueryClient({ queryClient: client, persister: createPersister(cache, { type: 'successful_api_metadata' }) });
    await restoring;
    // The first change is saved at once; the later ones wait out the throttle time.
    for (const id of ['a1', 'a2', 'a3']) await client.fetchQuery({ queryKey: ['album', id], queryFn: async () => ({ id }) });
    // An unmount: the provider unsubscribes, and the cache closes.
    unsubscribe();
    await cache.close();

    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    const after = queryClient();
    await persistQueryClientRestore({ queryClient: after, persister: createPersister(reopened, { type: 'successful_api_metadata' }) });
    expect(['a1', 'a2', 'a3'].map((id) => after.getQueryData(['album', id]))).toEqual([{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }]);
  });

  it("a query whose meta holds a function does not stop the client from being persisted (TanStack's own persisters drop it)", async () => {
    const opened = await openCache();
    const before = queryClient();
    await before.fetchQuery({ queryKey: ['album', 'a1'], queryFn: async () => ({ title: 'Blue' }) });
    // meta is the documented place for what a global onError callback needs; dehydrate copies it as it is.
    const onError = () => 'Could not load the lyrics';
    await before.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn: async () => 'la la', meta: { onError, label: 'lyrics', at: new Date(7) } });
    // Before: not_cloneable, so nothing was saved at all (and persistQueryClient's saves rejected unhandled).
    const after = await reloadPersisted(opened, before);
    expect(after.getQueryData(['album', 'a1'])).toEqual({ title: 'Blue' });
    expect(after.getQueryData(['lyrics', 't1'])).toBe('la la');
    // What can be kept of the meta is kept, as it is (a Date stays a Date).
    expect(after.getQueryCache().find({ queryKey: ['lyrics', 't1'] })?.meta).toEqual({ label: 'lyrics', at: new Date(7) });
  });

  it("a query whose data holds a function is left out of the saved client, and told to the cache's logger: the other queries are persisted, not the client saved before it", async () => {
    const opened = await openCache();
    const before = queryClient();
    const persister = createPersister(opened.cache, { type: 'successful_api_metadata', throttleTime: 0 });
    await before.fetchQuery({ queryKey: ['album', 'a1'], queryFn: async () => ({ title: 'Blue' }) });
    await persistQueryClientSave({ queryClient: before, persister });
    // An SDK's answer with a method of its own (TanStack's JSON persisters drop the function); the album changes after it.
    await before.fetchQuery({ queryKey: ['page', 1], queryFn: async () => ({ items: ['t1'], next: () => 2 }) });
    before.setQueryData(['album', 'a1'], { title: 'Green' });
    const after = await reloadPersisted(opened, before);
    // Before: { title: 'Blue' }, the client saved before the query came (every save since failed with not_cloneable).
    expect([after.getQueryData(['album', 'a1']), after.getQueryData(['page', 1])]).toEqual([{ title: 'Green' }, undefined]);
    expect(opened.logger.error.mock.calls.map(([message, error]) => [String(message), (error as { code?: string }).code])).toEqual([
      ['Reprise: createPersister left out of tanstack-query what cannot be stored: the query ["page",1]', 'not_cloneable'],
    ]);
  });

  it.each([
    // In a browser a Response cannot be cloned (nor an Error whose cause is one, as V8 clones an Error's cause); in Node an object with a method stands for it.
    ['an Error whose cause cannot be cloned', new Error('HTTP 503', { cause: { status: 503, retryAfter: () => 30 } }), 'HTTP 503'],
    ['what cannot be cloned (a thrown Response)', { status: 503, retryAfter: () => 30 }, '{"status":503}'],
  ])('a query whose refetch failed with %s, while it retries, does not stop the client from being persisted', async (_, thrown, message) => {
    const opened = await openCache();
    const before = queryClient();
    await before.fetchQuery({ queryKey: ['album', 'a1'], queryFn: async () => ({ title: 'Blue' }) });
    await before.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn: async () => 'la la' });
    // A refetch that fails waits to retry (TanStack retries 3 times by default): the query keeps its data and status
    // 'success', so dehydrate keeps it, and the failure with it (fetchFailureReason).
    const refetch = before.fetchQuery({ queryKey: ['lyrics', 't1'], queryFn: () => Promise.reject(thrown), staleTime: 0, retry: 1, retryDelay: 60_000 }).catch(() => {});
    await vi.waitFor(() => expect(before.getQueryState(['lyrics', 't1'])?.fetchFailureCount).toBe(1));
    const after = await reloadPersisted(opened, before);
    await before.cancelQueries();
    await refetch;
    expect(opened.logger.error).not.toHaveBeenCalled();
    expect([after.getQueryData(['album', 'a1']), after.getQueryData(['lyrics', 't1'])]).toEqual([{ title: 'Blue' }, 'la la']);
    // The failure is kept as far as it can be: an Error with its message.
    expect(after.getQueryState(['lyrics', 't1'])?.fetchFailureReason).toMatchObject({ message });
  });

  it("a mutation paused offline whose onMutate returned a rollback function (as TanStack's guide advises) does not stop the client from being persisted", async () => {
    const opened = await openCache();
    const before = queryClient();
    await before.fetchQuery({ queryKey: ['album', 'a1'], queryFn: async () => ({ title: 'Blue' }) });
    // Offline, a mutation pauses after its onMutate ran: the paused mutation, context and all, is what dehydrate keeps of it.
    onlineManager.setOnline(false);
    try {
      const rename = (variables: string, onMutate: () => unknown) => new MutationObserver<string, Error, string, unknown>(before, { mutationKey: ['rename', variables], mutationFn: async () => variables, onMutate }).mutate(variables).catch(() => {});
      void rename('Green', () => () => before.setQueryData(['album', 'a1'], { title: 'Blue' }));
      void rename('Red', () => ({ previous: { title: 'Blue' }, rollback: () => {} }));
      await vi.waitFor(() => expect(before.getMutationCache().getAll().map((mutation) => mutation.state.isPaused)).toEqual([true, true]));
      // Before: not_cloneable, so nothing was saved at all, for as long as the mutations waited to go online.
      const after = await reloadPersisted(opened, before);
      expect(after.getQueryData(['album', 'a1'])).toEqual({ title: 'Blue' });
      // The mutations come back to be resumed; their contexts without the functions, as TanStack's JSON persisters leave them.
      expect(after.getMutationCache().getAll().map(({ state }) => [state.variables, state.context, state.isPaused])).toEqual([
        ['Green', undefined, true],
        ['Red', { previous: { title: 'Blue' } }, true],
      ]);
    } finally {
      onlineManager.setOnline(true);
    }
  });
});
