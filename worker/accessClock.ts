/** About a thousandth of a millisecond: a multiple of the spacing of doubles near epoch milliseconds (2^-12 now, 2^-10 from 2109), so each step is exact. */
const STEP = 2 ** -10;

/**
 * Times of use for least-recently-used eviction: `now`, but each later than the one before, so that two
 * uses in one millisecond (a write, then a read of another entry) still say which came last. IndexedDB
 * orders equal times in its access index by key, which says nothing of use.
 */
export function accessClock(now: () => number): () => number {
  let last = -Infinity;
  return () => (last = Math.max(now(), last + STEP));
}
