import { z } from 'zod/mini';
import { describeValue } from './describeValue';
import { parse } from './parse';

/** What can happen to a music library. The strings are part of the API. */
export const EVENT_TYPES = [
  'track_added',
  'track_removed',
  'track_modified',
  'fingerprint_changed',
  'library_sync',
  'manual_invalidation',
] as const;

const unknownEventType = (value: unknown) =>
  `unknown event type ${describeValue(value)}; expected one of ${EVENT_TYPES.join(', ')}`;

export const eventTypeSchema = z.enum(EVENT_TYPES, { error: (issue) => unknownEventType(issue.input) });

export type EventType = z.infer<typeof eventTypeSchema>;

const id = (field: string, required?: EventType) => {
  const error = required ? `${field} required for ${required}` : `${field} must be a non-blank string`;
  return z.string({ error }).check(z.regex(/\S/, { error }));
};

const variant = <T extends EventType, TrackId extends z.ZodMiniType, Fingerprint extends z.ZodMiniType>(
  eventType: T,
  trackId: TrackId,
  fingerprint: Fingerprint,
) =>
  z.strictObject({
    eventType: z.literal(eventType),
    trackId,
    fingerprint,
    metadata: z.optional(z.record(z.string(), z.unknown())),
  });

const trackEvent = <T extends EventType>(eventType: T) => variant(eventType, id('trackId', eventType), z.optional(id('fingerprint')));
const libraryEvent = <T extends EventType>(eventType: T) => variant(eventType, z.optional(id('trackId')), z.optional(id('fingerprint')));

/** A library event: track events need `trackId`, `fingerprint_changed` needs the stale `fingerprint`. */
export const cacheEventSchema = z.discriminatedUnion(
  'eventType',
  [
    trackEvent('track_added'),
    trackEvent('track_removed'),
    trackEvent('track_modified'),
    variant('fingerprint_changed', z.optional(id('trackId')), id('fingerprint', 'fingerprint_changed')),
    libraryEvent('library_sync'),
    libraryEvent('manual_invalidation'),
  ],
  {
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null && !Array.isArray(issue.input)
        ? unknownEventType((issue.input as { eventType?: unknown }).eventType)
        : 'expected an event object such as { eventType: "track_removed", trackId }',
  },
);

export type CacheEvent = z.output<typeof cacheEventSchema>;
export type CacheEventInput = z.input<typeof cacheEventSchema>;

/** Validates a library event; throws `invalid_event` saying what is missing ("trackId required for track_removed"). */
export function createCacheEvent(input: CacheEventInput): CacheEvent {
  return parse(cacheEventSchema, input, 'invalid_event', 'event');
}
