import type { QueryKey } from '@tanstack/query-core';
import type { Cache, CacheType, Schemas } from 'reprise';
import type { Mark } from '../protocol';
import { CacheError } from '../CacheError';
import { cacheInternals } from '../cacheInternals';
import { describeValue } from '../describeValue';
import { checkCache } from './checkCache';
import { checkOptions } from './checkOptions';
import { MAX_KEY_LENGTH } from './maxKeyLength';
import { persistentTypeCheck } from './persistentTypeCheck';
import { againOnDeath } from './againOnDeath';
import { failedRead } from './failedRead';
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
  trackId?: ((queryKey: QueryKey) => string | readonly string[] | undefined) | undefined;
}

/** `NoInfer<T>` of TypeScript 5.4, for the apps' older compilers too. */
type NotInferred<T> = [T][T extends unknown ? 0 : never];

/** How many keys' marks a storage keeps for their next save (see `guards`): the oldest goes first. */
const GUARDS = 1000;


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
 * `V` is not inferred from where the storage is passed (TypeScript inferred `null` there). `N`, the cache's
 * custom type names, is inferred from `cache`; given `V` (`createQueryStorage<PersistedQuery>(cache, type)`),
 * TypeScript infers no other type argument: `N` is then any name, so that a custom type is not refused.
 */
export function createQueryStorage<V = any, N extends string = string>(
  cache: Cache<Schemas, N>,
  type: CacheType<N>,
  options: QueryStorageOptions = {},
): QueryStorage<NotInferred<V>> {
  checkCache(cache, 'get', 'createQueryStorage');
  if (typeof type !== 'string') throw new CacheError('invalid_argument', 'createQueryStorage: type must be a persistent content type');
  const { trackId } = checkOptions(options, ['trackId'], 'createQueryStorage');
  if (trackId !== undefined && typeof trackId !== 'function') throw new CacheError('invalid_argument', 'createQueryStorage: options.trackId must be a function from a query key to track ids');
  const ready = persistentTypeCheck(cache, type);
  const internals = cacheInternals.get(cache);
  /**
   * No stale write-back, as getOrSet keeps it: TanStack fetches a query once its getItem restored nothing,
   * or once it removed what it read (expired, busted, unreadable, or a read that failed), and saves what
   * the fetch brought. The store's mark, taken with that getItem or removeItem, before the fetch starts,
   * guards the key's next save: an event (or a clear) since, from any tab, that removes the entry leaves
   * it out. A getItem that restores something forgets it: the next save is a refetch of data TanStack
   * kept, which is not guarded (a storage does not see when its fetch started). Kept by call order, not
   * time (deserialize may be async); the last GUARDS keys only (a fetch that failed is never saved). A
   * removal of persisterGc or removeQueries guards the key's next save too: at worst, after an event of
   * its track, that one save is left out. (A cache not made by createCache has no marks.)
   */
  const guards = new Map<string, Mark>();
  const guard = (key: string, since: Mark | undefined) => {
    guards.delete(key);
    if (since === undefined) return;
    guards.set(key, since);
    if (guards.size > GUARDS) guards.delete(guards.keys().next().value!);
  };
  /** The last setItem of each key still on its way: one its worker died with is made again only while it is (see setItem). */
  const saving = new Map<string, object>();
  // Taken again of the next worker when its worker died with it (a save without it would go unguarded).
  const marked = () => (internals ? againOnDeath(() => ready(() => internals.mark(type))).catch(() => undefined) : Promise.resolve(undefined));
  return {
    getItem: async (key) => {
      const mark = marked();
      const value = (await againOnDeath(() => ready(() => cache.get(type, cacheKey(key)))).catch((error: unknown) => failedRead(cache, `Reprise: createQueryStorage could not read ${key}`, error))) as V | undefined;
      // A miss: TanStack's fetch starts once this resolves, after the mark.
      guard(key, value === undefined ? await mark : undefined);
      return value;
    },
    // Never rejects: TanStack saves a fetched query from a callback it schedules, which catches nothing.
    setItem: (key, value) => {
      const since = guards.get(key);
      guards.delete(key);
      const mine = {};
      saving.set(key, mine);
      const save = () =>
        ready(() => {
          const options = trackId && { trackId: trackId(queryKeyOf(key)) };
          return since && internals ? internals.setSince(type, cacheKey(key), value, options, since) : cache.set(type, cacheKey(key), value, options);
        });
      return reportedSave(cache, `Reprise: createQueryStorage could not save ${key}`, () =>
        // Its worker died with it, and the next one said it did not happen: made there, unless a later setItem or removeItem of the key came meanwhile.
        againOnDeath(save, () => saving.get(key) === mine).finally(() => saving.get(key) === mine && saving.delete(key)),
      );
    },
    removeItem: async (key) => {
      saving.delete(key);
      // What TanStack removes it fetches (once this resolves): that fetch starts after the mark too.
      const [, since] = await Promise.all([ready(() => cache.delete(type, cacheKey(key))), marked()]);
      guard(key, since);
    },
    // A read, made again on the next worker when its worker died with it (restoreQueries and persisterGc as the page opens).
    entries: async () => (await againOnDeath(() => ready(() => cache.entries(type)))) as [string, V][],
  };
}
