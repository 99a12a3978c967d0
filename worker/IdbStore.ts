import { unwrap, wrap, type DBSchema, type IDBPDatabase } from 'idb';
import { CacheError } from '../src/CacheError';
import type { CacheEvent } from '../src/cacheEvent';
import type { ContentType } from '../src/contentType';
import type { InvalidationTarget } from '../src/invalidationTargets';
import { allSettled, committed, settled, walk } from './requests';
import type { Budget, Counts, Invalidated, Removed, Store, StoredEntry, Usage } from './Store';
import { isConnectionLost, toCacheError } from './storageError';

export const DB_VERSION = 1;

type TypedKey<T> = [ContentType, T];

/**
 * An entry as stored. `trackKeys` (instead of `trackIds`) feeds the multi-entry index that finds a
 * track's entries per type; `expiry` is there only for entries that can expire, so that entries kept
 * "forever" cost no expiry index write.
 */
type EntryRecord = Omit<StoredEntry, 'trackIds' | 'expires'> & { trackKeys?: TypedKey<string>[]; expiry?: number };

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

export interface RepriseSchema extends DBSchema {
  entries: {
    key: TypedKey<string>;
    value: EntryRecord;
    indexes: {
      track: TypedKey<string>;
      album: TypedKey<string>;
      fingerprint: TypedKey<string>;
      expiry: TypedKey<number>;
      access: TypedKey<number>;
    };
  };
  /** Entries and bytes per type, changed in the same transaction as the entries, so every tab agrees. */
  usage: { key: ContentType; value: Usage };
  events: { key: number; value: LoggedEvent };
  meta: { key: 'trimmedThrough'; value: number };
}

export interface IdbStoreOptions {
  name: string;
  indexedDB: IDBFactory;
  /** How long to wait for tabs holding an older version open before giving up on IndexedDB. */
  blockedTimeoutMs?: number;
  /** Another tab upgraded or deleted the database, so this connection closed; the next call reopens. */
  onVersionChange?: () => void;
}

/** Records per batch of requests: small enough that no batch holds a thread for long. */
const CHUNK = 1000;
/**
 * Reads are remembered, not written: their times are recorded when eviction needs them (in its own
 * transaction), or in the background once this many are waiting.
 */
const MAX_PENDING_TOUCHES = 20_000;

/** Every key of one type, in the store and in every index: arrays sort after numbers and strings. */
const typeRange = (type: ContentType) => IDBKeyRange.bound([type], [type, []]);
const expiredRange = (type: ContentType, now: number) => IDBKeyRange.bound([type], [type, now, Infinity]);

/** The persistent store: one database per cache name, opened through the given factory. */
export class IdbStore implements Store {
  readonly kind = 'indexeddb';
  readonly #options: IdbStoreOptions;
  #db: Promise<IDBPDatabase<RepriseSchema>> | null = null;
  #touches = new Map<ContentType, Map<string, number>>();
  #pendingTouches = 0;
  #flushing = false;

  private constructor(options: IdbStoreOptions) {
    this.#options = options;
  }

  /** Opens the database; rejects with `storage_unavailable` when it cannot be used. */
  static async open(options: IdbStoreOptions): Promise<IdbStore> {
    const store = new IdbStore(options);
    await store.#connection();
    return store;
  }

  read(type: ContentType, keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return this.#transact(`reading ${type}`, ['entries'], 'readonly', async (tx) => {
      const store = tx.objectStore('entries');
      const requests = keys.map((key) => store.get([type, key]) as IDBRequest<EntryRecord | undefined>);
      await allSettled(requests);
      return requests.map((request) => request.result && fromRecord(request.result));
    });
  }

  write(
    type: ContentType,
    entries: readonly StoredEntry[],
    budget: Budget | null,
    now: number,
    onProgress?: (written: number) => void,
  ): Promise<Removed> {
    return this.#transact(`writing ${type}`, ['entries', 'usage'], 'readwrite', async (tx) => {
      const store = tx.objectStore('entries');
      const usage = await this.#usage(tx, type);
      // In an empty type nothing is replaced, so the old entries need not be read.
      const replacing = usage.entries > 0;
      for (let start = 0; start < entries.length; start += CHUNK) {
        const chunk = entries.slice(start, start + CHUNK);
        const requests: IDBRequest[] = [];
        for (const entry of chunk) {
          // Requests run in order: this get sees the entry the put below replaces.
          if (replacing) requests.push(store.get([type, entry.key]));
          requests.push(store.put(toRecord(entry)));
          usage.entries++;
          usage.bytes += entry.bytes;
        }
        await allSettled(requests);
        if (replacing) {
          for (let i = 0; i < requests.length; i += 2) {
            const old = requests[i]?.result as EntryRecord | undefined;
            if (old) {
              usage.entries--;
              usage.bytes -= old.bytes;
            }
          }
        }
        onProgress?.(Math.min(start + CHUNK, entries.length));
      }
      let removed: Removed = { expired: 0, evicted: 0 };
      if (budget && usage.bytes > budget.lowWater) {
        removed = await this.#shrink(tx, type, usage, budget.lowWater, now, new Set(entries.map((entry) => entry.key)));
      }
      tx.objectStore('usage').put(usage, type);
      return removed;
    });
  }

  remove(type: ContentType, keys: readonly string[], when?: (entry: StoredEntry) => boolean): Promise<number> {
    return this.#transact(`removing from ${type}`, ['entries', 'usage'], 'readwrite', async (tx) => {
      const store = tx.objectStore('entries');
      const usage = await this.#usage(tx, type);
      const requests = keys.map((key) => store.get([type, key]) as IDBRequest<EntryRecord | undefined>);
      await allSettled(requests);
      let removed = 0;
      for (const request of requests) {
        const entry = request.result;
        if (!entry || (when && !when(fromRecord(entry)))) continue;
        store.delete([type, entry.key]);
        forget(usage, entry);
        removed++;
      }
      if (removed) tx.objectStore('usage').put(usage, type);
      return removed;
    });
  }

  invalidate(targets: readonly InvalidationTarget[], log?: Omit<LoggedEvent, 'seq' | 'invalidated'>): Promise<Invalidated> {
    return this.#transact('invalidating', ['entries', 'usage', 'events'], 'readwrite', async (tx) => {
      const store = tx.objectStore('entries');
      const counts: Counts = {};
      const usages = new Map<ContentType, Usage>();
      const deleted = new Set<string>();
      for (const target of targets) {
        const { type } = target;
        const usage = usages.get(type) ?? (await this.#usage(tx, type));
        usages.set(type, usage);
        let removed = 0;
        if (target.by === 'all') {
          removed = usage.entries;
          store.delete(typeRange(type));
          usage.entries = usage.bytes = 0;
        } else {
          for (const entry of await find(store, target)) {
            const id = JSON.stringify([type, entry.key]);
            if (deleted.has(id)) continue;
            deleted.add(id);
            store.delete([type, entry.key]);
            forget(usage, entry);
            removed++;
          }
        }
        counts[type] = (counts[type] ?? 0) + removed;
      }
      for (const [type, usage] of usages) tx.objectStore('usage').put(usage, type);
      // Logged in the same transaction: an event is in the log exactly when its invalidation happened.
      const seq = log ? ((await settled(tx.objectStore('events').add({ ...log, invalidated: counts }))) as number) : null;
      return { counts, seq };
    });
  }

  clear(types: readonly ContentType[]): Promise<void> {
    return this.#transact('clearing', ['entries', 'usage'], 'readwrite', async (tx) => {
      for (const type of types) {
        tx.objectStore('entries').delete(typeRange(type));
        tx.objectStore('usage').put({ entries: 0, bytes: 0 }, type);
        this.#dropTouches(type);
      }
    });
  }

  cleanup(budgets: ReadonlyMap<ContentType, Budget | null>, now: number): Promise<Partial<Record<ContentType, Removed>>> {
    return this.#transact('cleaning up', ['entries', 'usage'], 'readwrite', async (tx) => {
      const result: Partial<Record<ContentType, Removed>> = {};
      for (const [type, budget] of budgets) {
        const usage = await this.#usage(tx, type);
        const { expired } = await this.#shrink(tx, type, usage, 0, now, undefined, 'expired');
        const { evicted } =
          budget && usage.bytes > budget.lowWater
            ? await this.#shrink(tx, type, usage, budget.lowWater, now, undefined, 'evicted')
            : { evicted: 0 };
        if (expired || evicted) tx.objectStore('usage').put(usage, type);
        result[type] = { expired, evicted };
      }
      return result;
    });
  }

  free(types: readonly ContentType[], bytes: number, now: number): Promise<Partial<Record<ContentType, Removed>>> {
    return this.#transact('freeing space', ['entries', 'usage'], 'readwrite', async (tx) => {
      const removed: Partial<Record<ContentType, Removed>> = {};
      const usages = new Map<ContentType, Usage>();
      let freed = 0;
      for (const pass of ['expired', 'evicted'] as const) {
        for (const type of types) {
          if (freed >= bytes) break;
          const usage = usages.get(type) ?? (await this.#usage(tx, type));
          usages.set(type, usage);
          const before = usage.bytes;
          const counts = (removed[type] ??= { expired: 0, evicted: 0 });
          counts[pass] += (await this.#shrink(tx, type, usage, before - (bytes - freed), now, undefined, pass))[pass];
          freed += before - usage.bytes;
        }
      }
      for (const [type, usage] of usages) tx.objectStore('usage').put(usage, type);
      return removed;
    });
  }

  touch(type: ContentType, key: string, at: number): void {
    let touched = this.#touches.get(type);
    if (!touched) this.#touches.set(type, (touched = new Map()));
    if (!touched.has(key)) this.#pendingTouches++;
    touched.set(key, at);
    // Reads stay read-only transactions; their times are written back in batches.
    if (this.#pendingTouches >= MAX_PENDING_TOUCHES && !this.#flushing) {
      this.#flushing = true;
      this.#transact('recording reads', ['entries'], 'readwrite', async (tx) => {
        for (const type of [...this.#touches.keys()]) await this.#flushTouches(tx, type);
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
   * Deletes entries of `type` until it holds at most `target` bytes: expired first (through the expiry
   * index), then least recently used (through the access index), never those in `spare`. Reads not yet
   * written back are recorded first, so recently read entries are spared.
   */
  async #shrink(
    tx: IDBTransaction,
    type: ContentType,
    usage: Usage,
    target: number,
    now: number,
    spare?: ReadonlySet<string>,
    only?: keyof Removed,
  ): Promise<Removed> {
    const removed = { expired: 0, evicted: 0 };
    const store = tx.objectStore('entries');
    for (const pass of only ? [only] : (['expired', 'evicted'] as const)) {
      if (usage.bytes <= target) break;
      if (pass === 'evicted') await this.#flushTouches(tx, type);
      const index = store.index(pass === 'expired' ? 'expiry' : 'access');
      const range = pass === 'expired' ? expiredRange(type, now) : typeRange(type);
      await walk(index.openKeyCursor(range), (cursor) => {
        const [, , bytes] = cursor.key as [ContentType, number, number];
        const primaryKey = cursor.primaryKey as TypedKey<string>;
        if (!spare?.has(primaryKey[1])) {
          store.delete(primaryKey);
          usage.entries--;
          usage.bytes -= bytes;
          removed[pass]++;
        }
        return usage.bytes > target;
      });
    }
    return removed;
  }

  async #flushTouches(tx: IDBTransaction, type: ContentType): Promise<void> {
    const touched = this.#dropTouches(type);
    if (!touched?.size) return;
    const store = tx.objectStore('entries');
    const reads = [...touched.keys()].map((key) => store.get([type, key]) as IDBRequest<EntryRecord | undefined>);
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
    return ((await settled(tx.objectStore('usage').get(type))) as Usage | undefined) ?? { entries: 0, bytes: 0 };
  }

  /**
   * Runs `body` in one transaction on a live connection and resolves once it has committed. Whatever
   * throws aborts the transaction, so nothing of it is written; a lost connection is reopened and the
   * whole transaction retried once.
   */
  async #transact<T>(
    doing: string,
    stores: ('entries' | 'usage' | 'events' | 'meta')[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const connection = this.#connection();
      let tx: IDBTransaction | undefined;
      try {
        tx = unwrap(await connection).transaction(stores, mode, { durability: 'relaxed' });
        const done = committed(tx);
        const result = await body(tx);
        // What a read returns is settled once its requests succeed; waiting for `complete` only adds latency.
        if (mode === 'readwrite') await done;
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
        this.#options.onVersionChange?.();
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
    const entries = db.createObjectStore('entries', { keyPath: ['type', 'key'] });
    entries.createIndex('track', 'trackKeys', { multiEntry: true });
    entries.createIndex('album', ['type', 'albumKey']);
    entries.createIndex('fingerprint', ['type', 'fingerprint']);
    entries.createIndex('expiry', ['type', 'expiry', 'bytes']);
    entries.createIndex('access', ['type', 'lastAccess', 'bytes']);
    db.createObjectStore('usage');
    db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('meta');
  }
}

function toRecord({ trackIds, expires, ...entry }: StoredEntry): EntryRecord {
  const record: EntryRecord = entry;
  if (trackIds?.length) record.trackKeys = trackIds.map((trackId): TypedKey<string> => [entry.type, trackId]);
  if (expires) record.expiry = entry.expiresAt;
  return record;
}

function fromRecord({ trackKeys, expiry, ...record }: EntryRecord): StoredEntry {
  const entry: StoredEntry = { ...record, expires: expiry !== undefined };
  if (trackKeys) entry.trackIds = trackKeys.map(([, trackId]) => trackId);
  return entry;
}

function forget(usage: Usage, entry: { bytes: number }): void {
  usage.entries--;
  usage.bytes -= entry.bytes;
}

async function find(store: IDBObjectStore, target: Exclude<InvalidationTarget, { by: 'all' }>): Promise<EntryRecord[]> {
  const { type } = target;
  switch (target.by) {
    case 'track':
      return (await settled(store.index('track').getAll([type, target.trackId]))) as EntryRecord[];
    case 'album':
      return (await settled(store.index('album').getAll([type, target.albumKey]))) as EntryRecord[];
    case 'fingerprint': {
      const found = (await settled(store.index('fingerprint').getAll([type, target.fingerprint]))) as EntryRecord[];
      const { trackId } = target;
      return trackId === undefined ? found : found.filter((entry) => entry.trackKeys?.some(([, id]) => id === trackId));
    }
  }
}
