// Type tests of reprise/tanstack-query: a cache with schemas and custom types fits each function, and
// its custom type names are accepted where a content type is asked.
import { removeOldestQuery, type PersistedClient, type Persister, type Promisable } from '@tanstack/query-persist-client-core';
import { z } from 'zod';
import { createCache } from '../../src/index';
import { createPersister, createQueryStorage } from '../../src/tanstack-query/index';

const cache = await createCache({
  config: { caching: { customTypes: { queries: { persistent: true, ttlSeconds: 86_400, invalidationStrategy: 'time_based', maxSizeMb: 20 } } } },
  schemas: { album_year: z.number() },
});
createPersister(cache, { type: 'queries' });
createPersister(cache, { type: 'track_metadata', key: 'player' });
createQueryStorage(cache, 'queries');
// @ts-expect-error not a type of this cache
createQueryStorage(cache, 'podcast');
// @ts-expect-error not a type of this cache
createPersister(cache, { type: 'querys' });
// A retryer typed as @tanstack/query-async-storage-persister's AsyncPersistRetryer, which answers a PromiseLike.
declare const asyncRetry: (props: { persistedClient: PersistedClient; error: Error; errorCount: number }) => Promisable<PersistedClient | undefined>;
createPersister(cache, { type: 'queries', retry: asyncRetry });
// What createPersister returns is TanStack's Persister.
export const persister: Persister = createPersister(cache, { type: 'queries', retry: removeOldestQuery });
