import type { TypeName } from '../src/contentType';
import type { InvalidationTarget } from '../src/invalidationTarget';
import type { Change } from './Change';
import type { LogPlace, Mark, Once } from '../src/protocol';

/** One cached value with what the engine needs to expire, validate, find and evict it. */
export interface StoredEntry {
  type: TypeName;
  key: string;
  value: unknown;
  /** The estimated stored size; the store keeps the sum per type exactly. */
  bytes: number;
  /** Epoch milliseconds; the entry is expired from this instant on. */
  expiresAt: number;
  /** False for a TTL of INFINITE_TTL or more: such an entry never expires, and is left out of the expiry index. */
  expires: boolean;
  /** Tells this write of the entry from any other (random): a later step acts on the entry only if it is still this one. */
  revision?: number;
  /** Epoch milliseconds of the last write or read, for least-recently-used eviction (and to tell a clock set back since: see isExpired). */
  lastAccess: number;
  trackIds?: string[];
  albumKey?: string;
  fingerprint?: string;
}

/** A type's byte budget: writes evict down to `lowWater` once above it, and never leave more than `maxBytes`. */
export interface Budget {
  maxBytes: number;
  lowWater: number;
}

export interface Usage {
  entries: number;
  bytes: number;
  /** IndexedDB: counts the deleteManys that met entries of the type (see Holds.deletes), from anywhere once its record was recounted (see recount); kept in its usage record. */
  deletes?: number;
}

/** The keys a Store.remove took away: those it deleted, and those it removed as expired. */
export interface Deletion {
  deleted: string[];
  expired: string[];
}

/** Entries a store removed to make room: expired ones first, then the least recently used. */
export interface Removed {
  expired: number;
  evicted: number;
  /** An import's own entries that events made during it removed when it committed. */
  invalidated?: number;
  /** The keys a guarded write left out: a change since its mark removes them. */
  stale?: string[];
}

export type { Mark };

/** Keys of a type that freeing room must leave. */
export type Spared = [TypeName, readonly string[]];

/** Adds what `more` removed to `into`'s counts. */
export function addRemoved(into: Pick<Removed, 'expired' | 'evicted'>, more: Removed | undefined): void {
  into.expired += more?.expired ?? 0;
  into.evicted += more?.evicted ?? 0;
}

export type Counts = Partial<Record<TypeName, number>>;

/**
 * The keys an invalidation removed, for its watchers: a type is listed when the entries were found one
 * by one and were at most MAX_CHANGE_KEYS; a type left out removed "any key" (all of it, or more).
 */
export type RemovedKeys = Partial<Record<TypeName, string[]>>;

/** What an invalidation removed: how many entries of each type, and which where few (see RemovedKeys). */
export interface Invalidated {
  counts: Counts;
  keys: RemovedKeys;
}

/**
 * A type's cutoff (`by`): the instant before which its entries count as expired for removal (by the sweep,
 * eviction and reads), now less the type's stale-while-revalidate window, in which an expired entry is kept
 * to be served stale while it is refreshed; and the clock's reading (`now`), which tells entries used ahead
 * of it (see isExpired).
 */
export interface Cutoff {
  by: number;
  now: number;
}

/** Each type's Cutoff, taken as each store step begins (a number is both, for every type). */
export type ExpiredBy = number | ((type: TypeName) => Cutoff);

/** The cutoff for one type. */
export function cutoffOf(expiredBy: ExpiredBy, type: TypeName): Cutoff {
  return typeof expiredBy === 'number' ? { by: expiredBy, now: expiredBy } : expiredBy(type);
}

/** The keys of a guarded write's entries that its guard left out (see Removed.stale). */
export function leftOut(all: readonly StoredEntry[], kept: readonly StoredEntry[]): string[] {
  const keys = new Set(kept.map((entry) => entry.key));
  return all.filter((entry) => !keys.has(entry.key)).map((entry) => entry.key);
}

/** Keeps a write from storing what a change made since `mark` removes (getOrSet's no stale write-back). */
export interface WriteGuard {
  mark: Mark;
  /** Whether a logged change removes the entry (the memory store keeps what its changes removed instead). */
  removes: (change: Change, entry: StoredEntry) => boolean;
}

export interface WriteOptions {
  /** Called as entries are written, with how many are. */
  onProgress?: ((written: number) => void) | undefined;
  guard?: WriteGuard | undefined;
  /**
   * IndexedDB: also record that this write happened, under `id`, in its transaction (stamped then: see trimCommitMarks); and
   * delete the marks of the page's earlier changes it names as `answered` (see SetManyOptions.answered).
   */
  commit?: { id: string; answered?: readonly string[] | undefined } | undefined;
  /**
   * IndexedDB, a write of several calls' entries together (see Engine.setMany): the mark of each (as `commit`),
   * saying which keys it set; what the write removed to stay within the budget is in the last one's.
   */
  commits?: readonly { id: string; answered?: readonly string[] | undefined; keys: readonly string[] }[] | undefined;
  /** IndexedDB: called once the write's transaction (an import's commit) has committed, with what it removed, before the room it makes after pending imports (after the import). */
  landed?: ((removed: Removed) => void) | undefined;
  /**
   * IndexedDB, an import: the event log's head as it reached the engine (null: unknown), and what a change
   * removes. What was logged since, before the import begins (an event of its tab made after it goes ahead:
   * imports hold up nothing), applies to it as if made during it (see importBatch.ts). A log that no
   * longer tells what was logged since (of a database deleted and recreated since, or trimmed past the place)
   * leaves it unwritten: it rejects.
   */
  from?: { place: Promise<LogPlace | null>; targets: (change: Change) => InvalidationTarget[] } | undefined;
}

/**
 * Where entries live. Every method is atomic: it happens completely or not at all, and the bytes and
 * entries per type change in the same step as the entries. Two implementations: memory, IndexedDB.
 */
export interface Store {
  readonly kind: 'indexeddb' | 'memory';
  /** Entries in key order, `undefined` where there is none; expiry is the caller's business. */
  read(type: TypeName, keys: readonly string[]): Promise<(StoredEntry | undefined)[]>;
  /**
   * Puts the entries (replacing those with the same keys; the last of one key wins); with a budget, then
   * evicts other entries of the type, expired first, down to `lowWater`. With a guard, leaves out the
   * entries a change made since its mark removes.
   */
  write(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options?: WriteOptions): Promise<Removed>;
  /** Where this store's changes stand now: a write guarded by it skips what later changes remove. */
  mark(type?: TypeName, key?: string): Promise<Mark>;
  /** The type's entries whose key starts with `prefix` (every entry without one), in key order; expiry is the caller's business. */
  list(type: TypeName, prefix?: string): Promise<StoredEntry[]>;
  /**
   * The keys of the type's entries that start with `prefix`, in key order, read without their values: those not
   * expired by `now()` read once the keys are (the read may have waited its turn behind another tab's writes).
   */
  liveKeys(type: TypeName, now: () => number, prefix?: string): Promise<string[]>;
  /**
   * Deletes the keys whose current entry passes `when` (all of them without it), and in the same step
   * removes those it calls `'expired'`: a deletion that finds an entry expired removes it as a read would,
   * not as deleted (a key with no entry is in neither list: nothing changed for its watchers). `once`: a
   * deleteMany marked under its id (with what it deleted, not what it expired), where marks outlive a
   * worker; a retry whose mark is there returns what the first attempt deleted and removes nothing.
   */
  remove(type: TypeName, keys: readonly string[], when?: (entry: StoredEntry) => boolean | 'expired', once?: Once & { madeIn?: string | null | undefined }): Promise<Deletion>;
  /** Deletes what the targets find, through indexes; returns counts per type, and the keys where few. */
  invalidate(targets: readonly InvalidationTarget[]): Promise<Invalidated>;
  clear(types: readonly TypeName[]): Promise<void>;
  /**
   * Removes every expired entry of the types, then evicts each type above its budget's low-water mark; `step` is
   * told what each step removed once it has committed (IndexedDB's go in steps: a failure leaves the earlier ones done).
   */
  cleanup(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy, step?: (type: TypeName, removed: Removed) => void): Promise<Partial<Record<TypeName, Removed>>>;
  /** Frees about `bytes` for a write that hit the storage quota: expired entries, then LRU of `types` in order; never `spare`'s keys of its type (what a delete is to delete). */
  free(types: readonly TypeName[], bytes: number, expiredBy: ExpiredBy, spare?: Spared): Promise<Partial<Record<TypeName, Removed>>>;
  /**
   * Records a read, so least-recently-used eviction spares the entry. `written`: the page has written it
   * already (a read it answered itself, see DirectReads.record).
   */
  touch(type: TypeName, key: string, at: number, written?: boolean): void;
  /** Entries and bytes of each type, in the order asked. */
  usage(types: readonly TypeName[]): Promise<Usage[]>;
  close(): void;
}
