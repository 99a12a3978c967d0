import type { ContentType } from './contentType';
import type { InvalidationStrategy } from './invalidationStrategy';
import { DEFAULT_NEGATIVE_RESULT_TTL, HOUR, INFINITE_TTL, MINUTE, MONTH } from './time';

/** How one content type is cached. */
export interface CachePolicy {
  contentType: ContentType;
  ttlSeconds: number;
  invalidationStrategy: InvalidationStrategy;
  /** The type's byte budget in MiB; null means no budget. */
  maxSizeMb: number | null;
  /** A write that leaves the type above `cleanupThreshold × maxSizeMb` evicts back below that mark. */
  cleanupThreshold: number;
  /** Past its TTL, an entry may still be served by getOrSet/resolve this long while it is refreshed (and the sweep keeps it). */
  staleWhileRevalidateSeconds: number;
  description: string;
}

export const DEFAULT_CLEANUP_THRESHOLD = 0.8;

/** The policy table every config starts from. */
export function defaultPolicies(negativeResultTtl = DEFAULT_NEGATIVE_RESULT_TTL): Record<ContentType, CachePolicy> {
  const policy = (
    contentType: ContentType,
    ttlSeconds: number,
    invalidationStrategy: InvalidationStrategy,
    maxSizeMb: number,
    description: string,
  ): CachePolicy => ({
    contentType,
    ttlSeconds,
    invalidationStrategy,
    maxSizeMb,
    cleanupThreshold: DEFAULT_CLEANUP_THRESHOLD,
    staleWhileRevalidateSeconds: 0,
    description,
  });
  return {
    track_metadata: policy('track_metadata', INFINITE_TTL, 'event_driven', 100, 'Track metadata, valid until the track changes'),
    successful_api_metadata: policy(
      'successful_api_metadata',
      INFINITE_TTL,
      'event_driven',
      30,
      'Successful metadata API responses, valid until the track or album changes',
    ),
    failed_api_lookup: policy('failed_api_lookup', HOUR, 'time_based', 5, 'Failed API lookups, retried after an hour'),
    album_year: policy('album_year', MONTH, 'hybrid', 20, 'Album release years, refreshed monthly or on library sync'),
    negative_result: policy('negative_result', negativeResultTtl, 'time_based', 10, 'Lookups that found nothing'),
    generic: policy('generic', 5 * MINUTE, 'time_based', 30, 'Anything else, kept for five minutes'),
  };
}
