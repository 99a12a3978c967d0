import type { TypeName } from '../src/contentType';

/**
 * The changes of each type on their way through one engine, so that a read of a type starts after
 * every change of it that arrived before the read. IndexedDB alone orders a read after a write made
 * before it, but not after that write's second attempt: a write retried after a full disk, or moved to
 * memory once IndexedDB is lost, would land after a read made after it. Imports are not tracked: reads
 * go through during an import, and see all of it once it has committed.
 */
export class ChangesInFlight {
  readonly #byType = new Map<TypeName, Set<Promise<unknown>>>();
  /** Those only changes wait for (see track). */
  readonly #forChanges = new WeakSet<Promise<unknown>>();

  /**
   * Tracks `change`, started now, as a change of `types`; returns it. `readsWait` false: one only the changes
   * after it wait for (a read with a fingerprint, which may remove an entry but writes none: a read after it
   * sees the entry or not, as it would a moment before).
   */
  track<T>(types: Iterable<TypeName>, change: Promise<T>, readsWait = true): Promise<T> {
    if (!readsWait) this.#forChanges.add(change);
    for (const type of new Set(types)) {
      let changes = this.#byType.get(type);
      if (!changes) this.#byType.set(type, (changes = new Set()));
      const mine = changes;
      mine.add(change);
      const settled = () => {
        mine.delete(change);
        if (!mine.size && this.#byType.get(type) === mine) this.#byType.delete(type);
      };
      change.then(settled, settled);
    }
    return change;
  }

  /**
   * Starts a change of `types` once every change of them on their way now has settled, so that one
   * engine's changes of a type apply in the order they arrived (a `set` then a `delete` of its key, not
   * made in turn, leave no entry): how many steps each takes before its transaction must not decide.
   * Tracked unless it is an import (see above); an import too starts after those before it.
   */
  inTurn<T>(types: Iterable<TypeName>, start: () => Promise<T>, tracked = true): Promise<T> {
    const mine = new Set(types);
    const earlier = [...mine].flatMap((type) => [...(this.#byType.get(type) ?? [])]);
    const change = earlier.length ? Promise.allSettled(earlier).then(start) : start();
    return tracked ? this.track(mine, change) : change;
  }

  /** Settles once the changes of `type` on their way now that reads wait for have (undefined when there are none): a read's wait. */
  before(type: TypeName): Promise<unknown> | undefined {
    const changes = [...(this.#byType.get(type) ?? [])].filter((change) => !this.#forChanges.has(change));
    return changes.length ? Promise.allSettled(changes) : undefined;
  }
}
