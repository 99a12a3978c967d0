import * as z from 'zod/mini';
import { eventTypeSchema, type EventType } from './cacheEvent';
import { CONTENT_TYPES, CUSTOM_TYPE_NAME, isBuiltInType, type ContentType } from './contentType';
import { INVALIDATION_STRATEGIES } from './invalidationStrategy';
import { INFINITE_TTL } from './time';
import { atLeast, greaterThan, overwrite } from './numberChecks';
import { parse } from './parse';
import { recordOf } from './recordOf';
import { CacheError, type CacheErrorIssue } from './CacheError';
import { reasonOf } from './describeValue';

/**
 * Seconds, from a bound, or Infinity, which is taken as INFINITE_TTL: it stays a number in JSON (a
 * config's toJSON), in IndexedDB's expiry index and in the sweep's cutoff.
 */
const secondsOrInfinity = (error: string, bound?: z.core.$ZodCheck<number>) =>
  z.union([z.literal(Infinity), z.number()], { error }).check(...(bound ? [bound] : []), overwrite((seconds) => (seconds === Infinity ? INFINITE_TTL : seconds)));

/** A TTL in seconds, above 0; at or above INFINITE_TTL (Infinity too) an entry never expires (SPEC §3). */
export const ttlSecondsSchema = secondsOrInfinity('expected a number of seconds above 0, or Infinity', greaterThan(0));

/**
 * A call's own TTL (set, setMany's entries, getOrSet, resolve): any number of seconds, or Infinity. At 0 or below the entry
 * is written already expired, as in the original tool (its `ttl=0` and `ttl=-1`): no read returns it, the sweep counts it.
 * A policy's stays above 0: a type whose every entry expires as written is a mistake.
 */
export const callTtlSecondsSchema = secondsOrInfinity('expected a number of seconds (0 or less: expired at once), or Infinity');

/** A stale-while-revalidate window in seconds, 0 or more; Infinity serves an expired entry, refreshing it, for as long as it is kept. */
export const staleSecondsSchema = secondsOrInfinity('expected a number of seconds from 0, or Infinity', atLeast(0));

/**
 * Seconds between periodic sweeps, checked as a TTL: above 0 (a short one is the app's choice: a test
 * watching sweeps); at or above INFINITE_TTL (Infinity too), never (`cleanup()` by hand).
 */
const cleanupIntervalSchema = ttlSecondsSchema;

/**
 * A budget in MiB, above 0, or null for none. Infinity, a number too, is no budget: kept as null, which
 * JSON keeps (a config's toJSON, what the page sends its worker).
 */
const maxSizeMbSchema = z
  .nullable(z.union([z.literal(Infinity), z.number()], { error: 'expected a number of MB above 0, or null (no budget)' }).check(greaterThan(0)))
  .check(overwrite((mb) => (mb === Infinity ? null : mb)));

/** The fields of one policy a config or `updatePolicy` may change. */
export const policyPatchSchema = z.strictObject({
  ttlSeconds: z.optional(ttlSecondsSchema),
  invalidationStrategy: z.optional(z.literal([...INVALIDATION_STRATEGIES])),
  maxSizeMb: z.optional(maxSizeMbSchema),
  // A refinement, not z.lte: its check would ship for this one bound (refinements are on the page anyway).
  cleanupThreshold: z.optional(z.number().check(greaterThan(0, 'must be above 0'), z.refine((fraction) => fraction <= 1, { error: 'must be at most 1' }))),
  staleWhileRevalidateSeconds: z.optional(staleSecondsSchema),
  description: z.optional(z.string()),
});

export type PolicyPatch = z.input<typeof policyPatchSchema>;
/** A patch once validated. */
export type ValidPolicyPatch = z.output<typeof policyPatchSchema>;

const policiesSchema = z.strictObject(
  Object.fromEntries(CONTENT_TYPES.map((type) => [type, z.optional(policyPatchSchema)])) as Record<
    ContentType,
    z.ZodMiniOptional<typeof policyPatchSchema>
  >,
  // A name that is no built-in type is a misspelt one (the names show the right spelling), or one of the app's own put here by mistake.
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `not a built-in type (${CONTENT_TYPES.join(', ')}); types of your own go in caching.customTypes` : undefined) },
);

/** A type of the app's own: a whole policy, whether it is persistent, and which library events remove its entries. */
export const customTypeSchema = z.strictObject({
  persistent: z.boolean(),
  ttlSeconds: ttlSecondsSchema,
  invalidationStrategy: z.literal([...INVALIDATION_STRATEGIES]),
  maxSizeMb: maxSizeMbSchema,
  cleanupThreshold: policyPatchSchema.shape.cleanupThreshold,
  staleWhileRevalidateSeconds: policyPatchSchema.shape.staleWhileRevalidateSeconds,
  description: z.optional(z.string()),
  /**
   * Events other than manual_invalidation that remove its entries (with event invalidation); none by default.
   * Typed to take a readonly array too (a config written `as const`), which the array schema takes.
   */
  invalidatedBy: z.optional(z.array(eventTypeSchema) as z.ZodMiniType<readonly EventType[], readonly EventType[]>),
});

export type CustomTypeConfig = z.input<typeof customTypeSchema>;

/** Why a custom type may not be called `name`, if it may not. */
function refusedName(name: string): string | undefined {
  if (!CUSTOM_TYPE_NAME.test(name)) return `a custom type's name must match ${String(CUSTOM_TYPE_NAME)}, got ${JSON.stringify(name)}`;
  if (isBuiltInType(name)) return `${JSON.stringify(name)} is a built-in content type`;
  // Counts and reports are plain objects keyed by type: a name every object already has would read as a count.
  if (name in Object.prototype) return `${JSON.stringify(name)} is reserved (every JavaScript object has it)`;
  return undefined;
}

export const cacheConfigSchema = z.strictObject({
  caching: z.optional(
    z.strictObject({
      negativeResultTtl: z.optional(ttlSecondsSchema),
      cleanupIntervalSeconds: z.optional(cleanupIntervalSchema),
      policies: z.optional(policiesSchema),
      customTypes: z.optional(recordOf(customTypeSchema)),
    }),
  ),
});

/**
 * Validates a config, read through its toJSON where it has one (a SmartCacheConfig, as JSON.stringify reads it: the
 * object schema would read the instance as {}): an `invalid_config` naming every bad path, or saying what reading it threw.
 */
export function parseConfig(input: unknown): ValidConfig {
  let given: unknown;
  try {
    given = (input as { toJSON?: () => unknown } | undefined)?.toJSON?.() ?? input;
  } catch (error) {
    // Not read as its own fields instead: a SmartCacheConfig behind a Proxy (a Vue or MobX store), whose toJSON cannot
    // reach its private table, has none of its own, and would pass for the default config.
    throw new CacheError('invalid_config', `Invalid config: reading it threw (${reasonOf(error)})`, { cause: error });
  }
  return parse(cacheConfigSchema, given ?? {}, 'invalid_config', 'config', nameIssues(given));
}

/**
 * The custom types' refused names, checked apart from the record: zod does not look at the value of a
 * key its key schema refuses, and leaves a key `__proto__` (a config parsed from JSON can have one) out
 * without a word, so both would hide the value's own bad fields.
 */
function nameIssues(input: unknown): CacheErrorIssue[] {
  try {
    const customTypes = (input as { caching?: { customTypes?: unknown } } | undefined)?.caching?.customTypes;
    if (typeof customTypes !== 'object' || customTypes === null || Array.isArray(customTypes)) return [];
    return Object.entries(customTypes).flatMap(([name, value]) => {
      const refused = refusedName(name);
      if (!refused) return [];
      const path = `caching.customTypes.${name}`;
      const fields = name === '__proto__' ? fieldIssues(value).map((issue) => ({ ...issue, path: issue.path ? `${path}.${issue.path}` : path })) : [];
      return [...fields, { path, message: refused }];
    });
  } catch {
    // A config that throws as it is read: parse reads it again, and says so.
    return [];
  }
}

/** The bad fields of a custom type's policy that zod's record does not see. */
function fieldIssues(value: unknown): readonly CacheErrorIssue[] {
  try {
    parse(customTypeSchema, value, 'invalid_config', 'custom type');
    return [];
  } catch (error) {
    return (error as CacheError).issues;
  }
}

/** What `SmartCacheConfig` and `createCache` accept; every field is optional. */
export type CacheConfig = z.input<typeof cacheConfigSchema>;
/** A config whose custom types are named `N`: from a literal, TypeScript infers the names. */
export type CacheConfigOf<N extends string> = CacheConfig & { caching?: { customTypes?: Record<N, CustomTypeConfig> } };
/** A config once validated: what a PolicyTable is built from, and what the page sends its worker. */
export type ValidConfig = z.output<typeof cacheConfigSchema>;
