import * as Comlink from 'comlink';
import { CacheError } from './CacheError';
import { registerCacheErrorTransfer } from './cacheErrorTransfer';
import { randomId } from './randomId';
import type { ClientCallbacks, EngineApi, EngineConnection, WorkerHost, WorkerOpenOptions } from './protocol';

/**
 * Starts a module Worker and opens the engine in it, through Comlink. The connection's `died` rejects
 * with `worker_failed` when the worker fails to load, crashes or is terminated.
 */
export async function connectWorker(
  createWorker: () => Worker,
  open: Omit<WorkerOpenOptions, 'lock'>,
  client: ClientCallbacks,
): Promise<EngineConnection> {
  registerCacheErrorTransfer();
  let worker: Worker;
  try {
    worker = createWorker();
  } catch (error) {
    throw new CacheError('worker_failed', `The cache worker could not be created (${String(error)})`, { cause: error });
  }
  let fail!: (error: CacheError) => void;
  const died = new Promise<never>((_, reject) => (fail = reject));
  worker.addEventListener('error', (event) => {
    event.preventDefault?.();
    fail(new CacheError('worker_failed', `The cache worker failed: ${event.message || 'it could not start'}`));
  });
  worker.addEventListener('messageerror', () => fail(new CacheError('worker_failed', 'The cache worker sent a message that could not be read')));
  const terminate = () => worker.terminate();
  died.catch(terminate);
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  const lock = locks ? `reprise:${open.name}:worker:${randomId()}` : null;
  const host = Comlink.wrap<WorkerHost>(worker);
  // The engine comes back as a proxy of its own; the host's wrapper is only needed for this call.
  let engine: EngineApi;
  try {
    engine = (await Promise.race([host.open({ ...open, lock }, Comlink.proxy(client)), died])) as unknown as EngineApi;
  } catch (error) {
    terminate();
    throw error;
  }
  // The worker holds this lock while it lives, so the request is granted exactly when it dies (terminate included).
  if (locks && lock) void locks.request(lock, () => fail(new CacheError('worker_failed', 'The cache worker stopped')));
  return { engine, died, terminate };
}
