import { guarded } from './guarded';
import type { Logger } from './Logger';

type Handler<A extends unknown[]> = (...args: A) => unknown;
/** `order`: when it was added, among all of them. */
type Entry<A extends unknown[]> = { handler: Handler<A>; order: number; removed?: true };

/**
 * Handlers keyed by what they listen to, run in registration order. One that throws (or rejects) is
 * reported to the logger and the others still run: a bad listener must not break invalidation.
 */
export class Handlers<K extends string, A extends unknown[]> {
  /**
   * Per key, its handlers in the order added (a Set keeps it): adding or removing one costs the same however
   * many there are (a page may watch a key per row of a long list), and a run reads only its keys' handlers.
   */
  readonly #byKey = new Map<K, Set<Entry<A>>>();
  #added = 0;
  readonly #logger: Logger;

  /** Whether a handler that an earlier one unsubscribes while they run is skipped (see run). */
  readonly #skipRemoved: boolean;

  /**
   * `logger`: guarded already (see guardLogger), by whoever took it from the app. `skipRemoved`: as
   * EventTarget, for the cache's listeners and watchers (one must hear nothing once its unsubscribe has
   * returned: a component a change unmounts); the seed's manager runs every handler of an emit.
   */
  constructor(logger: Logger, { skipRemoved = false }: { skipRemoved?: boolean } = {}) {
    this.#logger = logger;
    this.#skipRemoved = skipRemoved;
  }

  /** Returns the unsubscribe function; calling it twice is harmless. */
  add(key: K, handler: Handler<A>): () => void {
    const entry: Entry<A> = { handler, order: this.#added++ };
    const entries = this.#byKey.get(key) ?? new Set<Entry<A>>();
    this.#byKey.set(key, entries.add(entry));
    return () => {
      entry.removed = true;
      entries.delete(entry);
      if (!entries.size && this.#byKey.get(key) === entries) this.#byKey.delete(key);
    };
  }

  /** Runs the handlers registered under any of `keys` (the first names the failure), in the order added. */
  run(keys: readonly [K, ...K[]], ...args: A): void {
    this.#runAll([...new Set(keys)].flatMap((key) => this.#byKey.get(key) ?? []), keys[0], args);
  }

  /** Runs the handlers registered under every key that `matches` (`name` names the failure), in the order added. */
  runMatching(name: K, matches: (key: K) => boolean, ...args: A): void {
    this.#runAll([...this.#byKey].flatMap(([key, entries]) => (matches(key) ? [entries] : [])), name, args);
  }

  #runAll(groups: readonly Set<Entry<A>>[], name: K, args: A): void {
    const report = (error: unknown) => this.#logger.error(`Reprise: a handler for ${name} failed`, error);
    // Those there as it starts, copied: one added while they run hears the next run, and one removed is skipped or not (see skipRemoved).
    const entries = groups.length === 1 ? [...groups[0]!] : groups.flatMap((entries) => [...entries]).sort((a, b) => a.order - b.order);
    for (const entry of entries) {
      if (entry.removed && this.#skipRemoved) continue;
      guarded(() => entry.handler(...args), report);
    }
  }
}
