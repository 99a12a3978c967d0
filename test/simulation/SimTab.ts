// One simulated browser tab: a real CacheClient over a real RemoteEngine, whose "worker" is a real
// Engine in this thread behind a copying, killable boundary (test/support/inProcessWorkers), opening
// IndexedDB through its own view of the shared fake-indexeddb factory, talking over the simulated
// channel, holding simulated Web Locks. A killed worker takes its transactions, channel and locks with it.
import type { Schemas } from '../../src/Cache';
import { CacheClient } from '../../src/CacheClient';
import { checkedChannel } from '../../src/checkedChannel';
import type { CacheEvent } from '../../src/cacheEvent';
import type { CacheConfig } from '../../src/configSchema';
import { PageTab } from '../../src/PageTab';
import { DirectReads } from '../../src/DirectReads';
import { FetchLocks } from '../../src/FetchLocks';
import { RemoteEngine } from '../../src/RemoteEngine';
import { SmartCacheConfig } from '../../src/SmartCacheConfig';
import { typesOf } from '../../src/typesOf';
import { Engine } from '../../worker/Engine';
import { inProcessWorkers, type InProcessWorker } from '../support/inProcessWorkers';
import { tabFactory, type Tab } from '../support/faultyIndexedDB';
import { Random } from './random';
import type { SimLocks } from './SimLocks';
import type { SimNetwork } from './SimNetwork';
import { tableOf } from '../support/tableOf';

export interface SimWorld {
  seed: number;
  name: string;
  inner: IDBFactory;
  network: SimNetwork;
  /** The read-through's fetch channel, apart from the tabs' (see FetchLocks). */
  fetchNetwork: SimNetwork;
  locks: SimLocks | null;
  now: () => number;
  random: Random;
  config: CacheConfig;
  /** Errors the library reported through its logger (never thrown): kept for the failure report. */
  logged: string[];
}

/** The seed of the streams that are not the scenario's: Math.random's and setMany's slices (see runSimulation). */
export const drawsOf = (seed: number): number => seed ^ Number(process.env['SIM_DRAWS'] ?? 0x5eed);

/** Entries per setMany step and IndexedDB requests per batch: small, so that every run crosses chunks. */
export const SIM_SET_MANY_CHUNK = 8;
export const SIM_REQUEST_CHUNK = 5;
/** Entries per import transaction: a setMany of more is an import of several steps (see IdbStore.import). */
export const SIM_IMPORT_CHUNK = 4;

interface Worker {
  readonly name: string;
  readonly idb: Tab;
  handle?: InProcessWorker;
}

export class SimTab {
  readonly id: string;
  /** Refused IndexedDB (a private window): every type lives in its workers' memory. */
  readonly degraded: boolean;
  readonly #world: SimWorld;
  #workers = 0;
  #current: Worker | null = null;
  /** With the simulation's two types of the app's own (see runSimulation). */
  cache!: CacheClient<Schemas, 'lyrics' | 'scratch'>;
  #remote!: RemoteEngine;
  /** Changes when the memory tier is lost: a worker died or the page reloaded. */
  generation = 0;
  suspended = false;
  /**
   * Whether the current worker has been frozen: a message the page had passed on to it just before is
   * then dropped by the worker's closed channel unread (replayed from the log if it mattered), as in a browser.
   */
  frozeSinceStart = false;
  /** The channel names of the workers of this tab's page (since its last reload), in start order: its stats() counts are theirs. */
  pageChannels: string[] = [];
  /** Which page this is: one more at each reload (a reloaded tab is another page). */
  page = 0;
  /** From the start of a reload until the next page opens: the page's cache is closing or closed (calls made meanwhile reject with `closed`). */
  unloading = false;
  /**
   * The channels the workers of this tab's pages opened to the other tabs (through the page's relay): how many
   * deliveries the network had made as each opened, and as it closed with its tab frozen (the worker's `suspend`;
   * null: not so), and the messages it received. One the page had passed on to it that came after is dropped unread.
   */
  readonly workerChannels: { openedAt: number; frozenAt: number | null; received: unknown[] }[] = [];
  /** What this tab's `on('*')` listener was told, and by which of its pages. */
  readonly heard: { event: CacheEvent; source: 'local' | 'remote'; page: number }[] = [];
  /**
   * The pages told they forgot (README, Limits: "every watcher of every type in that tab hears once
   * `{ type, keys: null, kind: 'invalidate', source: 'remote' }`"), as a watcher of negative_result hears
   * it: a type no event reaches, so nothing else tells it that.
   */
  readonly forgot = new Set<number>();
  #pageTab: PageTab | undefined;
  /** Told when a page (SimTab.page) first has a place in the event log (see placed). */
  onPlaced?: (page: number) => void;
  /** Told of each hearing as it happens (for the failure report's history). */
  onHeard?: (heard: SimTab['heard'][number]) => void;

  private constructor(world: SimWorld, id: string, degraded: boolean) {
    this.#world = world;
    this.id = id;
    this.degraded = degraded;
  }

  static async open(world: SimWorld, id: string, degraded: boolean): Promise<SimTab> {
    const tab = new SimTab(world, id, degraded);
    await tab.#openCache();
    return tab;
  }

  /** Whether a worker of this page has told it where it stands in the event log (its next worker goes on from there: see PageTab). */
  get placed(): boolean {
    return !!this.#pageTab?.open.since;
  }

  /** The current worker's name on the simulated channel. */
  get channelName(): string {
    return this.#current?.name ?? this.id;
  }

  /** The worker dies now (crash, terminate): its calls fail, its memory is gone, the next call starts another. */
  kill(): void {
    this.#current?.handle?.kill();
  }

  /** The browser closes this tab's current connections under it (cleared site data, a backend failure). */
  loseConnection(): void {
    this.#current?.idb.loseConnection();
  }

  /** Closes the page's cache and opens a new one, as a reload does. */
  async reload(): Promise<void> {
    const old = this.cache;
    this.generation++;
    this.unloading = true;
    // Calls made meanwhile go to the closing cache and are rejected with `closed`, as on a page being unloaded.
    await old.close().catch(() => {});
    this.suspended = false;
    try {
      await this.#openCache();
    } finally {
      this.unloading = false;
    }
  }

  suspend(): Promise<void> {
    this.suspended = true;
    this.frozeSinceStart = true;
    return this.#remote.suspend();
  }

  resume(): Promise<void> {
    this.suspended = false;
    return this.#remote.resume();
  }

  async close(): Promise<void> {
    await this.cache.close().catch(() => {});
  }

  async #openCache(): Promise<void> {
    const world = this.#world;
    let client: CacheClient<Schemas, 'lyrics' | 'scratch'> | undefined;
    // As createCache keeps it (see PageTab): a reloaded tab is another page.
    const tab = (this.#pageTab = new PageTab(`${this.id}/page${this.#workers}`, world.now));
    const told = tab.callbacks(() => client, (message, error) => logger.error(message, error));
    // The page as it will be numbered once open (see `page` below): told when a worker first gives it a place.
    const opening = this.page + 1;
    const placing =
      <A extends unknown[]>(call: (...args: A) => void) =>
      (...args: A): void => {
        const was = !!tab.open.since;
        call(...args);
        if (!was && tab.open.since) this.onPlaced?.(opening);
      };
    const callbacks = { ...told, listening: placing(told.listening), remoteEvent: placing(told.remoteEvent) };
    const logger = { error: (message: string, error: unknown) => world.logged.push(`${this.id}: ${message} ${String(error)}`) };
    const config = new SmartCacheConfig(world.config);
    const schedule = world.random.fork();
    const workerOf = new WeakMap<InProcessWorker, Worker>();
    // Named as it starts, when the page opens its channel for it (see connectWorker).
    let starting = '';
    const pageChannels: string[] = (this.pageChannels = []);
    const workers = inProcessWorkers(
      (client, handle, openChannel) => {
        const worker: Worker = { name: starting, idb: tabFactory(world.inner), handle };
        workerOf.set(handle, worker);
        if (this.degraded) worker.idb.refuse();
        this.#current = worker;
        return Engine.create({
          name: world.name,
          config: tableOf(new SmartCacheConfig(config.toJSON())),
          indexedDB: worker.idb.factory,
          now: world.now,
          cloneValues: false,
          logger,
          client,
          // Through the page, which checks them (a stranger may post malformed messages) and listens from the worker's start.
          openChannel:
            openChannel &&
            ((receive) => {
              const record = { openedAt: world.network.deliveries.length, frozenAt: null as number | null, received: [] as unknown[] };
              this.workerChannels.push(record);
              const channel = openChannel((message) => (record.received.push(message), receive(message)));
              const close = () => {
                if (this.suspended) record.frozenAt ??= world.network.deliveries.length;
                channel.close();
              };
              return { ...channel, close };
            }),
          locks: world.locks?.manager(worker.name),
          // Deferred work runs some turns later, as the seed says: deterministic, unlike timers. A turn
          // stands for about 50 ms (a few calls), up to a few hundred turns.
          schedule: (run, ms) => afterTurns(1 + schedule.int(Math.max(1, Math.min(400, Math.ceil(ms / 50)))), run),
          requestChunk: SIM_REQUEST_CHUNK,
          importChunk: SIM_IMPORT_CHUNK,
          tab: tab.open,
        });
      },
      {
        keptChannel: () => {
          // A number of the page's own: a channel it listened on until it closed is never named as the next page's first worker.
          this.#workers++;
          // Taken by the next worker's relay, which sends and hears on it (see KeptMessages.stop): named after that worker.
          return (receive) => checkedChannel(world.network.opener(`${this.id}/w${this.#workers + 1}`))(receive);
        },
        pageChannel: () => {
          this.frozeSinceStart = false;
          pageChannels.push((starting = `${this.id}/w${++this.#workers}`));
          return checkedChannel(world.network.opener(starting));
        },
        onKill: (handle) => {
          const worker = workerOf.get(handle);
          if (!worker) return;
          if (worker === this.#current) this.generation++;
          worker.idb.kill();
          // Its page's channel still listening listens on for the next worker, whose relay takes it (see channelRelay's close):
          // named after that worker from now on, as the one the page opens for it would be (see keptChannel). The others close.
          world.network.rename(worker.name, `${this.id}/w${this.#workers + 1}`);
          world.locks?.kill(worker.name);
        },
      },
    );
    // The page reads persistent entries itself, as createCache's do, through a connection of its own. A
    // degraded tab is one whose IndexedDB cannot be opened (private mode): by its page neither.
    const pageIdb = tabFactory(world.inner);
    if (this.degraded) pageIdb.refuse();
    const direct = new DirectReads({ name: world.name, indexedDB: pageIdb.factory, types: typesOf(config.toJSON()), now: world.now });
    // With what the page hears while it waits to replace a dead worker, for the next one, as createCache's (see KeptMessages).
    this.#remote = await RemoteEngine.start({ connect: workers.connect(callbacks), logger, direct, kept: workers.kept });
    // setMany's validation yields when its slice's time is up: on a loaded machine, at any check. Here, as
    // the seed says (a tick of 0–15 "ms" per look at the clock), so that a failing seed replays.
    const slices = new Random((drawsOf(world.seed) * 31 + this.#workers) | 0);
    let ms = 0;
    const clock = () => (ms += slices.int(16));
    // One fetch per key for all tabs, as createCache's: a Web Lock per key, held by the page (without Web Locks, none).
    const pageName = `${this.id}/page${this.page + 1}`;
    const fetchLocks = new FetchLocks({ name: world.name, locks: world.locks?.manager(pageName), openChannel: () => world.fetchNetwork.opener(pageName)(), logger });
    client = new CacheClient<Schemas, 'lyrics' | 'scratch'>(this.#remote, { logger, setManyChunk: SIM_SET_MANY_CHUNK, types: typesOf(config.toJSON()), clock, fetchLocks });
    this.cache = client;
    // Listeners run for every event, local or remote; the simulation checks what they are told.
    const page = ++this.page;
    client.on('*', (event, context) => {
      this.heard.push({ event, source: context.source, page });
      this.onHeard?.(this.heard.at(-1)!);
    });
    client.watch('negative_result', null, ({ keys, kind, source }) => {
      if (keys === null && kind === 'invalidate' && source === 'remote') this.forgot.add(page);
    });
  }
}

export function afterTurns(turns: number, run: () => void): void {
  if (turns <= 0) run();
  else setImmediate(() => afterTurns(turns - 1, run));
}
