import type { TypeName } from '../src/contentType';

/** Of one type: the last change on its way (settled once those before it have), and the reads with a fingerprint tracked since. */
type Turn = { last?: Promise<void>; reads: Set<Promise<unknown>> };

/**
 * The changes of each type on their way through one engine, so that a read of a type starts after
 * every change of it that arrived before the read. IndexedDB alone orders a read after a write made
 * before it, but not after that write's second attempt: a write retried after a full disk, or moved to
 * memory once IndexedDB is lost, would land after a read made after it. Imports are not tracked: reads
 * go through during an import, and see all of it once it has committed.
 *
 * Each change waits for the last one before it only (and the reads since), which waited for those before
 * it: waiting for all of them made N changes of a type made in one go cost N² steps.
 */
export class ChangesInFlight {
  readonly #byType = new Map<TypeName, Turn>();
  /** Changes of no type on their way (an event that removes nothing under the rules as it arrives): none waits for them but settled. */
  readonly #ofNoType = new Set<Promise<unknown>>();
  /** Per type, how many changes and reads have been tracked or waited (see seen): kept, a number per type. */
  readonly #seen = new Map<TypeName, number>();

  /**
   * How many changes and reads of `type` have arrived so far: a write may join the one before it (see
   * Engine.setMany) while this has not moved, nothing of its type having come in between.
   */
  seen(type: TypeName): number {
    return this.#seen.get(type) ?? 0;
  }

  #arrived(types: Iterable<TypeName>): void {
    for (const type of types) this.#seen.set(type, this.seen(type) + 1);
  }

  /**
   * Tracks `change`, started now, as a change of `types`; returns it. `readsWait` false: one only the changes
   * after it wait for (a read with a fingerprint, which may remove an entry but writes none: a read after it
   * sees the entry or not, as it would a moment before).
   */
  track<T>(types: Iterable<TypeName>, change: Promise<T>, readsWait = true): Promise<T> {
    const mine = new Set(types);
    this.#arrived(mine);
    for (const type of mine) {
      const turn = this.#turnOf(type);
      if (readsWait) {
        // Not started in turn: it may settle before those on their way.
        this.#last(type, turn.last ? Promise.allSettled([turn.last, change]) : change);
        continue;
      }
      turn.reads.add(change);
      const settled = () => {
        turn.reads.delete(change);
        this.#dropIfDone(type, turn);
      };
      change.then(settled, settled);
    }
    return change;
  }

  /**
   * Starts a change of `types` once every change of them on their way now has settled, so that one
   * engine's changes of a type apply in the order they arrived (a `set` then a `delete` of its key, not
   * made in turn, leave no entry): how many steps each takes before its transaction must not decide.
   * Tracked unless it is an import (`tracked` false, see above); an import too starts after those before it.
   * `tracked` a promise: later changes and reads wait for it or for the change, whichever settles first.
   */
  inTurn<T>(types: Iterable<TypeName>, start: () => Promise<T>, tracked: boolean | Promise<unknown> = true): Promise<T> {
    const mine = new Set(types);
    this.#arrived(mine);
    const earlier = new Set(
      [...mine].flatMap((type) => {
        const turn = this.#byType.get(type);
        return turn ? [...(turn.last ? [turn.last] : []), ...turn.reads] : [];
      }),
    );
    const change = earlier.size ? Promise.allSettled(earlier).then(start) : start();
    if (!tracked) return change;
    const until = tracked === true ? change : Promise.race([tracked, change]);
    if (!mine.size) {
      const settled: Promise<unknown> = until.then(
        () => this.#ofNoType.delete(settled),
        () => this.#ofNoType.delete(settled),
      );
      this.#ofNoType.add(settled);
    }
    for (const type of mine) {
      // It waits for the reads tracked so far: those after it wait for it instead.
      this.#turnOf(type).reads.clear();
      this.#last(type, until);
    }
    return change;
  }

  /** Settles once the changes of `type` on their way now that reads wait for have (undefined when there are none): a read's wait. */
  before(type: TypeName): Promise<void> | undefined {
    this.#arrived([type]);
    return this.#byType.get(type)?.last;
  }

  /** Settles once every change on its way now, of any type or none, has (an import not: see Engine.updatePolicy). */
  settled(): Promise<unknown> {
    return Promise.all([...this.#ofNoType, ...[...this.#byType.values()].map(({ last }) => last)]);
  }

  #turnOf(type: TypeName): Turn {
    let turn = this.#byType.get(type);
    if (!turn) this.#byType.set(type, (turn = { reads: new Set() }));
    return turn;
  }

  /** Makes `change` the last of `type`, which the next change and reads wait for, until it settles. */
  #last(type: TypeName, change: Promise<unknown>): void {
    const turn = this.#turnOf(type);
    const last = change.then(
      () => {},
      () => {},
    );
    turn.last = last;
    void last.then(() => {
      if (turn.last !== last) return;
      delete turn.last;
      this.#dropIfDone(type, turn);
    });
  }

  #dropIfDone(type: TypeName, turn: Turn): void {
    if (!turn.last && !turn.reads.size && this.#byType.get(type) === turn) this.#byType.delete(type);
  }
}
