import { DEFAULT_CLEANUP_THRESHOLD, defaultPolicies, type CachePolicy } from './cachePolicy';
import type { ValidConfig, ValidPolicyPatch } from './configSchema';
import type { EventType } from './cacheEvent';
import { CONTENT_TYPES, isPersistentType, type TypeName } from './contentType';
import { DEFAULT_NEGATIVE_RESULT_TTL } from './time';

export const DEFAULT_CLEANUP_INTERVAL_SECONDS = 300;

/**
 * The policy of every content type, built from a config that is valid already: the public
 * `SmartCacheConfig` validates it first (and holds its table: see policyTables), and the worker rebuilds
 * the page's config with this class alone, so the config is parsed once and the worker ships no config
 * schema. What only apps ask (`getTtl`, `getAllPolicies`, `toJSON`…) is SmartCacheConfig's.
 */
export class PolicyTable {
  readonly negativeResultTtl: number;
  readonly cleanupIntervalSeconds: number;
  /** Every type this config knows: the six built-in ones, then the custom ones in the config's order. */
  readonly types: readonly TypeName[];
  readonly #policies: Map<TypeName, CachePolicy>;
  readonly #unknown: ((type: TypeName, types: readonly TypeName[]) => unknown) | undefined;

  /**
   * `descriptions`: of the default policies (SmartCacheConfig's); the engine's table has none.
   * `unknown`: throws for a type not in the table — SmartCacheConfig's, whose types come from an app's
   * code; the worker's table gets types the page has checked (so it ships no validator).
   */
  constructor({ caching = {} }: ValidConfig, descriptions?: Partial<Record<TypeName, string>>, unknown?: (type: TypeName, types: readonly TypeName[]) => unknown) {
    this.#unknown = unknown;
    this.negativeResultTtl = caching.negativeResultTtl ?? DEFAULT_NEGATIVE_RESULT_TTL;
    this.cleanupIntervalSeconds = caching.cleanupIntervalSeconds ?? DEFAULT_CLEANUP_INTERVAL_SECONDS;
    this.#policies = new Map(Object.entries(defaultPolicies(this.negativeResultTtl, descriptions)));
    for (const type of CONTENT_TYPES) {
      const patch = caching.policies?.[type];
      if (patch) this.applyPatch(type, patch);
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

  /** Hybrid is both fingerprint-validated and event-invalidated. */
  shouldUseFingerprintValidation(type: TypeName): boolean {
    const strategy = this.#policy(type).invalidationStrategy;
    return strategy === 'fingerprint_based' || strategy === 'hybrid';
  }

  shouldUseEventInvalidation(type: TypeName): boolean {
    const strategy = this.#policy(type).invalidationStrategy;
    return strategy === 'event_driven' || strategy === 'hybrid';
  }

  /** Changes the fields a patch checked already sets (by SmartCacheConfig.updatePolicy, on the page: the worker's table follows it). */
  applyPatch(type: TypeName, patch: ValidPolicyPatch): void {
    Object.assign(this.#policy(type), Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)));
  }

  #policy(type: TypeName): CachePolicy {
    const policy = this.#policies.get(type);
    if (!policy) this.#unknown?.(type, this.types);
    return policy!;
  }
}
