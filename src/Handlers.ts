import { guarded } from './guarded';
import type { Logger } from './Logger';

type Handler<A extends unknown[]> = (...args: A) => unknown;

/**
 * Handlers keyed by what they listen to, run in registration order. One that throws (or rejects) is
 * reported to the logger and the others still run: a bad listener must not break invalidation.
 */
export class Handlers<K extends string, A extends unknown[]> {
  #entries: { key: K; handler: Handler<A> }[] = [];
  readonly #logger: Logger;

  /** `logger`: guarded already (see guardLogger), by whoever took it from the app. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Returns the unsubscribe function; calling it twice is harmless. */
  add(key: K, handler: Handler<A>): () => void {
    const entry = { key, handler };
    this.#entries = [...this.#entries, entry];
    return () => {
      this.#entries = this.#entries.filter((other) => other !== entry);
    };
  }

  /** Runs the handlers registered under any of `keys` (the first names the failure). */
  run(keys: readonly [K, ...K[]], ...args: A): void {
    const report = (error: unknown) => this.#logger.error(`Reprise: a handler for ${keys[0]} failed`, error);
    // The list is replaced, never mutated, so handlers that unsubscribe while running are safe.
    for (const { key, handler } of this.#entries) {
      if (!keys.includes(key)) continue;
      guarded(() => handler(...args), report);
    }
  }
}
