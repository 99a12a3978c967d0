import type { CacheStats, CleanupReport, EmitReport, TypeStats } from './Cache';
import type { CacheEvent } from './cacheEvent';
import { CacheError, isCacheError } from './CacheError';
import type { TypeName } from './contentType';
import type { ValidPolicyPatch } from './configSchema';
import type { Logger } from './Logger';
import type { DirectReads } from './DirectReads';
import type { KeptMessages } from './KeptMessages';
import { inOrder } from './inOrder';
import { PendingChanges, type PendingChange } from './PendingChanges';
import { HUNG_AFTER_PINGS, IDLE_PROBE_MS, PROBE_AFTER_MS, PROBE_TIMEOUT_MS, probeWorker } from './probeWorker';
import { namesEachKey } from './TabChannel';
import { unref } from './unref';
import { valueBytes } from './estimateBytes';
import { epochNow } from './time';
import { abortReason, untilAborted } from './SharedFetch';
import { READS_AT_ONCE } from '../worker/recordReads';
import type { Corrupt, Deleted, EngineApi, EngineConnection, EntryInput, Found, Listed, Mark, Once, ReadThrough, SetManyOptions, StorageKind, Written } from './protocol';

export interface RemoteEngineOptions {
  /** Starts a new engine behind its boundary (a Worker): called at start and after each death; `signal` aborts a start the cache's close() no longer waits for. */
  connect: (signal: AbortSignal) => Promise<EngineConnection>;
  logger: Logger;
  /**
   * Reads persistent entries straight from the page (see DirectReads): used while the worker keeps them
   * in IndexedDB, for the hits and misses it finds that no change of this page on its way may alter.
   */
  direct?: DirectReads | undefined;
  /** What the page hears of the other tabs while it waits to replace a dead worker: the next one's (see KeptMessages). */
  kept?: KeptMessages | undefined;
  /** How soon after a replacement a worker that died is replaced at once (RESTART_MS; tests shorten it). */
  restartAfterMs?: number | undefined;
  /** Milliseconds since the epoch, like Date.now (tests inject theirs). */
  now?: (() => number) | undefined;
}

/** How long reads the page answered itself wait, at most, before the worker counts them (when no other call goes first). */
const TOUCH_AFTER_MS = 1000;

/**
 * The main thread's proxy of the engine running in a worker. Every call races the worker's death: a
 * worker that crashes or is terminated fails its pending calls with `worker_failed`, and the next call
 * connects a new one.
 */
export class RemoteEngine implements EngineApi {
  readonly #options: RemoteEngineOptions;
  #connection: Promise<EngineConnection> | null = null;
  /** Aborts the start of the last worker (see close): nothing once it has started. */
  #starting: AbortController | undefined;
  /** The connection while its worker lives (known synchronously, unlike #connection). */
  #live: EngineConnection | null = null;
  #closed = false;
  #restartedAt = -Infinity;
  /** Workers in a row that died soon after they replaced one: each next waits twice as long. */
  #quickDeaths = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Pings the live worker from the cache's close() on, until it is closed (see closing). */
  #closeWatch: ReturnType<typeof setTimeout> | undefined;
  #closing = false;
  /** Calls sent to each live worker and not answered (see #watch). */
  readonly #calls = new Map<EngineConnection, number>();
  /** The next ping of the live worker while no call waits on it, where its death cannot be observed otherwise (see #idle). */
  #idleWatch: ReturnType<typeof setTimeout> | undefined;
  /** The workers being pinged because a call waits long on them, each with its next look (see #watch). */
  readonly #watched = new Map<EngineConnection, ReturnType<typeof setTimeout>>();
  /**
   * The cache's counts (hits, misses, removals by cause, dropped messages) as of each live worker's last
   * stats(); the last dead one's carry over, added to what the next ones count (see stats).
   */
  readonly #counted = new Map<EngineApi, CacheStats<string> | null>();
  #carried: CacheStats<string> | null = null;
  /** The stats() calls sent so far: each hit counted is known to be in the counts of those sent after it (see CountedBy). */
  #statsSent = 0;
  /** Each worker's last stats() answered, by when it was sent (see #statsSent): for a dead one, what its carried-over counts hold. */
  readonly #countedAt = new WeakMap<EngineApi, number>();
  /** Where the last worker said it keeps persistent types, as of its open or its death (null before any has). */
  #said: StorageKind | null = null;
  /**
   * Calls that change entries, sent and not answered: a read of what one may alter goes to the worker,
   * after it — a read made after a call sees what the call did. Other reads stay the page's.
   */
  readonly #pending = new PendingChanges();
  /** Reads the page answered itself, by type, not yet told to the worker: the keys each found, in order, how many of those count as hits, and how many keys they did not find. */
  readonly #touched = new Map<TypeName, Touched>();
  #touchTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The live worker is called at once, so that postMessage copies the arguments as the call is made (the
   * caller may change them right after); behind the calls still waiting for a worker, in the order made.
   */
  readonly #inOrder = inOrder(
    () => this.#live,
    () => this.#current(),
  );

  private constructor(options: RemoteEngineOptions) {
    this.#options = options;
  }

  /** Connects the first engine; rejects with `worker_failed` if it cannot start. */
  static async start(options: RemoteEngineOptions): Promise<RemoteEngine> {
    const engine = new RemoteEngine(options);
    // The page's connection opens while the worker starts: the first read does not wait for it.
    options.direct?.warm();
    try {
      await engine.#current();
    } catch (error) {
      // No cache to close: the page's connection goes with the failed start, and so does its listening.
      options.direct?.close();
      options.kept?.stop();
      throw error;
    }
    return engine;
  }

  async getMany(type: TypeName, keys: string[], fingerprints?: (string | undefined)[], readThrough?: ReadThrough): Promise<(Found | undefined)[]> {
    const direct = this.#options.direct;
    const live = this.#live;
    const alters = direct && this.#readsDirectly(type) ? this.#pending.alters(type) : null;
    let reading = alters ? direct!.read(type, keys, fingerprints, alters).catch(() => null) : null;
    // While the worker opens, the page's read waits no longer than the open: the page's connection may
    // queue behind the worker's own upgrade, which another tab's connection blocks and the worker gives up on.
    if (reading && live?.storage?.() === null && live.opened) {
      const settles = Promise.resolve(live.opened).then(
        () => null,
        () => null,
      );
      reading = Promise.race([reading, settles]);
    }
    const found = reading ? await reading : null;
    // All plain hits and misses, or all from the worker (see DirectReads.read).
    if (!found) {
      return this.#call(async (engine) => {
        const answer = await engine.getMany(type, keys, fingerprints, readThrough);
        const counted = { toldTo: engine, at: this.#statsSent };
        for (const item of answer) if (item) (item as Counted)[COUNTED_BY] = counted;
        return answer;
      });
    }
    if (readThrough?.peek) return found;
    const hits = keys.filter((_, index) => found[index]);
    // A read again counts no hit or miss (see ReadThrough.again), yet its hits are read times.
    const touched = this.#touch(type, hits, readThrough?.again ? 0 : keys.length - hits.length, !readThrough?.again);
    for (const item of found) if (item) (item as Counted)[COUNTED_BY] = touched;
    return found;
  }

  setMany(type: TypeName, entries: EntryInput[], options?: SetManyOptions): Promise<Written> {
    return this.#sendValues(entries, (engine, sent) => engine.setMany(type, sent, options), { type, keys: new Set(entries.map(({ key }) => key)) });
  }

  mark(type: TypeName, key?: string): Promise<Mark> {
    return this.#call((engine) => engine.mark(type, key));
  }

  stage(type: TypeName, batch: string, entries: EntryInput[]): Promise<void> {
    return this.#sendValues(entries, (engine, sent) => engine.stage(type, batch, sent));
  }

  commit(type: TypeName, count: number, options: SetManyOptions & { batch: string }): Promise<void> {
    return this.#call((engine) => engine.commit(type, count, options), { type });
  }

  committed(type: TypeName, commitId: string, keys?: ReadonlySet<string>): Promise<boolean> {
    return this.#call((engine) => engine.committed(type, commitId, keys));
  }

  discard(batch: string): Promise<void> {
    return this.#call((engine) => engine.discard(batch));
  }

  has(type: TypeName, key: string): Promise<boolean> {
    return this.#call((engine) => engine.has(type, key));
  }

  keys(type: TypeName, prefix?: string): Promise<string[]> {
    return this.#call((engine) => engine.keys(type, prefix));
  }

  entries(type: TypeName, prefix?: string): Promise<Listed[]> {
    return this.#call((engine) => engine.entries(type, prefix));
  }

  deleteMany(type: TypeName, keys: string[], once?: Once): Promise<Deleted> {
    // More keys than a change message names as any key of the type (as Resolver notes them): a Set of 100,000 is a long task of the page; a read of the type meanwhile is the worker's, after the delete.
    return this.#call((engine) => engine.deleteMany(type, keys, once), namesEachKey(keys) ? { type, keys: new Set(keys) } : { type });
  }

  clear(type?: TypeName, once?: Once): Promise<void> {
    return this.#call((engine) => engine.clear(type, once), { type: type ?? null });
  }

  emit(event: CacheEvent, once?: Once): Promise<EmitReport> {
    return this.#call((engine) => engine.emit(event, once), { event });
  }

  /**
   * The counts are the cache's, not its worker's: a dashboard's hit count does not drop when a worker
   * dies. What a dead worker counted after its last stats() is lost with it, as its memory tier is.
   */
  stats(): Promise<CacheStats<string>> {
    return this.#call(async (engine) => {
      const sent = ++this.#statsSent;
      const stats = withCounts(await engine.stats(), this.#carried);
      // A copy: the caller may change what it gets.
      if (this.#counted.has(engine)) {
        this.#counted.set(engine, structuredClone(stats));
        this.#countedAt.set(engine, sent);
      }
      return stats;
    });
  }

  cleanup(): Promise<CleanupReport> {
    return this.#call((engine) => engine.cleanup());
  }

  /**
   * A hit is taken back by the worker that counted it, or by a next one where the dead worker's last stats()
   * carried it over (its counts are added to the next one's); not where it died with the worker that counted
   * it: the next would take back one that no count holds (hits below zero).
   */
  discardCorrupt(type: TypeName, found: Corrupt[], counted?: boolean): Promise<void> {
    return this.#call(
      (engine) => {
        // Read as the call runs: the page's reads not yet told go to this worker first (see #run).
        const lost = counted ? found.filter(({ read }) => read && !this.#holds(engine, (read as Counted)[COUNTED_BY])).length : 0;
        return engine.discardCorrupt(type, found.map(({ key, revision }) => ({ key, revision })), counted, lost);
      },
      { type, keys: new Set(found.map(({ key }) => key)) },
    );
  }

  deletedCorrupt(type: TypeName, count: number): Promise<void> {
    return this.#call((engine) => engine.deletedCorrupt(type, count));
  }

  touched(type: TypeName, reads: string[][], misses: number, hits: number): Promise<void> {
    return this.#call((engine) => engine.touched(type, reads, misses, hits));
  }

  /** No worker, live or starting: a dead one waits to be replaced (the next starts later, or with the next call). */
  get workerless(): boolean {
    return !this.#connection && !this.#closed;
  }

  updatePolicy(type: TypeName, patch: ValidPolicyPatch): Promise<void> {
    // Workerless: the next one starts from the config, the patch in it (createCache puts it there before this call).
    if (this.workerless) return Promise.resolve();
    // Pending as a change is (of no entry: the page's reads need not wait): as its worker dies, its rejection reaches createCache's
    // retry in the turn that of a change sent before it reaches the change's (see CacheClient's #once): the next worker gets the two in order.
    return this.#call((engine) => engine.updatePolicy(type, patch), { type, keys: new Set() });
  }

  suspend(): Promise<void> {
    this.#options.kept?.pause();
    // Workerless: nothing listens to stop, and a page being hidden or unloaded starts none. Reads not yet told wait for the next worker.
    if (this.workerless) return Promise.resolve();
    return this.#call((engine) => engine.suspend());
  }

  unloading(): Promise<void> {
    // As suspend: a page being unloaded starts no worker.
    if (this.workerless) return Promise.resolve();
    return this.#call((engine) => engine.unloading());
  }

  resume(): Promise<void> {
    this.#options.kept?.resume();
    return this.#call((engine) => engine.resume());
  }

  /**
   * The cache's close() was called: it waits for the calls made before it, then for this close. A worker
   * may hang without dying (a loop that never ends: it holds its Web Lock, and posts nothing), which
   * would leave both waiting for ever. So from now on the live worker is pinged every PROBE_AFTER_MS,
   * and one that does not answer is terminated: its calls reject with worker_failed, and close() ends.
   */
  closing(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    const watch = () => {
      this.#closeWatch = setTimeout(() => {
        const connection = this.#live;
        if (!connection?.ping) return watch();
        void this.#probe(connection, connection.ping).then(() => this.#closeWatch !== undefined && watch());
      }, PROBE_AFTER_MS);
      unref(this.#closeWatch);
    };
    watch();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.closing();
    this.#closed = true;
    this.#options.direct?.close();
    this.#options.kept?.stop();
    clearTimeout(this.#touchTimer);
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#idleWatch);
    // A worker whose script is still on its way (one replacing a dead worker, on a slow network) is not waited for: no call
    // of the app's is left for it, and one of the page's own (an updatePolicy it follows) rejects as any call after close() does.
    this.#starting?.abort(new CacheError('closed', 'This cache is closed'));
    try {
      await this.#close();
    } finally {
      clearTimeout(this.#closeWatch);
      this.#closeWatch = undefined;
    }
  }

  async #close(): Promise<void> {
    const connection = await this.#connection?.catch(() => null);
    if (!connection) return;
    this.#sendTouched(connection);
    try {
      await Promise.race([connection.engine.close(), connection.died]);
    } catch {
      // A dead worker has nothing left to close.
    } finally {
      connection.terminate();
      this.#connection = null;
    }
  }

  /** Runs a call on the live engine (`told`: the page's reads sent ahead of it, answered); `changes`: what it may alter (see #pending); `onWait`: runs as it is made if it waits for a worker. */
  #call<T>(run: (engine: EngineApi, told: Promise<unknown>) => Promise<T>, changes?: PendingChange, onWait?: () => void): Promise<T> {
    if (this.#closed) return Promise.reject(new CacheError('closed', 'This cache is closed'));
    return changes ? this.#pending.during(changes, this.#run(run, onWait)) : this.#run(run, onWait);
  }

  /**
   * A call carrying the caller's values: a live worker's postMessage copies them as it is made, and so does this
   * when it waits for a worker (one replacing a dead one loads its script): the caller may change them right after.
   */
  #sendValues<T>(entries: EntryInput[], call: (engine: EngineApi, sent: EntryInput[]) => Promise<T>, changes?: PendingChange): Promise<T> {
    let sent = entries;
    return this.#call((engine) => sending(sent, () => call(engine, sent)), changes, () => {
      try {
        sent = structuredClone(entries);
      } catch {
        // Sent as they are: the call fails as it does with a live worker (see sending).
      }
    });
  }

  #run<T>(run: (engine: EngineApi, told: Promise<unknown>) => Promise<T>, onWait?: () => void): Promise<T> {
    return this.#inOrder(async (connection) => {
      // The reads the page answered itself go first: the worker's counts then follow the page's order.
      const told = this.#sendTouched(connection);
      const watchdog = setTimeout(() => this.#watch(connection), PROBE_AFTER_MS);
      this.#calls.set(connection, (this.#calls.get(connection) ?? 0) + 1);
      try {
        // Not a race with died, pending while the worker lives: each call would leave it a reaction holding its answer till then.
        return await untilAborted(run(connection.engine, told), deathOf(connection.died), abortReason);
      } catch (error) {
        throw toClientError(error);
      } finally {
        clearTimeout(watchdog);
        const calls = this.#calls.get(connection)! - 1;
        if (calls) this.#calls.set(connection, calls);
        else {
          // Its last call answered, or rejected with its death: the watch ends with it (a closed cache keeps no timer).
          this.#calls.delete(connection);
          clearTimeout(this.#watched.get(connection));
          this.#watched.delete(connection);
        }
      }
    }, onWait);
  }

  /**
   * Whether a read of this type may be answered by the page: its worker keeps the type in IndexedDB, or
   * is still opening (its first reads do not wait for it: what the page finds there is what every tab
   * wrote, and no change of this page can have landed before the open) — unless the worker before it
   * kept them in memory, whose events IndexedDB may not have.
   */
  #readsDirectly(type: TypeName): boolean {
    const storage = this.#live?.storage?.();
    return (storage === 'indexeddb' || (storage === null && this.#said !== 'memory')) && this.#options.direct!.reads(type);
  }

  #touch(type: TypeName, hits: string[], misses: number, counted: boolean): Touched {
    let touched = this.#touched.get(type);
    // Each read apart: the worker gives each its own read time, in order.
    if (!touched) this.#touched.set(type, (touched = { reads: [], times: [], hits: 0, misses: 0, recorded: new Set() }));
    if (hits.length) {
      touched.reads.push(hits);
      // When it was made: told up to a second later, it is a use then (another tab's in between is later).
      touched.times.push((this.#options.now ?? epochNow)());
    }
    if (counted) touched.hits += hits.length;
    touched.misses += misses;
    // A first read since the worker was last told is written at once (up to READS_AT_ONCE), for other tabs' evictions.
    const { recorded } = touched;
    const first = hits.filter((key) => recorded.size < READS_AT_ONCE && !recorded.has(key) && recorded.add(key));
    this.#options.direct!.record(type, first);
    if (this.#touchTimer !== undefined) return touched;
    this.#touchTimer = setTimeout(() => {
      this.#touchTimer = undefined;
      // A call like any other, watched: on a page without Web Locks, a dead worker is found by a call that
      // hangs, and a page whose reads are all hits makes no other. It tells the reads as it runs (see #run):
      // taken now, they would go after those made while it waits for a worker, which its run sends first.
      if (this.#touched.size) this.#call((_, told) => told).catch(() => {});
    }, TOUCH_AFTER_MS);
    unref(this.#touchTimer);
    return touched;
  }

  /**
   * Tells the worker of the reads the page answered itself. Those not yet sent when a worker dies go to
   * the next one; those sent to a worker that then dies go with it (counts and read times are per
   * worker, and read times are hints).
   */
  #sendTouched(connection: EngineConnection): Promise<unknown> {
    const told = Promise.all([...this.#touched].map(([type, touched]) => this.#tell(connection.engine, type, touched)));
    this.#touched.clear();
    return told.catch(() => {});
  }

  /** Tells `engine` of the page's reads of `type`: the hits among them are counted by it from now on. */
  #tell(engine: EngineApi, type: TypeName, touched: Touched): Promise<void> {
    touched.toldTo = engine;
    touched.at = this.#statsSent;
    return engine.touched(type, touched.reads, touched.misses, touched.hits, touched.times);
  }

  /** Whether the counts `engine` adds to hold a hit counted `by`: its own, or a dead worker's that a stats() sent after it carried over. */
  #holds(engine: EngineApi, by: CountedBy | undefined): boolean {
    return !!by?.toldTo && (by.toldTo === engine || (this.#countedAt.get(by.toldTo) ?? 0) > by.at!);
  }

  /** The cache closes (see closing), or no call waits (see #idle): a worker that does not answer a ping either is dead, or hung. */
  #probe(connection: EngineConnection, ping: () => Promise<void>): Promise<void> {
    // One that dies meanwhile needs no terminating. Not a race with died (pending while the worker lives): each slow call would leave it a reaction till then.
    return untilAborted(probeWorker(ping), deathOf(connection.died), abortReason).then(
      (answer) => {
        if (answer === 'silent') connection.terminate(silentFor(PROBE_TIMEOUT_MS));
      },
      () => {},
    );
  }

  /**
   * A call has waited long on a worker whose death its Web Lock tells: it may hang without dying (a loop
   * that never ends holds the lock and posts nothing), which would leave every call waiting for as long
   * as the cache is open. So while it has calls waiting it is pinged, one ping each PROBE_TIMEOUT_MS, and
   * one that answered none of HUNG_AFTER_PINGS in a row is terminated: its calls reject with
   * worker_failed, and the next worker serves the later ones. An answer counts however late it comes
   * (the thread runs), and none counts once the worker is terminated. A worker whose death cannot be
   * observed (`probe`: no Web Locks) is pinged so too, and one ping left unanswered is its death: one that
   * answered the first and hung (or died) after would otherwise leave its calls waiting for ever.
   */
  #watch(connection: EngineConnection): void {
    // Read as it starts: a worker found to hold no lock is probed once it has opened (see connectWorker).
    const { probe } = connection;
    const ping = probe ?? connection.ping;
    if (!ping || this.#watched.has(connection) || !this.#calls.has(connection)) return;
    const hungAfter = probe ? 1 : HUNG_AFTER_PINGS;
    let silent = 0;
    let heard = false;
    const next = () => {
      ping().then(
        () => void (heard = true),
        () => {},
      );
      const look = setTimeout(() => {
        silent = heard ? 0 : silent + 1;
        heard = false;
        if (silent < hungAfter) return next();
        this.#watched.delete(connection);
        connection.terminate(silentFor(hungAfter * PROBE_TIMEOUT_MS));
      }, PROBE_TIMEOUT_MS);
      this.#watched.set(connection, look);
      unref(look);
    };
    next();
  }

  /**
   * A worker whose death cannot be observed (`probe`: no Web Locks) that dies while no call waits on it
   * (the browser ends it without an error event) would be found only by the next call, which it would
   * fail, and a page that only listens (on, watch) would hear no other tab until then. So the live one is
   * pinged every IDLE_PROBE_MS while no call waits (a call's own watch pings it then: see #watch), and one
   * that does not answer is terminated and replaced, as a death its Web Lock tells.
   */
  #idle(connection: EngineConnection): void {
    if (this.#live !== connection || this.#closed || this.#closing) return;
    clearTimeout(this.#idleWatch);
    this.#idleWatch = setTimeout(() => {
      // Read as it fires: a worker found to hold no lock is probed once it has opened (see connectWorker).
      const { probe } = connection;
      if (!probe || this.#calls.has(connection)) return this.#idle(connection);
      void this.#probe(connection, probe).then(() => this.#idle(connection));
    }, IDLE_PROBE_MS);
    unref(this.#idleWatch);
  }

  #current(): Promise<EngineConnection> {
    if (!this.#connection) {
      this.#starting = new AbortController();
      const connecting = this.#options.connect(this.#starting.signal);
      this.#connection = connecting;
      connecting.then(
        (connection) => {
          if (this.#connection === connecting) this.#live = connection;
          this.#idle(connection);
          this.#counted.set(connection.engine, null);
          // A database the page found missing (a first visit: the worker makes it) is there once the engine has opened.
          void Promise.resolve(connection.opened).then(
            () => {
              if (this.#live === connection) this.#options.kept?.opened();
              this.#said = connection.storage?.() ?? this.#said;
              if (this.#said === 'indexeddb') this.#options.direct?.warm();
            },
            () => {},
          );
          return connection.died.catch((error: unknown) => {
            // What it said last counts until the next one says (it may have lost IndexedDB since its open).
            this.#said = connection.storage?.() ?? this.#said;
            this.#carried = this.#counted.get(connection.engine) ?? this.#carried;
            this.#counted.delete(connection.engine);
            // Forget the dead worker at once, so the next call starts a new one.
            if (this.#live === connection) this.#live = null;
            if (this.#connection === connecting) this.#connection = null;
            // Closing: a call that retries starts the next one; the cache itself needs none.
            if (this.#closed || this.#closing) return;
            this.#replace('died', error);
          });
        },
        () => {
          if (this.#connection !== connecting) return;
          this.#connection = null;
          // Its relay listened while it loaded: the page listens again for the next one (a call's, or the back-off's).
          if (!this.#closed) this.#options.kept?.listen();
        },
      );
    }
    return this.#connection;
  }

  /**
   * A page that only listens (on, watch) would hear nothing from other tabs until its next call: the next
   * worker starts now — not in a loop, though: one that dies soon after it started, or does not start (its
   * script did not load), is replaced later, each time twice as late (or by the next call).
   */
  #replace(what: 'died' | 'did not start', error: unknown): void {
    const wait = this.#options.restartAfterMs ?? RESTART_MS;
    const now = this.#options.now ?? epochNow;
    // A clock set back since (an NTP correction) says nothing of how long the last one lived: not soon,
    // or each death until the clock caught up would count as quick, and the waits would only grow.
    const lived = now() - this.#restartedAt;
    const soon = lived >= 0 && lived <= wait;
    this.#quickDeaths = soon ? this.#quickDeaths + 1 : 0;
    const delay = soon ? Math.min(wait * 2 ** (this.#quickDeaths - 1), MAX_RESTART_MS) : 0;
    this.#options.logger.error(`Reprise: the cache worker ${what}; ${delay ? `a new one starts in ${delay / 1000} s, or with the next call` : 'starting a new one'}`, error);
    const restart = () => {
      if (this.#closed) return;
      // One a call is starting meanwhile stands for it: if that one does not start either, the next is due later.
      (this.#connection ?? ((this.#restartedAt = now()), this.#current())).catch((failed: unknown) => {
        if (!this.#closed && !this.#connection) this.#replace('did not start', failed);
      });
    };
    clearTimeout(this.#restartTimer);
    if (!delay) return restart();
    // Meanwhile the page listens to the other tabs for the next worker: its log replays their events, not their change hints.
    this.#options.kept?.listen();
    this.#restartTimer = setTimeout(restart, delay);
    // Node: a cache nobody closed does not keep the process alive for it.
    unref(this.#restartTimer);
  }
}

/** Why a worker silent to pings for `ms` was terminated, as its calls reject: an app's log says so. */
const silentFor = (ms: number) => `The cache worker stopped answering (no answer to pings for ${ms / 1000} s): it was terminated`;

/** Which worker counted a hit (`toldTo`), and when (`at`: how many stats() calls had been sent then). */
interface CountedBy {
  toldTo?: EngineApi;
  at?: number;
}

/**
 * Which worker counted each hit a read answered: the one that answered it, or the one its page read was told to (see
 * discardCorrupt). A property of the read's own, not a WeakMap's entry: setting 100,000 of those took 40–190 ms (row 12).
 */
const COUNTED_BY = Symbol();
type Counted = Found & { [COUNTED_BY]?: CountedBy };

/** Reads the page answered itself, of one type, until told to a worker (see CountedBy). */
interface Touched extends CountedBy {
  reads: string[][];
  /** When each read was made. */
  times: number[];
  hits: number;
  misses: number;
  recorded: Set<string>;
}

/** A worker that dies is replaced at once, unless the last one was replaced this recently (then after this, doubled for each such death in a row, or at the next call). */
const RESTART_MS = 5000;
/** The longest a page waits to replace a worker that keeps dying. */
const MAX_RESTART_MS = 5 * 60_000;

/** What stats() counts of a type (the rest is what its store holds now). */
const COUNTS = ['hits', 'misses', 'evictions', 'expirations', 'invalidations', 'corrupt'] as const satisfies readonly (keyof TypeStats)[];

/** A worker's `stats` (its own copy), with the counts `carried` over from those that died added. */
function withCounts(stats: CacheStats<string>, carried: CacheStats<string> | null): CacheStats<string> {
  if (!carried) return stats;
  for (const [type, counts] of Object.entries(stats.types)) for (const count of COUNTS) counts[count] += carried.types[type]?.[count] ?? 0;
  stats.droppedMessages += carried.droppedMessages;
  return stats;
}

/** Each connection's death as a signal (see untilAborted): a call's wait on it goes as the call settles. */
const deaths = new WeakMap<Promise<never>, AbortSignal>();

function deathOf(died: Promise<never>): AbortSignal {
  let death = deaths.get(died);
  if (!death) {
    const controller = new AbortController();
    died.catch((error: unknown) => controller.abort(error));
    deaths.set(died, (death = controller.signal));
  }
  return death;
}

/**
 * A call carrying values, each checked first as the worker will (see valueBytes). Its failure may be the
 * copy of one for the worker: a getter that throws makes postMessage throw that error as it is (not a
 * DataCloneError), so a failure that is no CacheError is checked by copying the values once more — only then.
 */
async function sending<T>(entries: readonly EntryInput[], call: () => Promise<T>): Promise<T> {
  for (const entry of entries) valueBytes(entry);
  try {
    return await call();
  } catch (error) {
    if (isCacheError(error)) throw error;
    for (const entry of entries) valueBytes(entry, structuredClone);
    throw error;
  }
}

/** Errors as the caller should see them: a value postMessage could not clone is `not_cloneable`. */
function toClientError(error: unknown): unknown {
  if (isCacheError(error)) return error;
  if (error instanceof Error && error.name === 'DataCloneError') {
    return new CacheError('not_cloneable', `Value cannot be sent to the cache worker: it is not structured-cloneable (${error.message})`, {
      cause: error,
    });
  }
  return error;
}
