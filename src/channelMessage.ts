import * as z from 'zod/mini';
import { cacheEventSchema } from './cacheEvent';
import { contentTypeSchema } from './contentTypeSchema';
import { nonEmpty } from './lengthChecks';
import { greaterThan } from './numberChecks';
import { countsByType, keysByType } from './plainRecord';
import { CHANNEL_VERSION, namesEachKey } from './TabChannel';

const nonEmptyString = () => z.string().check(nonEmpty());

/** Where a change is in the IndexedDB log: null when the tab that made it has no IndexedDB (then a tab that has logs it). */
const logged = {
  /** The emitting tab, which ignores its own messages (or takes them as an acknowledgement: see TabSync). */
  origin: nonEmptyString(),
  /** Names this change across tabs, so that one relayed through several tabs applies once. */
  id: nonEmptyString(),
  /** The database the change is logged in: a database deleted and recreated starts another epoch. */
  epoch: z.nullable(nonEmptyString()),
  seq: z.nullable(z.number().check(z.refine(Number.isSafeInteger), greaterThan(0))),
  /**
   * A tab that logs answers so a change of a tab without IndexedDB sent again (`seq` null) that it will not log: made
   * in a database deleted since, which `epoch` names. Its tab stops sending it (see TabSync's #take); an earlier build
   * drops the field and takes the answer as that change sent again, which it heard already.
   */
  gone: z.optional(z.literal(true)),
};

/**
 * What one tab tells the others over the BroadcastChannel. Messages are hints: the log in IndexedDB is the truth.
 * A field this build does not know is dropped, not the message: a later build that adds one (as `id`, then
 * `epoch`, were added) is still heard by tabs of this one, open across a deploy; a change that this build
 * would misread bumps CHANNEL_VERSION instead.
 */
export const channelMessageSchema = z.union([
  /**
   * An event it emitted and applied; `invalidated` is what it removed from IndexedDB (each tab adds its own memory tier).
   * `affected`: one it could not log (no IndexedDB), the types its rules apply it to, for the tab that logs it.
   */
  z.object({
    v: z.literal(CHANNEL_VERSION),
    kind: z.literal('event'),
    ...logged,
    event: cacheEventSchema,
    invalidated: countsByType(),
    removed: z.optional(keysByType()),
    affected: z.optional(z.array(contentTypeSchema)),
  }),
  /** A `clear` of these types. */
  z.object({ v: z.literal(CHANNEL_VERSION), kind: z.literal('clear'), ...logged, types: z.array(contentTypeSchema).check(nonEmpty()) }),
  /**
   * A tab opened. `logs`: it has IndexedDB, so tabs holding changes nobody has logged yet send them
   * again; a tab that has not answers a tab that has with a hello of its own, so that each knows.
   * `epoch`: the database it logs in (see TabSync's `#heardEpoch`: a change made after it, sent again, names it).
   */
  z.object({ v: z.literal(CHANNEL_VERSION), kind: z.literal('hello'), origin: nonEmptyString(), logs: z.boolean(), epoch: z.optional(nonEmptyString()) }),
  /**
   * Entries of shared data it changed (for `watch`): keys null means any key of the type. Not logged: a
   * lost one is lost. `epoch`: the database it changed them in (none where the tab could not read it).
   * `seq`: how far in that database's log the tab had applied the changes logged (events, clears) when
   * it made them: a tab that has not heard of those yet (their message lost, or late) replays them first.
   */
  z.object({
    v: z.literal(CHANNEL_VERSION),
    kind: z.literal('changed'),
    origin: nonEmptyString(),
    epoch: z.optional(nonEmptyString()),
    seq: z.optional(z.number().check(z.refine(Number.isSafeInteger), greaterThan(0))),
    changes: z
      .array(
        z.object({
          type: contentTypeSchema,
          kind: z.literal(['set', 'delete', 'invalidate', 'evict', 'expire', 'clear']),
          keys: z.nullable(z.array(z.string()).check(z.refine(namesEachKey))),
          id: z.optional(nonEmptyString()),
        }),
      )
      .check(nonEmpty()),
  }),
]);

export type ChannelMessage = z.output<typeof channelMessageSchema>;
