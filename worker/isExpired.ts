import type { StoredEntry } from './Store';

/** Past its TTL. An entry set with a TTL of INFINITE_TTL or more never is, as in the original tool. */
export function isExpired(entry: Pick<StoredEntry, 'expires' | 'expiresAt'>, now: number): boolean {
  return entry.expires && entry.expiresAt <= now;
}
