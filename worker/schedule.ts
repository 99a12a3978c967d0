/** Runs `run` about `ms` later. Injected (simulations run deferred work on their own turns, deterministically). */
export type Schedule = (run: () => void, ms: number) => void;

/** setTimeout, which must not keep a Node process alive. */
export const later: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  (timer as { unref?: () => void }).unref?.();
};
