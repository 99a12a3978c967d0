import type { TypeName } from '../src/contentType';
import { targetMatches, type InvalidationTarget } from '../src/invalidationTarget';
import { randomId } from '../src/randomId';
import { removedBy } from './Change';
import { RemovedKeyList } from './RemovedKeyList';
import { cutoffOf, leftOut, type Budget, type Cutoff, type Deletion, type ExpiredBy, type Invalidated, type Mark, type Removed, type Store, type StoredEntry, type Usage, type WriteOptions } from './Store';
import { isExpired, liveKeysOf, UNKNOWN_USE, usedAhead } from './isExpired';
import { toCacheError } from './storageError';

/** One content type's entries, in least-recently-used-first order, with the indexes events use. */
class Table {
  readonly entries = new Map<string, StoredEntry>();
  bytes = 0;
  /** The latest last access put or touched, and whether a use older than it landed after it (calls of one tab that landed out of the order made). */
  #newest = -Infinity;
  #unsorted = false;
  readonly #byTrack = new Map<string, Set<string>>();
  readonly #byAlbum = new Map<string, Set<string>>();
  readonly #byFingerprint = new Map<string, Set<string>>();

  put(entry: StoredEntry): void {
    this.delete(entry.key);
    this.entries.set(entry.key, entry);
    this.#used(entry.lastAccess);
    this.bytes += entry.bytes;
    for (const trackId of entry.trackIds ?? []) link(this.#byTrack, trackId, entry.key);
    if (entry.albumKey !== undefined) link(this.#byAlbum, entry.albumKey, entry.key);
    if (entry.fingerprint !== undefined) link(this.#byFingerprint, entry.fingerprint, entry.key);
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    for (const trackId of entry.trackIds ?? []) unlink(this.#byTrack, trackId, key);
    if (entry.albumKey !== undefined) unlink(this.#byAlbum, entry.albumKey, key);
    if (entry.fingerprint !== undefined) unlink(this.#byFingerprint, entry.fingerprint, key);
    return true;
  }

  touch(key: string, at: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    // Never back, but from a use ahead of the clock (see recordReads).
    entry.lastAccess = !entry.expires && usedAhead(entry, at) ? at : Math.max(entry.lastAccess, at);
    // Re-inserting moves it to the most recently used end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.#used(entry.lastAccess);
  }

  #used(at: number): void {
    if (at <= this.#newest) this.#unsorted = true;
    else this.#newest = at;
  }

  /** As IdbStore's sweep (see settleAhead): entries that never expire used ahead of `now` get an unknown last use. */
  settleAhead(now: number): void {
    for (const entry of this.entries.values()) {
      if (!entry.expires && usedAhead(entry, now)) {
        entry.lastAccess = UNKNOWN_USE;
        this.#unsorted = true;
      }
    }
  }

  /** Puts the entries back in order of last access (then of key), as IndexedDB's access index has them. */
  #sort(): void {
    if (!this.#unsorted) return;
    const sorted = [...this.entries.values()].sort((a, b) => a.lastAccess - b.lastAccess || byKey(a, b));
    this.entries.clear();
    for (const entry of sorted) this.entries.set(entry.key, entry);
    this.#newest = sorted.at(-1)?.lastAccess ?? -Infinity;
    this.#unsorted = false;
  }

  /** Keys a target finds, through the indexes: never a scan, except for `all`. */
  find(target: InvalidationTarget): Iterable<string> {
    switch (target.by) {
      case 'track':
        return this.#byTrack.get(target.trackId) ?? [];
      case 'album': {
        // A legacy key (see InvalidationTarget) finds none of these, which are all written today.
        const keys = [...(this.#byAlbum.get(target.albumKey) ?? [])];
        return target.legacy ? keys.filter((key) => targetMatches(target, this.entries.get(key) ?? {})) : keys;
      }
      case 'fingerprint': {
        const keys = [...(this.#byFingerprint.get(target.fingerprint) ?? [])];
        return keys.filter((key) => targetMatches(target, this.entries.get(key) ?? {}));
      }
      case 'all':
        return this.entries.keys();
    }
  }

  /**
   * Deletes entries until the type is at or below `target` bytes: expired first, in the order they
   * expired, then least recently used — in each, those used ahead of the clock first (see usedAhead) —
   * (or only one of the two passes), never those in `spare`.
   */
  shrink(target: number, cutoff: Cutoff, options: { spare?: ReadonlySet<string>; only?: 'expired' | 'evicted' } = {}): Removed {
    const removed = { expired: 0, evicted: 0 };
    for (const pass of options.only ? [options.only] : (['expired', 'evicted'] as const)) {
      this.#sort();
      // As IndexedDB's indexes have them, those used ahead first (of those that can expire, in the expired pass): which
      // expired entries are left shows in the bytes, and in what reads later remove.
      const entries = [...this.entries.values()];
      const ahead = entries.filter((entry) => usedAhead(entry, cutoff.now) && (pass === 'evicted' || entry.expires));
      const order = [...ahead, ...(pass === 'expired' ? entries.filter((entry) => isExpired(entry, cutoff.by, cutoff.now)).sort(byExpiry) : entries)];
      for (const entry of order) {
        if (this.bytes <= target) return removed;
        // One used ahead is in the order twice: deleted once.
        if (!options.spare?.has(entry.key) && this.delete(entry.key)) removed[pass]++;
      }
    }
    return removed;
  }
}

/** Changes remembered for guarded writes: a fetch outlasting this many changes does not store its value. */
const JOURNAL_SIZE = 1000;

function link(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

function unlink(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  keys?.delete(key);
  if (keys?.size === 0) index.delete(value);
}

/**
 * Entries kept in this tab's memory. With `clone`, values are copied in and out so that callers in the
 * same thread cannot change what is cached; in a worker, postMessage has already copied them.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #tables = new Map<TypeName, Table>();
  readonly #clone: (value: unknown) => unknown;
  /** The latest invalidations and clears, numbered, for guarded writes; older ones are forgotten. */
  readonly #journal: { n: number; targets: readonly InvalidationTarget[] }[] = [];
  #changes = 0;
  /** Names this store in its marks: a mark taken in another worker's memory says nothing about this one. */
  readonly #id = randomId();

  constructor(options: { clone: boolean }) {
    this.#clone = options.clone ? (value) => structuredClone(value) : (value) => value;
  }

  async read(type: TypeName, keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    const table = this.#tables.get(type);
    // A key asked twice (gets made together, read as one) is two values, as IndexedDB reads it: not
    // cloned here (in a worker, where postMessage copies the answer), it would be one object for both.
    const given = new Set<StoredEntry>();
    return keys.map((key) => {
      const entry = table?.entries.get(key);
      if (!entry) return undefined;
      const value = given.has(entry) ? structuredClone(entry.value) : this.#clone(entry.value);
      given.add(entry);
      return { ...entry, value };
    });
  }

  async write(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options: WriteOptions = {}): Promise<Removed> {
    let copies: StoredEntry[];
    try {
      // Copy everything before changing anything: one value that cannot be cloned writes nothing. Not
      // cloned here (in a worker), the values of one write came in one message, which keeps an object
      // two of them share one: each but the first is copied, so that each is a value of its own, as in IndexedDB.
      copies = entries.map((entry, index) => ({ ...entry, value: index > 0 && typeof entry.value === 'object' ? structuredClone(entry.value) : this.#clone(entry.value) }));
    } catch (error) {
      throw toCacheError(error, `writing ${type}`);
    }
    const all = copies;
    if (options.guard) copies = copies.filter((entry) => !this.#removedSince(options.guard!.mark, entry));
    const left = copies.length < all.length ? { stale: leftOut(all, copies) } : {};
    const table = this.#table(type);
    for (const entry of copies) table.put(entry);
    options.onProgress?.(entries.length);
    if (!budget || table.bytes <= budget.lowWater) return { expired: 0, evicted: 0, ...left };
    const cutoff = cutoffOf(expiredBy, type);
    return { ...table.shrink(budget.lowWater, cutoff, { spare: liveKeysOf(copies, cutoff) }), ...left };
  }

  async list(type: TypeName, prefix = ''): Promise<StoredEntry[]> {
    const entries = [...(this.#tables.get(type)?.entries.values() ?? [])].filter((entry) => entry.key.startsWith(prefix));
    return entries.sort(byKey).map((entry) => ({ ...entry, value: this.#clone(entry.value) }));
  }

  async liveKeys(type: TypeName, now: () => number, prefix = ''): Promise<string[]> {
    const entries = [...(this.#tables.get(type)?.entries.values() ?? [])];
    const at = now();
    return entries.filter((entry) => entry.key.startsWith(prefix) && !isExpired(entry, at)).sort(byKey).map((entry) => entry.key);
  }

  async remove(type: TypeName, keys: readonly string[], when?: (entry: StoredEntry) => boolean | 'expired'): Promise<Deletion> {
    const table = this.#tables.get(type);
    const removed: Deletion = { deleted: [], expired: [] };
    for (const key of keys) {
      const entry = table?.entries.get(key);
      const verdict = entry && (!when || when(entry));
      if (verdict && table?.delete(key)) (verdict === 'expired' ? removed.expired : removed.deleted).push(key);
    }
    return removed;
  }

  async mark(): Promise<Mark> {
    return { journal: this.#changes, store: this.#id };
  }

  async invalidate(targets: readonly InvalidationTarget[]): Promise<Invalidated> {
    this.#record(targets);
    const removed = new RemovedKeyList();
    for (const target of targets) {
      const table = this.#tables.get(target.type);
      removed.target(target.type);
      if (target.by === 'all') removed.any(target.type);
      for (const key of [...(table?.find(target) ?? [])]) if (table?.delete(key)) removed.add(target.type, key);
    }
    return removed.invalidated();
  }

  async clear(types: readonly TypeName[]): Promise<void> {
    this.#record(types.map((type) => ({ type, by: 'all' })));
    for (const type of types) this.#tables.delete(type);
  }

  async cleanup(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy, step?: (type: TypeName, removed: Removed) => void): Promise<Partial<Record<TypeName, Removed>>> {
    const result: Partial<Record<TypeName, Removed>> = {};
    for (const [type, budget] of budgets) {
      const table = this.#tables.get(type);
      if (!table) continue;
      const now = cutoffOf(expiredBy, type);
      const { expired } = table.shrink(0, now, { only: 'expired' });
      const evicted = budget && table.bytes > budget.lowWater ? table.shrink(budget.lowWater, now).evicted : 0;
      table.settleAhead(now.now);
      result[type] = { expired, evicted };
      step?.(type, result[type]);
    }
    return result;
  }

  async free(types: readonly TypeName[], bytes: number, expiredBy: ExpiredBy): Promise<Partial<Record<TypeName, Removed>>> {
    const removed: Partial<Record<TypeName, Removed>> = {};
    let freed = 0;
    for (const pass of ['expired', 'evicted'] as const) {
      for (const type of types) {
        const table = this.#tables.get(type);
        if (!table || freed >= bytes) continue;
        const before = table.bytes;
        const counts = (removed[type] ??= { expired: 0, evicted: 0 });
        counts[pass] += table.shrink(before - (bytes - freed), cutoffOf(expiredBy, type), { only: pass })[pass];
        freed += before - table.bytes;
      }
    }
    return removed;
  }

  touch(type: TypeName, key: string, at: number): void {
    this.#tables.get(type)?.touch(key, at);
  }

  async usage(types: readonly TypeName[]): Promise<Usage[]> {
    return types.map((type) => {
      const table = this.#tables.get(type);
      return { entries: table?.entries.size ?? 0, bytes: table?.bytes ?? 0 };
    });
  }

  close(): void {
    this.#tables.clear();
  }

  #record(targets: readonly InvalidationTarget[]): void {
    this.#journal.push({ n: ++this.#changes, targets });
    if (this.#journal.length > JOURNAL_SIZE) this.#journal.shift();
  }

  /** Whether a change since `mark` removes the entry: when the journal no longer reaches back that far, assume one does. */
  #removedSince(mark: Mark, entry: StoredEntry): boolean {
    if (!('journal' in mark) || mark.store !== this.#id || mark.journal < this.#changes - this.#journal.length) return true;
    return this.#journal.some(({ n, targets }) => n > mark.journal && removedBy(targets, entry));
  }

  #table(type: TypeName): Table {
    let table = this.#tables.get(type);
    if (!table) this.#tables.set(type, (table = new Table()));
    return table;
  }
}

/** Earliest expiry first, then by key, as IndexedDB's expiry index orders entries. */
function byExpiry(a: StoredEntry, b: StoredEntry): number {
  return a.expiresAt - b.expiresAt || byKey(a, b);
}

/** UTF-16 code unit order, as IndexedDB orders string keys. */
function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
