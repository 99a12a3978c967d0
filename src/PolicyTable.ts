import { defaultPolicies, type CachePolicy } from './cachePolicy';
import type { ValidConfig, ValidPolicyPatch } from './configSchema';
import { CONTENT_TYPES, type ContentType } from './contentType';
import { usesEventInvalidation, usesFingerprintValidation } from './invalidationStrategy';
import { DEFAULT_NEGATIVE_RESULT_TTL } from './time';

export const DEFAULT_CLEANUP_INTERVAL_SECONDS = 300;

/**
 * The policy of every content type, built from a config that is valid already: the public
 * `SmartCacheConfig` validates it first, and the worker rebuilds the page's config with this class
 * alone, so the config is parsed once and the worker ships no config schema. What only apps ask
 * (`getTtl`, `getAllPolicies`, `toJSON`…) is SmartCacheConfig's.
 */
export class PolicyTable {
  readonly negativeResultTtl: number;
  readonly cleanupIntervalSeconds: number;
  readonly #policies: Record<ContentType, CachePolicy>;

  /** `descriptions`: of the default policies (SmartCacheConfig's); the engine's table has none. */
  constructor({ caching = {} }: ValidConfig, descriptions?: Partial<Record<ContentType, string>>) {
    this.negativeResultTtl = caching.negativeResultTtl ?? DEFAULT_NEGATIVE_RESULT_TTL;
    this.cleanupIntervalSeconds = caching.cleanupIntervalSeconds ?? DEFAULT_CLEANUP_INTERVAL_SECONDS;
    this.#policies = defaultPolicies(this.negativeResultTtl, descriptions);
    for (const type of CONTENT_TYPES) {
      const patch = caching.policies?.[type];
      if (patch) this.patch(type, patch);
    }
  }

  /** A copy of the type's policy. */
  getPolicy(type: ContentType): CachePolicy {
    return { ...this.#policy(type) };
  }

  /** Seconds past its TTL an entry is kept and may be served stale by getOrSet/resolve while it is refreshed. */
  getStaleWhileRevalidate(type: ContentType): number {
    return this.#policy(type).staleWhileRevalidateSeconds;
  }

  shouldUseFingerprintValidation(type: ContentType): boolean {
    return usesFingerprintValidation(this.#policy(type).invalidationStrategy);
  }

  shouldUseEventInvalidation(type: ContentType): boolean {
    return usesEventInvalidation(this.#policy(type).invalidationStrategy);
  }

  /** Changes the fields the (valid) patch sets; returns a copy of the new policy. */
  protected patch(type: ContentType, patch: ValidPolicyPatch): CachePolicy {
    const policy = this.#policy(type);
    Object.assign(policy, Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)));
    return { ...policy };
  }

  /**
   * The type, as one this table knows. Here it is trusted: the worker's table gets types the page has
   * checked (so the worker ships no validator); `SmartCacheConfig`, which apps call, checks them.
   */
  protected known(type: ContentType): ContentType {
    return type;
  }

  #policy(type: ContentType): CachePolicy {
    return this.#policies[this.known(type)];
  }
}
