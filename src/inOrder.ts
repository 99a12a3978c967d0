/**
 * Calls that need something which may not be ready yet (a worker's engine, a check that must pass):
 * made at once, not after an await, when it is ready and no earlier call still waits for it; otherwise
 * once `wait` gives it, in the order made. At once matters: a call made before `close()` then reaches
 * its target before it, and a message posted then copies its arguments as they were.
 *
 * `ready` gives the thing when it is ready (else undefined or null); `wait` gives it later, or rejects,
 * and each waiting call gets that rejection. A call's `onWait` runs, synchronously, when it has to wait.
 */
export function inOrder<R>(ready: () => R | null | undefined, wait: () => PromiseLike<R>) {
  let waiting = 0;
  return <T>(call: (ready: R) => T | PromiseLike<T>, onWait?: () => void): Promise<T> => {
    try {
      const now = waiting === 0 ? ready() : undefined;
      if (now !== undefined && now !== null) return Promise.resolve(call(now));
      onWait?.();
      waiting++;
      return Promise.resolve(wait()).then(
        (later) => {
          waiting--;
          return call(later);
        },
        (error: unknown) => {
          waiting--;
          throw error;
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
