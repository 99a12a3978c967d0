/** About a thousandth of a millisecond: a multiple of the spacing of doubles near epoch milliseconds (2^-12 now, 2^-10 from 2109), so each step is exact. */
const STEP = 2 ** -10;
/** A clock set back by more than this is followed; by less (a slewed clock), not. */
const SET_BACK_MS = 1000;

/**
 * Times of use for least-recently-used eviction: `now`, but each later than the one before, so that two
 * uses in one millisecond (a write, then a read of another entry) still say which came last. IndexedDB
 * orders equal times in its access index by key, which says nothing of use. A clock set back (the
 * system clock corrected) is followed, as other tabs, the page's own reads and later sessions follow it:
 * times kept ahead of it would make this tab's uses newer than theirs until the clock caught up. A set
 * back is told from what the clock said before, not from the times given: many uses at once (each entry
 * of a big setMany) run ahead of the clock by their steps, and are no set back. `at`: when a use told
 * late was made (a read the page answered, told up to a second after): that time, if before now, but
 * still after every use given a time before it, which it came after.
 */
export function accessClock(now: () => number): (at?: number) => number {
  let last = -Infinity;
  /** The latest time the clock gave since it was last followed back. */
  let latest = -Infinity;
  return (at = Infinity) => {
    const time = now();
    if (time < latest - SET_BACK_MS) latest = last = time;
    else {
      latest = Math.max(latest, time);
      last = Math.max(Math.min(time, at), last + STEP);
    }
    return last;
  };
}
