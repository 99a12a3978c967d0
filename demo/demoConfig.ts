import type { CacheConfig } from '../src/index';
import { MINUTE } from '../src/index';

/** A budget in KiB, as the MiB the config counts in. */
const kib = (size: number) => size / 1024;

/**
 * The demo's cache config. Budgets are small, so the bytes bars move with every lookup and a few
 * hundred lookups reach the cleanup threshold and evict; failed lookups and negative results expire
 * within minutes, so expiry and cleanup can be watched. TTLs and strategies of the other types stay
 * the library's defaults.
 */
export const DEMO_CONFIG = {
  caching: {
    negativeResultTtl: 2 * MINUTE,
    cleanupIntervalSeconds: 30,
    policies: {
      track_metadata: { maxSizeMb: kib(100) },
      successful_api_metadata: { maxSizeMb: kib(200) },
      failed_api_lookup: { ttlSeconds: 30, maxSizeMb: kib(10) },
      album_year: { maxSizeMb: kib(20) },
      negative_result: { maxSizeMb: kib(10) },
      generic: { maxSizeMb: kib(50) },
    },
  },
} satisfies CacheConfig;
