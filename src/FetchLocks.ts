import { CacheError, isCacheError, type CacheErrorCode } from './CacheError';
import type { Locks } from './ChannelLocks';
import type { Logger } from './Logger';
import { abortReason, abortedError, untilAborted } from './SharedFetch';
import { describeError, fetchingSchema, fetchOutcomeSchema, rebuildError, type Fetching, type FetchOutcome } from './fetchOutcome';

/** What the fetching tab tells of a value it fetched. */
type Fetched = Extract<FetchOutcome, { ok: true }>;

/** The options a value was stored with (TTL, tags), as the fetching tab parsed them. */
type SetOptions = Fetched['options'];

/** A BroadcastChannel, as much of it as this uses. */
export interface FetchChannel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface FetchLocksOptions {
  /** The cache's name: locks and the channel are per cache. */
  name: string;
  /** navigator.locks, or ChannelLocks where there are none; without any, every tab fetches for itself. */
  locks: Locks | undefined;
  openChannel: (() => FetchChannel) | undefined;
  /** Told, once, that the browser refused a lock request. */
  logger?: Logger | undefined;
}

/** What a fetch gave: the value, whether the others can read it from the store, and whether it was cached at all. */
export interface Led<T> {
  value: T;
  /** The value as the fetcher gave it, before this tab's schema made `value` of it: what the others get when they cannot read it. */
  fetched: unknown;
  stored: boolean;
  cached: boolean;
  /** Not kept because an event made it stale while it was fetched: its callers get it, a waiting tab fetches for itself. */
  stale?: boolean;
  /** When this tab stored it (cached): a tab that takes it keeps it until then + TTL. */
  at?: number | undefined;
  /** The options it was stored with here (TTL, tags): a tab that takes it keeps it so, not as its own call would. */
  options?: SetOptions | undefined;
  /** When its fetcher was called (epoch ms): what a tab that takes it changed or heard of since is newer. */
  from?: number | undefined;
}

export interface FetchRun<T> {
  /** Fetches (and stores) here. */
  lead: () => Promise<Led<T>>;
  /** What the fetching tab stored, as this tab reads it (undefined when it is not there). */
  read: () => Promise<{ value: T } | undefined>;
  /**
   * The value another tab fetched without storing it where this one can read it: cached there in its memory, or not at all
   * (skipStore). Undefined when this tab refuses it (another deploy's tab, whose schema differs; fetched before a change of the
   * key this tab made or heard of): then it fetches for itself.
   */
  receive: (outcome: Fetched) => Promise<{ value: T } | undefined>;
  /** This tab's callers have all left. */
  signal?: AbortSignal | undefined;
  /**
   * The callers skip the cache (forceFresh): neither the store nor another tab's fetch answers them, as that fetch held the key
   * when they asked (its request may have gone before what they know changed): they fetch, once the key is theirs.
   */
  fresh?: boolean | undefined;
  /**
   * The fingerprint the callers fetch for: a fetch of the key for another one (or none) is not theirs, as in their
   * tab (its value is a miss for theirs, and its failure is not theirs), so they fetch for themselves after it.
   */
  fingerprint?: string | undefined;
  /**
   * Whether a failure of `lead` is what the fetcher threw: the fetch's own, which the waiting tabs get whatever its code
   * (a CacheError of another cache it reads through), not one of this tab's storing it (see THIS_TAB_ONLY).
   */
  fetcherThrew?: ((error: unknown) => boolean) | undefined;
}

/**
 * After the lock is granted, how long a waiting tab waits for the fetching tab's message, which may
 * arrive just after the lock: a failure must reach every waiter. Past it, a tab that finds nothing
 * fetches for itself.
 */
const OUTCOME_GRACE_MS = 250;

/**
 * One fetch per key for all tabs of a cache (SPEC §3b). A Web Lock per (cache, type, key) elects the
 * tab that fetches; the others wait until it is released, then read what it stored, or take the value
 * or the error it announced on the fetch channel. A tab whose fetcher's callers all left, or that died,
 * leaves the key to the next waiting tab, which fetches for itself. Without Web Locks (plain-http
 * pages, Node) the tabs elect the fetching one over a channel of their own, less strictly (ChannelLocks).
 */
export class FetchLocks {
  readonly #options: FetchLocksOptions;
  #refused = false;

  constructor(options: FetchLocksOptions) {
    this.#options = options;
  }

  /** The value, and whether it came from another tab's fetch. */
  async run<T>(type: string, key: string, run: FetchRun<T>): Promise<{ value: T; shared: boolean }> {
    const { locks, openChannel, name } = this.#options;
    if (!locks || !openChannel) return { value: (await run.lead()).value, shared: false };
    const lock = `reprise:${name}:fetch:${JSON.stringify([type, key])}`;
    const channel = openChannel();
    const outcomes: FetchOutcome[] = [];
    let heard: (() => void) | undefined;
    channel.addEventListener('message', (event) => {
      // Another tab fetches the key now: what the one before it told (its callers all left) answers no call waiting after it.
      if (fetchingSchema.safeParse(event.data).data?.lock === lock) outcomes.length = 0;
      const outcome = fetchOutcomeSchema.safeParse(event.data);
      if (!outcome.success || outcome.data.lock !== lock) return;
      outcomes.push(outcome.data);
      heard?.();
    });
    // Named by the fingerprint fetched for (none: no field, which a tab of an earlier deploy would refuse).
    const post = (outcome: Told) => channel.postMessage({ kind: 'fetched', lock, ...(run.fingerprint !== undefined && { fingerprint: run.fingerprint }), ...outcome } satisfies FetchOutcome);
    const lead = async (): Promise<{ value: T; shared: boolean }> => {
      // Told first: a tab whose lock comes after this one's waits for this fetch's outcome, though it arrives after that lock.
      channel.postMessage({ kind: 'fetching', lock } satisfies Fetching);
      let led: Led<T>;
      try {
        led = await run.lead();
      } catch (error) {
        // Its callers all left, or this tab could not keep what it fetched: the others fetch for themselves.
        const aborted = (run.signal?.aborted ?? false) || (isCacheError(error) && THIS_TAB_ONLY.has(error.code) && !run.fetcherThrew?.(error));
        post({ ok: false, aborted, error: describeError(error) });
        throw error;
      }
      const { stored, cached } = led;
      if (led.stale) {
        // A waiting tab may have asked after the event: it must not get what the event made stale.
        const error = describeError(new CacheError('aborted', 'The fetched value was made stale by an event while it was fetched'));
        post({ ok: false, aborted: true, error });
        return { value: led.value, shared: false };
      }
      try {
        post({ ok: true, stored, cached, ...(stored ? {} : { value: led.fetched, at: led.at, options: led.options, from: led.from }) });
      } catch (error) {
        // A value that cannot be cloned (skipStore: it need not be) stays in this tab; the others fetch for themselves.
        post({ ok: false, aborted: true, error: describeError(error) });
      }
      return { value: led.value, shared: false };
    };
    // What another tab stored, read under the lock (never for a forceFresh caller, which fetches); waited for no longer
    // once the fetch's signal aborts (its callers all left, the cache closed), as every wait under the lock but the fetch's own.
    const storedElsewhere = async () => {
      const stored = run.fresh ? undefined : await untilAborted(run.read(), run.signal, abortReason);
      return stored && { value: stored.value, shared: true };
    };
    // Whether the request's callback ran: a request that fails before it did was refused by the browser.
    let granted = false;
    try {
      const led = await locks.request(lock, { ifAvailable: true }, async (held) => {
        granted = true;
        if (!held) return null;
        // The caller's read missed before this request: another tab may have fetched and stored the key
        // since, and released the lock just before (a loaded machine). Read again under the lock.
        return (await storedElsewhere()) ?? lead();
      });
      if (led) return led;
      granted = false;
      // Another tab is fetching: wait until it is done, holding the lock from then on (a tab that has
      // to fetch after all does so before the next waiter looks).
      return await locks.request(lock, run.signal ? { signal: run.signal } : {}, async () => {
        granted = true;
        if (run.fresh) return lead();
        const stored = await storedElsewhere();
        if (stored) return stored;
        const outcome = outcomes.at(-1) ?? (await this.#next(() => outcomes.at(-1), (wake) => (heard = wake), run.signal));
        // A fetch for another fingerprint: not this call's.
        if (outcome && outcome.fingerprint !== run.fingerprint) return lead();
        if (outcome?.ok === false && !outcome.aborted) throw fetchFailure(rebuildError(outcome.error), type, key);
        if (outcome?.ok === true && !outcome.stored) {
          const received = await run.receive(outcome);
          // Refused here (as a stored value this tab's read refuses): fetched here.
          return received ? { ...received, shared: true } : lead();
        }
        return lead();
      });
    } catch (error) {
      if (run.signal?.aborted && (error as Error | null)?.name === 'AbortError') throw abortedError(run.signal);
      // A request aborted by its signal rejects with the signal's reason, whatever it is.
      if (granted || run.signal?.aborted) throw error;
      // Refused (a document no longer fully active, a context denied the Locks API): this tab fetches
      // for itself, as where there are no locks.
      if (!this.#refused) this.#options.logger?.error('Reprise: Web Locks refused; this tab fetches alone', error);
      this.#refused = true;
      return { value: (await run.lead()).value, shared: false };
    } finally {
      channel.close();
    }
  }

  /** The outcome once heard, or undefined after the grace period; the signal's reason once it aborts (no timer left then). */
  #next(current: () => FetchOutcome | undefined, onHeard: (wake: () => void) => void, signal: AbortSignal | undefined): Promise<FetchOutcome | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = new Promise<FetchOutcome | undefined>((resolve) => {
      timer = setTimeout(() => resolve(current()), OUTCOME_GRACE_MS);
      onHeard(() => resolve(current()));
    });
    return untilAborted(next, signal, abortReason).finally(() => clearTimeout(timer));
  }
}

/** An outcome as the fetching tab tells it, but for what names the fetch. */
type Told<O = FetchOutcome> = O extends unknown ? Omit<O, 'kind' | 'lock' | 'fingerprint'> : never;

/** Failures of the fetching tab as it stores what it fetched, not of the fetch: a waiting tab does not take them for its own (what the fetcher threw it does). */
const THIS_TAB_ONLY: ReadonlySet<CacheErrorCode> = new Set(['closed', 'worker_failed', 'storage_unavailable', 'quota_exceeded']);

/** Codes that tell of the cache that throws them (THIS_TAB_ONLY) or of the call (its signal aborted): see fetchFailure. */
const OF_THE_CALLER: ReadonlySet<CacheErrorCode> = new Set([...THIS_TAB_ONLY, 'aborted']);

/**
 * What a fetcher threw, as a caller whose fetcher did not run gets it (one that joined the fetch, or waited in another tab):
 * as it is, but for a CacheError whose code tells of the cache or the call that threw it (another cache the fetcher reads
 * through), which that caller would take for its own cache's state or its own signal's abort: the fetch's failure then, with it as cause.
 */
export function fetchFailure(error: unknown, type: string, key: string): unknown {
  if (!isCacheError(error) || !OF_THE_CALLER.has(error.code)) return error;
  return new Error(`The fetch of ${type} "${key}" failed: ${error.message}`, { cause: error });
}
