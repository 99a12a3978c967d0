import type { Cache, CacheType, Schemas } from 'reprise';
import { CacheError } from '../CacheError';
import { inOrder } from '../inOrder';

/**
 * Resolves when `type` keeps its entries across reloads; rejects with `invalid_argument` when it is a
 * temporary type (its entries live in one tab's memory, so persisting queries there would silently
 * restore nothing), with `unknown_content_type` when the cache has no such type.
 *
 * Asked of the cache's own stats, not of the policy table, so that it holds for custom types too.
 * A cache that could not open IndexedDB (`stats().degraded`) keeps every type in memory and so cannot
 * tell one from the other: the check then lets every known type pass. Nothing survives a reload in
 * such a browser whatever the type, and the mistake is already caught wherever IndexedDB works.
 */
async function checkPersistentType<N extends string>(cache: Cache<Schemas, N>, type: CacheType<N>): Promise<void> {
  const stats = await cache.stats();
  const typeStats = (stats.types as Partial<typeof stats.types>)[type];
  if (typeStats === undefined) throw new CacheError('unknown_content_type', `unknown content type "${String(type)}"`);
  if (typeStats.storage !== 'indexeddb' && stats.degraded === null) {
    throw new CacheError('invalid_argument', `content type "${type}" is temporary: TanStack Query needs a persistent type to survive a reload`);
  }
}

/**
 * Runs `call` once `checkPersistentType` has passed, asked once: a success is remembered, a failure asked
 * again next time. Once passed, and none waits for the check any more, `call` is made at once, not after
 * an await: a call made before `close()` then reaches the cache before it, which settles it, instead of
 * after, which rejects it with `closed`. Calls are made in the order they came.
 */
export function persistentTypeCheck<N extends string>(cache: Cache<Schemas, N>, type: CacheType<N>): <T>(call: () => Promise<T>) => Promise<T> {
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
