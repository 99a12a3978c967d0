/** The cache's longest key (MAX_KEY_LENGTH of src/cacheArgs.ts, not imported: it would bring the argument schemas). */
export const MAX_KEY_LENGTH = 4096;

/** Whether the cache refuses `key` as too long: it counts code points when the UTF-16 units are too many (see lengthAtMost). */
export function tooLongKey(key: string): boolean {
  return key.length > MAX_KEY_LENGTH && [...key].length > MAX_KEY_LENGTH;
}
