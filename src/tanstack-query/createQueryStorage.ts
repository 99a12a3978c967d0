import type { QueryKey } from '@tanstack/query-core';
import type { Cache, CacheType, Schemas } from 'reprise';
import type { Mark } from '../protocol';
import { CacheError } from '../CacheError';
import { cacheInternals } from '../cacheInternals';
import { describeValue } from '../describeValue';
import { yieldToEventLoop } from '../yieldToEventLoop';
import { checkCache } from './checkCache';
import { persistentTypeCheck } from './persistentTypeCheck';
import { readAgainOnDeath } from './readAgainOnDeath';
import { reportedSave } from './reportedSave';

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

export interface QueryStorageOptions {
  /**
   * The track (or tracks) a query's data belongs to, from its query key (or undefined): its entry is
   * stored tagged with them, so that the track's events remove it, in every tab, even when no tab has the
   * query, and the next use fetches it anew instead of restoring what the event made stale.
   */
  trackId?: (queryKey: QueryKey) => string | readonly string[] | undefined;
}

/** A getItem of a key: the store's mark taken with it (once there), and whether it found what TanStack restores. */
interface Read {
  marked: Promise<void>;
  since?: Mark;
  restored: boolean;
}

/** `NoInfer<T>` of TypeScript 5.4, for the apps' older compilers too. */
type NotInferred<T> = [T][T extends unknown ? 0 : never];

/** The cache's longest key (MAX_KEY_LENGTH of src/cacheArgs.ts, not imported: it would bring the argument schemas). */
const MAX_KEY_LENGTH = 4096;

/** 53 bits of a string (cyrb53): enough, four times seeded, to tell TanStack's query hashes apart. */
function hash53(text: string, seed: number): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/**
 * The cache key of a storage key. TanStack's key is its prefix and the query's hash, which a long query
 * key (a search over many ids) makes longer than the cache takes: such a key is stored as its start and
 * a hash of the whole, at most MAX_KEY_LENGTH long, so it keeps TanStack's prefix (what `entries` is
 * filtered by) and `removeItem` of a listed key finds it again (it is short enough to be taken as is).
 */
function cacheKey(key: string): string {
  if (typeof key !== 'string' || key.length <= MAX_KEY_LENGTH) return key;
  const digest = `#${[1, 2, 3, 4].map((seed) => hash53(key, seed)).join('')}`;
  return key.slice(0, MAX_KEY_LENGTH - digest.length) + digest;
}

/**
 * The query key of TanStack's storage key (`${prefix}-${queryHash}`, the hash being the key as JSON):
 * what `trackId` is given. A key made otherwise (a `queryKeyHashFn` of the app's) cannot be read back.
 */
function queryKeyOf(key: string): QueryKey {
  // The hash starts at a '-[', and a custom prefix may hold some too: the first the rest parses from is it.
  for (let start = typeof key === 'string' ? key.indexOf('-[') : -1; start !== -1; start = key.indexOf('-[', start + 1)) {
    try {
      const queryKey: unknown = JSON.parse(key.slice(start + 1));
      if (Array.isArray(queryKey)) return queryKey;
    } catch {
      // Not JSON from here: the prefix's own '-[' (else reported below).
    }
  }
  throw new CacheError('invalid_argument', `createQueryStorage: trackId needs a query key, and the storage key ${describeValue(key)} holds none (TanStack's keys are prefix-queryHash, with its default queryKeyHashFn)`);
}

/**
 * Queries as entries of `type`, which must be persistent (else every call rejects with `invalid_argument`).
 * The stored value is what `experimental_createQueryPersister`'s `serialize` makes, so it is TanStack's to
 * name (`experimental_createQueryPersister<PersistedQuery>({ storage, … })`), or to infer from `serialize`:
 * `V` is not inferred from where the storage is passed (TypeScript inferred `null` there).
 */
export function createQueryStorage<V = any, N extends string = never>(
  cache: Cache<Schemas, N>,
  type: CacheType<N>,
  options: QueryStorageOptions = {},
): QueryStorage<NotInferred<V>> {
  checkCache(cache, 'get', 'createQueryStorage');
  if (typeof type !== 'string') throw new CacheError('invalid_argument', 'createQueryStorage: type must be a persistent content type');
  const { trackId } = options ?? {};
  if (trackId !== undefined && typeof trackId !== 'function') throw new CacheError('invalid_argument', 'createQueryStorage: options.trackId must be a function from a query key to track ids');
  const ready = persistentTypeCheck(cache, type);
  const internals = cacheInternals.get(cache);
  /**
   * No stale write-back, as getOrSet keeps it: TanStack fetches a query it has no data of once its getItem
   * restored nothing (or what it restored was removed: expired, busted), and saves what the fetch brought.
   * The store's mark, taken with that read, before the fetch starts, guards that save: an event (or a
   * clear) since, from any tab, that removes the entry leaves it out. Kept by key until that save (what
   * was restored, until TanStack has kept or removed it); a save made without such a read (a refetch of a
   * query that has data) is not guarded: a storage does not see when its fetch started. (A cache not
   * made by createCache has no marks.)
   */
  const reads = new Map<string, Read>();
  return {
    getItem: async (key) => {
      const read: Read = { marked: Promise.resolve(), restored: false };
      if (internals) {
        read.marked = ready(() => internals.mark(type)).then((since) => void (read.since = since), () => {});
        reads.set(key, read);
      }
      const value = (await readAgainOnDeath(() => ready(() => cache.get(type, cacheKey(key))))) as V | undefined;
      read.restored = value !== undefined;
      // A miss: TanStack's fetch starts once this resolves, after the mark.
      if (!read.restored) await read.marked;
      // What it restores it keeps, or removes at once (then fetches): by the next turn it has done either.
      else void yieldToEventLoop().then(() => read.restored && reads.get(key) === read && reads.delete(key));
      return value;
    },
    // Never rejects: TanStack saves a fetched query from a callback it schedules, which catches nothing.
    setItem: (key, value) => {
      const read = reads.get(key);
      reads.delete(key);
      const since = read && !read.restored ? read.since : undefined;
      return reportedSave(cache, `Reprise: createQueryStorage could not save ${key}`, () =>
        ready(() => {
          const options = trackId && { trackId: trackId(queryKeyOf(key)) };
          return since && internals ? internals.setSince(type, cacheKey(key), value, options, since) : cache.set(type, cacheKey(key), value, options);
        }),
      );
    },
    removeItem: async (key) => {
      const read = reads.get(key);
      // What TanStack read and removes (expired, busted, unreadable) it fetches: that fetch starts after the mark too.
      if (read) read.restored = false;
      await Promise.all([ready(() => cache.delete(type, cacheKey(key))), read?.marked]);
    },
    entries: async () => (await ready(() => cache.entries(type))) as [string, V][],
  };
}
