// The adapter's types: the README's per-query snippet as a TypeScript user writes it, with a built-in type and
// with a custom one (checked by `npm run typecheck`).
import { experimental_createQueryPersister, type PersistedQuery } from '@tanstack/query-persist-client-core';
import { createCache } from '../../src/index';
import { createQueryStorage, type QueryStorage } from '../../src/tanstack-query/index';

const cache = await createCache({
  config: { caching: { customTypes: { queries: { persistent: true, ttlSeconds: 86_400, invalidationStrategy: 'time_based', maxSizeMb: 20 } } } },
});
// Storing the persisted query itself (no JSON), as the README shows it. Before: TStorageValue was inferred
// as null, and neither serialize nor deserialize type-checked.
experimental_createQueryPersister({ storage: createQueryStorage(cache, 'track_metadata'), serialize: (query) => query, deserialize: (query) => query });
experimental_createQueryPersister({ storage: createQueryStorage(cache, 'queries'), serialize: (query) => query, deserialize: (query) => query });
// Naming the stored value TanStack's way, with a custom type.
experimental_createQueryPersister<PersistedQuery>({ storage: createQueryStorage(cache, 'queries'), serialize: (query) => query, deserialize: (query) => query });
// Naming it by createQueryStorage's own type argument, with a custom type of the cache as with a built-in one.
const named: QueryStorage<PersistedQuery> = createQueryStorage<PersistedQuery>(cache, 'queries');
experimental_createQueryPersister({ storage: named, serialize: (query) => query, deserialize: (query) => query });
void createQueryStorage<PersistedQuery>(cache, 'track_metadata');
// The default JSON, strings.
experimental_createQueryPersister({ storage: createQueryStorage(cache, 'queries') });
// @ts-expect-error not a type of this cache
createQueryStorage(cache, 'querys');
// A query's tracks, from its key, as the README shows it.
createQueryStorage(cache, 'track_metadata', { trackId: ([kind, id]) => (kind === 'lyrics' ? String(id) : undefined) });
createQueryStorage(cache, 'queries', { trackId: (queryKey) => queryKey.map(String) });
// @ts-expect-error a track id is a string
createQueryStorage(cache, 'track_metadata', { trackId: () => 1 });
