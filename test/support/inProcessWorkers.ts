// Engines "in a worker" without a Worker: each connection runs a real Engine in this thread behind a
// boundary that copies every argument and result (as postMessage does) and that a test can kill.
import { vi } from 'vitest';
import { CacheClient } from '../../src/CacheClient';
import { CacheError } from '../../src/CacheError';
import { workerDeath } from '../../src/workerDeath';
import type { Schemas } from '../../src/Cache';
import { PageTab } from '../../src/PageTab';
import type { ClientCallbacks, EngineApi, EngineConnection, StorageKind } from '../../src/protocol';
import { channelRelay } from '../../src/channelRelay';
import { KeptMessages } from '../../src/KeptMessages';
import { DirectReads } from '../../src/DirectReads';
import { FetchLocks } from '../../src/FetchLocks';
import { ChannelLocks } from '../../src/ChannelLocks';
import { randomId } from '../../src/randomId';
import type { OpenTabChannel } from '../../src/TabChannel';
import { typesOf } from '../../src/typesOf';
import { RemoteEngine } from '../../src/RemoteEngine';
import { SmartCacheConfig } from '../../src/SmartCacheConfig';
import type { CacheConfig } from '../../src/configSchema';
import { Engine, type EngineOptions } from '../../worker/Engine';
import { relayedChannel } from '../../worker/relayedChannel';
import { remoteLogger } from '../../worker/remoteLogger';
import { tableOf } from './tableOf';

export interface InProcessWorker {
  /** Its engine, once opened (undefined before: as a real worker, it answers calls only then). */
  readonly engine: Engine;
  /** The worker dies: its pending and later calls fail with worker_failed, and it runs no more calls. */
  kill(): void;
  readonly dead: boolean;
}

type Method = keyof EngineApi;

export interface InProcessWorkersOptions {
  /** Called before each call reaches a worker's engine; may kill it (or another) first. */
  beforeCall?: (method: Method, args: unknown[], worker: InProcessWorker) => void | Promise<void>;
  /** Called when a worker's engine has answered a call, before the answer reaches the page; may kill it. */
  afterCall?: (method: Method, args: unknown[], worker: InProcessWorker) => void;
  /**
   * The page hears a worker's storage this many milliseconds after it is said (in a browser, the callback
   * travels on a port of its own, in no set order with the answers to calls).
   */
  storageDelayMs?: number;
  /** The page hears another tab's event this many milliseconds after the worker tells it (on that port too). */
  remoteEventDelayMs?: number;
  /** The worker hears the page's answer to that report this many milliseconds after the page has heard it (back on that port). */
  remoteEventAnswerDelayMs?: number;
  /** Called when a worker has started. */
  onStart?: (worker: InProcessWorker) => void;
  /** Called when a worker is killed, to end what a real dead worker could no longer do (its transactions). */
  onKill?: (worker: InProcessWorker) => void;
  /**
   * Opens the page's channels to the other tabs for a worker that starts: each worker's run through a
   * relay of the page made as it starts (as connectWorker makes one), given to `open` as its engine's
   * `openChannel`.
   */
  pageChannel?: () => OpenTabChannel;
  /** Opens the channels the page listens on as it waits for its next worker, whose relay takes the one open (see KeptMessages): by default `pageChannel`'s. */
  keptChannel?: () => OpenTabChannel;
  /**
   * Whether the next worker's script loads (true by default): one that does not never starts, and the
   * connection is refused as connectWorker refuses it (an error event before the worker ran: offline, a
   * deploy that removed the file). A promise: the script takes that long to load or fail (a slow network).
   */
  loads?: () => boolean | Promise<boolean>;
}

const copy = <T>(value: T): T => (value === undefined ? value : structuredClone(value));

/**
 * Connects engines built by `open`, one per connection; `workers` lists them in start order. As
 * connectWorker does, a connection is handed over once its "worker" has begun to open its engine, and
 * its calls wait for the open: the page reads for itself meanwhile.
 */
export function inProcessWorkers(
  open: (client: ClientCallbacks, worker: InProcessWorker, openChannel?: OpenTabChannel) => Promise<Engine>,
  options: InProcessWorkersOptions = {},
) {
  const workers: InProcessWorker[] = [];
  // As createCache keeps it for its workers (see KeptMessages): give it to RemoteEngine too.
  const kept = new KeptMessages((options.keptChannel ?? options.pageChannel)?.());
  const connect = (client: ClientCallbacks) => async (): Promise<EngineConnection> => {
    // Made as the worker is, before its script loads (as connectWorker makes it): it listens meanwhile.
    const relay = options.pageChannel && channelRelay(options.pageChannel(), kept);
    const loads = options.loads?.();
    if ((loads instanceof Promise ? await loads : loads) === false) {
      relay?.close();
      throw workerDeath(new CacheError('worker_failed', 'The cache worker could not start (its script could not be loaded)'));
    }
    let fail!: (error: CacheError) => void;
    // As connectWorker's: each error it rejects with is a death (see isWorkerDeath).
    const died = new Promise<never>((_, reject) => (fail = (error) => reject(workerDeath(error))));
    died.catch(() => relay?.close());
    let dead = false;
    // What this worker said of its storage (see connectWorker).
    let storage: StorageKind | null = null;
    // A dead worker's callbacks never reach the page.
    const callbacks: ClientCallbacks = {
      storage: async (where, name) => {
        if (options.storageDelayMs) await new Promise((resolve) => setTimeout(resolve, options.storageDelayMs));
        if (dead) return;
        storage = where;
        // As connectWorker tells the page (see PageTab).
        client.storage?.(where, name);
      },
      remoteEvent: async (...args) => {
        const sent = copy(args);
        if (options.remoteEventDelayMs) await new Promise((resolve) => setTimeout(resolve, options.remoteEventDelayMs));
        if (!dead) client.remoteEvent(...sent);
        if (options.remoteEventAnswerDelayMs) await new Promise((resolve) => setTimeout(resolve, options.remoteEventAnswerDelayMs));
      },
      // As connectWorker tells the page's kept messages too (see KeptMessages.listening).
      listening: (...args) => (dead ? undefined : (kept.listening(...copy(args)), client.listening(...copy(args)))),
      progress: (...args) => (dead ? undefined : client.progress(...args)),
      log: (...args) => (dead ? undefined : client.log(...args)),
      changed: (...args) => (dead ? undefined : client.changed(...copy(args))),
      // As connectWorker hands the worker every callback of the page's (see PageTab.callbacks).
      forgot: () => (dead ? undefined : client.forgot?.()),
      // A call the worker awaits, as through Comlink.
      readFrom: async () => (dead ? [] : [...((await client.readFrom?.()) ?? [])]),
    };
    let engine: Engine | undefined;
    const worker: InProcessWorker = {
      get engine() {
        return engine!;
      },
      get dead() {
        return dead;
      },
      kill() {
        if (dead) return;
        dead = true;
        fail(new CacheError('worker_failed', 'The cache worker stopped'));
        options.onKill?.(worker);
        void engine?.close();
      },
    };
    workers.push(worker);
    // An open that fails leaves a worker with no engine: dead, with the open's error (as connectWorker has it).
    const opening = open(callbacks, worker, relay && relayedChannel(relay.port)).then(
      (made) => {
        engine = made;
        // Killed while it opened: what it opened goes with it.
        if (dead) void made.close();
        else options.onStart?.(worker);
      },
      (error: unknown) => {
        if (dead) return;
        dead = true;
        fail(error instanceof CacheError ? error : new CacheError('worker_failed', `The cache worker could not open the cache (${String(error)})`));
      },
    );
    const opened = Promise.race([opening, died]).catch(() => {});
    const remote = new Proxy({} as EngineApi, {
      get: (_, method: Method) =>
        async (...args: unknown[]) => {
          // close() does not wait for an open: the worker is terminated after it.
          if (!engine && method === 'close') return;
          // As connectWorker's: the page stops listening at once.
          if (method === 'suspend') relay?.pause();
          if (method === 'resume') relay?.resume();
          // Copied when the call is made, as connectWorker copies one made while the engine opens.
          const sent = copy(args);
          await opened;
          await options.beforeCall?.(method, args, worker);
          if (dead) return died;
          const result = await (engine![method] as (...args: unknown[]) => Promise<unknown>)(...sent);
          options.afterCall?.(method, args, worker);
          // An answer the page would never receive.
          if (dead) return died;
          return copy(result);
        },
    });
    return { engine: remote, died, terminate: () => worker.kill(), storage: () => storage, opened };
  };
  return { workers, connect, kept };
}

/** A `beforeCall` that kills the worker as the first call of `method` reaches it (as a browser kills one: the call dies with it). */
export function killAtFirst(method: Method): NonNullable<InProcessWorkersOptions['beforeCall']> {
  let killed = false;
  return (called, _, worker) => {
    if (called !== method || killed) return;
    killed = true;
    worker.kill();
  };
}

export interface RemoteCacheOptions<S extends Schemas> extends InProcessWorkersOptions {
  name: string;
  indexedDB?: IDBFactory;
  config?: CacheConfig;
  schemas?: S;
  now?: () => number;
  engine?: Partial<EngineOptions>;
  /** More engine options for each worker as it starts (its own view of IndexedDB, which dies with it: see faultyIndexedDB's tabFactory). */
  workerEngine?: (worker: InProcessWorker) => Partial<EngineOptions>;
  /**
   * Reads persistent entries from the page, as createCache's caches do: through `indexedDB` by default
   * (when given), through another factory of the same databases when given one, or not at all with false.
   */
  direct?: boolean | IDBFactory;
  /** Each worker's open waits for this first (a test holds it to act while the engine opens). */
  opening?: () => Promise<void>;
  /**
   * One fetch per key with the other tabs (see FetchLocks). By default as createCache makes them: per cache name and
   * IndexedDB factory (tabs of one factory share them), over Node's BroadcastChannel (see ChannelLocks).
   */
  fetchLocks?: FetchLocks;
  /** How soon a worker that died is replaced after the one before (see RemoteEngineOptions.restartAfterMs). */
  restartAfterMs?: number;
}

/** A cache whose engine runs "in a worker" (see above), as createCache builds one with a real Worker. */
export async function openRemoteCache<S extends Schemas = Schemas>(options: RemoteCacheOptions<S>) {
  const logger = { error: vi.fn() };
  let client: CacheClient<S> | undefined;
  // As createCache keeps it (see PageTab).
  const tab = new PageTab(undefined, options.now);
  const callbacks = tab.callbacks(() => client, (message, error) => logger.error(message, error));
  const config = new SmartCacheConfig(options.config);
  const { workers, connect, kept } = inProcessWorkers(
    async (client, worker, openChannel) => {
      await options.opening?.();
      return Engine.create({
        name: options.name,
        config: tableOf(new SmartCacheConfig(config.toJSON())),
        indexedDB: options.indexedDB,
        now: options.now,
        cloneValues: false,
        // As in the real worker: the engine's reports travel to the page's logger.
        logger: remoteLogger(client.log),
        client,
        tab: tab.open,
        openChannel,
        ...options.engine,
        ...options.workerEngine?.(worker),
      });
    },
    options,
  );
  const page = options.direct === false ? undefined : options.direct === true || options.direct === undefined ? options.indexedDB : options.direct;
  const direct = page && new DirectReads({ name: options.name, indexedDB: page, types: typesOf(config.toJSON()), now: options.now });
  if (direct) tab.readsFrom(direct);
  const engine = await RemoteEngine.start({ connect: connect(callbacks), logger, direct, kept, restartAfterMs: options.restartAfterMs, now: options.now });
  client = new CacheClient<S>(engine, {
    schemas: options.schemas,
    logger,
    fetchLocks: options.fetchLocks ?? fetchLocksOf(options.name, options.indexedDB, logger),
    types: typesOf(config.toJSON()),
    // As createCache's: the worker is watched from close() on (see RemoteEngine.closing).
    onClosing: () => engine.closing(),
  });
  return { cache: client, workers, logger };
}

const storageIds = new WeakMap<IDBFactory, string>();

/**
 * The fetch locks createCache gives a cache (Node has no Web Locks: over a channel, see ChannelLocks): shared by the
 * tabs of one name on one IndexedDB factory, each cache its own without one. Under them a caller whose read missed
 * reads the key again once it holds the key's lock, as every cache a user opens does.
 */
function fetchLocksOf(name: string, indexedDB: IDBFactory | undefined, logger: { error: (...args: unknown[]) => void }): FetchLocks {
  const id = indexedDB && (storageIds.get(indexedDB) ?? randomId());
  if (indexedDB) storageIds.set(indexedDB, id!);
  const shared = `${name}:${id ?? randomId()}`;
  return new FetchLocks({
    name: shared,
    locks: new ChannelLocks(() => new BroadcastChannel(`reprise-locks:${shared}`)),
    openChannel: () => new BroadcastChannel(`reprise-fetch:${shared}`),
    logger,
  });
}
