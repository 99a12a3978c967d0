import { unwrap, wrap, type DBSchema, type IDBPDatabase } from 'idb';
import { CacheError } from '../src/CacheError';
import type { CacheEvent } from '../src/cacheEvent';
import { CONTENT_TYPES, type ContentType } from '../src/contentType';
import type { InvalidationTarget } from '../src/invalidationTargets';
import { allSettled, committed, settled, walk } from './requests';
import type { Budget, Counts, Invalidated, Removed, Store, StoredEntry, Usage } from './Store';
import { isConnectionLost, toCacheError } from './storageError';

export const DB_VERSION = 1;

/**
 * An entry as stored, in the object store of its content type (one per type: each index then has a
 * plain key, which makes every write noticeably cheaper than a [type, …] compound key would). `expiry`
 * is there only for entries that can expire, so that entries kept "forever" cost no expiry index write.
 */
type EntryRecord = Omit<StoredEntry, 'type' | 'expires'> & { expiry?: number };

/** One event in the log other tabs catch up from. */
export interface LoggedEvent {
  seq: number;
  event: CacheEvent;
  /** The tab that emitted it. */
  origin: string;
  /** Epoch milliseconds. */
  at: number;
  /** What it removed from IndexedDB. */
  invalidated: Counts;
}

/** What a tab catching up reads: the events after its last one, and how far the log has been trimmed. */
export interface LogTail {
  events: LoggedEvent[];
  /** Events up to this sequence number are gone; a tab that had not seen them cannot replay them. */
  trimmedThrough: number;
}

interface EntryStore {
  key: string;
  value: EntryRecord;
  indexes: { track: string; album: string; fingerprint: string; expiry: number; access: number };
}

export type RepriseSchema = DBSchema &
  Record<ContentType, EntryStore> & {
    /** Entries and bytes per type, changed in the same transaction as the entries, so every tab agrees. */
    usage: { key: ContentType; value: Usage };
    events: { key: number; value: LoggedEvent };
    meta: { key: 'trimmedThrough'; value: number };
  };

export interface IdbStoreOptions {
  name: string;
  indexedDB: IDBFactory;
  /** How long to wait for tabs holding an older version open before giving up on IndexedDB. */
  blockedTimeoutMs?: number;
}

/** Records per batch of requests: small enough that no batch holds a thread for long. */
const CHUNK = 1000;
/**
 * Reads are remembered, not written: their times are recorded when eviction needs them (in its own
 * transaction), or in the background once this many are waiting.
 */
const MAX_PENDING_TOUCHES = 20_000;

type StoreName = ContentType | 'usage' | 'events' | 'meta';

/** An entry eviction may remove, as planned from an index (before its record is read). */
interface Candidate {
  key: string;
  pass: keyof Removed;
}

interface PlanOptions {
  passes?: (keyof Removed)[];
  spare?: ReadonlySet<string> | undefined;
}

const none = (): Removed => ({ expired: 0, evicted: 0 });

/** The persistent store: one database per cache name, opened through the given factory. */
export class IdbStore implements Store {
  readonly kind = 'indexeddb';
  readonly #options: IdbStoreOptions;
  #db: Promise<IDBPDatabase<RepriseSchema>> | null = null;
  #touches = new Map<ContentType, Map<string, number>>();
  #pendingTouches = 0;
  #flushing = false;
  /** The size per type this tab last saw, to know when a write may need evictions planned. */
  readonly #known = new Map<ContentType, Usage>();

  private constructor(options: IdbStoreOptions) {
    this.#options = options;
  }

  /** Opens the database; rejects with `storage_unavailable` when it cannot be used. */
  static async open(options: IdbStoreOptions): Promise<IdbStore> {
    const store = new IdbStore(options);
    await store.#transact('reading usage', ['usage'], 'readonly', async (tx) => {
      const usage = tx.objectStore('usage');
      const [types, values] = [usage.getAllKeys(), usage.getAll()] as [IDBRequest<ContentType[]>, IDBRequest<Usage[]>];
      await allSettled([types, values]);
      types.result.forEach((type, index) => store.#known.set(type, values.result[index] ?? { entries: 0, bytes: 0 }));
    });
    return store;
  }

  read(type: ContentType, keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return this.#transact(`reading ${type}`, [type], 'readonly', async (tx) => {
      const store = tx.objectStore(type);
      const requests = keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await allSettled(requests);
      return requests.map((request) => request.result && fromRecord(type, request.result));
    });
  }

  async write(
    type: ContentType,
    entries: readonly StoredEntry[],
    budget: Budget | null,
    now: number,
    onProgress?: (written: number) => void,
  ): Promise<Removed> {
    const spare = new Set(entries.map((entry) => entry.key));
    const incoming = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const known = this.#known.get(type)?.bytes ?? 0;
    // Plan evictions ahead only when this write may need them (by the last size this tab saw); when
    // another tab has filled the type since, the write plans inside its own transaction instead.
    const plan =
      budget && known + incoming > budget.lowWater
        ? await this.#plan(type, (usage) => usage.bytes + incoming - budget.lowWater, now, { spare })
        : [];
    return this.#transact(`writing ${type}`, [type, 'usage'], 'readwrite', async (tx) => {
      const store = tx.objectStore(type);
      const usage = await this.#usage(tx, type);
      // In an empty type nothing is replaced, so the old entries need not be read.
      const replacing = usage.entries > 0;
      // One chunk is issued while the one before completes: the backend never runs dry, and no task
      // issues more than a chunk (structured cloning happens in put, on this thread).
      let previous: Promise<void> = Promise.resolve();
      for (let start = 0; start < entries.length; start += CHUNK) {
        const chunk = entries.slice(start, start + CHUNK);
        const requests: IDBRequest[] = [];
        for (const entry of chunk) {
          // Requests run in order: this get sees the entry the put below replaces.
          if (replacing) requests.push(store.get(entry.key));
          requests.push(store.put(toRecord(entry)));
          usage.entries++;
          usage.bytes += entry.bytes;
        }
        const written = Math.min(start + CHUNK, entries.length);
        const done = allSettled(requests).then(() => {
          if (replacing) {
            for (let i = 0; i < requests.length; i += 2) {
              const old = requests[i]?.result as EntryRecord | undefined;
              if (old) forget(usage, old);
            }
          }
          onProgress?.(written);
        });
        await previous;
        previous = done;
      }
      await previous;
      const removed = budget && usage.bytes > budget.lowWater ? await this.#shrink(tx, type, usage, budget.lowWater, now, plan, spare) : none();
      this.#putUsage(tx, type, usage);
      return removed;
    });
  }

  remove(type: ContentType, keys: readonly string[], when?: (entry: StoredEntry) => boolean): Promise<number> {
    return this.#transact(`removing from ${type}`, [type, 'usage'], 'readwrite', async (tx) => {
      const store = tx.objectStore(type);
      const usage = await this.#usage(tx, type);
      const requests = keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await allSettled(requests);
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

  async invalidate(targets: readonly InvalidationTarget[], log?: Omit<LoggedEvent, 'seq' | 'invalidated'>): Promise<Invalidated> {
    const types = [...new Set(targets.map((target) => target.type))];
    const searched = [...new Set(targets.filter((target) => target.by !== 'all').map((target) => target.type))];
    // Which entries each target finds, through its index (keys only, nothing deserialised), read-only: see #plan.
    const found = searched.length
      ? await this.#transact('finding what an event invalidates', searched, 'readonly', (tx) =>
          Promise.all(targets.map((target) => (target.by === 'all' ? [] : findKeys(tx.objectStore(target.type), target)))),
        )
      : targets.map((): string[] => []);
    const { counts, seq } = await this.#transact(
      'invalidating',
      [...types, 'usage', 'events'],
      'readwrite',
      async (tx) => {
        // Every read of this transaction at once (usage of each type, each entry found), then the writes.
        const usageReads = types.map((type) => tx.objectStore('usage').get(type) as IDBRequest<Usage | undefined>);
        const entryReads = targets.map((target, index) =>
          (found[index] ?? []).map((key) => tx.objectStore(target.type).get(key) as IDBRequest<EntryRecord | undefined>),
        );
        await allSettled([...usageReads, ...entryReads.flat()]);
        const usages = new Map(types.map((type, index) => [type, usageReads[index]?.result ?? { entries: 0, bytes: 0 }]));
        const counts: Counts = {};
        const deleted = new Set<string>();
        for (const [index, target] of targets.entries()) {
          const { type } = target;
          const store = tx.objectStore(type);
          const usage = usages.get(type)!;
          let removed = 0;
          if (target.by === 'all') {
            removed = usage.entries;
            store.clear();
            usage.entries = usage.bytes = 0;
          } else {
            for (const read of entryReads[index] ?? []) {
              const record = read.result;
              const id = record && JSON.stringify([type, record.key]);
              // Read again here, so the bytes are exact and an entry rewritten since it was found is spared.
              if (!record || !id || deleted.has(id) || !matches(record, target)) continue;
              deleted.add(id);
              store.delete(record.key);
              forget(usage, record);
              removed++;
            }
          }
          counts[type] = (counts[type] ?? 0) + removed;
        }
        for (const [type, usage] of usages) this.#putUsage(tx, type, usage);
        // Logged in the same transaction: an event is in the log exactly when its invalidation happened.
        const added = log ? (tx.objectStore('events').add({ ...log, invalidated: counts }) as IDBRequest<number>) : null;
        return { counts, seq: () => added?.result ?? null };
      },
    );
    // The log's sequence number is known once the transaction has committed.
    return { counts, seq: seq() };
  }

  clear(types: readonly ContentType[]): Promise<void> {
    return this.#transact('clearing', [...types, 'usage'], 'readwrite', async (tx) => {
      for (const type of types) {
        tx.objectStore(type).clear();
        this.#putUsage(tx, type, { entries: 0, bytes: 0 });
        this.#dropTouches(type);
      }
    });
  }

  cleanup(budgets: ReadonlyMap<ContentType, Budget | null>, now: number): Promise<Partial<Record<ContentType, Removed>>> {
    const types = [...budgets.keys()];
    return this.#afterReading(
      'planning a cleanup',
      [...types, 'usage'],
      (tx) =>
        Promise.all(
          types.map(async (type) => {
            const usage = await this.#usage(tx, type);
            const expired = await this.#planIn(tx, type, Infinity, usage, now, { passes: ['expired'] });
            const budget = budgets.get(type);
            const left = usage.bytes - expired.length * average(usage);
            const spare = new Set(expired.map((candidate) => candidate.key));
            const evict = budget ? await this.#planIn(tx, type, left - budget.lowWater, usage, now, { passes: ['evicted'], spare }) : [];
            return { expired, evict };
          }),
        ),
      'cleaning up',
      [...types, 'usage'],
      async (tx, plans) => {
        const result: Partial<Record<ContentType, Removed>> = {};
        for (const [index, type] of types.entries()) {
          const usage = await this.#usage(tx, type);
          const budget = budgets.get(type);
          const { expired } = await this.#remove(tx, type, usage, plans[index]?.expired ?? [], -Infinity, now);
          const { evicted } = budget && usage.bytes > budget.lowWater ? await this.#shrink(tx, type, usage, budget.lowWater, now, plans[index]?.evict ?? []) : none();
          if (expired || evicted) this.#putUsage(tx, type, usage);
          result[type] = { expired, evicted };
        }
        return result;
      },
    );
  }

  free(types: readonly ContentType[], bytes: number, now: number): Promise<Partial<Record<ContentType, Removed>>> {
    return this.#afterReading(
      'planning to free space',
      [...types, 'usage'],
      async (tx) => {
        // Expired entries of every type first, then the least recently used, type by type.
        const steps: { type: ContentType; plan: Candidate[] }[] = [];
        let planned = 0;
        for (const pass of ['expired', 'evicted'] as const) {
          for (const type of types) {
            if (planned >= bytes) break;
            const usage = await this.#usage(tx, type);
            const plan = await this.#planIn(tx, type, bytes - planned, usage, now, { passes: [pass] });
            steps.push({ type, plan });
            planned += plan.length * average(usage);
          }
        }
        return steps;
      },
      'freeing space',
      [...types, 'usage'],
      async (tx, steps) => {
        const removed: Partial<Record<ContentType, Removed>> = {};
        const usages = new Map<ContentType, Usage>();
        let freed = 0;
        for (const { type, plan } of steps) {
          if (freed >= bytes) break;
          const usage = usages.get(type) ?? (await this.#usage(tx, type));
          usages.set(type, usage);
          const before = usage.bytes;
          const step = await this.#remove(tx, type, usage, plan, before - (bytes - freed), now);
          const counts = (removed[type] ??= none());
          counts.expired += step.expired;
          counts.evicted += step.evicted;
          freed += before - usage.bytes;
        }
        for (const [type, usage] of usages) this.#putUsage(tx, type, usage);
        return removed;
      },
    );
  }

  touch(type: ContentType, key: string, at: number): void {
    let touched = this.#touches.get(type);
    if (!touched) this.#touches.set(type, (touched = new Map()));
    if (!touched.has(key)) this.#pendingTouches++;
    touched.set(key, at);
    if (this.#pendingTouches >= MAX_PENDING_TOUCHES && !this.#flushing) {
      this.#flushing = true;
      const types = [...this.#touches.keys()];
      this.#transact('recording reads', types, 'readwrite', async (tx) => {
        for (const type of types) await this.#flushTouches(tx, type);
      })
        .catch(() => {
          // Losing access times only makes eviction less precise.
        })
        .finally(() => {
          this.#flushing = false;
        });
    }
  }

  usage(types: readonly ContentType[]): Promise<Usage[]> {
    return this.#transact('reading usage', ['usage'], 'readonly', async (tx) => {
      const store = tx.objectStore('usage');
      const requests = types.map((type) => store.get(type) as IDBRequest<Usage | undefined>);
      await allSettled(requests);
      return requests.map((request) => request.result ?? { entries: 0, bytes: 0 });
    });
  }

  /** Events logged after `seq`, oldest first, and how far the log has been trimmed. */
  eventsAfter(seq: number): Promise<LogTail> {
    return this.#transact('reading the event log', ['events', 'meta'], 'readonly', async (tx) => {
      const events = tx.objectStore('events').getAll(IDBKeyRange.lowerBound(seq, true)) as IDBRequest<LoggedEvent[]>;
      const trimmed = tx.objectStore('meta').get('trimmedThrough') as IDBRequest<number | undefined>;
      await allSettled([events, trimmed]);
      return { events: events.result, trimmedThrough: trimmed.result ?? 0 };
    });
  }

  /** The newest logged event's sequence number, 0 for an empty log. */
  lastEventSeq(): Promise<number> {
    return this.#transact('reading the event log', ['events'], 'readonly', async (tx) => {
      const cursor = await settled(tx.objectStore('events').openKeyCursor(null, 'prev'));
      return typeof cursor?.key === 'number' ? cursor.key : 0;
    });
  }

  /** Deletes events logged before `before` (epoch ms), but never the newest `keep`; returns how many. */
  trimEvents(before: number, keep: number): Promise<number> {
    return this.#transact('trimming the event log', ['events', 'meta'], 'readwrite', async (tx) => {
      const store = tx.objectStore('events');
      // Walk from the newest back: past the `keep` newest, the first event older than `before` marks the cut.
      let seen = 0;
      let cut = 0;
      await walk(store.openCursor(null, 'prev'), (cursor) => {
        const event = cursor.value as LoggedEvent;
        if (++seen > keep && event.at < before) {
          cut = event.seq;
          return false;
        }
        return true;
      });
      if (!cut) return 0;
      const count = await settled(store.count(IDBKeyRange.upperBound(cut)));
      store.delete(IDBKeyRange.upperBound(cut));
      const meta = tx.objectStore('meta');
      const previous = ((await settled(meta.get('trimmedThrough'))) as number | undefined) ?? 0;
      meta.put(Math.max(previous, cut), 'trimmedThrough');
      return count;
    });
  }

  close(): void {
    const db = this.#db;
    this.#db = null;
    void db?.then((connection) => connection.close()).catch(() => {});
  }

  /**
   * Plans which entries of `type` to remove to free `need(usage)` bytes: expired ones through the expiry
   * index, then the least recently used through the access index (key cursors: no value is read),
   * leaving out `spare` and entries read since the last write-back. Sizes are estimated from the
   * type's average; the removal reads each record and keeps the bytes exact. In a read-only transaction
   * of its own: in Chromium, every delete of a read-write transaction that has read an index is several
   * times slower.
   */
  #plan(type: ContentType, need: (usage: Usage) => number, now: number, options: PlanOptions = {}): Promise<Candidate[]> {
    return this.#transact(`planning evictions in ${type}`, [type, 'usage'], 'readonly', async (tx) => {
      const usage = await this.#usage(tx, type);
      return this.#planIn(tx, type, need(usage), usage, now, options);
    });
  }

  async #planIn(
    tx: IDBTransaction,
    type: ContentType,
    need: number,
    usage: Usage,
    now: number,
    { passes = ['expired', 'evicted'], spare }: PlanOptions,
  ): Promise<Candidate[]> {
    const plan: Candidate[] = [];
    if (need <= 0) return plan;
    // A quarter more than the average suggests, since sizes vary; a short plan is completed later.
    const wanted = Number.isFinite(need) ? Math.ceil((1.25 * need) / average(usage)) + 1 : Infinity;
    const touched = this.#touches.get(type);
    const planned = new Set<string>();
    for (const pass of passes) {
      if (plan.length >= wanted) break;
      const index = tx.objectStore(type).index(pass === 'expired' ? 'expiry' : 'access');
      await walk(index.openKeyCursor(pass === 'expired' ? IDBKeyRange.upperBound(now) : null), (cursor) => {
        const key = cursor.primaryKey as string;
        if (!spare?.has(key) && !planned.has(key) && !(pass === 'evicted' && touched?.has(key))) {
          plan.push({ key, pass });
          planned.add(key);
        }
        return plan.length < wanted;
      });
    }
    return plan;
  }

  /**
   * Removes planned entries, in order, while the type holds more than `target` bytes; an expired one only
   * if it still is. Each is read first, so the bytes stay exact if another tab rewrote it meanwhile.
   */
  async #remove(
    tx: IDBTransaction,
    type: ContentType,
    usage: Usage,
    plan: readonly Candidate[],
    target: number,
    now: number,
    spare?: ReadonlySet<string>,
  ): Promise<Removed> {
    const removed = none();
    if (!plan.length || usage.bytes <= target) return removed;
    const store = tx.objectStore(type);
    const reads = plan.map(({ key }) => store.get(key) as IDBRequest<EntryRecord | undefined>);
    await allSettled(reads);
    for (const [index, { pass }] of plan.entries()) {
      if (usage.bytes <= target) break;
      const record = reads[index]?.result;
      if (!record || spare?.has(record.key)) continue;
      const expired = record.expiry !== undefined && record.expiry <= now;
      if (pass === 'expired' && !expired) continue;
      store.delete(record.key);
      forget(usage, record);
      removed[expired ? 'expired' : 'evicted']++;
    }
    return removed;
  }

  /**
   * Brings `type` down to `target` bytes: the planned removals first; if they fall short (another tab
   * wrote since the plan, or sizes were above average), it plans again inside this transaction —
   * slower, but exact. Reads not yet written back are recorded first, so recently read entries are spared.
   */
  async #shrink(
    tx: IDBTransaction,
    type: ContentType,
    usage: Usage,
    target: number,
    now: number,
    plan: readonly Candidate[],
    spare?: ReadonlySet<string>,
  ): Promise<Removed> {
    await this.#flushTouches(tx, type);
    const removed = await this.#remove(tx, type, usage, plan, target, now, spare);
    while (usage.bytes > target) {
      const tried = new Set([...(spare ?? []), ...plan.map((candidate) => candidate.key)]);
      const again = await this.#planIn(tx, type, usage.bytes - target, usage, now, { spare: tried });
      if (!again.length) break;
      const more = await this.#remove(tx, type, usage, again, target, now, spare);
      removed.expired += more.expired;
      removed.evicted += more.evicted;
      plan = [...plan, ...again];
    }
    return removed;
  }

  async #flushTouches(tx: IDBTransaction, type: ContentType): Promise<void> {
    const touched = this.#dropTouches(type);
    if (!touched?.size) return;
    const store = tx.objectStore(type);
    const reads = [...touched.keys()].map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
    await allSettled(reads);
    for (const read of reads) {
      const entry = read.result;
      const at = entry && touched.get(entry.key);
      if (entry && at !== undefined && at > entry.lastAccess) store.put({ ...entry, lastAccess: at });
    }
  }

  #dropTouches(type: ContentType): Map<string, number> | undefined {
    const touched = this.#touches.get(type);
    this.#touches.delete(type);
    this.#pendingTouches -= touched?.size ?? 0;
    return touched;
  }

  async #usage(tx: IDBTransaction, type: ContentType): Promise<Usage> {
    const usage = ((await settled(tx.objectStore('usage').get(type))) as Usage | undefined) ?? { entries: 0, bytes: 0 };
    this.#known.set(type, { ...usage });
    return usage;
  }

  #putUsage(tx: IDBTransaction, type: ContentType, usage: Usage): void {
    tx.objectStore('usage').put(usage, type);
    this.#known.set(type, { ...usage });
  }

  /** Reads in a read-only transaction, then writes in a read-write one (see #plan for why not in one). */
  async #afterReading<R, T>(
    reading: string,
    readStores: StoreName[],
    read: (tx: IDBTransaction) => Promise<R>,
    writing: string,
    writeStores: StoreName[],
    write: (tx: IDBTransaction, found: R) => Promise<T>,
  ): Promise<T> {
    const found = await this.#transact(reading, readStores, 'readonly', read);
    return this.#transact(writing, writeStores, 'readwrite', (tx) => write(tx, found));
  }

  /**
   * Runs `body` in one transaction on a live connection and resolves once it has committed. Whatever
   * throws aborts the transaction, so nothing of it is written; a lost connection is reopened and the
   * whole transaction retried once.
   */
  async #transact<T>(
    doing: string,
    stores: StoreName[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const connection = this.#connection();
      let tx: IDBTransaction | undefined;
      try {
        tx = unwrap(await connection).transaction(stores, mode, { durability: 'relaxed' });
        // What a read returns is settled once its requests succeed; waiting for `complete` only adds latency.
        const done = mode === 'readwrite' ? committed(tx) : undefined;
        const result = await body(tx);
        await done;
        return result;
      } catch (error) {
        try {
          tx?.abort();
        } catch {
          // Already committed or aborted.
        }
        if (attempt === 0 && isConnectionLost(error)) {
          if (this.#db === connection) this.#db = null;
          continue;
        }
        throw toCacheError(error, doing);
      }
    }
  }

  #connection(): Promise<IDBPDatabase<RepriseSchema>> {
    if (this.#db) return this.#db;
    const opening = openDatabase(this.#options).then((db) => {
      const drop = () => {
        if (this.#db === opening) this.#db = null;
      };
      // Another tab wants a newer version (or to delete the database): let it, and reopen on the next call.
      db.addEventListener('versionchange', () => {
        db.close();
        drop();
      });
      // The browser closed the connection (storage cleared, backend failure).
      db.addEventListener('close', drop);
      return db;
    });
    this.#db = opening;
    opening.catch(() => {
      if (this.#db === opening) this.#db = null;
    });
    return opening;
  }
}

function openDatabase({ name, indexedDB, blockedTimeoutMs = 3000 }: IdbStoreOptions): Promise<IDBPDatabase<RepriseSchema>> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      // idb's openDB reads the global indexedDB; open through the injected factory and wrap the request.
      request = indexedDB.open(name, DB_VERSION);
    } catch (error) {
      reject(unavailable(name, error));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let gaveUp = false;
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
    request.onblocked = () => {
      timer ??= setTimeout(() => {
        gaveUp = true;
        reject(unavailable(name, new Error('blocked by another tab holding an older version open')));
      }, blockedTimeoutMs);
    };
    (wrap(request) as Promise<IDBPDatabase<RepriseSchema>>).then(
      (db) => {
        clearTimeout(timer);
        if (gaveUp) db.close();
        else resolve(db);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(unavailable(name, error));
      },
    );
  });
}

const openFailures = new WeakSet<Error>();

/** Whether the error means the database cannot be opened at all (rather than one operation failing). */
export function isOpenFailure(error: unknown): boolean {
  return error instanceof Error && openFailures.has(error);
}

function unavailable(name: string, error: unknown): CacheError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const failure = new CacheError('storage_unavailable', `IndexedDB "${name}" cannot be opened (${reason})`, { cause: error });
  openFailures.add(failure);
  return failure;
}

function upgrade(db: IDBDatabase, oldVersion: number): void {
  if (oldVersion < 1) {
    for (const type of CONTENT_TYPES) {
      const entries = db.createObjectStore(type, { keyPath: 'key' });
      entries.createIndex('track', 'trackIds', { multiEntry: true });
      entries.createIndex('album', 'albumKey');
      entries.createIndex('fingerprint', 'fingerprint');
      entries.createIndex('expiry', 'expiry');
      entries.createIndex('access', 'lastAccess');
    }
    db.createObjectStore('usage');
    db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('meta');
  }
}

function toRecord({ type: _type, expires, ...entry }: StoredEntry): EntryRecord {
  const record: EntryRecord = entry;
  if (!record.trackIds?.length) delete record.trackIds;
  if (expires) record.expiry = entry.expiresAt;
  return record;
}

function fromRecord(type: ContentType, { expiry, ...record }: EntryRecord): StoredEntry {
  return { ...record, type, expires: expiry !== undefined };
}

function forget(usage: Usage, entry: { bytes: number }): void {
  usage.entries--;
  usage.bytes -= entry.bytes;
}

/** The average entry size of a type, to estimate how many entries free a number of bytes. */
function average(usage: Usage): number {
  return usage.entries > 0 ? Math.max(1, usage.bytes / usage.entries) : 1;
}

/** Keys of the entries a target finds through its index. */
async function findKeys(store: IDBObjectStore, target: Exclude<InvalidationTarget, { by: 'all' }>): Promise<string[]> {
  const query = target.by === 'track' ? target.trackId : target.by === 'album' ? target.albumKey : target.fingerprint;
  return (await settled(store.index(target.by).getAllKeys(query))) as string[];
}

/** Whether a stored entry is still one the target removes (the fingerprint target narrowed to its track). */
function matches(record: EntryRecord, target: Exclude<InvalidationTarget, { by: 'all' }>): boolean {
  switch (target.by) {
    case 'track':
      return record.trackIds?.includes(target.trackId) ?? false;
    case 'album':
      return record.albumKey === target.albumKey;
    case 'fingerprint':
      return record.fingerprint === target.fingerprint && (target.trackId === undefined || (record.trackIds?.includes(target.trackId) ?? false));
  }
}
