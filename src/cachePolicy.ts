import type { EventType } from './cacheEvent';
import type { TypeName } from './contentType';
import type { InvalidationStrategy } from './invalidationStrategy';
import { DEFAULT_NEGATIVE_RESULT_TTL, HOUR, INFINITE_TTL, MINUTE, MONTH } from './time';

/** How one content type is cached. */
export interface CachePolicy {
  contentType: TypeName;
  ttlSeconds: number;
  invalidationStrategy: InvalidationStrategy;
  /** The type's byte budget in MiB; null means no budget. */
  maxSizeMb: number | null;
  /** A write that leaves the type above `cleanupThreshold × maxSizeMb` evicts back below that mark. */
  cleanupThreshold: number;
  /** Past its TTL, an entry may still be served by getOrSet/resolve this long while it is refreshed (and the sweep keeps it). */
  staleWhileRevalidateSeconds: number;
  description: string;
  /** Custom types only: whether its entries live in IndexedDB (true) or in one tab's memory. */
  persistent?: boolean;
  /** Custom types only: the events besides manual_invalidation that remove its entries (with event invalidation). */
  invalidatedBy?: EventType[];
}

export const DEFAULT_CLEANUP_THRESHOLD = 0.8;

/** What each type is for, as SmartCacheConfig describes it (the engine, which never shows a description, does without). */
export const DEFAULT_DESCRIPTIONS: Readonly<Record<TypeName, string>> = {
  track_metadata: 'Track metadata, valid until the track changes',
  successful_api_metadata: 'Successful metadata API responses, valid until the track or album changes',
  failed_api_lookup: 'Failed API lookups, retried after an hour',
  album_year: 'Album release years, refreshed monthly or on library sync',
  negative_result: 'Lookups that found nothing',
  generic: 'Anything else, kept for five minutes',
};

/** The policy table every config starts from; a type without a description here has an empty one. */
export function defaultPolicies(
  negativeResultTtl = DEFAULT_NEGATIVE_RESULT_TTL,
  descriptions: Partial<Record<TypeName, string>> = {},
): Record<TypeName, CachePolicy> {
  const policy = (contentType: TypeName, ttlSeconds: number, invalidationStrategy: InvalidationStrategy, maxSizeMb: number): CachePolicy => ({
    contentType,
    ttlSeconds,
    invalidationStrategy,
    maxSizeMb,
    cleanupThreshold: DEFAULT_CLEANUP_THRESHOLD,
    staleWhileRevalidateSeconds: 0,
    description: descriptions[contentType] ?? '',
  });
  return {
    track_metadata: policy('track_metadata', INFINITE_TTL, 'event_driven', 100),
    successful_api_metadata: policy('successful_api_metadata', INFINITE_TTL, 'event_driven', 30),
    failed_api_lookup: policy('failed_api_lookup', HOUR, 'time_based', 5),
    album_year: policy('album_year', MONTH, 'hybrid', 20),
    negative_result: policy('negative_result', negativeResultTtl, 'time_based', 10),
    generic: policy('generic', 5 * MINUTE, 'time_based', 30),
  };
}
