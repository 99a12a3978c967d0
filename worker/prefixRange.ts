/**
 * The IndexedDB key range of the strings that start with `prefix` (undefined for all): from the prefix
 * up to, not including, the prefix with its last code unit below U+FFFF raised by one. IndexedDB orders
 * strings by UTF-16 code units, as this does.
 */
export function prefixRange(prefix: string | undefined): IDBKeyRange | undefined {
  if (!prefix) return undefined;
  for (let index = prefix.length - 1; index >= 0; index--) {
    const unit = prefix.charCodeAt(index);
    if (unit < 0xffff) return IDBKeyRange.bound(prefix, prefix.slice(0, index) + String.fromCharCode(unit + 1), false, true);
  }
  return IDBKeyRange.lowerBound(prefix);
}
