import type { CacheConfig } from '../src/index';
import { DAY, MINUTE } from '../src/index';

/** A budget in KiB, as the MiB the config counts in. */
const kib = (size: number) => size / 1024;

/**
 * The demo's cache config. Budgets are small, so the bytes bars move with every lookup and a few
 * hundred lookups reach the cleanup threshold and evict; failed lookups and negative results expire
 * within minutes, so expiry and cleanup can be watched, and album years are served stale while they
 * are refreshed. TTLs and strategies of the other types stay the library's defaults. `artwork` is a
 * content type of the demo's own.
 */
export const DEMO_CONFIG = {
  caching: {
    negativeResultTtl: 2 * MINUTE,
    cleanupIntervalSeconds: 30,
    policies: {
      track_metadata: { maxSizeMb: kib(100) },
      successful_api_metadata: { maxSizeMb: kib(200) },
      // A changed TTL needs its own description: the library's names its default TTL (an hour, a month).
      failed_api_lookup: { ttlSeconds: 30, maxSizeMb: kib(10), description: 'Failed API lookups, retried after 30 seconds' },
      // Years go stale after two minutes and are then served for five more while they are refreshed.
      album_year: {
        maxSizeMb: kib(20),
        ttlSeconds: 2 * MINUTE,
        staleWhileRevalidateSeconds: 5 * MINUTE,
        description: 'Album release years, refreshed after two minutes (served stale meanwhile) or on library sync',
      },
      negative_result: { maxSizeMb: kib(10) },
      generic: { maxSizeMb: kib(50) },
    },
    customTypes: {
      // The demo's own type: generated album covers, as PNG Blobs, in IndexedDB. A changed album
      // (track_modified naming it) or a library sync draws them again.
      artwork: {
        persistent: true,
        ttlSeconds: DAY,
        invalidationStrategy: 'hybrid',
        maxSizeMb: kib(64),
        invalidatedBy: ['track_modified', 'library_sync'],
        description: 'Album covers (PNG Blobs), drawn again when the album changes',
      },
    },
  },
} satisfies CacheConfig;
