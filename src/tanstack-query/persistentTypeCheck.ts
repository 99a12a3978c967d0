import type { Cache, CacheType, Schemas } from 'reprise';
import { CacheError } from '../CacheError';
import { cacheInternals } from '../cacheInternals';
import { inOrder } from '../inOrder';

/** Why `type` cannot hold TanStack's data: unknown to the cache, or temporary (nothing would survive a reload). */
function notPersistent(type: string, persistent: boolean | undefined): CacheError {
  return persistent === undefined
    ? new CacheError('unknown_content_type', `unknown content type "${type}"`)
    : new CacheError('invalid_argument', `content type "${type}" is temporary: TanStack Query needs a persistent type to survive a reload`);
}

/**
 * For a cache that does not say at once (one not made by `createCache`): asked of its stats. One that
 * could not open IndexedDB (`stats().degraded`) keeps every type in memory, and so cannot tell one from
 * the other there: every known type passes.
 */
async function checkPersistentType<N extends string>(cache: Cache<Schemas, N>, type: CacheType<N>): Promise<void> {
  const stats = await cache.stats();
  const typeStats = (stats.types as Partial<typeof stats.types>)[type];
  if (typeStats === undefined) throw notPersistent(type, undefined);
  if (typeStats.storage !== 'indexeddb' && stats.degraded === null) throw notPersistent(type, false);
}

/**
 * Runs `call` when `type` keeps its entries across reloads (the cache's config says so: a custom type
 * too); otherwise rejects, without calling it, with `invalid_argument` for a temporary type (persisting
 * queries there would silently restore nothing) and `unknown_content_type` for one the cache lacks.
 *
 * A cache made by `createCache` knows its types at once, so `call` is made at once, not after an await:
 * a call made before `close()` then reaches the cache before it, which settles it, instead of after,
 * which rejects it with `closed`. Another cache is asked its stats once (a success is remembered, a
 * failure asked again next time), the calls made in the order they came.
 */
export function persistentTypeCheck<N extends string>(cache: Cache<Schemas, N>, type: CacheType<N>): <T>(call: () => Promise<T>) => Promise<T> {
  const types = cacheInternals.get(cache)?.types;
  if (types) {
    const persistent = types.get(type);
    return (call) => (persistent ? call() : Promise.reject(notPersistent(type, persistent)));
  }
  let passed = false;
  let checking: Promise<void> | undefined;
  return inOrder(
    () => passed || undefined,
    () =>
      (checking ??= checkPersistentType(cache, type).then(
        () => void (passed = true),
        (error: unknown) => {
          checking = undefined;
          throw error;
        },
      )).then(() => true as const),
  );
}
