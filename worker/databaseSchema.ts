import type { DBSchema } from 'idb';
import type { CacheEvent } from '../src/cacheEvent';
import { CONTENT_TYPES, type ContentType } from '../src/contentType';
import { randomId } from '../src/randomId';
import type { Change } from './Change';
import type { Counts, StoredEntry, Usage } from './Store';

/** The version of the database layout below; `upgrade` brings any older database to it, keeping its entries. */
export const DB_VERSION = 1;

/**
 * An entry as stored, in the object store of its content type (one per type: each index then has a
 * plain key, which makes every write noticeably cheaper than a [type, …] compound key would). `expiry`
 * is there only for entries that can expire, so that entries kept "forever" cost no expiry index write.
 */
export type EntryRecord = Omit<StoredEntry, 'type' | 'expires'> & { expiry?: number };

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
  cleared?: ContentType[];
  /** What it removed from IndexedDB. */
  invalidated: Counts;
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
    /** Entries and bytes per type, changed in the same transaction as the entries, so every tab agrees. */
    usage: { key: ContentType; value: Usage };
    events: { key: number; value: LoggedChange };
    /** `trimmedThrough`: the log's first missing sequence number; `epoch`: names this database, made anew when it is recreated. */
    meta: { key: 'trimmedThrough' | 'epoch'; value: number | string };
  };

export type StoreName = ContentType | 'usage' | 'events' | 'meta';

/** Creates what a database of an older version (0: a new one) lacks. */
export function upgrade(db: IDBDatabase, oldVersion: number): void {
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
    db.createObjectStore('meta').put(randomId(), 'epoch');
  }
}

export function toRecord({ type: _type, expires, ...entry }: StoredEntry): EntryRecord {
  const record: EntryRecord = entry;
  if (!record.trackIds?.length) delete record.trackIds;
  if (expires) record.expiry = entry.expiresAt;
  return record;
}

export function fromRecord(type: ContentType, { expiry, ...record }: EntryRecord): StoredEntry {
  return { ...record, type, expires: expiry !== undefined };
}
