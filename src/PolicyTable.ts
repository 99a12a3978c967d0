import { DEFAULT_CLEANUP_THRESHOLD, defaultPolicies, type CachePolicy } from './cachePolicy';
import type { ValidConfig, ValidPolicyPatch } from './configSchema';
import type { EventType } from './cacheEvent';
import { CONTENT_TYPES, isPersistentType, type TypeName } from './contentType';
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
  /** Every type this config knows: the six built-in ones, then the custom ones in the config's order. */
  readonly types: readonly TypeName[];
  readonly #policies: Map<TypeName, CachePolicy>;

  /** `descriptions`: of the default policies (SmartCacheConfig's); the engine's table has none. */
  constructor({ caching = {} }: ValidConfig, descriptions?: Partial<Record<TypeName, string>>) {
    this.negativeResultTtl = caching.negativeResultTtl ?? DEFAULT_NEGATIVE_RESULT_TTL;
    this.cleanupIntervalSeconds = caching.cleanupIntervalSeconds ?? DEFAULT_CLEANUP_INTERVAL_SECONDS;
    this.#policies = new Map(Object.entries(defaultPolicies(this.negativeResultTtl, descriptions)));
    for (const type of CONTENT_TYPES) {
      const patch = caching.policies?.[type];
      if (patch) this.patch(type, patch);
    }
    for (const [type, { invalidatedBy = [], description = '', cleanupThreshold = DEFAULT_CLEANUP_THRESHOLD, staleWhileRevalidateSeconds = 0, ...policy }] of Object.entries(
      caching.customTypes ?? {},
    )) {
      this.#policies.set(type, { contentType: type, ...policy, cleanupThreshold, staleWhileRevalidateSeconds, description, invalidatedBy: [...invalidatedBy] });
    }
    this.types = [...this.#policies.keys()];
  }

  /** Whether the type is one of this config's (built-in or custom). */
  has(type: TypeName): boolean {
    return typeof type === 'string' && this.#policies.has(type);
  }

  /** Persistent types live in IndexedDB and survive reloads; the others live in one tab's memory. */
  isPersistent(type: TypeName): boolean {
    return this.#policy(type).persistent ?? isPersistentType(type);
  }

  /** A custom type's events besides manual_invalidation; undefined for a built-in type (whose events are fixed). */
  invalidatedBy(type: TypeName): readonly EventType[] | undefined {
    return this.#policy(type).invalidatedBy;
  }

  /** A copy of the type's policy. */
  getPolicy(type: TypeName): CachePolicy {
    const policy = this.#policy(type);
    return policy.invalidatedBy ? { ...policy, invalidatedBy: [...policy.invalidatedBy] } : { ...policy };
  }

  /** Seconds past its TTL an entry is kept and may be served stale by getOrSet/resolve while it is refreshed. */
  getStaleWhileRevalidate(type: TypeName): number {
    return this.#policy(type).staleWhileRevalidateSeconds;
  }

  shouldUseFingerprintValidation(type: TypeName): boolean {
    return usesFingerprintValidation(this.#policy(type).invalidationStrategy);
  }

  shouldUseEventInvalidation(type: TypeName): boolean {
    return usesEventInvalidation(this.#policy(type).invalidationStrategy);
  }

  /** A patch checked already (by SmartCacheConfig.updatePolicy, on the page): how the worker's table follows it. */
  applyPatch(type: TypeName, patch: ValidPolicyPatch): void {
    this.patch(type, patch);
  }

  /** Changes the fields the (valid) patch sets; returns a copy of the new policy. */
  protected patch(type: TypeName, patch: ValidPolicyPatch): CachePolicy {
    const policy = this.#policy(type);
    Object.assign(policy, Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)));
    return this.getPolicy(type);
  }

  /**
   * The type, as one this table knows. Here it is trusted: the worker's table gets types the page has
   * checked (so the worker ships no validator); `SmartCacheConfig`, which apps call, checks them.
   */
  protected known(type: TypeName): TypeName {
    return type;
  }

  #policy(type: TypeName): CachePolicy {
    return this.#policies.get(this.known(type))!;
  }
}
