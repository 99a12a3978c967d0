import type { StoredEntry } from './Store';

/** The entries with the last of several entries of one key only, as if written one by one. */
export function lastOfEachKey(entries: readonly StoredEntry[]): readonly StoredEntry[] {
  const keys = new Set(entries.map((entry) => entry.key));
  return keys.size === entries.length ? entries : [...new Map(entries.map((entry) => [entry.key, entry])).values()];
}
