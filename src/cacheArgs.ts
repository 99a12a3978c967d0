import { z } from 'zod';

// Schemas for the public API's arguments: parsed on the main thread, before anything crosses to the engine.

const nonBlank = (what: string) => z.string({ error: `${what} must be a non-blank string` }).regex(/\S/, { error: `${what} must be a non-blank string` });

/** Keys are ids and URLs; a longer one is a mistake (and would cost every index it is in). */
export const MAX_KEY_LENGTH = 4096;

export const keySchema = z
  .string({ error: 'key must be a non-empty string' })
  .min(1, { error: 'key must be a non-empty string' })
  .max(MAX_KEY_LENGTH, { error: `key must be at most ${MAX_KEY_LENGTH} characters` });

export const getOptionsSchema = z.strictObject({ fingerprint: nonBlank('fingerprint').optional() });

export const getManyArgsSchema = z.strictObject({
  keys: z.array(keySchema, { error: 'keys must be an array of non-empty strings' }),
  options: z.strictObject({ fingerprints: z.array(nonBlank('fingerprint').optional()).optional() }).optional(),
});

const setOptionsShape = {
  trackId: z.union([nonBlank('trackId'), z.array(nonBlank('trackId'))], { error: 'trackId must be a non-blank string or an array of them' }).optional(),
  album: z.strictObject({ artist: z.string(), album: z.string() }).optional(),
  fingerprint: nonBlank('fingerprint').optional(),
  ttlSeconds: z.number().finite().positive().optional(),
};

export const setOptionsSchema = z.strictObject(setOptionsShape);

export const entrySchema = z.strictObject({ key: keySchema, value: z.unknown(), ...setOptionsShape });

const isFunction = (value: unknown) => typeof value === 'function';

export const setManyOptionsSchema = z.strictObject({
  onProgress: z.custom<(done: number, total: number) => void>(isFunction, { error: 'onProgress must be a function' }).optional(),
});

export const fetcherSchema = z.custom<() => unknown>(isFunction, { error: 'fetcher must be a function' });

export const listenerSchema = z.custom<(...args: never[]) => unknown>(isFunction, { error: 'listener must be a function' });
