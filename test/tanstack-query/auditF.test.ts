// Audit F of reprise/tanstack-query: what an experienced TanStack Query user expects of the adapter,
// with real QueryClients on real in-process caches (fake-indexeddb).
import { QueryClient, hashKey } from '@tanstack/query-core';
import { experimental_createQueryPersister } from '@tanstack/query-persist-client-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createQueryStorage } from '../../src/tanstack-query';
import { openCache } from '../support/openCache';

const clients: QueryClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.clear();
});

function queryClient(persister?: ReturnType<typeof experimental_createQueryPersister<never>>['persisterFn']): QueryClient {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister } } });
  clients.push(client);
  return client;
}

describe('auditF: createQueryStorage', () => {
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
