import { z } from 'zod';
import { cacheEventSchema } from './cacheEvent';
import { contentTypeSchema } from './contentType';

/** Bumped when the message shape changes: a tab drops (and counts) messages of another version. */
export const CHANNEL_VERSION = 1;

/** What one tab tells the others over the BroadcastChannel: an event it emitted and applied. */
export const channelMessageSchema = z.strictObject({
  v: z.literal(CHANNEL_VERSION),
  kind: z.literal('event'),
  /** The emitting tab, which ignores its own messages. */
  origin: z.string().min(1),
  /** The event's place in the IndexedDB log, or null when the emitting tab has no IndexedDB. */
  seq: z.number().int().positive().nullable(),
  event: cacheEventSchema,
  /** What it removed from IndexedDB (shared by all tabs); each tab adds its own memory tier. */
  invalidated: z.partialRecord(contentTypeSchema, z.number().int().nonnegative()),
});

export type ChannelMessage = z.output<typeof channelMessageSchema>;
