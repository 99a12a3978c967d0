import { CacheError } from './CacheError';
import { reasonOf } from './describeValue';
import { MAX_TIMER_MS } from './time';
import { unref } from './unref';

/** The rejection of a caller that stopped waiting: its signal's reason as cause. */
export function abortedError(signal: AbortSignal): CacheError {
  return new CacheError('aborted', 'The call was aborted by its signal', { cause: signal.reason });
}

/** The signal of this realm that follows each signal taken by its shape (see ownSignal): one per signal, however many calls it is given to. */
const owned = new WeakMap<object, AbortSignal>();

/**
 * A caller's signal as one of this realm's, whose members cannot throw: one taken by its shape (another realm's, a
 * polyfill's) is followed by one of its own, read as it is first given (invalid_argument, naming `what`, if that
 * throws) and as it aborts (what its `reason` throws is the reason then).
 */
export function ownSignal(given: AbortSignal | undefined, what: string): AbortSignal | undefined {
  if (!given || given instanceof AbortSignal) return given;
  const known = owned.get(given);
  if (known) return known;
  // Typed as the shape it was taken by (see cacheArgs).
  const signal: Pick<AbortSignal, 'aborted' | 'reason' | 'addEventListener'> = given;
  const own = new AbortController();
  const abort = () => {
    try {
      own.abort(signal.reason);
    } catch (error) {
      own.abort(error);
    }
  };
  try {
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  } catch (error) {
    throw new CacheError('invalid_argument', `Invalid ${what}: signal: reading it threw (${reasonOf(error)})`, { cause: error });
  }
  owned.set(given, own.signal);
  return own.signal;
}

/** Why a signal aborted: what a wait it cuts short rejects with (see untilAborted). */
export const abortReason = (signal: AbortSignal): unknown => signal.reason;

/** The waits on each signal, told by its one 'abort' listener: a listener per wait would make Node warn of a leak past ten. */
const waits = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `leave` once `signal` aborts; returns what stops waiting (see waits). */
function onAbort(signal: AbortSignal, leave: () => void): () => void {
  const waiting = waits.get(signal) ?? waitsOn(signal);
  waiting.add(leave);
  return () => waiting.delete(leave);
}

/** A signal's waits and its listener, made apart: a closure made beside `leave` would keep the first wait's for the signal's life. */
function waitsOn(signal: AbortSignal): Set<() => void> {
  const all = new Set<() => void>();
  waits.set(signal, all);
  signal.addEventListener('abort', () => all.forEach((wait) => wait()), { once: true });
  return all;
}

/**
 * `promise`, or the rejection `aborted` (or what `reason` makes) as soon as `signal` aborts: the caller
 * stops waiting, whatever it waited for. Without a signal too, so that concurrent callers with and without
 * one stay in order. Its wait goes as `promise` settles: a signal that lives long keeps nothing of it.
 */
export function untilAborted<T>(promise: T | PromiseLike<T>, signal: AbortSignal | undefined, reason: (signal: AbortSignal) => unknown = abortedError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const leave = () => reject(reason(signal!));
    const stop = !signal ? () => {} : signal.aborted ? (leave(), () => {}) : onAbort(signal, leave);
    Promise.resolve(promise).then(
      (value) => (stop(), resolve(value)),
      (error: unknown) => (stop(), reject(error)),
    );
  });
}

/**
 * One fetch that several callers wait on. A caller whose signal aborts stops waiting at once (its call
 * rejects with `aborted`); the fetcher's own signal aborts once every caller has stopped waiting, so a
 * fetch nobody wants any more can stop, and no caller joins it after that. A background fetch (a
 * refresh of a stale entry) was started for no caller: callers leaving never abort it while its window lasts. The cache's close
 * aborts every one (see `abandon`).
 */
export class SharedFetch<T> {
  readonly #controller = new AbortController();
  #background: boolean;
  #waiting = 0;
  #dropped = false;
  readonly result: Promise<T>;

  /**
   * `staleMs`: a background fetch's, how long the stale entry it refreshes is still served. Once that window ends, callers
   * wait on it: it is a fetch like any other from then on, stopped once no caller waits on it (at once where none does),
   * so that a fetcher that never answers holds the key (its fetch lock, in every tab) no longer.
   */
  constructor(run: (signal: AbortSignal) => Promise<T>, staleMs?: number) {
    this.#background = staleMs !== undefined;
    this.result = run(this.#controller.signal);
    // Seen by the callers through join; a fetch every caller left must not report an unhandled rejection.
    this.result.catch(() => {});
    // A window longer than a timer can wait (about 24.8 days) would fire it at once.
    if (staleMs === undefined || staleMs > MAX_TIMER_MS) return;
    const timer = setTimeout(() => {
      this.#background = false;
      this.#dropped = this.#waiting === 0;
      if (this.#dropped) this.#controller.abort(new CacheError('aborted', "The stale entry's window ended before its refresh answered"));
    }, staleMs);
    unref(timer);
    const done = () => clearTimeout(timer);
    this.result.then(done, done);
  }

  /** A refresh of a stale entry, started for no caller. */
  get background(): boolean {
    return this.#background;
  }

  /** A background fetch stopped once nobody waited on it: as its window ended (see the constructor), or as the last caller that joined it left after that. */
  get dropped(): boolean {
    return this.#dropped;
  }

  /** False once every caller left and the fetcher was told to stop: a new caller starts a new fetch. */
  get joinable(): boolean {
    return !this.#controller.signal.aborted;
  }

  /** Stops the fetch (the cache closes): its fetcher's signal aborts, whoever waits on it. */
  abandon(reason: unknown): void {
    this.#controller.abort(reason);
  }

  join(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    this.#waiting++;
    if (!signal) return this.result;
    // The caller that leaves rejects with `aborted`; the last one to leave stops the fetch.
    return untilAborted(this.result, signal, (left) => {
      if (--this.#waiting === 0 && !this.#background) {
        this.#dropped = true;
        this.#controller.abort(abortedError(left));
      }
      return abortedError(left);
    });
  }
}
