import { isCacheError } from '../src/CacheError';
import type { TypeName } from '../src/contentType';
import { targetMatches, targetsIn, type InvalidationTarget } from '../src/invalidationTarget';
import { Database, isOpenFailure, type DatabaseOptions } from './Database';
import { changeOf, commitKey, commitMarks, entryKeys, forgetMarks, type CommitMark, entryStore, fromRecord, toRecord, USAGE_KEY, usageOf, type UsageRecord, type EntryRecord, type LoggedChange, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { unknownIfLanded } from './storageError';
import { loggedTargets, removedBy } from './Change';
import { aheadRange, planEvictions, removePlanned, settleAhead, shrinkType, noneRemoved, type Candidate } from './evictionPlan';
import { requestDone, requestsDone } from './idbRequests';
import { isExpiredRecord, liveKeysOf } from './isExpired';
import { walkCursor } from './walkCursor';
import { prefixRange } from './prefixRange';
import { ReadTimes } from './ReadTimes';
import { READS_AT_ONCE, recordReadsNow } from './recordReads';
import { later, type Schedule } from './schedule';
import { epochNow } from '../src/time';
import { addRemoved, cutoffOf, leftOut, type Budget, type Deletion, type ExpiredBy, type Invalidated, type Spared, type Mark, type Removed, type Store, type StoredEntry, type Usage, type WriteGuard, type WriteOptions } from './Store';
import { RemovedKeyList } from './RemovedKeyList';
import { averageBytes, forget, noUsage } from './usage';
import { BatchStates, byId, batchRecords, isPending, keyChunksOf, pendingBatches, visibleOf, type BatchId, type BatchRecord, type KeyChunk } from './importBatch';
import { Imports, type ImportOptions } from './Imports';
import { findRecords } from './findRecords';
import { lastOfEachKey } from './lastOfEachKey';
import { fetchedBefore } from './fetchRevision';
import { putUsage, readUsage, recount } from './usageRecord';
import type { Once } from '../src/protocol';

/** Records per batch of requests: small enough that no batch holds a thread for long. */
const REQUEST_CHUNK = 1000;
/**
 * Read times are written in the background this long after a read (so that other tabs' evictions and
 * later sessions follow them), when eviction needs them, before a close, or at once when this many wait.
 */
const READ_TIMES_DELAY_MS = 1000;
const MAX_PENDING_READS = 20_000;
export interface IdbStoreOptions extends DatabaseOptions, ImportOptions {
  /** For writing read times later, and an import's looks at another (setTimeout by default). */
  schedule?: Schedule | undefined;
  /** Records per batch of requests (REQUEST_CHUNK); smaller in simulations, to fail any batch cheaply. */
  chunk?: number | undefined;
}

/** The persistent store: one object store per content type in the cache's database. */
export class IdbStore implements Store {
  readonly kind = 'indexeddb';
  readonly #db: Database;
  readonly log: EventLog;
  /**
   * When a tab's periodic upkeep last went through the database (epoch ms), as this store opened: a database
   * that has no such time is given this one's opening time.
   */
  upkeptAt = 0;
  readonly #readTimes: ReadTimes;
  readonly #schedule: Schedule;
  readonly #chunk: number;
  readonly #importChunk: number | undefined;
  readonly #batches = new BatchStates();
  /** The stores of the custom types this tab keeps here. */
  readonly #kept: ReadonlySet<string>;
  /** Big setManys, written in steps yet all or nothing; and what they left behind. */
  readonly imports: Imports;
  /** Whether a write of read times is scheduled: its cancel where the schedule gives one. */
  #readTimesDue: boolean | (() => void) = false;
  #writingReadTimes: Promise<void> | null = null;
  /** Reads to write at once (see touch). */
  #firstReads: Map<TypeName, Map<string, number>> | null = null;
  /** Reads written at once per type since the deferred write last ran. */
  readonly #readsAtOnce = new Map<TypeName, number>();

  readonly #now: () => number;

  private constructor(db: Database, options: IdbStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? epochNow;
    this.#readTimes = new ReadTimes(this.#now);
    this.#schedule = options.schedule ?? later;
    this.#chunk = options.chunk ?? REQUEST_CHUNK;
    this.#importChunk = options.importChunk;
    this.#kept = new Set(options.customTypes?.map(entryStore));
    this.imports = new Imports(db, options, this.#readTimes, this.#batches, (types, bytes, expiredBy, spare) => this.free(types, bytes, expiredBy, spare));
    this.log = new EventLog(db);
  }

  /** What the loss of the database this tab uses is told under (see Database.name). */
  get name(): string | null {
    return this.#db.name;
  }

  /** Opens the database; rejects with `storage_unavailable` when it cannot be used. */
  static async open(options: IdbStoreOptions): Promise<IdbStore> {
    const { chunk: _chunk, importChunk: _importChunk, locks: _locks, removed: _removed, now: _now, ...databaseOptions } = options;
    const store = new IdbStore(new Database(databaseOptions), options);
    // Only a database that cannot be opened fails the open: what these read is a hint, and a transaction
    // lost on the way (the connection closed under it) is no reason to give IndexedDB up.
    const tolerate = (error: unknown) => {
      if (isOpenFailure(error)) throw error;
    };
    const [record, upkept] =
      (await store.#db
        .transact('reading the epoch', ['meta'], 'readonly', async (tx) => {
          const reads = [EventLog.readEpoch(tx), tx.objectStore('meta').get(UPKEPT_AT) as IDBRequest<number | undefined>] as const;
          await requestsDone(reads);
          return [reads[0].result, reads[1].result] as const;
        })
        .catch(tolerate)) ?? [];
    if (record === undefined) await store.log.ensureEpoch().catch(tolerate);
    store.upkeptAt = upkept ?? store.#now();
    // From now, for the next opens to tell an upkeep overdue: a written time once, or none ever where every page's life is shorter than an interval.
    if (upkept === undefined) void store.noteUpkeep().catch(() => {});
    return store;
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
    const { onProgress, guard, commit, commits, landed } = options;
    if (Imports.imports(entries.length, guard !== undefined, this.#importChunk)) return this.imports.import(type, entries, budget, expiredBy, options);
    // The last of several entries with one key wins; the usage must count that key once.
    entries = lastOfEachKey(entries);
    const spare = liveKeysOf(entries, cutoffOf(expiredBy, type));
    // Its own store only (usage and commit marks are in it): a write of one type never waits for another type's.
    const stores: StoreName[] = guard ? [entryStore(type), 'events', 'meta'] : [entryStore(type)];
    const all = entries;
    let over = false;
    const removed = await this.#db.transact(`writing ${type}`, stores, 'readwrite', async (tx) => {
      // Read in the write's own transaction: a change logged after this cannot have removed what it writes.
      const store = tx.objectStore(entryStore(type));
      const usageRead = readUsage(tx, type);
      const kept = guard ? await unremoved(tx, all, guard, (key) => this.#revisionOf(store, key), usageRead) : all;
      entries = kept;
      // The read times of what it writes, not yet written, are not written after it (see ReadTimes.forget); nor the others
      // in it: a transaction's puts count whole against a nearly full disk (the deferred write takes them, or an eviction).
      this.#readTimes.forget(tx, type, kept.map((entry) => entry.key));
      const usage = await usageRead;
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
      await this.imports.writeUnderImports(store, inBatches, entries, usage);
      const removed =
        budget && usage.bytes > budget.lowWater
          ? await shrinkType(tx, type, usage, budget.lowWater, cutoffOf(expiredBy, type), [], this.#readTimes, spare)
          : noneRemoved();
      putUsage(tx, type, usage);
      const stale = kept.length < all.length ? leftOut(all, kept) : undefined;
      const room = { ...(removed.expired && { expired: removed.expired }), ...(removed.evicted && { evicted: removed.evicted }) };
      // One call's mark names every key written; a group's each its own, the room made in the last one's.
      const marks = commit ? [{ ...commit, keys: entries.map((entry) => entry.key) }] : (commits ?? []);
      const revisions = new Map(entries.map((entry) => [entry.key, entry.revision]));
      marks.forEach(({ id, answered, keys }, index) => {
        store.put({ key: commitKey(id), at: this.#now(), written: keys.map((key) => [key, revisions.get(key)!]), ...(index === marks.length - 1 && room) } satisfies CommitMark);
        forgetMarks(store, answered);
      });
      // Above the whole budget after that: pending imports hold the rest, which nothing may evict.
      over = usage.bytes > (budget?.maxBytes ?? Infinity);
      return stale ? { ...removed, stale } : removed;
    });
    landed?.(removed);
    if (over) {
      // Once they have committed (and made room) or are rolled back, room is made as this write would
      // have made it. It happened, so this never rejects.
      try {
        // Not after one that held no Web Lock (gone, it may still be making room): made meanwhile, this room
        // would take its entries first (used before this write); its own leaves the type within the budget,
        // unless its tab's budget is larger (another deploy's config).
        if (((await this.imports.afterImports(type, budget, expiredBy, `writing ${type}`)) ?? Infinity) > budget!.maxBytes)
          // Counted into `removed` step by step: a step that fails (a full disk) leaves the earlier ones counted.
          await this.imports.shrinkInSteps(type, budget!.maxBytes, budget!.lowWater, expiredBy, spare, removed);
      } catch {
        // Left to the import's own room-making, or to the next write or cleanup.
      }
    }
    return removed;
  }

  /**
   * The mark of a write of `type` under `id` if it committed (see WriteOptions.commit), and where the mark
   * says what it wrote (CommitMark.written), the keys that still hold that (`holding`), read with it.
   */
  committed(type: TypeName, id: string): Promise<(CommitMark & { holding?: string[] }) | undefined> {
    return this.#db.transact('reading a commit mark', [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const mark = (await requestDone(store.get(commitKey(id)))) as CommitMark | undefined;
      if (!mark?.written) return mark;
      const requests = mark.written.map(([key]) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      const records = requests.map((request) => request.result);
      const pending = await this.#batches.pendingAmong(store, records);
      const holding = mark.written.filter(([, revision], index) => {
        const record = records[index];
        return record !== undefined && visibleOf(record, pending)?.revision === revision;
      });
      return { ...mark, holding: holding.map(([key]) => key) };
    });
  }

  /** Notes that a periodic upkeep went through the database now (see upkeptAt). */
  noteUpkeep(): Promise<void> {
    const at = this.#now();
    return this.#db.transact('noting the upkeep', ['meta'], 'readwrite', async (tx) => void tx.objectStore('meta').put(at, UPKEPT_AT));
  }

  /**
   * Deletes the commit marks of these types made before `before` (epoch ms): no client waits that long for an answer
   * after its change commits. Each is stamped in the transaction that commits it, not as its call began: one held up
   * (a reopen, an eviction, a machine asleep) would go as it lands, while its page may still ask about it.
   */
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

  liveKeys(type: TypeName, now: () => number, prefix?: string): Promise<string[]> {
    return this.#db.transact(`listing ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      // Keys only: the expired ones come from the expiry index, not from reading every value; while an
      // import is pending, its records' keys and expiry are not what reads see, so values are read.
      // Those used ahead of the clock are expired too (see isExpired): the few the access index has ahead of it.
      // By the clock once the keys are read, as a get's: the transaction may have waited for another tab's.
      const [keys, batches] = [store.getAllKeys(prefixRange(prefix)), store.getAll(batchRecords())];
      await requestsDone([keys, batches]);
      const at = now();
      const pending = byId(batches.result as BatchRecord[]);
      if (pending.size) {
        const records = (await requestDone(store.getAll(prefixRange(prefix)))) as EntryRecord[];
        return records.flatMap((record) => {
          const visible = visibleOf(record, pending);
          return visible && !isExpiredRecord(visible, at) ? [visible.key] : [];
        });
      }
      const [expired, ahead] = [store.index('expiry').getAllKeys(IDBKeyRange.upperBound(at)), store.index('access').getAll(aheadRange(at))];
      await requestsDone([expired, ahead]);
      const gone = new Set([...(expired.result as string[]), ...(ahead.result as EntryRecord[]).filter((record) => isExpiredRecord(record, at)).map(({ key }) => key)]);
      return (keys.result as string[]).filter((key) => !gone.has(key));
    });
  }

  remove(type: TypeName, keys: readonly string[], when?: (entry: StoredEntry) => boolean | 'expired', once?: Once & { madeIn?: string | null | undefined }): Promise<Deletion> {
    return this.#db.transact(`removing from ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      // A retry whose first attempt happened: what that one deleted, and nothing removed again (a mark of
      // Reprise 0.2's first stops has only the count: as many of the keys).
      const mark = once?.retry && ((await requestDone(store.get(commitKey(once.id)))) as { removed?: number; keys?: string[] } | undefined);
      if (mark) return { deleted: mark.keys ?? keys.slice(0, mark.removed ?? 0), expired: [] };
      // One made in a database deleted since (see CrossTabChangesOptions.madeIn): not done again here, over newer entries.
      // (The epoch of the connection this transaction runs on: none opens while it runs, see Database.)
      const { epoch } = this.#db;
      if (once?.retry && once.madeIn && epoch && epoch !== once.madeIn) throw unknownIfLanded('delete');
      const usage = await readUsage(tx, type);
      // Each key once: two reads of one record before its delete would subtract its bytes twice.
      const requests = [...new Set(keys)].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      const pending = await this.#batches.pendingAmong(store, requests.map((request) => request.result));
      const removed: Deletion = { deleted: [], expired: [] };
      const batches = new Set<BatchRecord>();
      let met = false;
      for (const request of requests) {
        const record = request.result;
        const visible = record && visibleOf(record, pending);
        met ||= visible !== undefined;
        if (!record || !visible) continue;
        const verdict = !when || when(fromRecord(type, visible));
        if (!verdict) continue;
        // An import's entry not yet committed stays: what is removed is the entry reads see, its prior.
        const batch = record.batch === undefined ? undefined : pending.get(record.batch);
        if (batch) {
          dropPrior(store, record, batch);
          batches.add(batch);
        } else {
          store.delete(record.key);
          forget(usage, record);
        }
        (verdict === 'expired' ? removed.expired : removed.deleted).push(record.key);
      }
      // A deleteMany (`once`) that met an entry is counted, also one it removes as expired (see Engine.deleteMany): a
      // read-through's write then leaves out a key found gone (see Holds.deletes).
      if (once && met) usage.deletes = (usage.deletes ?? 0) + 1;
      if (removed.deleted.length || removed.expired.length || (once && met)) putUsage(tx, type, usage);
      for (const batch of batches) store.put(batch);
      if (once) store.put({ key: commitKey(once.id), at: this.#now(), removed: removed.deleted.length, keys: removed.deleted });
      forgetMarks(store, once?.answered);
      return removed;
    });
  }

  mark(type?: TypeName, key?: string): Promise<Mark> {
    if (type === undefined || key === undefined) return this.log.head().then((log) => ({ log }));
    // In one transaction: a write of the key is either before the mark, or seen by the guard (see unremoved).
    return this.#db.transact('marking a read-through', ['events', 'meta', entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const [log, revision, usage] = await Promise.all([EventLog.headIn(tx), this.#revisionOf(store, key), requestDone(store.get(USAGE_KEY)) as Promise<UsageRecord | undefined>]);
      return { log, holds: { key, revision, deletes: usage?.deletes ?? 0, at: this.#now() } };
    });
  }

  /**
   * The revision of the entry reads see at `key` (null: none): under a pending import, its record's prior, which a
   * write under it replaces and a rollback puts back (the record's own revision is the import's, and stays).
   */
  async #revisionOf(store: IDBObjectStore, key: string): Promise<number | null> {
    const record = (await requestDone(store.get(key))) as EntryRecord | undefined;
    const visible = record && visibleOf(record, await this.#batches.pendingAmong(store, [record]));
    return visible ? (visible.revision ?? 0) : null;
  }

  async invalidate(targets: readonly InvalidationTarget[]): Promise<Invalidated> {
    const { counts, keys } = await this.#invalidate(targets);
    return { counts, keys };
  }

  /**
   * Removes what the targets find and appends the change to the log, in one transaction. A relayed
   * change (made by a tab without IndexedDB) that some tab has logged already under its id is returned
   * as logged, and nothing is done again; one made in another database of this name (`madeIn`, deleted since)
   * is not logged (seq 0): the deletion removed all it would. It applies to the custom types' stores this tab does not keep
   * too (see elsewhere), and counts what it removed there in the log record, for the tabs that keep them.
   */
  async invalidateAndLog(
    targets: readonly InvalidationTarget[],
    change: Omit<LoggedChange, 'seq' | 'invalidated' | 'at'>,
    relayed = false,
    madeIn?: string | null,
  ): Promise<{ record: LoggedChange; epoch: string | null }> {
    const { counts, keys, logged, epoch } = await this.#invalidate(targets, { change, relayed, madeIn });
    return { record: logged ?? { ...change, at: this.#now(), seq: 0, invalidated: counts, removed: keys }, epoch };
  }

  async #invalidate(
    given: readonly InvalidationTarget[],
    log?: { change: Omit<LoggedChange, 'seq' | 'invalidated' | 'at'>; relayed: boolean; madeIn?: string | null | undefined },
  ): Promise<Invalidated & { logged: LoggedChange | null; epoch: string | null }> {
    let targets = given;
    let types: TypeName[] = [];
    // The stores of the connection the transaction runs on (another tab's upgrade may add some).
    const scope = (db: IDBDatabase): StoreName[] => {
      if (log) targets = [...given, ...elsewhere(db.objectStoreNames, this.#kept, log.change)];
      types = [...new Set(targets.map((target) => target.type))];
      return log ? [...types.map(entryStore), 'events', 'meta'] : types.map(entryStore);
    };
    // One transaction, its reads all at once: an event's round trips are most of what it costs.
    const result = await this.#db.transact('invalidating', scope, 'readwrite', async (tx) => {
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
      const epoch = epochRead ? EventLog.epochOf(tx.db, epochRead.result) : null;
      const already = logRead && logRead.result.find((logged) => logged.id === log.change.id);
      if (already) return { counts: already.invalidated, keys: already.removed ?? {}, logged: () => already, epoch };
      // Made in another database of this name, deleted since: nothing to remove, nothing logged (seq 0, see TabSync.#take).
      if (log?.madeIn && epoch && log.madeIn !== epoch) return { counts: {}, keys: {}, logged: () => null, epoch };
      const usages = new Map<TypeName, Usage>();
      for (const [index, type] of types.entries()) usages.set(type, usageOf(usageReads[index]?.result) ?? (await recount(tx, type)));
      const pending = new Map(types.map((type, index) => [type, byId(batchReads[index]?.result ?? [])]));
      // The records of pending imports that the indexes do not find by what reads see there (see KeyChunk.retagged).
      const retagged = await retaggedOf(tx, targets, pending);
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
          for (const record of [...(entryReads[index]?.result ?? []), ...(retagged.get(type) ?? [])]) {
            const id = JSON.stringify([type, record.key]);
            if (deleted.has(id)) continue;
            if (isPending(record, batches)) {
              // An import's entry (found by its tags, or re-tagged) goes when the import commits; its prior,
              // which reads see until then, goes now if the target finds it.
              const visible = visibleOf(record, batches);
              if (!visible || !targetMatches(target, visible)) continue;
              dropPrior(store, record, batches.get(record.batch!)!);
            } else if (targetMatches(target, record)) {
              store.delete(record.key);
              forget(usage, record);
            } else continue;
            // Only once it went: another target may find what this one left (an import's record whose prior it did not match).
            deleted.add(id);
            removed.add(type, record.key);
          }
        }
      }
      for (const [index, type] of types.entries()) {
        const usage = usages.get(type)!;
        const read = usageReads[index]!.result;
        // Written only where it changed: an event that removes nothing of a type saves the put (bench row 4).
        if (!read || read.entries !== usage.entries || read.bytes !== usage.bytes) putUsage(tx, type, usage);
        if (usage.entries === 0) this.#readTimes.drop(type);
      }
      for (const [type, batches] of pending) {
        const mine = targets.filter((target) => target.type === type);
        const cleared = log?.change.cleared?.includes(type);
        for (const batch of batches.values()) tx.objectStore(entryStore(type)).put(withTargets(batch, mine, cleared));
      }
      // Logged in the same transaction: a change is in the log exactly when it happened, stamped then (not when
      // the call began: a transaction held up, by a reopen or an eviction, would log it behind later ones; see EventLog.before).
      const { counts, keys } = removed.invalidated();
      const record = log && { ...log.change, at: this.#now(), invalidated: counts, removed: keys };
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
        putUsage(tx, type, noUsage());
        this.#readTimes.drop(type);
        for (const batch of pending[index]!.values()) store.put(withTargets(batch, [{ type, by: 'all' }], true));
      }
    });
  }

  async cleanup(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy, step?: (type: TypeName, removed: Removed) => void): Promise<Partial<Record<TypeName, Removed>>> {
    const more = new Set<TypeName>();
    const result: Partial<Record<TypeName, Removed>> = {};
    const told = (type: TypeName, removed: Removed) => {
      addRemoved((result[type] ??= noneRemoved()), removed);
      step?.(type, removed);
    };
    await this.#cleanup(budgets, expiredBy, false, more, told).catch((error: unknown) => {
      // Over the quota a browser refuses any transaction that puts (usage records, read times), even one
      // that frees more than it writes: once more, deleting only (see free); the steps that committed stay counted.
      if (!isCacheError(error, 'quota_exceeded')) throw error;
      more.clear();
      return this.#cleanup(budgets, expiredBy, true, more, told);
    });
    // Entries used ahead beyond the sweep's own step (a clock a year ahead: the whole type, maybe), in steps of
    // their own, so that no transaction holds the type's writes for long. Best effort: the next sweep goes on.
    for (const type of more) {
      const step = (tx: IDBTransaction) => settleAhead(tx, type, cutoffOf(expiredBy, type).now, this.#chunk);
      while ((await this.#db.transact(`settling ${type}`, [entryStore(type)], 'readwrite', step).catch(() => 0)) === this.#chunk);
    }
    return result;
  }

  /**
   * Type by type, in steps of up to a chunk of expired entries each: planned in a read, removed in a transaction of their
   * own (a month away, tens of thousands: one transaction, or one read of them all, would hold every write of the type
   * that long); the last step also makes room, all at once, and settles. Each step puts the usage it leaves and is
   * `told` once it has committed. `more`: where it found more entries used ahead than one step settles (see settleAhead).
   */
  async #cleanup(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy, deletesOnly: boolean, more: Set<TypeName>, told: (type: TypeName, removed: Removed) => void): Promise<void> {
    for (const [type, budget] of budgets) {
      const stores = [entryStore(type)];
      // Last: fewer expired than a step takes. The next steps go past what one planned (an import's pending entries, which
      // stay, and come first when they expired first: planned again, they would stop the sweep short of the others).
      for (let last = false, tried = new Set<string>(); !last; ) {
        const removed = await this.#db.afterReading(
          'planning a cleanup',
          stores,
          async (tx) => {
            const [usage, now] = [await readUsage(tx, type), cutoffOf(expiredBy, type)];
            const expired = await planEvictions(tx, type, Infinity, usage, now, { passes: ['expired'], limit: this.#chunk, spare: tried });
            last = expired.length < this.#chunk;
            const left = usage.bytes - expired.length * averageBytes(usage);
            const spare = new Set(expired.map((candidate) => candidate.key));
            const evict = last && budget ? await planEvictions(tx, type, left - budget.lowWater, usage, now, { passes: ['evicted'], spare, readTimes: this.#readTimes }) : [];
            return { expired, evict };
          },
          'cleaning up',
          stores,
          async (tx, { expired, evict }) => {
            // The clock as each transaction begins (see ExpiredBy).
            const [usage, now] = [await readUsage(tx, type), cutoffOf(expiredBy, type)];
            for (const { key } of expired) tried.add(key);
            const removed = await removePlanned(tx, type, usage, expired, -Infinity, now);
            if (last) {
              // Making room may meet expired entries too (expired since the plan, or written ahead of a clock set back since).
              if (budget && usage.bytes > budget.lowWater) addRemoved(removed, await shrinkType(tx, type, usage, budget.lowWater, now, evict, this.#readTimes, undefined, deletesOnly));
              // After the removals, which check the last use they planned by. Deleting only, nothing may be put.
              if (!deletesOnly && (await settleAhead(tx, type, now.now, this.#chunk)) === this.#chunk) more.add(type);
            }
            // Deleting only, the usage record goes too, and is recounted when next needed.
            if ((removed.expired || removed.evicted) && deletesOnly) tx.objectStore(entryStore(type)).delete(USAGE_KEY);
            else if (removed.expired || removed.evicted) putUsage(tx, type, usage);
            return removed;
          },
        );
        told(type, removed);
      }
    }
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
            const usage = await readUsage(tx, type);
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
        // made), the others are planned again here, until enough is freed or none is left untried. Last,
        // the entries read since their read times were last written (spared while others remain: on a
        // full disk those times cannot be written, and a write must not fail while there is room to make).
        const triedBy = new Map<string, Set<string>>();
        for (const pass of ['expired', 'evicted', 'read'] as const) {
          for (const type of types) {
            // The read pass does not try again what the evicted pass tried (one set for both).
            const by = `${pass === 'expired'}:${type}`;
            const tried = triedBy.get(by) ?? spared(type);
            triedBy.set(by, tried);
            for (let plan = plans.get(`${pass}:${type}`) ?? []; freed < bytes; plan = []) {
              const usage = usages.get(type) ?? (await readUsage(tx, type));
              usages.set(type, usage);
              const now = cutoffOf(expiredBy, type);
              // The read pass by the read times themselves (the access index has them as last written, or
              // not at all on a full disk); a few at a time: each is read before it goes.
              if (!plan.length) plan = pass === 'read' ? this.#readTimes.oldest(type, tried) : await planEvictions(tx, type, bytes - freed, usage, now, { passes: [pass], spare: tried, readTimes: this.#readTimes });
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
          const { entries, bytes } = await readUsage(tx, type);
          return { entries, bytes };
        }),
      ),
    );
  }

  /** `lost`: the failure that made the cache give IndexedDB up, for calls still in flight (see Database.close). */
  close(lost?: unknown): void {
    // The read times are written by the engine's close; their timer would hold this store in memory.
    if (typeof this.#readTimesDue === 'function') this.#readTimesDue();
    this.#readTimesDue = false;
    this.#db.close(lost);
  }
}

/**
 * The entries no change logged since the guard's mark removes; none if the log no longer tells (recreated, or trimmed since).
 * Nor the key the mark holds (see Holds) once written since, by any tab: an entry of another revision there now; nor
 * once deleted since, by any tab: gone from a revision held then (or, none held then, a delete of it heard by the page:
 * set and deleted meanwhile), with the type's deleteManys counted since. One
 * expired or evicted since is no newer value, nor another read-through's write whose mark was taken before this one's.
 */
async function unremoved(
  tx: IDBTransaction,
  entries: readonly StoredEntry[],
  { mark, removes }: WriteGuard,
  revisionOf: (key: string) => Promise<number | null>,
  usage: Promise<Usage>,
): Promise<readonly StoredEntry[]> {
  if (!('log' in mark)) return [];
  const { holds } = mark;
  const [{ epoch, changes, trimmedThrough }, there, { deletes = 0 }] = await Promise.all([EventLog.tail(tx, mark.log.seq), holds && revisionOf(holds.key), usage]);
  if (epoch !== mark.log.epoch || trimmedThrough > mark.log.seq) return [];
  // Unless another tab's read-through stored it, whose fetcher was called before this one's (no lock held them apart): older.
  if (holds && (there !== holds.revision || holds.deleted) && (there !== null || deletes !== holds.deletes) && !fetchedBefore(there, holds.at)) entries = entries.filter((entry) => entry.key !== holds.key);
  if (!changes.length) return entries;
  // Each change, and what the tab that logged it removed by its rules, which this tab's may not share (see loggedTargets).
  const since = changes.map((record) => ({ change: changeOf(record), there: loggedTargets(record, []) }));
  return entries.filter((entry) => !since.some(({ change, there }) => removes(change, entry) || removedBy(there, entry)));
}

/**
 * What a change this tab logs removes from the custom types' stores in the database that it does not keep
 * (`kept`): another deploy of the app may keep them, under rules this tab does not know. An event removes
 * what it removes from a type every event invalidates (no deploy's rules remove more: none answers what
 * it made stale), a clear every entry of the types it names.
 */
function elsewhere(names: DOMStringList, kept: ReadonlySet<string>, { event, cleared }: Pick<LoggedChange, 'event' | 'cleared'>): InvalidationTarget[] {
  return Array.from(names).flatMap((name) => {
    const type = name.startsWith('custom:') && !kept.has(name) && name.slice(7);
    // `constructor`, which 0.2 took before it refused the name: no config keeps that type now, and a count
    // keyed by it reads Object's (then the change's message is dropped as malformed by every tab).
    if (!type || type in Object.prototype) return [];
    return event ? targetsIn(type, event) : cleared?.includes(type) ? [{ type, by: 'all' as const }] : [];
  });
}

/**
 * A pending batch with the targets of a change made during it (`cleared`: a clear of its type). One that
 * removes every entry (a clear, library_sync) removed the records the batch created too: none of those
 * left is its, for the next such change's count (see #invalidate).
 */
function withTargets(batch: BatchRecord, targets: readonly InvalidationTarget[], cleared = false): BatchRecord {
  const all = targets.some((target) => target.by === 'all');
  return { ...batch, targets: [...batch.targets, ...targets], created: all ? 0 : batch.created, ...(cleared && { cleared }) };
}

/**
 * The records, by type, of pending imports whose prior the tag indexes do not find (the import re-tags the key:
 * see KeyChunk.retagged), read only for types a target other than 'all' applies to and that have such imports.
 */
async function retaggedOf(tx: IDBTransaction, targets: readonly InvalidationTarget[], pending: ReadonlyMap<TypeName, ReadonlyMap<BatchId, BatchRecord>>): Promise<Map<TypeName, EntryRecord[]>> {
  const found = new Map<TypeName, EntryRecord[]>();
  const types = new Set(targets.filter((target) => target.by !== 'all').map((target) => target.type));
  for (const type of types) {
    const store = tx.objectStore(entryStore(type));
    const chunks = [...pending.get(type)!.values()].filter((batch) => batch.retagged).map((batch) => store.getAll(keyChunksOf(batch.key[1])) as IDBRequest<KeyChunk[]>);
    if (!chunks.length) continue;
    await requestsDone(chunks);
    const reads = chunks.flatMap((read) => read.result.flatMap((chunk) => chunk.retagged ?? [])).map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
    await requestsDone(reads);
    found.set(type, reads.flatMap((read) => (read.result ? [read.result] : [])));
  }
  return found;
}

/**
 * Removes the entry reads see in an import's record (its prior), keeping the import's own (usage, which
 * counts that, stays): the record then shows nothing, as one the batch created (see BatchRecord.created),
 * which the caller writes back.
 */
function dropPrior(store: IDBObjectStore, record: EntryRecord, batch: BatchRecord): void {
  const { prior, priorAfter: _, ...rest } = record;
  if (!prior) return;
  store.put(rest);
  batch.created++;
}

/** The `meta` record of when a periodic upkeep last went through the database (see IdbStore.upkeptAt). */
const UPKEPT_AT = 'upkeptAt';
