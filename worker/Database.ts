import { unwrap, wrap, type IDBPDatabase } from 'idb';
import { CacheError } from '../src/CacheError';
import { randomId } from '../src/randomId';
import type { TypeName } from '../src/contentType';
import { LAYOUT, layoutOf, neededStores, upgrade, type RepriseSchema, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { requestDone } from './idbRequests';
import { transactionDone } from './transactionDone';
import { later, type Schedule } from './schedule';
import { isConnectionLost, nameOf, toCacheError } from './storageError';

export interface DatabaseOptions {
  name: string;
  indexedDB: IDBFactory;
  /** How long to wait for tabs holding an older version open before giving up on IndexedDB. */
  blockedTimeoutMs?: number;
  /**
   * How long any open may wait in all (10 s by default, well past what a busy browser takes): an open
   * queues behind another tab's upgrade, which a connection that ignores versionchange may block for
   * good (that tab gives up, but its request stays ahead of this one), and no `blocked` event tells
   * this one. Past it, the open counts as blocked.
   */
  openTimeoutMs?: number;
  /** Runs the blocked open's timeout (setTimeout by default; simulations run it on their own turns). */
  schedule?: Schedule | undefined;
  /** The persistent custom types, each of which needs an object store (see `neededStores`). */
  customTypes?: readonly TypeName[];
  /**
   * The database this tab used is gone from its view: deleted under it (site data cleared), found
   * recreated as it reopens, or given up (see close). Once per database: every entry it read there is gone.
   */
  gone?: (epoch: string) => void;
  /** The name of what the page read before this engine (its dead worker's database, see name, or memory tier: WorkerOpenOptions.tab): finding another database is told as `gone`. */
  knownEpoch?: string | null | undefined;
  /** The names whose loss the page heard (WorkerOpenOptions.tab's gone): a database of one of them found again is named anew (see name). */
  told?: readonly string[] | undefined;
  /** This tab uses the database of `epoch` now (opened, or reopened after the one before is gone): whose loss is told next, by the page's next worker too. */
  uses?: (epoch: string) => void;
}

/**
 * One cache's IndexedDB database: opened through the given factory, reopened when another tab upgrades
 * or deletes it or the browser closes it, and used one committed transaction at a time.
 */
export class Database {
  readonly #options: DatabaseOptions;
  #db: Promise<IDBPDatabase<RepriseSchema>> | null = null;
  /** The connection while it is open and current: for a transaction that must start at once (see recordReadsNow). */
  #open: IDBDatabase | null = null;
  #closed = false;
  /** Why it was closed, if IndexedDB was given up (see close): what calls still in flight meet. */
  #lost: unknown;
  /** Opens in a row that failed in a way that may pass (aborted, unknown error). */
  #transientFailures = 0;
  #epoch: string | null = null;
  /** The name of the database this tab uses (null: none known, or its loss told already), see `name`. */
  #known: string | null = null;
  /** Read-write transactions not finished: a deletion is told after them (see versionchange). */
  readonly #writing = new Set<Promise<unknown>>();

  constructor(options: DatabaseOptions) {
    this.#options = options;
    this.#known = options.knownEpoch ?? null;
  }

  /**
   * Runs `body` in one transaction on a live connection and resolves once it has committed. Whatever
   * throws aborts the transaction, so nothing of it is written; a lost connection is reopened and the
   * whole transaction retried once. `stores` may be named by the connection's (another tab may add some).
   */
  async transact<T>(doing: string, stores: StoreName[] | ((db: IDBDatabase) => StoreName[]), mode: IDBTransactionMode, body: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      // A closed cache's call still in flight must not open the database again (and hold it open).
      if (this.#closed) throw this.#lost ?? new CacheError('closed', 'This cache is closed');
      const connection = this.#connection();
      let tx: IDBTransaction | undefined;
      try {
        const db = unwrap(await connection);
        tx = db.transaction(typeof stores === 'function' ? stores(db) : stores, mode, { durability: 'relaxed' });
        // What a read returns is settled once its requests succeed; waiting for `complete` only adds latency.
        const done = mode === 'readwrite' ? transactionDone(tx) : undefined;
        if (done) {
          const finished = done.catch(() => {});
          this.#writing.add(finished);
          void finished.then(() => this.#writing.delete(finished));
        }
        const result = await body(tx);
        await done;
        return result;
      } catch (thrown) {
        try {
          tx?.abort();
        } catch {
          // Already committed or aborted.
        }
        // A request that awaited the abort of its transaction knows only "AbortError"; the transaction knows why.
        const error = nameOf(thrown) === 'AbortError' && tx?.error ? tx.error : thrown;
        if (attempt === 0 && isConnectionLost(error)) {
          if (this.#db === connection) {
            this.#db = null;
            this.#open = null;
          }
          continue;
        }
        throw toCacheError(error, doing);
      }
    }
  }

  /** Reads in a read-only transaction, then writes in a read-write one: in Chromium, every delete of a read-write transaction that has read an index is several times slower. */
  async afterReading<R, T>(
    reading: string,
    readStores: StoreName[],
    read: (tx: IDBTransaction) => Promise<R>,
    writing: string,
    writeStores: StoreName[],
    write: (tx: IDBTransaction, found: R) => Promise<T>,
  ): Promise<T> {
    const found = await this.transact(reading, readStores, 'readonly', read);
    return this.transact(writing, writeStores, 'readwrite', (tx) => write(tx, found));
  }

  /**
   * The epoch of the database the last connection opened (see databaseSchema's meta): one deleted and
   * recreated under this tab is another database, whose epoch this tab's log position may not know yet.
   */
  get epoch(): string | null {
    return this.#epoch;
  }

  /**
   * What the loss of the database this tab uses is told under (`gone`), null if none: its epoch, or where the page heard
   * the loss of that database before (its workers gave it up, and this one opened it again) the epoch and an id of this
   * visit, as its next loss is another (an epoch is a randomId: none begins another).
   */
  get name(): string | null {
    return this.#known;
  }

  /** The database opened had no epoch (Reprise 0.1's) and now has `epoch` (see EventLog.ensureEpoch): it is the one this tab uses, whose loss is told. */
  named(epoch: string): void {
    if (this.#epoch !== null || this.#closed) return;
    this.#epoch = epoch;
    this.#known ??= epoch;
  }

  /** The open connection, if there is one now. */
  get open(): IDBDatabase | null {
    return this.#closed ? null : this.#open;
  }

  /**
   * Closes the connection; later transactions reject with `closed`, or with `lost` where IndexedDB was
   * given up (a call between two of its transactions then goes on in memory, as those that met the failure).
   */
  close(lost?: unknown): void {
    // Given up: the tab's persistent types are kept in memory from now on, empty (told once: not after a deletion told).
    if (lost !== undefined) this.#use(null);
    this.#closed = true;
    this.#lost = lost;
    const db = this.#db;
    this.#db = null;
    this.#open = null;
    void db?.then((connection) => connection.close()).catch(() => {});
  }

  /** This tab uses the database of `epoch` now (null: none, or one not known yet); tells `gone` that the one it used is gone. */
  #use(epoch: string | null): void {
    if (this.#known !== null && !this.#closed) this.#options.gone?.(this.#known);
    this.#known = epoch && this.#options.told?.includes(epoch) ? epoch + randomId() : epoch;
    if (epoch && !this.#closed) this.#options.uses?.(epoch);
  }

  /** The database was deleted: told once the writes running on it have finished, and a task later, been told. */
  #deleted(): void {
    const gone = this.#known;
    const schedule = this.#options.schedule ?? later;
    void Promise.all(this.#writing).then(() =>
      schedule(() => {
        // Unless a reopen told it already (it found the new database).
        if (this.#known === gone) this.#use(null);
      }, 0),
    );
  }

  #connection(): Promise<IDBPDatabase<RepriseSchema>> {
    if (this.#db) return this.#db;
    // An open aborted under us (the connection closed during its upgrade, say) is tried once more; such
    // failures send the cache to memory only when they go on (see isOpenFailure). A full disk refuses a
    // new database's upgrade for its epoch record: the second makes none (see upgrade, EventLog.ensureEpoch).
    const opening = openDatabase(this.#options, true)
      .catch((error: unknown) => (isOpenFailure(error) ? Promise.reject(error) : openDatabase(this.#options, false)))
      .then(
        (db) => {
          this.#transientFailures = 0;
          return db;
        },
        (error: unknown) => {
          if (!isOpenFailure(error) && ++this.#transientFailures >= TRANSIENT_FAILURES_TO_GIVE_UP) openFailures.add(error as Error);
          throw error;
        },
      )
      .then(async (db) => {
        const drop = () => {
          if (this.#db === opening) this.#db = null;
          if (this.#open === unwrap(db)) this.#open = null;
        };
        // Another tab wants a newer version (or to delete the database): let it, and reopen on the next call.
        db.addEventListener('versionchange', (event) => {
          db.close();
          drop();
          // Deleted (newVersion null): told without waiting for the next open (an idle tab may make none), but after
          // the writes still running on it, which land in the database deleted: their watchers hear last that it is gone.
          if (event.newVersion === null) this.#deleted();
        });
        // The browser closed the connection (storage cleared, backend failure).
        db.addEventListener('close', drop);
        if (this.#db === opening) this.#open = unwrap(db);
        this.#epoch = await readEpoch(unwrap(db));
        // Another database than the one this tab used (deleted and recreated, by a browser that cleared site data only closing this connection).
        if (this.#epoch !== null && !this.#known?.startsWith(this.#epoch)) this.#use(this.#epoch);
        return db;
      });
    this.#db = opening;
    opening.catch(() => {
      if (this.#db === opening) this.#db = null;
    });
    return opening;
  }
}

/**
 * Opens in a row that find the database no further on (no other tab added stores meanwhile) before the open
 * gives up. Losing the race to other tabs is not counted: each lost race is one of them adding its stores, and
 * tabs only ever add, so with any number of tabs opening at once (each with a type of its own) every one gets there.
 */
const MAX_STALLED_OPENS = 5;
/** Opens in all, however far the database moves: one whose version keeps moving this long is not converging. */
const MAX_OPENS = 100;

/**
 * The lowest version this layout lives at. Reprise 0.1 opens version 1 exactly: at 2 or more it gets a
 * VersionError and keeps its types in memory, instead of using stores it does not know.
 */
const FIRST_VERSION = 2;

/**
 * Opens the database at its current version (at least FIRST_VERSION); when it lacks a store this cache
 * needs (a new custom type, a layout mark), opens it again one version up, in which `upgrade` adds what is missing. Another tab adding
 * stores at the same moment takes that version first (VersionError, or the stores still missing): then
 * it starts over from the new current version.
 */
async function openDatabase(options: DatabaseOptions, record: boolean): Promise<IDBPDatabase<RepriseSchema>> {
  const needed = neededStores(options.customTypes ?? []);
  // FIRST_VERSION makes a new database there directly; one already above it answers with a VersionError.
  let version: number | undefined = FIRST_VERSION;
  // The highest version found, and the opens since that found none higher.
  let reached = 0;
  let stalled = 0;
  for (let attempt = 0; ; attempt++) {
    let db: IDBPDatabase<RepriseSchema>;
    try {
      db = await openAt(options, version, record);
    } catch (error) {
      // A VersionError: the database is past `version` already (another tab took it), so the next open finds it further on.
      if (version === undefined || attempt >= MAX_OPENS || nameOf((error as Error).cause) !== 'VersionError') throw error;
      version = undefined;
      continue;
    }
    const layout = layoutOf(db.objectStoreNames);
    if (layout > LAYOUT) {
      db.close();
      const newer = Object.assign(new Error(`the database has layout ${layout}, from a newer Reprise; this one knows ${LAYOUT}`), { name: 'VersionError' });
      throw unavailable(options.name, newer);
    }
    if (needed.every((name) => db.objectStoreNames.contains(name as never))) return db;
    db.close();
    if (db.version > reached) [reached, stalled] = [db.version, 0];
    else stalled++;
    if (stalled >= MAX_STALLED_OPENS || attempt >= MAX_OPENS) throw unavailable(options.name, new Error(`could not add object stores for ${needed.join(', ')}`));
    version = Math.max(db.version + 1, FIRST_VERSION);
  }
}

/** One open request, at `version` (or the current one, 1 for a new database). */
function openAt(
  { name, indexedDB, blockedTimeoutMs = 3000, openTimeoutMs = 10_000, customTypes = [], schedule = later }: DatabaseOptions,
  version: number | undefined,
  record: boolean,
): Promise<IDBPDatabase<RepriseSchema>> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      // idb's openDB reads the global indexedDB; open through the injected factory and wrap the request.
      request = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
    } catch (error) {
      reject(unavailable(name, error));
      return;
    }
    let cancel: void | (() => void);
    let blocked = false;
    let gaveUp = false;
    const giveUp = (reason: string) => {
      if (gaveUp) return;
      gaveUp = true;
      reject(unavailable(name, new Error(reason)));
    };
    // Once it has started, an upgrade runs to its end: only the wait before it is limited.
    let upgrading = false;
    // Real time, not `schedule`: how long the browser has kept this open waiting (a simulation's turns
    // may jump its clock by hours while an open proceeds normally).
    const cancelWait = later(() => upgrading || giveUp(`waited ${openTimeoutMs} ms to open`), openTimeoutMs);
    request.onupgradeneeded = () => {
      upgrading = true;
      upgrade(request.result, request.transaction!, customTypes, record);
    };
    request.onblocked = () => {
      if (blocked) return;
      blocked = true;
      // The tab holding it may let go just before the timeout, whose task then runs during the upgrade.
      cancel = schedule(() => upgrading || giveUp('blocked by another tab holding an older version open'), blockedTimeoutMs);
    };
    (wrap(request) as Promise<IDBPDatabase<RepriseSchema>>).then(
      (db) => {
        cancel?.();
        cancelWait?.();
        if (gaveUp) db.close();
        else resolve(db);
      },
      (error: unknown) => {
        cancel?.();
        cancelWait?.();
        if (!gaveUp) reject(unavailable(name, error));
      },
    );
  });
}

/** Opens failing this many times in a row, in a way that may pass, mean IndexedDB is not usable after all. */
const TRANSIENT_FAILURES_TO_GIVE_UP = 3;

const openFailures = new WeakSet<Error>();
/** Every failure to open, given up on or not yet (see TRANSIENT_FAILURES_TO_GIVE_UP). */
const openErrors = new WeakSet<Error>();

/**
 * Whether the error means the database cannot be opened at all (refused, VersionError, blocked by an
 * older tab), rather than this once (an open aborted under us), or one operation failing.
 */
export function isOpenFailure(error: unknown): boolean {
  return error instanceof Error && openFailures.has(error);
}

/** Whether the error is a failed open, even one that may pass (it is told once given up on, see Stores). */
export function isOpenError(error: unknown): boolean {
  return error instanceof Error && openErrors.has(error);
}

function unavailable(name: string, error: unknown): CacheError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const failure = new CacheError('storage_unavailable', `IndexedDB "${name}" cannot be opened (${reason})`, { cause: error });
  const cause = nameOf(error);
  openErrors.add(failure);
  if (cause !== 'AbortError' && cause !== 'UnknownError') openFailures.add(failure);
  return failure;
}

/**
 * The database's epoch, or null where it cannot be read: a raw request, whose failure (a connection
 * closed under it, a worker killed) leaves no transaction promise unhandled, as idb's shortcut would.
 */
async function readEpoch(db: IDBDatabase): Promise<string | null> {
  try {
    return EventLog.epochOf(db, await requestDone(EventLog.readEpoch(db.transaction('meta', 'readonly'))));
  } catch {
    return null;
  }
}
