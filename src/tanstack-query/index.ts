// `reprise/tanstack-query`: TanStack Query (@tanstack/query-core ≥ 5) on top of a Reprise cache.
// Nothing here is part of the main entry; it uses the public `Cache` and `CacheError`, and what the cache tells it at once (src/cacheInternals.ts).
export { createPersister } from './createPersister';
export type { PersistedClient, PersistRetryer, Persister, PersisterOptions } from './createPersister';
export { createQueryStorage } from './createQueryStorage';
export type { QueryStorage, QueryStorageOptions } from './createQueryStorage';
export { invalidateQueriesOn } from './invalidateQueriesOn';
export type { QueryKeysOf } from './invalidateQueriesOn';
