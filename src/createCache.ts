import * as z from 'zod/mini';
import type { Cache, Schemas, SchemasOf } from './Cache';
import { loggerSchema } from './cacheArgs';
import { acrossDeaths } from './acrossDeaths';
import { CacheClient } from './CacheClient';
import { cacheInternals } from './cacheInternals';
import { CacheError, invalidError, isCacheError } from './CacheError';
import { checkedChannel } from './checkedChannel';
import { ChannelLocks } from './ChannelLocks';
import { FetchLocks } from './FetchLocks';
import { locksHere } from './locksHere';
import type { CacheConfigOf, ValidPolicyPatch } from './configSchema';
import { guardLogger, type Logger } from './Logger';
import { parse } from './parse';
import { overwrite } from './numberChecks';
import { plainRecord } from './plainRecord';
import { followPolicyUpdates, patchedConfig } from './policyUpdates';
import { typesOf } from './typesOf';
import { PageTab } from './PageTab';
import type { EngineApi } from './protocol';
import type { SmartCacheConfig } from './SmartCacheConfig';
import type { TypeName } from './contentType';
import { parseConfig } from './configSchema';
import { isStandardSchema } from './validateValue';
import { watchLifecycle } from './watchLifecycle';
import { connectWorker, WORKER_START_HINT } from './connectWorker';
import { DirectReads } from './DirectReads';
import { indexedDBHere } from './indexedDBHere';
import { KeptMessages } from './KeptMessages';
import { describeValue, namedReasonOf } from './describeValue';
import { RemoteEngine } from './RemoteEngine';
import { randomId } from './randomId';
import { viteDepsWorker } from './viteDepsWorker';

export interface CreateCacheOptions<S extends SchemasOf<S, N> = Schemas, N extends string = never> {
  /** Namespaces the IndexedDB database and the BroadcastChannel; 'reprise' by default. */
  name?: string | undefined;
  /** The policies, and the app's own content types (`caching.customTypes`), whose names `Cache` then knows. */
  config?: CacheConfigOf<N> | SmartCacheConfig<N> | undefined;
  /** Schemas per content type, any Standard Schema v1 validator (zod, valibot, arktype…): values are validated on write and read, and typed by them. */
  schemas?: S | undefined;
  /** 'auto' (default): a module Worker where the platform has one; false: in-process; or a factory for your own Worker. */
  worker?: 'auto' | false | (() => Worker) | undefined;
  /** Ask the browser to keep this origin's storage under pressure (navigator.storage.persist). */
  persist?: boolean | undefined;
  /** In-process only (`worker: false`, or where there is no Worker): the IndexedDB factory to use (the global one by default). */
  indexedDB?: IDBFactory | undefined;
  /** In-process only: the clock, in epoch milliseconds like Date.now. */
  now?: (() => number) | undefined;
  /** Where failures that cannot be thrown (a listener that threw, the worker's own reports) go; console by default. */
  logger?: Logger | undefined;
}

const isFunction = (value: unknown) => typeof value === 'function';

const optionsSchema = z.strictObject({
  name: z.optional(z.string().check(z.refine((name) => /\S/.test(name), { error: 'name must be a non-blank string' }))),
  config: z.optional(z.unknown()),
  // Each schema read once, here, into a copy (read again, a getter may answer otherwise): an export of a module namespace
  // still waiting in an import cycle throws as it is read (a ReferenceError naming it), which parse says.
  schemas: z.optional(plainRecord().check(overwrite((schemas) => ({ ...schemas })))),
  worker: z.optional(
    z.union([z.literal('auto'), z.literal(false), z.custom<() => Worker>(isFunction)], {
      error: "worker must be 'auto', false or a function that returns a Worker",
    }),
  ),
  persist: z.optional(z.boolean()),
  indexedDB: z.optional(
    z.custom<IDBFactory>((value) => typeof (value as IDBFactory | null)?.open === 'function', { error: 'expected an IDBFactory' }),
  ),
  // Asked once here: a clock that gives no number (a string, NaN) would lose or refuse every entry later, without saying why.
  now: z.optional(
    z.custom<() => number>((value) => isFunction(value) && Number.isFinite((value as () => unknown)()), {
      error: 'now must be a function returning epoch milliseconds',
    }),
  ),
  logger: z.optional(loggerSchema),
});

/** The latest time a Date can hold (ECMAScript's time value range). */
const MAX_EPOCH_MS = 8.64e15;

/**
 * The injected clock, checked at each reading as it was once at the start: a reading that is no number
 * (NaN) would store an entry that never expires, and hold the times of use (see worker/accessClock) on it
 * for good, so that the budget was never kept again; the call reading it rejects instead.
 */
function checkedClock(now: () => number): () => number {
  return () => {
    const time = now();
    // Past Date's range no clock reads, and a TTL there adds nothing (1e300 + 3.6e6 is 1e300): every entry would expire as written.
    if (!Number.isFinite(time) || Math.abs(time) > MAX_EPOCH_MS) throw new CacheError('invalid_argument', `now must return epoch milliseconds (within ±8.64e15, Date's range), got ${describeValue(time)}`);
    return time;
  };
}

/** The custom type names a config literal gives; none when its type says only "some string". */
export type LiteralNames<N extends string> = string extends N ? never : N;

/** Opens a cache: in a module Worker by default in browsers, in-process with `worker: false` or where there is no Worker. */
export async function createCache<S extends SchemasOf<S, N> = Schemas, N extends string = never>(
  options: CreateCacheOptions<S, N> = {},
): Promise<Cache<S, LiteralNames<N>>> {
  const parsed = parse(optionsSchema, options, 'invalid_argument', 'createCache options');
  // A SmartCacheConfig is read through its toJSON (see parseConfig): most apps never use the class, and
  // createCache does not import it. Either way the config is validated here, on the page.
  const config = parseConfig(parsed.config);
  const table = typeof (parsed.config as SmartCacheConfig | undefined)?.toJSON === 'function' ? (parsed.config as SmartCacheConfig) : undefined;
  const types = typesOf(config);
  checkSchemas(parsed.schemas ?? {}, types);
  const name = parsed.name ?? 'reprise';
  // Every report goes through it: the app's logger may throw, or reject.
  const logger = guardLogger(parsed.logger ?? console);
  // The engine reports back to a client that is built after it: forward until then.
  let client: CacheClient<S, LiteralNames<N>> | undefined;
  const tab = new PageTab();
  const callbacks = tab.callbacks(() => client, (message, error) => logger.error(message, error));
  const worker = parsed.worker ?? 'auto';
  const inProcess = worker === false || (worker === 'auto' && typeof Worker === 'undefined');
  // A worker has its own IndexedDB and clock, and neither a factory nor a function can be sent to it.
  const inProcessOnly = (['indexedDB', 'now'] as const).filter((option) => parsed[option] !== undefined);
  if (!inProcess && inProcessOnly.length) {
    throw new CacheError(
      'invalid_argument',
      `${inProcessOnly.join(' and ')} ${inProcessOnly.length > 1 ? 'apply' : 'applies'} only to the in-process engine: pass worker: false, or leave ${inProcessOnly.length > 1 ? 'them' : 'it'} out`,
      { issues: inProcessOnly.map((path) => ({ path, message: 'applies only with worker: false' })) },
    );
  }
  const here = indexedDBHere();
  // Every message from another tab is checked here, on the page (or in-process); a worker gets them through connectWorker.
  // Outside a page with no IndexedDB at all (Node: a server rendering requests, each its user's), each cache is its own:
  // none hears another's events or clears. Pages without it (storage disabled) are tabs of one cache all the same.
  const openChannel = typeof BroadcastChannel === 'undefined' || !(parsed.indexedDB || here || typeof document !== 'undefined') ? undefined : checkedChannel(() => new BroadcastChannel(name));
  // Patches made while the engine opens (it gets the config as it was before them) reach it once it has.
  const missed: [TypeName, ValidPolicyPatch][] = [];
  let follow = (type: TypeName, patch: ValidPolicyPatch) => void missed.push([type, patch]);
  const stop = table && followPolicyUpdates(table, (type, patch) => follow(type, patch));
  // The config as its engines took it (the patches they answered, or given up on): a worker replacing a dead one starts from it, so
  // that a call made before an updatePolicy (held behind a value an async schema checks, or sent again) keeps the rules it was made under.
  let sent = config;
  let engine: EngineApi;
  /** The worker's, when there is one: it is watched from close() on (see RemoteEngine.closing). */
  let remote: RemoteEngine | undefined;
  /** What closing the cache stops. */
  const onClose: (() => void)[] = [];
  try {
    if (inProcess) {
      // Loaded on demand: an app that runs the engine in its worker does not ship it on the main thread.
      // Its chunk may be gone (a deploy replaced it while the page was open): a CacheError, as a worker's script that cannot load.
      const { Engine } = await import('../worker/Engine').catch((error: unknown) => {
        throw new CacheError('worker_failed', `The cache engine could not be loaded (${namedReasonOf(error)})`, { cause: error });
      });
      engine = await Engine.create({
        name,
        config,
        indexedDB: parsed.indexedDB ?? here,
        now: parsed.now && checkedClock(parsed.now),
        cloneValues: true,
        logger,
        client: callbacks,
        openChannel,
        locks: locksHere(),
      });
    } else {
      // Written out in full so that Vite (and the app's bundler) sees the worker and emits it.
      // Its own name: webpack names the worker's chunk after it, which must not be the library's.
      const createWorker =
        worker === 'auto' ? () => new Worker(new URL('../worker/entry.ts', import.meta.url), { type: 'module', name: 'reprise-worker' }) : worker;
      const startHint = worker === 'auto' ? WORKER_START_HINT : undefined;
      const elsewhere = worker === 'auto' ? viteDepsWorker(import.meta.url) : undefined;
      // Reads of persistent types straight from IndexedDB, as the worker keeps them there (see DirectReads).
      const direct = here && new DirectReads({ name, indexedDB: here, types });
      if (direct) tab.readsFrom(direct);
      // What the page heard for a worker that died before its engine asked for it, or while it had none: the next one's.
      const kept = new KeptMessages(openChannel);
      engine = remote = await RemoteEngine.start({
        connect: (signal) => connectWorker(createWorker, { name, config: sent, tab: tab.open }, callbacks, { openChannel, startHint, kept, elsewhere, signal }),
        logger,
        direct,
        kept,
      });
    }
  } catch (error) {
    // A cache that never opened follows nothing.
    stop?.();
    throw error;
  }
  // Closing (the app's own beforeunload or visibilitychange listener closed it), the engine has nothing to follow: `closed` is no failure.
  onClose.push(watchLifecycle(engine, (error) => isCacheError(error, 'closed') || logger.error('Reprise: following the page lifecycle failed', error)));
  // Caches of one name on different storages (an injected factory each, as tests in one process have)
  // are not tabs of one cache: they share no fetch. The page's own factory is the origin's storage, which
  // every tab has through an object of its own. With none at all, each cache is its own (as above).
  const injected = parsed.indexedDB !== here && parsed.indexedDB;
  const shared = `${name}${injected ? `:${storageId(injected)}` : parsed.indexedDB || here ? '' : `:${randomId()}`}`;
  const channel = (purpose: string) => (typeof BroadcastChannel === 'undefined' ? undefined : () => new BroadcastChannel(`reprise-${purpose}:${shared}`));
  const lockChannel = channel('locks');
  const fetchLocks = new FetchLocks({
    name: shared,
    // Without Web Locks (plain http, Node), locks over a channel of their own (see ChannelLocks).
    locks: locksHere() ?? (lockChannel && new ChannelLocks(lockChannel)),
    openChannel: channel('fetch'),
    logger,
  });
  const watched = remote;
  client = new CacheClient<S, LiteralNames<N>>(engine, {
    schemas: parsed.schemas as Schemas | undefined,
    types,
    logger,
    onClose: () => onClose.forEach((stop) => stop()),
    onClosing: watched && (() => watched.closing()),
    fetchLocks,
    config: table,
  });
  if (parsed.persist) requestPersistence(logger, cacheInternals.get(client)!.closed);
  if (stop) {
    // A later updatePolicy reaches the engine (in-process, its table changes as it arrives; in a worker, as a message) after
    // the page's calls held then (an emit behind a value an async schema checks: it keeps the rules it was made under).
    const { patch: sendPatch } = cacheInternals.get(client)!;
    follow = (type, patch) => {
      // Sent again to the next worker if its worker dies before answering, as a change is (see acrossDeaths), in its turn among the
      // dead worker's calls sent again: one made before it keeps the rules it was made under. So the next worker starts from the
      // patches answered or given up (`sent`), not from the app's config, which holds patches of other types still held back.
      let given = false;
      const give = (): void => void (given || ((given = true), (sent = patchedConfig(sent, type, patch))));
      // With no worker to send it to (a dead one waits to be replaced, also as a death's retry), in `sent` at once: a call made
      // in this task may start the next worker, which must start with it. Not async: its rejection keeps its turn (see above).
      const attempt = () => (remote?.workerless ? Promise.resolve(give()) : engine.updatePolicy(type, patch));
      void sendPatch(type, () => acrossDeaths(attempt).finally(give)).catch((error: unknown) => {
        // Nothing missed: the next worker starts from `sent`, patch included; a closed cache needs none.
        if (isCacheError(error, 'worker_failed') || isCacheError(error, 'closed')) return;
        logger.error(`Reprise: the worker could not follow updatePolicy(${type})`, error);
      });
    };
    for (const [type, patch] of missed) follow(type, patch);
    onClose.push(stop);
  }
  return client;
}

/** Each schema is a Standard Schema validator, for a content type of this cache (built-in, or custom in its config). */
function checkSchemas(schemas: Record<string, unknown>, types: ReadonlyMap<TypeName, boolean>): void {
  const issues = Object.entries(schemas).flatMap(([type, schema]) => {
    const problem = !types.has(type)
      ? `unknown content type; expected one of ${[...types.keys()].join(', ')}`
      : schema !== undefined && !isStandardSchema(schema)
        ? 'expected a Standard Schema v1 validator (zod ≥ 3.24, valibot, arktype…)'
        : undefined;
    return problem ? [{ path: `schemas.${type}`, message: problem }] : [];
  });
  if (issues.length) throw invalidError('invalid_argument', 'createCache options', issues);
}

/**
 * navigator.storage.persist() exists on the main thread only: a worker cannot ask. Its answer may come once the cache
 * is `closed`, whose logger hears nothing of it then, as of a refresh (see CacheClient).
 */
function requestPersistence(logger: Logger, closed: () => boolean): void {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.persist) {
    logger.error('Reprise: persist was asked, but there is no navigator.storage.persist() here; storage stays best-effort', undefined);
    return;
  }
  storage.persist().catch((error: unknown) => closed() || logger.error('Reprise: navigator.storage.persist() failed', error));
}

const storageIds = new WeakMap<IDBFactory, string>();

/** An injected IndexedDB factory's identity in this process. */
function storageId(factory: IDBFactory): string {
  const id = storageIds.get(factory) ?? randomId();
  storageIds.set(factory, id);
  return id;
}
