import type { TypeName } from '../src/contentType';
import { targetMatches, type InvalidationTarget } from '../src/invalidationTarget';
import { Database, isOpenFailure, type DatabaseOptions } from './Database';
import { changeOf, commitKey, commitMarks, entryKeys, type CommitMark, entryStore, fromRecord, toRecord, USAGE_KEY, usageOf, type UsageRecord, type EntryRecord, type LoggedChange, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { planEvictions, removePlanned, shrinkType, noneRemoved, type Candidate } from './evictionPlan';
import { requestDone, requestsDone, walkCursor } from './idbRequests';
import { prefixRange } from './prefixRange';
import { ReadTimes, READS_AT_ONCE, recordReadsNow } from './ReadTimes';
import { later, type Schedule } from './schedule';
import { addRemoved, cutoffOf, leftOut, type Budget, type ExpiredBy, type Invalidated, type Spared, type Mark, type Removed, type Store, type StoredEntry, type Usage, type WriteGuard, type WriteOptions } from './Store';
import { RemovedKeyList } from './RemovedKeyList';
import { WebLocks } from './WebLocks';
import { averageBytes, forget, noUsage } from './usage';
import { BatchStates, byId, IMPORT_STEPS, nextStepSize, newBatchId, type BatchId, batchKey, batchLockName, batchRecords, isPending, keyChunkKey, keyChunksOf, allKeyChunks, pendingBatches, plainOf, visibleOf, type BatchRecord, type KeyChunk } from './importBatch';
import { CacheError } from '../src/CacheError';
import type { Once } from '../src/protocol';

/** Records per batch of requests: small enough that no batch holds a thread for long. */
const REQUEST_CHUNK = 1000;
/**
 * Read times are written in the background this long after a read (so that other tabs' evictions and
 * later sessions follow them), when eviction needs them, before a close, or at once when this many wait.
 */
const READ_TIMES_DELAY_MS = 1000;
const MAX_PENDING_READS = 20_000;
/** A setMany of more entries than this is an import, written in steps (short transactions). */
const IMPORT_CHUNK = 1000;

/** How often an import looks whether another one of its type, in another tab, is done (without Web Locks). */
const IMPORT_WAIT_MS = 250;
/** Without Web Locks, an import that wrote no step while another waited this many times (ten seconds) is taken for dead. */
const STALE_POLLS = 40;

/** What a tab saw of an import's progress: its step count, and how many looks in a row saw no new step. */
interface Silence {
  beat: number;
  polls: number;
}

export interface IdbStoreOptions extends DatabaseOptions {
  /** For writing read times later (setTimeout by default). */
  schedule?: Schedule | undefined;
  /** Records per batch of requests (REQUEST_CHUNK); smaller in simulations, to fail any batch cheaply. */
  chunk?: number | undefined;
  /** Imports above this many entries, in steps of exactly this many (IMPORT_CHUNK; then steps follow IMPORT_STEP_MS). */
  importChunk?: number | undefined;
  /** Web Locks: an import holds one while it is open, so that other tabs know it is alive. */
  locks?: LockManager | undefined;
  /** Entries removed outside what a call reports (room made after a failed import): to count them. */
  removed?: ((type: TypeName, removed: Removed) => void) | undefined;
}

/** The persistent store: one object store per content type in the cache's database. */
export class IdbStore implements Store {
  readonly kind = 'indexeddb';
  readonly #db: Database;
  readonly log: EventLog;
  readonly #readTimes = new ReadTimes();
  readonly #schedule: Schedule;
  readonly #chunk: number;
  readonly #importChunk: number;
  readonly #removed: IdbStoreOptions['removed'];
  /** Entries per step of an import, when fixed (by the importChunk option). */
  readonly #fixedSteps: number | undefined;
  readonly #name: string;
  readonly #locks: WebLocks;
  readonly #batches = new BatchStates();
  /** Imports of other tabs seen by the sweeps, without Web Locks (see #deadAmong). */
  readonly #silence = new Map<BatchId, Silence>();
  /** This store's imports that failed and could not be marked so (a full disk): dead, whatever their beat. */
  readonly #abandoned = new Set<BatchId>();
  /** Whether a write of read times is scheduled: its cancel where the schedule gives one. */
  #readTimesDue: boolean | (() => void) = false;
  #writingReadTimes: Promise<void> | null = null;
  /** Reads to write at once (see touch). */
  #firstReads: Map<TypeName, Map<string, number>> | null = null;
  /** Reads written at once per type since the deferred write last ran. */
  readonly #readsAtOnce = new Map<TypeName, number>();

  private constructor(db: Database, options: IdbStoreOptions) {
    this.#db = db;
    this.#schedule = options.schedule ?? later;
    this.#chunk = options.chunk ?? REQUEST_CHUNK;
    this.#importChunk = options.importChunk ?? IMPORT_CHUNK;
    this.#removed = options.removed;
    this.#fixedSteps = options.importChunk;
    this.#name = options.name;
    this.#locks = new WebLocks(options.locks);
    this.log = new EventLog(db);
  }

  /** Opens the database; rejects with `storage_unavailable` when it cannot be used. */
  static async open(options: IdbStoreOptions): Promise<IdbStore> {
    const { chunk: _chunk, importChunk: _importChunk, locks: _locks, removed: _removed, ...databaseOptions } = options;
    const store = new IdbStore(new Database(databaseOptions), options);
    // Only a database that cannot be opened fails the open: what these read is a hint, and a transaction
    // lost on the way (the connection closed under it) is no reason to give IndexedDB up.
    const tolerate = (error: unknown) => {
      if (isOpenFailure(error)) throw error;
    };
    const epoch = await store.#db.transact('reading the epoch', ['meta'], 'readonly', (tx) => EventLog.epoch(tx)).catch(tolerate);
    if (epoch === null) await store.log.ensureEpoch().catch(tolerate);
    return store;
  }

  /** Whether a write of `count` entries (each key once) is an import: a big one (short transactions); a guarded one is small (getOrSet's). */
  static imports(count: number, guarded: boolean, importChunk = IMPORT_CHUNK): boolean {
    return !guarded && count > importChunk;
  }

  read(type: TypeName, keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return this.#db.transact(`reading ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const requests = keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      const records = requests.map((request) => request.result);
      const pending = await this.#batches.pendingAmong(store, records);
      return records.map((record) => {
        const visible = record && visibleOf(record, pending);
        return visible && fromRecord(type, visible);
      });
    });
  }

  async write(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options: WriteOptions = {}): Promise<Removed> {
    const { onProgress, guard, commit } = options;
    if (IdbStore.imports(entries.length, guard !== undefined, this.#importChunk)) return this.import(type, entries, budget, expiredBy, options);
    const now = cutoffOf(expiredBy, type);
    // The last of several entries with one key wins; the usage must count that key once.
    entries = lastOfEachKey(entries);
    const spare = new Set(entries.map((entry) => entry.key));
    // Its own store only (usage and commit marks are in it): a write of one type never waits for another type's.
    const stores: StoreName[] = guard ? [entryStore(type), 'events', 'meta'] : [entryStore(type)];
    const all = entries;
    let over = false;
    const removed = await this.#db.transact(`writing ${type}`, stores, 'readwrite', async (tx) => {
      // Read in the write's own transaction: a change logged after this cannot have removed what it writes.
      const kept = guard ? await unremoved(tx, all, guard) : all;
      entries = kept;
      const store = tx.objectStore(entryStore(type));
      const usage = await this.#usage(tx, type);
      // In an empty type nothing is replaced, so the old entries need not be read.
      const replacing = usage.entries > 0;
      // One chunk is issued while the one before completes: the backend never runs dry, and no task
      // issues more than a chunk (structured cloning happens in put, on this thread).
      let previous: Promise<void> = Promise.resolve();
      const inBatches: EntryRecord[] = [];
      for (let start = 0; start < entries.length; start += this.#chunk) {
        const chunk = entries.slice(start, start + this.#chunk);
        const requests: IDBRequest[] = [];
        for (const entry of chunk) {
          // Requests run in order: this get sees the entry the put below replaces.
          if (replacing) requests.push(store.get(entry.key));
          requests.push(store.put(toRecord(entry)));
          usage.entries++;
          usage.bytes += entry.bytes;
        }
        const written = Math.min(start + this.#chunk, entries.length);
        const done = requestsDone(requests).then(() => {
          if (replacing) {
            for (let i = 0; i < requests.length; i += 2) {
              const old = requests[i]?.result as EntryRecord | undefined;
              if (old) forget(usage, old);
              if (old?.batch !== undefined) inBatches.push(old);
            }
          }
          onProgress?.(written);
        });
        // Awaited below, unless an earlier chunk fails first: then its failure must not go unhandled.
        done.catch(() => {});
        await previous;
        previous = done;
      }
      await previous;
      await this.#writeUnderImports(store, inBatches, entries, usage);
      const removed =
        budget && usage.bytes > budget.lowWater
          ? await shrinkType(tx, type, usage, budget.lowWater, now, [], this.#readTimes, spare)
          : noneRemoved();
      this.#putUsage(tx, type, usage);
      if (commit) store.put({ key: commitKey(commit.id), at: commit.at });
      // Above the whole budget after that: pending imports hold the rest, which nothing may evict.
      over = usage.bytes > (budget?.maxBytes ?? Infinity);
      return kept.length < all.length ? { ...removed, stale: leftOut(all, kept) } : removed;
    });
    if (over) {
      // Once they have committed (and made room) or are rolled back, room is made as this write would
      // have made it. It happened, so this never rejects.
      try {
        await this.#afterImports(type, budget, expiredBy, `waiting for an import of ${type}`);
        addRemoved(removed, await this.#shrinkInSteps(type, budget!.maxBytes, budget!.lowWater, now, spare));
      } catch {
        // Left to the import's own room-making, or to the next write or cleanup.
      }
    }
    return removed;
  }

  /**
   * Writes a big setMany as an import: in steps, one short transaction each (sized by nextStepSize, or
   * `importChunk` entries when given), which other calls interleave with, yet all or nothing (see importBatch.ts). Resolves once it has committed; an import
   * an event or clear since its start made (partly) stale leaves those entries out, as a guarded write does.
   */
  async import(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options: WriteOptions = {}): Promise<Removed> {
    const { onProgress, commit } = options;
    entries = lastOfEachKey(entries);
    const id = newBatchId();
    const release = await this.#holdBatchLock(id);
    try {
      await this.#begin(type, id, budget, expiredBy, release !== null);
      try {
        const removed = noneRemoved();
        const written = new Set<string>();
        const steps: Promise<void>[] = [];
        try {
          let size = this.#fixedSteps ?? IMPORT_STEPS.first;
          for (let start = 0, end = 0, step = 0; start < entries.length; start = end, step++) {
            const chunk = entries.slice(start, start + size);
            end = start + chunk.length;
            for (const entry of chunk) written.add(entry.key);
            let requestsDone!: () => void;
            const ready = new Promise<void>((resolve) => (requestsDone = resolve));
            const done = this.#db
              .transact(`importing ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
                const began = performance.now();
                await this.#importStep(tx, type, id, step, chunk);
                size = this.#fixedSteps ?? nextStepSize(chunk.length, performance.now() - began);
                requestsDone();
              })
              .then(() => onProgress?.(end));
            done.catch(() => {});
            steps.push(done);
            // The next step's transaction is made once this one's requests are done: it starts the moment
            // this one commits (no round trip in between), and what other tabs asked for meanwhile goes first.
            await Promise.race([ready, done]);
          }
          await Promise.all(steps);
        } finally {
          // None may still be running when the import is rolled back.
          await Promise.allSettled(steps);
        }
        const { outcome, removed: invalidated, held, bytes } = await this.#db.transact(`committing an import of ${type}`, [entryStore(type)], 'readwrite', (tx) =>
          this.#commitImport(tx, type, id, commit),
        );
        if (invalidated) removed.invalidated = invalidated;
        if (outcome === 'rolled back') await this.#rollBack(type, id);
        else {
          void this.#normalize(type, id).catch(() => {
            // Left for the next sweep: priors only cost room meanwhile.
          });
          // Room is made once it has landed (a failed import must not have evicted anything): the other
          // entries go first, never below what the import holds (it fits the budget on its own).
          if (budget && bytes > budget.lowWater) addRemoved(removed, await this.roomAfterImport(type, budget, held, expiredBy, bytes, written));
        }
        return removed;
      } catch (error) {
        // Nothing of it may show: if rolling it back fails too, it stays pending (invisible) until the next
        // sweep, or this store's next import of the type, which need not wait to see it is dead.
        await this.#abort(type, id, budget, expiredBy).catch(() => this.#abandoned.add(id));
        throw error;
      }
    } finally {
      release?.();
    }
  }

  /**
   * Brings the type back within its budget once an import of `held` bytes has committed: the others go
   * first, never below what the import holds (it fits the budget on its own). It happened, so this never
   * rejects: if making room fails (a full disk refuses the puts that record read times and usage), it is
   * made with deletes only, as when freeing space. `bytes`: the type's (at most its budget and the import,
   * when not known); `spare`: the import's keys, if known.
   */
  roomAfterImport(type: TypeName, budget: Budget, held: number, expiredBy: ExpiredBy, bytes = budget.maxBytes + held, spare?: ReadonlySet<string>): Promise<Removed> {
    const target = Math.max(budget.lowWater, held);
    return this.#shrinkInSteps(type, budget.lowWater, target, cutoffOf(expiredBy, type), spare)
      .catch(async () => (await this.free([type], bytes - target, expiredBy))[type] ?? noneRemoved())
      .catch(noneRemoved);
  }

  /** One step of an import: its entries, each with the entry it replaces as its prior, and the keys it wrote. */
  async #importStep(
    tx: IDBTransaction,
    type: TypeName,
    id: BatchId,
    step: number,
    chunk: readonly StoredEntry[],
  ): Promise<void> {
    const store = tx.objectStore(entryStore(type));
    const batchRead = store.get(batchKey(id)) as IDBRequest<BatchRecord | undefined>;
    const usage = await this.#usage(tx, type);
    const batch = batchRead.result;
    if (batch?.state !== 'open') throw rolledBack(type);
    // When every record of the type is one this import created (none of which can have gone: nothing
    // but an event or a clear, which the batch would list, removes a pending record), nothing is replaced.
    const olds = batch.targets.length === 0 && usage.entries === batch.created ? [] : chunk.map((entry) => store.get(entry.key) as IDBRequest<EntryRecord | undefined>);
    await requestsDone(olds);
    let priors = 0;
    let created = 0;
    let held = 0;
    for (const [index, entry] of chunk.entries()) {
      const old = olds[index]?.result;
      const record: EntryRecord = toRecord(entry);
      record.batch = id;
      // No other import of the type is pending (see #begin): a replaced record is plain, or of a committed import.
      if (old) {
        record.prior = plainOf(old);
        record.priorAfter = batch.targets.length;
        priors++;
      } else {
        usage.entries++;
        created++;
      }
      held += record.bytes;
      usage.bytes += record.bytes - (old ? old.bytes : 0);
      store.put(record);
    }
    store.put({ key: keyChunkKey(id, step), keys: chunk.map((entry) => entry.key), priors } satisfies KeyChunk);
    const next: BatchRecord = { ...batch, beat: batch.beat + 1, created: batch.created + created, held: batch.held + held };
    store.put(next);
    // No room is made here: an import that fails must not have evicted anything (see import).
    // Done once every request is (the next step starts then: see import).
    await requestDone(this.#putUsage(tx, type, usage));
  }

  /**
   * The commit of an import: its batch record goes, so its entries are what reads see — less those an
   * event since its start removes, which go in the same transaction, with what they replaced (as if the
   * event came just after the import; one transaction, so that no read sees part of it); after a
   * clear, the whole batch is rolled back instead. Says what its entries hold, and the type.
   */
  async #commitImport(
    tx: IDBTransaction,
    type: TypeName,
    id: BatchId,
    commit: WriteOptions['commit'],
  ): Promise<{ outcome: 'committed' | 'rolled back'; removed: number; held: number; bytes: number }> {
    const store = tx.objectStore(entryStore(type));
    const batch = (await requestDone(store.get(batchKey(id)))) as BatchRecord | undefined;
    if (!batch) {
      // Committed already by a first try of this transaction whose answer was lost with its connection
      // (its key chunks are still there), or rolled back by another tab.
      if ((await requestDone(store.getKey(keyChunksOf(id)))) !== undefined) return { outcome: 'committed', removed: 0, held: 0, bytes: Infinity };
      throw rolledBack(type);
    }
    if (batch.state !== 'open') throw rolledBack(type);
    const usage = await this.#usage(tx, type);
    const outcome = batch.targets.some((target) => target.by === 'all') ? 'rolled back' : 'committed';
    let removed = 0;
    let { held } = batch;
    for (let index = batch.applied ?? 0; outcome === 'committed' && index < batch.targets.length; index++) {
      const target = batch.targets[index]!;
      if (target.by === 'all') break;
      for (const record of await requestDone(findRecords(store, target))) {
        if (record.batch !== id || !targetMatches(target, record)) continue;
        removed++;
        held -= record.bytes;
        // Not its prior back: the import replaced that (a resolved setMany happened), then the event removed it.
        store.delete(record.key);
        forget(usage, record);
      }
    }
    if (outcome === 'rolled back') store.put({ ...batch, state: 'aborted' } satisfies BatchRecord);
    else store.delete(batchKey(id));
    // The call happened either way (its entries were written, then invalidated): a client that lost the answer
    // may ask, and then room is made as the import would have made it (see roomAfterImport).
    if (commit) store.put({ key: commitKey(commit.id), at: commit.at, held } satisfies CommitMark);
    this.#putUsage(tx, type, usage);
    return { outcome, removed, held, bytes: usage.bytes };
  }

  /**
   * Brings `type` down to `target` bytes if it holds more than `above`, in steps of at most an import
   * step's worth of removals (short transactions, which other calls interleave with); `spare` stays.
   */
  async #shrinkInSteps(type: TypeName, above: number, target: number, now: number, spare?: ReadonlySet<string>): Promise<Removed> {
    const removed = noneRemoved();
    for (let limit = above; ; limit = target) {
      const step = await this.#db.transact(`making room in ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
        const usage = await this.#usage(tx, type);
        if (usage.bytes <= limit) return null;
        const stepTarget = Math.max(target, usage.bytes - this.#importChunk * averageBytes(usage));
        const more = await shrinkType(tx, type, usage, stepTarget, now, [], this.#readTimes, spare);
        this.#putUsage(tx, type, usage);
        return more;
      });
      if (!step || step.expired + step.evicted === 0) return removed;
      addRemoved(removed, step);
    }
  }

  /**
   * Marks an import that failed (or whose tab is gone) as rolled back, then rolls it back. Writes made
   * under it while it was pending (their bytes counted as its) are visible again: a type they put above
   * its whole budget loses its least recently used entries, as few as that takes.
   */
  async #abort(type: TypeName, id: BatchId, budget: Budget | null, expiredBy: ExpiredBy): Promise<void> {
    const pending = await this.#db.transact(`abandoning an import of ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const batch = (await requestDone(store.get(batchKey(id)))) as BatchRecord | undefined;
      if (batch?.state === 'open') store.put({ ...batch, state: 'aborted' } satisfies BatchRecord);
      return batch !== undefined;
    });
    this.#abandoned.delete(id);
    if (!pending) return;
    await this.#rollBack(type, id);
    if (budget) this.#removed?.(type, await this.#shrinkInSteps(type, budget.maxBytes, budget.maxBytes, cutoffOf(expiredBy, type)).catch(noneRemoved));
  }

  /**
   * Starts an import: writes its batch record, once no other import of the type is pending (an import
   * of it in another tab is waited for; one whose tab is gone is rolled back first). `locked`: whether
   * it holds its Web Lock (see #holdBatchLock).
   */
  #begin(type: TypeName, id: BatchId, budget: Budget | null, expiredBy: ExpiredBy, locked: boolean): Promise<void> {
    return this.#afterImports(type, budget, expiredBy, `starting an import of ${type}`, (store) =>
      store.put({ key: batchKey(id), state: 'open', beat: 0, created: 0, held: 0, targets: [], unlocked: !locked } satisfies BatchRecord),
    );
  }

  /**
   * Waits until no import of `type` is pending (one whose tab is gone is rolled back); `then` runs in
   * the transaction that found none.
   */
  async #afterImports(type: TypeName, budget: Budget | null, expiredBy: ExpiredBy, doing: string, then?: (store: IDBObjectStore) => void): Promise<void> {
    const silence = new Map<BatchId, Silence>();
    for (;;) {
      const others = await this.#db.transact(doing, [entryStore(type)], 'readwrite', async (tx) => {
        const store = tx.objectStore(entryStore(type));
        const pending = await pendingBatches(store);
        if (!pending.size) then?.(store);
        return pending;
      });
      if (!others.size) return;
      const dead = await this.#deadAmong(others, silence, STALE_POLLS);
      for (const other of dead) await this.#abort(type, other, budget, expiredBy);
      const live = [...others.keys()].find((other) => !dead.has(other));
      if (live === undefined) continue;
      // Its lock is free once it is done; one that holds none is looked at again later.
      const waited = !others.get(live)?.unlocked && (await this.#locks.request(batchLockName(this.#name, live), {}, async () => {}));
      if (!waited) await new Promise((resolve) => this.#schedule(() => resolve(undefined), IMPORT_WAIT_MS));
    }
  }

  /**
   * The batches among these whose tab is gone: with Web Locks, those whose lock nobody holds (each
   * import holds its lock from before its batch record is written, and these were read before asking);
   * without (or for a batch begun without its lock), those that wrote no step while `silence` watched
   * them, `patience` looks in a row.
   */
  async #deadAmong(batches: ReadonlyMap<BatchId, BatchRecord>, silence: Map<BatchId, Silence>, patience: number): Promise<Set<BatchId>> {
    const held = await this.#locks.held();
    const dead = new Set<BatchId>();
    for (const [id, batch] of batches) {
      if (batch.state === 'aborted' || this.#abandoned.has(id)) dead.add(id);
      else if (held && !batch.unlocked) {
        if (!held.has(batchLockName(this.#name, id))) dead.add(id);
      } else {
        const seen = silence.get(id);
        const polls = seen?.beat === batch.beat ? seen.polls + 1 : 0;
        silence.set(id, { beat: batch.beat, polls });
        if (polls >= patience) dead.add(id);
      }
    }
    for (const id of silence.keys()) if (!batches.has(id)) silence.delete(id);
    return dead;
  }

  /** Takes the lock that tells other tabs an import is alive; resolves with its release, or null where there is none to take. */
  #holdBatchLock(id: BatchId): Promise<(() => void) | null> {
    return new Promise((resolve, reject) => {
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      this.#locks.request(batchLockName(this.#name, id), {}, () => (resolve(release), released)).then((held) => held ?? resolve(null), reject);
    });
  }

  /** Gives each entry an import wrote its prior back, a step at a time; the batch record goes last. */
  #rollBack(type: TypeName, id: BatchId): Promise<void> {
    let pending = new Map<BatchId, BatchRecord>();
    return this.#byKeyChunk(
      'rolling back an import of',
      type,
      id,
      async (store) => {
        const batchRead = store.get(batchKey(id)) as IDBRequest<BatchRecord | undefined>;
        const chunkRead = store.get(keyChunksOf(id)) as IDBRequest<KeyChunk | undefined>;
        await requestsDone([batchRead, chunkRead]);
        // No batch record: it committed (its chunks are normalized instead), or is rolled back already.
        if (!batchRead.result) return undefined;
        if (!chunkRead.result) store.delete(batchKey(id));
        pending = new Map([[id, batchRead.result]]);
        return chunkRead.result;
      },
      async (tx, store, records) => {
        const usage = await this.#usage(tx, type);
        for (const record of records) restorePrior(store, usage, record, pending);
        this.#putUsage(tx, type, usage);
      },
    );
  }

  /** Drops the priors a committed import left in its records, a step at a time. */
  #normalize(type: TypeName, id: BatchId): Promise<void> {
    return this.#byKeyChunk(
      'tidying an import of',
      type,
      id,
      async (store) => {
        if ((await requestDone(store.getKey(batchKey(id)))) !== undefined) return undefined;
        // Chunks that replaced nothing only go; the first that did is tidied in this transaction.
        let chunk: KeyChunk | undefined;
        await walkCursor(store.openCursor(keyChunksOf(id)), (cursor) => {
          const value = cursor.value as KeyChunk;
          if (value.priors > 0) chunk = value;
          else cursor.delete();
          return chunk === undefined;
        });
        return chunk;
      },
      async (_tx, store, records) => {
        // Priors are not counted: usage stays as it is.
        for (const record of records) if (record.prior) store.put(plainOf(record));
      },
    );
  }

  /**
   * Works through an import's key chunks, one transaction each, until `next` finds none left to handle:
   * `handle` gets the chunk's records that are still the import's, then the chunk goes.
   */
  async #byKeyChunk(
    doing: string,
    type: TypeName,
    id: BatchId,
    next: (store: IDBObjectStore) => Promise<KeyChunk | undefined>,
    handle: (tx: IDBTransaction, store: IDBObjectStore, records: EntryRecord[]) => Promise<void>,
  ): Promise<void> {
    for (;;) {
      const done = await this.#db.transact(`${doing} ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
        const store = tx.objectStore(entryStore(type));
        const chunk = await next(store);
        if (!chunk) return true;
        const reads = chunk.keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
        await requestsDone(reads);
        await handle(tx, store, reads.flatMap((read) => (read.result?.batch === id ? [read.result] : [])));
        store.delete(chunk.key);
        return false;
      });
      if (done) return;
    }
  }

  /**
   * Finishes what imports left in these types: rolls back those whose tab is gone (a crash, a dead
   * worker) and tidies those committed. On open, and with the periodic cleanup.
   */
  async sweepImports(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy): Promise<void> {
    const types = [...budgets.keys()];
    const found = await this.#db.transact('finding unfinished imports', types.map(entryStore), 'readonly', (tx) =>
      Promise.all(
        types.map(async (type) => {
          const store = tx.objectStore(entryStore(type));
          const [batches, chunks] = await Promise.all([pendingBatches(store), requestDone(store.getAllKeys(allKeyChunks())) as Promise<KeyChunk['key'][]>]);
          return { type, batches, chunked: new Set(chunks.map((key) => key[1])) };
        }),
      ),
    );
    for (const { type, batches, chunked } of found) {
      // Without Web Locks, a batch is dead once it wrote nothing from one sweep to the next (minutes apart).
      for (const id of await this.#deadAmong(batches, this.#silence, 1)) await this.#abort(type, id, budgets.get(type) ?? null, expiredBy);
      for (const id of chunked) if (!batches.has(id)) await this.#normalize(type, id);
    }
  }

  /**
   * A write over an import's entry not yet committed writes under it: its prior becomes the new entry
   * (what reads see until the import commits, after which the import's entry wins).
   */
  async #writeUnderImports(store: IDBObjectStore, replaced: readonly EntryRecord[], entries: readonly StoredEntry[], usage: Usage): Promise<void> {
    if (!replaced.length) return;
    const pending = await this.#batches.pendingAmong(store, replaced);
    if (!pending.size) return;
    const written = new Map(entries.map((entry) => [entry.key, entry]));
    for (const old of replaced) {
      const entry = written.get(old.key);
      const batch = old.batch === undefined ? undefined : pending.get(old.batch);
      if (!entry || !batch) continue;
      const prior = toRecord(entry);
      store.put({ ...plainOf(old), batch: old.batch, prior, priorAfter: batch.targets.length } satisfies EntryRecord);
      // The write counted its entry in place of the import's; the import's entry stays, and usage counts it (not priors).
      usage.bytes += old.bytes - entry.bytes;
      // A record the import created showed nothing; it shows this write now (see BatchRecord.created).
      if (!old.prior) batch.created--;
    }
    for (const batch of pending.values()) store.put(batch);
  }

  /** The mark of a write of `type` under `id` if it committed (see WriteOptions.commit). */
  committed(type: TypeName, id: string): Promise<CommitMark | undefined> {
    return this.#db.transact('reading a commit mark', [entryStore(type)], 'readonly', async (tx) => {
      return (await requestDone(tx.objectStore(entryStore(type)).get(commitKey(id)))) as CommitMark | undefined;
    });
  }

  /** Deletes the commit marks of these types made before `before` (epoch ms): no client waits that long for an answer. */
  trimCommitMarks(types: readonly TypeName[], before: number): Promise<void> {
    return this.#db.transact('trimming commit marks', types.map(entryStore), 'readwrite', async (tx) => {
      for (const type of types) {
        await walkCursor(tx.objectStore(entryStore(type)).openCursor(commitMarks()), (cursor) => {
          if ((cursor.value as { at: number }).at < before) cursor.delete();
          return true;
        });
      }
    });
  }

  list(type: TypeName, prefix?: string): Promise<StoredEntry[]> {
    return this.#db.transact(`listing ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const records = (await requestDone(store.getAll(prefixRange(prefix)))) as EntryRecord[];
      const pending = await this.#batches.pendingAmong(store, records);
      return records.flatMap((record) => {
        const visible = visibleOf(record, pending);
        return visible ? [fromRecord(type, visible)] : [];
      });
    });
  }

  liveKeys(type: TypeName, now: number, prefix?: string): Promise<string[]> {
    return this.#db.transact(`listing ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      // Keys only: the expired ones come from the expiry index, not from reading every value; while an
      // import is pending, its records' keys and expiry are not what reads see, so values are read.
      const [keys, expired, batches] = [store.getAllKeys(prefixRange(prefix)), store.index('expiry').getAllKeys(IDBKeyRange.upperBound(now)), store.getAll(batchRecords())];
      await requestsDone([keys, expired, batches]);
      const pending = byId(batches.result as BatchRecord[]);
      if (pending.size) {
        const records = (await requestDone(store.getAll(prefixRange(prefix)))) as EntryRecord[];
        return records.flatMap((record) => {
          const visible = visibleOf(record, pending);
          return visible && !(visible.expiry !== undefined && visible.expiry <= now) ? [visible.key] : [];
        });
      }
      const gone = new Set(expired.result as string[]);
      return (keys.result as string[]).filter((key) => !gone.has(key));
    });
  }

  remove(type: TypeName, keys: readonly string[], when?: (entry: StoredEntry) => boolean, once?: Once & { at: number }): Promise<string[]> {
    return this.#db.transact(`removing from ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      // A retry whose first attempt happened: what that one deleted, and nothing deleted again (a mark of
      // Reprise 0.2's first stops has only the count: as many of the keys).
      const mark = once?.retry && ((await requestDone(store.get(commitKey(once.id)))) as { removed?: number; keys?: string[] } | undefined);
      if (mark) return mark.keys ?? keys.slice(0, mark.removed ?? 0);
      const usage = await this.#usage(tx, type);
      // Each key once: two reads of one record before its delete would subtract its bytes twice.
      const requests = [...new Set(keys)].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      const pending = await this.#batches.pendingAmong(store, requests.map((request) => request.result));
      const removed: string[] = [];
      for (const request of requests) {
        const record = request.result;
        const visible = record && visibleOf(record, pending);
        if (!record || !visible || (when && !when(fromRecord(type, visible)))) continue;
        // An import's entry not yet committed stays: what is removed is the entry reads see, its prior.
        if (isPending(record, pending)) dropPrior(store, record);
        else {
          store.delete(record.key);
          forget(usage, record);
        }
        removed.push(record.key);
      }
      if (removed.length) this.#putUsage(tx, type, usage);
      if (once) store.put({ key: commitKey(once.id), at: once.at, removed: removed.length, keys: removed });
      return removed;
    });
  }

  mark(): Promise<Mark> {
    return this.log.head().then((log) => ({ log }));
  }

  async invalidate(targets: readonly InvalidationTarget[]): Promise<Invalidated> {
    const { counts, keys } = await this.#invalidate(targets);
    return { counts, keys };
  }

  /**
   * Removes what the targets find and appends the change to the log, in one transaction. A relayed
   * change (made by a tab without IndexedDB) that some tab has logged already under its id is returned
   * as logged, and nothing is done again.
   */
  async invalidateAndLog(
    targets: readonly InvalidationTarget[],
    change: Omit<LoggedChange, 'seq' | 'invalidated'>,
    relayed = false,
  ): Promise<{ record: LoggedChange; epoch: string | null }> {
    const { counts, keys, logged, epoch } = await this.#invalidate(targets, { change, relayed });
    return { record: logged ?? { ...change, seq: 0, invalidated: counts, removed: keys }, epoch };
  }

  async #invalidate(
    targets: readonly InvalidationTarget[],
    log?: { change: Omit<LoggedChange, 'seq' | 'invalidated'>; relayed: boolean },
  ): Promise<Invalidated & { logged: LoggedChange | null; epoch: string | null }> {
    const types = [...new Set(targets.map((target) => target.type))];
    const stores: StoreName[] = log ? [...types.map(entryStore), 'events', 'meta'] : types.map(entryStore);
    // One transaction, its reads all at once: an event's round trips are most of what it costs.
    const result = await this.#db.transact('invalidating', stores, 'readwrite', async (tx) => {
      const epochRead = log && EventLog.readEpoch(tx);
      // A relayed change (made by a tab without IndexedDB) some tab logged already under its id is not
      // applied again: the whole log (a thousand records or a day at most), as the relaying tab may be a new worker.
      const logRead = log?.relayed && log.change.id !== undefined && EventLog.readChanges(tx);
      const usageReads = types.map((type) => tx.objectStore(entryStore(type)).get(USAGE_KEY) as IDBRequest<UsageRecord | undefined>);
      // Imports of these types not yet committed: this change applies to them too (see importBatch.ts).
      const batchReads = types.map((type) => tx.objectStore(entryStore(type)).getAll(batchRecords()) as IDBRequest<BatchRecord[]>);
      // What each target finds, through its index.
      const entryReads = targets.map((target) => (target.by === 'all' ? null : findRecords(tx.objectStore(entryStore(target.type)), target)));
      await requestsDone([...(epochRead ? [epochRead] : []), ...(logRead ? [logRead] : []), ...usageReads, ...batchReads, ...entryReads.flatMap((read) => (read ? [read] : []))]);
      const epoch = epochRead?.result ?? null;
      const already = logRead && logRead.result.find((logged) => logged.id === log.change.id);
      if (already) return { counts: already.invalidated, keys: already.removed ?? {}, logged: () => already, epoch };
      const usages = new Map<TypeName, Usage>();
      for (const [index, type] of types.entries()) usages.set(type, usageOf(usageReads[index]?.result) ?? (await recount(tx, type)));
      const pending = new Map(types.map((type, index) => [type, byId(batchReads[index]?.result ?? [])]));
      const removed = new RemovedKeyList();
      const deleted = new Set<string>();
      for (const [index, target] of targets.entries()) {
        const { type } = target;
        const store = tx.objectStore(entryStore(type));
        const usage = usages.get(type)!;
        removed.target(type);
        if (target.by === 'all') {
          // What reads see: not the records pending imports created (those that replaced one show it).
          removed.any(type, Math.max(0, usage.entries - [...pending.get(type)!.values()].reduce((sum, batch) => sum + batch.created, 0)));
          // Entries only: the usage record is rewritten below, and commit marks stay.
          store.delete(entryKeys());
          usage.entries = usage.bytes = 0;
        } else {
          const batches = pending.get(type)!;
          for (const record of entryReads[index]?.result ?? []) {
            const id = JSON.stringify([type, record.key]);
            if (deleted.has(id) || !targetMatches(target, record)) continue;
            if (isPending(record, batches)) {
              // An import's entry (found by its tags) goes when the import commits; its prior, which
              // reads see until then, goes now if the target finds it too.
              const visible = visibleOf(record, batches);
              if (!visible || !targetMatches(target, visible)) continue;
              dropPrior(store, record);
            } else {
              store.delete(record.key);
              forget(usage, record);
            }
            // Only once it went: another target may find what this one left (an import's record whose prior it did not match).
            deleted.add(id);
            removed.add(type, record.key);
          }
        }
      }
      for (const [type, usage] of usages) {
        this.#putUsage(tx, type, usage);
        if (usage.entries === 0) this.#readTimes.drop(type);
      }
      for (const [type, batches] of pending) {
        const mine = targets.filter((target) => target.type === type);
        for (const batch of batches.values()) tx.objectStore(entryStore(type)).put(withTargets(batch, mine));
      }
      // Logged in the same transaction: a change is in the log exactly when it happened.
      const { counts, keys } = removed.invalidated();
      const record = log && { ...log.change, invalidated: counts, removed: keys };
      const added = record && EventLog.append(tx, record);
      return { counts, keys, logged: () => (record && added ? { ...record, seq: added.result as number } : null), epoch };
    });
    // The log's sequence number is known once the transaction has committed.
    return { counts: result.counts, keys: result.keys, logged: result.logged(), epoch: result.epoch };
  }

  clear(types: readonly TypeName[]): Promise<void> {
    return this.#db.transact('clearing', types.map(entryStore), 'readwrite', async (tx) => {
      // Every type's pending imports read at once (one round trip): they are cleared too, rolled back when they would commit.
      const pending = await Promise.all(types.map((type) => pendingBatches(tx.objectStore(entryStore(type)))));
      for (const [index, type] of types.entries()) {
        const store = tx.objectStore(entryStore(type));
        store.delete(entryKeys());
        this.#putUsage(tx, type, noUsage());
        this.#readTimes.drop(type);
        for (const batch of pending[index]!.values()) store.put(withTargets(batch, [{ type, by: 'all' }]));
      }
    });
  }

  cleanup(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy): Promise<Partial<Record<TypeName, Removed>>> {
    const types = [...budgets.keys()];
    return this.#db.afterReading(
      'planning a cleanup',
      types.map(entryStore),
      (tx) =>
        Promise.all(
          types.map(async (type) => {
            const usage = await this.#usage(tx, type);
            const now = cutoffOf(expiredBy, type);
            const expired = await planEvictions(tx, type, Infinity, usage, now, { passes: ['expired'] });
            const budget = budgets.get(type);
            const left = usage.bytes - expired.length * averageBytes(usage);
            const spare = new Set(expired.map((candidate) => candidate.key));
            const evict = budget
              ? await planEvictions(tx, type, left - budget.lowWater, usage, now, { passes: ['evicted'], spare, readTimes: this.#readTimes })
              : [];
            return { expired, evict };
          }),
        ),
      'cleaning up',
      types.map(entryStore),
      async (tx, plans) => {
        const result: Partial<Record<TypeName, Removed>> = {};
        for (const [index, type] of types.entries()) {
          const usage = await this.#usage(tx, type);
          const budget = budgets.get(type);
          const now = cutoffOf(expiredBy, type);
          const { expired } = await removePlanned(tx, type, usage, plans[index]?.expired ?? [], -Infinity, now);
          const { evicted } =
            budget && usage.bytes > budget.lowWater
              ? await shrinkType(tx, type, usage, budget.lowWater, now, plans[index]?.evict ?? [], this.#readTimes)
              : noneRemoved();
          if (expired || evicted) this.#putUsage(tx, type, usage);
          result[type] = { expired, evicted };
        }
        return result;
      },
    );
  }

  /**
   * After a QuotaExceededError: removes about `bytes`. Deletes only: a browser over its quota refuses
   * any transaction that puts, even one that frees more than it writes. So the types' usage records are
   * deleted too, and recounted when next needed.
   */
  free(types: readonly TypeName[], bytes: number, expiredBy: ExpiredBy, spare?: Spared): Promise<Partial<Record<TypeName, Removed>>> {
    const spared = (type: TypeName) => new Set(type === spare?.[0] ? spare[1] : []);
    return this.#db.afterReading(
      'planning to free space',
      types.map(entryStore),
      async (tx) => {
        // Expired entries of every type first, then the least recently used, type by type.
        // By pass and type: the freeing below takes each where it comes to it, whatever was planned before.
        const plans = new Map<string, Candidate[]>();
        let planned = 0;
        for (const pass of ['expired', 'evicted'] as const) {
          for (const type of types) {
            if (planned >= bytes) break;
            const usage = await this.#usage(tx, type);
            const plan = await planEvictions(tx, type, bytes - planned, usage, cutoffOf(expiredBy, type), { passes: [pass], spare: spared(type), readTimes: this.#readTimes });
            plans.set(`${pass}:${type}`, plan);
            planned += plan.length * averageBytes(usage);
          }
        }
        return plans;
      },
      'freeing space',
      types.map(entryStore),
      async (tx, plans) => {
        const removed: Partial<Record<TypeName, Removed>> = {};
        const usages = new Map<TypeName, Usage>();
        let freed = 0;
        // In the plan's order; where its entries fall short (written or read, in any tab, since it was
        // made), the others are planned again here, until enough is freed or none is left untried.
        for (const pass of ['expired', 'evicted'] as const) {
          for (const type of types) {
            const tried = spared(type);
            for (let plan = plans.get(`${pass}:${type}`) ?? []; freed < bytes; plan = []) {
              const usage = usages.get(type) ?? (await this.#usage(tx, type));
              usages.set(type, usage);
              const now = cutoffOf(expiredBy, type);
              if (!plan.length) plan = await planEvictions(tx, type, bytes - freed, usage, now, { passes: [pass], spare: tried, readTimes: this.#readTimes });
              if (!plan.length) break;
              for (const { key } of plan) tried.add(key);
              const before = usage.bytes;
              addRemoved((removed[type] ??= noneRemoved()), await removePlanned(tx, type, usage, plan, before - (bytes - freed), now));
              freed += before - usage.bytes;
            }
          }
        }
        for (const type of usages.keys()) tx.objectStore(entryStore(type)).delete(USAGE_KEY);
        return removed;
      },
    );
  }

  touch(type: TypeName, key: string, at: number, written = false): void {
    // A first read since the read times were last written is written at once (up to READS_AT_ONCE), for
    // other tabs' evictions; in a microtask, which runs before the read resolves. Later ones wait for the deferred write.
    const atOnce = this.#readsAtOnce.get(type) ?? 0;
    if (!written && atOnce < READS_AT_ONCE && !this.#readTimes.has(type, key)) {
      this.#readsAtOnce.set(type, atOnce + 1);
      if (!this.#firstReads) {
        const reads = (this.#firstReads = new Map());
        queueMicrotask(() => {
          this.#firstReads = null;
          const db = this.#db.open;
          if (db) recordReadsNow(db, reads);
        });
      }
      const times = this.#firstReads.get(type) ?? new Map<string, number>();
      this.#firstReads.set(type, times.set(key, at));
    }
    this.#readTimes.touch(type, key, at);
    if (this.#readTimes.pending >= MAX_PENDING_READS) void this.writeReadTimes();
    else if (!this.#readTimesDue) {
      this.#readTimesDue =
        this.#schedule(() => {
          this.#readTimesDue = false;
          void this.writeReadTimes();
        }, READ_TIMES_DELAY_MS) ?? true;
    }
  }

  /** Writes the read times still waiting into their entries, one such write at a time; never rejects. */
  writeReadTimes(): Promise<void> {
    this.#readsAtOnce.clear();
    const types = this.#readTimes.types;
    if (this.#writingReadTimes || !types.length) return this.#writingReadTimes ?? Promise.resolve();
    this.#writingReadTimes = this.#db
      .transact('recording reads', types.map(entryStore), 'readwrite', async (tx) => {
        for (const type of types) await this.#readTimes.writeInto(tx, type);
      })
      .catch(() => {
        // Losing read times only makes eviction less precise.
      })
      .finally(() => {
        this.#writingReadTimes = null;
      });
    return this.#writingReadTimes;
  }

  usage(types: readonly TypeName[]): Promise<Usage[]> {
    return this.#db.transact('reading usage', types.map(entryStore), 'readonly', (tx) =>
      Promise.all(
        types.map(async (type) => {
          const { entries, bytes } = await this.#usage(tx, type);
          return { entries, bytes };
        }),
      ),
    );
  }

  close(): void {
    // The read times are written by the engine's close; their timer would hold this store in memory.
    if (typeof this.#readTimesDue === 'function') this.#readTimesDue();
    this.#readTimesDue = false;
    this.#db.close();
  }

  async #usage(tx: IDBTransaction, type: TypeName): Promise<Usage> {
    return usageOf((await requestDone(tx.objectStore(entryStore(type)).get(USAGE_KEY))) as UsageRecord | undefined) ?? (await recount(tx, type));
  }

  #putUsage(tx: IDBTransaction, type: TypeName, usage: Usage): IDBRequest {
    return tx.objectStore(entryStore(type)).put({ ...usage, key: USAGE_KEY });
  }
}

/**
 * A type's usage, counted from its entries: for a type whose usage record is missing (freed over the
 * quota, see `free`). An empty type costs one count.
 */
async function recount(tx: IDBTransaction, type: TypeName): Promise<Usage> {
  const store = tx.objectStore(entryStore(type));
  const usage = noUsage();
  if ((await requestDone(store.count(entryKeys()))) === 0) return usage;
  await walkCursor(store.openCursor(entryKeys()), (cursor) => {
    usage.entries++;
    usage.bytes += (cursor.value as EntryRecord).bytes;
    return true;
  });
  return usage;
}

/** The entries no change logged since the guard's mark removes; none if the log no longer tells (recreated, or trimmed since). */
async function unremoved(tx: IDBTransaction, entries: readonly StoredEntry[], { mark, removes }: WriteGuard): Promise<readonly StoredEntry[]> {
  if (!('log' in mark)) return [];
  const { epoch, changes, trimmedThrough } = await EventLog.tail(tx, mark.log.seq);
  if (epoch !== mark.log.epoch || trimmedThrough > mark.log.seq) return [];
  const since = changes.map(changeOf);
  return since.length ? entries.filter((entry) => !since.some((change) => removes(change, entry))) : entries;
}

function lastOfEachKey(entries: readonly StoredEntry[]): readonly StoredEntry[] {
  const keys = new Set(entries.map((entry) => entry.key));
  return keys.size === entries.length ? entries : [...new Map(entries.map((entry) => [entry.key, entry])).values()];
}

/** The records a target finds through its index. */
function findRecords(store: IDBObjectStore, target: Exclude<InvalidationTarget, { by: 'all' }>): IDBRequest<EntryRecord[]> {
  const query = target.by === 'track' ? target.trackId : target.by === 'album' ? target.albumKey : target.fingerprint;
  return store.index(target.by).getAll(query) as IDBRequest<EntryRecord[]>;
}

/** An import's record reads as its prior again (or goes, if it has none, or an event since removed it). */
function restorePrior(store: IDBObjectStore, usage: Usage, record: EntryRecord, pending: ReadonlyMap<BatchId, BatchRecord>): void {
  const visible = visibleOf(record, pending);
  if (visible) {
    store.put(visible);
    usage.bytes += visible.bytes - record.bytes;
  } else {
    store.delete(record.key);
    forget(usage, record);
  }
}

/**
 * A pending batch with the targets of a change made during it. One that removes every entry (a clear,
 * library_sync) removed the records the batch created too: none of those left is its, for the next
 * such change's count (see #invalidate).
 */
function withTargets(batch: BatchRecord, targets: readonly InvalidationTarget[]): BatchRecord {
  const all = targets.some((target) => target.by === 'all');
  return { ...batch, targets: [...batch.targets, ...targets], created: all ? 0 : batch.created };
}

/** Removes the entry reads see in an import's record (its prior), keeping the import's own (usage, which counts that, stays). */
function dropPrior(store: IDBObjectStore, record: EntryRecord): void {
  const { prior, priorAfter: _, ...rest } = record;
  if (prior) store.put(rest);
}

function rolledBack(type: TypeName): CacheError {
  return new CacheError(
    'storage_unavailable',
    `This setMany of ${type} was rolled back before it committed (another tab took it for abandoned, or cleared it); nothing of it was written`,
  );
}
