import { z } from 'zod/mini';
import { CONTENT_TYPES, type ContentType } from './contentType';
import { describeValue } from './describeValue';

// Records without zod's record schema, the largest piece of zod/mini an app would ship for Reprise:
// object schemas (there anyway), for plain objects only, as a record takes (not a Date, a Map or a
// class instance, which an object schema would read as {}).

const isPlainObject = (value: unknown): value is Record<string, unknown> => z.core.util.isPlainObject(value);

/** Any plain object, its values unchecked: `z.record(z.string(), z.unknown())`. */
export const plainRecord = () =>
  z.custom<Record<string, unknown>>(isPlainObject, { error: (issue) => `expected a plain object, got ${describeValue(issue.input)}` });

/** A plain object whose keys are content types, each with a `value`: `z.partialRecord(contentTypeSchema, value)`. */
export function contentTypeRecord<T extends z.ZodMiniType>(value: T) {
  const shape = Object.fromEntries(CONTENT_TYPES.map((type) => [type, z.exactOptional(value)])) as Record<ContentType, z.ZodMiniExactOptional<T>>;
  return z.pipe(plainRecord(), z.strictObject(shape));
}
