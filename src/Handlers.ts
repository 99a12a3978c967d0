import { isPromiseLike } from './isPromiseLike';
import { guardLogger, type Logger } from './Logger';

type Handler<A extends unknown[]> = (...args: A) => unknown;

/**
 * Handlers keyed by what they listen to, run in registration order. One that throws (or rejects) is
 * reported to the logger and the others still run: a bad listener must not break invalidation.
 */
export class Handlers<K extends string, A extends unknown[]> {
  #entries: { key: K; handler: Handler<A> }[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger = console) {
    this.#logger = guardLogger(logger);
  }

  /** Returns the unsubscribe function; calling it twice is harmless. */
  add(key: K, handler: Handler<A>): () => void {
    const entry = { key, handler };
    this.#entries = [...this.#entries, entry];
    return () => {
      this.#entries = this.#entries.filter((other) => other !== entry);
    };
  }

  /** Runs the handlers registered under any of `keys` (the first names the failure); returns how many failed synchronously. */
  run(keys: readonly [K, ...K[]], ...args: A): number {
    let failed = 0;
    const [name] = keys;
    // The list is replaced, never mutated, so handlers that unsubscribe while running are safe.
    for (const { key, handler } of this.#entries) {
      if (!keys.includes(key)) continue;
      try {
        const result = handler(...args);
        // Any thenable: another realm's Promise (an iframe's listener) is no instance of this one's.
        if (isPromiseLike(result)) Promise.resolve(result).catch((error: unknown) => this.#report(name, error));
      } catch (error) {
        failed++;
        this.#report(name, error);
      }
    }
    return failed;
  }

  #report(name: K, error: unknown): void {
    this.#logger.error(`Reprise: a handler for ${name} failed`, error);
  }
}
