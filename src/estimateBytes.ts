import { CacheError, isCacheError } from './CacheError';
import { reasonOf } from './describeValue';
import type { EntryInput } from './protocol';

/**
 * Levels of nesting a stored value may have. Chromium's worker reads and sends back arrays nested about
 * 1,050 levels deep, objects 1,260 and Maps or Sets 2,620 (deeper, a value set could not be read, or
 * never reached the worker): half the least, so that a value stored is one that can be read.
 */
export const MAX_DEPTH = 500;

/** Fixed cost of an object or array container, on top of its contents. */
const CONTAINER = 16;

/** Arrays up to this long are walked by their own keys (their named properties counted); longer ones by index. */
const NAMED = 64;

/** Holes after which a long array where they outnumber the elements has the rest walked by its own keys. */
const SPARSE = 1024;

/**
 * An estimate of the bytes a value occupies once stored: strings at two bytes per UTF-16 unit (their
 * in-memory size, an upper bound for IndexedDB), numbers at eight, containers at their contents plus a
 * small overhead. Binary data counts its byte length, a typed array or DataView that of the whole
 * buffer it views. Shared and cyclic references count once, as structured cloning stores them once.
 * Throws `not_cloneable` for a value nested deeper than MAX_DEPTH levels.
 */
export function estimateBytes(value: unknown): number {
  const seen = new Set<object>();
  // The objects left to walk, a stack rather than recursion: a value nested as deep as structured cloning
  // goes (thousands of levels) is sized too, whatever the stack left below the call.
  const todo: object[] = [];
  // For each container whose walk goes on (the value's, then nested ones), where its contents start in `todo`:
  // how many it has is how deep the object walked is nested in the value.
  const within: number[] = [];
  let total = 0;
  const count = (item: unknown): void => {
    switch (typeof item) {
      case 'string':
        total += 2 * item.length;
        break;
      case 'number':
        total += 8;
        break;
      case 'boolean':
        total += 4;
        break;
      case 'bigint':
        total += 8 + Math.ceil(item.toString(16).length / 2);
        break;
      case 'object':
        if (item !== null && !seen.has(item)) {
          seen.add(item);
          todo.push(item);
        }
      // undefined, and what cannot be stored at all (functions, symbols) and is rejected elsewhere, count nothing.
    }
  };
  count(value);
  for (let item = todo.pop(); item; item = todo.pop()) {
    const start = todo.length;
    // (None left: undefined, which no number is below.)
    while (start < within[within.length - 1]!) within.pop();
    if (within.length >= MAX_DEPTH) throw new CacheError('not_cloneable', `it is nested deeper than ${MAX_DEPTH} levels`);
    // Structured cloning stores a view with the whole buffer behind it (a slice of a file stores the file), once.
    if (ArrayBuffer.isView(item)) count(item.buffer);
    else if (item instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && item instanceof SharedArrayBuffer)) total += item.byteLength;
    else if (typeof Blob !== 'undefined' && item instanceof Blob) total += item.size;
    // Pixels behind accessors, which for…in does not list.
    else if (typeof ImageData !== 'undefined' && item instanceof ImageData) count(item.data);
    else if (typeof ImageBitmap !== 'undefined' && item instanceof ImageBitmap) total += 4 * item.width * item.height;
    else if (item instanceof Date) total += 8;
    else if (item instanceof RegExp) total += 2 * item.source.length;
    // Stored as its text, not as an object of its indexes (which for…in lists).
    else if (item instanceof String) count(item.valueOf());
    else {
      total += CONTAINER;
      // What structured cloning keeps of an error (its own properties besides these it drops).
      if (item instanceof Error) {
        count(item.message);
        count(item.stack);
        count(item.cause);
      } else if (item instanceof Map) {
        for (const [key, entry] of item) {
          count(key);
          count(entry);
        }
      } else if (item instanceof Set) {
        for (const entry of item) count(entry);
      } else {
        // A long array's elements by index (for…in makes a string of each first: 12–15× the time, on the page
        // for each value it sends), until holes outnumber them (ids as indexes: `byId[trackNumber] = …`,
        // billions below its length); the rest, and what else a short one has, by its own keys: structured
        // cloning keeps an array's named properties (a match result's `input`). Those of a long array without
        // holes are left out: listing them lists every index.
        const length = Array.isArray(item) ? item.length : -1;
        let from = 0;
        if (length > NAMED) {
          for (let holes = 0; from < length; from++) {
            if (from in item) count((item as unknown[])[from]);
            else if (++holes > SPARSE && holes > from - holes) break;
          }
        }
        if (from < length || length <= NAMED) {
          for (const key in item) {
            if (!Object.hasOwn(item, key)) continue;
            const position = length < 0 ? -1 : Number(key);
            if (!(position >= 0 && Number.isInteger(position))) total += 2 * key.length;
            else if (position < from) continue;
            count((item as Record<string, unknown>)[key]);
          }
        }
      }
    }
    if (todo.length > start) within.push(start);
  }
  return total;
}

/**
 * An entry's value's estimate; a value nested too deep, or that throws as it is read (a getter), could not
 * be copied into storage either. The page checks what it sends a worker so: deeper than a worker's stack
 * lets it rebuild, a value would never be read there (its call answered only by the worker's death).
 * `measure`: structuredClone, to find which entry a worker's postMessage could not copy.
 */
export function valueBytes({ key, value }: EntryInput, measure: (value: unknown) => unknown = estimateBytes): number {
  try {
    return measure(value) as number;
  } catch (error) {
    const reason = isCacheError(error) ? error.message : `copying it threw (${reasonOf(error)})`;
    throw new CacheError('not_cloneable', `The value of "${key}" cannot be stored: ${reason}`, { cause: error });
  }
}
