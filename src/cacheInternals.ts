import type { SetOptions } from './Cache';
import type { TypeName } from './contentType';
import type { Logger } from './Logger';
import type { Mark } from './protocol';

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
  /** Whether `close()` was called: TanStack goes on saving after it, and a throttle then holds nothing (no timer for a save refused). */
  readonly closed: () => boolean;
  /**
   * Each run once whenever the page hears that its tab forgot other tabs' changes it could not replay (the
   * event log trimmed past them, or the database recreated, while the tab was frozen): no event reaches the
   * `on` listeners, and every type's watchers hear an `invalidate` of any key (see forgotId).
   */
  readonly forgot: Set<() => unknown>;
  /**
   * Each run as the app calls `delete`, `deleteMany` or `clear` (its arguments checked, before it is sent), with
   * the keys it removes (null: every key of the type): a throttled save held then is dropped, as it is called.
   */
  readonly removing: Set<(type: TypeName, keys: readonly string[] | null) => void>;
  /** Where the adapter reports what it must not reject with (a save TanStack made without a catch). */
  readonly logger: Logger;
  /**
   * Where the type's store stands once the page's calls of the type made before it reach the engine (in every tab):
   * taken before a fetch of TanStack's starts, given to `setSince`.
   */
  readonly mark: (type: TypeName) => Promise<Mark>;
  /**
   * `set`, but the entry is left out (the call resolves all the same) when a change since `since` removes
   * it — an event or a clear, from any tab: the write of what a fetch brought (no stale write-back, as getOrSet's).
   */
  readonly setSince: (type: TypeName, key: string, value: unknown, options: SetOptions | undefined, since: Mark) => Promise<void>;
  /**
   * Sends createCache's `updatePolicy` of the type after the page's calls of it held now (see HeldCalls), holding those
   * made meanwhile; a `stats()` or `cleanup()` made after it waits until it is sent.
   */
  readonly patch: <T>(type: TypeName, send: () => T) => Promise<Awaited<T>>;
}

/** Keyed by the cache. A cache made otherwise (a wrapper of the app's) is not in it. */
export const cacheInternals = new WeakMap<object, CacheInternals>();
