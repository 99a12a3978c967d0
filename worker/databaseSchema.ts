import type { DBSchema } from 'idb';
import type { CacheEvent } from '../src/cacheEvent';
import { CONTENT_TYPES, type ContentType, type TypeName } from '../src/contentType';
import { randomId } from '../src/randomId';
import type { Change } from './Change';
import type { Counts, RemovedKeys, StoredEntry, Usage } from './Store';
import { entryStore, LAYOUT, type StoreName } from './layout';

export { entryStore, LAYOUT, layoutOf, type StoreName } from './layout';

/**
 * An entry as stored, in the object store of its content type (one per type: each index then has a
 * plain key, which makes every write noticeably cheaper than a [type, …] compound key would). `expiry`
 * is there only for entries that can expire, so that entries kept "forever" cost no expiry index write.
 */
export type PlainRecord = Omit<StoredEntry, 'type' | 'expires'> & { expiry?: number };

/**
 * An entry record, which an import not yet committed may have written (see importBatch.ts): `batch` names
 * it, `prior` is the entry it replaced (what reads see meanwhile), and `priorAfter` how many of the
 * batch's targets were logged when that prior was written (only later ones can remove it).
 */
export type EntryRecord = PlainRecord & { batch?: number; prior?: PlainRecord; priorAfter?: number };

/** One change in the log other tabs catch up from: an event (with what it removed), or a clear. */
export interface LoggedChange {
  seq: number;
  /** Names the change across tabs (absent in logs written by Reprise 0.1). */
  id?: string;
  /** The tab that made it. */
  origin: string;
  /** Epoch milliseconds. */
  at: number;
  event?: CacheEvent;
  cleared?: TypeName[];
  /** What it removed from IndexedDB. */
  invalidated: Counts;
  /** Which keys, where few (absent in logs written before: any key). */
  removed?: RemovedKeys;
}

/** The change a log record holds. */
export function changeOf(record: LoggedChange): Change {
  return record.cleared ? { kind: 'clear', types: record.cleared } : { kind: 'event', event: record.event! };
}

interface EntryStore {
  key: string;
  value: EntryRecord;
  indexes: { track: string; album: string; fingerprint: string; expiry: number; access: number };
}

export type RepriseSchema = DBSchema &
  Record<ContentType, EntryStore> & {
    events: { key: number; value: LoggedChange };
    /**
     * `trimmedThrough`: the log's first missing sequence number; `epoch`: names this database for tabs of
     * builds before its `epoch:` store (see EventLog.epochOf), and for a database made before it.
     */
    meta: { key: 'trimmedThrough' | 'epoch'; value: number | string };
  };


/** A type's usage record, in its own store under this key: a number, which no entry key (a string) can be. */
export const USAGE_KEY = 0;

export type UsageRecord = Usage & { key: typeof USAGE_KEY };

/** A usage record as the type's Usage (undefined when there is none: then it is counted). */
export function usageOf(record: UsageRecord | undefined): Usage | undefined {
  if (!record) return undefined;
  const { key: _, ...usage } = record;
  return usage;
}

/** The key of a commit mark (see WriteOptions.commit) in its type's store: an array, after every string key. */
export function commitKey(id: string): [string, string] {
  return ['commit', id];
}

/** A write's commit mark; an import's says what its entries hold, for the room it makes after its commit. */
export interface CommitMark {
  key: [string, string];
  at: number;
  held?: number;
  /** The keys a read-through's guard left out (see WriteGuard): not set by it. Marks with `written` say it there. */
  left?: string[];
  /**
   * What a write (not an import) set: each key with the revision it wrote, so that a next worker tells
   * only the keys that still hold it (a later change of another tab was told after it). Marks written
   * before it have none; an import rolled back by a clear has it empty (it set nothing).
   */
  written?: [key: string, revision: number | undefined][];
  /** How many of an import's entries the events logged during it removed as it committed: told after its set. */
  invalidated?: number;
  /** What a write (not an import) removed, in its transaction, to stay within the type's budget: told after its set. */
  expired?: number;
  evicted?: number;
}

/** Deletes, in `store`'s transaction, the commit marks under these ids: answered, no page asks about them (see src/AnsweredMarks.ts). */
export function forgetMarks(store: IDBObjectStore, ids: readonly string[] | undefined): void {
  for (const id of ids ?? []) store.delete(commitKey(id));
}

/** Every commit mark of a store. */
export function commitMarks(): IDBKeyRange {
  return IDBKeyRange.bound(['commit'], ['commit', []]);
}

/** Every entry of a store, and nothing else: the string keys (numbers sort before them, arrays after). */
export function entryKeys(): IDBKeyRange {
  return IDBKeyRange.bound('', [], false, true);
}

/**
 * The object stores a database needs for these (persistent) custom types: the layout's own, and one
 * per type. A database lacking some gets them from `upgrade`, in a version one above its own, and keeps
 * every entry it has: adding a custom type (in any tab) never loses anything. Stores are never removed,
 * so tabs opened with different custom types only ever add to the database.
 */
export function neededStores(customTypes: readonly TypeName[]): StoreName[] {
  return [...CONTENT_TYPES, ...customTypes].map(entryStore).concat('events', 'meta', `layout:${LAYOUT}`);
}

/**
 * Creates the stores of `neededStores(customTypes)` that the database lacks (in a new one, all of
 * them), in its upgrade transaction `tx`; a layout-1 database's usage records move into their types'
 * stores, and its `usage` store goes. A new database's epoch is the name of an `epoch:` store, and with
 * `record` its `meta` record too, which tabs of builds before the store read: an upgrade that puts is
 * refused on a full disk, one that only creates stores commits (browser idbQuota.test).
 */
export function upgrade(db: IDBDatabase, tx: IDBTransaction, customTypes: readonly TypeName[], record: boolean): void {
  for (const name of neededStores(customTypes)) {
    if (db.objectStoreNames.contains(name)) continue;
    if (name.startsWith('layout:')) db.createObjectStore(name);
    else if (name === 'events') db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    else if (name === 'meta') {
      const epoch = randomId();
      db.createObjectStore(`epoch:${epoch}`);
      const meta = db.createObjectStore('meta');
      if (record) meta.put(epoch, 'epoch');
    } else {
      const entries = db.createObjectStore(name, { keyPath: 'key' });
      entries.createIndex('track', 'trackIds', { multiEntry: true });
      entries.createIndex('album', 'albumKey');
      entries.createIndex('fingerprint', 'fingerprint');
      entries.createIndex('expiry', 'expiry');
      entries.createIndex('access', 'lastAccess');
    }
  }
  if (db.objectStoreNames.contains('usage')) moveUsage(db, tx);
}

/**
 * Layout 1 → 2: each type's usage record into its own store, counted again from its entries (Reprise 0.1's counts
 * drift: a key given twice in one setMany counted twice). A type whose store is not here is dropped: counted when it comes.
 */
function moveUsage(db: IDBDatabase, tx: IDBTransaction): void {
  const types = tx.objectStore('usage').getAllKeys();
  types.onsuccess = () => {
    db.deleteObjectStore('usage');
    for (const type of types.result) {
      const name = entryStore(type as TypeName);
      if (!db.objectStoreNames.contains(name)) continue;
      const store = tx.objectStore(name);
      const usage: UsageRecord = { entries: 0, bytes: 0, key: USAGE_KEY };
      const cursor = store.openCursor(entryKeys());
      cursor.onsuccess = () => {
        const current = cursor.result;
        if (!current) return void store.put(usage);
        usage.entries++;
        usage.bytes += (current.value as EntryRecord).bytes;
        current.continue();
      };
    }
  };
}

export function toRecord({ type: _type, expires, ...entry }: StoredEntry): EntryRecord {
  const record: EntryRecord = entry;
  if (!record.trackIds?.length) delete record.trackIds;
  if (expires) record.expiry = entry.expiresAt;
  return record;
}

export function fromRecord(type: TypeName, { expiry, batch: _batch, prior: _prior, priorAfter: _after, ...record }: EntryRecord): StoredEntry {
  return { ...record, type, expires: expiry !== undefined };
}
