import * as Comlink from 'comlink';
import { CacheError } from './CacheError';
import { registerCacheErrorTransfer } from './cacheErrorTransfer';
import { randomId } from './randomId';
import { ENGINE_METHODS, type ClientCallbacks, type EngineApi, type EngineConnection, type WorkerHost, type WorkerOpenOptions } from './protocol';

/**
 * Starts a module Worker and opens the engine in it, through Comlink. The connection's `died` rejects
 * with `worker_failed` when the worker fails to load, crashes or is terminated (seen through a Web Lock
 * the worker holds; without Web Locks, through `probe`).
 *
 * Comlink makes a proxy for every property read of a remote object and releases the worker's end when
 * it is garbage collected, from a FinalizationRegistry: JavaScript run in a page that may sit in the
 * back/forward cache, which evicts it. So every proxy is made once, here, and kept as long as the
 * connection.
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
  const terminate = () => {
    worker.terminate();
    fail(new CacheError('worker_failed', 'The cache worker was terminated'));
  };
  died.catch(() => worker.terminate());
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  const lock = locks ? `reprise:${open.name}:worker:${randomId()}` : null;
  const host = Comlink.wrap<WorkerHost>(worker);
  const [openEngine, ping] = [host.open, host.ping];
  let remote: Comlink.Remote<EngineApi>;
  try {
    remote = (await Promise.race([openEngine({ ...open, lock }, Comlink.proxy(client)), died])) as unknown as Comlink.Remote<EngineApi>;
  } catch (error) {
    terminate();
    throw error;
  }
  const engine = Object.fromEntries(ENGINE_METHODS.map((method) => [method, remote[method]])) as unknown as EngineApi;
  // The worker holds this lock while it lives, so the request is granted exactly when it dies (terminate included).
  if (locks && lock) void locks.request(lock, () => fail(new CacheError('worker_failed', 'The cache worker stopped')));
  const connection: EngineConnection & { proxies?: unknown[] } = { engine, died, terminate, proxies: [host, openEngine, ping, remote] };
  if (!locks) connection.probe = () => ping();
  return connection;
}
