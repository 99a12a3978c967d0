import * as z from 'zod/mini';
import { callTtlSecondsSchema, staleSecondsSchema } from './configSchema';
import { overwrite } from './numberChecks';
import { lengthAtMost, nonBlank as nonBlankString, nonEmpty } from './lengthChecks';
import type { Logger } from './Logger';

// Schemas for the public API's arguments: parsed on the main thread, before anything crosses to the engine.

const nonBlank = (what: string) => nonBlankString(`${what} must be a non-blank string`);

/** Keys are ids and URLs; a longer one is a mistake (and would cost every index it is in). */
export const MAX_KEY_LENGTH = 4096;

export const keySchema = z
  .string({ error: 'key must be a non-empty string' })
  .check(
    nonEmpty('key must be a non-empty string'),
    lengthAtMost(MAX_KEY_LENGTH, `key must be at most ${MAX_KEY_LENGTH} characters`),
  );

export const keysSchema = z.array(keySchema, { error: 'keys must be an array of non-empty strings' });

/**
 * What keysSchema makes of plain keys (a copy, read as zod reads them) in one plain pass, where zod's takes the page a
 * long task for 100,000 keys; undefined for zod to read them again and say why (or count a long key's code points).
 */
export function plainKeys(keys: unknown): string[] | undefined {
  try {
    if (!Array.isArray(keys)) return undefined;
    const copy = Array.from({ length: keys.length }, (_, index): unknown => keys[index]);
    if (copy.every((key) => typeof key === 'string' && key && key.length <= MAX_KEY_LENGTH)) return copy as string[];
  } catch {
    // Read again by zod, which says what threw.
  }
  return undefined;
}

export const listOptionsSchema = z.strictObject({ prefix: z.optional(z.string({ error: 'prefix must be a string' })) });

// What an entry belongs to (trackId, album, fingerprint) may be null, as the seed's None and JSON's null: not
// given. Not ttlSeconds, where null could as well mean no TTL (as maxSizeMb: null is no budget).
export const getOptionsSchema = z.strictObject({ fingerprint: z.nullish(nonBlank('fingerprint')) });

export const getManyArgsSchema = z.strictObject({
  keys: keysSchema,
  options: z.optional(
    z.strictObject({ fingerprint: z.nullish(nonBlank('fingerprint')), fingerprints: z.nullish(z.array(z.nullish(nonBlank('fingerprint')))) }),
  ),
});

const setOptionsShape = {
  trackId: z.nullish(z.union([nonBlank('trackId'), z.array(nonBlank('trackId'))], { error: 'trackId must be a non-blank string or an array of them' })),
  album: z.nullish(z.strictObject({ artist: z.string(), album: z.string() })),
  fingerprint: z.nullish(nonBlank('fingerprint')),
  ttlSeconds: z.optional(callTtlSecondsSchema),
};

export const setOptionsSchema = z.strictObject(setOptionsShape);

/** By its shape: an iframe's AbortSignal is no instance of this frame's, nor is a polyfill's. */
const isSignal = (value: unknown) => typeof (value as AbortSignal | null)?.aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';

export const resolveOptionsSchema = z.strictObject({
  ...setOptionsShape,
  staleWhileRevalidateSeconds: z.optional(staleSecondsSchema),
  forceFresh: z.optional(z.boolean()),
  signal: z.optional(z.custom<AbortSignal>(isSignal, { error: 'signal must be an AbortSignal' })),
});

/** setMany's entries, copied as parse reads them: an item may throw as it is read (a getter, a Proxy's trap). */
export const entriesSchema = z.custom<readonly unknown[]>(Array.isArray, { error: 'expected an array' }).check(overwrite((entries) => [...entries]));

export const entrySchema = z.strictObject({ key: keySchema, value: z.unknown(), ...setOptionsShape });

const isFunction = (value: unknown) => typeof value === 'function';

export const setManyOptionsSchema = z.strictObject({
  onProgress: z.optional(z.custom<(done: number, total: number) => void>(isFunction, { error: 'onProgress must be a function' })),
});

export const fetcherSchema = z.custom<() => unknown>(isFunction, { error: 'fetcher must be a function' });

export const loggerSchema = z.custom<Logger>((value) => typeof (value as Logger | null)?.error === 'function', { error: 'logger needs an error method' });

export const listenerSchema = z.custom<(...args: never[]) => unknown>(isFunction, { error: 'listener must be a function' });
