import { DEFAULT_DESCRIPTIONS, type CachePolicy } from './cachePolicy';
import { CONTENT_TYPES } from './contentType';
import { CacheError, invalidError } from './CacheError';
import { describeValue } from './describeValue';
import type { CacheType } from './Cache';
import { parseConfig, policyPatchSchema, type CacheConfig, type CacheConfigOf, type PolicyPatch } from './configSchema';
import { isBuiltInType, isPersistentType, type TypeName } from './contentType';
import { parseContentType } from './contentTypeSchema';
import { parse } from './parse';
import { PolicyTable } from './PolicyTable';
import { policyTables } from './policyTables';
import { policyUpdates } from './policyUpdates';
import { DAY, DEFAULT_NEGATIVE_RESULT_TTL, HOUR, INFINITE_TTL, MINUTE, MONTH, WEEK } from './time';

/**
 * The policy of every content type (built-in, and custom ones named `N`), validated once at construction.
 * Apps see the methods of SPEC §2; the table itself (what the engine reads) is the package's, through policyTables.
 */
export class SmartCacheConfig<N extends string = never> {
  readonly #table: PolicyTable;

  // The seed's time constants were class attributes, which its tests read on a config (`self.config.INFINITE_TTL`):
  // on the class and, read-only, on every config too (the exported constants are the same numbers).
  static readonly MINUTE = MINUTE;
  static readonly HOUR = HOUR;
  static readonly DAY = DAY;
  static readonly WEEK = WEEK;
  static readonly MONTH = MONTH;
  static readonly INFINITE_TTL = INFINITE_TTL;
  static readonly DEFAULT_NEGATIVE_RESULT_TTL = DEFAULT_NEGATIVE_RESULT_TTL;
  get MINUTE(): number {
    return MINUTE;
  }
  get HOUR(): number {
    return HOUR;
  }
  get DAY(): number {
    return DAY;
  }
  get WEEK(): number {
    return WEEK;
  }
  get MONTH(): number {
    return MONTH;
  }
  get INFINITE_TTL(): number {
    return INFINITE_TTL;
  }
  /** The default, as the seed's class attribute: a config's own is its negative_result policy's ttlSeconds. */
  get DEFAULT_NEGATIVE_RESULT_TTL(): number {
    return DEFAULT_NEGATIVE_RESULT_TTL;
  }

  constructor(config?: CacheConfigOf<N>) {
    // A SmartCacheConfig given is read through its toJSON (see parseConfig), as createCache reads one.
    // Every lookup checks its type: a type from an app's code may be anything.
    this.#table = new PolicyTable(parseConfig(config), DEFAULT_DESCRIPTIONS, parseContentType);
    policyTables.set(this, this.#table);
  }

  /** A copy of the type's policy. */
  getPolicy(type: TypeName): CachePolicy {
    return this.#table.getPolicy(type);
  }

  getTtl(type: TypeName): number {
    return this.getPolicy(type).ttlSeconds;
  }

  shouldUseFingerprintValidation(type: TypeName): boolean {
    return this.#table.shouldUseFingerprintValidation(type);
  }

  shouldUseEventInvalidation(type: TypeName): boolean {
    return this.#table.shouldUseEventInvalidation(type);
  }

  /** Persistent types live in IndexedDB and survive reloads; the others live in one tab's memory. Custom types included. */
  isPersistent(type: CacheType<N>): boolean {
    return this.#table.isPersistent(type);
  }

  /** Whether one of the six built-in types is persistent (a custom type: ask a config's `isPersistent`). */
  static isPersistentCache(type: TypeName): boolean {
    return isPersistentType(parseContentType(type, CONTENT_TYPES));
  }

  /** The same answer on an instance, where the seed's staticmethod answers too (its own tests call it there). */
  isPersistentCache(type: TypeName): boolean {
    return SmartCacheConfig.isPersistentCache(type);
  }

  getCleanupThreshold(type: TypeName): number {
    return this.getPolicy(type).cleanupThreshold;
  }

  /** Every policy (built-in types, then custom ones), as a copy that can be changed without changing the config. */
  getAllPolicies(): Record<CacheType<N>, CachePolicy> {
    return Object.fromEntries(this.#table.types.map((type) => [type, this.getPolicy(type)])) as Record<CacheType<N>, CachePolicy>;
  }

  /** The config as plain data that rebuilds an equal config (for a worker, or to log). */
  toJSON(): CacheConfig {
    const { types, negativeResultTtl, cleanupIntervalSeconds } = this.#table;
    const fields = (type: TypeName) => {
      const { contentType: _, ...policy } = this.getPolicy(type);
      return policy;
    };
    const builtIn = types.filter(isBuiltInType);
    const custom = types.filter((type) => !isBuiltInType(type));
    const policies = Object.fromEntries(builtIn.map((type) => [type, fields(type)]));
    const customTypes = Object.fromEntries(custom.map((type) => [type, fields(type) as Required<ReturnType<typeof fields>>]));
    return {
      caching: {
        negativeResultTtl,
        cleanupIntervalSeconds,
        policies,
        ...(custom.length ? { customTypes } : {}),
      },
    };
  }

  /** Changes some fields of a type's policy; the patch is validated like the config. Returns the new policy. */
  updatePolicy(type: TypeName, patch: PolicyPatch): CachePolicy {
    const known = parseContentType(type, this.#table.types);
    const subject = `policy patch for ${type}`;
    let valid;
    try {
      valid = parse(policyPatchSchema, patch, 'invalid_config', subject);
    } catch (error) {
      throw withFixedFields(error as CacheError, subject, isBuiltInType(known));
    }
    this.#table.applyPatch(known, valid);
    // Caches whose engine runs in a worker apply it there too.
    for (const listener of policyUpdates.get(this) ?? []) listener(known, valid);
    return this.getPolicy(known);
  }

  /** A TTL for people: "expired", "∞ (infinite)", or a whole number of its largest unit ("3d", "2h", "5m", "9s"). */
  formatTtl(seconds: number): string {
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new CacheError('invalid_argument', `formatTtl: expected a number of seconds, got ${describeValue(seconds)}`);
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

/** Policy fields a config sets once, which a patch names in vain. */
const FIXED_FIELDS: readonly string[] = ['contentType', 'persistent', 'invalidatedBy'];

/** `error` with the patch's fixed fields (which the schema calls unknown) said to be fixed, and where they are set. */
function withFixedFields(error: CacheError, subject: string, builtIn: boolean): CacheError {
  const why = (field: string) =>
    field === 'contentType' ? "the policy's type" : builtIn ? "a built-in type's storage and events are fixed" : 'a custom type sets it once, in config.caching.customTypes';
  const issues = error.issues.map((issue) =>
    issue.message === 'unknown field' && FIXED_FIELDS.includes(issue.path) ? { path: issue.path, message: `cannot be changed with updatePolicy (${why(issue.path)})` } : issue,
  );
  return issues.some((issue, index) => issue !== error.issues[index]) ? invalidError('invalid_config', subject, issues, error.cause) : error;
}
