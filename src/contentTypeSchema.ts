import * as z from 'zod/mini';
import { CacheError } from './CacheError';
import { CUSTOM_TYPE_NAME, type TypeName } from './contentType';
import { describeValue } from './describeValue';

// Apart from contentType.ts: the worker, which receives checked types only, ships no validator for them.

/**
 * A content type's name as other tabs send it: any well-formed name (built-in names are well-formed
 * too), since another tab may have custom types this one does not know; the engine ignores those.
 */
export const contentTypeSchema = z.string().check(z.refine((name) => CUSTOM_TYPE_NAME.test(name)));

/** The value as one of `known` (the cache's content types), or `unknown_content_type` naming them. */
export function parseContentType(value: unknown, known: readonly TypeName[]): TypeName {
  if (typeof value === 'string' && known.includes(value)) return value;
  throw new CacheError('unknown_content_type', `Unknown content type ${describeValue(value)}; expected one of ${known.join(', ')}`);
}
