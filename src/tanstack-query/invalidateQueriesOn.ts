import type { InvalidateQueryFilters, QueryClient, QueryKey } from '@tanstack/query-core';
import type { Cache, CacheEvent, EventContext, Schemas } from 'reprise';
import { cacheInternals } from '../cacheInternals';
import { CacheError } from '../CacheError';
import { describeValue } from '../describeValue';
import { readArgument } from './readArgument';
import { checkCache } from './checkCache';

/** The query keys an event makes stale; each invalidates its queries the way `invalidateQueries` matches keys (by prefix). */
export type QueryKeysOf = (event: CacheEvent, context: EventContext) => readonly QueryKey[];

/**
 * Every library event, emitted here or in another tab (or caught up after a tab missed it), invalidates
 * the queries `toQueryKeys(event)` names, after the cache has removed its own stale entries: a refetch
 * whose queryFn reads through the cache then fetches anew. A tab that missed events it cannot replay (the
 * event log trimmed past them, or the database recreated, while it was frozen) cannot know which queries
 * they made stale: it invalidates them all (with a cache made by `createCache`, which says so). A query
 * that gets data older than an event that named it, later (a persisted client hydrated after the event,
 * saved by a tab before it; a query restored by its `persisterFn` or `restoreQueries`), is invalidated then:
 * the event could not reach it. So is a query whose fetch was under way, started before the event, once
 * that fetch has answered. Returns the unsubscribe function.
 */
export function invalidateQueriesOn<N extends string = never>(cache: Cache<Schemas, N>, queryClient: Pick<QueryClient, 'invalidateQueries'>, toQueryKeys: QueryKeysOf): () => void {
  checkCache(cache, 'on', 'invalidateQueriesOn');
  // What is read of it now: a getter or a Proxy's trap may throw (see readArgument).
  const queries = readArgument('invalidateQueriesOn queryClient', () => {
    if (typeof queryClient?.invalidateQueries !== 'function') throw new CacheError('invalid_argument', 'invalidateQueriesOn: queryClient must be a QueryClient');
    return (queryClient as Partial<QueryClient>).getQueryCache?.();
  });
  if (typeof toQueryKeys !== 'function') throw new CacheError('invalid_argument', 'invalidateQueriesOn: toQueryKeys must be a function from an event to query keys');
  // What the events invalidated, as heard (the last HEARD): a query built or set with data older than one
  // (TanStack's dataUpdatedAt, this page's clock) got what it made stale. A hydrate sets isInvalidated too,
  // as it was saved: the invalidation of a query built before the restore is undone. A fetch's data is not
  // looked at (a clock set back would refetch it over and over); setQueryData's is newer than any event heard,
  // unless given an older updatedAt (restoreQueries gives the stored one). One heard
  // before of a key this one matches (the same, or a longer one) tells nothing more: not kept twice, so that
  // a key every event names (a list's) does not push out those heard once.
  let heard: { queryKey: QueryKey; at: number }[] = [];
  const hear = (queryKey: QueryKey, at = Date.now()) =>
    (heard = heard.filter((kept) => kept.at > at || !startsWith(kept.queryKey, queryKey))).push({ queryKey, at }) > HEARD && heard.shift();
  // When the tab last forgot changes it could not replay: as heard of every key, and kept apart (the events it may then hear would push it out).
  let forgotAt = -Infinity;
  // Once per query, TanStack's way: every query its invalidateQueries matches, or those `predicate` keeps.
  const invalidate = (...filters: [InvalidateQueryFilters?]) => queryClient.invalidateQueries(...filters);
  // A fetch under way started before the event (or the forgetting), and brings what it made stale: TanStack's
  // invalidation joins a query's first fetch (and leaves an inactive one's running), whose success clears it.
  // Once it has answered (its data set, by then), the query is invalidated again unless its data changed since
  // (TanStack's structural sharing may keep the old object: by its time and its count of updates, as a refetch may
  // answer within the same millisecond); one the invalidation cancels (a refetch) rejects. After what TanStack
  // scheduled meanwhile: a persisterFn's restore sets its data's time then, which the check below invalidates (and
  // its refetch may have answered since).
  // Unsubscribed: an event heard before invalidates no query from then on, once its fetch under way answers. `live`: whether
  // the one that asked still listens (this mapping, or for a forgetting, any of the client's mappings: see everyQuery).
  let stopped = false;
  const refresh = (live: () => boolean, ...filters: [InvalidateQueryFilters?]) => {
    for (const query of queries?.findAll({ ...filters[0], fetchStatus: 'fetching' }) ?? []) {
      query.promise?.then(() => {
        const updated = () => `${query.state.dataUpdatedAt} ${query.state.dataUpdateCount}`;
        const answered = updated();
        setTimeout(() => !live() || updated() !== answered || query.state.isInvalidated || invalidate({ predicate: (found) => found === query }));
      }, () => {});
    }
    return invalidate(...filters);
  };
  // First: on a closed cache it throws, and nothing is left subscribed.
  const off = cache.on('*', (event, context) => {
    const queryKeys = toQueryKeys(event, context);
    if (!Array.isArray(queryKeys)) throw new CacheError('invalid_argument', `invalidateQueriesOn: toQueryKeys returned ${typeof queryKeys} for ${event.eventType}, expected an array of query keys`);
    // Only arrays are query keys: TanStack reads `queryKey: undefined` as "every query". The others are
    // skipped, and reported (by the cache's listener isolation, like a failing `on` listener).
    const invalid = queryKeys.findIndex((queryKey) => !Array.isArray(queryKey));
    const invalidated = Promise.all(queryKeys.filter((queryKey) => Array.isArray(queryKey)).map((queryKey) => (hear(queryKey), refresh(() => !stopped, { queryKey }))));
    if (invalid === -1) return invalidated;
    return invalidated.then(() => {
      throw new CacheError('invalid_argument', `invalidateQueriesOn: toQueryKeys gave ${describeValue(queryKeys[invalid])} at ${invalid} for ${event.eventType}, expected a query key (an array); it was skipped`);
    });
  });
  const unsubscribe = queries?.subscribe((change) => {
    const { query } = change;
    const { data, dataUpdatedAt } = query.state;
    // Built, set as saved (a hydrate, a persisterFn's restore), or given data with its time (restoreQueries' setQueryData).
    if (change.type !== 'added' && !(change.type === 'updated' && (change.action.type === 'setState' || (change.action.type === 'success' && change.action.manual)))) return;
    if (data === undefined || query.state.isInvalidated) return;
    // Older than the forgetting, or than an event heard of a key it starts with (the newest first: heard is in time order).
    let stale = dataUpdatedAt < forgotAt;
    for (let index = heard.length; !stale && index-- && dataUpdatedAt < heard[index]!.at; ) stale = startsWith(query.queryKey, heard[index]!.queryKey);
    if (stale) void invalidate({ predicate: (found) => found === query });
  });
  const stop = () => {
    off();
    unsubscribe?.();
  };
  // No event to map: every query. A cache made otherwise (a wrapper of the app's) does not say, and hears events only.
  const forgot = cacheInternals.get(cache)?.forgot;
  if (!forgot) return () => void ((stopped = true), stop());
  // Once per client, however many mappings it has: a second invalidateQueries would cancel each refetch the first started, and start it again.
  const clients = everyQuery.get(forgot) ?? new WeakMap();
  everyQuery.set(forgot, clients);
  const shared: { all: () => unknown; users: number } = clients.get(queryClient) ?? { all: () => refresh(() => shared.users > 0), users: 0 };
  clients.set(queryClient, shared);
  shared.users++;
  forgot.add(shared.all);
  const forget = () => void (forgotAt = Date.now());
  forgot.add(forget);
  return () => {
    stop();
    forgot.delete(forget);
    if (stopped) return;
    stopped = true;
    if (--shared.users === 0) forgot.delete(shared.all);
  };
}

/** Whether `queryKey` starts with `prefix`, as `invalidateQueries` matches them (TanStack's partialMatchKey: the adapter imports only types of @tanstack/query-core). */
function startsWith(queryKey: unknown, prefix: unknown): boolean {
  return (
    queryKey === prefix ||
    (typeof queryKey === 'object' && typeof prefix === 'object' && !!queryKey && !!prefix && Object.keys(prefix).every((name) => startsWith((queryKey as Record<string, unknown>)[name], (prefix as Record<string, unknown>)[name])))
  );
}

/** How many invalidations a mapping keeps for the queries that get older data later: the oldest goes first. */
const HEARD = 1000;

/** Per cache (its `forgot`), per query client: the one function that invalidates every query, and how many mappings share it. */
const everyQuery = new WeakMap<Set<() => unknown>, WeakMap<object, { all: () => unknown; users: number }>>();
