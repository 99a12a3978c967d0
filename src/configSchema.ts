import { z } from 'zod';
import { CONTENT_TYPES, type ContentType } from './contentType';
import { invalidationStrategySchema } from './invalidationStrategy';

const seconds = z.number().finite().positive();

/** The fields of one policy a config or `updatePolicy` may change. */
export const policyPatchSchema = z.strictObject({
  ttlSeconds: seconds.optional(),
  invalidationStrategy: invalidationStrategySchema.optional(),
  maxSizeMb: z.number().finite().positive().nullable().optional(),
  cleanupThreshold: z
    .number()
    .gt(0, { error: 'must be above 0' })
    .lte(1, { error: 'must be at most 1' })
    .optional(),
  description: z.string().optional(),
});

export type PolicyPatch = z.input<typeof policyPatchSchema>;

const policiesSchema = z.strictObject(
  Object.fromEntries(CONTENT_TYPES.map((type) => [type, policyPatchSchema.optional()])) as Record<
    ContentType,
    z.ZodOptional<typeof policyPatchSchema>
  >,
);

export const cacheConfigSchema = z.strictObject({
  caching: z
    .strictObject({
      negativeResultTtl: seconds.optional(),
      cleanupIntervalSeconds: seconds.optional(),
      policies: policiesSchema.optional(),
    })
    .optional(),
});

/** What `SmartCacheConfig` and `createCache` accept; every field is optional. */
export type CacheConfig = z.input<typeof cacheConfigSchema>;
