import { z } from 'zod/mini';
import { CacheError } from './CacheError';
import { describeValue } from './describeValue';

/** The kinds of value Reprise caches; each has its own policy. The strings are part of the API. */
export const CONTENT_TYPES = [
  'track_metadata',
  'successful_api_metadata',
  'failed_api_lookup',
  'album_year',
  'negative_result',
  'generic',
] as const;

export const contentTypeSchema = z.enum(CONTENT_TYPES);

export type ContentType = z.infer<typeof contentTypeSchema>;

/** The types kept in IndexedDB (they survive reloads); the others live in one tab's memory. */
const PERSISTENT_TYPES: ReadonlySet<ContentType> = new Set([
  'track_metadata',
  'successful_api_metadata',
  'album_year',
]);

export function isPersistentType(type: ContentType): boolean {
  return PERSISTENT_TYPES.has(type);
}

/** The value as a content type, or `unknown_content_type` naming the six that exist. */
export function parseContentType(value: unknown): ContentType {
  const result = contentTypeSchema.safeParse(value);
  if (result.success) return result.data;
  throw new CacheError(
    'unknown_content_type',
    `Unknown content type ${describeValue(value)}; expected one of ${CONTENT_TYPES.join(', ')}`,
  );
}
