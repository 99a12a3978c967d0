import type { TypeName } from './contentType';
import type { Logger } from './Logger';

/**
 * What a cache made by `createCache` tells `reprise/tanstack-query` that its public API does not: enough
 * for an adapter's call made just before `close()` to reach the cache before it, as the cache's own do,
 * and its logger.
 */
export interface CacheInternals {
  /** Each content type, and whether it is persistent: known at once, where `stats()` would be a round trip. */
  readonly types: ReadonlyMap<TypeName, boolean>;
  /** Run by the first `close()` before it refuses calls: a call held back (a throttled save) is made there, and settled by it. */
  readonly closing: Set<() => void>;
  /** Where the adapter reports what it must not reject with (a save TanStack made without a catch). */
  readonly logger: Logger;
}

/** Keyed by the cache. A cache made otherwise (a wrapper of the app's) is not in it. */
export const cacheInternals = new WeakMap<object, CacheInternals>();
