import type { TypeName } from '../src/contentType';
import type { EntryRecord } from './databaseSchema';
import { requestDone, requestsDone } from './idbRequests';
import { walkCursor } from './walkCursor';
import type { ReadTimes } from './ReadTimes';
import { addRemoved, type Cutoff, type Removed, type Usage } from './Store';
import { AHEAD_MS, isExpiredRecord, UNKNOWN_USE } from './isExpired';
import { averageBytes, forget } from './usage';
import { entryStore } from './databaseSchema';
import { BatchStates, isPending, pendingBatches } from './importBatch';
import { deleteKeys } from './deleteKeys';

/** An entry eviction may remove, as planned from an index (before its record is read). */
export interface Candidate {
  key: string;
  pass: keyof Removed;
  /** Its key in the index it was planned from: for the least recently used, its last access (written or read since, it is no longer among them). */
  access?: number;
}

export interface PlanOptions {
  passes?: (keyof Removed)[];
  spare?: ReadonlySet<string> | undefined;
  /** Entries read since their read time was last written are recently used: never planned for eviction. */
  readTimes?: ReadTimes | undefined;
  /** At most this many (a sweep's step). */
  limit?: number;
}

export const noneRemoved = (): Removed => ({ expired: 0, evicted: 0 });

/**
 * Plans which entries of `type` to remove to free `need` bytes: expired ones through the expiry index,
 * then the least recently used through the access index (key cursors: no value is read). Entries used
 * ahead of the clock (see aheadRange) come first in each: those that can expire as expired, the others
 * as the least recently used (when they were used is unknown). Sizes are estimated from the type's
 * average; the removal reads each record and keeps the bytes exact.
 */
export async function planEvictions(
  tx: IDBTransaction,
  type: TypeName,
  need: number,
  usage: Usage,
  cutoff: Cutoff,
  { passes = ['expired', 'evicted'], spare, readTimes, limit = Infinity }: PlanOptions = {},
): Promise<Candidate[]> {
  const plan: Candidate[] = [];
  if (need <= 0) return plan;
  // A quarter more than the average suggests, since sizes vary; a short plan is completed later.
  const wanted = Math.min(limit, Number.isFinite(need) ? Math.ceil((1.25 * need) / averageBytes(usage)) + 1 : Infinity);
  const planned = new Set<string>();
  const store = tx.objectStore(entryStore(type));
  const [access, ahead] = [store.index('access'), aheadRange(cutoff.now)];
  const walks = passes.flatMap((pass): [keyof Removed, IDBIndex, IDBKeyRange | null][] => [[pass, access, ahead], pass === 'expired' ? [pass, store.index('expiry'), IDBKeyRange.upperBound(cutoff.by)] : [pass, access, null]]);
  for (const [pass, index, range] of walks) {
    if (plan.length >= wanted) break;
    // Ahead of the clock, values are read (few, if any): only those that can expire are expired.
    await walkCursor((range === ahead ? index.openCursor(range) : index.openKeyCursor(range)) as IDBRequest<IDBCursor | null>, (cursor) => {
      const key = cursor.primaryKey as string;
      if (!spare?.has(key) && !planned.has(key) && (pass === 'evicted' ? !readTimes?.has(type, key) : range !== ahead || (cursor as IDBCursorWithValue).value.expiry !== undefined)) {
        plan.push({ key, pass, access: cursor.key as number });
        planned.add(key);
      }
      return plan.length < wanted;
    });
  }
  return plan;
}

/**
 * Removes planned entries, in order, while the type holds more than `target` bytes; an expired one only
 * if it still is, a least recently used one only if nobody wrote or read it since the plan. Each is read
 * first, so the bytes stay exact if another tab rewrote it meanwhile.
 */
export async function removePlanned(
  tx: IDBTransaction,
  type: TypeName,
  usage: Usage,
  plan: readonly Candidate[],
  target: number,
  cutoff: Cutoff,
  spare?: ReadonlySet<string>,
): Promise<Removed> {
  const removed = noneRemoved();
  if (!plan.length || usage.bytes <= target) return removed;
  const store = tx.objectStore(entryStore(type));
  const reads = plan.map(({ key }) => store.get(key) as IDBRequest<EntryRecord | undefined>);
  await requestsDone(reads);
  // An import's entries are never evicted before it commits (it would no longer be all or nothing).
  const pending = await new BatchStates().pendingAmong(store, reads.map((read) => read.result));
  const keys: string[] = [];
  for (const [index, { pass, access }] of plan.entries()) {
    if (usage.bytes <= target) break;
    const record = reads[index]?.result;
    if (!record || spare?.has(record.key) || isPending(record, pending)) continue;
    if (pass === 'expired' ? !isExpiredRecord(record, cutoff.by, cutoff.now) : access !== undefined && record.lastAccess !== access) continue;
    remove(keys, usage, record, cutoff, removed);
  }
  await deleteKeys(store, keys);
  return removed;
}

/** The access index's range that holds every entry used ahead of the clock (see isExpired). */
export const aheadRange = (now: number) => IDBKeyRange.lowerBound(now + AHEAD_MS, true);

/**
 * Gives up to `limit` entries of `type` that never expire but were used ahead of the clock an unknown last use
 * (UNKNOWN_USE), each read and put in this transaction (a write of the key in another tab is before or after it, never
 * lost); returns how many. The bytes stay; those that can expire are the sweep's to remove, a pending import's its own.
 */
export async function settleAhead(tx: IDBTransaction, type: TypeName, now: number, limit: number): Promise<number> {
  const store = tx.objectStore(entryStore(type));
  const pending = await pendingBatches(store);
  let settled = 0;
  await walkCursor(store.index('access').openCursor(aheadRange(now)), (cursor) => {
    const record = cursor.value as EntryRecord;
    if (record.expiry === undefined && !isPending(record, pending)) {
      cursor.update({ ...record, lastAccess: UNKNOWN_USE });
      settled++;
    }
    return settled < limit;
  });
  return settled;
}

/** Takes the record off the usage, counted as expired or evicted, its key to `keys` (which the caller deletes: deleteKeys). */
function remove(keys: string[], usage: Usage, record: EntryRecord, cutoff: Cutoff, removed: Removed): void {
  keys.push(record.key);
  forget(usage, record);
  removed[isExpiredRecord(record, cutoff.by, cutoff.now) ? 'expired' : 'evicted']++;
}

/**
 * Removes entries while the type holds more than `target` bytes: expired ones, then the least recently
 * used (as planEvictions orders them), each pass one read of the records themselves in index order (the bytes come with them, exact) —
 * as many as the type's average size says are needed, a quarter more. Never those in `tried` (the
 * write's own entries, and what was tried before), to which it adds what it looked at; a read that falls
 * short (sizes above average, tried or pending entries among the oldest) is for the caller to complete.
 */
export async function removeOldest(
  tx: IDBTransaction,
  type: TypeName,
  usage: Usage,
  target: number,
  cutoff: Cutoff,
  tried: Set<string>,
): Promise<Removed> {
  const removed = noneRemoved();
  const store = tx.objectStore(entryStore(type));
  const ahead = aheadRange(cutoff.now);
  // In planEvictions' order: ahead of the clock first, in each pass.
  for (const [pass, name, range] of [['expired', 'access', ahead], ['expired', 'expiry', IDBKeyRange.upperBound(cutoff.by)], ['evicted', 'access', ahead], ['evicted', 'access', null]] as const) {
    if (usage.bytes <= target) break;
    const wanted = Math.ceil((1.25 * (usage.bytes - target)) / averageBytes(usage)) + 1;
    const read = (await requestDone(store.index(name).getAll(range, wanted))) as EntryRecord[];
    // Read from the expiry index, or ahead of the clock: expired if it can expire.
    const records = read.filter((record) => pass === 'evicted' || record.expiry !== undefined);
    // An import's entries are never evicted before it commits (it would no longer be all or nothing).
    const pending = await new BatchStates().pendingAmong(store, records);
    const keys: string[] = [];
    for (const record of records) {
      if (usage.bytes <= target) break;
      if (tried.has(record.key)) continue;
      tried.add(record.key);
      if (!isPending(record, pending)) remove(keys, usage, record, cutoff, removed);
    }
    // Gone before the next pass reads.
    await deleteKeys(store, keys);
    // Entries to take before the next read's may be left past this one (smaller than the average, or ahead of the clock
    // past any number that never expire, if any entry can expire): the caller's plan takes them first.
    if (range && read.length === wanted && usage.bytes > target && (records.length === wanted || (await requestDone(store.index('expiry').getKey(IDBKeyRange.lowerBound(cutoff.by)))) !== undefined)) return removed;
  }
  return removed;
}

/**
 * Brings `type` down to `target` bytes: the planned removals first (without a plan, the oldest entries
 * read in order: removeOldest); if they fall short (another tab wrote since the plan, or sizes were
 * above average), it plans again inside this transaction — slower, but exact. Read times not yet
 * written are written first, so recently read entries are spared; `deletesOnly` (over the quota, where
 * a browser refuses any put) writes none, and leaves out the entries they name instead.
 */
export async function shrinkType(
  tx: IDBTransaction,
  type: TypeName,
  usage: Usage,
  target: number,
  cutoff: Cutoff,
  plan: readonly Candidate[],
  readTimes: ReadTimes,
  spare?: ReadonlySet<string>,
  deletesOnly = false,
): Promise<Removed> {
  if (!deletesOnly) await readTimes.writeInto(tx, type);
  const tried = new Set([...(spare ?? []), ...plan.map((candidate) => candidate.key)]);
  const removed = plan.length ? await removePlanned(tx, type, usage, plan, target, cutoff, spare) : deletesOnly ? noneRemoved() : await removeOldest(tx, type, usage, target, cutoff, tried);
  while (usage.bytes > target) {
    const again = await planEvictions(tx, type, usage.bytes - target, usage, cutoff, { spare: tried, readTimes: deletesOnly ? readTimes : undefined });
    if (!again.length) break;
    addRemoved(removed, await removePlanned(tx, type, usage, again, target, cutoff, spare));
    for (const { key } of again) tried.add(key);
  }
  return removed;
}
