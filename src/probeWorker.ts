/** How long a call (or a worker's start) waits for its answer before the worker is pinged. */
export const PROBE_AFTER_MS = 2000;
/**
 * How often a worker whose death cannot be observed (no Web Locks) is pinged while no call waits on it:
 * one that died then is found so, as a Web Lock tells it at once (see RemoteEngine's idle watch).
 */
export const IDLE_PROBE_MS = 10_000;
/** How long a ping may take: a worker that does not answer it in that time is hung or dead. */
export const PROBE_TIMEOUT_MS = 3000;
/**
 * How many pings in a row, one each PROBE_TIMEOUT_MS, a worker whose death its Web Lock tells may leave
 * unanswered before it is taken for hung (about 30 s). A healthy worker answers between any two tasks,
 * and its longest is one IndexedDB request's values read, or one answer copied for postMessage: a whole
 * type's entries (IdbStore's listing reads them in one getAll), which would have to be gigabytes to take
 * that long. A page whose own thread was busy, or frozen, meanwhile loses one ping of the count, not all.
 */
export const HUNG_AFTER_PINGS = 10;

/** Pings a worker: 'alive' if it answers within PROBE_TIMEOUT_MS, else 'silent'. */
export function probeWorker(ping: () => Promise<unknown>): Promise<'alive' | 'silent'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(() => resolve('silent'), PROBE_TIMEOUT_MS)));
  return Promise.race([ping().then(() => 'alive' as const, () => 'silent' as const), silent]).finally(() => clearTimeout(timer));
}
