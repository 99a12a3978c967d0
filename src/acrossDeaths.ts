import { isCacheError } from './CacheError';

/** How many workers in a row a change is sent to (or asked whether it happened) before it rejects with worker_failed: one that kills each is not retried for ever. */
const WORKERS_PER_CHANGE = 4;

/**
 * Runs `attempt` again on the next worker each time its worker dies (worker_failed), up to
 * WORKERS_PER_CHANGE times: the worker that answers a retry may die too, after the change happened.
 */
export async function acrossDeaths<T>(attempt: (retry: boolean) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(tries > 1);
    } catch (error) {
      if (tries >= WORKERS_PER_CHANGE || !isCacheError(error, 'worker_failed')) throw error;
    }
  }
}
