import { defaultPolicies, type CachePolicy } from './cachePolicy';
import { cacheConfigSchema, policyPatchSchema, type CacheConfig, type PolicyPatch } from './configSchema';
import { CONTENT_TYPES, isPersistentType, parseContentType, type ContentType } from './contentType';
import { usesEventInvalidation, usesFingerprintValidation } from './invalidationStrategy';
import { parse } from './parse';
import { DAY, DEFAULT_NEGATIVE_RESULT_TTL, HOUR, INFINITE_TTL, MINUTE } from './time';

export const DEFAULT_CLEANUP_INTERVAL_SECONDS = 300;

/** The policy of every content type, validated once at construction. */
export class SmartCacheConfig {
  readonly negativeResultTtl: number;
  readonly cleanupIntervalSeconds: number;
  readonly #policies: Record<ContentType, CachePolicy>;

  constructor(config?: CacheConfig) {
    const { caching = {} } = parse(cacheConfigSchema, config ?? {}, 'invalid_config', 'config');
    this.negativeResultTtl = caching.negativeResultTtl ?? DEFAULT_NEGATIVE_RESULT_TTL;
    this.cleanupIntervalSeconds = caching.cleanupIntervalSeconds ?? DEFAULT_CLEANUP_INTERVAL_SECONDS;
    this.#policies = defaultPolicies(this.negativeResultTtl);
    for (const type of CONTENT_TYPES) {
      const patch = caching.policies?.[type];
      if (patch) Object.assign(this.#policies[type], withoutUndefined(patch));
    }
  }

  /** A copy of the type's policy. */
  getPolicy(type: ContentType): CachePolicy {
    return { ...this.#policy(type) };
  }

  getTtl(type: ContentType): number {
    return this.#policy(type).ttlSeconds;
  }

  getCleanupThreshold(type: ContentType): number {
    return this.#policy(type).cleanupThreshold;
  }

  shouldUseFingerprintValidation(type: ContentType): boolean {
    return usesFingerprintValidation(this.#policy(type).invalidationStrategy);
  }

  shouldUseEventInvalidation(type: ContentType): boolean {
    return usesEventInvalidation(this.#policy(type).invalidationStrategy);
  }

  /** Persistent types live in IndexedDB and survive reloads; the others live in one tab's memory. */
  static isPersistentCache(type: ContentType): boolean {
    return isPersistentType(parseContentType(type));
  }

  /** Changes some fields of a type's policy; the patch is validated like the config. Returns the new policy. */
  updatePolicy(type: ContentType, patch: PolicyPatch): CachePolicy {
    const policy = this.#policy(type);
    Object.assign(policy, withoutUndefined(parse(policyPatchSchema, patch, 'invalid_config', `policy patch for ${type}`)));
    return { ...policy };
  }

  /** Every policy, as a copy that can be changed without changing the config. */
  getAllPolicies(): Record<ContentType, CachePolicy> {
    return Object.fromEntries(CONTENT_TYPES.map((type) => [type, this.getPolicy(type)])) as Record<ContentType, CachePolicy>;
  }

  /** The config as plain data that rebuilds an equal config (for a worker, or to log). */
  toJSON(): CacheConfig {
    return {
      caching: {
        negativeResultTtl: this.negativeResultTtl,
        cleanupIntervalSeconds: this.cleanupIntervalSeconds,
        policies: Object.fromEntries(
          CONTENT_TYPES.map((type) => {
            const { contentType: _, ...fields } = this.#policies[type];
            return [type, fields];
          }),
        ),
      },
    };
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

  #policy(type: ContentType): CachePolicy {
    return this.#policies[parseContentType(type)];
  }
}

function withoutUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
