import { z } from 'zod/mini';
import { CacheError } from './CacheError';
import { CONTENT_TYPES, type ContentType } from './contentType';
import { describeValue } from './describeValue';

// Apart from CONTENT_TYPES: the worker, which receives checked types only, ships no validator for them.
export const contentTypeSchema = z.enum(CONTENT_TYPES);

/** The value as a content type, or `unknown_content_type` naming the six that exist. */
export function parseContentType(value: unknown): ContentType {
  const result = contentTypeSchema.safeParse(value);
  if (result.success) return result.data;
  throw new CacheError(
    'unknown_content_type',
    `Unknown content type ${describeValue(value)}; expected one of ${CONTENT_TYPES.join(', ')}`,
  );
}
