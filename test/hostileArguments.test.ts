// Arguments that throw as they are read, at every public entry: a revoked Proxy, a getter that throws, an
// object whose toJSON, Symbol.toPrimitive or then getter throws, a Proxy whose ownKeys or get trap throws, an
// array whose item getter throws, a cycle through a getter, and a BigInt or a Symbol where a key is expected.
// Each call rejects (or, where README says the API is synchronous, throws) a CacheError with a code README
// gives bad input, never the raw error, and writes nothing.
import { QueryClient } from '@tanstack/query-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventDrivenCacheManager, SmartCacheConfig, albumKey, createCache, createCacheEvent, fingerprintTrack, isFingerprint, type Cache } from '../src/index';
import { createPersister, createQueryStorage, invalidateQueriesOn } from '../src/tanstack-query';
import { openCache } from './support/openCache';

const boom = () => {
  throw new Error('read me not');
};

function revoked<T extends object>(target: T): T {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** An object whose `field` answers undefined (not given), then throws at every read after. */
function readOnce(field: string): object {
  let reads = 0;
  return Object.defineProperty({}, field, { get: () => (reads++ ? boom() : undefined), enumerable: true });
}

/** An object whose `field` is a getter that answers the object itself. */
function getterCycle(field: string): object {
  const value = {};
  Object.defineProperty(value, field, { get: () => value, enumerable: true });
  return value;
}

/** Hostile inputs by name; `field` names the property the argument is read for (a getter that throws is put there). */
const HOSTILE: Record<string, (field: string) => unknown> = {
  'a revoked Proxy': () => revoked({}),
  'a revoked Proxy of an array': () => revoked([]),
  'a getter that throws': (field) => Object.defineProperty({}, field, { get: boom, enumerable: true }),
  'a toJSON getter that throws': () => Object.defineProperty({}, 'toJSON', { get: boom, enumerable: true }),
  'a Symbol.toPrimitive getter that throws': () => Object.defineProperty({}, Symbol.toPrimitive, { get: boom }),
  'a then getter that throws': () => Object.defineProperty({}, 'then', { get: boom, enumerable: true }),
  'a Proxy whose ownKeys trap throws': () => new Proxy({}, { ownKeys: boom }),
  'an array whose item getter throws': () => Object.defineProperty([], 0, { get: boom, enumerable: true }),
  'a Proxy of an array whose get trap throws': () => new Proxy([], { get: boom }),
  'a cycle through a getter': getterCycle,
  // Not thrown while read, but JSON.stringify then answers undefined, not a string.
  'a toJSON that answers undefined': () => ({ toJSON: () => undefined }),
  'a BigInt': () => 1n,
  'a Symbol': () => Symbol('key'),
};

/** The codes README gives bad input (Errors): never worker_failed, storage_unavailable or a raw error. */
const ARGUMENT_CODES = ['invalid_config', 'invalid_event', 'invalid_argument', 'unknown_content_type', 'invalid_value', 'not_cloneable'];

const ALL = Object.keys(HOSTILE);
/** Where an object is read (options, a config, entries, a cache): an object with only a Symbol.toPrimitive getter is a plain {} there, and a BigInt or a Symbol is a plain wrong type. */
const OBJECT_KINDS = ALL.filter((kind) => !['a Symbol.toPrimitive getter that throws', 'a BigInt', 'a Symbol'].includes(kind));
/** Where a value is stored as it is (a BigInt is a value, a getter's cycle is copied as one): those that cannot be copied. */
const VALUE_KINDS = OBJECT_KINDS.filter((kind) => kind !== 'a cycle through a getter').concat('a Symbol');

type Ctx = { cache: Cache; config: SmartCacheConfig };
/** `kinds`: OBJECT_KINDS unless said; ALL where a key, a type or an event type is read. */
type Position = { entry: string; field: string; sync?: boolean; kinds?: string[]; call: (h: unknown, ctx: Ctx) => unknown };

const type = 'track_metadata';
const fetcher = () => 'fetched';
const listener = () => {};
const queryClient = new QueryClient();
const event = (metadata: unknown) => ({ eventType: 'track_added', trackId: 't1', metadata }) as never;

const POSITIONS: Position[] = [
  { entry: 'createCache(options)', field: 'name', call: (h) => createCache(h as never) },
  { entry: 'createCache({ name })', field: 'x', kinds: ALL, call: (h) => createCache({ worker: false, name: h as never }) },
  { entry: 'createCache({ config })', field: 'caching', call: (h) => createCache({ worker: false, config: h as never }) },
  { entry: 'createCache({ schemas })', field: type, call: (h) => createCache({ worker: false, schemas: h as never }) },
  { entry: 'createCache({ logger })', field: 'error', call: (h) => createCache({ worker: false, logger: h as never }) },
  { entry: 'new SmartCacheConfig(config)', field: 'caching', sync: true, call: (h) => new SmartCacheConfig(h as never) },
  { entry: 'new SmartCacheConfig({ caching })', field: 'policies', sync: true, call: (h) => new SmartCacheConfig({ caching: h as never }) },
  { entry: 'customTypes', field: 'mine', sync: true, call: (h) => new SmartCacheConfig({ caching: { customTypes: h as never } }) },
  { entry: 'a custom type', field: 'persistent', sync: true, call: (h) => new SmartCacheConfig({ caching: { customTypes: { mine: h as never } } }) },
  { entry: 'updatePolicy(type)', field: 'x', kinds: ALL, sync: true, call: (h, { config }) => config.updatePolicy(h as never, {}) },
  { entry: 'updatePolicy(type, patch)', field: 'ttlSeconds', sync: true, call: (h, { config }) => config.updatePolicy(type, h as never) },
  { entry: 'getPolicy(type)', field: 'x', kinds: ALL, sync: true, call: (h, { config }) => config.getPolicy(h as never) },
  { entry: 'formatTtl(seconds)', field: 'x', kinds: ALL, sync: true, call: (h, { config }) => config.formatTtl(h as never) },
  { entry: 'new EventDrivenCacheManager(config)', field: 'caching', sync: true, call: (h) => new EventDrivenCacheManager(h as never) },
  { entry: 'new EventDrivenCacheManager(config, options)', field: 'logger', sync: true, call: (h, { config }) => new EventDrivenCacheManager(config, h as never) },
  { entry: 'registerEventHandler(eventType)', field: 'x', kinds: ALL, sync: true, call: (h, { config }) => new EventDrivenCacheManager(config).registerEventHandler(h as never, listener) },
  { entry: 'emitEvent(event)', field: 'eventType', sync: true, call: (h, { config }) => new EventDrivenCacheManager(config).emitEvent(h as never) },
  {
    entry: 'shouldInvalidateForEvent(type)',
    field: 'x',
    kinds: ALL,
    sync: true,
    call: (h, { config }) => new EventDrivenCacheManager(config).shouldInvalidateForEvent(h as never, { eventType: 'track_added' }),
  },
  { entry: 'shouldInvalidateForEvent(type, event)', field: 'eventType', sync: true, call: (h, { config }) => new EventDrivenCacheManager(config).shouldInvalidateForEvent(type, h as never) },
  { entry: 'createCacheEvent(input)', field: 'eventType', sync: true, call: (h) => createCacheEvent(h as never) },
  { entry: 'albumKey(artist)', field: 'x', kinds: ALL, sync: true, call: (h) => albumKey(h as never, 'album') },
  { entry: 'get(type)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.get(h as never, 'k') },
  { entry: 'get(type, key)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.get(type, h as never) },
  { entry: 'get(type, key, options)', field: 'fingerprint', call: (h, { cache }) => cache.get(type, 'k', h as never) },
  { entry: 'set(type, key)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.set(type, h as never, 'after') },
  { entry: 'set(type, key, value)', field: 'x', kinds: VALUE_KINDS, call: (h, { cache }) => cache.set(type, 'k', h) },
  { entry: 'set(type, key, value, options)', field: 'trackId', call: (h, { cache }) => cache.set(type, 'k', 'after', h as never) },
  { entry: 'delete(type, key)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.delete(type, h as never) },
  { entry: 'getMany(type, keys)', field: '0', call: (h, { cache }) => cache.getMany(type, h as never) },
  { entry: 'getMany(type, [key])', field: 'x', kinds: ALL, call: (h, { cache }) => cache.getMany(type, [h as never]) },
  { entry: 'getMany(type, keys, options)', field: 'fingerprints', call: (h, { cache }) => cache.getMany(type, ['k'], h as never) },
  { entry: 'setMany(type, entries)', field: '0', call: (h, { cache }) => cache.setMany(type, h as never) },
  { entry: 'setMany(type, [entry])', field: 'key', call: (h, { cache }) => cache.setMany(type, [{ key: 'k', value: 'after' }, h as never]) },
  { entry: 'setMany(type, [{ key }])', field: 'x', kinds: ALL, call: (h, { cache }) => cache.setMany(type, [{ key: h as never, value: 'after' }]) },
  {
    entry: 'setMany(type, [{ value }])',
    field: 'x',
    kinds: VALUE_KINDS,
    call: (h, { cache }) => cache.setMany(type, [{ key: 'k', value: 'after' }, { key: 'k2', value: h }]),
  },
  { entry: 'setMany(type, entries, options)', field: 'onProgress', call: (h, { cache }) => cache.setMany(type, [{ key: 'k', value: 'after' }], h as never) },
  { entry: 'getOrSet(type, key)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.getOrSet(type, h as never, fetcher) },
  { entry: 'getOrSet(type, key, fetcher)', field: 'x', call: (h, { cache }) => cache.getOrSet(type, 'k2', h as never) },
  { entry: 'getOrSet(type, key, fetcher, options)', field: 'signal', call: (h, { cache }) => cache.getOrSet(type, 'k2', fetcher, h as never) },
  { entry: 'resolve(type, key)', field: 'x', kinds: ALL, call: (h, { cache }) => cache.resolve(type, h as never, fetcher) },
  { entry: 'resolve(type, key, fetcher, options)', field: 'ttlSeconds', call: (h, { cache }) => cache.resolve(type, 'k2', fetcher, h as never) },
  { entry: 'watch(type)', field: 'x', kinds: ALL, sync: true, call: (h, { cache }) => cache.watch(h as never, null, listener) },
  { entry: 'watch(type, key)', field: 'x', kinds: ALL, sync: true, call: (h, { cache }) => cache.watch(type, h as never, listener) },
  { entry: 'watch(type, key, listener)', field: 'x', sync: true, call: (h, { cache }) => cache.watch(type, 'k', h as never) },
  { entry: 'on(eventType)', field: 'x', kinds: ALL, sync: true, call: (h, { cache }) => cache.on(h as never, listener) },
  { entry: 'on(eventType, listener)', field: 'x', sync: true, call: (h, { cache }) => cache.on('*', h as never) },
  { entry: 'emit(event)', field: 'eventType', call: (h, { cache }) => cache.emit(h as never) },
  { entry: 'emit({ eventType })', field: 'x', kinds: ALL, call: (h, { cache }) => cache.emit({ eventType: h } as never) },
  { entry: 'emit({ trackId })', field: 'x', kinds: ALL, call: (h, { cache }) => cache.emit({ eventType: 'track_added', trackId: h } as never) },
  { entry: 'emit({ metadata })', field: 'note', kinds: VALUE_KINDS, call: (h, { cache }) => cache.emit(event(h)) },
  { entry: 'fingerprintTrack(track)', field: 'persistentId', call: (h) => fingerprintTrack(h as never) },
  { entry: 'createPersister(cache)', field: 'get', sync: true, call: (h) => createPersister(h as never, { type }) },
  { entry: 'createPersister(cache, options)', field: 'type', sync: true, call: (h, { cache }) => createPersister(cache, h as never) },
  { entry: 'createQueryStorage(cache)', field: 'get', sync: true, call: (h) => createQueryStorage(h as never, type) },
  { entry: 'createQueryStorage(cache, type, options)', field: 'trackId', sync: true, call: (h, { cache }) => createQueryStorage(cache, type, h as never) },
  { entry: 'invalidateQueriesOn(cache)', field: 'on', sync: true, call: (h) => invalidateQueriesOn(h as never, queryClient, () => []) },
  {
    entry: 'invalidateQueriesOn(cache, queryClient)',
    field: 'invalidateQueries',
    sync: true,
    call: (h, { cache }) => invalidateQueriesOn(cache, h as never, () => []),
  },
];

const ROWS = POSITIONS.flatMap((position) => (position.kinds ?? OBJECT_KINDS).map((kind) => [position.entry, kind, position] as const));

/** What the call did: a value, a synchronous throw, or a rejection. */
async function outcome(run: () => unknown): Promise<{ threw?: unknown; rejected?: unknown; value?: unknown }> {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return { threw: error };
  }
  try {
    return { value: await result };
  } catch (error) {
    return { rejected: error };
  }
}

describe('hostile arguments', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    const { cache } = await openCache();
    await cache.set(type, 'k', 'before');
    ctx = { cache, config: new SmartCacheConfig() };
  });
  afterAll(() => ctx.cache.close());
  // Each row from the same holdings: one that wrote does not fail the rows after it.
  beforeEach(async () => {
    await ctx.cache.clear(type);
    await ctx.cache.set(type, 'k', 'before');
  });

  it.each(ROWS)('%s given %s: a CacheError with a documented code, and nothing written', async (_entry, kind, { sync, call, field }) => {
    const { threw, rejected } = await outcome(() => call(HOSTILE[kind]!(field), ctx));
    // Synchronous where README says so, a rejection everywhere else: never a raw TypeError.
    if (!sync) expect(describeError(threw)).toBeUndefined();
    const error = sync ? threw : rejected;
    expect(describeError(error)).toMatch(/^CacheError: /);
    expect(ARGUMENT_CODES).toContain((error as { code?: string }).code);
    expect(await ctx.cache.get(type, 'k')).toBe('before');
    expect(ctx.config.getPolicy(type)).toEqual(new SmartCacheConfig().getPolicy(type));
    expect(await ctx.cache.keys(type)).toEqual(['k']);
  });

  // Read as checked: a getter that passes its check (undefined: not given), then throws, opens the cache as if it were not given.
  it.each([
    ['its logger', () => Object.assign(readOnce('logger'), { worker: false })],
    ['its schemas', () => Object.assign(readOnce('schemas'), { worker: false })],
    ['its indexedDB', () => Object.assign(readOnce('indexedDB'), { worker: false })],
    ['a schema of its schemas', () => ({ worker: false, schemas: readOnce(type) })],
  ])('createCache reads %s once, as it checks it', async (_option, options) => {
    const { value, threw, rejected } = await outcome(() => createCache(options() as never));
    expect({ threw: describeError(threw), rejected: describeError(rejected) }).toEqual({ threw: undefined, rejected: undefined });
    await (value as Cache).close();
  });

  it.each(Object.keys(HOSTILE))('isFingerprint given %s answers false', (kind) => {
    expect(isFingerprint(HOSTILE[kind]!('x'))).toBe(false);
  });
});

function describeError(error: unknown): string | undefined {
  return error === undefined ? undefined : `${(error as Error).name}: ${(error as Error).message}`;
}
