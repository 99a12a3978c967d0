import * as Comlink from 'comlink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectWorker, WORKER_START_HINT } from '../src/connectWorker';
import { createCache, SmartCacheConfig } from '../src/index';
import { checkedChannel } from '../src/checkedChannel';
import { KeptMessages } from '../src/KeptMessages';
import { WORKER_LOADED, type WorkerHost, type WorkerOpenOptions } from '../src/protocol';
import { CHANNEL_VERSION } from '../src/TabChannel';
import { exposeEngine } from '../worker/exposeEngine';
import { relayedChannel } from '../worker/relayedChannel';
import { fakeLocks } from './support/fakeLocks';
import { rejection, uniqueName } from './support/openCache';

/** A Worker whose script fails to load, as a worker URL that 404s does: an `error` event, no messages. */
class WorkerThatFailsToLoad extends EventTarget {
  terminated = false;
  constructor(message: string | undefined) {
    super();
    setTimeout(() => this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message })), 5);
  }
  postMessage(): void {}
  terminate(): void {
    this.terminated = true;
  }
}

/** A Worker whose script loaded and exposes `host` (as worker/entry.ts does), over a MessageChannel in this thread. */
class WorkerWithHost extends EventTarget {
  readonly #port: MessagePort;
  terminated = false;
  constructor(host: WorkerHost) {
    super();
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.onmessage = (event) => this.dispatchEvent(new MessageEvent('message', { data: event.data }));
    Comlink.expose(host, port2);
  }
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.#port.postMessage(message, transfer as never);
  }
  terminate(): void {
    this.terminated = true;
    this.#port.close();
  }
}

/**
 * A Worker whose script is still downloading (a slow network, a busy dev server) until `load()`: as in a
 * browser, what the page posts meanwhile waits, and is delivered once the script has run (and posted
 * WORKER_LOADED, as worker/entry.ts does first thing).
 */
class WorkerStillLoading extends EventTarget {
  readonly #host: WorkerHost;
  #port: MessagePort | null = null;
  readonly #queued: [unknown, Transferable[]][] = [];
  terminated = false;
  constructor(host: WorkerHost) {
    super();
    this.#host = host;
  }
  load(): void {
    if (this.terminated) return;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.onmessage = (event) => this.dispatchEvent(new MessageEvent('message', { data: event.data }));
    port2.postMessage(WORKER_LOADED);
    Comlink.expose(this.#host, port2);
    for (const [message, transfer] of this.#queued.splice(0)) port1.postMessage(message, transfer as never);
  }
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.terminated) return;
    if (this.#port) this.#port.postMessage(message, transfer as never);
    else this.#queued.push([message, transfer]);
  }
  terminate(): void {
    this.terminated = true;
    this.#port?.close();
  }
}

/** A Worker loaded with `engine` as its engine, answering every ping. */
function workerWith(engine: object): WorkerWithHost {
  return new WorkerWithHost({ open: async () => exposeEngine(engine), ping: async () => {} });
}

/** A worker whose engine records the values each setMany receives, as they reached it. */
function recordingWorker(): { received: unknown[]; worker: WorkerWithHost } {
  const received: unknown[] = [];
  const engine = {
    setMany: async (_type: string, entries: { value: unknown }[]) => {
      received.push(...entries.map(({ value }) => value));
      return { stale: [], shared: false };
    },
  };
  return { received, worker: workerWith(engine) };
}

/** Moves faked timers on by `ms`, letting the real message ports deliver between steps. */
async function advance(ms: number): Promise<void> {
  for (let step = 0; step < ms; step += 100) {
    await vi.advanceTimersByTimeAsync(100);
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  }
}

const never = () => new Promise<never>(() => {});

const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
afterEach(() => {
  vi.useRealTimers();
  process.off('unhandledRejection', record);
  unhandled.length = 0;
});

/**
 * What `promise` has come to so far, as `now`: 'pending', then what `resolved` makes of its value or
 * `rejected` of its error (by default 'resolved', and the error's code).
 */
function settling<T>(
  promise: Promise<T>,
  rejected: (error: { code?: string; message: string }) => unknown = (error) => error.code,
  resolved: (value: T) => unknown = () => 'resolved',
): { readonly now: unknown } {
  const state = { now: 'pending' as unknown };
  promise.then(
    (value) => void (state.now = resolved(value)),
    (error: { code?: string; message: string }) => void (state.now = rejected(error)),
  );
  return state;
}

/** A rejection as its code and message. */
const codeAndMessage = (error: { code?: string; message: string }) => [error.code, error.message];

describe('connectWorker', () => {
  it('a worker that dies while starting: createCache rejects with worker_failed, terminates it, and leaves nothing unhandled', async () => {
    process.on('unhandledRejection', record);
    const workers: WorkerThatFailsToLoad[] = [];
    const error = await rejection(
      createCache({
        worker: () => {
          const worker = new WorkerThatFailsToLoad('Failed to fetch a worker script');
          workers.push(worker);
          return worker as unknown as Worker;
        },
      }),
    );
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('Failed to fetch a worker script');
    // Rejections nobody handled are reported after the microtasks of a task: give them a few tasks.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
    expect(workers.map((worker) => worker.terminated)).toEqual([true]);
  });

  it("a worker whose script cannot be loaded (Chromium's error event has no message) names the start hint: the fixes for Vite 5, 6 and 7's dev server and for bundlers that emit no worker", async () => {
    process.on('unhandledRejection', record);
    const error = await rejection(
      connectWorker(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker, { name: 'hint', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} }, { startHint: WORKER_START_HINT }),
    );
    console.log('connectWorker rejected with:', error.message);
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('could not start (its script could not be loaded)');
    expect(error.message).toContain("dev server of Vite 5, 6 or 7, add `optimizeDeps: { exclude: ['reprise'] }` to its vite.config");
    // and the fix for bundlers that emit no worker (esbuild, Rollup): a copy of the package's worker file.
    expect(error.message).toContain('copy the file `reprise/worker`');
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
  });

  it("a worker whose script cannot be loaded names the fix for a library that bundled Reprise (Vite's library mode points the worker at the library's own /assets/, which the app that installs it does not serve)", async () => {
    process.on('unhandledRejection', record);
    const error = await rejection(
      connectWorker(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker, { name: 'hint', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} }, { startHint: WORKER_START_HINT }),
    );
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain("If a library bundled Reprise (Vite's library mode bundles dependencies), make `reprise` external in that library's build.");
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
  });

  it("a default worker whose URL cannot be built (esbuild's default iife format leaves import.meta empty: Chromium's TypeError from new URL) names the start hint, whose copy works there", async () => {
    process.on('unhandledRejection', record);
    const invalid = new TypeError("Failed to construct 'URL': Invalid URL");
    const error = await rejection(
      connectWorker(
        () => {
          throw invalid;
        },
        { name: 'hint', config: {}, tab: { id: 'page', since: null } },
        { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} },
        { startHint: WORKER_START_HINT },
      ),
    );
    expect(error).toMatchObject({ code: 'worker_failed', cause: invalid });
    expect(error.message).toContain("could not be created (TypeError: Failed to construct 'URL': Invalid URL)");
    expect(error.message).toContain('copy the file `reprise/worker`');
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
  });

  describe("a worker whose script cannot be loaded, with another place to try (Vite 5–7's dev server, see viteDepsWorker)", () => {
    const open = { name: 'elsewhere', config: {}, tab: { id: 'page', since: null } };
    const client = { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} };

    it("starts the worker from there: the connection is that worker's, and the first is terminated", async () => {
      process.on('unhandledRejection', record);
      const first = new WorkerThatFailsToLoad(undefined);
      const engine = { stats: async () => 'from the second worker' };
      const second = workerWith(engine);
      const connection = await connectWorker(() => first as unknown as Worker, open, client, { startHint: WORKER_START_HINT, elsewhere: () => second as unknown as Worker });
      expect(await connection.engine.stats()).toBe('from the second worker');
      expect([first.terminated, second.terminated]).toEqual([true, false]);
      connection.terminate();
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(unhandled).toEqual([]);
    });

    it("the page's channel, which listened while the first was loading, listens on for the worker from there: another tab's message is told to it once", async () => {
      const name = uniqueName();
      const openChannel = checkedChannel(() => new BroadcastChannel(name));
      const kept = new KeptMessages(openChannel);
      const told: unknown[] = [];
      let ask!: () => void;
      const asked = new Promise<void>((resolve) => (ask = resolve));
      // Its engine asks for its channel once the test says so.
      const open = async ({ relay }: WorkerOpenOptions) => {
        await asked;
        await relayedChannel(relay!)((message) => told.push(message)).ready;
        return exposeEngine({});
      };
      const second = new WorkerWithHost({ open, ping: async () => {} } as unknown as WorkerHost);
      const connection = await connectWorker(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker, { name, config: {}, tab: { id: 'page', since: null } }, client, {
        openChannel,
        kept,
        startHint: WORKER_START_HINT,
        elsewhere: () => second as unknown as Worker,
      });
      const other = new BroadcastChannel(name);
      const hello = { v: CHANNEL_VERSION, kind: 'hello', origin: 'other', logs: true };
      other.postMessage(hello);
      await new Promise((resolve) => setTimeout(resolve, 20));
      ask();
      await connection.opened;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(told).toEqual([hello]);
      other.close();
      connection.terminate();
      kept.stop();
    });

    it('where that script cannot be loaded either: worker_failed naming the start hint, both terminated, nothing unhandled', async () => {
      process.on('unhandledRejection', record);
      const workers = [new WorkerThatFailsToLoad(undefined), new WorkerThatFailsToLoad(undefined)];
      const made = [...workers];
      const error = await rejection(connectWorker(() => made.shift() as unknown as Worker, open, client, { startHint: WORKER_START_HINT, elsewhere: () => made.shift() as unknown as Worker }));
      expect(error).toMatchObject({ code: 'worker_failed' });
      expect(error.message).toContain("add `optimizeDeps: { exclude: ['reprise'] }` to its vite.config");
      expect(workers.map((worker) => worker.terminated)).toEqual([true, true]);
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(unhandled).toEqual([]);
    });

    it('a worker whose script loaded but threw before answering (an error event with a message) is not tried elsewhere: its own error is told', async () => {
      process.on('unhandledRejection', record);
      const elsewhere = vi.fn(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker);
      const error = await rejection(connectWorker(() => new WorkerThatFailsToLoad('Uncaught SyntaxError: Unexpected token') as unknown as Worker, open, client, { startHint: WORKER_START_HINT, elsewhere }));
      expect(error).toMatchObject({ code: 'worker_failed' });
      expect(error.message).toContain('Uncaught SyntaxError: Unexpected token');
      expect(elsewhere).not.toHaveBeenCalled();
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(unhandled).toEqual([]);
    });

    it('a worker that loaded and then failed is not tried elsewhere: that failure is its', async () => {
      process.on('unhandledRejection', record);
      const elsewhere = vi.fn(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker);
      const worker = new WorkerWithHost({ open: never, ping: async () => {} });
      const connection = await connectWorker(() => worker as unknown as Worker, open, client, { startHint: WORKER_START_HINT, elsewhere });
      worker.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError' }));
      const error = await rejection(connection.died);
      expect(error.message).toBe('The cache worker failed: Uncaught RangeError');
      expect(elsewhere).not.toHaveBeenCalled();
    });
  });

  it('a worker whose start hangs (it never says its script ran, answers neither its open nor a ping, and no error event comes): createCache rejects with worker_failed within a minute, and terminates it', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const worker = new WorkerWithHost({ open: never, ping: never });
    const outcome = settling(createCache({ name: 'hung', worker: () => worker as unknown as Worker }), codeAndMessage);
    // As long as a script may take to download: a ping waits for it.
    await advance(59_000);
    expect(outcome.now).toBe('pending');
    await advance(2000);
    expect(outcome.now).toEqual(['worker_failed', 'The cache worker did not start: its script did not load within 60 s']);
    expect(worker.terminated).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('a worker whose script takes 8 s to download (a slow network): createCache waits for it and resolves; the worker is not taken for hung', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const engine = { stats: async () => 'stats' };
    const worker = new WorkerStillLoading({ open: async () => exposeEngine(engine), ping: async () => {} } as unknown as WorkerHost);
    const creating = createCache({ name: 'slow-script', worker: () => worker as unknown as Worker });
    const outcome = settling(creating, codeAndMessage);
    await advance(8000);
    expect(outcome.now).toBe('pending');
    worker.load();
    await advance(200);
    expect(outcome.now).toBe('resolved');
    expect(worker.terminated).toBe(false);
    const cache = await creating;
    expect(await cache!.stats()).toBe('stats');
    expect(unhandled).toEqual([]);
    await cache!.close();
  });

  it('a worker whose script ran (it said so) but that answers neither its open nor a ping: its calls reject with worker_failed within seconds, and it is terminated', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const worker = new WorkerStillLoading({ open: never, ping: never });
    worker.load();
    const cache = await createCache({ name: 'loaded-hangs', worker: () => worker as unknown as Worker, logger: { error() {} } });
    const outcome = settling(cache.stats(), codeAndMessage);
    await advance(6000);
    expect(outcome.now).toEqual(['worker_failed', 'The cache worker did not answer: its start hung']);
    expect(worker.terminated).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('a worker whose engine is slow to open but that answers pings (its IndexedDB waits on another tab): createCache resolves, and its calls wait for the open', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pings = vi.fn(async () => {});
    let opened!: () => void;
    const engine = { stats: async () => 'stats' };
    const open = () => new Promise((resolve) => (opened = () => resolve(exposeEngine(engine))));
    const worker = new WorkerWithHost({ open, ping: pings } as unknown as WorkerHost);
    const cache = await createCache({ name: 'slow', worker: () => worker as unknown as Worker });
    const outcome = settling(cache.stats(), (error) => error.message, (stats) => stats);
    await advance(20_000);
    expect(outcome.now).toBe('pending');
    expect(worker.terminated).toBe(false);
    // Watched all along: a worker that stopped answering would be taken for dead.
    expect(pings.mock.calls.length).toBeGreaterThanOrEqual(5);
    opened();
    await advance(100);
    expect(outcome.now).toBe('stats');
  });

  it('a worker that loaded but whose engine hangs as it opens (no answer to pings either): its calls reject with worker_failed, and it is terminated', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let answers = true;
    const worker = new WorkerWithHost({ open: never, ping: () => (answers ? Promise.resolve() : never()) });
    const cache = await createCache({ name: 'hangs-opening', worker: () => worker as unknown as Worker, logger: { error() {} } });
    answers = false;
    const outcome = settling(cache.stats(), codeAndMessage);
    await advance(6000);
    expect(outcome.now).toEqual(['worker_failed', 'The cache worker did not answer: its start hung']);
    expect(worker.terminated).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it.each<[string, () => Error, string]>([
    ['a TypeError (a bug in a worker of its own)', () => new TypeError('engine.open is not a function'), 'TypeError: engine.open is not a function'],
    ['a DOMException (a copy that failed)', () => new DOMException('function could not be cloned', 'DataCloneError'), 'DataCloneError: function could not be cloned'],
  ])('an open that fails with %s: worker_failed names the error’s kind, not only its message', async (_what, thrown, says) => {
    const open = () => new Promise((_, reject) => setTimeout(() => reject(thrown()), 10));
    const worker = new WorkerWithHost({ open, ping: async () => {} } as unknown as WorkerHost);
    const cache = await createCache({ name: 'open-kind', worker: () => worker as unknown as Worker, logger: { error() {} } });
    const error = await rejection(cache.stats());
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain(says);
    await cache.close();
  });

  it('a worker factory that returns one Worker every time: once it has died, calls reject at once with invalid_argument saying so, not after a minute waiting on a terminated worker', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const worker = workerWith({ stats: async () => 'stats' });
    const cache = await createCache({ name: 'one-worker', worker: () => worker as unknown as Worker, logger: { error() {} } });
    expect(await cache.stats()).toBe('stats');
    // It crashes (out of memory): the cache terminates it and asks the factory for the next.
    worker.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError: Array buffer allocation failed' }));
    await advance(100);
    const outcome = settling(cache.stats(), codeAndMessage);
    await advance(2000);
    expect(outcome.now).toEqual(['invalid_argument', expect.stringContaining('returned a Worker it had returned before')]);
    expect(unhandled).toEqual([]);
    await cache.close();
  });

  it('an engine whose open fails after createCache resolved: its calls reject with that error, and nothing is left unhandled', async () => {
    process.on('unhandledRejection', record);
    const errors: string[] = [];
    const workers: WorkerWithHost[] = [];
    const worker = () => {
      workers.push(new WorkerWithHost({ open: () => new Promise((_, reject) => setTimeout(() => reject(new Error('the open broke')), 10)), ping: async () => {} }));
      return workers.at(-1) as unknown as Worker;
    };
    const cache = await createCache({ name: 'open-fails', worker, logger: { error: (message) => errors.push(message) } });
    const error = await rejection(cache.stats());
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('the open broke');
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    // Taken for a dead worker: terminated, said, and replaced.
    expect(workers[0]!.terminated).toBe(true);
    expect(errors[0]).toBe('Reprise: the cache worker died; starting a new one');
    expect(unhandled).toEqual([]);
    await cache.close();
  });

  it('a call made while the engine opens sends its arguments as they were when it was made, not as the caller changed them after', async () => {
    let opened!: () => void;
    const received: unknown[] = [];
    const engine = { setMany: async (...args: unknown[]) => void received.push(args) };
    const open = () => new Promise((resolve) => (opened = () => resolve(exposeEngine(engine))));
    const worker = new WorkerWithHost({ open, ping: async () => {} } as unknown as WorkerHost);
    const connection = await connectWorker(() => worker as unknown as Worker, { name: 'copies', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} });
    const value = { title: 'as given' };
    const call = connection.engine.setMany('generic', [{ key: 'k', value }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    value.title = 'changed after';
    opened();
    await call;
    expect(received).toEqual([['generic', [{ key: 'k', value: { title: 'as given' } }]]]);
    connection.terminate();
  });

  it('a call made once the engine has opened sends its arguments as they were when it was made, not as the caller changed them right after', async () => {
    const { received, worker } = recordingWorker();
    const cache = await createCache({ name: 'copies-open', worker: () => worker as unknown as Worker });
    await cache.set('generic', 'first', 'the engine is open');
    // Not awaited: the caller goes on with its values (a form's state, a list it builds) at once.
    const value = { title: 'as given' };
    const setting = cache.set('generic', 'k', value);
    value.title = 'changed after';
    const entries = [{ key: 'm', value: { n: 1 } }];
    const many = cache.setMany('generic', entries);
    entries[0]!.value.n = 2;
    await Promise.all([setting, many]);
    expect(received).toEqual(['the engine is open', { title: 'as given' }, { n: 1 }]);
    worker.terminate();
  });

  it('a small setMany whose first value takes longer than a slice to check (a big value, a busy device) sends its values as they were when it was made, not as the caller changed them right after', async () => {
    const { received, worker } = recordingWorker();
    // Its check of a big value holds the thread 15 ms: longer than a slice of the page's checks (10 ms).
    const slow = (value: unknown) => {
      for (const until = performance.now() + 15; performance.now() < until; );
      return { value };
    };
    const schemas = { generic: { '~standard': { version: 1 as const, vendor: 'test', validate: (value: unknown) => ((value as { big?: boolean }).big ? slow(value) : { value }) } } };
    const cache = await createCache({ name: 'copies-slow-check', worker: () => worker as unknown as Worker, schemas });
    await cache.set('generic', 'first', { opened: true });
    // Not awaited: the caller goes on with its values at once.
    const entries = [
      { key: 'big', value: { big: true, n: 1 } },
      { key: 'small', value: { n: 1 } },
    ];
    const many = cache.setMany('generic', entries);
    entries[0]!.value.n = 2;
    entries[1]!.value.n = 2;
    await many;
    expect(received).toEqual([{ opened: true }, { big: true, n: 1 }, { n: 1 }]);
    worker.terminate();
  });

  it('a Web Lock request the browser refuses (a document no longer fully active) leaves nothing unhandled, and pings watch the worker instead', async () => {
    process.on('unhandledRejection', record);
    // A detached iframe's navigator: locks exist, every request rejects.
    const refuse = () => Promise.reject(new DOMException('The document is not active.', 'InvalidStateError'));
    vi.stubGlobal('navigator', { locks: { request: refuse, query: refuse } });
    try {
      const worker = workerWith({});
      const connection = await connectWorker(() => worker as unknown as Worker, { name: 'refused', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} });
      await connection.opened;
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      // Its death is no longer seen through the lock: a call that waits long pings it.
      expect(connection.probe).toBeTypeOf('function');
      connection.terminate();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a worker that holds no lock (its own request refused, or an opaque origin: a data: URL worker has none) is watched by pings, not taken for dead when the page gets the lock at once', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks().agent().locks });
    try {
      // It opens without taking the lock, as worker/entry.ts does where its Web Locks refuse or are none.
      const worker = workerWith({});
      const connection = await connectWorker(() => worker as unknown as Worker, { name: 'unlocked', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} });
      let died: unknown;
      connection.died.catch((error: unknown) => void (died = error));
      await connection.opened;
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(died).toBeUndefined();
      expect(worker.terminated).toBe(false);
      expect(connection.probe).toBeTypeOf('function');
      connection.terminate();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a worker that holds its lock is taken for dead when it dies, through the lock', async () => {
    const registry = fakeLocks();
    vi.stubGlobal('navigator', { locks: registry.agent().locks });
    try {
      const thread = registry.agent();
      const host = {
        open: async ({ lock }: { lock: string }) => {
          await new Promise<void>((held) => void thread.locks.request(lock, () => (held(), new Promise(() => {}))));
          return exposeEngine({});
        },
        ping: async () => {},
      };
      const worker = new WorkerWithHost(host as unknown as WorkerHost);
      const connection = await connectWorker(() => worker as unknown as Worker, { name: 'locked', config: {}, tab: { id: 'page', since: null } }, { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} });
      await connection.opened;
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(connection.probe).toBeUndefined();
      thread.kill();
      expect(await rejection(connection.died)).toMatchObject({ code: 'worker_failed', message: 'The cache worker stopped' });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a worker that stops answering once open (no message, no error event): close() resolves within seconds, terminates it, and leaves nothing unhandled', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let answers = true;
    const answer = <T>(value: T) => (answers ? Promise.resolve(value) : never());
    const engine = { stats: () => answer('stats'), close: () => answer(undefined) };
    const worker = new WorkerWithHost({ open: async () => exposeEngine(engine), ping: () => answer(undefined) } as unknown as WorkerHost);
    const cache = await createCache({ name: 'goes-silent', worker: () => worker as unknown as Worker, logger: { error() {} } });
    expect(await cache.stats()).toBe('stats');
    // Its thread hangs (a loop that never ends): nothing more comes from it.
    answers = false;
    const outcome = settling(cache.close());
    await advance(10_000);
    expect(outcome.now).toBe('resolved');
    expect(worker.terminated).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('a worker that holds its Web Lock and stops answering with a call in flight: close() resolves within seconds, the call rejects with worker_failed, the worker is terminated', async () => {
    process.on('unhandledRejection', record);
    const registry = fakeLocks();
    vi.stubGlobal('navigator', { locks: registry.agent().locks });
    try {
      const thread = registry.agent();
      let answers = true;
      const answer = <T>(value: T) => (answers ? Promise.resolve(value) : never());
      const engine = { stats: () => answer('stats'), close: () => answer(undefined) };
      const host = {
        open: async ({ lock }: { lock: string }) => {
          await new Promise<void>((held) => void thread.locks.request(lock, () => (held(), new Promise(() => {}))));
          return exposeEngine(engine);
        },
        ping: () => answer(undefined),
      };
      const worker = new WorkerWithHost(host as unknown as WorkerHost);
      const cache = await createCache({ name: 'silent-locked', worker: () => worker as unknown as Worker, logger: { error() {} } });
      expect(await cache.stats()).toBe('stats');
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      // Its thread hangs (a loop that never ends): it still holds its lock, and nothing more comes from it.
      answers = false;
      const call = settling(cache.stats());
      await advance(1000);
      const outcome = settling(cache.close());
      await advance(10_000);
      expect([call.now, outcome.now]).toEqual(['worker_failed', 'resolved']);
      expect(worker.terminated).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  describe('a worker that holds its Web Lock and stops answering while the cache stays open (a loop that never ends)', () => {
    /** Workers that hold their lock from their open, each on its own thread of the lock registry (killed when terminated, as a browser releases its locks). */
    function lockedWorkers(engineOf: (index: number) => object, pingOf: (index: number) => () => Promise<void>) {
      const registry = fakeLocks();
      vi.stubGlobal('navigator', { locks: registry.agent().locks });
      const workers: WorkerWithHost[] = [];
      const create = () => {
        const index = workers.length;
        const thread = registry.agent();
        const host = {
          open: async ({ lock }: { lock: string }) => {
            await new Promise<void>((held) => void thread.locks.request(lock, () => (held(), new Promise(() => {}))));
            return exposeEngine(engineOf(index));
          },
          ping: pingOf(index),
        };
        const worker = new WorkerWithHost(host as unknown as WorkerHost);
        const terminate = worker.terminate.bind(worker);
        worker.terminate = () => (thread.kill(), terminate());
        workers.push(worker);
        return worker as unknown as Worker;
      };
      return { workers, create };
    }

    it('its calls reject with worker_failed once it has been silent to pings for about 30 s, it is terminated, and a next worker answers the later calls', async () => {
      process.on('unhandledRejection', record);
      try {
        let answers = true;
        const answer = <T>(index: number, value: T) => (index > 0 || answers ? Promise.resolve(value) : never());
        const { workers, create } = lockedWorkers(
          (index) => ({ keys: () => answer(index, [`a key of worker ${index}`]), close: () => answer(index, undefined) }),
          (index) => () => answer(index, undefined),
        );
        const cache = await createCache({ name: 'hangs-open', worker: create, logger: { error() {} } });
        expect(await cache.keys('generic')).toEqual(['a key of worker 0']);
        for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        answers = false;
        const call = settling(cache.keys('generic'));
        await advance(60_000);
        expect(call.now).toBe('worker_failed');
        expect(workers[0]!.terminated).toBe(true);
        expect(await cache.keys('generic')).toEqual(['a key of worker 1']);
        await cache.close();
        expect(unhandled).toEqual([]);
      } finally {
        vi.unstubAllGlobals();
      }
    });

    it('its calls reject with a message that says why: it stopped answering, for how long (an app’s logs make sense of it)', async () => {
      process.on('unhandledRejection', record);
      try {
        let answers = true;
        const answer = <T>(index: number, value: T) => (index > 0 || answers ? Promise.resolve(value) : never());
        const errors: [string, unknown][] = [];
        const { create } = lockedWorkers(
          (index) => ({ keys: () => answer(index, [`a key of worker ${index}`]), close: () => answer(index, undefined) }),
          (index) => () => answer(index, undefined),
        );
        const cache = await createCache({ name: 'hangs-said', worker: create, logger: { error: (message, error) => errors.push([message, error]) } });
        expect(await cache.keys('generic')).toEqual(['a key of worker 0']);
        for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        answers = false;
        const call = settling(cache.keys('generic'), codeAndMessage);
        await advance(60_000);
        expect(call.now).toEqual(['worker_failed', 'The cache worker stopped answering (no answer to pings for 30 s): it was terminated']);
        // The page's log says the same of the death.
        expect(errors.map(([message, error]) => [message, (error as Error).message])).toContainEqual([
          'Reprise: the cache worker died; starting a new one',
          'The cache worker stopped answering (no answer to pings for 30 s): it was terminated',
        ]);
        await cache.close();
        expect(unhandled).toEqual([]);
      } finally {
        vi.unstubAllGlobals();
      }
    });

    it('one busy in a single long task (silent to pings for 20 s, then answering) is not terminated: its call resolves', async () => {
      try {
        let busy: (() => void) | null = null;
        const busyFor = new Promise<void>((done) => (busy = done));
        let answers = true;
        const answer = <T>(value: T) => (answers ? Promise.resolve(value) : busyFor.then(() => value));
        const { workers, create } = lockedWorkers(
          () => ({ stats: () => answer('stats'), close: () => answer(undefined) }),
          () => () => answer(undefined),
        );
        const cache = await createCache({ name: 'busy-open', worker: create, logger: { error() {} } });
        expect(await cache.stats()).toBe('stats');
        for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        answers = false;
        const call = settling(cache.stats(), undefined, (stats) => stats);
        await advance(20_000);
        busy!();
        answers = true;
        await advance(100);
        expect(call.now).toBe('stats');
        expect(workers.map((worker) => worker.terminated)).toEqual([false]);
        await cache.close();
      } finally {
        vi.unstubAllGlobals();
      }
    });
  });

  it('close() while the replacement of a worker that died is still loading its script (a slow network) does not wait for it: it resolves at once, and that worker is terminated', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const first = workerWith({ stats: async () => 'stats', close: async () => {} });
    const replacement = new WorkerStillLoading({ open: never, ping: async () => {} } as unknown as WorkerHost);
    const workers = [first, replacement];
    const cache = await createCache({ name: 'close-replacing', worker: () => workers.shift() as unknown as Worker, logger: { error() {} } });
    expect(await cache.stats()).toBe('stats');
    // The worker crashes; the page starts the next one at once, whose script takes long to arrive.
    first.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError' }));
    await advance(1000);
    expect(workers).toEqual([]);
    const outcome = settling(cache.close());
    await advance(3000);
    expect(outcome.now).toBe('resolved');
    expect(replacement.terminated).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('close() while the replacement of a worker that died is still loading its script: a call that waited for it (an updatePolicy the page follows) rejects with closed, which is told to no one, not a raw AbortError', async () => {
    process.on('unhandledRejection', record);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const first = workerWith({ stats: async () => 'stats', close: async () => {} });
    const replacement = new WorkerStillLoading({ open: never, ping: async () => {} } as unknown as WorkerHost);
    const workers = [first, replacement];
    const errors: [string, unknown][] = [];
    const config = new SmartCacheConfig();
    const cache = await createCache({ name: 'close-replacing-policy', config, worker: () => workers.shift() as unknown as Worker, logger: { error: (message, error) => errors.push([message, error]) } });
    expect(await cache.stats()).toBe('stats');
    first.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError' }));
    await advance(1000);
    expect(workers).toEqual([]);
    // The app changes a policy: the page sends it to the worker, which waits for the replacement's script.
    config.updatePolicy('generic', { ttlSeconds: 60 });
    errors.length = 0;
    const outcome = settling(cache.close());
    await advance(3000);
    expect(outcome.now).toBe('resolved');
    expect(errors.map(([message, error]) => [message, (error as Error).name, (error as { code?: string }).code])).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('close() while the engine is still opening does not wait for the open: it resolves, and the worker is terminated', async () => {
    const worker = new WorkerWithHost({ open: never, ping: async () => {} });
    const cache = await createCache({ name: 'close-opening', worker: () => worker as unknown as Worker });
    await cache.close();
    expect(worker.terminated).toBe(true);
  });

  it("a big answer (entries of 5,000, getMany of 5,000) reaches the page in messages of at most 2,000 entries each, every one its own task of taking in, whole and in key order", async () => {
    const listed = Array.from({ length: 5000 }, (_, index) => ({ key: `k${String(index).padStart(4, '0')}`, value: { index }, revision: index }));
    const engine = { entries: async () => listed, getMany: async (_type: string, keys: string[]) => keys.map((key, index) => (index % 7 ? { value: key, revision: index } : undefined)), close: async () => {} };
    const worker = workerWith(engine);
    const cache = await createCache({ name: 'big-answers', worker: () => worker as unknown as Worker });
    // The longest array any message of an answer carries (not a call's: its keys): each message is taken in (its copy rebuilt) in one task of the page.
    let longest = 0;
    const longestIn = (value: unknown, depth: number): number =>
      depth > 4 || typeof value !== 'object' || value === null ? 0 : Math.max(Array.isArray(value) ? value.length : 0, ...Object.values(value).map((inner) => longestIn(inner, depth + 1)));
    const post = MessagePort.prototype.postMessage;
    const spy = vi.spyOn(MessagePort.prototype, 'postMessage').mockImplementation(function (this: MessagePort, message: unknown, ...rest: unknown[]) {
      if (!(typeof message === 'object' && message !== null && 'argumentList' in message)) longest = Math.max(longest, longestIn(message, 0));
      return (post as (...args: unknown[]) => void).call(this, message, ...rest);
    });
    try {
      expect(await cache.entries('generic')).toEqual(listed.map(({ key, value }) => [key, value]));
      const keys = listed.map(({ key }) => key);
      expect(await cache.getMany('generic', keys)).toEqual(keys.map((key, index) => (index % 7 ? key : undefined)));
    } finally {
      spy.mockRestore();
    }
    expect(longest).toBeLessThanOrEqual(2000);
    await cache.close();
  });

  it('a big answer with a part the page cannot read (an entry nested 2,000 levels deep, which Node posts but cannot rebuild) rejects with worker_failed instead of hanging or coming short', async () => {
    process.on('unhandledRejection', record);
    let deep: unknown = 'leaf';
    for (let level = 0; level < 2000; level++) deep = { a: deep };
    const listed = Array.from({ length: 5000 }, (_, index) => ({ key: `k${index}`, value: index === 4000 ? deep : index, revision: index }));
    const worker = workerWith({ entries: async () => listed, close: async () => {} });
    const cache = await createCache({ name: 'unreadable-part', worker: () => worker as unknown as Worker, logger: { error() {} } });
    const call = settling(cache.entries('generic'), codeAndMessage);
    for (let wait = 0; wait < 40 && call.now === 'pending'; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(call.now).toEqual(['worker_failed', expect.stringContaining('A message to or from the cache worker could not be read')]);
    expect(worker.terminated).toBe(true);
    await cache.close();
    expect(unhandled).toEqual([]);
  });

  it('a call whose message the worker cannot read (a messageerror: made an object nested 2,000 levels deep as it is posted, which Node posts but cannot rebuild) rejects with worker_failed instead of hanging: that worker is terminated, and a next one answers later calls', async () => {
    process.on('unhandledRejection', record);
    const workers: WorkerWithHost[] = [];
    const create = () => {
      const index = workers.length;
      // `committed`: asked of the next worker whether the write happened (it did not).
      const engine = { setMany: async () => ({ stale: [], shared: false }), committed: async () => false, keys: async () => [`a key of worker ${index}`], close: async () => {} };
      const worker = workerWith(engine);
      workers.push(worker);
      return worker as unknown as Worker;
    };
    const cache = await createCache({ name: 'unreadable-call', worker: create, logger: { error() {} } });
    expect(await cache.keys('generic')).toEqual(['a key of worker 0']);
    let deep: unknown = 'leaf';
    for (let level = 0; level < 2000; level++) deep = { a: deep };
    // The page refuses such a value itself (see valueBytes): the message becomes one as it leaves.
    const post = MessagePort.prototype.postMessage;
    const spy = vi.spyOn(MessagePort.prototype, 'postMessage').mockImplementation(function (this: MessagePort, message: unknown, ...rest: unknown[]) {
      const unreadable = JSON.stringify(message)?.includes('"unreadable"') ? deep : message;
      return (post as (...args: unknown[]) => void).call(this, unreadable, ...rest);
    });
    const call = settling(cache.set('generic', 'unreadable', 1), codeAndMessage);
    for (let wait = 0; wait < 40 && call.now === 'pending'; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
    spy.mockRestore();
    expect(call.now).toEqual(['worker_failed', expect.stringContaining('A message to or from the cache worker could not be read')]);
    expect(workers[0]!.terminated).toBe(true);
    expect(await cache.keys('generic')).toEqual(['a key of worker 1']);
    await cache.close();
    expect(unhandled).toEqual([]);
  });
});
