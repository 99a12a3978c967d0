import type { DehydratedState } from '@tanstack/query-core';
import type { Cache, CacheType, Schemas } from 'reprise';
import { CacheError, isCacheError } from '../CacheError';
import { describeValue, reasonOf } from '../describeValue';
import { isWorkerDeath } from '../workerDeath';
import { checkCache } from './checkCache';
import { checkOptions } from './checkOptions';
import { MAX_KEY_LENGTH, tooLongKey } from './maxKeyLength';
import { persistentTypeCheck } from './persistentTypeCheck';
import { againOnDeath } from './againOnDeath';
import { failedRead } from './failedRead';
import { reportedSave } from './reportedSave';
import { tellFailure } from './tellFailure';
import { MAX_TIMER_MS } from '../time';
import { throttledSave, type ThrottledSave } from './throttledSave';
import { cacheInternals } from '../cacheInternals';

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

/**
 * What a failed save is made again with: a smaller client, or undefined to give up. TanStack's own
 * `PersistRetryer` (`removeOldestQuery` of @tanstack/query-persist-client-core) is one, and so is an
 * `AsyncPersistRetryer` of @tanstack/query-async-storage-persister (which may answer a PromiseLike).
 */
export type PersistRetryer = (props: { persistedClient: PersistedClient; error: Error; errorCount: number }) => PersistedClient | undefined | PromiseLike<PersistedClient | undefined>;

export interface PersisterOptions<N extends string = never> {
  /** A persistent content type, built-in or the cache's own (else every call rejects with `invalid_argument`). */
  type: CacheType<N>;
  /** The entry's key; 'tanstack-query' by default. */
  key?: string | undefined;
  /**
   * Milliseconds after a save during which later saves wait, the last one winning (1000 by default, as
   * for TanStack's own persisters; 0 saves every time). A waiting save is made at `close()`, not lost.
   */
  throttleTime?: number | undefined;
  /**
   * Asked, as TanStack's persisters ask it, after a save failed (a full disk that eviction could not make
   * room on, a client larger than the type's budget): the client it returns is saved instead, until one is
   * stored, a later save or a removeClient is made (by any persister of the entry: it stands for it), or
   * it returns undefined (then the last failure is told to the logger). None by default.
   */
  retry?: PersistRetryer | undefined;
}

/** What the persisters of one entry share. */
interface PersistedEntry {
  /** The saves they hold: each makes them before it reads, and drops them when it removes the client, as it does its own. */
  held: Set<ThrottledSave<PersistedClient>>;
  /** The saves begun and removals made by any of them: a retry's client is not written once a later one is. */
  changes: number;
  /** The removals made by any of them: a client read before one is not restored after it (a logout while the page restores). */
  removals: number;
  /** Whether the entry's removals by other calls than removeClient are followed (see createPersister). */
  watched?: boolean;
}

/** A removal of the entry's client, by any of its persisters or otherwise: a retry's client is not written after it, nor a client read before it restored. */
function removal(entry: PersistedEntry): void {
  entry.changes++;
  entry.removals++;
}

/** By entry, of each cache: the provider's persister, and one a logout makes where it needs it. */
const persistedEntries = new WeakMap<object, Map<string, PersistedEntry>>();

function persistedEntryOf(cache: object, type: string, key: string): PersistedEntry {
  let ofCache = persistedEntries.get(cache);
  if (!ofCache) persistedEntries.set(cache, (ofCache = new Map()));
  const id = JSON.stringify([type, key]);
  let entry = ofCache.get(id);
  if (!entry) ofCache.set(id, (entry = { held: new Set(), changes: 0, removals: 0 }));
  return entry;
}

/**
 * The whole query client as one entry of `type`. Every call first makes sure the type is persistent;
 * a stored value that is not a persisted client (written by something else) restores as nothing, and
 * so does a read that fails for good (see failedRead).
 */
export function createPersister<N extends string = never>(cache: Cache<Schemas, N>, options: PersisterOptions<N>): Persister {
  checkCache(cache, 'get', 'createPersister');
  const { type, key = 'tanstack-query', throttleTime = 1000, retry } = checkOptions(options, ['type', 'key', 'throttleTime', 'retry'], 'createPersister');
  if (typeof type !== 'string') throw new CacheError('invalid_argument', 'createPersister: options.type must be a persistent content type');
  if (typeof key !== 'string' || key === '') throw new CacheError('invalid_argument', 'createPersister: options.key must be a non-empty string');
  if (tooLongKey(key)) throw new CacheError('invalid_argument', `createPersister: options.key must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  // setTimeout takes Infinity (and anything past 2³¹ − 1 ms) for 1 ms: no throttle at all.
  if (typeof throttleTime !== 'number' || !(throttleTime >= 0 && throttleTime <= MAX_TIMER_MS)) throw new CacheError('invalid_argument', 'createPersister: options.throttleTime must be a number of milliseconds, from 0 to 2³¹ − 1');
  if (retry !== undefined && typeof retry !== 'function') throw new CacheError('invalid_argument', 'createPersister: options.retry must be a function from a failed save to a smaller client (or undefined)');
  const ready = persistentTypeCheck(cache, type);
  const entry = persistedEntryOf(cache, type, key);
  // A retry's client is not written once a later save (of any persister of the entry) or a removal is made: it would overwrite it.
  const overtaken = (save: number) => save !== entry.changes;
  // The first write is made at once (not after an await): one made just before close() reaches the cache before it.
  const saved = async (client: PersistedClient): Promise<void> => {
    const save = ++entry.changes;
    for (let errorCount = 0, died = false, trimmed = false, failed: unknown, attempt: PersistedClient | undefined = client; ; ) {
      try {
        return void (await ready(() => cache.set(type, key, storable(attempt!))));
      } catch (error) {
        // An attempt after a failure comes after an await: close() (which settles the save it flushed) refuses it, and the failure is what to tell.
        if (failed && isCacheError(error, 'closed')) throw failed;
        failed = error;
        // Its worker died with it, and the next one said it did not happen: made there, once (a death is no reason for a smaller client).
        if (isWorkerDeath(error) && !died && !overtaken(save)) {
          died = true;
          continue;
        }
        // One query whose data cannot be cloned (an SDK's object with a method) would keep every save from being
        // made while it lives, and a reload restore the client saved before it: it is left out (fetched again after
        // a reload), the rest saved, as TanStack's JSON persisters save the rest (they drop the function).
        if (isCacheError(error, 'not_cloneable') && !trimmed && !overtaken(save)) {
          trimmed = true;
          const kept = cloneableClient(storable(attempt!));
          if (kept.leftOut.length) {
            tellFailure(cache, `Reprise: createPersister left out of ${key} what cannot be stored: ${kept.leftOut.join(', ')}`, error);
            attempt = kept.client;
            continue;
          }
        }
        // retry is asked after a failure of the save itself (a full disk, a value that cannot be cloned): a second death is no reason either.
        if (!retry || isCacheError(error, 'closed') || isWorkerDeath(error)) throw error;
        if (overtaken(save)) return;
        attempt = await retry({ persistedClient: attempt!, error: error as Error, errorCount: ++errorCount });
        if (overtaken(save)) return;
        if (!attempt) throw error;
      }
    }
  };
  const { held } = entry;
  // The client removed otherwise than by removeClient — a delete of its key or a clear of its type (a logout's, then a
  // reload) — is removed as by it: a save held then would write it back after it, and a restore reading then would give
  // it back. This tab's as they are called (in order with the saves), another tab's as this tab hears them. Once per entry,
  // on a cache made by createCache, open, of that type (else a call says what is wrong, see ready).
  const internals = cacheInternals.get(cache);
  if (internals && !entry.watched && internals.types.has(type) && !internals.closed()) {
    entry.watched = true;
    const removed = (of: string, keys: readonly string[] | null) => {
      if (of !== type || (keys && !keys.includes(key))) return;
      removal(entry);
      for (const holding of [...held]) holding.drop(Promise.resolve());
    };
    internals.removing.add(removed);
    cache.watch(type, null, ({ kind, keys, source }) => {
      if (source !== 'remote' || (kind !== 'clear' && kind !== 'delete')) return;
      if (kind === 'clear' || keys) return removed(type, keys);
      // A delete of many keys is told as of any key (null): whether this one went, the store says. The saves held now
      // wait aside meanwhile (a close() or the page hidden would make them), then are made or dropped; those given since stay.
      // Made only if nothing was saved or removed since (a later save replaces it; a logout meanwhile stands).
      const aside = [...held].map((holding) => holding.aside());
      const { changes, removals } = entry;
      void cache
        .has(type, key)
        .catch(() => true)
        .then((there) => {
          const current = entry.changes === changes && entry.removals === removals;
          if (!there) removal(entry);
          for (const put of aside) put?.(there && current);
        });
    });
  }
  const save = throttledSave(cache, throttleTime, (client: PersistedClient) => reportedSave(cache, `Reprise: createPersister could not save ${key}`, () => saved(client)), held);
  return {
    persistClient(client: PersistedClient) {
      // Saved only as restoreClient reads it back: anything else (dehydrate's state, passed by mistake) would replace the
      // client saved, and restore as nothing. A save that fails never rejects (TanStack catches nothing): told.
      if (isPersistedClient(client)) return save(client);
      const error = new CacheError('invalid_argument', `persistClient: expected a persisted client ({ timestamp, buster, clientState }), got ${describeValue(client)}`);
      tellFailure(cache, `Reprise: createPersister could not save ${key}`, error);
      return Promise.resolve();
    },
    async restoreClient() {
      // A save still held (by any persister of the entry) is made first: the client restored is the last one given.
      for (const holding of [...held]) holding.flush();
      const removals = entry.removals;
      const stored = await againOnDeath(() => ready(() => cache.get(type, key))).catch((error: unknown) => failedRead(cache, `Reprise: createPersister could not read ${key}`, error));
      // A removeClient made meanwhile (a logout as the page starts) may land after the read, which then found the
      // client it removes: TanStack would hydrate it after the app cleared its QueryClient, and save it back.
      return isPersistedClient(stored) && entry.removals === removals ? stored : undefined;
    },
    removeClient() {
      // A save still held would write the client back after it is removed (a logout's clear()). The
      // removal's failure is the app's, which awaits it; the dropped save's callers (TanStack's) never hear it.
      removal(entry);
      const removed = ready(() => cache.delete(type, key)).then(() => {});
      for (const holding of [...held]) holding.drop(removed);
      return removed;
    },
  };
}

/**
 * The client as IndexedDB can store it. `dehydrate` copies each query's and mutation's `meta` as it is,
 * and apps keep functions there (what a global `onError` shows): those are left out, as TanStack's own
 * JSON persisters leave them out, instead of one query's meta failing the whole save with
 * `not_cloneable`. So are those of a paused mutation's `context`, what its `onMutate` returned: often a
 * rollback function, as TanStack's guide to optimistic updates advises, and paused mutations (offline)
 * are what the client is persisted for. A pending query's in-flight `promise` (dehydrated only when
 * `shouldDehydrateQuery` asks for pending queries) cannot outlive the page either: it is left out, and
 * the query restores as pending, without data. Nor can every failure a query or a mutation keeps (a
 * query retrying a refetch keeps its data, and so is dehydrated, with the failure): one that cannot be
 * cloned (a thrown Response, an Error whose `cause` is one) is kept as an Error with its message. The
 * data itself (and a mutation's variables, which it is resumed with) is stored as it is: a query or
 * mutation whose data cannot be cloned there is left out of the save once it fails (see cloneableClient).
 */
function storable(client: PersistedClient): PersistedClient {
  if (typeof client !== 'object' || client === null || typeof client.clientState !== 'object' || client.clientState === null) return client;
  const { queries, mutations } = client.clientState;
  const withoutFunctions = <T extends { meta?: unknown }>(item: T): T => ('meta' in item && item.meta !== undefined ? { ...item, meta: cloneable(item.meta) } : item);
  const withoutRollback = <T extends { state?: { context?: unknown } }>(mutation: T): T =>
    typeof mutation.state === 'object' && mutation.state !== null && mutation.state.context !== undefined ? { ...mutation, state: { ...mutation.state, context: cloneable(mutation.state.context) } } : mutation;
  // A query's failures, then a mutation's.
  const withFailures = <T extends { state?: object }>(item: T, fields: readonly string[]): T => {
    if (typeof item.state !== 'object' || item.state === null) return item;
    const state = item.state as Record<string, unknown>;
    const failures = fields.filter((field) => state[field] !== undefined && state[field] !== null);
    return failures.length ? { ...item, state: { ...state, ...Object.fromEntries(failures.map((field) => [field, storableFailure(state[field])])) } } : item;
  };
  return {
    ...client,
    clientState: {
      ...client.clientState,
      queries: Array.isArray(queries) ? queries.map(({ promise: _inFlight, ...query }) => withFailures(withoutFunctions(query), ['error', 'fetchFailureReason'])) : queries,
      mutations: Array.isArray(mutations) ? mutations.map((mutation) => withFailures(withoutFunctions(withoutRollback(mutation)), ['error', 'failureReason'])) : mutations,
    },
  };
}

/** The client without the queries and mutations that cannot be cloned (their data, their variables), and what those are. */
function cloneableClient(client: PersistedClient): { client: PersistedClient; leftOut: string[] } {
  const leftOut: string[] = [];
  const { queries, mutations } = client.clientState;
  const cloneable = <T>(item: T, name: () => string): boolean => {
    try {
      structuredClone(item);
      return true;
    } catch {
      leftOut.push(name());
      return false;
    }
  };
  const kept = {
    ...client,
    clientState: {
      ...client.clientState,
      queries: Array.isArray(queries) ? queries.filter((query) => cloneable(query, () => `the query ${query.queryHash}`)) : queries,
      mutations: Array.isArray(mutations) ? mutations.filter((mutation) => cloneable(mutation, () => (mutation.mutationKey ? `the mutation ${JSON.stringify(mutation.mutationKey)}` : 'a mutation'))) : mutations,
    },
  };
  return { client: kept, leftOut };
}

/** A failure as it is when it can be cloned, else an Error with its message (and an Error's name). */
function storableFailure(failure: unknown): unknown {
  try {
    structuredClone(failure);
    return failure;
  } catch {
    const kept = new Error(reasonOf(failure));
    if (failure instanceof Error) kept.name = failure.name;
    return kept;
  }
}

/**
 * A copy of `value` without its functions (and symbols), plain objects and arrays walked into (as JSON
 * leaves them: gone from an object, null in an array, undefined for `value` itself); anything else is kept as it is.
 */
function cloneable(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(typeof item === 'function' || typeof item === 'symbol' ? null : cloneable(item, seen));
    return copy;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'function' && typeof item !== 'symbol') copy[name] = cloneable(item, seen);
  }
  return copy;
}

function isPersistedClient(value: unknown): value is PersistedClient {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const { timestamp, buster, clientState } = value as Partial<Record<keyof PersistedClient, unknown>>;
    return (
      typeof timestamp === 'number' &&
      typeof buster === 'string' &&
      typeof clientState === 'object' &&
      clientState !== null &&
      Array.isArray((clientState as Partial<DehydratedState>).queries) &&
      Array.isArray((clientState as Partial<DehydratedState>).mutations)
    );
  } catch {
    // A getter that throws, a revoked Proxy: no client.
    return false;
  }
}
