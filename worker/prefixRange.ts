import { entryKeys } from './databaseSchema';

/**
 * The IndexedDB key range of the entry keys (strings) that start with `prefix` (all of them without
 * one): from the prefix up to, not including, the prefix with its last code unit below U+FFFF raised
 * by one. IndexedDB orders strings by UTF-16 code units, as this does, and puts numbers (the usage
 * record) before them and arrays (commit marks) after.
 */
export function prefixRange(prefix: string | undefined): IDBKeyRange {
  if (!prefix) return entryKeys();
  for (let index = prefix.length - 1; index >= 0; index--) {
    const unit = prefix.charCodeAt(index);
    if (unit < 0xffff) return IDBKeyRange.bound(prefix, prefix.slice(0, index) + String.fromCharCode(unit + 1), false, true);
  }
  return IDBKeyRange.bound(prefix, [], false, true);
}
