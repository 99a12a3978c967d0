import { isBuiltInType, type TypeName } from './contentType';
import type { Found } from './protocol';
import type { Tags } from './invalidationTarget';
import { BatchStates, type BatchId } from '../worker/batchStates';
import type { EntryRecord } from '../worker/databaseSchema';
import { requestsDone } from '../worker/idbRequests';
import { isExpiredRecord } from '../worker/isExpired';
import { accessClock } from '../worker/accessClock';
import { recordReadsNow } from '../worker/recordReads';
import { entryStore, LAYOUT, layoutOf } from '../worker/layout';
import { unref } from './unref';
import { epochNow } from './time';

export interface DirectReadsOptions {
  /** The database the worker keeps (the cache's name). */
  name: string;
  indexedDB: IDBFactory;
  /** The cache's content types, each with whether it is persistent (see typesOf). */
  types: ReadonlyMap<TypeName, boolean>;
  /** Milliseconds since the epoch, as the worker's clock. */
  now?: () => number;
}

/**
 * The most keys one read here takes: its requests are made, and its values copied in, in one task of the
 * page (Chromium: tens of microseconds each), so a bigger read is the worker's, whose answer comes in parts.
 */
export const DIRECT_READ_MAX = 1000;

/** After an open that found no usable database, how long before the next read tries again. */
const RETRY_OPEN_MS = 1000;

/**
 * How long reads wait for the connection to open (in all, from the open's start) before leaving the
 * read to the engine: an open queues behind another tab's upgrade, which a connection that ignores
 * versionchange may block for good, and nothing tells this one. The open goes on; once it succeeds,
 * reads are the page's again.
 */
const OPEN_WAIT_MS = 1000;

/**
 * Reads of persistent entries straight from the page, through a connection of its own, as idb-keyval
 * reads: one read-only transaction and no round trip to the worker. Only plain answers are given here —
 * entries that are there, live, with the fingerprint asked for, and written by no import still pending
 * (hits), and keys with no record at all (misses). A batch with anything else (an expired or mismatched
 * entry, a pending import's record, one a change of the page on its way may alter) is left to the
 * engine, which counts it and acts on it. When to read here at all is the caller's to decide
 * (RemoteEngine: while its worker keeps the types in IndexedDB).
 *
 * The page never creates, upgrades or holds up the database: it opens the one the worker made, at its
 * current version, closes it for another tab's upgrade or a deletion, and reads nothing while it is not
 * there, has a layout this code does not know, or lacks a store its worker is about to add. Its one write: the read times of entries it has just
 * read (`record`), into those entries, so that other tabs' evictions spare them at once.
 */
export class DirectReads {
  readonly #options: DirectReadsOptions;
  readonly #now: () => number;
  /** Read times (see accessClock): reads in one millisecond still say which came last. */
  readonly #usedAt: () => number;
  #db: Promise<IDBDatabase | null> | null = null;
  /** The connection, once open. */
  #open: IDBDatabase | null = null;
  #failedAt = -Infinity;
  /** When the open under way started (performance time: the injected clock may stand still). */
  #openingSince = 0;
  readonly #batches = new BatchStates();
  #closed = false;
  /** The `epoch:` store (see databaseSchema's upgrade) naming the database the page last opened (undefined: none yet, or one Reprise 0.1 made). */
  #epoch: string | undefined;
  /**
   * The page opened another database than it last read (deleted and made again since: site data cleared): its next
   * read is the worker's, whose open finds and tells the loss (a clear) before it answers — a worker that makes no
   * call meanwhile, or had no connection to hear the deletion (or was closed by the browser, no versionchange), would not know of it.
   */
  #moved = false;

  constructor(options: DirectReadsOptions) {
    this.#options = options;
    this.#now = options.now ?? epochNow;
    this.#usedAt = accessClock(this.#now);
  }

  /** The epochs of the databases the page opened (the names of their `epoch:` stores), each once, in order: a database deleted and made again is another. */
  readonly epochs = new Set<string>();

  /** Whether entries of this type are in IndexedDB at all. */
  reads(type: TypeName): boolean {
    return this.#options.types.get(type) === true && !this.#closed;
  }

  /**
   * The keys' entries (undefined: no record) when every one is a plain hit or miss, read in one
   * transaction; null when the engine must answer (a key that is neither, one a change on its way
   * `alters`, no usable database, a transaction that failed) — all of them, so that an answer is one
   * snapshot (a second read for the rest could see a write landing between the two). Null too for more
   * than DIRECT_READ_MAX keys.
   */
  async read(
    type: TypeName,
    keys: readonly string[],
    fingerprints?: readonly (string | undefined)[],
    alters?: (key: string, record: Tags | undefined) => boolean,
  ): Promise<(Found | undefined)[] | null> {
    if (!keys.length) return [];
    if (keys.length > DIRECT_READ_MAX) return null;
    const db = this.#open ?? (await this.#connectionWithin());
    // No check of the store (a new DOMStringList of every store name per read): an open connection has every
    // persistent type's (one that lacks one is not kept: see #connection), and a missing one throws below.
    if (!db || this.#moved) return (this.#moved = false), null;
    const name = entryStore(type);
    let records: (EntryRecord | undefined)[];
    let pending: ReadonlyMap<BatchId, unknown>;
    try {
      const store = db.transaction(name, 'readonly').objectStore(name);
      const requests = keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
      await requestsDone(requests);
      records = requests.map((request) => request.result);
      // An imported record is the import's entry once its batch has committed (see importBatch.ts).
      pending = await this.#batches.pendingAmong(store, records);
    } catch {
      // Closing, closed by the browser, or a read that failed: the next read opens again.
      this.#forget(db);
      return null;
    }
    const now = this.#now();
    const found: (Found | undefined)[] = [];
    for (const [index, record] of records.entries()) {
      const fingerprint = fingerprints?.[index];
      if (alters?.(keys[index]!, record)) return null;
      if (!record) {
        // Nothing to count as expired or invalidated, nothing to remove: the engine would only count it.
        found.push(undefined);
        continue;
      }
      if (record.batch !== undefined && pending.has(record.batch)) return null;
      if (isExpiredRecord(record, now) || (fingerprint !== undefined && record.fingerprint !== fingerprint)) return null;
      found.push({ value: record.value, revision: record.revision });
    }
    return found;
  }

  /**
   * Writes, at once, the read times of entries this page has just read (see recordReadsNow): another
   * tab's eviction started after the read resolved spares them. The worker writes them too, later.
   */
  record(type: TypeName, keys: readonly string[]): void {
    const db = this.#open;
    if (!db || !keys.length) return;
    // Each key its own time, in the order read, as the worker gives them (one for all would leave their order to the keys').
    recordReadsNow(db, new Map([[type, new Map(keys.map((key) => [key, this.#usedAt()]))]]));
  }

  /** Opens the connection ahead of the first read (while the worker starts); after a failed open, tries again at once. */
  warm(): void {
    this.#failedAt = -Infinity;
    void this.#connection();
  }

  close(): void {
    this.#closed = true;
    this.#forget(this.#open);
  }

  /** The connection, or null when its open has waited OPEN_WAIT_MS in all (the open goes on). */
  async #connectionWithin(): Promise<IDBDatabase | null> {
    const opening = this.#connection();
    const left = this.#openingSince + OPEN_WAIT_MS - performance.now();
    if (left <= 0) return this.#open;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), left)));
    if (timer) unref(timer);
    try {
      return await Promise.race([opening, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  #connection(): Promise<IDBDatabase | null> {
    if (this.#db) return this.#db;
    // A clock set back since the failure (behind it) tries again too: it must not wait as long as the clock went back.
    const since = this.#now() - this.#failedAt;
    if (this.#closed || (since >= 0 && since < RETRY_OPEN_MS)) return Promise.resolve(null);
    this.#openingSince = performance.now();
    // Unset while open() runs: a browser may refuse it at once (a sandboxed page, a disabled IndexedDB).
    let opening: Promise<IDBDatabase | null> | undefined;
    let refused = false;
    opening = new Promise<IDBDatabase | null>((resolve) => {
      const failed = () => {
        refused = opening === undefined;
        this.#failedAt = this.#now();
        if (opening && this.#db === opening) this.#db = null;
        resolve(null);
      };
      let request: IDBOpenDBRequest;
      try {
        request = this.#options.indexedDB.open(this.#options.name);
      } catch {
        failed();
        return;
      }
      // No database (never made, or deleted): not this page's to create — the worker makes it, with its stores.
      request.onupgradeneeded = () => request.transaction?.abort();
      request.onerror = (event) => {
        event.preventDefault();
        failed();
      };
      request.onsuccess = () => {
        const db = request.result;
        // One that lacks a store the worker needs (a new persistent custom type) is about to be upgraded by it: held,
        // this connection would hold that up while the page is busy, past the worker's patience (see Database's
        // blockedTimeoutMs), which would keep its types in memory for the session.
        const stores = db.objectStoreNames;
        const upgrading = [...this.#options.types].some(([type, persistent]) => (persistent || isBuiltInType(type)) && !stores.contains(entryStore(type)));
        if (this.#closed || layoutOf(stores) !== LAYOUT || upgrading) {
          db.close();
          failed();
          return;
        }
        // Another tab's upgrade or a deletion waits for every connection: this one goes at once (see #forget).
        db.onversionchange = db.onclose = () => this.#forget(db);
        const epoch = [...stores].find((store) => store.startsWith('epoch:'));
        this.#moved ||= (this.#epoch ?? epoch) !== epoch;
        this.#epoch = epoch;
        if (epoch) this.epochs.add(epoch.slice('epoch:'.length));
        this.#open = db;
        resolve(db);
      };
    });
    // One refused at once is not kept: the next read after RETRY_OPEN_MS tries again.
    if (!refused) this.#db = opening;
    return opening;
  }

  /**
   * Lets go of `db`, closed (closing it again does nothing): the next read opens again. One whose read failed
   * is still open, and would stay so, unused, for the page's life — one more for each failure.
   */
  #forget(db: IDBDatabase | null): void {
    db?.close();
    if (this.#open !== db) return;
    this.#open = null;
    this.#db = null;
  }
}
