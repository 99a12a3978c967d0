import { guarded } from './guarded';
import type { Logger } from './Logger';

type Handler<A extends unknown[]> = (...args: A) => unknown;
type Entry<K, A extends unknown[]> = { key: K; handler: Handler<A>; removed?: true };

/**
 * Handlers keyed by what they listen to, run in registration order. One that throws (or rejects) is
 * reported to the logger and the others still run: a bad listener must not break invalidation.
 */
export class Handlers<K extends string, A extends unknown[]> {
  #entries: Entry<K, A>[] = [];
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
    const entry: Entry<K, A> = { key, handler };
    this.#entries = [...this.#entries, entry];
    return () => {
      entry.removed = true;
      this.#entries = this.#entries.filter((other) => other !== entry);
    };
  }

  /** Runs the handlers registered under any of `keys` (the first names the failure). */
  run(keys: readonly [K, ...K[]], ...args: A): void {
    const report = (error: unknown) => this.#logger.error(`Reprise: a handler for ${keys[0]} failed`, error);
    // The list is replaced, never mutated, so handlers that unsubscribe while running are safe.
    for (const { key, handler, removed } of this.#entries) {
      if ((removed && this.#skipRemoved) || !keys.includes(key)) continue;
      guarded(() => handler(...args), report);
    }
  }
}
