import { expect, it } from 'vitest';
import { MAX_KEY_LENGTH as cacheLimit } from '../../src/cacheArgs';
import { MAX_KEY_LENGTH, tooLongKey } from '../../src/tanstack-query/maxKeyLength';

// The adapter keeps its own copy of the cache's limit (importing cacheArgs would bring the argument schemas into it).
it('is the cache’s own key limit, counted as the cache counts it (code points once the UTF-16 units are too many)', () => {
  expect(MAX_KEY_LENGTH).toBe(cacheLimit);
  expect(tooLongKey('k'.repeat(cacheLimit))).toBe(false);
  expect(tooLongKey('k'.repeat(cacheLimit + 1))).toBe(true);
  // 4,096 emoji: 8,192 UTF-16 units, 4,096 code points — the cache takes it.
  expect(tooLongKey('🎵'.repeat(cacheLimit))).toBe(false);
  expect(tooLongKey('🎵'.repeat(cacheLimit + 1))).toBe(true);
});
