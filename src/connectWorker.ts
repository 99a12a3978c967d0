import * as Comlink from 'comlink';
import { CacheError } from './CacheError';
import { registerCacheErrorTransfer } from './cacheErrorTransfer';
import { channelRelay } from './channelRelay';
import { randomId } from './randomId';
import { ENGINE_METHODS, type ClientCallbacks, type EngineApi, type EngineConnection, type WorkerHost, type WorkerOpenOptions } from './protocol';
import type { OpenTabChannel } from './TabChannel';

/**
 * Starts a module Worker and opens the engine in it, through Comlink. The connection's `died` rejects
 * with `worker_failed` when the worker fails to load, crashes or is terminated (seen through a Web Lock
 * the worker holds; without Web Locks, through `probe`).
 *
 * Comlink makes a proxy for every property read of a remote object and releases the worker's end when
 * it is garbage collected, from a FinalizationRegistry: JavaScript run in a page that may sit in the
 * back/forward cache, which evicts it. So every proxy is made once, here, and kept as long as the
 * connection.
 *
 * The worker's channels to the other tabs run through this page (`openChannel`, see channelRelay),
 * which checks their messages.
 */
export async function connectWorker(
  createWorker: () => Worker,
  open: Omit<WorkerOpenOptions, 'lock' | 'relay'>,
  client: ClientCallbacks,
  openChannel?: OpenTabChannel,
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
  // Closed with the worker: a new worker gets a relay of its own.
  const relay = openChannel && channelRelay(openChannel);
  died.catch(() => relay?.close());
  const options = Comlink.transfer({ ...open, lock, relay: relay?.port ?? null }, relay ? [relay.port] : []);
  const host = Comlink.wrap<WorkerHost>(worker);
  const [openEngine, ping] = [host.open, host.ping];
  let remote: Comlink.Remote<EngineApi>;
  try {
    remote = (await Promise.race([openEngine(options, Comlink.proxy(client)), died])) as unknown as Comlink.Remote<EngineApi>;
  } catch (error) {
    terminate();
    throw error;
  }
  const engine = Object.fromEntries(ENGINE_METHODS.map((method) => [method, remote[method]])) as unknown as EngineApi;
  if (relay) {
    const { suspend } = engine;
    // Stops listening at once: a page going into the back/forward cache may not run again before the worker answers.
    engine.suspend = () => (relay.pause(), suspend());
  }
  // The worker holds this lock while it lives, so the request is granted exactly when it dies (terminate included).
  if (locks && lock) void locks.request(lock, () => fail(new CacheError('worker_failed', 'The cache worker stopped')));
  const connection: EngineConnection & { proxies?: unknown[] } = { engine, died, terminate, proxies: [host, openEngine, ping, remote] };
  if (!locks) connection.probe = () => ping();
  return connection;
}
