import type { Cache, CacheType, Schemas } from 'reprise';
import { CacheError } from '../CacheError';
import { persistentTypeCheck } from './persistentTypeCheck';

/**
 * The `storage` of `experimental_createQueryPersister`: one entry per query. `V` is what its
 * `serialize` makes: a string by default (JSON), or the persisted query itself with
 * `serialize: (query) => query, deserialize: (query) => query`, which IndexedDB stores as it is.
 */
export interface QueryStorage<V = string> {
  getItem(key: string): Promise<V | undefined>;
  setItem(key: string, value: V): Promise<void>;
  removeItem(key: string): Promise<void>;
  /** Every live entry of the type; TanStack keeps those whose key has its prefix. */
  entries(): Promise<[string, V][]>;
}

/** Queries as entries of `type`, which must be persistent (else every call rejects with `invalid_argument`). */
export function createQueryStorage<V = string, N extends string = never>(cache: Cache<Schemas, N>, type: CacheType<N>): QueryStorage<V> {
  if (typeof type !== 'string') throw new CacheError('invalid_argument', 'createQueryStorage: type must be a persistent content type');
  const ready = persistentTypeCheck(cache, type);
  return {
    async getItem(key) {
      await ready();
      return (await cache.get(type, key)) as V | undefined;
    },
    async setItem(key, value) {
      await ready();
      await cache.set(type, key, value);
    },
    async removeItem(key) {
      await ready();
      await cache.delete(type, key);
    },
    async entries() {
      await ready();
      return (await cache.entries(type)) as [string, V][];
    },
  };
}
