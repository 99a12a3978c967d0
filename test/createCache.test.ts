import * as Comlink from 'comlink';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SmartCacheConfig, createCache, isCacheError, type Cache, type CacheEventInput, type CreateCacheOptions } from '../src/index';
import type { ValidPolicyPatch } from '../src/configSchema';
import { openRemoteCache } from './support/inProcessWorkers';
import { holdStore } from './support/holdStore';
import { tabFactory, type Tab } from './support/faultyIndexedDB';
import { rejection, uniqueName } from './support/openCache';
import { LAYOUT } from '../worker/databaseSchema';
import { policyUpdates } from '../src/policyUpdates';
import type { ClientCallbacks, WorkerHost } from '../src/protocol';
import { Engine } from '../worker/Engine';
import { exposeEngine } from '../worker/exposeEngine';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A cache in in-process workers whose generic values a slow schema checks (`checked` lets them through), with its config to patch. */
async function slowGenericInWorkers<N extends string = never>(config: SmartCacheConfig<N> = new SmartCacheConfig()) {
  const { schema: slow, checked } = slowSchema();
  const { cache, workers } = await withInProcessWorkers({
    config,
    schemas: { generic: slow },
    logger: { error: () => {} },
  });
  return { config, checked, cache, workers };
}

/** How createCache rejects when its worker factory throws `thrown`. */
function factoryThrowing(thrown: unknown) {
  return rejection(
    createCache({
      worker: () => {
        throw thrown;
      },
    }),
  );
}

describe('createCache', () => {
  it('rejects an invalid config with invalid_config naming each bad path', async () => {
    const error = await rejection(
      createCache({ worker: false, config: { caching: { negativeResultTtl: 0, policies: { generic: { cleanupThreshold: 2 } } } } }),
    );
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual(['caching.negativeResultTtl', 'caching.policies.generic.cleanupThreshold']);
  });

  it.each<[string, unknown]>([
    ['an unknown option', { workers: 2 }],
    ['a blank name', { name: ' ' }],
    ['a bad worker option', { worker: 'always' }],
    ['a schema for an unknown type', { schemas: { podcast: {} } }],
    ['schemas that are not a plain object', { schemas: new Map([['generic', {}]]) }],
    ['something that is not a schema', { schemas: { generic: { parse: () => 1 } } }],
    ['a Standard Schema of another version', { schemas: { generic: { '~standard': { version: 2, vendor: 'x', validate: () => ({ value: 1 }) } } } }],
    ['a Standard Schema without validate', { schemas: { generic: { '~standard': { version: 1, vendor: 'x' } } } }],
    ['an indexedDB without open', { indexedDB: {} }],
    ['a clock that is not a function', { now: 5 }],
    // Else a string's entries are all lost without a word, and NaN fails every write as "IndexedDB failed".
    ['a clock that returns a string', { now: () => String(Date.now()), indexedDB: new IDBFactory() }],
    ['a clock that returns NaN', { now: () => NaN, indexedDB: new IDBFactory() }],
    // Past Date's range (±8.64e15 ms) no clock reads; there a TTL adds nothing (1e300 + 3600000 is 1e300), so every entry expired as it was written.
    ['a clock past the range of Date', { now: () => 1e300, indexedDB: new IDBFactory() }],
  ])('rejects %s with invalid_argument', async (_what, options) => {
    const error = await rejection(createCache({ worker: false, ...(options as CreateCacheOptions) }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it('schemas that cannot be read yet (a module namespace still waiting in an import cycle) reject with invalid_argument saying what reading them threw, not a raw ReferenceError', async () => {
    // What `import * as schemas from './schemas'` is while that module waits in a cycle (cache.ts ⇄ schemas.ts): an object
    // without a prototype whose export throws as it is read (Node and browsers on a real namespace, Vite's SSR transform alike).
    const notYet = new ReferenceError("Cannot access 'generic' before initialization");
    const schemas = Object.defineProperty(Object.create(null) as object, 'generic', {
      enumerable: true,
      get: () => {
        throw notYet;
      },
    });
    const error = await rejection(createCache({ worker: false, indexedDB: new IDBFactory(), schemas }));
    expect([error.name, error.code, error.cause]).toEqual(['CacheError', 'invalid_argument', notYet]);
    expect(error.message).toContain("reading it threw (Cannot access 'generic' before initialization)");
  });

  it('a call made while the clock returns NaN (once the cache is open) rejects with invalid_argument; once it reads right again, TTLs and the budget hold', async () => {
    let time: number = Date.UTC(2026, 0, 1);
    const config = { caching: { policies: { album_year: { maxSizeMb: 0.001 } } } };
    const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), name: uniqueName(), config, now: () => time });
    time = NaN;
    const error = await rejection(cache.set('album_year', 'during', 'v', { ttlSeconds: 10 }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    time = Date.UTC(2026, 0, 1, 0, 1);
    for (let index = 0; index < 20; index++) {
      time += 1000;
      await cache.set('album_year', `k${index}`, 'x'.repeat(60));
    }
    time += 60_000;
    expect(await cache.get('album_year', 'during')).toBeUndefined();
    const stats = (await cache.stats()).types.album_year;
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes!);
    expect(stats.evictions).toBeGreaterThan(0);
    await cache.close();
  });

  it('uses a SmartCacheConfig instance as given', async () => {
    const config = new SmartCacheConfig();
    config.updatePolicy('generic', { maxSizeMb: 1 });
    const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), config });
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 ** 20);
    // In-process, the engine keeps the instance: a later change reaches it.
    config.updatePolicy('generic', { maxSizeMb: 2 });
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 * 2 ** 20);
  });

  it('follows an updatePolicy of its SmartCacheConfig made while it opens', async () => {
    const config = new SmartCacheConfig();
    const opening = createCache({ worker: false, indexedDB: new IDBFactory(), config });
    config.updatePolicy('generic', { maxSizeMb: 2 });
    const cache = await opening;
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 * 2 ** 20);
  });

  it.each(['generic', 'track_metadata'] as const)('%s: stats() and cleanup() made after an updatePolicy held behind a set an async schema checks apply it (maxBytes, and the budget cleanup evicts to)', async (type) => {
    const config = new SmartCacheConfig();
    let checked!: () => void;
    const checking = new Promise<void>((resolve) => (checked = resolve));
    // Only the value 'slow' takes a while to check (a lookup, say).
    const schema = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => (value === 'slow' && (await checking), { value }) } } as const;
    const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), config, schemas: { [type]: schema } });
    for (let index = 0; index < 20; index++) await cache.set(type, `k${index}`, 'x'.repeat(50_000));
    const setting = cache.set(type, 'slow', 'slow');
    config.updatePolicy(type, { maxSizeMb: 0.5 });
    const stats = cache.stats();
    const cleaned = cache.cleanup();
    // The check answers a while later: whatever stats() and cleanup() answer before it is under the patch too.
    const early = await Promise.race([stats.then(({ types }) => types[type].maxBytes), new Promise((resolve) => setTimeout(resolve, 100, 'not yet'))]);
    expect([0.5 * 2 ** 20, 'not yet']).toContain(early);
    checked();
    await setting;
    expect((await stats).types[type].maxBytes).toBe(0.5 * 2 ** 20);
    const { evicted } = await cleaned;
    const after = (await cache.stats()).types[type];
    expect(after.bytes).toBeLessThanOrEqual(0.8 * 0.5 * 2 ** 20);
    expect(evicted).toBe(21 - after.entries);
    await cache.close();
  });

  it('stats() and cleanup() made after an updatePolicy held behind a set an async schema checks, and before close(): they settle as they would have, under the patch', async () => {
    const config = new SmartCacheConfig();
    let checked!: () => void;
    const checking = new Promise<void>((resolve) => (checked = resolve));
    const schema = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => (await checking, { value }) } } as const;
    const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), config, schemas: { generic: schema } });
    const setting = cache.set('generic', 'k', 1);
    config.updatePolicy('generic', { maxSizeMb: 2 });
    const stats = cache.stats();
    const cleaned = cache.cleanup();
    const closing = cache.close();
    checked();
    await setting;
    expect((await stats).types.generic).toMatchObject({ maxBytes: 2 * 2 ** 20, entries: 1 });
    expect(await cleaned).toEqual({ expired: 0, evicted: 0 });
    await closing;
  });

  it('an updatePolicy its worker cannot take (it just died, or the cache is closing) is no error: the next worker starts from the config, the patch in it', async () => {
    const config = new SmartCacheConfig();
    const logger = { error: vi.fn() };
    const { cache, workers } = await withInProcessWorkers({
      config,
      logger,
    });
    workers[0]!.crash();
    // Made as the page learns of the death: sent to the dead worker.
    config.updatePolicy('generic', { maxSizeMb: 2 });
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 * 2 ** 20);
    const closing = cache.close();
    // Made while the worker closes.
    await vi.waitFor(() => expect(workers[1]!.closing).toBe(true));
    config.updatePolicy('generic', { maxSizeMb: 3 });
    workers[1]!.letClose();
    await closing;
    const messages = logger.error.mock.calls.map(([message, error]) => `${message as string}: ${String(error)}`);
    expect(messages.filter((message) => message.includes('updatePolicy'))).toEqual([]);
  });

  it('an updatePolicy made while a dead worker waits to be replaced reaches the next one, also when a call made in the same task starts it', async () => {
    const config = new SmartCacheConfig();
    const logger = { error: vi.fn() };
    const { cache, workers } = await withInProcessWorkers({ config, logger });
    workers[0]!.crash();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // Dead soon after it started: the next one starts later, or with the next call.
    workers[1]!.crash();
    await vi.waitFor(() => expect(logger.error.mock.calls.map(([message]) => message)).toContainEqual(expect.stringMatching(/died; a new one starts in 5 s/)));
    config.updatePolicy('generic', { maxSizeMb: 2 });
    const reading = cache.has('track_metadata', 'k');
    expect(workers).toHaveLength(3);
    await reading;
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 * 2 ** 20);
    workers[2]!.letClose();
    await cache.close();
  });

  it('a set made before an updatePolicy, its value checked by an async schema as the worker dies, is written under the policy as it was on the next worker (which starts with the patch)', async () => {
    const { config, checked, cache, workers } = await slowGenericInWorkers();
    const setting = cache.set('generic', 'k', 'x'.repeat(3000));
    config.updatePolicy('generic', { maxSizeMb: 0.001 });
    workers[0]!.crash();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // A call of a type nothing holds: stats() would wait for the patch, held behind the set.
    await cache.has('track_metadata', 'k');
    checked();
    expect(await setting.then(() => 'written', (error: { code?: string }) => error.code)).toBe('written');
    expect(await cache.get('generic', 'k')).toBe('x'.repeat(3000));
    workers[1]!.letClose();
    await cache.close();
  });

  it('an emit made before an updatePolicy, held behind a set an async schema checks as the worker dies, applies the rules as they were on the next worker', async () => {
    const { config, checked, cache, workers } = await slowGenericInWorkers();
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    // The emit waits for this set, its value being checked: the page's calls reach the engine in the order made.
    const setting = cache.set('generic', 'x', 1);
    const emitted = cache.emit({ eventType: 'track_removed', trackId: 't' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    workers[0]!.crash();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // Made after the patch, it waits for it (held behind the emit, itself behind the set).
    const stats = cache.stats();
    checked();
    await stats;
    await setting;
    expect(await emitted).toEqual({ eventType: 'track_removed', invalidated: { track_metadata: 1, successful_api_metadata: 0 } });
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    workers[1]!.letClose();
    await cache.close();
  });

  it('an emit made before an updatePolicy, both sent to a worker that dies as the emit reaches it, applies the rules as they were on the next worker (which starts with the patch)', async () => {
    const config = new SmartCacheConfig();
    const { cache, workers } = await withInProcessWorkers({ config, logger: { error: () => {} } }, 'emit');
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    const emitted = cache.emit({ eventType: 'track_removed', trackId: 't' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    expect(await emitted).toEqual({ eventType: 'track_removed', invalidated: { track_metadata: 1, successful_api_metadata: 0 } });
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    workers[1]!.letClose();
    await cache.close();
  });

  // Each: an emit made before a patch, its report under the rules as they were, and what that leaves of the entry it names.
  it.each<{ name: string; event: CacheEventInput; type: 'track_metadata' | 'album_year'; timeBased?: boolean; patch: ValidPolicyPatch; invalidated: object; key: string; left: unknown }>([
    { name: 'an emit', event: { eventType: 'track_removed', trackId: 't' }, type: 'track_metadata', patch: { invalidationStrategy: 'fingerprint_based' }, invalidated: { track_metadata: 1, successful_api_metadata: 0 }, key: 'k', left: undefined },
    // Waited for all the same, though of no type as it arrives (album_year kept until its TTL only, then patched to hear library_sync too).
    { name: 'an emit that removes nothing under the rules as they are', event: { eventType: 'library_sync' }, type: 'album_year', timeBased: true, patch: { invalidationStrategy: 'hybrid' }, invalidated: {}, key: 'y', left: 1999 },
  ])(
    '$name made before an updatePolicy, still on its way in the worker (another connection holds the event log) as the worker answers the patch and dies, applies the rules as they were on the next worker',
    async ({ event, type, timeBased, patch, invalidated, key, left }) => {
      const config = new SmartCacheConfig(timeBased ? { caching: { policies: { [type]: { invalidationStrategy: 'time_based' } } } } : {});
      const indexedDB = new IDBFactory();
      const name = uniqueName();
      const sides: Tab[] = [];
      const workers: InProcessWorker[] = [];
      const cache = await createCache({
        config,
        name,
        logger: { error: () => {} },
        worker: () => {
          // Its own view of IndexedDB, which dies with it: its transactions abort, as a terminated worker's do.
          const side = tabFactory(indexedDB);
          sides.push(side);
          workers.push(new InProcessWorker(side.factory));
          return workers.at(-1) as unknown as Worker;
        },
      });
      await cache.set('track_metadata', 'k', 1, { trackId: 't' });
      await cache.set('album_year', 'y', 1999);
      const log = holdStore(indexedDB, name);
      await log.held;
      const emitted = cache.emit(event);
      // The change waits for the log in the worker; the patch, which applies to what arrives after it, reaches it meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 20));
      config.updatePolicy(type, patch);
      await new Promise((resolve) => setTimeout(resolve, 50));
      sides[0]!.kill();
      workers[0]!.crash();
      await log.release();
      expect(await emitted).toEqual({ eventType: event.eventType, invalidated });
      expect(await cache.get(type, key)).toBe(left);
      expect(workers).toHaveLength(2);
      workers[1]!.letClose();
      await cache.close();
    },
  );

  it('an emit made after an updatePolicy, both sent to a worker that dies as the patch reaches it, applies the patched rules on the next worker', async () => {
    const config = new SmartCacheConfig();
    const { cache, workers } = await withInProcessWorkers({ config, logger: { error: () => {} } }, 'updatePolicy');
    await cache.set('track_metadata', 'k', 1, { trackId: 't' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    const emitted = cache.emit({ eventType: 'track_removed', trackId: 't' });
    expect(await emitted).toEqual({ eventType: 'track_removed', invalidated: { successful_api_metadata: 0 } });
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    workers[1]!.letClose();
    await cache.close();
  });

  it.each<[string, ValidPolicyPatch, (cache: Cache) => Promise<unknown>]>([
    ['its TTL shortened', { ttlSeconds: 60 }, async (cache) => (vi.setSystemTime(Date.now() + 10 * 60_000), cache.get('track_metadata', 'k'))],
    ['its budget made smaller than the value', { maxSizeMb: 0.001 }, (cache) => cache.get('track_metadata', 'k')],
  ])('a getOrSet whose write was sent before an updatePolicy (%s), both to a worker that dies as the write reaches it, is written under the rules as they were on the next worker', async (_, patch, read) => {
    const config = new SmartCacheConfig();
    const made = () => config.updatePolicy('track_metadata', patch);
    const { cache, workers } = await withInProcessWorkers({ config, logger: { error: () => {} } }, 'setMany', made);
    const value = 'x'.repeat(3000);
    expect(await cache.getOrSet('track_metadata', 'k', async () => value).catch((error: { code?: string }) => error.code)).toBe(value);
    expect(workers).toHaveLength(2);
    expect(await read(cache)).toBe(value);
    workers[1]!.letClose();
    await cache.close();
  });

  it('a getOrSet called before an updatePolicy whose fetcher answers after it is written under the patched rules (its write is made as the fetcher answers)', async () => {
    const config = new SmartCacheConfig();
    const { cache, workers } = await withInProcessWorkers({ config });
    let answer!: (value: string) => void;
    const got = cache.getOrSet('track_metadata', 'k', () => new Promise<string>((resolve) => (answer = resolve)));
    await vi.waitFor(() => expect(answer).toBeDefined());
    config.updatePolicy('track_metadata', { ttlSeconds: 60 });
    answer('v');
    expect(await got).toBe('v');
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    workers[0]!.letClose();
    await cache.close();
  });

  it('a page hidden, frozen or shown again while its worker closes (the app closed the cache as the page went away) is no error: nothing is logged', async () => {
    const document = new EventTarget();
    const window = new EventTarget();
    vi.stubGlobal('document', document);
    vi.stubGlobal('window', window);
    const logger = { error: vi.fn() };
    const { cache, workers } = await withInProcessWorkers({
      logger,
    });
    await cache.set('track_metadata', 'k', 1);
    // Closed by the app's own beforeunload or visibilitychange listener: the page goes on to be hidden while its worker closes.
    const closing = cache.close();
    await vi.waitFor(() => expect(workers[0]!.closing).toBe(true));
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }));
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }));
    document.dispatchEvent(new Event('freeze'));
    document.dispatchEvent(new Event('resume'));
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    workers[0]!.letClose();
    await closing;
    expect(logger.error.mock.calls.map(([message, error]) => `${message as string}: ${String(error)}`)).toEqual([]);
  });

  it('patches of three types (a custom one among them), one held behind a set an async schema checks and the others sent at once: a worker started after all were sent has them all', async () => {
    const { config, checked, cache, workers } = await slowGenericInWorkers(
      new SmartCacheConfig({ caching: { customTypes: { artwork: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'hybrid', maxSizeMb: 50 } } } }),
    );
    const setting = cache.set('generic', 'k', 1);
    // Held behind the set of its type; the other types' patches go at once.
    config.updatePolicy('generic', { maxSizeMb: 2 });
    config.updatePolicy('track_metadata', { maxSizeMb: 3 });
    config.updatePolicy('artwork', { maxSizeMb: 4 });
    checked();
    await setting;
    const patched = { generic: { maxBytes: 2 * 2 ** 20 }, track_metadata: { maxBytes: 3 * 2 ** 20 }, artwork: { maxBytes: 4 * 2 ** 20 } };
    expect((await cache.stats()).types).toMatchObject(patched);
    workers[0]!.crash();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    expect((await cache.stats()).types).toMatchObject(patched);
    workers[1]!.letClose();
    await cache.close();
  });

  it('a patch held behind a set an async schema checks, while another type’s patch is sent: a worker started before the held one is sent starts without it (the held set is written under the policy it was made under)', async () => {
    const { config, checked, cache, workers } = await slowGenericInWorkers();
    const setting = cache.set('generic', 'k', 'x'.repeat(3000));
    config.updatePolicy('generic', { maxSizeMb: 0.001 });
    config.updatePolicy('track_metadata', { maxSizeMb: 3 });
    // Calls of a type nothing holds (stats() would wait for the held patch), to the worker that dies and to the next one.
    await cache.has('track_metadata', 'k');
    workers[0]!.crash();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await cache.has('track_metadata', 'k');
    checked();
    expect(await setting.then(() => 'written', (error: { code?: string }) => error.code)).toBe('written');
    expect(await cache.get('generic', 'k')).toBe('x'.repeat(3000));
    expect((await cache.stats()).types).toMatchObject({ generic: { maxBytes: 0.001 * 2 ** 20 }, track_metadata: { maxBytes: 3 * 2 ** 20 } });
    workers[1]!.letClose();
    await cache.close();
  });

  it('an updatePolicy made while the page waits to replace a worker that died again soon after (the back-off) starts no worker: the next one, started by a call, has the patch', async () => {
    const config = new SmartCacheConfig();
    const { cache, workers } = await withInProcessWorkers({
      config,
      logger: { error: () => {} },
    });
    workers[0]!.crash();
    // Replaced at once; its replacement dies within 5 s of starting: the next one is due 5 s later, or with the next call.
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await cache.stats();
    workers[1]!.crash();
    await new Promise((resolve) => setTimeout(resolve, 50));
    config.updatePolicy('generic', { maxSizeMb: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(workers).toHaveLength(2);
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 * 2 ** 20);
    expect(workers).toHaveLength(3);
    workers[2]!.letClose();
    await cache.close();
  });

  it('that rejects stops following its SmartCacheConfig (the config keeps no listener of a cache that never opened)', async () => {
    const config = new SmartCacheConfig();
    const error = await rejection(
      createCache({
        config,
        worker: () => {
          throw new Error('no worker here');
        },
      }),
    );
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(policyUpdates.get(config)?.size ?? 0).toBe(0);
  });

  // What Chromium throws from new Worker() for a script of another origin, and for an invalid script URL.
  it.each([
    [
      "a worker the browser refuses to start from another origin (Reprise loaded from a CDN) rejects worker_failed naming the fix",
      new DOMException("Failed to construct 'Worker': Script at 'https://cdn.example/reprise/worker.js' cannot be accessed from origin 'http://127.0.0.1:5173'.", 'SecurityError'),
      "serve Reprise from the page's own origin, or pass worker: false",
    ],
    [
      "a worker factory that throws a DOMException (an invalid script URL: Chromium's SyntaxError) rejects worker_failed naming its kind",
      new DOMException("Failed to construct 'Worker': The URL 'http://[' is invalid.", 'SyntaxError'),
      "SyntaxError: Failed to construct 'Worker'",
    ],
  ])('%s', async (_, refusal, said) => {
    const error = await factoryThrowing(refusal);
    expect(error).toMatchObject({ code: 'worker_failed', cause: refusal });
    expect(error.message).toContain(said);
  });

  it('a worker factory that throws a value with no string form (an object without a prototype) rejects worker_failed, not a raw TypeError', async () => {
    const thrown = Object.assign(Object.create(null) as object, { reason: 'no worker here' });
    const error = await factoryThrowing(thrown);
    expect(error).toMatchObject({ code: 'worker_failed', cause: thrown });
    expect(error.message).toContain('no worker here');
  });


  it("worker: false where the engine's chunk cannot be loaded (a deploy replaced it while the page was open): worker_failed saying so, not a raw TypeError", async () => {
    const failed = new TypeError('Failed to fetch dynamically imported module: https://app.example/assets/Engine-1a2b3c.js');
    vi.doMock('../worker/Engine', () => {
      throw failed;
    });
    try {
      const error = await rejection(createCache({ worker: false, indexedDB: new IDBFactory(), name: uniqueName() }));
      expect(isCacheError(error, 'worker_failed')).toBe(true);
      expect(error.message).toMatch(/^The cache engine could not be loaded \(/);
    } finally {
      vi.doUnmock('../worker/Engine');
    }
  });

  it('namespaces the database by name', async () => {
    const indexedDB = new IDBFactory();
    const a = await createCache({ worker: false, indexedDB, name: 'a' });
    const b = await createCache({ worker: false, indexedDB, name: 'b' });
    await a.set('track_metadata', 'k', 'from a');
    expect(await b.get('track_metadata', 'k')).toBeUndefined();
    expect((await indexedDB.databases()).map((db) => db.name).sort()).toEqual(['a', 'b']);
  });

  it('opens IndexedDB through the factory it is given, not a global one', async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    const indexedDB = new IDBFactory();
    const cache = await createCache({ worker: false, indexedDB, name: 'only-here' });
    await cache.set('album_year', 'k', 1);
    expect((await indexedDB.databases()).map((db) => db.name)).toEqual(['only-here']);
  });
});

describe('the clock, without a now option', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Apps test their caching with Vitest's or Jest's clock (vi.setSystemTime, fake timers faking Date),
  // often set once the cache is open: those replace the global Date, so the cache must ask it each time.
  it('is the global Date.now as it is at each call, also when a test mocks it after the cache opened', async () => {
    const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), name: uniqueName() });
    await cache.set('generic', 'a', 1);
    await cache.set('album_year', 'a', 1, { ttlSeconds: 60 });
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect(await cache.get('generic', 'a')).toBeUndefined();
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    expect((await cache.stats()).types.generic.expirations).toBe(1);
  });

  it('in a worker, the page reads persistent types by the same clock', async () => {
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() });
    await cache.set('album_year', 'a', 1, { ttlSeconds: 60 });
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect(await cache.get('album_year', 'a')).toBeUndefined();
    expect(await cache.getMany('album_year', ['a'])).toEqual([undefined]);
  });
});

describe('options that cannot apply are errors, not silence', () => {
  const fakeWorker = () => {
    throw new Error('no worker may start for options that are rejected');
  };

  it.each<[string, Partial<CreateCacheOptions>, string[]]>([
    ['indexedDB', { indexedDB: new IDBFactory() }, ['indexedDB']],
    ['now', { now: () => 0 }, ['now']],
    ['indexedDB and now', { indexedDB: new IDBFactory(), now: () => 0 }, ['indexedDB', 'now']],
  ])('%s with a worker factory: invalid_argument, and no worker is started', async (_what, options, paths) => {
    const createWorker = vi.fn(fakeWorker);
    const error = await rejection(createCache({ worker: createWorker as () => Worker, ...options }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect(error.message).toContain('only to the in-process engine: pass worker: false');
    expect(error.issues?.map((issue) => issue.path)).toEqual(paths);
    expect(createWorker).not.toHaveBeenCalled();
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /returned undefined/],
    ['a Promise (an async factory)', Promise.resolve({}), /returned a Promise/],
    ['a URL string', '/reprise-worker.js', /returned "\/reprise-worker.js"/],
    ['a plain object', {}, /returned \{\}/],
  ])('a worker factory that returns %s, not a Worker: invalid_argument saying so', async (_what, returned, says) => {
    const error = await rejection(createCache({ worker: () => returned as Worker }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect(error.message).toMatch(says);
    expect(error.message).toContain('not a Worker');
  });

  it.each<[string, (worker: { terminate(): void }) => PromiseLike<unknown>]>([
    ['a Promise', (worker) => Promise.resolve(worker)],
    ['a thenable', (worker) => ({ then: (resolve: (value: unknown) => unknown) => setTimeout(() => resolve(worker), 5) }) as unknown as PromiseLike<unknown>],
  ])('an async worker factory (it returns %s of a Worker): invalid_argument, and the Worker it comes to is terminated, not left running', async (_what, promised) => {
    const worker = { terminate: vi.fn(), postMessage() {}, addEventListener() {}, removeEventListener() {} };
    const error = await rejection(createCache({ worker: () => promised(worker) as unknown as Worker }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    await vi.waitFor(() => expect(worker.terminate).toHaveBeenCalledTimes(1));
  });

  it('an async worker factory whose promise rejects: createCache rejects with invalid_argument, and that rejection is not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const error = await rejection(createCache({ worker: (async () => Promise.reject(new Error('no worker module here'))) as unknown as () => Worker }));
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it("indexedDB with worker 'auto' where there is a Worker: invalid_argument", async () => {
    vi.stubGlobal('Worker', class {});
    const error = await rejection(createCache({ indexedDB: new IDBFactory() }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it("indexedDB and now apply where 'auto' runs in-process (no Worker, as in Node)", async () => {
    expect(typeof Worker).toBe('undefined');
    const indexedDB = new IDBFactory();
    const cache = await createCache({ indexedDB, now: () => Date.UTC(2030, 0, 1), name: uniqueName() });
    await cache.set('album_year', 'k', 1);
    expect((await indexedDB.databases()).length).toBe(1);
  });

  it("indexedDB given as the page's own factory is the page's storage: a tab passing it shares one fetch with a tab that does not", async () => {
    // In a browser each tab has its own `indexedDB` object over the one storage of the origin.
    const indexedDB = new IDBFactory();
    vi.stubGlobal('indexedDB', indexedDB);
    const name = uniqueName();
    const given = await createCache({ worker: false, indexedDB, name });
    const implicit = await createCache({ worker: false, name });
    let calls = 0;
    let started!: () => void;
    const fetching = new Promise<void>((resolve) => (started = resolve));
    const fetcher = async () => {
      calls++;
      started();
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'fetched';
    };
    // The second asks once the first fetches: Node has no Web Locks, and two tabs that ask within the
    // same few milliseconds of a loaded machine may both win ChannelLocks' claim (its documented worst case).
    const first = given.resolve('album_year', 'k', fetcher);
    await fetching;
    const results = await Promise.all([first, implicit.resolve('album_year', 'k', fetcher)]);
    expect(results.map((result) => result.value)).toEqual(['fetched', 'fetched']);
    expect(calls).toBe(1);
    await Promise.all([given.close(), implicit.close()]);
  });

  it('worker: false without any IndexedDB says so once through the logger, and stats say why', async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    const logger = { error: vi.fn() };
    const cache = await createCache({ worker: false, logger, name: uniqueName() });
    await cache.set('track_metadata', 'k', 1);
    await cache.get('track_metadata', 'k');
    await cache.cleanup();
    expect(logger.error).toHaveBeenCalledTimes(1);
    const [message, error] = logger.error.mock.calls[0] as [string, unknown];
    expect(message).toMatch(/IndexedDB is not available here.*persistent types are kept in memory/);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    const stats = await cache.stats();
    expect(stats.degraded).toMatch(/IndexedDB is not available/);
    expect(stats.types.track_metadata.storage).toBe('memory');
  });

  it("caches with no IndexedDB at all (Node: a server rendering a request each) hear none of each other's events or clears, though they have one name", async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    const name = uniqueName();
    const open = () => createCache({ name, worker: false, logger: { error: () => {} } });
    const [alice, bob] = await Promise.all([open(), open()]);
    const heard: string[] = [];
    bob.on('*', (event) => heard.push(`${event.eventType} ${event.trackId}`));
    await bob.set('generic', 'k', "bob's");
    await alice.emit({ eventType: 'track_added', trackId: "alice's track" });
    await alice.clear();
    // Messages between caches of one process arrive within a few tasks: long enough for them to have.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect({ heard, kept: await bob.get('generic', 'k') }).toEqual({ heard: [], kept: "bob's" });
    await Promise.all([alice.close(), bob.close()]);
  });

  it("pages with no IndexedDB at all (storage disabled) still hear each other's events: their memory tiers would otherwise answer what another tab's event removed", async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    vi.stubGlobal('document', new EventTarget());
    try {
      const name = uniqueName();
      const open = () => createCache({ name, worker: false, logger: { error: () => {} } });
      const [a, b] = await Promise.all([open(), open()]);
      await b.set('track_metadata', 't1', { title: 'old' }, { trackId: 't1' });
      await a.emit({ eventType: 'track_modified', trackId: 't1' });
      await vi.waitFor(() => expect(b.get('track_metadata', 't1')).resolves.toBeUndefined());
      await Promise.all([a.close(), b.close()]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('where reading indexedDB throws (storage blocked), worker: false keeps the types in memory and says so, no raw error', async () => {
    const blocked = new DOMException('The operation is insecure.', 'SecurityError');
    Object.defineProperty(globalThis, 'indexedDB', { configurable: true, get: () => { throw blocked; } });
    try {
      const logger = { error: vi.fn() };
      const cache = await createCache({ worker: false, logger, name: uniqueName() });
      await cache.set('track_metadata', 'k', 1);
      expect(await cache.get('track_metadata', 'k')).toBe(1);
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(logger.error.mock.calls[0]?.[0]).toMatch(/IndexedDB is not available here/);
      expect((await cache.stats()).types.track_metadata.storage).toBe('memory');
      await cache.close();
    } finally {
      Reflect.deleteProperty(globalThis, 'indexedDB');
    }
  });

  it('in an opaque origin (a sandboxed iframe), whose Web Locks refuse every request, getOrSet works without them: no raw SecurityError', async () => {
    const refuse = () => Promise.reject(new DOMException("Failed to execute 'request' on 'LockManager': Access to the Locks API is denied in this context.", 'SecurityError'));
    const request = vi.fn(refuse);
    vi.stubGlobal('navigator', { locks: { request, query: refuse } });
    vi.stubGlobal('origin', 'null');
    try {
      const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), name: uniqueName() });
      expect(await cache.getOrSet('album_year', 'y', async () => 1999)).toBe(1999);
      expect(await cache.getOrSet('generic', 'k', async () => 1)).toBe(1);
      expect(await cache.get('album_year', 'y')).toBe(1999);
      expect(request).not.toHaveBeenCalled();
      await cache.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('persist: true where there is no navigator.storage.persist says so through the logger', async () => {
    const logger = { error: vi.fn() };
    await createCache({ worker: false, indexedDB: new IDBFactory(), persist: true, logger, name: uniqueName() });
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('no navigator.storage.persist()'), undefined);
  });

  it('persist: true asks navigator.storage.persist once, from the calling thread', async () => {
    const persist = vi.fn(async () => true);
    vi.stubGlobal('navigator', { storage: { persist } });
    const logger = { error: vi.fn() };
    await createCache({ worker: false, indexedDB: new IDBFactory(), persist: true, logger, name: uniqueName() });
    expect(persist).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('persist: true whose navigator.storage.persist(), asked as the cache opened, fails once it is closed: its logger hears nothing of it', async () => {
    let fail!: (error: unknown) => void;
    vi.stubGlobal('navigator', { storage: { persist: () => new Promise((_, reject) => (fail = reject)) } });
    try {
      const logger = { error: vi.fn() };
      const cache = await createCache({ worker: false, indexedDB: new IDBFactory(), persist: true, logger, name: uniqueName() });
      await cache.close();
      fail(new DOMException('The document is not fully active', 'InvalidStateError'));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(logger.error.mock.calls.map(([message]) => message)).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("the worker's own reports", () => {
  it('reach the logger given to createCache, with a CacheError still a CacheError', async () => {
    // A database of a newer Reprise's layout: the worker cannot use it, keeps persistent types in memory and says so.
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    await new Promise<void>((resolve) => {
      const request = indexedDB.open(name, 99);
      request.onupgradeneeded = () => request.result.createObjectStore(`layout:${LAYOUT + 1}`);
      request.onsuccess = () => (request.result.close(), resolve());
    });
    const { cache, logger } = await openRemoteCache({ name, indexedDB });
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalled());
    const [message, error] = logger.error.mock.calls[0] as [string, unknown];
    expect(message).toMatch(/^Reprise: IndexedDB is unusable, keeping persistent types in memory/);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect((error as Error).message).toMatch(/VersionError.*newer Reprise/);
    expect((await cache.stats()).degraded).not.toBeNull();
  });
});

/** A Worker whose engine runs in this thread behind a MessageChannel (as worker/entry.ts exposes it), that can crash. */
/** A cache whose workers are InProcessWorkers on one IndexedDB, each kept in `workers` as it is made. */
/**
 * `dieAt`: the first worker dies as the first call of that engine method reaches it (it answers none, and applies nothing more);
 * `meanwhile` runs on the page just before, as the page's calls made after that one was sent and before its death is known.
 */
async function withInProcessWorkers(options: Omit<CreateCacheOptions, 'worker' | 'name'> = {}, dieAt?: string, meanwhile?: () => void) {
  const indexedDB = new IDBFactory();
  const workers: InProcessWorker[] = [];
  const cache = await createCache({
    ...options,
    name: uniqueName(),
    worker: () => {
      const worker = new InProcessWorker(indexedDB, workers.length ? undefined : dieAt, meanwhile);
      workers.push(worker);
      return worker as unknown as Worker;
    },
  });
  return { cache, workers };
}

/** A Standard Schema whose check takes a while (a lookup, say), until `checked` is called: a set reaches the engine after it. */
function slowSchema() {
  let checked!: () => void;
  const checking = new Promise<void>((resolve) => (checked = resolve));
  const schema = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => (await checking, { value }) } } as const;
  return { schema, checked };
}

class InProcessWorker extends EventTarget {
  readonly #port: MessagePort;
  /** Its engine was asked to close: it does once `letClose` is called. */
  closing = false;
  letClose!: () => void;
  readonly #closes = new Promise<void>((resolve) => (this.letClose = resolve));
  constructor(indexedDB: IDBFactory, dieAt?: string, meanwhile?: () => void) {
    super();
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.onmessage = (event) => this.dispatchEvent(new MessageEvent('message', { data: event.data }));
    const host: WorkerHost = {
      open: async (options, remote) => {
        const client: ClientCallbacks = { remoteEvent: remote.remoteEvent, listening: remote.listening, progress: remote.progress, log: remote.log, changed: remote.changed, storage: remote.storage };
        const engine = await Engine.create({ name: options.name, config: options.config, tab: options.tab, indexedDB, client, cloneValues: false });
        const close = engine.close.bind(engine);
        engine.close = async () => {
          this.closing = true;
          await this.#closes;
          return close();
        };
        if (!dieAt) return exposeEngine(engine);
        // Dead from then on: this call and those after it are never applied, nor answered.
        let dead = false;
        const dying = new Proxy(engine, {
          get: (target, method: string) => {
            const run = Reflect.get(target, method) as unknown;
            if (typeof run !== 'function') return run;
            return (...args: unknown[]) => {
              if (method === dieAt && !dead) (dead = true), meanwhile?.(), this.crash();
              return dead ? new Promise(() => {}) : (run as (...args: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        return exposeEngine(dying);
      },
      ping: async () => {},
    };
    Comlink.expose(host, port2);
  }
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.#port.postMessage(message, transfer as never);
  }
  terminate(): void {
    this.#port.close();
  }
  /** As a worker that threw: the page sees an error event. */
  crash(): void {
    this.dispatchEvent(Object.assign(new Event('error'), { message: 'crashed' }));
  }
}
