import * as z from 'zod/mini';
import { describeValue } from './describeValue';
import { nonBlank } from './lengthChecks';
import { parse } from './parse';
import { plainRecord } from './plainRecord';

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

// z.literal of the values, not z.enum (here and elsewhere): the same check and issue, one schema class less on the page.
export const eventTypeSchema = z.literal([...EVENT_TYPES], { error: (issue) => unknownEventType(issue.input) });

export type EventType = z.infer<typeof eventTypeSchema>;

const id = (field: string, required?: EventType) => nonBlank(required ? `${field} required for ${required}` : `${field} must be a non-blank string`);

const variant = <T extends EventType, TrackId extends z.ZodMiniType, Fingerprint extends z.ZodMiniType>(
  eventType: T,
  trackId: TrackId,
  fingerprint: Fingerprint,
) =>
  z.strictObject({
    eventType: z.literal(eventType),
    trackId,
    fingerprint,
    metadata: z.optional(plainRecord()),
  });

const trackEvent = <T extends EventType>(eventType: T) => variant(eventType, id('trackId', eventType), z.optional(id('fingerprint')));
const libraryEvent = <T extends EventType>(eventType: T) => variant(eventType, z.optional(id('trackId')), z.optional(id('fingerprint')));

/** What an event of each type holds: track events need `trackId`, `fingerprint_changed` needs the stale `fingerprint`. */
const variants = {
  track_added: trackEvent('track_added'),
  track_removed: trackEvent('track_removed'),
  track_modified: trackEvent('track_modified'),
  fingerprint_changed: variant('fingerprint_changed', z.optional(id('trackId')), id('fingerprint', 'fingerprint_changed')),
  library_sync: libraryEvent('library_sync'),
  manual_invalidation: libraryEvent('manual_invalidation'),
};

/**
 * A library event. A union admits exactly what a discriminated union on `eventType` would (each
 * variant takes one eventType), and zod's union is on the page anyway, where a discriminated union
 * would add its own code; `createCacheEvent` picks the variant first, to say what it lacks.
 */
export const cacheEventSchema = z.union([
  variants.track_added,
  variants.track_removed,
  variants.track_modified,
  variants.fingerprint_changed,
  variants.library_sync,
  variants.manual_invalidation,
]);

export type CacheEvent = z.output<typeof cacheEventSchema>;

/** Each optional field of an event may also be null, as the seed's `Optional[...] = None`: the field absent. */
type NullMeansAbsent<E> = E extends unknown ? { [K in keyof E]: undefined extends E[K] ? E[K] | null : E[K] } : never;
export type CacheEventInput = NullMeansAbsent<z.input<typeof cacheEventSchema>>;

/** What a listener of event type `E` hears: that variant ('*': any event). */
export type EventOfType<E extends EventType | '*', Event extends { eventType: EventType } = CacheEvent> = E extends EventType ? Extract<Event, { eventType: E }> : Event;

/** An object with a known event type: which variant the event must match. */
const eventOfAType = z.looseObject(
  { eventType: eventTypeSchema },
  { error: 'expected an event object such as { eventType: "track_removed", trackId }' },
);

/** The event type of an event object; throws `invalid_event` for anything without a known one. */
export function eventTypeOf(input: unknown): EventType {
  return parse(eventOfAType, input, 'invalid_event', 'event').eventType;
}

/**
 * Validates a library event; throws `invalid_event` saying what is missing ("trackId required for track_removed").
 * A field given as null is left out (a required one then fails as if absent): the event that other tabs and the log get.
 */
export function createCacheEvent(input: CacheEventInput): CacheEvent {
  // A copy of the fields, read inside parse (a getter that throws is invalid_event), the caller's object untouched.
  const event = parse(eventOfAType, input, 'invalid_event', 'event');
  for (const field of ['trackId', 'fingerprint', 'metadata']) if (event[field] === null) delete event[field];
  return parse(variants[event.eventType], event, 'invalid_event', 'event');
}
