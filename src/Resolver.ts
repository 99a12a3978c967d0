import * as z from 'zod/mini';
import type { Fetcher, ResolveOptions, Resolved } from './Cache';
import { acrossDeaths } from './acrossDeaths';
import { entrySchema, fetcherSchema, keySchema, resolveOptionsSchema } from './cacheArgs';
import { isCacheError } from './CacheError';
import type { TypeName } from './contentType';
import { fetchFailure, type FetchLocks, type Led } from './FetchLocks';
import { isPromiseLike } from './isPromiseLike';
import type { Logger } from './Logger';
import { parse } from './parse';
import type { PendingCalls } from './PendingCalls';
import type { AnsweredMarks } from './AnsweredMarks';
import type { CachePolicy } from './cachePolicy';
import type { HeardChanges } from './HeardChanges';
import type { EngineApi, EntryInput, Found, Mark, Written } from './protocol';
import { randomId } from './randomId';
import { abortReason, abortedError, ownSignal, SharedFetch, untilAborted } from './SharedFetch';
import { namesEachKey } from './TabChannel';

/** A write's options as validated. */
type WriteArgs = Omit<z.output<typeof entrySchema>, 'key' | 'value'>;

/** A fetch's value, and whether another tab fetched it. */
interface Fetched {
  value: unknown;
  shared: boolean;
}

/** A fetch under way, by key, and what came after its start (see Resolver.sawChange, sawWrite). */
interface Running {
  type: TypeName;
  key: string;
  /** Made for forceFresh: it answers with its own fetcher's value only (see FetchLocks' FetchRun.fresh). */
  fresh?: boolean;
  /**
   * When its fetcher was called, counted in this tab: a forceFresh call made since does not join it (its request may have gone
   * before what the caller knows changed), and of two fetches of its key (no lock held them apart), the one called later brings the newer value.
   */
  calledAt?: number;
  /** Settles once it has, and what it brought was stored or dropped (see Resolver.#storeLater). */
  settled?: Promise<unknown>;
  /** An event, a clear or a write came (made here or in another tab): it may bring what that made stale, so it is not joined. */
  overtaken?: boolean;
  /** A write of the key came (a set, a delete; the write of a fetch of it called later): newer than what it brings, which is not stored. */
  overwritten?: boolean;
  /**
   * Another tab's write of the key was heard: newer than what it brings, but where the store's guard tells (see #store), as
   * its message may come late, once the fetcher was called, of a write made before (the one of the fetch it waited for, say).
   */
  heard?: boolean;
  /** One of those was a delete naming the key (see Holds.deleted). */
  heardDelete?: boolean;
  /** A write of the key was called in this tab before its fetcher was: its mark may not hold it (see Resolver.#fetchAndStore). */
  wrote?: boolean;
  /** Writes of the key called in this tab whose values are being checked (see Resolver.writing): it is not joined meanwhile. */
  writing?: number;
  /** What its fetcher threw (or rejected with), once it did: the fetch's own failure (see FetchRun.fetcherThrew). */
  threw?: { error: unknown };
  /** Its fetcher (or the one of the other tab's fetch it took) answered before close(), for a caller (not a background refresh): what it brought is stored as it would have been (see #store). */
  answered?: boolean;
}

/** How many marks a read-through takes at most before its fetcher is called (see Resolver.#fetchAndStore). */
const MARKS_PER_FETCH = 3;

/** How long a change made or heard here is noted by its key (see Resolver.#noted); past that, only as the latest forgotten (see #forgotten). */
const NOTED_MS = 120_000;

/**
 * The mark a read-through's write goes with, telling when the fetcher of what it stores was called (`from`, epoch ms; none
 * from an earlier deploy's tab: its mark's time): of two fetches of a key, the store keeps what was fetched later (see worker/fetchRevision).
 */
function fetchedFrom(since: Mark, from: number | undefined): Mark {
  return from !== undefined && 'holds' in since && since.holds ? { ...since, holds: { ...since.holds, at: from } } : since;
}

/**
 * A forceFresh fetch whose fetcher is not yet called (it waits for another tab's fetch): what it brings is newer than a
 * change heard now (that fetch's write, say), and a call made after its forceFresh still joins it (README "Reading through").
 */
function asksLater(running: Running): boolean {
  return (running.fresh ?? false) && running.calledAt === undefined;
}

/** A write of this tab's whose values are being checked (see Resolver.writing). */
export interface Writing {
  /** Counts keys as their values are checked. */
  saw(keys: readonly string[]): void;
  /** Once it is sent (`sent`), or will not be (a value refused): only its first call counts. */
  end(sent: boolean): void;
}

/** What a Resolver uses of its cache (see CacheClient). */
export interface ResolverHost {
  calls: PendingCalls;
  fetchLocks: FetchLocks;
  /** Reports a failure no caller waits for (a background refresh's). */
  report: Logger['error'];
  /** Throws `closed` once the cache is, and `unknown_content_type` for a type that is not the cache's. */
  check(type: unknown): void;
  /** Each value as the type's schema makes it, or undefined for a miss and a value it refuses (see CacheClient). */
  checked(type: TypeName, keys: readonly string[], found: readonly (Found | undefined)[], counted?: boolean): Promise<({ value: unknown } | undefined)[]>;
  /** An entry normalised (see CacheClient); its value is checked by `output`. */
  toInput(type: TypeName, entry: z.output<typeof entrySchema>, what: string): EntryInput;
  /** What the type's schema makes of a value (a promise for an async schema); `invalid_value` if it does not pass. */
  output(type: TypeName, key: string, value: unknown, what: string): unknown;
  /** The page's answered commit marks, which its writes carry (see AnsweredMarks). */
  answered: AnsweredMarks;
  /** The ids of the changes the page heard (see HeardChanges). */
  heard: HeardChanges;
  /** Sends a call of `type` after the page's calls of it held now (see HeldCalls): at once when none is. */
  inTurn<T>(type: TypeName, send: () => T): Promise<Awaited<T>>;
  /** The type's policy as the app's config has it now, when the app may patch it (see CacheClientOptions.config). */
  policy(type: TypeName): CachePolicy | undefined;
}

/**
 * getOrSet and resolve: a key read through the cache, its fetcher called once for all concurrent
 * callers (in this tab, and through FetchLocks in every tab), its value stored unless an event made it
 * stale or the key was written meanwhile (no stale write-back), a stale entry served while one fetch refreshes it.
 */
export class Resolver {
  readonly #engine: EngineApi;
  readonly #host: ResolverHost;
  readonly #inflight = new Map<string, SharedFetch<unknown>>();
  /** Every fetch under way in the order started, those a later one for their key replaced in #inflight too: close() abandons them all. */
  readonly #running = new Map<SharedFetch<unknown>, Running>();
  /** Fetches settled whose value waits for those of its key called after them (see #storeLater). */
  readonly #parked = new Set<Running>();
  /** Fetcher calls made so far (see Running.calledAt). */
  #calls = 0;
  /**
   * When (epoch ms, the clock tabs share) each key (`type:key`; every key of a type: `type`) was last written or removed here,
   * or heard so from another tab, oldest first: a value another tab fetched from before then is not taken (see #fetchEverywhere).
   */
  readonly #noted = new Map<string, number>();
  /** When the latest note forgotten was made: a value another tab fetched from before then (over NOTED_MS ago) is not taken either. */
  #forgotten = 0;
  /** How far Date.now() has been ahead of performance.now() at most, since this tab began (see #note). */
  #ahead = Date.now() - performance.now();
  /** close()'s error, once it was called: no fetch starts, nor stores, after it. */
  #closed: unknown;

  /** `engine`: the cache's, its calls counted for close(). */
  constructor(engine: EngineApi, host: ResolverHost) {
    this.#engine = engine;
    this.#host = host;
  }

  /**
   * Counted by getOrSet and resolve as one call for close(): made before close(), it settles as it would
   * have, but for its fetch: one whose fetcher has not answered (or not begun) by then rejects with `closed`.
   */
  async resolve(type: TypeName, key: string, fetcher: Fetcher<unknown, unknown>, options: ResolveOptions | undefined, method: string): Promise<Resolved<unknown>> {
    const host = this.#host;
    host.check(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    parse(fetcherSchema, fetcher, 'invalid_argument', 'fetcher');
    const { signal: given, forceFresh, staleWhileRevalidateSeconds, ...write } = parse(resolveOptionsSchema, options ?? {}, 'invalid_argument', `${method} options`);
    const signal = ownSignal(given, `${method} options`);
    if (signal?.aborted) throw abortedError(signal);
    const fingerprint = write.fingerprint ?? undefined;
    // Concurrent calls for one key share one fetch (the first caller's fetcher and options), in this tab
    // and, through FetchLocks, across tabs; for one fingerprint in this tab (what a fetch brings is stored
    // with its own, a miss for another): a call with another fetches for it, and leaves the first one's to it.
    const id = JSON.stringify([type, key, fingerprint]);
    const shared = () => {
      const fetch = this.#inflight.get(id) as SharedFetch<Fetched> | undefined;
      // A fetch an event or a write overtook may bring what that made stale: a caller that came after it (a
      // refetch an event caused) fetches anew; that fetch's callers are still answered by it.
      const running = fetch && this.#running.get(fetch);
      return fetch?.joinable && !running?.overtaken && !running?.writing ? fetch : undefined;
    };
    // A fetch under way is joined only by a caller that the stale entry does not serve (below): the others are served
    // it at once while it runs (a refresh, or the fetch of a call without a window), as the first caller was.
    const joined = shared();
    // A forceFresh call joins only a forceFresh fetch whose fetcher is still to be called: any other may bring what the
    // caller knows is out of date (asked before an edit, or taken from a fetch that was). It fetches anew; calls after it join it.
    const running = joined && this.#running.get(joined);
    if (joined && running && (forceFresh ? asksLater(running) : running.fresh)) {
      // One read counted, as for a call made with the first (its read misses, then it joins): a miss, its value fetched.
      if (!forceFresh) this.#engine.touched(type, [], 1, 0).catch(() => {});
      return this.#join(joined, signal);
    }
    if (!forceFresh) {
      const fingerprints = fingerprint === undefined ? undefined : [fingerprint];
      // Checked by the schema whether or not the caller still waits (a value it refuses is no hit: it is discarded
      // and counted as corrupt), as one call for close().
      const reading = this.#engine.getMany(type, [key], fingerprints, { staleSeconds: staleWhileRevalidateSeconds });
      const checking = host.calls.track(reading.then(async (found) => ({ found, cached: (await host.checked(type, [key], found))[0] })));
      // A worker busy or being replaced may take long to answer: the caller who leaves meanwhile stops waiting at once.
      const { found, cached } = await untilAborted(checking, signal);
      if (cached && found[0]?.stale) {
        // Served at once; refreshed in the background, by one fetch (a failure is logged, and nothing cached): a refresh under way,
        // a forceFresh's fetch (which calls made after it join), or a refresh of its own: behind the fetch of a call without a
        // window (which stops as its callers leave), it waits for the key's lock, and reads what that fetch stored.
        const under = shared();
        if (!under?.background && !(under && this.#running.get(under)!.fresh) && this.#closed === undefined) {
          // Not one of the caller's calls: close() does not wait for it, and cuts it short without a word.
          const refresh = this.#startFetch(id, type, key, (fetchSignal, running) => this.#fetchEverywhere(type, key, fetcher, write, staleWhileRevalidateSeconds, fetchSignal, running, cached.value, false), found[0]!.stale);
          refresh.result.catch((error: unknown) => {
            // Not when its window ended with nobody waiting on it: the next caller fetches (see SharedFetch). A write that failed then is.
            if (!refresh.dropped || !isCacheError(error, 'aborted')) host.report(`Reprise: refreshing the stale ${type} "${key}" failed`, error);
          });
        }
        return { value: cached.value, source: 'stale' };
      }
      // A fetch under way as this call was made (not a refresh) answers it, as if joined then: though a write or an event came
      // since (after the call), or it settled, and whatever its read found but a stale entry that serves it.
      if (joined?.joinable && !joined.background) return this.#join(joined, signal, running);
      if (cached) return { value: cached.value, source: 'cache' };
      // Another call may have started fetching while this one read.
      const started = shared();
      if (started) return this.#join(started, signal);
      // Aborted while it read: a fetch started now would have no caller, and its signal would never abort.
      if (signal?.aborted) throw abortedError(signal);
    }
    // Closed while it read: a fetch started now would be cut short at once.
    if (this.#closed !== undefined) throw this.#closed;
    const fetch = this.#startFetch(id, type, key, (fetchSignal, running) => this.#fetchEverywhere(type, key, fetcher, write, staleWhileRevalidateSeconds, fetchSignal, running, undefined, forceFresh ?? false), undefined, forceFresh);
    const { value, shared: fromAnotherTab } = await fetch.join(signal);
    return { value, source: fromAnotherTab ? 'shared' : 'fetch' };
  }

  /** A call that joins a fetch under way: its value, or its failure as a caller whose fetcher did not run gets it (see fetchFailure). */
  async #join(fetch: SharedFetch<Fetched>, signal: AbortSignal | undefined, running = this.#running.get(fetch)!): Promise<Resolved<unknown>> {
    // Taken now (or as the call was made): a settled fetch is no longer running.
    try {
      return { value: (await fetch.join(signal)).value, source: 'shared' };
    } catch (error) {
      throw running.threw?.error === error ? fetchFailure(error, running.type, running.key) : error;
    }
  }

  /** Counts another tab's write or delete of the keys (null: every key of the type) as this tab hears of it (see sawWrite, Running.heard). */
  heardWrite(type: string, keys: readonly string[] | null, deleted = false): void {
    this.#note(type, keys);
    for (const running of this.#records()) {
      if (running.type === type && (!keys || keys.includes(running.key)) && !asksLater(running)) {
        running.overtaken = running.heard = true;
        // Named: a delete of many keys (null) is no sign of this one's (see Holds.deleted).
        running.heardDelete ||= deleted && keys !== null;
      }
    }
  }

  /** Counts an event, or a clear, for each type it applies to (see Running): its guard keeps what a fetch under way brings out of the store. */
  sawChange(types: readonly string[]): void {
    for (const type of types) this.#note(type, null);
    for (const running of this.#records()) if (types.includes(running.type) && !asksLater(running)) running.overtaken = true;
  }

  /**
   * Counts a write of the keys (null: every key of the type) made in this tab as it is called: it is newer than what a
   * fetch of one under way brings, which that fetch's callers get and the cache does not keep (no stale write-back). `by`: a fetch's own write, newer than
   * what the fetches whose fetcher was called before its own bring only (another tab's value: before now).
   */
  sawWrite(type: string, keys: readonly string[] | null, by?: Running): void {
    this.#note(type, keys);
    const at = by && (by.calledAt ?? this.#calls + 1);
    for (const running of this.#records()) {
      if (running === by || running.type !== type || (keys && !keys.includes(running.key))) continue;
      if (running.calledAt === undefined) running.wrote = true;
      if (at === undefined || (running.calledAt ?? Infinity) < at) running.overtaken = running.overwritten = true;
    }
  }

  /** Notes a change of the keys (null: every key of the type) as of now (see #noted), forgetting those older than NOTED_MS. */
  #note(type: string, keys: readonly string[] | null): void {
    // Epoch ms that never go back: a clock set back since a fetch's fetcher was called (a time sync) would put a change
    // made after that call before it, and a value fetched before the change would be taken.
    const ticks = performance.now();
    const now = ticks + (this.#ahead = Math.max(this.#ahead, Date.now() - ticks));
    const noted = this.#noted;
    // More keys than a change message names are noted as every key of the type, as another tab's such change is
    // heard: a deleteMany of 100,000 keys noted one by one held the page for a long task (an extra fetch at worst).
    for (const id of keys && namesEachKey(keys) ? keys.map((key) => `${type}:${key}`) : [type]) noted.delete(id), noted.set(id, now);
    for (const [id, at] of noted) {
      if (at > now - NOTED_MS) break;
      noted.delete(id);
      this.#forgotten = at;
    }
  }

  /** The fetches under way, and those whose value waits to be stored (see #storeLater). */
  #records(): Running[] {
    return [...this.#running.values(), ...this.#parked];
  }

  /**
   * A write called in this tab, of keys counted as their values are checked: the fetches of them under way then
   * are not joined meanwhile, and once it is sent, it is a write of them (see sawWrite). One that is not sent (the
   * schema refused a value, part way through a setMany too) wrote nothing: it leaves those fetches as they were.
   */
  writing(type: string): Writing {
    // Each fetch, and whether its fetcher was called when the write was, or it had taken another tab's value: one called
    // later brings what is newer than it.
    const held = new Map<Running, boolean>();
    const seen: string[] = [];
    return {
      saw: (keys) => {
        seen.push(...keys);
        for (const running of this.#records()) {
          if (running.type === type && keys.includes(running.key) && !held.has(running)) {
            held.set(running, running.calledAt !== undefined || running.answered !== undefined);
            running.wrote = true;
            running.writing = (running.writing ?? 0) + 1;
          }
        }
      },
      end: (sent) => {
        for (const [running, called] of held) {
          running.writing!--;
          if (sent && called) running.overtaken = running.overwritten = true;
        }
        held.clear();
        // Written here from now: a value another tab fetched from before then is not taken (see receive), as after a delete.
        if (sent) this.#note(type, seen.splice(0));
      },
    };
  }

  /**
   * Cuts every fetch under way short (close()): their fetchers are told through their signal, and their
   * callers get `reason` (at once while the fetcher runs), unless the value is being stored (a write in flight completes).
   */
  abandon(reason: unknown): void {
    this.#closed ??= reason;
    for (const [fetch, running] of this.#running) {
      // Started for no caller: close() does not wait for it, and it stores nothing from now on, answered or not.
      if (fetch.background) running.answered = false;
      fetch.abandon(reason);
    }
  }

  /** This tab's fetch of a key, or the one another tab is making (see FetchLocks). */
  async #fetchEverywhere(
    type: TypeName,
    key: string,
    fetcher: Fetcher<unknown, unknown>,
    options: WriteArgs,
    staleSeconds: number | undefined,
    signal: AbortSignal,
    running: Running,
    stale: unknown,
    fresh: boolean,
  ): Promise<Fetched> {
    const host = this.#host;
    // Guards what another tab sends: a value an event made stale since this call began is not stored. A worker busy or being
    // replaced may answer late: once the fetch's signal aborts (the cache closed, its callers all left), it is waited for no longer.
    const since = await untilAborted(this.#mark(type, key), signal, abortReason);
    return host.fetchLocks.run(type, key, {
      signal,
      fresh,
      fingerprint: options.fingerprint ?? undefined,
      fetcherThrew: (error) => running.threw !== undefined && running.threw.error === error,
      lead: () => this.#fetchAndStore(type, key, fetcher, options, signal, running, stale),
      read: async () => {
        // Under the lock, of what another call may have stored since the caller's read (which was counted).
        // In the call's window: what a refresh refreshes stays, served stale should its fetch fail (see Engine's getMany).
        const found = await this.#engine.getMany(type, [key], options.fingerprint == null ? undefined : [options.fingerprint], { again: true, staleSeconds });
        return (await host.checked(type, [key], found, false))[0];
      },
      receive: async ({ value, cached, at, options: sent, from }) => {
        // Fetched before this tab wrote or removed the key, or heard another tab do so (whose message the fetching tab may have
        // missed, or never gets: a memory type's change): older than what its callers know. It fetches for itself.
        // (A tab of an earlier deploy tells no time: compared with undefined, nothing is later.)
        // A fetch slower than NOTED_MS, called before a note since forgotten, may be older than a change of its key: refused too.
        if (Math.max(this.#forgotten, this.#noted.get(type) ?? 0, this.#noted.get(`${type}:${key}`) ?? 0) > from!) return undefined;
        // Another tab's fetcher answered for this call: close() from now on lets it settle and keep the value, as for its own (see #store).
        running.answered = this.#closed === undefined;
        let input: EntryInput;
        let output: unknown;
        try {
          // With the options that tab stored it with (its TTL, its tags), as a persistent type's entry read from the store: not this call's.
          input = host.toInput(type, { ...(sent ?? options), key, value }, 'value fetched by another tab');
          output = host.output(type, key, value, 'value fetched by another tab');
          if (isPromiseLike(output)) output = await output;
        } catch (error) {
          // One this tab's schema refuses (another deploy's tab fetched it, in its format): not this tab's value, as a stored one it refuses is a miss.
          if (isCacheError(error, 'invalid_value')) return undefined;
          throw error;
        }
        // Kept in that tab's memory tier: in this one's too (a worker dying then loses no answer: see #store); not kept at all (skipStore): nowhere.
        // Until the fetch's time + TTL (a page frozen meanwhile, a lock that came late): no longer than the fetching tab keeps it.
        // Its write tells when that tab's fetcher was called, not when this tab's mark was taken (see fetchedFrom).
        if (cached) await this.#store(type, { ...input, at }, fetchedFrom(since, from), running);
        return { value: output };
      },
    });
  }

  /**
   * Where the type's store stands before a fetch of `key`, after the page's calls of the type still held (a set whose
   * value an async schema checks): a write called before the fetch is older than what it brings, not news for its guard.
   */
  #mark(type: TypeName, key: string): Promise<Mark> {
    return this.#host.inTurn(type, () => this.#engine.mark(type, key));
  }

  /** Registers a fetch that later callers for its key join, until it settles (or every caller left it). */
  #startFetch<V>(id: string, type: TypeName, key: string, run: (signal: AbortSignal, running: Running) => Promise<V>, staleMs?: number, fresh?: boolean): SharedFetch<V> {
    const running: Running = { type, key, ...(fresh && { fresh }) };
    const fetch = new SharedFetch((signal) => run(signal, running), staleMs);
    running.settled = fetch.result;
    this.#inflight.set(id, fetch);
    this.#running.set(fetch, running);
    // A fetch every caller left may settle after a new one for its key started: that one stays.
    const settle = () => {
      this.#running.delete(fetch);
      if (this.#inflight.get(id) === fetch) this.#inflight.delete(id);
    };
    fetch.result.then(settle, settle);
    return fetch;
  }

  /** Runs a fetcher and stores what it returns, unless it said skipStore or an event or a write of the key came meanwhile (no stale write-back). */
  async #fetchAndStore(type: TypeName, key: string, fetcher: Fetcher<unknown, unknown>, options: WriteArgs, signal: AbortSignal, running: Running, stale: unknown): Promise<Led<unknown>> {
    const host = this.#host;
    // Taken before the fetch: a value an event made stale while it was fetched is returned, not stored. Taken again after a
    // write of the key called in this tab meanwhile, which may reach the store after it (the mark comes after this tab's
    // writes sent before it): older than what the fetcher brings, it is no news for the guard. Not for ever: under writes of
    // the key that keep coming (progress saved again and again) the fetcher is called all the same, and the guard keeps what
    // it brings out of the store where the last of them reached it after the mark (that write stays, as a later one would).
    let since: Mark;
    let marks = 0;
    do {
      running.wrote = false;
      since = await untilAborted(this.#mark(type, key), signal, abortReason);
    } while (running.wrote && !signal.aborted && ++marks < MARKS_PER_FETCH);
    // Every caller left meanwhile (the reason says how): nobody waits for what the fetcher would bring.
    if (signal.aborted) throw signal.reason;
    let store = true;
    // What came before its fetcher is called is older than what that brings: a write or an event heard while it waited
    // for another tab's fetch (that fetch's own write, say) or for its mark neither keeps it out of the store nor makes it stale.
    running.overtaken = running.overwritten = running.heard = running.heardDelete = false;
    running.calledAt = ++this.#calls;
    const from = Date.now();
    // Its write tells the other tabs' when its fetcher was called (see worker/fetchRevision): now, not as its mark was taken,
    // whose answer may have come late (a busy page), after another tab's fetcher was called and stored.
    since = fetchedFrom(since, from);
    // Called after the fetches of the key called before it (no lock held them apart): it brings what is newer than
    // what they bring, which a caller that comes now does not join (see #store for their values).
    for (const other of this.#records()) {
      if (other !== running && other.type === type && other.key === key && other.calledAt !== undefined) other.overtaken = true;
    }
    // A fetcher may ignore its signal and never answer: once its callers all left, or the cache closes, it is waited
    // for no longer, and the key's lock goes to the next call, in this tab or another (what it brings later is dropped).
    const value = await untilAborted(
      new Promise((answer) => answer(fetcher({ signal, stale, skipStore: () => void (store = false) }))),
      signal,
      abortReason,
    ).catch((error: unknown) => {
      // Its own failure, whatever it is (not its callers leaving): every caller in every tab gets it.
      if (!signal.aborted) running.threw = { error };
      throw error;
    });
    running.answered = this.#closed === undefined;
    const input = host.toInput(type, { ...options, key, value }, 'fetched value');
    // Asked once (a check asked again may answer otherwise, a lookup): what it makes of the value is its callers'.
    const checked = host.output(type, key, value, 'fetched value');
    const output = isPromiseLike(checked) ? await checked : checked;
    const written = store ? await this.#store(type, input, since, running) : undefined;
    // Kept unless skipStore, or an event made it stale or the key was written meanwhile (or a dead worker's write cannot say): then the
    // other tabs must not store it either. They read it from the store only where it is shared (IndexedDB, which a
    // tab that lost it does not write); from memory they get it in the message.
    const cached = written !== undefined && written.stale.length === 0;
    // Written, but left out as stale: an event or a write of the key overtook the fetch. Not stored (skipStore, or
    // a dead worker's write), the event this tab heard says so: a call made after it must not get this value.
    const overtaken = written !== undefined ? !cached : (running.overtaken ?? false);
    // With the TTL it was written with, its policy's where the call gave none: a tab that takes it keeps it so, whatever its own policy says.
    const kept = options.ttlSeconds === undefined && written?.ttlSeconds !== undefined ? { ...options, ttlSeconds: written.ttlSeconds } : options;
    return { value: output, fetched: input.value, stored: cached && written.shared, cached, stale: overtaken, at: written?.at, options: kept, from };
  }

  /**
   * A read-through's write, under one commit id. When its worker dies, the next one says whether it
   * happened, or makes it, guarded by the mark taken at the fetch's start (no stale write-back): the value
   * was fetched, and its callers get it. Undefined when that cannot be told (nor then told to the other tabs as kept).
   * Not made once a write of the key came after the fetch's start (see sawWrite), also on a retry: left out as stale. Made, it is
   * such a write for the fetches of the key whose fetcher was called before this one's (of two at once, the later-called one's
   * value stays); while one called after it is under way, made only once that one stored nothing (see #storeLater).
   */
  async #store(type: TypeName, input: EntryInput, since: Mark, running: Running): Promise<Written | undefined> {
    // What a fetch brings once the cache is closing is not kept (its callers were told it closed), but what its fetcher brought
    // before close() (an async schema still checking it then): a call made before close() settles as it would have. Asked
    // again as its write is sent, which may wait its turn past close() (a background refresh's: it stores nothing from then on).
    const open = () => {
      if (this.#closed !== undefined && !running.answered) throw this.#closed;
    };
    open();
    // Another tab's write heard is newer unless the store's guard says: one made since the mark it sees (the mark holds the
    // key), and one made before is older, though its message came after the fetcher was called.
    const overwritten = () => running.overwritten || (running.heard && !('holds' in since && since.holds?.key === input.key));
    if (overwritten()) return { stale: [input.key], shared: false };
    if (this.#calledLater(running)) return this.#storeLater(type, input, since, running);
    this.sawWrite(type, [input.key], running);
    const engine = this.#engine;
    const commitId = randomId();
    // Under the rules as it is made, also made again on a next worker: an updatePolicy sent after it, to the worker that died, is sent
    // again at once, before this (which asks first whether it happened), yet applies only to the calls made after it.
    const policy = this.#host.policy(type);
    let later = false;
    const written = this.#host.answered.carry(type, commitId, (answered) =>
      acrossDeaths(async (retry) => {
        if (retry && (await engine.committed(type, commitId, new Set([input.key])))) return undefined;
        // After the page's calls of the type made before it and still held (a value an async schema checks): a read
        // with a fingerprint then does not remove it, and a write of the key, once sent, leaves it out. Not made on the
        // next worker over a write of the key called while the dead one was replaced.
        return this.#host.inTurn(type, () =>
          (open(), overwritten()) || (later = this.#calledLater(running) !== undefined) ? { stale: [input.key], shared: false } : engine.setMany(type, [input], { since: deletedSince(since, input.key, running), commitId, answered, policy }),
        );
      }),
    );
    const stored = await this.#host.calls
      .track(this.#host.heard.mine(commitId, written))
      .catch((error: unknown) => {
        if (!isCacheError(error, 'worker_failed')) throw error;
        return undefined;
      });
    return later ? this.#storeLater(type, input, since, running) : stored;
  }

  /** Once the fetches of the key called after this one's under way now have settled (and stored, or not): undefined when there are none. */
  #calledLater(running: Running): Promise<unknown> | undefined {
    const { type, key, calledAt } = running;
    if (calledAt === undefined) return undefined;
    const settling = this.#records()
      .filter((other) => other.type === type && other.key === key && (other.calledAt ?? 0) > calledAt)
      .map((other) => other.settled);
    return settling.length ? Promise.allSettled(settling) : undefined;
  }

  /**
   * Without a lock, fetches of a key overlap, and a write of what one brings is news for the guard of one called after it,
   * which brings the newer value: the earlier one's callers get theirs at once, and it is stored (as #store would) only
   * once those called after it stored nothing (a fetcher that threw, skipStore, a value refused), not lost with theirs.
   */
  #storeLater(type: TypeName, input: EntryInput, since: Mark, running: Running): undefined {
    // As fetched: its callers, who get it now, may change it before it is written.
    let kept = input;
    try {
      kept = { ...input, value: structuredClone(input.value) };
    } catch {
      // Stored as it is: its write fails as any of such a value does.
    }
    const storing = (async () => {
      for (let later; (later = this.#calledLater(running)); ) await later;
      // Its callers have their value: closed meanwhile, it is not kept.
      if (this.#closed !== undefined) throw this.#closed;
      return this.#store(type, kept, since, running);
    })();
    // Still told of writes and events meanwhile (see #records).
    this.#parked.add(running);
    running.settled = storing;
    this.#host.calls
      .track(storing)
      .catch((error: unknown) => {
        // Closed meanwhile: not kept, as no fetch's value is then.
        if (!isCacheError(error, 'closed')) this.#host.report(`Reprise: storing ${type} "${input.key}" failed`, error);
      })
      .finally(() => {
        if (running.settled === storing) this.#parked.delete(running);
      });
    return undefined;
  }
}

/** The mark a read-through's write is guarded by, saying whether another tab's delete of the key was heard (see Holds.deleted). */
function deletedSince(since: Mark, key: string, running: Running): Mark {
  return running.heardDelete && 'holds' in since && since.holds?.key === key && since.holds.revision === null ? { ...since, holds: { ...since.holds, deleted: true } } : since;
}
