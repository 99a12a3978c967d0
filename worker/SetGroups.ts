import type { CachePolicy } from '../src/cachePolicy';
import type { TypeName } from '../src/contentType';
import type { EntryInput, SetManyOptions, Written } from '../src/protocol';
import type { ChangesInFlight } from './ChangesInFlight';
import { Imports } from './Imports';

/**
 * The most calls a group holds. A worker that dies as a group commits leaves every one of its calls to the
 * next, which tells each again under its id: every tab must still know those ids to hear them once. A page
 * keeps its own until they settle, the others' for two minutes or the last thousand (see src/HeardChanges.ts),
 * which a group of a thousand and the room it made would overflow in a tab that heard them late.
 */
const GROUP_CALLS = 250;

/** One call's set (see Engine.setMany), and how it is answered. */
export interface SetCall {
  inputs: EntryInput[];
  usedAt: number[];
  policy: CachePolicy;
  options: SetManyOptions;
  settle: { resolve: (written: Written) => void; reject: (error: unknown) => void };
}

/** The sets of a type waiting for their turn together; `seen`: where the type's turns stood once it was made (see ChangesInFlight.seen). */
interface Group {
  members: SetCall[];
  count: number;
  seen: number;
}

export interface SetGroupsOptions {
  /** The engine's changes on their way, whose turns a group takes. */
  inFlight: ChangesInFlight;
  /** Entries per transaction above which a write is an import (see IdbStore.import): a group stays under it. */
  importChunk: number | undefined;
  /**
   * Writes the calls' sets in one transaction, settling each (see Engine.#setMany); `landed` once they have
   * landed. Hands back those not written when their transaction fails, a call alone never. Never rejects.
   */
  write: (type: TypeName, calls: SetCall[], landed?: () => void) => Promise<SetCall[]>;
}

/**
 * Small sets of a type made while the one before them waits for its turn: written with it, in
 * one transaction, when nothing else of the type (a change, a read) came in between and they stay under an
 * import's size and GROUP_CALLS calls; otherwise the first of a new group, which waits for its turn as a
 * setMany does. An app caching each answer as it arrives makes hundreds at once: one transaction each made
 * them wait for one another, each its turn (see ChangesInFlight). A memory type's sets are grouped alike, so
 * that the same calls make the same room in either tier (a key a later set rewrites is not evicted for an earlier one).
 */
export class SetGroups {
  readonly #options: SetGroupsOptions;
  /** Per type, the sets waiting for their turn together, which the next may join. */
  readonly #waiting = new Map<TypeName, Group>();

  constructor(options: SetGroupsOptions) {
    this.#options = options;
  }

  /** A set of `type`: in the group waiting, if it may join it, or the first of a new one; settles as its own write would. */
  join(type: TypeName, call: Omit<SetCall, 'settle'>): Promise<Written> {
    const { inFlight, importChunk } = this.#options;
    const open = this.#waiting.get(type);
    return new Promise<Written>((resolve, reject) => {
      const member: SetCall = { ...call, settle: { resolve, reject } };
      if (
        open &&
        open.seen === inFlight.seen(type) &&
        sameBudget(open.members[0]!.policy, call.policy) &&
        open.members.length < GROUP_CALLS &&
        !Imports.imports(open.count + call.inputs.length, false, importChunk)
      ) {
        open.members.push(member);
        open.count += call.inputs.length;
        return;
      }
      const group: Group = { members: [member], count: call.inputs.length, seen: 0 };
      this.#waiting.set(type, group);
      let landed!: () => void;
      const done = new Promise<void>((resolve) => (landed = resolve));
      void inFlight.inTurn(
        [type],
        () => {
          // Its turn: the sets that arrive from now on wait for it.
          if (this.#waiting.get(type) === group) this.#waiting.delete(type);
          return this.#write(type, group.members, landed);
        },
        done,
      );
      group.seen = inFlight.seen(type);
    });
  }

  /** Writes the sets of a group together; those not written so, each alone, in order: one fails for itself only. Never rejects. */
  async #write(type: TypeName, members: SetCall[], landed: () => void): Promise<void> {
    const { write } = this.#options;
    for (const member of await write(type, members, landed)) await write(type, [member]);
    landed();
  }
}

/** Whether writes under these two policies make room alike (see Engine's budgetOf). */
function sameBudget(one: CachePolicy, other: CachePolicy): boolean {
  return one.maxSizeMb === other.maxSizeMb && one.cleanupThreshold === other.cleanupThreshold;
}
