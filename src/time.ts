/**
 * The clock when none is injected: the global Date.now as it is at each call, not as it was when the
 * cache opened — apps test their caching with a clock they mock later (vi.setSystemTime, fake timers),
 * which replaces the global Date.
 */
export const epochNow = (): number => Date.now();

/** The longest delay setTimeout takes as such, in milliseconds: a longer one (Infinity too) fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Durations in seconds, as the policy table uses them. */
export const MINUTE = 60;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;
export const MONTH = 30 * DAY;
/** "Never expires": ten years, so it still fits every date arithmetic. */
export const INFINITE_TTL = 3650 * DAY;
export const DEFAULT_NEGATIVE_RESULT_TTL = MONTH;
