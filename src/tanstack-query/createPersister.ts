import type { DehydratedState } from '@tanstack/query-core';
import type { Cache, CacheType, Schemas } from 'reprise';
import { CacheError } from '../CacheError';
import { persistentTypeCheck } from './persistentTypeCheck';

/** What `persistQueryClient` saves: the same shape as `PersistedClient` of @tanstack/query-persist-client-core. */
export interface PersistedClient {
  timestamp: number;
  buster: string;
  clientState: DehydratedState;
}

/** A `Persister` for `persistQueryClient` and `PersistQueryClientProvider`. */
export interface Persister {
  persistClient(client: PersistedClient): Promise<void>;
  restoreClient(): Promise<PersistedClient | undefined>;
  removeClient(): Promise<void>;
}

export interface PersisterOptions<N extends string = never> {
  /** A persistent content type, built-in or the cache's own (else every call rejects with `invalid_argument`). */
  type: CacheType<N>;
  /** The entry's key; 'tanstack-query' by default. */
  key?: string;
}

/**
 * The whole query client as one entry of `type`. Every call first makes sure the type is persistent;
 * a stored value that is not a persisted client (written by something else) restores as nothing.
 */
export function createPersister<N extends string = never>(cache: Cache<Schemas, N>, options: PersisterOptions<N>): Persister {
  const { type, key = 'tanstack-query' } = options ?? ({} as Partial<PersisterOptions<N>>);
  if (typeof type !== 'string') throw new CacheError('invalid_argument', 'createPersister: options.type must be a persistent content type');
  if (typeof key !== 'string' || key === '') throw new CacheError('invalid_argument', 'createPersister: options.key must be a non-empty string');
  const ready = persistentTypeCheck(cache, type);
  return {
    async persistClient(client) {
      await ready();
      await cache.set(type, key, client);
    },
    async restoreClient() {
      await ready();
      const stored = await cache.get(type, key);
      return isPersistedClient(stored) ? stored : undefined;
    },
    async removeClient() {
      await ready();
      await cache.delete(type, key);
    },
  };
}

function isPersistedClient(value: unknown): value is PersistedClient {
  if (typeof value !== 'object' || value === null) return false;
  const { timestamp, buster, clientState } = value as Partial<Record<keyof PersistedClient, unknown>>;
  return (
    typeof timestamp === 'number' &&
    typeof buster === 'string' &&
    typeof clientState === 'object' &&
    clientState !== null &&
    Array.isArray((clientState as Partial<DehydratedState>).queries) &&
    Array.isArray((clientState as Partial<DehydratedState>).mutations)
  );
}
