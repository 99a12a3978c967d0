import { isCacheError, type CacheError } from './CacheError';

/** The worker_failed errors made on the page as it saw a worker die. */
const deaths = new WeakSet<object>();

/** `error`, known from now on as a worker's death (see isWorkerDeath). */
export function workerDeath(error: CacheError): CacheError {
  deaths.add(error);
  return error;
}

/**
 * True for the error of a worker's death: a call that met it may be sent again, to the next worker. A
 * live worker's own worker_failed ("unknown if it landed") is not one: asking it again tells nothing more.
 */
export function isWorkerDeath(error: unknown): boolean {
  // A worker whose open failed is dead with the open's error, which may say something else (invalid_config): not retried.
  return isCacheError(error, 'worker_failed') && deaths.has(error);
}
