import * as z from 'zod/mini';
import { CACHE_ERROR_CODES, CacheError, isCacheError } from './CacheError';
import { setOptionsSchema } from './cacheArgs';
import { reasonOf } from './describeValue';

/** The fingerprint the key was fetched for, if any: a call for another one does not take what it brought (see FetchRun.fingerprint). */
const fingerprint = z.optional(z.string());

/** What the tab that fetched a key tells the tabs waiting on it, over the fetch channel. */
// A plain union (two members): zod's discriminatedUnion would add most of a kilobyte to every app.
export const fetchOutcomeSchema = z.union([
  /**
   * Fetched. `stored`: the others read it from the shared store; otherwise `value` (as the fetcher gave it) travels here, and
   * `cached` says whether the fetching tab kept it (in its memory, at `at`) or not at all (skipStore).
   */
  z.strictObject({
    kind: z.literal('fetched'),
    lock: z.string(),
    fingerprint,
    ok: z.literal(true),
    stored: z.boolean(),
    cached: z.boolean(),
    value: z.optional(z.unknown()),
    // When the fetching tab stored it (cached): the others keep it until then + TTL, not a full TTL from when they hear it. None from an earlier deploy.
    at: z.optional(z.number()),
    // The options it was stored with there (TTL, tags): the others keep it so. None from an earlier deploy: their call's own.
    options: z.optional(setOptionsSchema),
    // When its fetcher was called (epoch ms): a tab that wrote or removed the key since, or heard so, does not take it. None from an earlier deploy.
    from: z.optional(z.number()),
  }),
  /** Failed; `aborted`: every caller in its tab left (or its value cannot travel), so a waiting tab fetches for itself. */
  z.strictObject({
    kind: z.literal('fetched'),
    lock: z.string(),
    fingerprint,
    ok: z.literal(false),
    aborted: z.boolean(),
    error: z.strictObject({ name: z.string(), message: z.string(), code: z.optional(z.literal([...CACHE_ERROR_CODES])) }),
  }),
]);

export type FetchOutcome = z.output<typeof fetchOutcomeSchema>;

/** What a tab tells as it fetches a key under its lock: an outcome told before (by a tab whose callers all left) is not this fetch's. */
export const fetchingSchema = z.strictObject({ kind: z.literal('fetching'), lock: z.string() });

export type Fetching = z.output<typeof fetchingSchema>;

/** An error as it can cross tabs: a CacheError keeps its code; others their name and message. */
export function describeError(error: unknown): Extract<FetchOutcome, { ok: false }>['error'] {
  // Not String(): a thrown object without a usable toString makes it throw, and the waiting tabs would hear nothing.
  if (!(error instanceof Error)) return { name: 'Error', message: reasonOf(error) };
  return isCacheError(error) ? { name: 'CacheError', message: error.message, code: error.code } : { name: error.name, message: error.message };
}

/** The error a waiting tab rethrows for the fetching tab's failure. */
export function rebuildError({ name, message, code }: Extract<FetchOutcome, { ok: false }>['error']): Error {
  if (code) return new CacheError(code, message);
  return Object.assign(new Error(message), { name });
}
