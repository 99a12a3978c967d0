/**
 * This global scope's Web Locks, if it may use them. An opaque origin (a sandboxed iframe, a `data:`
 * page) has `navigator.locks`, but every request rejects with a SecurityError: that must mean "none
 * here" (locks over a channel, pings for a worker's death, cleanups run unlocked), not a raw error out
 * of getOrSet or a cleanup that never runs.
 */
export function locksHere(): LockManager | undefined {
  if (typeof navigator === 'undefined' || globalThis.origin === 'null') return undefined;
  return navigator.locks ?? undefined;
}
