/** About a thousandth of a millisecond: a multiple of the spacing of doubles near epoch milliseconds (2^-12 now, 2^-10 from 2109), so each step is exact. */
const STEP = 2 ** -10;
/** A clock set back by more than this is followed; by less (a slewed clock, steps run ahead), not. */
const SET_BACK_MS = 1000;

/**
 * Times of use for least-recently-used eviction: `now`, but each later than the one before, so that two
 * uses in one millisecond (a write, then a read of another entry) still say which came last. IndexedDB
 * orders equal times in its access index by key, which says nothing of use. A clock set back (the
 * system clock corrected) is followed, as other tabs, the page's own reads and later sessions follow it:
 * times kept ahead of it would make this tab's uses newer than theirs until the clock caught up.
 */
export function accessClock(now: () => number): () => number {
  let last = -Infinity;
  return () => {
    const time = now();
    return (last = time < last - SET_BACK_MS ? time : Math.max(time, last + STEP));
  };
}
