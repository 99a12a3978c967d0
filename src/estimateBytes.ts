/** Fixed cost of an object or array container, on top of its contents. */
const CONTAINER = 16;

/** Holes after which an array where they outnumber the elements has its own indexes walked instead. */
const SPARSE = 1024;

/**
 * An estimate of the bytes a value occupies once stored: strings at two bytes per UTF-16 unit (their
 * in-memory size, an upper bound for IndexedDB), numbers at eight, containers at their contents plus a
 * small overhead. Binary data counts its byte length, a typed array or DataView that of the whole
 * buffer it views. Shared and cyclic references count once, as structured cloning stores them once.
 */
export function estimateBytes(value: unknown): number {
  const seen = new Set<object>();
  const walk = (item: unknown): number => {
    switch (typeof item) {
      case 'string':
        return 2 * item.length;
      case 'number':
        return 8;
      case 'boolean':
        return 4;
      case 'bigint':
        return 8 + Math.ceil(item.toString(16).length / 2);
      case 'object': {
        if (item === null) return 0;
        if (seen.has(item)) return 0;
        seen.add(item);
        // Structured cloning stores a view with the whole buffer behind it (a slice of a file stores the file), once.
        if (ArrayBuffer.isView(item)) return walk(item.buffer);
        if (item instanceof ArrayBuffer) return item.byteLength;
        if (typeof Blob !== 'undefined' && item instanceof Blob) return item.size;
        if (item instanceof Date) return 8;
        if (item instanceof RegExp) return 2 * item.source.length;
        // What structured cloning keeps of an error (its own properties besides these it drops).
        if (item instanceof Error) return CONTAINER + walk(item.message) + walk(item.stack) + walk(item.cause);
        let total = CONTAINER;
        if (item instanceof Map) {
          for (const [key, entry] of item) total += walk(key) + walk(entry);
        } else if (item instanceof Set) {
          for (const entry of item) total += walk(entry);
        } else if (Array.isArray(item)) {
          let holes = 0;
          for (let index = 0; index < item.length; index++) {
            if (index in item) total += walk(item[index]);
            else if (++holes > SPARSE && holes > index - holes) return total + sparseRest(item, index, walk);
          }
        } else {
          for (const key in item) {
            if (Object.hasOwn(item, key)) total += 2 * key.length + walk((item as Record<string, unknown>)[key]);
          }
        }
        return total;
      }
      default:
        // undefined, and what cannot be stored at all (functions, symbols) and is rejected elsewhere.
        return 0;
    }
  };
  return walk(value);
}

/**
 * The bytes of an array's elements past `index`, for an array mostly of holes (ids as indexes: `byId[trackNumber] = …`):
 * structured cloning stores the elements it has, so they are walked by its own indexes, not every index below its
 * length (billions, for large ids). Apart from `walk`, whose frame each level of a deep value takes.
 */
function sparseRest(array: readonly unknown[], index: number, walk: (item: unknown) => number): number {
  let total = 0;
  for (const key in array) {
    const position = Number(key);
    if (position > index && position < array.length && Number.isInteger(position) && Object.hasOwn(array, key)) total += walk(array[position]);
  }
  return total;
}
