import type { PlainRecord } from './databaseSchema';
import type { Cutoff, StoredEntry } from './Store';

/**
 * How far past the clock an entry's last use may be and its age still be told: a clock corrected by less (an
 * NTP step after a boot) keeps what was written meanwhile; set back by more, or corrected after it ran
 * ahead, it leaves entries written (or read) "in the future".
 */
export const AHEAD_MS = 60_000;

/**
 * Past its TTL at `cutoff` (the clock's reading `now`, less a stale-while-revalidate window). An entry set
 * with a TTL of INFINITE_TTL or more never is, as in the original tool. One that can expire used (written,
 * or read) more than AHEAD_MS after `now` is, whatever its expiry and the window: its age is unknown (the
 * clock ran ahead as it was written, or has been set back since), and an hour's TTL must not hold for the
 * year a clock ran ahead. (An HTTP cache's age, max(0, now − stored), would make it fresh for that year.)
 * Its last use tells, as no write is after it: one only read ahead of the clock is fetched again, once.
 */
export function isExpired(entry: Pick<StoredEntry, 'expires' | 'expiresAt' | 'lastAccess'>, cutoff: number, now = cutoff): boolean {
  return entry.expires && (entry.expiresAt <= cutoff || usedAhead(entry, now));
}

/** Used more than AHEAD_MS after `now`: when, the clock cannot tell (see isExpired); eviction takes such an entry first. */
export const usedAhead = (entry: Pick<StoredEntry, 'lastAccess'>, now: number): boolean => entry.lastAccess > now + AHEAD_MS;

/**
 * The last use the sweep gives an entry that never expires once it finds it used ahead (see usedAhead): unknown,
 * so before every known one (eviction takes it first, as before); a read since counts as its use. Out of the range
 * above the clock, it is no longer read by every keys() and sweep until the clock catches up (a year, say).
 */
export const UNKNOWN_USE = 0;

/** As isExpired, of a stored record: one that can expire has an `expiry`. */
export const isExpiredRecord = (record: PlainRecord, cutoff: number, now?: number): boolean => isExpired({ ...record, expires: record.expiry !== undefined }, cutoff, now);

/**
 * The keys of a write's entries that the room it makes spares: not those already expired as written (a ttlSeconds of 0
 * or below; another tab's value fetched longer ago than its TTL), which go first, as any expired entry.
 */
export function liveKeysOf(entries: readonly StoredEntry[], cutoff: Cutoff): Set<string> {
  return new Set(entries.filter((entry) => !isExpired(entry, cutoff.by, cutoff.now)).map((entry) => entry.key));
}
