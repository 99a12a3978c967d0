/**
 * Runs `run` about `ms` later; may return a way to cancel it. Injected (simulations run deferred work on
 * their own turns, deterministically).
 */
export type Schedule = (run: () => void, ms: number) => void | (() => void);

/** setTimeout, which must not keep a Node process alive. */
export const later: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  (timer as { unref?: () => void }).unref?.();
  return () => clearTimeout(timer);
};
