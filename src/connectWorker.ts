import * as Comlink from 'comlink';
import { wholeAnswer } from './answerParts';
import { CacheError, isCacheError } from './CacheError';
import { registerCacheErrorTransfer } from './cacheErrorTransfer';
import { channelRelay } from './channelRelay';
import { describeValue, namedReasonOf } from './describeValue';
import { inOrder } from './inOrder';
import { isPromiseLike } from './isPromiseLike';
import type { KeptMessages } from './KeptMessages';
import { locksHere } from './locksHere';
import { PROBE_AFTER_MS, probeWorker } from './probeWorker';
import { randomId } from './randomId';
import { abortReason, untilAborted } from './SharedFetch';
import { ENGINE_METHODS, WORKER_LOADED, type ClientCallbacks, type EngineApi, type EngineConnection, type LogPlace, type StorageKind, type WorkerHost, type WorkerOpenOptions } from './protocol';
import type { OpenTabChannel } from './TabChannel';
import { PACKAGE_WORKER } from './viteDepsWorker';
import { workerDeath } from './workerDeath';

/**
 * What to do when the default worker's script cannot be loaded. The browser says nothing useful (an
 * `error` event without a message), and the usual causes are two. A dev server that moved the library
 * away from its worker file: Vite 5, 6 and 7 pre-bundle dependencies with esbuild, which leaves
 * `new URL('../assets/…', import.meta.url)` pointing into their deps folder, where no worker is. Or a
 * bundler that does not emit the worker that URL names (esbuild, Rollup without a worker plugin): it
 * then points beside the app's bundle, where no worker is. A third, rarer: a library that bundled
 * Reprise into its own files. Vite's library mode (base `/`) rewrites the URL to the library's
 * `/assets/reprise-worker-<hash>.js`, a root path the app's bundler leaves as it is and the app does not
 * serve; with `reprise` external, the app's own bundler finds the worker.
 *
 * The fix's code names the worker by a plain string, not `new URL(…, import.meta.url)`: plugins that
 * find workers with a regular expression (not a parser) must not take this text for one.
 */
export const WORKER_START_HINT =
  "If this app runs on the dev server of Vite 5, 6 or 7, add `optimizeDeps: { exclude: ['reprise'] }` to its vite.config. " +
  "If a library bundled Reprise (Vite's library mode bundles dependencies), make `reprise` external in that library's build. " +
  "If the app's bundler emits no worker (esbuild, Rollup without a worker plugin), copy the file `reprise/worker` " +
  `(node_modules/${PACKAGE_WORKER}) into the files the app serves, and pass createCache ` +
  "`worker: () => new Worker('/reprise-worker.js', { type: 'module' })` with the URL of that copy";

/**
 * Starts a module Worker and opens the engine in it, through Comlink. The connection's `died` rejects
 * with `worker_failed` when the worker fails to load, crashes or is terminated (seen through a Web Lock
 * the worker holds; without Web Locks, through `probe`). A worker that fails before it has answered
 * is one that did not start: its error names `startHint`, when given.
 *
 * Comlink makes a proxy for every property read of a remote object and releases the worker's end when
 * it is garbage collected, from a FinalizationRegistry: JavaScript run in a page that may sit in the
 * back/forward cache, which evicts it. So every proxy is made once, here, and kept as long as the
 * connection.
 *
 * The worker's channels to the other tabs run through this page (`openChannel`, see channelRelay),
 * which checks their messages. `startHint`: what to tell the user when the worker's script cannot load;
 * `elsewhere`: a worker to try instead then (see viteDepsWorker).
 */
export async function connectWorker(
  createWorker: () => Worker,
  open: Omit<WorkerOpenOptions, 'lock' | 'relay'>,
  client: ClientCallbacks,
  how: { openChannel?: OpenTabChannel; startHint?: string; kept?: KeptMessages; elsewhere?: () => Worker; signal?: AbortSignal } = {},
): Promise<EngineConnection> {
  const { openChannel, startHint, kept, elsewhere, signal } = how;
  registerCacheErrorTransfer();
  let worker: Worker;
  try {
    worker = createWorker();
  } catch (error) {
    // A script of another origin (Reprise from a CDN): the browser refuses the worker at once. Any other
    // failure of the default worker is its URL, which a bundle that is no ES module cannot build (esbuild's
    // default iife leaves import.meta empty): the copy the start hint names needs no import.meta.
    const fix =
      (error as { name?: unknown } | null)?.name === 'SecurityError'
        ? ": a browser starts a worker only from the page's origin: serve Reprise from the page's own origin, or pass worker: false"
        : startHint
          ? `. ${startHint}`
          : '';
    throw workerDeath(new CacheError('worker_failed', `The cache worker could not be created (${namedReasonOf(error)})${fix}`, { cause: error }));
  }
  if (!isWorker(worker)) {
    // An async factory's Worker starts all the same: it must not run on unseen, nor its failure go unhandled.
    if (isPromiseLike(worker)) Promise.resolve(worker as unknown).then((late) => isWorker(late) && late.terminate()).catch(() => {});
    const what = isPromiseLike(worker) ? 'a Promise (it must create the Worker, not a promise of one)' : describeValue(worker);
    throw new CacheError('invalid_argument', `createCache's worker option returned ${what}, not a Worker`);
  }
  // The cache terminates a worker that dies and asks for the next: one given again would never answer.
  if (given.has(worker)) {
    throw new CacheError('invalid_argument', "createCache's worker option returned a Worker it had returned before: it must create a new one on each call (the cache starts another when one dies)");
  }
  given.add(worker);
  let fail!: (error: CacheError) => void;
  const died = new Promise<never>((_, reject) => (fail = (error) => reject(workerDeath(error))));
  let started = false;
  let unloaded = false;
  worker.addEventListener('error', (event) => {
    event.preventDefault?.();
    // A script that could not load says nothing (Chromium); one that ran and threw says what.
    unloaded ||= !started && !event.message;
    const message = started
      ? `The cache worker failed: ${event.message || 'it stopped'}`
      : `The cache worker could not start (${event.message || 'its script could not be loaded'})${startHint ? `. ${startHint}` : ''}`;
    fail(new CacheError('worker_failed', message));
  });
  const unreadable = () => fail(new CacheError('worker_failed', 'A message to or from the cache worker could not be read (a value nested too deep?)'));
  worker.addEventListener('messageerror', unreadable);
  const terminate = (reason = 'The cache worker was terminated') => {
    worker.terminate();
    fail(new CacheError('worker_failed', reason));
  };
  died.catch(() => worker.terminate());
  const locks = locksHere();
  const lock = locks ? `reprise:${open.name}:worker:${randomId()}` : null;
  // Closed with the worker (what it posted before still goes out): a new worker gets a relay of its own. First thing as it
  // dies (before a retry elsewhere, or RemoteEngine's next worker): the channel it listened on goes to `kept`, for the next relay.
  const relay = openChannel && channelRelay(openChannel, kept);
  died.catch(() => relay?.close());
  const options = Comlink.transfer({ ...open, lock, relay: relay?.port ?? null }, relay ? [relay.port] : []);
  const host = Comlink.wrap<WorkerHost>(worker);
  const [openEngine, ping] = [host.open, host.ping];
  // What this worker, and no other, said of its storage; told the page too (see PageTab). Where it stands: the page's kept messages too (see KeptMessages.listening).
  let storage: StorageKind | null = null;
  const opening = openEngine(
    options,
    Comlink.proxy({ ...client, listening: (from: LogPlace | null, unlogged?: { id: string; epoch: string }) => (kept?.listening(from, unlogged), client.listening(from)), storage: (where: StorageKind, name?: string | null) => client.storage?.((storage = where), name) }),
  );
  // Its script has run: it said so first thing, or answered a ping (a browser delivers what was posted before then, after).
  let heard = false;
  const loading = loaded(worker).then(() => void (heard = true));
  const pinged = () => ping().then(() => void (heard = true));
  const watching = watchStart(
    pinged,
    () => heard,
    (message) => {
      fail(new CacheError('worker_failed', message));
      worker.terminate();
    },
  );
  const proxies: unknown[] = [host, openEngine, ping];
  let remote: EngineApi | null = null;
  // An open that fails leaves a worker with no engine: it counts as dead, with the open's error.
  const opened = Promise.race([opening, died]).then(
    (port) => {
      // A call the worker could not read (it says so with a null, see exposeEngine), or an answer this page cannot: never answered.
      port.addEventListener('message', ({ data }) => data == null && unreadable());
      port.addEventListener('messageerror', unreadable);
      const engine = Comlink.wrap<EngineApi>(port);
      proxies.push(engine);
      const methods = engine as unknown as Record<string, unknown>;
      return (remote = Object.fromEntries(ENGINE_METHODS.map((method) => [method, methods[method]])) as unknown as EngineApi);
    },
    (error: unknown) => {
      const death = isCacheError(error) ? error : new CacheError('worker_failed', `The cache worker could not open the cache (${namedReasonOf(error)})`, { cause: error });
      fail(death);
      throw death;
    },
  );
  opened.then(watching.stop, watching.stop);
  try {
    // Loaded once it answers (after its open has begun): the connection is the caller's from then on,
    // while the engine opens its storage — which may wait on another tab — and the page reads for itself.
    // Or until the cache closes: it does not wait for a script still on its way (see LOAD_TIMEOUT_MS).
    await untilAborted(Promise.race([loading, pinged(), died]), signal, abortReason);
  } catch (error) {
    watching.stop();
    terminate();
    if (unloaded && elsewhere && !signal?.aborted) return connectWorker(elsewhere, open, client, { ...how, elsewhere: undefined });
    throw error;
  }
  started = true;
  // Each call goes to the engine once it is open, in the order made; close() does not wait for an open
  // (the worker is terminated after). A call's arguments are copied as it is made, as a message sent then
  // would be: the caller may change them right after (by postMessage once the engine is open and no call
  // made before waits for it; until then, here).
  const inTurn = inOrder(
    () => remote,
    () => opened,
  );
  const engine = Object.fromEntries(
    ENGINE_METHODS.map((method) => [
      method,
      (...args: unknown[]) => {
        if (!remote && method === 'close') return Promise.resolve();
        let sent = args;
        return inTurn(
          // A big answer comes in parts (see answerParts), each taken in in a task of its own.
          (open) => (open[method] as (...args: unknown[]) => Promise<unknown>)(...sent).then((answer) => wholeAnswer(answer, unreadable)),
          () => void (sent = structuredClone(args)),
        );
      },
    ]),
  ) as unknown as EngineApi;
  if (relay) {
    const { suspend, resume } = engine;
    // Stops listening at once: a page going into the back/forward cache may not run again before the worker answers.
    engine.suspend = () => (relay.pause(), suspend());
    // And listens again at once, for a worker whose engine still opens (an open one listens again itself).
    engine.resume = () => (relay.resume(), resume());
  }
  // The worker holds this lock from the start of its open while it lives, so a request made once it has
  // opened is granted exactly when it dies (terminate included). Until then, pings watch it.
  // A request the browser refuses (a document no longer fully active) leaves the pings to watch it, as
  // does a lock free once it opened: that worker took none (its own request was refused, or it has an
  // opaque origin, a data: URL worker's, and so no Web Locks), and would be taken for dead at once (a
  // worker that died just then is found so by the pings).
  const connection: EngineConnection & { proxies?: unknown[] } = { engine, died, terminate, storage: () => storage, opened, proxies, ping: () => ping() };
  const probe = () => void (connection.probe = () => ping());
  if (locks && lock) {
    const watch = (free: Lock | null) => (free ? probe() : locks.request(lock, () => fail(new CacheError('worker_failed', 'The cache worker stopped'))));
    void opened.then(() => locks.request(lock, { ifAvailable: true }, watch).catch(probe), () => {});
  } else probe();
  return connection;
}

/** The Workers connectWorker has been given. */
const given = new WeakSet<Worker>();

/** What connectWorker uses of a Worker: an app's own (or a test's) need be no instance of the global class. */
function isWorker(value: unknown): value is Worker {
  const worker = value as Partial<Worker> | null;
  return typeof worker?.addEventListener === 'function' && typeof worker.postMessage === 'function' && typeof worker.terminate === 'function';
}

function loaded(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const heard = (event: MessageEvent) => {
      if (event.data !== WORKER_LOADED) return;
      worker.removeEventListener('message', heard);
      resolve();
    };
    worker.addEventListener('message', heard);
  });
}

/** How long a worker's script may take to arrive (a slow network, a dev server transforming it) before its start counts as hung. */
const LOAD_TIMEOUT_MS = 60_000;

/**
 * While a worker's start has not answered (opening IndexedDB may wait on another tab's upgrade), pings
 * it every PROBE_AFTER_MS: one that does not answer is hung or dead, and `silent` runs. Without this, a
 * worker that hangs as it starts (where no Web Lock can tell) would leave createCache, or the calls made
 * while its engine opens, waiting for ever. Only once its script has run (`heard`): until then a ping
 * waits with the script's download, which a script that cannot be loaded ends with an error event, and
 * a slow network only late (up to LOAD_TIMEOUT_MS).
 */
function watchStart(ping: () => Promise<unknown>, heard: () => boolean, silent: (message: string) => void): { stop: () => void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = () =>
    (timer = setTimeout(() => {
      // A ping sent before the script ran may be answered just too late: silence counts from one sent after.
      const loaded = heard();
      void probeWorker(ping).then((answer) => stopped || (answer === 'silent' && loaded ? silent('The cache worker did not answer: its start hung') : next()));
    }, PROBE_AFTER_MS));
  next();
  const loading = setTimeout(() => stopped || heard() || silent(`The cache worker did not start: its script did not load within ${LOAD_TIMEOUT_MS / 1000} s`), LOAD_TIMEOUT_MS);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(loading);
    },
  };
}
