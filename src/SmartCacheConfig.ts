import { DEFAULT_DESCRIPTIONS, type CachePolicy } from './cachePolicy';
import { cacheConfigSchema, policyPatchSchema, type CacheConfig, type PolicyPatch } from './configSchema';
import { CONTENT_TYPES, isPersistentType, type ContentType } from './contentType';
import { parseContentType } from './contentTypeSchema';
import { parse } from './parse';
import { PolicyTable } from './PolicyTable';
import { DAY, HOUR, INFINITE_TTL, MINUTE } from './time';

/** The policy of every content type, validated once at construction. */
export class SmartCacheConfig extends PolicyTable {
  constructor(config?: CacheConfig) {
    super(parse(cacheConfigSchema, config ?? {}, 'invalid_config', 'config'), DEFAULT_DESCRIPTIONS);
  }

  /** Every lookup checks its type: a type from an app's code may be anything. */
  protected override known(type: ContentType): ContentType {
    return parseContentType(type);
  }

  /** Persistent types live in IndexedDB and survive reloads; the others live in one tab's memory. */
  static isPersistentCache(type: ContentType): boolean {
    return isPersistentType(parseContentType(type));
  }

  getTtl(type: ContentType): number {
    return this.getPolicy(type).ttlSeconds;
  }

  getCleanupThreshold(type: ContentType): number {
    return this.getPolicy(type).cleanupThreshold;
  }

  /** Every policy, as a copy that can be changed without changing the config. */
  getAllPolicies(): Record<ContentType, CachePolicy> {
    return Object.fromEntries(CONTENT_TYPES.map((type) => [type, this.getPolicy(type)])) as Record<ContentType, CachePolicy>;
  }

  /** The config as plain data that rebuilds an equal config (for a worker, or to log). */
  toJSON(): CacheConfig {
    const policies = Object.fromEntries(
      CONTENT_TYPES.map((type) => {
        const { contentType: _, ...fields } = this.getPolicy(type);
        return [type, fields];
      }),
    );
    return { caching: { negativeResultTtl: this.negativeResultTtl, cleanupIntervalSeconds: this.cleanupIntervalSeconds, policies } };
  }

  /** Changes some fields of a type's policy; the patch is validated like the config. Returns the new policy. */
  updatePolicy(type: ContentType, patch: PolicyPatch): CachePolicy {
    const known = parseContentType(type);
    return this.patch(known, parse(policyPatchSchema, patch, 'invalid_config', `policy patch for ${type}`));
  }

  /** A TTL for people: "expired", "∞ (infinite)", or a whole number of its largest unit ("3d", "2h", "5m", "9s"). */
  formatTtl(seconds: number): string {
    if (seconds < 0) return 'expired';
    if (seconds >= INFINITE_TTL) return '∞ (infinite)';
    for (const [unit, size] of [
      ['d', DAY],
      ['h', HOUR],
      ['m', MINUTE],
    ] as const) {
      if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
    }
    return `${Math.floor(seconds)}s`;
  }
}
