import type { CacheEvent } from './cacheEvent';
import type { TypeName } from './contentType';
import { targetMatches, targetsIn, type InvalidationTarget, type Tags } from './invalidationTarget';

/** A change the page has sent to its worker, as far as the page's own reads care: what it may alter. */
export type PendingChange =
  /** A write or delete of these keys. */
  | { type: TypeName; keys: ReadonlySet<string> }
  /** Any entry of the type (an import's commit, a clear), or of every type (null: a clear of all). */
  | { type: TypeName | null }
  | { event: CacheEvent };

/**
 * The changes this page has sent and not seen answered. A read the page makes itself must not answer
 * what one of them may alter: IndexedDB orders the page's read before a write that commits after it
 * began, so such a read goes to the worker, which starts it after the change. Everything else a change
 * cannot touch reads the same before and after it, so the page answers it.
 *
 * An event is judged by the entry's tags alone, as if it applied to every type: more than the policy
 * lets it remove, never less.
 */
export class PendingChanges {
  readonly #changes = new Set<PendingChange>();

  /** Counts `change` as on its way until `done` settles; returns `done`. */
  async during<T>(change: PendingChange, done: Promise<T>): Promise<T> {
    this.#changes.add(change);
    try {
      return await done;
    } finally {
      this.#changes.delete(change);
    }
  }

  /**
   * The changes on their way now that may alter entries of `type`, as a test of one key and its record
   * (undefined: none); null when one may alter any entry of it, whatever its tags.
   */
  alters(type: TypeName): ((key: string, record: Tags | undefined) => boolean) | null {
    const keys: ReadonlySet<string>[] = [];
    const targets: InvalidationTarget[] = [];
    for (const change of this.#changes) {
      if ('event' in change) {
        const found = targetsIn(type, change.event);
        // A target of every entry (library_sync, a manual invalidation of all) takes the type whole.
        if (found.some((target) => target.by === 'all')) return null;
        targets.push(...found);
      } else if (change.type === null || change.type === type) {
        if (!('keys' in change)) return null;
        keys.push(change.keys);
      }
    }
    // Taken now: a change that lands while the page reads is still one its read must not answer around.
    return (key, record) =>
      keys.some((written) => written.has(key)) ||
      // An event removes entries (found by their tags, as the engine finds them); it never makes one.
      (record !== undefined && targets.some((target) => targetMatches(target, record)));
  }
}
