/** How long a call (or a worker's start) waits for its answer before the worker is pinged. */
export const PROBE_AFTER_MS = 2000;
/** How long a ping may take: a worker that does not answer it in that time is hung or dead. */
export const PROBE_TIMEOUT_MS = 3000;

/** Pings a worker: 'alive' if it answers within PROBE_TIMEOUT_MS, else 'silent'. */
export function probeWorker(ping: () => Promise<unknown>): Promise<'alive' | 'silent'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(() => resolve('silent'), PROBE_TIMEOUT_MS)));
  return Promise.race([ping().then(() => 'alive' as const, () => 'silent' as const), silent]).finally(() => clearTimeout(timer));
}
