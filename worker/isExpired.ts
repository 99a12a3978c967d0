import type { StoredEntry } from './Store';

/**
 * How far past the clock an entry's write may be and its age still be told: a clock corrected by less (an
 * NTP step after a boot) keeps what was written meanwhile; set back by more, or corrected after it ran
 * ahead, it leaves entries written "in the future".
 */
export const AHEAD_MS = 60_000;

/** What tells whether an entry is expired: a stored record's `expiry` is there exactly when it can expire. */
export type Expiring = Pick<StoredEntry, 'expires' | 'expiresAt' | 'writtenAt' | 'lastAccess'>;

/**
 * Past its TTL at `cutoff` (the clock's reading `now`, less a stale-while-revalidate window). An entry set
 * with a TTL of INFINITE_TTL or more never is, as in the original tool. One that can expire written more
 * than AHEAD_MS after `now` is, whatever its expiry and the window: its age is unknown (the clock ran ahead
 * as it was written, or has been set back since), and an hour's TTL must not hold for the year a clock
 * ran ahead. (An HTTP cache's age, max(0, now − stored), would make it fresh for that year.)
 */
export function isExpired(entry: Expiring, cutoff: number, now: number): boolean {
  return entry.expires && (entry.expiresAt <= cutoff || writtenAhead(entry, now));
}

/** Written more than AHEAD_MS after `now` (see isExpired); a record of before `writtenAt` by its first use. */
export function writtenAhead(entry: Pick<StoredEntry, 'writtenAt' | 'lastAccess'>, now: number): boolean {
  return (entry.writtenAt ?? entry.lastAccess) > now + AHEAD_MS;
}
