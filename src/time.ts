/** Durations in seconds, as the policy table uses them. */
export const MINUTE = 60;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;
export const MONTH = 30 * DAY;
/** "Never expires": ten years, so it still fits every date arithmetic. */
export const INFINITE_TTL = 3650 * DAY;
export const DEFAULT_NEGATIVE_RESULT_TTL = MONTH;
