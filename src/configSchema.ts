import { z } from 'zod/mini';
import { CONTENT_TYPES, type ContentType } from './contentType';
import { INVALIDATION_STRATEGIES } from './invalidationStrategy';

// zod 4's numbers are finite.
const seconds = z.number().check(z.positive());

/** The fields of one policy a config or `updatePolicy` may change. */
export const policyPatchSchema = z.strictObject({
  ttlSeconds: z.optional(seconds),
  invalidationStrategy: z.optional(z.enum(INVALIDATION_STRATEGIES)),
  maxSizeMb: z.optional(z.nullable(z.number().check(z.positive()))),
  cleanupThreshold: z.optional(z.number().check(z.gt(0, { error: 'must be above 0' }), z.lte(1, { error: 'must be at most 1' }))),
  staleWhileRevalidateSeconds: z.optional(z.number().check(z.nonnegative())),
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
);

export const cacheConfigSchema = z.strictObject({
  caching: z.optional(
    z.strictObject({
      negativeResultTtl: z.optional(seconds),
      cleanupIntervalSeconds: z.optional(seconds),
      policies: z.optional(policiesSchema),
    }),
  ),
});

/** What `SmartCacheConfig` and `createCache` accept; every field is optional. */
export type CacheConfig = z.input<typeof cacheConfigSchema>;
/** A config once validated: what a PolicyTable is built from, and what the page sends its worker. */
export type ValidConfig = z.output<typeof cacheConfigSchema>;
