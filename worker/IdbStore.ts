import type { TypeName } from '../src/contentType';
import { targetMatches, type InvalidationTarget } from '../src/invalidationTargets';
import { Database, isOpenFailure, type DatabaseOptions } from './Database';
import { changeOf, commitKey, commitMarks, entryKeys, entryStore, fromRecord, toRecord, USAGE_KEY, usageOf, type UsageRecord, type EntryRecord, type LoggedChange, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { planEvictions, removePlanned, shrinkType, noneRemoved, type Candidate } from './evictionPlan';
import { requestDone, requestsDone, walkCursor } from './idbRequests';
import { prefixRange } from './prefixRange';
import { ReadTimes } from './ReadTimes';
import { later, type Schedule } from './schedule';
import { cutoffOf, type Budget, type Counts, type ExpiredBy, type Mark, type Removed, type Store, type StoredEntry, type Usage, type WriteGuard, type WriteOptions } from './Store';
import { averageBytes, forget, noUsage } from './usage';

/** Records per batch of requests: small enough that no batch holds a thread for long. */
const REQUEST_CHUNK = 1000;
/**
 * Read times are written in the background this long after a read (so that other tabs' evictions and
 * later sessions follow them), when eviction needs them, before a close, or at once when this many wait.
 */
const READ_TIMES_DELAY_MS = 1000;
const MAX_PENDING_READS = 20_000;

export interface IdbStoreOptions extends DatabaseOptions {
  /** For writing read times later (setTimeout by default). */
  schedule?: Schedule | undefined;
  /** Records per batch of requests (REQUEST_CHUNK); smaller in simulations, to fail any batch cheaply. */
  chunk?: number | undefined;
}

/** The persistent store: one object store per content type in the cache's database. */
export class IdbStore implements Store {
  readonly kind = 'indexeddb';
  readonly #db: Database;
  readonly log: EventLog;
  readonly #readTimes = new ReadTimes();
  readonly #schedule: Schedule;
  readonly #chunk: number;
  #readTimesDue = false;
  #writingReadTimes: Promise<void> | null = null;
  /** The size per type this tab last saw, to know when a write may need evictions planned. */
  readonly #known = new Map<TypeName, Usage>();

  private constructor(db: Database, schedule: Schedule, chunk: number) {
    this.#db = db;
    this.#schedule = schedule;
    this.#chunk = chunk;
    this.log = new EventLog(db);
  }

  /** Opens the database; rejects with `storage_unavailable` when it cannot be used. */
  static async open({ schedule = later, chunk = REQUEST_CHUNK, ...options }: IdbStoreOptions): Promise<IdbStore> {
    const store = new IdbStore(new Database(options), schedule, chunk);
    // Only a database that cannot be opened fails the open: what these read is a hint, and a transaction
    // lost on the way (the connection closed under it) is no reason to give IndexedDB up.
    const tolerate = (error: unknown) => {
      if (isOpenFailure(error)) throw error;
    };
    // The sizes this tab knows (#known) start empty: a write that finds its type fuller than it thought
    // plans its evictions inside its own transaction.
    const epoch = await store.#db.transact('reading the epoch', ['meta'], 'readonly', (tx) => EventLog.epoch(tx)).catch(tolerate);
    if (epoch === null) await store.log.ensureEpoch().catch(tolerate);
    return store;
  }

  read(type: TypeName, keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return this.#db.transact(`reading ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const requests = keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      return requests.map((request) => request.result && fromRecord(type, request.result));
    });
  }

  async write(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options: WriteOptions = {}): Promise<Removed> {
    const { onProgress, guard, commit } = options;
    const now = cutoffOf(expiredBy, type);
    // The last of several entries with one key wins; the usage must count that key once.
    entries = lastOfEachKey(entries);
    const spare = new Set(entries.map((entry) => entry.key));
    const incoming = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const known = this.#known.get(type)?.bytes ?? 0;
    // Plan evictions ahead only when this write may need them (by the last size this tab saw); when
    // another tab has filled the type since, the write plans inside its own transaction instead.
    const plan =
      budget && known + incoming > budget.lowWater
        ? await this.#db.transact(`planning evictions in ${type}`, [entryStore(type)], 'readonly', async (tx) => {
            const usage = await this.#usage(tx, type);
            return planEvictions(tx, type, usage.bytes + incoming - budget.lowWater, usage, now, { spare, readTimes: this.#readTimes });
          })
        : [];
    // Its own store only (usage and commit marks are in it): a write of one type never waits for another type's.
    const stores: StoreName[] = guard ? [entryStore(type), 'events', 'meta'] : [entryStore(type)];
    return this.#db.transact(`writing ${type}`, stores, 'readwrite', async (tx) => {
      // Read in the write's own transaction: a change logged after this cannot have removed what it writes.
      if (guard) entries = await unremoved(tx, entries, guard);
      const store = tx.objectStore(entryStore(type));
      const usage = await this.#usage(tx, type);
      // In an empty type nothing is replaced, so the old entries need not be read.
      const replacing = usage.entries > 0;
      // One chunk is issued while the one before completes: the backend never runs dry, and no task
      // issues more than a chunk (structured cloning happens in put, on this thread).
      let previous: Promise<void> = Promise.resolve();
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
      const removed =
        budget && usage.bytes > budget.lowWater
          ? await shrinkType(tx, type, usage, budget.lowWater, now, plan, this.#readTimes, spare)
          : noneRemoved();
      this.#putUsage(tx, type, usage);
      if (commit) store.put({ key: commitKey(commit.id), at: commit.at });
      return removed;
    });
  }

  /** Whether a write of `type` marked `id` committed (see WriteOptions.commit). */
  committed(type: TypeName, id: string): Promise<boolean> {
    return this.#db.transact('reading a commit mark', [entryStore(type)], 'readonly', async (tx) => {
      return (await requestDone(tx.objectStore(entryStore(type)).get(commitKey(id)))) !== undefined;
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
      const records = (await requestDone(tx.objectStore(entryStore(type)).getAll(prefixRange(prefix)))) as EntryRecord[];
      return records.map((record) => fromRecord(type, record));
    });
  }

  liveKeys(type: TypeName, now: number, prefix?: string): Promise<string[]> {
    return this.#db.transact(`listing ${type}`, [entryStore(type)], 'readonly', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      // Keys only: the expired ones come from the expiry index, not from reading every value.
      const [keys, expired] = [store.getAllKeys(prefixRange(prefix)), store.index('expiry').getAllKeys(IDBKeyRange.upperBound(now))];
      await requestsDone([keys, expired]);
      const gone = new Set(expired.result as string[]);
      return (keys.result as string[]).filter((key) => !gone.has(key));
    });
  }

  remove(type: TypeName, keys: readonly string[], when?: (entry: StoredEntry) => boolean): Promise<number> {
    return this.#db.transact(`removing from ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const usage = await this.#usage(tx, type);
      // Each key once: two reads of one record before its delete would subtract its bytes twice.
      const requests = [...new Set(keys)].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      let removed = 0;
      for (const request of requests) {
        const record = request.result;
        if (!record || (when && !when(fromRecord(type, record)))) continue;
        store.delete(record.key);
        forget(usage, record);
        removed++;
      }
      if (removed) this.#putUsage(tx, type, usage);
      return removed;
    });
  }

  mark(): Promise<Mark> {
    return this.log.head().then((log) => ({ log }));
  }

  async invalidate(targets: readonly InvalidationTarget[]): Promise<Counts> {
    return (await this.#invalidate(targets)).counts;
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
    const { counts, logged, epoch } = await this.#invalidate(targets, { change, relayed });
    return { record: logged ?? { ...change, seq: 0, invalidated: counts }, epoch };
  }

  async #invalidate(
    targets: readonly InvalidationTarget[],
    log?: { change: Omit<LoggedChange, 'seq' | 'invalidated'>; relayed: boolean },
  ): Promise<{ counts: Counts; logged: LoggedChange | null; epoch: string | null }> {
    const types = [...new Set(targets.map((target) => target.type))];
    const searched = [...new Set(targets.filter((target) => target.by !== 'all').map((target) => target.type))];
    // Which entries each target finds, through its index (keys only, nothing deserialised), read-only:
    // see Database.afterReading. The usage versions tell the removal whether a write came in between.
    const { found, versions } = searched.length
      ? await this.#db.transact('finding what an event invalidates', searched.map(entryStore), 'readonly', async (tx) => ({
          found: await Promise.all(targets.map((target) => (target.by === 'all' ? [] : findKeys(tx.objectStore(entryStore(target.type)), target)))),
          versions: new Map(await Promise.all(searched.map(async (type) => [type, (await this.#usage(tx, type)).version] as const))),
        }))
      : { found: targets.map((): string[] => []), versions: new Map<TypeName, number | undefined>() };
    const stores: StoreName[] = log ? [...types.map(entryStore), 'events', 'meta'] : types.map(entryStore);
    const result = await this.#db.transact('invalidating', stores, 'readwrite', async (tx) => {
      const epoch = log ? await EventLog.epoch(tx) : null;
      if (log?.relayed && log.change.id !== undefined) {
        // The whole log (a thousand records or a day at most): the tab relaying may be a new worker that did before.
        const { changes } = await EventLog.tail(tx, 0);
        const already = changes.find((logged) => logged.id === log.change.id);
        if (already) return { counts: already.invalidated, logged: () => already, epoch };
      }
      // Every read of this transaction at once (usage of each type, each entry found), then the writes.
      const usageReads = types.map((type) => tx.objectStore(entryStore(type)).get(USAGE_KEY) as IDBRequest<UsageRecord | undefined>);
      const read = (target: InvalidationTarget, keys: readonly string[]) =>
        keys.map((key) => tx.objectStore(entryStore(target.type)).get(key) as IDBRequest<EntryRecord | undefined>);
      const entryReads = targets.map((target, index) => read(target, found[index] ?? []));
      await requestsDone([...usageReads, ...entryReads.flat()]);
      const usages = new Map<TypeName, Usage>();
      for (const [index, type] of types.entries()) usages.set(type, usageOf(usageReads[index]?.result) ?? (await recount(tx, type)));
      // A type written since the lookup may hold entries it did not find: look again, here (slower, but rare).
      for (const [index, target] of targets.entries()) {
        if (target.by === 'all' || usages.get(target.type)?.version === versions.get(target.type)) continue;
        const reads = read(target, await findKeys(tx.objectStore(entryStore(target.type)), target));
        await requestsDone(reads);
        entryReads[index] = reads;
      }
      const counts: Counts = {};
      const deleted = new Set<string>();
      for (const [index, target] of targets.entries()) {
        const { type } = target;
        const store = tx.objectStore(entryStore(type));
        const usage = usages.get(type)!;
        let removed = 0;
        if (target.by === 'all') {
          removed = usage.entries;
          // Entries only: the usage record is rewritten below, and commit marks stay.
          store.delete(entryKeys());
          usage.entries = usage.bytes = 0;
        } else {
          for (const read of entryReads[index] ?? []) {
            const record = read.result;
            const id = record && JSON.stringify([type, record.key]);
            // Read again here, so the bytes are exact and an entry rewritten since it was found is spared.
            if (!record || !id || deleted.has(id) || !targetMatches(target, record)) continue;
            deleted.add(id);
            store.delete(record.key);
            forget(usage, record);
            removed++;
          }
        }
        counts[type] = (counts[type] ?? 0) + removed;
      }
      for (const [type, usage] of usages) {
        this.#putUsage(tx, type, usage);
        if (usage.entries === 0) this.#readTimes.drop(type);
      }
      // Logged in the same transaction: a change is in the log exactly when it happened.
      const record = log && { ...log.change, invalidated: counts };
      const added = record && EventLog.append(tx, record);
      return { counts, logged: () => (record && added ? { ...record, seq: added.result as number } : null), epoch };
    });
    // The log's sequence number is known once the transaction has committed.
    return { counts: result.counts, logged: result.logged(), epoch: result.epoch };
  }

  clear(types: readonly TypeName[]): Promise<void> {
    return this.#db.transact('clearing', types.map(entryStore), 'readwrite', async (tx) => {
      for (const type of types) {
        tx.objectStore(entryStore(type)).delete(entryKeys());
        this.#putUsage(tx, type, noUsage());
        this.#readTimes.drop(type);
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
  free(types: readonly TypeName[], bytes: number, expiredBy: ExpiredBy): Promise<Partial<Record<TypeName, Removed>>> {
    return this.#db.afterReading(
      'planning to free space',
      types.map(entryStore),
      async (tx) => {
        // Expired entries of every type first, then the least recently used, type by type.
        const steps: { type: TypeName; plan: Candidate[] }[] = [];
        let planned = 0;
        for (const pass of ['expired', 'evicted'] as const) {
          for (const type of types) {
            if (planned >= bytes) break;
            const usage = await this.#usage(tx, type);
            const plan = await planEvictions(tx, type, bytes - planned, usage, cutoffOf(expiredBy, type), { passes: [pass], readTimes: this.#readTimes });
            steps.push({ type, plan });
            planned += plan.length * averageBytes(usage);
          }
        }
        return steps;
      },
      'freeing space',
      types.map(entryStore),
      async (tx, steps) => {
        const removed: Partial<Record<TypeName, Removed>> = {};
        const usages = new Map<TypeName, Usage>();
        let freed = 0;
        for (const { type, plan } of steps) {
          if (freed >= bytes) break;
          const usage = usages.get(type) ?? (await this.#usage(tx, type));
          usages.set(type, usage);
          const before = usage.bytes;
          const step = await removePlanned(tx, type, usage, plan, before - (bytes - freed), cutoffOf(expiredBy, type));
          const counts = (removed[type] ??= noneRemoved());
          counts.expired += step.expired;
          counts.evicted += step.evicted;
          freed += before - usage.bytes;
        }
        for (const [type, usage] of usages) {
          tx.objectStore(entryStore(type)).delete(USAGE_KEY);
          this.#known.set(type, { ...usage });
        }
        return removed;
      },
    );
  }

  touch(type: TypeName, key: string, at: number): void {
    this.#readTimes.touch(type, key, at);
    if (this.#readTimes.pending >= MAX_PENDING_READS) void this.writeReadTimes();
    else if (!this.#readTimesDue) {
      this.#readTimesDue = true;
      this.#schedule(() => {
        this.#readTimesDue = false;
        void this.writeReadTimes();
      }, READ_TIMES_DELAY_MS);
    }
  }

  /** Writes the read times still waiting into their entries, one such write at a time; never rejects. */
  writeReadTimes(): Promise<void> {
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
    this.#db.close();
  }

  async #usage(tx: IDBTransaction, type: TypeName): Promise<Usage> {
    const usage = usageOf((await requestDone(tx.objectStore(entryStore(type)).get(USAGE_KEY))) as UsageRecord | undefined) ?? (await recount(tx, type));
    this.#known.set(type, { ...usage });
    return usage;
  }

  #putUsage(tx: IDBTransaction, type: TypeName, usage: Usage): void {
    // Random rather than counted: a type cleared, or a database recreated, cannot repeat an earlier version.
    usage.version = Math.floor(Math.random() * 2 ** 53);
    tx.objectStore(entryStore(type)).put({ ...usage, key: USAGE_KEY });
    this.#known.set(type, { ...usage });
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

/** Keys of the entries a target finds through its index. */
async function findKeys(store: IDBObjectStore, target: Exclude<InvalidationTarget, { by: 'all' }>): Promise<string[]> {
  const query = target.by === 'track' ? target.trackId : target.by === 'album' ? target.albumKey : target.fingerprint;
  return (await requestDone(store.index(target.by).getAllKeys(query))) as string[];
}
