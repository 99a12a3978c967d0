import type { Logger } from '../src/Logger';
import { INFINITE_TTL, MAX_TIMER_MS } from '../src/time';
import type { Schedule } from './schedule';
import { WebLocks } from './WebLocks';

export interface PeriodicCleanupOptions {
  /** The cache's name: it names the lock (prefixed: Web Locks refuse a name starting with '-'). */
  name: string;
  /** Web Locks, so that one tab at a time runs it. */
  locks: LockManager | undefined;
  schedule: Schedule;
  /** Seconds until the next run, read as each is scheduled (the config's cleanupIntervalSeconds). */
  intervalSeconds: () => number;
  /**
   * What a run does: `shared`, whether it is this tab's turn in the storage all tabs share (the lock), or only in its own memory
   * tier; `soon`, whether it is the first run, which start was told comes soon after the engine opened.
   */
  run: (shared: boolean, soon: boolean) => Promise<void>;
  logger: Logger;
}

/** How long after an engine opens an upkeep overdue in the database runs (see start): out of the way of the page's first calls. */
export const OVERDUE_AFTER_MS = 2_000;

/**
 * Runs an engine's upkeep every so often; its IndexedDB part is skipped in this tab while another one runs
 * it (Web Locks): IndexedDB is shared, one tab going through it is enough. A memory tier is this tab's
 * own, swept whoever holds the lock. Scheduled again after each run, whatever its outcome.
 */
export class PeriodicCleanup {
  readonly #options: PeriodicCleanupOptions;
  readonly #locks: WebLocks;
  #stopped = false;
  /** Cancels the next run. */
  #cancel: void | (() => void) = undefined;

  constructor(options: PeriodicCleanupOptions) {
    this.#options = options;
    this.#locks = new WebLocks(options.locks);
  }

  /** Schedules the next run: an interval from now, or after `firstMs` when that is sooner (a run overdue); `soon`: see run. */
  start(firstMs = Infinity, soon = false): void {
    const seconds = this.#options.intervalSeconds();
    // At or above INFINITE_TTL (Infinity in the config), as a TTL: never.
    if (seconds < INFINITE_TTL) this.#wait(Math.min(firstMs, seconds * 1000), soon && firstMs < seconds * 1000);
  }

  /** Runs after `ms`. Timers take at most 2^31 - 1 ms (above, browsers and Node fire them at once): a longer wait is made of several. */
  #wait(ms: number, soon: boolean): void {
    if (this.#stopped) return;
    const step = Math.min(ms, MAX_TIMER_MS);
    this.#cancel = this.#options.schedule(() => (ms > step ? this.#wait(ms - step, soon) : this.#run(soon)), step);
  }

  /** A stopped cleanup keeps no timer, which would hold its engine (and its stores) in memory until it fired. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  #run(soon: boolean): void {
    if (this.#stopped) return;
    const { name, run, logger } = this.#options;
    // Held elsewhere: this tab's own part only; no locks here (or refused): all of it.
    const done = this.#locks.request(`reprise:${name}:cleanup`, { ifAvailable: true }, (lock) => run(lock !== null, soon)).then((held) => (held ? held.value : run(true, soon)));
    done
      .catch((error: unknown) => {
        if (!this.#stopped) logger.error('Reprise: periodic cleanup failed', error);
      })
      .finally(() => this.start());
  }
}
