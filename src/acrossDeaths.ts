import { CacheError, isCacheError } from './CacheError';
import { isWorkerDeath, workerDeath } from './workerDeath';

/** How many workers in a row a change is sent to (or asked whether it happened) before it rejects with worker_failed: one that kills each is not retried for ever. */
const WORKERS_PER_CHANGE = 4;

/**
 * Runs `attempt` again on the next worker each time its worker dies (see isWorkerDeath), up to
 * WORKERS_PER_CHANGE times: the worker that answers a retry may die too, after the change happened.
 * Once a worker has died during the call (`died`: before the first attempt, which then asks whether
 * it happened), any failure leaves that unknown: worker_failed, not an error that says nothing happened.
 */
export async function acrossDeaths<T>(attempt: (retry: boolean) => Promise<T>, died = false): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(tries > 1);
    } catch (error) {
      const death = isWorkerDeath(error);
      if (death && tries < WORKERS_PER_CHANGE) continue;
      // But quota_exceeded: a full disk refused the retry once it had read, in that transaction, that the change had not landed;
      // and a live worker's own worker_failed, which says it cannot tell. A death's says only that a worker stopped, or could not start.
      if ((died || tries > 1) && !isCacheError(error, 'quota_exceeded') && (death || !isCacheError(error, 'worker_failed'))) {
        const unknown = new CacheError('worker_failed', `The cache worker stopped during this call, and whether it happened could not be learnt (${String(error)})`, { cause: error });
        // Still a death (an adapter may send the call again to the next worker: see isWorkerDeath).
        throw death ? workerDeath(unknown) : unknown;
      }
      throw error;
    }
  }
}
