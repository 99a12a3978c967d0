import { z } from 'zod';
import type { Schemas } from '../src/index';

/** What the player reads from a file's tags: track_metadata, stored with the file's fingerprint. */
const trackTags = z.object({
  title: z.string(),
  artist: z.string(),
  album: z.string(),
  trackNumber: z.number().int(),
  durationSeconds: z.number(),
  format: z.string(),
  bitrateKbps: z.number(),
  /** How many times the file was modified (the demo's stand-in for its modification date). */
  revision: z.number().int(),
});

/** The metadata API's answer for a track it knows: successful_api_metadata. */
const apiMetadata = z.object({
  trackId: z.string(),
  genre: z.string(),
  bpm: z.number(),
  key: z.string(),
  label: z.string(),
  moods: z.array(z.string()),
  listeners: z.number().int(),
  summary: z.string(),
});

/** A lookup the API answered with an error: failed_api_lookup, retried once it expires. */
const apiFailure = z.object({ status: z.number().int(), message: z.string(), at: z.number() });

/** A lookup the API answered with "not found": negative_result. */
const notFound = z.object({ status: z.literal(404), at: z.number() });

/**
 * The value schemas the demo gives `createCache`: values are checked on write and read, and the
 * cache's methods are typed by them (`cache.get('album_year', key)` is a `number | undefined`).
 */
export const DEMO_SCHEMAS = {
  track_metadata: trackTags,
  successful_api_metadata: apiMetadata,
  failed_api_lookup: apiFailure,
  negative_result: notFound,
  album_year: z.number().int(),
  artwork: z.instanceof(Blob),
} satisfies Schemas;

export type TrackTags = z.infer<typeof trackTags>;
export type ApiMetadata = z.infer<typeof apiMetadata>;
export type ApiFailure = z.infer<typeof apiFailure>;
export type NotFound = z.infer<typeof notFound>;
