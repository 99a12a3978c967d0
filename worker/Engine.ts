import type { CacheChange, CacheStats, ChangeKind, CleanupReport, EmitReport, TypeStats } from '../src/Cache';
import type { CacheEvent } from '../src/cacheEvent';
import type { CachePolicy } from '../src/cachePolicy';
import type { ValidConfig, ValidPolicyPatch } from '../src/configSchema';
import { CacheError } from '../src/CacheError';
import { isBuiltInType, type TypeName } from '../src/contentType';
import type { Logger } from '../src/Logger';
import type { InvalidationTarget } from '../src/invalidationTarget';
import { affectedTypes, invalidationTargets } from '../src/invalidationTargets';
import { goneId, roomOf, type ClientCallbacks, type Corrupt, type Deleted, type EngineApi, type EntryInput, type Found, type Listed, type LogPlace, type Mark, type Once, type ReadThrough, type SetManyOptions, type WorkerOpenOptions, type Written } from '../src/protocol';
import { randomId } from '../src/randomId';
import type { OpenTabChannel } from '../src/TabChannel';
import { PolicyTable } from '../src/PolicyTable';
import { isOpenError, isOpenFailure } from './Database';
import { reasonOf } from '../src/describeValue';
import { guarded } from '../src/guarded';
import { IdbStore } from './IdbStore';
import { IMPORT_SILENCE_MS, Imports } from './Imports';
import { isExpired, AHEAD_MS } from './isExpired';
import { lastOfEachKey } from './lastOfEachKey';
import { MemoryStore } from './MemoryStore';
import { overlaid } from './RemovedKeyList';
import { accessClock } from './accessClock';
import { changeRemoves, changeTargets, type Change } from './Change';
import { fetchRevision } from './fetchRevision';
import { addRemoved, type Budget, type Counts, type ExpiredBy, type Invalidated, type Removed, type RemovedKeys, type Store, type StoredEntry, type WriteGuard, type WriteOptions } from './Store';
import { OVERDUE_AFTER_MS, PeriodicCleanup } from './PeriodicCleanup';
import { later, type Schedule } from './schedule';
import type { SharedChange, TabSync } from './TabSync';
import { CrossTabChanges } from './CrossTabChanges';
import { toEntry } from './toEntry';
import { ChangeFeed } from './ChangeFeed';
import { ChangesInFlight } from './ChangesInFlight';
import { StagedBatches } from './StagedBatches';
import { SetGroups, type SetCall } from './SetGroups';
import { roomOnFullDisk, type Room } from './roomOnFullDisk';
import { Stores } from './Stores';
import { TypeCounters } from './TypeCounters';
import { epochNow } from '../src/time';

export interface EngineOptions {
  /** Names the IndexedDB database. */
  name: string;
  /** The policies, or a valid config to build them from (what the page sends a worker). */
  config: PolicyTable | ValidConfig;
  /** The factory to open IndexedDB with; without one, every type lives in memory and stats say why. */
  indexedDB?: IDBFactory | undefined;
  /** Milliseconds since the epoch, like Date.now. */
  now?: (() => number) | undefined;
  /** Copy values in and out of the memory store: needed in-process, where the caller shares our heap. */
  cloneValues: boolean;
  logger?: Logger | undefined;
  /** Opens the channel to the other tabs (a BroadcastChannel named after the cache, its messages checked: see src/checkedChannel.ts). */
  openChannel?: OpenTabChannel | undefined;
  /** Runs deferred work (writing read times, waiting for a relay) about `ms` later; setTimeout by default. */
  schedule?: Schedule | undefined;
  /** IndexedDB requests per batch (see IdbStore). */
  requestChunk?: number | undefined;
  /** Entries per transaction of a big setMany, which is written as an import above that (see IdbStore.import). */
  importChunk?: number | undefined;
  /** Web Locks, so that the periodic cleanup runs in one tab at a time. */
  locks?: LockManager | undefined;
  /** Where remote events and write progress are reported. */
  client?: ClientCallbacks | undefined;
  /** The page this engine serves, and where its last engine stopped (see WorkerOpenOptions.tab); a new page by default. */
  tab?: WorkerOpenOptions['tab'] | undefined;
}

/** A read's rules, taken as it arrives (see getMany). */
interface ReadRules {
  validates: boolean;
  staleSeconds: number;
}

/** Logged events are kept at least this long, so that frozen tabs can replay them... */
const LOG_RETENTION_MS = 24 * 60 * 60 * 1000;
/** ...and the newest ones whatever their age. */
const LOG_KEEP = 1000;

const MIB = 2 ** 20;

/**
 * The cache itself: routes each content type to its store (see Stores), applies TTL, fingerprints, events
 * and byte budgets, and counts what happens; what it shares with the other tabs goes through
 * CrossTabChanges. A plain object, the same in a worker, in-process and in tests.
 */
export class Engine implements EngineApi {
  readonly #options: EngineOptions;
  readonly #config: PolicyTable;
  readonly #now: () => number;
  /** When an entry is written or read, for least-recently-used eviction: never twice the same. */
  readonly #usedAt: (at?: number) => number;
  readonly #logger: Logger;
  readonly #stores: Stores;
  readonly #sync: TabSync;
  readonly #crossTab: CrossTabChanges;
  #closed = false;
  readonly #counters = new TypeCounters();
  readonly #staged = new StagedBatches();
  readonly #periodicCleanup: PeriodicCleanup;
  readonly #feed: ChangeFeed;
  /** Reads of a type start after the changes of it that arrived before them (see ChangesInFlight). */
  readonly #inFlight = new ChangesInFlight();
  /**
   * Per type, the last import that reached this engine: the next starts its writes once it has settled, so
   * that the later one's entries win, however the two would meet another tab's import (their looks at it
   * without Web Locks, their locks' grants).
   */
  readonly #lastImport = new Map<TypeName, Promise<unknown>>();
  /** Small sets of a type to IndexedDB, written together (see setMany). */
  readonly #groups: SetGroups;

  private constructor(options: EngineOptions, idb: IdbStore | null, degraded: string | null) {
    this.#options = options;
    this.#config = policyTableOf(options.config);
    this.#now = options.now ?? epochNow;
    this.#usedAt = accessClock(this.#now);
    this.#logger = options.logger ?? console;
    this.#stores = new Stores({
      config: this.#config,
      memory: new MemoryStore({ clone: options.cloneValues }),
      idb,
      degraded,
      indexedDB: options.indexedDB,
      client: options.client,
      logger: this.#logger,
      lost: () => this.#sync.lostLog(),
    });
    const schedule = options.schedule ?? later;
    this.#feed = new ChangeFeed({
      deliver: (changes) => {
        const { client } = this.#options;
        if (client && !this.#closed) this.#notify(() => client.changed(changes));
      },
      broadcast: (changes) => this.#sync.announce(changes),
      // A microtask, not a task: flushed before the call that made them answers, so this tab's watchers
      // have heard a change when the call resolves (from a worker, its message goes ahead of the answer).
      schedule: (run) => queueMicrotask(run),
    });
    this.#crossTab = new CrossTabChanges({
      tabId: options.tab?.id ?? randomId(),
      openChannel: options.openChannel,
      schedule,
      logger: this.#logger,
      config: this.#config,
      stores: this.#stores,
      now: this.#now,
      feed: this.#feed,
      counters: this.#counters,
      client: options.client,
      closed: () => this.#closed,
      notify: (call) => this.#notify(call),
      expiredBy: () => this.#expiredBy(),
      removed: (type, removed) => this.#countRemoved(type, removed),
      invalidated: (counts, keys, source, id) => this.#invalidated(counts, keys, source, id === undefined ? undefined : { id, retry: false }),
      report: (event, counts) => this.#report(event, counts),
      madeIn: options.tab?.since?.epoch,
    });
    this.#sync = this.#crossTab.sync;
    this.#groups = new SetGroups({ inFlight: this.#inFlight, importChunk: options.importChunk, write: (type, calls, landed) => this.#setMany(type, calls, landed) });
    this.#periodicCleanup = new PeriodicCleanup({
      name: options.name,
      locks: options.locks,
      schedule,
      intervalSeconds: () => this.#config.cleanupIntervalSeconds,
      run: (shared, soon) => this.#upkeep(shared, soon),
      logger: this.#logger,
    });
  }

  /** Opens IndexedDB through the given factory (when that fails, works in memory and says why) and joins the other tabs. */
  static async create(options: EngineOptions): Promise<Engine> {
    let engine: Engine;
    const known = knownEpoch(options.tab);
    if (!options.indexedDB) {
      engine = new Engine(options, null, 'IndexedDB is not available in this environment');
      // Said once, at creation: otherwise an app would not learn that its "persistent" types die with the page.
      engine.#logger.error(
        'Reprise: IndexedDB is not available here (pass indexedDB to use another factory), so persistent types are kept in memory and lost with the page',
        new CacheError('storage_unavailable', 'IndexedDB is not available in this environment'),
      );
    } else {
      // A database gone as it opens (another than the page read, see DatabaseOptions.knownEpoch): told once the engine is there.
      let goneAtOpen: string | undefined;
      try {
        const config = policyTableOf(options.config);
        const customTypes = config.types.filter((type) => !isBuiltInType(type) && config.isPersistent(type));
        const idb = await IdbStore.open({
          name: options.name,
          indexedDB: options.indexedDB,
          schedule: options.schedule,
          chunk: options.requestChunk,
          importChunk: options.importChunk,
          locks: options.locks,
          now: options.now,
          customTypes,
          removed: (type, removed) => {
            if (engine) engine.#countRemoved(type, removed);
          },
          gone: (epoch) => {
            if (!engine) goneAtOpen = epoch;
            else if (engine.#stores.idb) engine.#lostEntries(epoch);
            // Given up (see Stores): told once the page has heard they are kept in memory, as from a next worker (below); ahead
            // of the calls that go on there, which wait for the same (this waits first), so before what they change.
            else void engine.#stores.toldMemory().then(() => engine.#lostEntries(epoch));
          },
          knownEpoch: known,
          told: options.tab?.gone,
          // One opened as the engine starts is where it starts, which it tells the page then.
          uses: (epoch) => engine && engine.#uses(epoch),
        });
        engine = new Engine({ ...options, config }, idb, null);
        if (goneAtOpen !== undefined) engine.#lostEntries(goneAtOpen);
        // An import a crash (or a dead worker) left behind is invisible already; rolling it back frees its room.
        await idb.imports.sweepImports(engine.#budgets(engine.#stores.persistentTypes()), engine.#expiredBy(), engine.#sweepEveryMs()).catch((error: unknown) => {
          if (isOpenFailure(error)) throw error;
          // An open that failed in a way that may pass is no failed rollback: the next call opens again (and says so if it gives up).
          if (!isOpenError(error)) engine.#logger.error('Reprise: rolling back an unfinished import failed (it stays invisible)', error);
        });
      } catch (error) {
        if (!isOpenFailure(error)) throw error;
        // One made before its sweep failed stops (its cleanup's timer): this one, in memory, takes its place.
        await engine!?.close();
        engine = new Engine(options, null, reasonOf(error));
        engine.#logger.error(`Reprise: IndexedDB is unusable, keeping persistent types in memory (${reasonOf(error)})`, error);
      }
    }
    // In memory, the page is told so first: it reads IndexedDB no more, and a watcher that reads as it hears a loss (below) does not read
    // it then. (With IndexedDB, it is told once the engine has started: see the end.)
    const { idb } = engine.#stores;
    if (!idb) await engine.#stores.tell('memory');
    // The databases the page read itself as the first engine opened (none was named to it, see PageTab.readsFrom): those it opened
    // before the one this engine keeps the types in (all, in memory) are out of view now (one deleted since, then the one made after it).
    const read = (await Promise.resolve(options.client?.readFrom?.()).catch(() => undefined)) ?? [];
    const here = idb?.name ? read.findIndex((epoch) => idb.name!.startsWith(epoch)) : -1;
    // Not the one a dead worker kept them in, which `known` names: told below, or by the database as it opened.
    const lost = new Set(read.slice(0, here === -1 ? undefined : here).filter((epoch) => !known?.startsWith(epoch)));
    // In memory where the page read a database before (its dead worker's), or its memory tier: its entries are out of view now, as when a
    // live engine gives IndexedDB up.
    if (known && !idb) lost.add(known);
    // Before what it tells of the other tabs (below): those came after.
    for (const epoch of lost) engine.#lostEntries(epoch);
    // The page's last worker died with its memory tier: what it held of the memory types is gone (a get misses), heard once.
    const tier = options.tab?.tier;
    if (tier && !options.tab!.gone?.includes(tier)) engine.#lostEntries(tier, false);
    const from = await engine.#sync.start(options.tab?.since ?? null, options.tab?.listenedAt);
    // Only now: a cleanup replays the log first, which before the start knows where this tab stands would
    // tell the listeners what was logged before the page listened (workerLifecycleHearing.test › *a periodic cleanup…*).
    // The first run comes an interval after the last that went through the database, in any tab: pages that each live less
    // than an interval would otherwise never reach theirs (the log, commit marks and expired entries left to grow).
    const upkeptAt = engine.#stores.idb?.upkeptAt;
    // One noted ahead of the clock (a clock set right since it ran ahead) says nothing of when: overdue too.
    const now = engine.#now();
    const first = upkeptAt === undefined ? undefined : upkeptAt > now + AHEAD_MS ? OVERDUE_AFTER_MS : Math.max(OVERDUE_AFTER_MS, upkeptAt + engine.#config.cleanupIntervalSeconds * 1000 - now);
    // Sooner after the open's sweep of imports than an import's silence takes to count, it is no second look at them (see #upkeep).
    engine.#periodicCleanup.start(first, first !== undefined && first < IMPORT_SILENCE_MS);
    await engine.#stores.tell(engine.#stores.idb ? 'indexeddb' : 'memory');
    const { client } = options;
    if (client && from) engine.#notify(() => client.listening(from));
    return engine;
  }

  getMany(type: TypeName, keys: string[], fingerprints?: (string | undefined)[], readThrough?: ReadThrough): Promise<(Found | undefined)[]> {
    // Under the rules as it arrives, though it waits for the changes before it: an updatePolicy made after it applies to the reads after it.
    const rules: ReadRules = { validates: this.#config.shouldUseFingerprintValidation(type), staleSeconds: this.#config.getStaleWhileRevalidate(type) };
    const read = this.#getMany(type, keys, rules, fingerprints, readThrough);
    // One that may remove an entry whose fingerprint differs is a change: a write that arrives after it starts after
    // it (started at once, it could land first, and the read would take its entry for one of another fingerprint).
    // Reads need not wait for it.
    return fingerprints && rules.validates ? this.#inFlight.track([type], read, false) : read;
  }

  async #getMany(type: TypeName, keys: string[], { validates, staleSeconds }: ReadRules, fingerprints?: (string | undefined)[], readThrough?: ReadThrough): Promise<(Found | undefined)[]> {
    // Used as it arrives, each key its own time in the order asked: a change made after it is a later use, whichever lands first.
    const usedAt = keys.map(() => this.#usedAt());
    await this.#afterChanges(type);
    await this.#crossTab.current(type);
    return this.#stores.withStore(type, async (store) => {
      const entries = await store.read(type, keys);
      const now = this.#now();
      // Past its TTL an entry is a miss, but it is kept through the type's stale-while-revalidate
      // window; a read-through (one that gives staleSeconds: a get's read may say what it wrote, and is none) may serve it stale within its own window.
      const windowMs = readThrough && 'staleSeconds' in readThrough ? (readThrough.staleSeconds ?? staleSeconds) * 1000 : 0;
      // Nor removed within the call's own: a refresh's read again (which serves nothing stale) keeps what it refreshes, served until its fetch lands.
      const removable = now - Math.max(staleSeconds * 1000, windowMs);
      const staleMs = readThrough?.again ? 0 : windowMs;
      const servable = now - staleMs;
      const counters = this.#counters.of(type);
      // A read again counts no hit or miss (see ReadThrough.again).
      const reads = readThrough?.again ? { hits: 0, misses: 0 } : counters;
      const expired: string[] = [];
      // Each by the revision read: one written since (another tab's, with its own fingerprint) stays.
      const mismatched = new Map<string, number | undefined>();
      const values = entries.map((entry, index) => {
        const fingerprint = fingerprints?.[index];
        if (!entry) {
          reads.misses++;
          return undefined;
        }
        const mismatch = validates && fingerprint !== undefined && entry.fingerprint !== fingerprint;
        if (!mismatch && !isExpired(entry, servable, now)) {
          reads.hits++;
          if (!readThrough?.peek) store.touch(type, entry.key, usedAt[index]!);
          const found: Found = { value: entry.value, revision: entry.revision };
          if (isExpired(entry, now)) found.stale = entry.expiresAt + staleMs - now;
          return found;
        }
        if (isExpired(entry, removable, now)) expired.push(entry.key);
        // Not one this page wrote after it made the read (see ReadsBeforeWrites), nor one a read again under a fetch
        // lock meets: its call's first read removed what was stale then, and its fetch writes the key.
        else if (mismatch && !readThrough?.again && !readThrough?.written?.has(entry.key)) mismatched.set(entry.key, entry.revision);
        reads.misses++;
        return undefined;
      });
      await this.#expire(store, type, expired, removable);
      if (mismatched.size) {
        // Housekeeping too (see #expire): the next read with that fingerprint removes it.
        const removed = await store.remove(type, [...mismatched.keys()], (entry) => entry.revision === mismatched.get(entry.key)).then(({ deleted }) => deleted, (): string[] => []);
        counters.invalidations += removed.length;
        if (removed.length) this.#changed(store, type, 'invalidate', removed);
      }
      return values;
    });
  }

  /**
   * Removes those of `keys` still expired past `removable` (another tab may have rewritten one since it was
   * read); counted, and told. Housekeeping: reads see them as gone already, so a failure (a full disk
   * refuses the usage record it puts) leaves them to the sweep rather than fail the call.
   */
  async #expire(store: Store, type: TypeName, keys: string[], removable: number): Promise<void> {
    if (!keys.length) return;
    // Still expired as it is removed, by the clock then (see #expiredBy).
    const removed = await store.remove(type, keys, (entry) => isExpired(entry, removable, this.#now()) && 'expired').then(({ expired }) => expired, (): string[] => []);
    this.#expired(store, type, removed);
  }

  /** Counts and tells the entries a store removed as expired. */
  #expired(store: Store, type: TypeName, keys: string[]): void {
    this.#counters.of(type).expirations += keys.length;
    if (keys.length) this.#changed(store, type, 'expire', keys);
  }

  setMany(type: TypeName, inputs: EntryInput[], options: SetManyOptions = {}): Promise<Written> {
    return this.#setManyFrom(type, inputs, options);
  }

  /** `staged`: where the log stood as a setMany sent in chunks began to arrive (see commit); else as its turn comes. */
  #setManyFrom(type: TypeName, inputs: EntryInput[], options: SetManyOptions, staged?: Promise<LogPlace | null>): Promise<Written> {
    // As IdbStore.write will decide, on each key once (#setMany keeps the last of several entries with one key);
    // in memory a setMany is one step, whatever its size, and keeps its turn.
    const { importChunk } = this.#options;
    const imports =
      this.#stores.of(type) === this.#stores.idb &&
      Imports.imports(inputs.length, options.since !== undefined, importChunk) &&
      Imports.imports(new Set(inputs.map((input) => input.key)).size, false, importChunk);
    // Used as it arrives (see getMany): each entry its own time, in the order named. An injected clock that reads
    // no number throws (see createCache): the call rejects, as a call does, and is not thrown back as it is made.
    let usedAt: number[];
    try {
      usedAt = inputs.map(() => this.#usedAt());
    } catch (error) {
      return Promise.reject(error);
    }
    // Under the policy as the page's call was made, or else as it arrives: an updatePolicy made after the call applies to the writes made after it.
    const policy = options.policy ?? this.#config.getPolicy(type);
    const call = { inputs, usedAt, policy, options };
    if (imports) {
      const earlier = this.#lastImport.get(type);
      const change = this.#inFlight.inTurn(
        [type],
        () => {
          // Where the log stands as it starts (after the changes before it, before those after it, which do not wait
          // for it): what is logged from here on, before it begins, applies to it (see WriteOptions.from).
          const place = staged ?? this.#logPlace();
          const write = () => this.#setAlone(type, call, undefined, { place, targets: (change) => changeTargets(this.#config, change) });
          // It would wait for the earlier one's commit anyway (see Imports.afterImports): now it cannot begin first.
          return earlier ? earlier.then(write, write) : write();
        },
        false,
      );
      const settled = change.catch(() => {});
      this.#lastImport.set(type, settled);
      void settled.then(() => this.#lastImport.get(type) === settled && this.#lastImport.delete(type));
      return change;
    }
    // A small write with nothing to check against (no guard) nor report: with those of its type that arrive while
    // it waits for its turn, in one transaction (see SetGroups). In memory too: the same calls make the same room,
    // counted and told alike (a key a later one rewrites is replaced, not evicted by an earlier one's room).
    if (options.since === undefined && options.batch === undefined) return this.#groups.join(type, call);
    // Tracked until it has landed: the room it makes after another tab's pending import (see IdbStore.write),
    // which it waits for, holds up no read.
    let landed!: () => void;
    const written = new Promise<void>((resolve) => (landed = resolve));
    return this.#inFlight.inTurn([type], () => this.#setAlone(type, call, landed), written);
  }

  /** One call's set, written alone (see #setMany). */
  #setAlone(type: TypeName, call: Omit<SetCall, 'settle'>, landed?: () => void, from?: WriteOptions['from']): Promise<Written> {
    return new Promise((resolve, reject) => void this.#setMany(type, [{ ...call, settle: { resolve, reject } }], landed, from));
  }

  /**
   * Writes the sets of these calls (one call's, or a group's: see SetGroups) in one transaction, and settles each:
   * told, and answered, each under its own commit id, the room the write made under the last one's. A call that
   * cannot be written (a value over the budget) rejects first, alone. When the transaction fails (a full disk
   * still full after making room, a lost connection), or the calls together would not fit in the budget, a group
   * hands back those not written, for each to be written alone; a call alone rejects. Never rejects.
   */
  async #setMany(type: TypeName, calls: SetCall[], landed?: () => void, from?: WriteOptions['from']): Promise<SetCall[]> {
    const parts: { call: SetCall; entries: StoredEntry[] }[] = [];
    let writing = calls;
    let wrote = false;
    try {
      await this.#ready();
      const now = this.#now();
      // A group's calls make room alike (see SetGroups), and have neither batch nor since (see setMany).
      const { policy, options: { batch, since } } = calls[0]!;
      const budget = budgetOf(policy.maxSizeMb, policy.cleanupThreshold);
      for (const call of calls) {
        try {
          parts.push({ call, entries: entriesOf(type, call.inputs, call.usedAt, call.policy, now, budget) });
        } catch (error) {
          call.settle.reject(error);
        }
      }
      writing = parts.map(({ call }) => call);
      // Every set in the order made, the last of one key winning (see entriesOf).
      const entries = lastOfEachKey(parts.flatMap((part) => part.entries));
      // A read-through's write tells when its fetch took its mark (see fetchRevision).
      const holds = since && 'holds' in since && since.holds;
      if (holds) for (const entry of entries) if (entry.key === holds.key) entry.revision = fetchRevision(holds.at);
      const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
      // Together above the mark (over the budget, which each alone may fit in: entriesOf said so): each alone, then, as
      // one after another would make room (a write spares its own entries: together, the earlier calls' too).
      if (!writing.length || (budget && total > (writing.length > 1 ? budget.lowWater : budget.maxBytes))) return writing;
      const { client } = this.#options;
      const onProgress = batch === undefined || !client ? undefined : (written: number) => this.#notify(() => client.progress(batch, written, entries.length));
      const guard: WriteGuard | undefined = since && { mark: since, removes: (change, entry) => changeRemoves(this.#config, change, entry) };
      const last = parts.at(-1)!.call.options.commitId;
      // What other tabs logged must reach the memory tier before it is written: applied later, an older
      // change would remove this newer entry (and a guard checks the memory store's journal).
      await this.#crossTab.current(type, guard !== undefined);
      const { removed, shared } = await this.#stores.withStore(type, async (store) => {
        // Told as it lands: a change made after it, which goes ahead then (see setMany), is told after it.
        let told = false;
        const tell = ({ stale, invalidated }: Removed) => {
          if (told) return;
          told = wrote = true;
          // What the guard left out was not set: watchers are told of what was.
          const left = new Set(stale);
          for (const { call, entries } of parts) {
            const set = entries.map((entry) => entry.key).filter((key) => !left.has(key));
            // Under its commit id: a next worker that finds it committed (see committed) tells it again, heard once.
            if (set.length) this.#changed(store, type, 'set', set, call.options.commitId);
          }
          if (invalidated) {
            // Events during an import (a call alone) removed some of its entries as it committed: after it, as they apply.
            this.#counters.invalidated({ [type]: invalidated });
            // Under its commit id too: a next worker that finds it committed tells it again (see committed), heard once.
            this.#changed(store, type, 'invalidate', null, last);
          }
          landed?.();
        };
        // A mark per call: a call alone's names what is written (its guard may leave some out; an import marks its own way), a group's each its keys.
        const marks = parts.flatMap(({ call: { options }, entries }) => (options.commitId === undefined ? [] : [{ id: options.commitId, answered: options.answered, keys: entries.map((entry) => entry.key) }]));
        const commit = parts.length === 1 ? { commit: marks[0] } : { commits: marks };
        const removed = await this.#write(store, type, entries, budget, this.#expiredBy(now), total, { onProgress, guard, ...commit, landed: tell, from });
        tell(removed);
        return { removed, shared: store === this.#stores.idb };
      });
      // Told in a batch after its sets', so under an id of its own (a page drops a batch that repeats an id heard): see committed.
      this.#countRemoved(type, removed, last && roomOf(last));
      onProgress?.(entries.length);
      for (const call of writing) call.settle.resolve({ stale: removed.stale ?? [], shared, at: now, ttlSeconds: call.policy.ttlSeconds });
      return [];
    } catch (error) {
      if (calls.length > 1 && !wrote) return writing;
      // Alone, or written and then something failed: each fails as its own write would have.
      for (const call of writing) call.settle.reject(error);
      return [];
    }
  }

  async mark(type: TypeName, key?: string): Promise<Mark> {
    // A read-through's, after this tab's changes of the type made before it, as a read: what it holds of the key is then what they wrote.
    await (key === undefined ? this.#ready() : this.#afterChanges(type));
    // What other tabs logged before the fetch starts is older than it: applied before the mark, so that
    // the guard does not take it for news (a forceFresh fetch reads nothing before it).
    await this.#crossTab.current(type, true);
    return this.#stores.withStore(type, (store) => store.mark(type, key));
  }

  async stage(type: TypeName, batch: string, entries: EntryInput[]): Promise<void> {
    this.#checkOpen();
    // Read as its first chunk arrives (before any call the page made after the setMany), after the changes of its type
    // on their way (made before it), before those that arrive next: an event or clear made after it, which reaches the
    // engine before its commit, applies to its import as one logged while it waits for its turn (see WriteOptions.from).
    this.#staged.stage(batch, entries, () => this.#inFlight.inTurn([type], () => this.#logPlace()));
  }

  async commit(type: TypeName, count: number, options: SetManyOptions & { batch: string }): Promise<void> {
    const { entries, place } = this.#staged.take(options.batch, count);
    await this.#setManyFrom(type, entries, options, place);
  }

  /** Where the event log stands now (null: no IndexedDB, or it could not be read). */
  #logPlace(): Promise<LogPlace | null> {
    return this.#stores.idb?.log.head().catch(() => null) ?? Promise.resolve(null);
  }

  async committed(type: TypeName, commitId: string, keys?: ReadonlySet<string>): Promise<boolean> {
    await this.#ready();
    const idb = this.#stores.idb;
    this.#stores.cannotTell([type], 'write');
    const mark = idb && this.#stores.of(type) === idb ? await idb.committed(type, commitId) : undefined;
    if (!mark) return false;
    // The dead worker may have died before it told anyone: told (again) here, heard once by its id — the keys
    // that still hold what it wrote: a change made since (another tab's) was told after it, and stays the last
    // heard. A mark that does not say (an import's, an older one's): its keys, but what its guard left out.
    const set = mark.holding ?? (keys && [...keys].filter((key) => !mark.left?.includes(key)));
    if (set?.length) this.#changed(idb!, type, 'set', set, commitId);
    // What events logged during an import removed of it as it committed: after its set, as the dead worker told it.
    if (mark.invalidated) this.#changed(idb!, type, 'invalidate', null, commitId);
    // And what a write removed in its transaction to fit the budget (counted by the dead worker, if by anyone).
    if (mark.expired) this.#changed(idb!, type, 'expire', null, roomOf(commitId));
    if (mark.evicted) this.#changed(idb!, type, 'evict', null, roomOf(commitId));
    // An import makes room after its commit: one whose worker died in between resolves now, so room is made first (of the others).
    const budget = this.#budgets([type]).get(type);
    if (budget && mark.held !== undefined) this.#countRemoved(type, await idb!.imports.roomAfterDeadImport(type, budget, this.#expiredBy(), keys ?? new Set()));
    // One rolled back at its commit (a clear or an event removing every entry during it) whose worker died before making room: the writes made under it show again, room is made as after any rollback.
    else if (budget && !mark.written?.length) this.#countRemoved(type, await idb!.imports.backWithin(type, budget, this.#expiredBy()));
    return true;
  }

  async discard(batch: string): Promise<void> {
    this.#staged.discard(batch);
  }

  async has(type: TypeName, key: string): Promise<boolean> {
    await this.#afterChanges(type);
    await this.#crossTab.current(type);
    return this.#stores.withStore(type, async (store) => {
      const [entry] = await store.read(type, [key]);
      // Read after the entry: one written since the call began is not ahead of it (see isExpired).
      const now = this.#now();
      const removable = this.#removable(type, now);
      // An expired entry is removed on read (past the type's stale-while-revalidate window), as get does.
      if (entry && isExpired(entry, removable, now)) await this.#expire(store, type, [key], removable);
      return entry !== undefined && !isExpired(entry, now);
    });
  }

  async keys(type: TypeName, prefix?: string): Promise<string[]> {
    await this.#afterChanges(type);
    await this.#crossTab.current(type);
    return this.#stores.withStore(type, (store) => store.liveKeys(type, this.#now, prefix));
  }

  async entries(type: TypeName, prefix?: string): Promise<Listed[]> {
    await this.#afterChanges(type);
    await this.#crossTab.current(type);
    let now = 0;
    const entries = await this.#stores.withStore(type, async (store) => {
      const listed = await store.list(type, prefix);
      now = this.#now();
      const removable = this.#removable(type, now);
      // Expired entries met on the way are removed, as get removes them.
      await this.#expire(store, type, listed.filter((entry) => isExpired(entry, removable, now)).map(({ key }) => key), removable);
      return listed;
    });
    return entries.filter((entry) => !isExpired(entry, now)).map(({ key, value, revision }) => ({ key, value, revision }));
  }

  deleteMany(type: TypeName, keys: string[], once?: Once): Promise<Deleted> {
    return this.#inFlight.inTurn([type], () => this.#deleteMany(type, keys, once));
  }

  async #deleteMany(type: TypeName, keys: string[], once?: Once): Promise<Deleted> {
    await this.#ready();
    // What a change another tab logged removed from the memory tier is gone already: not deleted (nor told) again.
    await this.#crossTab.current(type);
    const now = this.#now();
    const marked = once && { ...once, madeIn: this.#options.tab?.since?.epoch };
    return this.#stores.withStore(type, async (store) => {
      // Asked again in memory when IndexedDB is lost during the retry (withStore): the dead worker's count is in IndexedDB.
      if (once?.retry) this.#stores.cannotTell([type], 'delete');
      // An entry within its type's stale-while-revalidate window is there (a resolve would serve it): deleted and
      // counted (by the clock as each is read, see #expiredBy). An entry past that window is there for no read:
      // deleting it removes it as a read would, as an expiration, in the deletion's own step — a step after it
      // could fail (a full disk) or never run (a dead worker), and leave it to be served once the clock is set
      // right. Apart from the deletion, though: the mark (`once`) holds only what was deleted, so that a retry
      // answers as the first attempt did.
      // Asked for (see Deleted): what each key held as it was removed (the last attempt's, after a full disk).
      const values = new Map<string, unknown>();
      // On a full disk (it puts the type's usage and its mark), as a write.
      const { deleted, expired } = await this.#roomOnFullDisk(
        () =>
          store.remove(
            type,
            keys,
            (entry) => {
              const at = this.#now();
              if (isExpired(entry, this.#removable(type, at), at)) return 'expired';
              if (once?.values) values.set(entry.key, entry.value);
              return true;
            },
            marked,
          ),
        { store, types: this.#stores.persistentTypes([type]), bytes: 0, expiredBy: this.#expiredBy(now), spare: [type, keys] },
        (count) => `Storage quota exceeded deleting ${type} entries, even after evicting ${count} entries; nothing was deleted`,
      );
      this.#expired(store, type, expired);
      // A retry may answer what the dead worker deleted seconds ago (see IdbStore.remove): watchers hear of the
      // keys still gone, a key another tab set again since was told after it, and stays the last heard.
      const gone = once?.retry && store === this.#stores.idb ? await this.#stillGone(store, type, deleted) : deleted;
      if (gone.length) this.#changed(store, type, 'delete', gone, this.#toldOnce(type, once));
      // A retry answered from the dead worker's mark read none: they are gone (see Deleted).
      return once?.values && deleted.every((key) => values.has(key)) ? deleted.map((key) => values.get(key)) : deleted.length;
    });
  }

  /** What an invalidation of IndexedDB removed, its keys narrowed to those with no entry now. */
  async #stillGoneOf({ counts, keys }: Invalidated): Promise<Invalidated> {
    const idb = this.#stores.idb;
    if (!idb) return { counts, keys };
    const still: RemovedKeys = {};
    for (const [type, removed] of Object.entries(keys) as [TypeName, string[]][]) still[type] = await this.#stillGone(idb, type, removed);
    return { counts, keys: still };
  }

  /** Those of `keys` with no entry now; all of them if that cannot be read (it happened: it is told rather than lost). */
  async #stillGone(store: Store, type: TypeName, keys: string[]): Promise<string[]> {
    if (!keys.length) return keys;
    const entries = await store.read(type, keys).catch(() => keys.map(() => undefined));
    return keys.filter((_, index) => !entries[index]);
  }

  /** Clears the types in IndexedDB and logs it, then in this tab's memory tier, then tells the other tabs (which clear theirs). */
  clear(type?: TypeName, once?: Once): Promise<void> {
    const types = type ? [type] : [...this.#config.types];
    return this.#crossTab.answering(async (answered) => {
      const applied = await this.#inFlight.inTurn(types, () => this.#clear(types, answered, once));
      // The other tabs' events it came after reach the page first, as an emit's do (see emit).
      await this.#crossTab.heard;
      // Reads made after it wait for it to be applied here, not for another tab to log it (see TabSync.publish).
      await this.#sync.publish(applied, once?.retry);
    });
  }

  /** `answered`: as #emit's. */
  async #clear(types: TypeName[], answered: Promise<void>, once?: Once): Promise<SharedChange> {
    await this.#ready();
    const change: Change = { kind: 'clear', types };
    const { shared } = await this.#crossTab.applyShared(change, types.map((type) => ({ type, by: 'all' })), once);
    // What other tabs logged before it applies first, for the watchers too (see #emit).
    await this.#crossTab.before(shared, answered);
    const memory = types.filter((type) => this.#stores.of(type) === this.#stores.memory);
    const usages = await this.#stores.memory.usage(memory);
    await this.#stores.memory.clear(memory);
    const empty = memory.filter((_, index) => !usages[index]!.entries);
    for (const type of types) this.#feed.add(type, 'clear', null, 'local', false, this.#toldOnce(type, once, empty.includes(type)));
    return shared;
  }

  /** Invalidates IndexedDB and logs the event in one transaction, then this tab's memory tier, then tells the other tabs. */
  emit(event: CacheEvent, once?: Once): Promise<EmitReport> {
    // Under the rules as it arrives, which its turn is taken by: an updatePolicy made after the call applies to the events emitted after it.
    const types = affectedTypes(this.#config, event);
    const targets = invalidationTargets(this.#config, event);
    return this.#crossTab.answering(async (answered) => {
      const { shared, report } = await this.#inFlight.inTurn(types, () => this.#emit(event, types, targets, answered, once));
      // The other tabs' events it came after (see #emit) reach the page by another port than this answer:
      // the page hears them first, as every tab does.
      await this.#crossTab.heard;
      await this.#sync.publish(shared, once?.retry);
      // Published, for a tab with IndexedDB to log (once: by its id); but whether the dead worker did, and what it removed, this one cannot tell.
      if (once?.retry) this.#stores.cannotTell(types, 'event');
      return report;
    });
  }

  /** `answered`: settles as emit answers; other tabs' changes logged after this event wait for it (see TabSync.before). */
  async #emit(event: CacheEvent, types: TypeName[], targets: InvalidationTarget[], answered: Promise<void>, once?: Once): Promise<{ shared: SharedChange; report: EmitReport }> {
    await this.#ready();
    const { shared, removed } = await this.#crossTab.applyShared({ kind: 'event', event }, targets, once, types);
    // A retry may answer from the log what the dead worker removed seconds ago: watchers here and in the
    // other tabs hear of the keys still gone (see #deleteMany); its counts stand.
    const persistent = once?.retry ? await this.#stillGoneOf(removed) : removed;
    if (shared.removed) shared.removed = persistent.keys;
    // What other tabs logged before this event (until its own record: a tab may log one meanwhile) applies
    // first, whatever the config: it is older, for the listeners too, which hear it before this one, and
    // what it removed from the memory tier is not this event's to count.
    await this.#crossTab.before(shared, answered);
    const local = await this.#stores.invalidateMemory(event, targets);
    const { counts, keys } = overlaid(this.#crossTab.kept(persistent), local);
    this.#counters.invalidated(counts);
    // The other tabs learn of it from the event itself.
    this.#invalidated(counts, keys, 'local', once);
    return { shared, report: { eventType: event.eventType, invalidated: this.#report(event, counts, types) } };
  }

  async stats(): Promise<CacheStats<string>> {
    await this.#ready();
    // The memory tier counted without what changes other tabs logged removed (clears too).
    await this.#crossTab.replay();
    const types = {} as Record<TypeName, TypeStats>;
    await this.#stores.byStore(this.#config.types, async (store, mine) => {
      await this.#dropDeadImports(store, mine, this.#now());
      const usage = await store.usage(mine);
      // The counts once the changes of this tab logged so far have answered (see TabSync.before): one that has
      // counted and not answered may die with this worker, and its retry counts again what this answer carried over.
      await this.#sync.settled;
      mine.forEach((type, index) => {
        const policy = this.#config.getPolicy(type);
        types[type] = {
          entries: usage[index]?.entries ?? 0,
          bytes: usage[index]?.bytes ?? 0,
          maxBytes: policy.maxSizeMb === null ? null : policy.maxSizeMb * MIB,
          ...this.#counters.of(type),
          storage: store.kind,
        };
      });
    });
    const ordered = Object.fromEntries(this.#config.types.map((type) => [type, types[type]])) as Record<TypeName, TypeStats>;
    return { types: ordered, degraded: this.#stores.degraded, droppedMessages: this.#sync.droppedMessages };
  }

  cleanup(): Promise<CleanupReport> {
    return this.#cleanup(this.#config.types);
  }

  /** `swept`: a step of the periodic sweep (see #upkeep), not a call of the page's. */
  async #cleanup(types: readonly TypeName[], swept?: boolean): Promise<CleanupReport> {
    await this.#ready();
    await this.#crossTab.replay();
    const report = { expired: 0, evicted: 0 };
    const now = this.#now();
    await this.#stores.byStore(types, async (store, mine) => {
      await this.#dropDeadImports(store, mine, now);
      // Counted and told as each step commits: one that fails leaves the earlier ones told. The periodic sweep's, under an
      // id of its own (one per step: a page drops a batch that repeats an id heard): no call of the page's, it may run
      // while close() waits for those, whose watchers then hear it no more (see CacheClient.changed).
      await store.cleanup(this.#budgets(mine), this.#expiredBy(now), (type, removed) => {
        this.#countRemoved(type, removed, swept ? 'swept:' + randomId() : undefined);
        addRemoved(report, removed);
      });
    });
    return report;
  }

  discardCorrupt(type: TypeName, found: Corrupt[], counted = true, lost = 0): Promise<void> {
    return this.#inFlight.inTurn([type], () => this.#discardCorrupt(type, found, counted, lost));
  }

  async #discardCorrupt(type: TypeName, found: Corrupt[], counted: boolean, lost: number): Promise<void> {
    await this.#ready();
    const revisions = new Map(found.map(({ key, revision }) => [key, revision]));
    // Counted once per entry, as it is discarded: a key read twice, or by two reads at once, is found by the first discard;
    // the others find it gone (one rewritten since, by another tab, was corrupt when read: counted).
    let corrupt = 0;
    await this.#stores.withStore(type, async (store) => {
      const there = new Set<string>();
      // Housekeeping (see #expire): the read answered a miss; the next one that finds it discards it, and counts it then.
      const removed = await store
        .remove(type, [...revisions.keys()], (entry) => (there.add(entry.key), entry.revision === revisions.get(entry.key)))
        .then(({ deleted }) => ((corrupt = there.size), deleted))
        .catch((): string[] => []);
      if (removed.length) this.#changed(store, type, 'delete', removed);
    });
    const counters = this.#counters.of(type);
    counters.corrupt += corrupt;
    if (!counted) return;
    counters.hits -= found.length - lost;
    counters.misses += found.length;
  }

  async deletedCorrupt(type: TypeName, count: number): Promise<void> {
    this.#checkOpen();
    this.#counters.of(type).corrupt += count;
  }

  async touched(type: TypeName, reads: string[][], misses: number, hits: number, at?: number[]): Promise<void> {
    // No wait for other tabs' changes: counted as the call arrives, in the order the page made its calls.
    this.#checkOpen();
    const counters = this.#counters.of(type);
    counters.hits += hits;
    counters.misses += misses;
    const store = this.#stores.of(type);
    // Each key read its own time, in the order read, as a getMany here touches them: one time for all would leave their order to the keys'.
    // Used when the page read them, not as told: another tab's use in between is the later one.
    for (const [index, keys] of reads.entries()) for (const key of keys) store.touch(type, key, this.#usedAt(at?.[index]), true);
  }

  async updatePolicy(type: TypeName, patch: ValidPolicyPatch): Promise<void> {
    this.#checkOpen();
    // Applies to what arrives from now on, but is answered once the changes that arrived before it have landed:
    // the page's next worker starts with a patch answered, and takes a change this one dies before landing again.
    const earlier = Promise.all([this.#inFlight.settled(), ...this.#lastImport.values()]);
    this.#config.applyPatch(type, patch);
    await earlier;
  }

  /** The page is being frozen or hidden: stop listening, and record reads while the page can still run. */
  async suspend(): Promise<void> {
    this.#sync.suspend();
    await this.unloading();
  }

  async unloading(): Promise<void> {
    await this.#stores.idb?.writeReadTimes();
  }

  async resume(): Promise<void> {
    this.#checkOpen();
    await this.#sync.resume();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#periodicCleanup.stop();
    this.#sync.close();
    this.#staged.clear();
    // Reads made in this session keep counting for eviction after a reload.
    await this.#stores.idb?.writeReadTimes();
    this.#stores.idb?.close();
    this.#stores.memory.close();
  }

  /**
   * Writes; on a full disk frees room (expired, then LRU of this type, then of the other persistent types) and retries once.
   * Never from its own keys: a retry that fails too must leave what they held.
   */
  #write(
    store: Store,
    type: TypeName,
    entries: readonly StoredEntry[],
    budget: Budget | null,
    expiredBy: ExpiredBy,
    bytes: number,
    options: WriteOptions,
  ): Promise<Removed> {
    return this.#roomOnFullDisk(
      () => store.write(type, entries, budget, expiredBy, options),
      { store, types: this.#stores.persistentTypes([type]), bytes, expiredBy, spare: [type, entries.map((entry) => entry.key)] },
      (count) => `Storage quota exceeded writing ${entries.length} ${type} entries, even after evicting ${count} entries; nothing was written`,
    );
  }

  /** See roomOnFullDisk: what it frees is counted, and told. */
  #roomOnFullDisk<T>(attempt: () => Promise<T>, room: Room, failed: (count: number) => string): Promise<T> {
    return roomOnFullDisk(attempt, room, failed, (type, removed) => this.#countRemoved(type, removed));
  }

  /**
   * The counts for every type the event applies to, zero where it removed nothing, and for any other of
   * this tab's types it removed entries of: another deploy's event, under rules that remove more (see
   * IdbStore's elsewhere), which the watchers hear of too.
   */
  #report(event: CacheEvent, counts: Counts, affected = affectedTypes(this.#config, event)): Counts {
    return Object.fromEntries(this.#config.types.filter((type) => affected.includes(type) || counts[type]).map((type) => [type, counts[type] ?? 0]));
  }

  /** Tells watchers that entries of these types were invalidated: the keys where the store named them (none: nothing to tell, see #stillGoneOf), else any key. */
  #invalidated(counts: Counts, keys: RemovedKeys, source: CacheChange['source'], once?: Once): void {
    for (const [type, count] of Object.entries(counts) as [TypeName, number][]) if (count && keys[type]?.length !== 0) this.#feed.add(type, 'invalidate', keys[type] ?? null, source, false, this.#toldOnce(type, once));
  }

  /**
   * The id a change of this type is told with (see ToldChange), for the page to hear it once whichever
   * worker tells it: a first attempt's, and a retry's where it is the dead worker's change told again —
   * where the call's mark keeps a retry to what the dead worker did (IndexedDB), or where it found nothing
   * (`unchanged`: a clear of a memory type this worker holds nothing of). A memory tier died with its
   * worker: what a retry changes there, written since, is a change of its own, which watchers must hear.
   */
  #toldOnce(type: TypeName, once: Once | undefined, unchanged = false): string | undefined {
    return !once?.retry || unchanged || (this.#stores.idb && this.#stores.of(type) === this.#stores.idb) ? once?.id : undefined;
  }

  /** A change made here: for this tab's watchers, and for the other tabs' when it is in IndexedDB, which they share. */
  #changed(store: Store, type: TypeName, kind: ChangeKind, keys: Iterable<string> | null, id?: string): void {
    this.#feed.add(type, kind, keys, 'local', store === this.#stores.idb, id);
  }

  /**
   * The periodic cleanup's run: cleanup of the memory tier, and with `shared` (this tab's turn) of
   * IndexedDB, log trimming, and the imports and commit marks left behind. Each step runs whatever the
   * others did (a full disk refuses the log's trim, which puts, not the marks' deletes); the first failure
   * is reported. `soon`: a first run soon after the open (see create), whose sweep of imports just looked at
   * them: without Web Locks the sweeps count the looks at a silent import, which they take for an interval apart.
   */
  async #upkeep(shared: boolean, soon: boolean): Promise<void> {
    const steps: (() => Promise<unknown> | undefined)[] = [() => this.#cleanup(this.#config.types.filter((type) => this.#stores.of(type) === this.#stores.memory), true)];
    if (shared) {
      steps.push(
        () => this.#cleanup(this.#stores.persistentTypes(), true),
        () => this.#stores.idb?.log.trim(this.#now() - LOG_RETENTION_MS, LOG_KEEP),
        () => this.#stores.idb?.trimCommitMarks(this.#stores.persistentTypes(), this.#now() - LOG_RETENTION_MS),
        () => (soon ? undefined : this.#stores.idb?.imports.sweepImports(this.#budgets(this.#stores.persistentTypes()), this.#expiredBy(), this.#sweepEveryMs())),
        () => this.#stores.idb?.noteUpkeep(),
      );
    }
    const failures: unknown[] = [];
    for (const step of steps) {
      // A closed engine's connection is closed: nothing is left to do.
      if (this.#closed) break;
      await Promise.resolve().then(step).catch((error: unknown) => void failures.push(error));
    }
    if (failures.length) throw failures[0];
  }

  /**
   * Rolls back the imports of these types (in IndexedDB) that can be told dead at one look, before they
   * are counted: no read sees them. One that cannot be rolled back now stays for the sweeps.
   */
  async #dropDeadImports(store: Store, types: readonly TypeName[], now: number): Promise<void> {
    const idb = this.#stores.idb;
    if (store === idb) await idb.imports.sweepImports(this.#budgets(types), this.#expiredBy(now)).catch(() => {});
  }

  /** How far apart the sweeps of unfinished imports are: the periodic cleanup's interval. */
  #sweepEveryMs(): number {
    return this.#config.cleanupIntervalSeconds * 1000;
  }

  /** The byte budgets of these types (null for a type without one). */
  #budgets(types: readonly TypeName[]): Map<TypeName, Budget | null> {
    return new Map(types.map((type) => {
      const policy = this.#config.getPolicy(type);
      return [type, budgetOf(policy.maxSizeMb, policy.cleanupThreshold)];
    }));
  }

  /** Before when a type's entries are gone for good at `now`: their TTL, and then the type's stale-while-revalidate window. */
  #removable(type: TypeName, now = this.#now()): number {
    return now - this.#config.getStaleWhileRevalidate(type) * 1000;
  }

  /**
   * #removable as the call began, with the clock as each store step reads it: a call that waited (behind an import,
   * another tab's transactions) must not take what was written meanwhile for written ahead of the clock (see isExpired).
   */
  #expiredBy(now = this.#now()): ExpiredBy {
    // Nor, with the clock set back since the call began, what is fresh by the clock now (written since, say).
    return (type) => {
      const at = this.#now();
      return { by: this.#removable(type, Math.min(now, at)), now: at };
    };
  }

  /** Calls back into the client; settles once it has answered. A callback that fails (a listener, a dead port) is reported, never thrown. */
  #notify(call: () => unknown): Promise<void> {
    return guarded(call, (error) => this.#logger.error('Reprise: a client callback failed', error));
  }

  /** Every call waits until events from other tabs received so far are applied. */
  async #ready(): Promise<void> {
    this.#checkOpen();
    await this.#sync.settled;
    this.#checkOpen();
  }

  /** Ready, and after the changes of `type` that arrived before this call (a read's first step). */
  async #afterChanges(type: TypeName): Promise<void> {
    const earlier = this.#inFlight.before(type);
    await this.#ready();
    await earlier;
  }

  /** Counts what a store removed, and tells watchers (`id`: see ToldChange). */
  #countRemoved(type: TypeName, removed: Removed | undefined, id?: string): void {
    this.#counters.removed(type, removed);
    const shared = this.#stores.of(type) === this.#stores.idb;
    if (removed?.expired) this.#feed.add(type, 'expire', null, 'local', shared, id);
    if (removed?.evicted) this.#feed.add(type, 'evict', null, 'local', shared, id);
  }

  /**
   * The database is gone from this tab's view (deleted under it, or given up): every persistent entry is
   * gone, which its watchers hear as another tab's clear of each type (counted nowhere, as a clear is).
   * Each tab finds it out for itself, so nothing is broadcast; told under an id of the database gone, so
   * that a page hears it once whichever of its workers tells it (a dead one may have), and that the page
   * learns its workers told it (see PageTab: the next one then knows no such database). Not `persistent`:
   * the memory types, lost with the memory tier `epoch` names (a dead worker's), told the same way.
   */
  #lostEntries(epoch: string, persistent = true): void {
    const config = this.#config;
    if (!this.#closed) for (const type of config.types) if (config.isPersistent(type) === persistent) this.#feed.add(type, 'clear', null, 'remote', false, goneId(epoch, type));
  }

  /**
   * The page's next worker knows the database by where in its log this tab is (see TabSync.start, PageTab):
   * one reopened in place of one deleted is another, whose changes this tab applies from its start. Told a
   * microtask later, after the feed has told the loss of the one before (see lostEntries), which the page
   * must not miss for it. (Another tab's changes applied there move the page further, not back.)
   */
  #uses(epoch: string): void {
    queueMicrotask(() => void this.#notify(() => this.#options.client?.listening({ epoch, seq: 0 })));
  }

  #checkOpen(): void {
    if (this.#closed) throw new CacheError('closed', 'This cache is closed');
  }
}

/**
 * The entries a setMany writes: the last of several with one key wins, as if they had been written one by one,
 * each its own time of use, in the order named (one time for all would leave their eviction order to their keys).
 * `invalid_value` when one, or all together, would not fit in the type's whole budget.
 */
function entriesOf(type: TypeName, inputs: EntryInput[], usedAt: number[], policy: CachePolicy, now: number, budget: Budget | null): StoredEntry[] {
  const entries = [...new Map(inputs.map((input, index) => [input.key, toEntry(type, input, policy, now, usedAt[index]!)])).values()];
  let total = 0;
  for (const entry of entries) {
    if (budget && entry.bytes > budget.maxBytes) {
      throw new CacheError(
        'invalid_value',
        `Value for ${type} "${entry.key}" takes about ${entry.bytes} bytes, more than the type's whole budget of ${Math.floor(budget.maxBytes)} bytes`,
      );
    }
    total += entry.bytes;
  }
  if (budget && total > budget.maxBytes) {
    throw new CacheError(
      'invalid_value',
      `These ${entries.length} ${type} entries take about ${total} bytes together, more than the type's whole budget of ${Math.floor(budget.maxBytes)} bytes`,
    );
  }
  return entries;
}

function budgetOf(maxSizeMb: number | null, threshold: number): Budget | null {
  return maxSizeMb === null ? null : { maxBytes: maxSizeMb * MIB, lowWater: maxSizeMb * MIB * threshold };
}

/** The database the page read before this engine (its dead worker's), unless a worker told the page it is gone already. */
function knownEpoch(tab: WorkerOpenOptions['tab'] | undefined): string | null | undefined {
  // What the page's workers kept them in last (a memory tier, a database they opened again), whose loss its watchers have not heard, before the database they left for it.
  return [tab?.kept, tab?.since?.epoch].find((epoch) => epoch && !tab!.gone?.includes(epoch));
}

function policyTableOf(config: PolicyTable | ValidConfig): PolicyTable {
  return config instanceof PolicyTable ? config : new PolicyTable(config);
}
