import { isPromiseLike } from './isPromiseLike';
import { yieldToEventLoop } from './yieldToEventLoop';

/** How long a run of steps holds the thread before it yields (a long task is 50 ms), its clock read every SLICE_CHECK steps. */
const SLICE_MS = 10;
const SLICE_CHECK = 16;

/**
 * Runs the steps of a big batch on the page's thread (validating what a setMany stores, checking what a read
 * found against the type's schema): synchronously while they are (an await per step would cost a microtask
 * each), until the slice's time is up; then it yields, so that a long run is never one long task. One per
 * call: its slice goes on across the call's runs.
 */
export class TimeSlices {
  readonly #clock: () => number;
  #start: number;

  constructor(clock: () => number) {
    this.#clock = clock;
    this.#start = clock();
  }

  /** step(from) … step(end - 1), one after the other: a promise once a step answers with one or the slice's time is up. */
  run(from: number, end: number, step: (index: number) => void | PromiseLike<void>): void | Promise<void> {
    for (let index = from; index < end; index++) {
      // Before a step, never the first nor after the last: a run of up to SLICE_CHECK steps (a small setMany's
      // checks) never waits, on a busy thread too, and its call is made at once, with the values as the caller gave them.
      if (index > from && index % SLICE_CHECK === 0 && this.#over()) return this.#pause(index, end, step);
      const pending = step(index);
      // An async step settles in a microtask, which lets no task run: the slice's time is checked after each.
      if (isPromiseLike(pending)) return Promise.resolve(pending).then(() => (this.#over() ? this.#pause(index + 1, end, step) : this.run(index + 1, end, step)));
    }
  }

  /** Lets the thread run other tasks; a new slice begins after. */
  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.#start = this.#clock();
  }

  #over(): boolean {
    return this.#clock() - this.#start > SLICE_MS;
  }

  #pause(index: number, end: number, step: (index: number) => void | PromiseLike<void>): Promise<void> {
    return this.yield().then(() => this.run(index, end, step));
  }
}
