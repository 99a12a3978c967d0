// Content types of the app's own (SPEC §3b): config, policies, events, budgets, stats, schemas, and
// the database they share with the built-in types and with tabs that have other custom types.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { HOUR, SmartCacheConfig, isCacheError, type Cache, type CacheConfig, type CustomTypeConfig, type Schemas } from '../src/index';
import { IDBFactory } from 'fake-indexeddb';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { brokenFactory } from './support/faultyIndexedDB';
import { openRemoteCache } from './support/inProcessWorkers';
import { SimLocks } from './simulation/SimLocks';
import { engineTab } from './support/engineTab';
import { checkedChannel } from '../src/checkedChannel';
import type { OpenTabChannel, TabChannel } from '../src/TabChannel';

const artwork = (persistent: boolean, extra: Partial<CustomTypeConfig> = {}): CustomTypeConfig => ({
  persistent,
  ttlSeconds: HOUR,
  invalidationStrategy: 'event_driven',
  maxSizeMb: 1,
  invalidatedBy: ['track_removed', 'track_modified', 'fingerprint_changed', 'library_sync'],
  ...extra,
});

const withArtwork = (persistent: boolean, extra?: Partial<CustomTypeConfig>) => ({ caching: { customTypes: { artwork: artwork(persistent, extra) } } });

describe('the config', () => {
  it.each<[string, unknown, string]>([
    ['a name with a capital', { Art: artwork(true) }, 'caching.customTypes.Art'],
    ['a name with a dash', { 'cover-art': artwork(true) }, 'caching.customTypes.cover-art'],
    ['a name starting with a digit', { '1art': artwork(true) }, 'caching.customTypes.1art'],
    ['an empty name', { '': artwork(true) }, 'caching.customTypes.'],
    ['a built-in name', { generic: artwork(true) }, 'caching.customTypes.generic'],
    ['a name every object has', JSON.parse('{"constructor": {"persistent": true, "ttlSeconds": 60, "invalidationStrategy": "time_based", "maxSizeMb": 1}}'), 'caching.customTypes.constructor'],
    ['the name __proto__ (zod drops it from a record without a word)', JSON.parse('{"__proto__": {"persistent": true, "ttlSeconds": 60, "invalidationStrategy": "time_based", "maxSizeMb": 1}}'), 'caching.customTypes.__proto__'],
    ['no persistent flag', { art: { ...artwork(true), persistent: undefined } }, 'caching.customTypes.art.persistent'],
    ['a TTL of zero', { art: { ...artwork(true), ttlSeconds: 0 } }, 'caching.customTypes.art.ttlSeconds'],
    ['an unknown strategy', { art: { ...artwork(true), invalidationStrategy: 'lru' } }, 'caching.customTypes.art.invalidationStrategy'],
    ['an unknown event', { art: { ...artwork(true), invalidatedBy: ['track_played'] } }, 'caching.customTypes.art.invalidatedBy.0'],
    ['an unknown field', { art: { ...artwork(true), color: 'red' } }, 'caching.customTypes.art.color'],
  ])('rejects %s with invalid_config naming the path', async (_what, customTypes, path) => {
    const error = await rejection(openCache({ config: { caching: { customTypes } } as CacheConfig }));
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    expect(error.issues?.map((issue) => issue.path)).toContain(path);
    expect(() => new SmartCacheConfig({ caching: { customTypes } } as CacheConfig)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });

  it.each<[string, string, string]>([
    ['a name with a capital', 'Art', 'must match'],
    ['a built-in name', 'generic', '"generic" is a built-in content type'],
    ['a name every object has', 'constructor', '"constructor" is reserved'],
  ])('says why a custom type name is refused: %s', async (_what, name, reason) => {
    const customTypes = JSON.parse(JSON.stringify({ [name]: artwork(true) })) as Record<string, CustomTypeConfig>;
    const error = await rejection(openCache({ config: { caching: { customTypes } } }));
    expect(error.issues).toContainEqual({ path: `caching.customTypes.${name}`, message: expect.stringContaining(reason) });
    expect(error.message).toContain(reason);
  });

  it.each(['Art', 'generic', 'constructor', '__proto__'])('names the bad fields of a custom type called %s as well as its name', (name) => {
    const customTypes = JSON.parse(JSON.stringify({ [name]: { ...artwork(true), persistent: 'yes', ttlSeconds: 0 } })) as Record<string, CustomTypeConfig>;
    let caught: unknown;
    try {
      new SmartCacheConfig({ caching: { customTypes } });
    } catch (error) {
      caught = error;
    }
    expect(isCacheError(caught, 'invalid_config')).toBe(true);
    expect((caught as { issues: { path: string }[] }).issues.map((issue) => issue.path)).toEqual([
      `caching.customTypes.${name}.persistent`,
      `caching.customTypes.${name}.ttlSeconds`,
      `caching.customTypes.${name}`,
    ]);
  });

  it('gives a custom type a whole policy, with defaults for the optional fields', () => {
    const config = new SmartCacheConfig({ caching: { customTypes: { artwork: artwork(true), lyrics: { persistent: false, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: null } } } });
    expect(config.getPolicy('lyrics')).toEqual({
      contentType: 'lyrics',
      persistent: false,
      ttlSeconds: 60,
      invalidationStrategy: 'time_based',
      maxSizeMb: null,
      cleanupThreshold: 0.8,
      staleWhileRevalidateSeconds: 0,
      description: '',
      invalidatedBy: [],
    });
    expect(Object.keys(config.getAllPolicies())).toEqual([
      'track_metadata',
      'successful_api_metadata',
      'failed_api_lookup',
      'album_year',
      'negative_result',
      'generic',
      'artwork',
      'lyrics',
    ]);
    expect(config.getTtl('artwork')).toBe(HOUR);
    expect(config.formatTtl(config.getTtl('lyrics'))).toBe('1m');
    // The whole config survives its JSON form (what the page sends its worker).
    expect(new SmartCacheConfig(config.toJSON()).getAllPolicies()).toEqual(config.getAllPolicies());
  });

  it('isPersistent answers for every type; the static isPersistentCache keeps the seed’s answer for the six built-in ones', () => {
    const config = new SmartCacheConfig({ caching: { customTypes: { artwork: artwork(true), lyrics: artwork(false) } } });
    expect([config.isPersistent('artwork'), config.isPersistent('lyrics'), config.isPersistent('track_metadata'), config.isPersistent('generic')]).toEqual([true, false, true, false]);
    expect(SmartCacheConfig.isPersistentCache('album_year')).toBe(true);
    expect(() => SmartCacheConfig.isPersistentCache('artwork')).toThrow(expect.objectContaining({ code: 'unknown_content_type' }));
    expect(() => config.isPersistent('podcast' as never)).toThrow(expect.objectContaining({ code: 'unknown_content_type' }));
  });

  it('updatePolicy changes a custom type’s policy like a built-in one', () => {
    const config = new SmartCacheConfig(withArtwork(true));
    expect(config.updatePolicy('artwork', { ttlSeconds: 5, staleWhileRevalidateSeconds: 60 })).toMatchObject({ contentType: 'artwork', ttlSeconds: 5, staleWhileRevalidateSeconds: 60, persistent: true });
    expect(config.getTtl('artwork')).toBe(5);
  });

  it('shouldInvalidateForEvent: manual_invalidation with event invalidation; other events only when invalidatedBy lists them', async () => {
    const { EventDrivenCacheManager } = await import('../src/index');
    const config = new SmartCacheConfig({
      caching: {
        customTypes: {
          listed: artwork(true, { invalidatedBy: ['library_sync'] }),
          unlisted: artwork(true, { invalidatedBy: undefined }),
          timed: artwork(true, { invalidationStrategy: 'time_based' }),
          hybrid: artwork(false, { invalidationStrategy: 'hybrid', invalidatedBy: ['track_removed'] }),
        },
      },
    });
    const manager = new EventDrivenCacheManager(config);
    const should = (type: string, eventType: 'library_sync' | 'manual_invalidation' | 'track_removed') => manager.shouldInvalidateForEvent(type, { eventType });
    expect([should('listed', 'library_sync'), should('listed', 'manual_invalidation'), should('listed', 'track_removed')]).toEqual([true, true, false]);
    expect([should('unlisted', 'library_sync'), should('unlisted', 'manual_invalidation')]).toEqual([false, true]);
    expect([should('timed', 'library_sync'), should('timed', 'manual_invalidation')]).toEqual([false, false]);
    expect([should('hybrid', 'track_removed'), should('hybrid', 'manual_invalidation'), should('hybrid', 'library_sync')]).toEqual([true, true, false]);
  });

  it('a type the config does not have is unknown_content_type in every call, and a schema for it is invalid_argument', async () => {
    const { cache } = await openCache({ config: withArtwork(true) });
    for (const call of [() => cache.get('lyrics' as never, 'k'), () => cache.set('lyrics' as never, 'k', 1 as never), () => cache.keys('lyrics' as never), () => cache.clear('lyrics' as never)]) {
      expect(isCacheError(await rejection(call()), 'unknown_content_type')).toBe(true);
    }
    // @ts-expect-error the types refuse it too: lyrics is not one of the config's types
    const error = await rejection(openCache({ config: withArtwork(true), schemas: { lyrics: z.string() } }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect(error.issues?.map((issue) => issue.path)).toEqual(['schemas.lyrics']);
  });
});

describe.each([true, false])('a custom type (persistent: %s)', (persistent) => {
  it('stores, lists and watches like a built-in type, in the store its config says', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent) });
    const changes: unknown[] = [];
    cache.watch('artwork', null, (change) => changes.push(change));
    await cache.set('artwork', 'a1', { bytes: [1, 2, 3] });
    expect(await cache.get('artwork', 'a1')).toEqual({ bytes: [1, 2, 3] });
    expect(await cache.has('artwork', 'a1')).toBe(true);
    expect(await cache.keys('artwork')).toEqual(['a1']);
    expect(await cache.resolve('artwork', 'a2', () => 'fetched')).toEqual({ value: 'fetched', source: 'fetch' });
    expect(await cache.resolve('artwork', 'a2', () => 'again')).toEqual({ value: 'fetched', source: 'cache' });
    const stats = await cache.stats();
    expect(stats.types.artwork).toMatchObject({ entries: 2, hits: 2, storage: persistent ? 'indexeddb' : 'memory', maxBytes: 2 ** 20 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(changes).toContainEqual({ type: 'artwork', keys: ['a1'], kind: 'set', source: 'local' });
  });

  it('expires by its TTL, and is validated by its fingerprint with fingerprint_based', async () => {
    const { cache, clock } = await openCache({ config: withArtwork(persistent, { invalidationStrategy: 'hybrid', ttlSeconds: 60 }) });
    await cache.set('artwork', 'old', 1);
    clock.advance(60_000);
    expect(await cache.get('artwork', 'old')).toBeUndefined();
    const fingerprinted = await openCache({ config: withArtwork(persistent, { invalidationStrategy: 'fingerprint_based' }) });
    await fingerprinted.cache.set('artwork', 'k', 1, { fingerprint: 'a'.repeat(64) });
    expect(await fingerprinted.cache.get('artwork', 'k', { fingerprint: 'b'.repeat(64) })).toBeUndefined();
    expect(await fingerprinted.cache.has('artwork', 'k')).toBe(false);
  });

  it('events remove exactly what they would remove from a built-in type: tags, albums, fingerprints, everything', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent) });
    const album = { artist: 'Ann', album: 'One' };
    await cache.set('artwork', 't1', 1, { trackId: 't1' });
    await cache.set('artwork', 't2', 2, { trackId: ['t2', 't3'] });
    await cache.set('artwork', 'album', 3, { album });
    await cache.set('artwork', 'print', 4, { fingerprint: 'f'.repeat(64), trackId: 't4' });
    await cache.set('artwork', 'other', 5, { trackId: 't9' });
    expect((await cache.emit({ eventType: 'track_removed', trackId: 't3' })).invalidated).toMatchObject({ artwork: 1 });
    expect((await cache.emit({ eventType: 'track_modified', trackId: 't8', metadata: album })).invalidated).toMatchObject({ artwork: 1 });
    expect((await cache.emit({ eventType: 'fingerprint_changed', trackId: 't4', fingerprint: 'f'.repeat(64) })).invalidated).toMatchObject({ artwork: 1 });
    expect(await cache.keys('artwork')).toEqual(['other', 't1']);
    expect((await cache.emit({ eventType: 'manual_invalidation', trackId: 't1' })).invalidated).toMatchObject({ artwork: 1 });
    expect((await cache.emit({ eventType: 'library_sync' })).invalidated).toMatchObject({ artwork: 1 });
    expect(await cache.keys('artwork')).toEqual([]);
    expect((await cache.stats()).types.artwork.invalidations).toBe(5);
  });

  it('an event it does not list leaves it alone; manual_invalidation without a track clears it', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent, { invalidatedBy: [] }) });
    await cache.set('artwork', 'k', 1, { trackId: 't1' });
    const report = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(report.invalidated).not.toHaveProperty('artwork');
    expect(await cache.get('artwork', 'k')).toBe(1);
    expect((await cache.emit({ eventType: 'manual_invalidation' })).invalidated).toMatchObject({ artwork: 1 });
  });

  it('track_added, when it lists it, removes the entries tagged with that track (and album), as the other track events do', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent, { invalidatedBy: ['track_added'] }) });
    const album = { artist: 'A', album: 'B' };
    await cache.set('artwork', 'mine', 'none yet', { trackId: 't1' });
    await cache.set('artwork', 'same album', 'none yet', { album });
    await cache.set('artwork', 'other', 'none yet', { trackId: 't2' });
    const report = await cache.emit({ eventType: 'track_added', trackId: 't1', metadata: album });
    expect(report.invalidated).toEqual({ artwork: 2 });
    expect(await cache.keys('artwork')).toEqual(['other']);
  });

  it('keeps within its own budget, evicting the least recently used', async () => {
    const { cache, clock } = await openCache({ config: withArtwork(persistent, { maxSizeMb: 0.01, cleanupThreshold: 0.5 }) });
    for (let i = 0; i < 10; i++) {
      await cache.set('artwork', `k${i}`, 'x'.repeat(2000));
      clock.advance(1000);
    }
    const { artwork: stats, track_metadata } = (await cache.stats()).types;
    expect(stats.bytes).toBeLessThanOrEqual(0.01 * 2 ** 20);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(await cache.get('artwork', 'k9')).toBe('x'.repeat(2000));
    expect(await cache.get('artwork', 'k0')).toBeUndefined();
    expect(track_metadata.entries).toBe(0);
  });

  it('its schema checks and types its values', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent), schemas: { artwork: z.object({ width: z.number() }) } });
    await cache.set('artwork', 'k', { width: 300 });
    const value: { width: number } | undefined = await cache.get('artwork', 'k');
    expect(value).toEqual({ width: 300 });
    expect(isCacheError(await rejection(cache.set('artwork', 'bad', { width: 'wide' } as never)), 'invalid_value')).toBe(true);
  });

  it('clear() clears it with the built-in types; clear(type) only it', async () => {
    const { cache } = await openCache({ config: withArtwork(persistent) });
    await cache.set('artwork', 'k', 1);
    await cache.set('generic', 'k', 1);
    await cache.clear('artwork');
    expect([await cache.has('artwork', 'k'), await cache.has('generic', 'k')]).toEqual([false, true]);
    await cache.set('artwork', 'k', 1);
    await cache.clear();
    expect([await cache.has('artwork', 'k'), await cache.has('generic', 'k')]).toEqual([false, false]);
  });
});

describe('in the database', () => {
  it('a persistent custom type survives a reload', async () => {
    const first = await openCache({ config: withArtwork(true) });
    await first.cache.set('artwork', 'k', { cover: 'blue' }, { trackId: 't1' });
    await first.cache.close();
    const { cache } = await openCache({ config: withArtwork(true), indexedDB: first.indexedDB, name: first.name });
    expect(await cache.get('artwork', 'k')).toEqual({ cover: 'blue' });
    expect((await cache.stats()).types.artwork).toMatchObject({ entries: 1, storage: 'indexeddb' });
    expect((await cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated).toMatchObject({ artwork: 1 });
  });

  it('adding a custom type to an existing database keeps every entry, and so does opening it without the type again', async () => {
    const before = await openCache();
    await before.cache.setMany('track_metadata', [{ key: 'a', value: 1, trackId: 't1' }, { key: 'b', value: 2 }]);
    await before.cache.close();
    const same = { indexedDB: before.indexedDB, name: before.name };
    const withType = await openCache({ ...same, config: withArtwork(true) });
    expect(await withType.cache.getMany('track_metadata', ['a', 'b'])).toEqual([1, 2]);
    await withType.cache.set('artwork', 'k', 'cover');
    await withType.cache.close();
    const without = await openCache(same);
    expect(await without.cache.getMany('track_metadata', ['a', 'b'])).toEqual([1, 2]);
    expect((await without.cache.stats()).degraded).toBeNull();
    await without.cache.close();
    const again = await openCache({ ...same, config: withArtwork(true) });
    expect(await again.cache.get('artwork', 'k')).toBe('cover');
    expect((await again.cache.stats()).types.track_metadata.entries).toBe(2);
  });

  it('tabs opened with different custom types do not break each other', async () => {
    const a = await openCache({ config: { caching: { customTypes: { artwork: artwork(true) } } } });
    await a.cache.set('artwork', 'k', 'cover', { trackId: 't1' });
    await a.cache.set('track_metadata', 'k', 'meta', { trackId: 't1' });
    // Tab B adds its own type's store (a version up) while tab A holds the database open.
    const b = await openCache({ config: { caching: { customTypes: { lyrics: artwork(true) } } }, indexedDB: a.indexedDB, name: a.name });
    await b.cache.set('lyrics', 'k', 'la la', { trackId: 't2' });
    expect(await a.cache.get('artwork', 'k')).toBe('cover');
    expect(await b.cache.get('track_metadata', 'k')).toBe('meta');
    await a.cache.set('artwork', 'k2', 'cover 2');
    const remote = new Promise((resolve) => b.cache.on('track_removed', (_event, context) => resolve(context)));
    expect((await a.cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 0, artwork: 1 });
    expect(await remote).toMatchObject({ source: 'remote' });
    expect(await b.cache.get('track_metadata', 'k')).toBeUndefined();
    // Each tab applies its own config's rules: B's lyrics go by B's events.
    expect((await b.cache.emit({ eventType: 'track_removed', trackId: 't2' })).invalidated).toMatchObject({ lyrics: 1 });
    await b.cache.clear();
    expect(await a.cache.get('artwork', 'k2')).toBe('cover 2');
    const [statsA, statsB] = [await a.cache.stats(), await b.cache.stats()];
    expect(Object.keys(statsA.types)).toContain('artwork');
    expect(Object.keys(statsA.types)).not.toContain('lyrics');
    expect([statsA.degraded, statsB.degraded, statsA.droppedMessages, statsB.droppedMessages]).toEqual([null, null, 0, 0]);
    expect([a.logger.error, b.logger.error].map((error) => error.mock.calls)).toEqual([[], []]);
  });

  it('a tab that keeps a custom type in IndexedDB answers nothing that a tab keeping it in memory (another deploy, open at once) invalidated or cleared', async () => {
    const a = await openCache({ config: withArtwork(true) });
    await a.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await a.cache.set('artwork', 'y', 'kept', { trackId: 't2' });
    const b = await openCache({ config: withArtwork(false), indexedDB: a.indexedDB, name: a.name });
    const changes: unknown[] = [];
    a.cache.watch('artwork', null, (change) => changes.push(change));
    const heard = new Promise((resolve) => a.cache.on('track_modified', (_event, context) => resolve(context)));
    // What b keeps of artwork is in its memory tier: the entry it removed from the database is not its to count.
    expect((await b.cache.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).toMatchObject({ artwork: 0 });
    const context = await heard;
    expect(await a.cache.getMany('artwork', ['x', 'y'])).toEqual([undefined, 'kept']);
    expect(context).toMatchObject({ source: 'remote', invalidated: { artwork: 1 } });
    expect(changes).toEqual([{ type: 'artwork', keys: ['x'], kind: 'invalidate', source: 'remote' }]);
    const cleared = new Promise((resolve) => a.cache.watch('artwork', 'y', resolve));
    await b.cache.clear('artwork');
    await cleared;
    expect(await a.cache.get('artwork', 'y')).toBeUndefined();
    expect((await a.cache.stats()).types.artwork.entries).toBe(0);
  });

  it('a tab that keeps a custom type in memory, where events do not invalidate it, tells its watchers and stats nothing of what its event removed of the type in the database (another deploy keeps it there)', async () => {
    const a = await openCache({ config: withArtwork(true) });
    await a.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    const b = await openCache({ config: withArtwork(false, { invalidationStrategy: 'time_based', invalidatedBy: [] }), indexedDB: a.indexedDB, name: a.name });
    const changes: unknown[] = [];
    b.cache.watch('artwork', null, (change) => changes.push(change));
    const heard = new Promise((resolve) => a.cache.on('track_modified', (_event, context) => resolve(context)));
    expect((await b.cache.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).not.toHaveProperty('artwork');
    expect(await heard).toMatchObject({ invalidated: { artwork: 1 } });
    expect(await a.cache.get('artwork', 'x')).toBeUndefined();
    expect([changes, (await b.cache.stats()).types.artwork.invalidations]).toEqual([[], 0]);
  });

  it('a tab that keeps a custom type in IndexedDB tells its watchers what another deploy’s event removed, when it hears that deploy’s clear first and both are logged by then', async () => {
    const first = await openCache({ config: withArtwork(true) });
    const { indexedDB, name } = first;
    await first.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await first.cache.set('artwork', 'y', 'kept', { trackId: 't2' });
    await first.cache.close();
    // This tab hears the other tabs late (a busy or throttled page): both changes are logged when it hears the first.
    const listen = checkedChannel(() => new BroadcastChannel(name));
    const held: Parameters<Parameters<OpenTabChannel>[0]>[0][] = [];
    let hear: ((message: (typeof held)[number]) => void) | undefined;
    const openChannel: OpenTabChannel = (receive) => {
      hear = receive;
      return listen((message) => held.push(message));
    };
    const { cache } = await engineTab({ name, indexedDB, config: withArtwork(true), openChannel, engine: { now: first.clock.now } });
    const changes: unknown[] = [];
    cache.watch('artwork' as never, null, (change) => changes.push(change));
    const other = await openCache({ config: withArtwork(false), indexedDB, name, clock: first.clock });
    await other.cache.clear('generic');
    await other.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(held.map((message) => message?.kind)).toEqual(['hello', 'clear', 'event']));
    const heard = new Promise((resolve) => cache.on('track_modified', resolve));
    held.splice(0).forEach((message) => hear!(message));
    await heard;
    expect(await cache.getMany('artwork' as never, ['x', 'y'])).toEqual([undefined, 'kept']);
    await vi.waitFor(() => expect(changes).toEqual([{ type: 'artwork', keys: ['x'], kind: 'invalidate', source: 'remote' }]));
    await cache.close();
    await other.cache.close();
  });

  it('a tab that keeps a custom type in IndexedDB, where the event does not invalidate it, tells its listeners what another deploy’s event removed of it, as it tells its watchers', async () => {
    const a = await openCache({ config: withArtwork(true, { invalidatedBy: ['track_removed'] }) });
    await a.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    const b = await openCache({ config: withArtwork(false), indexedDB: a.indexedDB, name: a.name });
    const changes: unknown[] = [];
    a.cache.watch('artwork', null, (change) => changes.push(change));
    const heard = new Promise((resolve) => a.cache.on('track_modified', (_event, context) => resolve(context)));
    await b.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    expect(await heard).toMatchObject({ source: 'remote', invalidated: { artwork: 1 } });
    expect(changes).toEqual([{ type: 'artwork', keys: ['x'], kind: 'invalidate', source: 'remote' }]);
    expect(await a.cache.get('artwork', 'x')).toBeUndefined();
  });

  it('a tab that keeps a custom type in memory tells its watchers nothing of another deploy’s writes and deletes of the type in the database, which its reads never see', async () => {
    const a = await openCache({ config: withArtwork(true) });
    const b = await openCache({ config: withArtwork(false), indexedDB: a.indexedDB, name: a.name });
    await b.cache.set('artwork', 'k', 'mine');
    const changes: unknown[] = [];
    b.cache.watch('artwork', 'k', (change) => changes.push(change));
    b.cache.watch('track_metadata', 'm', (change) => changes.push(change));
    await a.cache.set('artwork', 'k', 'theirs');
    await a.cache.delete('artwork', 'k');
    await a.cache.set('track_metadata', 'm', 'shared');
    // The other tab's changes reach this one in order: its watchers have heard the writes before its listeners hear this event.
    const heard = new Promise((resolve) => b.cache.on('track_added', resolve));
    await a.cache.emit({ eventType: 'track_added', trackId: 't1' });
    await heard;
    expect(changes).toEqual([{ type: 'track_metadata', keys: ['m'], kind: 'set', source: 'remote' }]);
    expect(await b.cache.get('artwork', 'k')).toBe('mine');
  });

  it('a tab opening as another deploy’s tab (keeping the custom type in memory) emits answers nothing that event removed, though it missed its message', async () => {
    const first = await openCache({ config: withArtwork(true) });
    const { indexedDB, name } = first;
    await first.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await first.cache.set('artwork', 'y', 'kept', { trackId: 't2' });
    await first.cache.close();
    const other = await openCache({ config: withArtwork(false), indexedDB, name, clock: first.clock });
    // The other tab emits as this one opens, after its engine opened the database and before its channel listens: the message is lost to it.
    const listen = checkedChannel(() => new BroadcastChannel(name));
    const openChannel: OpenTabChannel = (receive) => {
      let channel: TabChannel | undefined;
      const ready = other.cache.emit({ eventType: 'track_modified', trackId: 't1' }).then(() => {
        channel = listen(receive);
        return channel.ready;
      });
      return { post: (message) => channel?.post(message), ready, close: () => channel?.close() };
    };
    const { cache } = await engineTab({ name, indexedDB, config: withArtwork(true), openChannel, engine: { now: first.clock.now } });
    expect(await cache.getMany('artwork' as never, ['x', 'y'])).toEqual([undefined, 'kept']);
    await cache.close();
  });

  it('an event of a tab without IndexedDB, relayed by a tab that keeps the custom type in memory (another deploy), reaches the type’s entries in the database', async () => {
    const first = await openCache({ config: withArtwork(true) });
    const { indexedDB, name, clock } = first;
    await first.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await first.cache.set('artwork', 'y', 'kept', { trackId: 't2' });
    await first.cache.close();
    const relaying = await openCache({ config: withArtwork(false), indexedDB, name, clock });
    const alone = await openCache({ config: withArtwork(false), indexedDB: brokenFactory(), name, clock });
    const heard = new Promise((resolve) => relaying.cache.on('track_modified', resolve));
    await alone.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await heard;
    await Promise.all([relaying.cache.close(), alone.cache.close()]);
    const { cache } = await openCache({ config: withArtwork(true), indexedDB, name, clock });
    expect(await cache.getMany('artwork', ['x', 'y'])).toEqual([undefined, 'kept']);
    expect((await cache.stats()).types.artwork.entries).toBe(1);
  });

  it.each([
    ['removes', 'spare', true],
    ['spares', 'remove', false],
  ] as const)("an event of a tab without IndexedDB %s what that tab's rules say, relayed by a tab of another deploy whose rules %s it", async (_, __, removes) => {
    const removing: CacheConfig = {};
    const sparing: CacheConfig = { caching: { policies: { track_metadata: { invalidationStrategy: 'time_based' } } } };
    const relaying = await openCache({ config: removes ? sparing : removing });
    const { indexedDB, name, clock } = relaying;
    await relaying.cache.set('track_metadata', 'k', 'v1', { trackId: 't1' });
    const alone = await openCache({ config: removes ? removing : sparing, indexedDB: brokenFactory(), name, clock });
    const heard = new Promise((resolve) => relaying.cache.on('track_removed', (_event, context) => resolve(context)));
    await alone.cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(await heard).toMatchObject({ source: 'remote', invalidated: removes ? { track_metadata: 1 } : {} });
    await Promise.all([relaying.cache.close(), alone.cache.close()]);
    const { cache } = await openCache({ config: removes ? removing : sparing, indexedDB, name, clock });
    expect(await cache.get('track_metadata', 'k')).toBe(removes ? undefined : 'v1');
    await cache.close();
  });

  it("an event of a tab without IndexedDB removes from the shared data by the rules it was made under: not an updatePolicy's made right after it", async () => {
    const relaying = await openCache();
    const { name, clock } = relaying;
    await relaying.cache.set('track_metadata', 'k', 'v1', { trackId: 't1' });
    const config = new SmartCacheConfig({});
    const alone = await openCache({ config, indexedDB: brokenFactory(), name, clock });
    const heard = new Promise((resolve) => relaying.cache.on('track_removed', (_event, context) => resolve(context)));
    const emitted = alone.cache.emit({ eventType: 'track_removed', trackId: 't1' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'time_based' });
    expect((await emitted).invalidated).toMatchObject({ track_metadata: 0 });
    expect(await heard).toMatchObject({ invalidated: { track_metadata: 1 } });
    expect(await relaying.cache.get('track_metadata', 'k')).toBeUndefined();
    await Promise.all([relaying.cache.close(), alone.cache.close()]);
  });

  it('tabs opening at once, each adding a custom type of its own, all get their stores and keep IndexedDB', async () => {
    const first = await openCache();
    const same = { indexedDB: first.indexedDB, name: first.name };
    const names = ['art', 'lyrics', 'covers', 'notes'];
    const tabs = await Promise.all(names.map((type) => openCache({ ...same, config: { caching: { customTypes: { [type]: artwork(true) } } } as CacheConfig })));
    await Promise.all(tabs.map(({ cache }, index) => cache.set(names[index] as never, 'k', index as never)));
    for (const [index, { cache }] of tabs.entries()) {
      expect(await cache.get(names[index] as never, 'k')).toBe(index);
      expect((await cache.stats()).degraded).toBeNull();
    }
    expect((await first.cache.stats()).degraded).toBeNull();
  });

  it('however many tabs open at once, each adding a custom type of its own, none gives up on IndexedDB (each lost race is another tab’s store added)', async () => {
    const first = await openCache();
    const same = { indexedDB: first.indexedDB, name: first.name };
    const names = Array.from({ length: 12 }, (_, index) => `type${index}`);
    const tabs = await Promise.all(names.map((type) => openCache({ ...same, config: { caching: { customTypes: { [type]: artwork(true) } } } as CacheConfig })));
    const degraded = [];
    for (const { cache } of tabs) degraded.push((await cache.stats()).degraded);
    expect(degraded.filter((reason) => reason !== null)).toEqual([]);
    await Promise.all(tabs.map(({ cache }, index) => cache.set(names[index] as never, 'k', index as never)));
    await first.cache.close();
    const all = await openCache({ ...same, config: { caching: { customTypes: Object.fromEntries(names.map((type) => [type, artwork(true)])) } } as CacheConfig });
    expect(await Promise.all(names.map((type) => all.cache.get(type as never, 'k')))).toEqual(names.map((_, index) => index));
  });

  it('without Web Locks, a write of a deploy whose budget for the type is smaller, made while a tab of a deploy with a larger one imports, resolves within its own budget', async () => {
    // Node has no Web Locks: the write waits for the import by looking at it again, as on a plain-http page.
    const a = await openCache({ config: withArtwork(true, { maxSizeMb: 1 / 4 }) });
    const b = await openCache({ config: withArtwork(true, { maxSizeMb: 1 / 64 }), indexedDB: a.indexedDB, name: a.name });
    // About 170 kB, within a's 256 kB; its first step alone (500 entries) is above b's 16 kB.
    const imported = Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: 'v'.repeat(20) }));
    let written: Promise<{ bytes: number; maxBytes: number | null }> | undefined;
    await a.cache.setMany('artwork', imported, {
      onProgress: () => void (written ??= b.cache.set('artwork', 'b', 'x'.repeat(200)).then(async () => (await b.cache.stats()).types.artwork)),
    });
    const { bytes, maxBytes } = await written!;
    expect(bytes).toBeLessThanOrEqual(maxBytes!);
    expect((await a.cache.stats()).types.artwork.bytes).toBe(bytes);
  });

  it('a type both deploys keep in memory: each tab applies its own rules to its memory tier, also to another deploy’s event it hears (its watchers and listeners hear what they removed)', async () => {
    const lyrics = (invalidatedBy: CustomTypeConfig['invalidatedBy']) => ({ caching: { customTypes: { lyrics: artwork(false, { invalidatedBy }) } } });
    const a = await openCache({ config: lyrics([]) });
    const b = await openCache({ config: lyrics(['track_modified']), indexedDB: a.indexedDB, name: a.name });
    await a.cache.set('lyrics', 'k', 'a’s', { trackId: 't1' });
    await b.cache.set('lyrics', 'k', 'b’s', { trackId: 't1' });
    const changes: unknown[] = [];
    b.cache.watch('lyrics', null, (change) => changes.push(change));
    const heard = new Promise((resolve) => b.cache.on('track_modified', (_event, context) => resolve(context)));
    // a's rules spare lyrics: its report leaves the type out, and its own entry stays.
    expect((await a.cache.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).not.toHaveProperty('lyrics');
    expect(await heard).toMatchObject({ source: 'remote', invalidated: { lyrics: 1 } });
    expect([await a.cache.get('lyrics', 'k'), await b.cache.get('lyrics', 'k')]).toEqual(['a’s', undefined]);
    expect(changes).toEqual([{ type: 'lyrics', keys: ['k'], kind: 'invalidate', source: 'remote' }]);
  });

  it('a read-through of a deploy that keeps the type in memory, waiting on the fetch of a deploy that keeps it in IndexedDB, cannot read what that fetch stored: it fetches again once that fetch is done (the reverse shares one fetch)', async () => {
    const calls: string[] = [];
    // Web Locks, which keep one fetch per key whenever each tab's messages come: over Node's channel, a thread stalled
    // past ChannelLocks' claim window (a loaded machine) may let both tabs fetch (see onTimeChannels).
    vi.stubGlobal('navigator', { locks: new SimLocks().manager('origin') });
    onTestFinished(() => void vi.unstubAllGlobals());
    const twoDeploys = async (first: boolean, second: boolean) => {
      const a = await openCache({ config: withArtwork(first) });
      const b = await openCache({ config: withArtwork(second), indexedDB: a.indexedDB, name: a.name });
      calls.length = 0;
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      const fetcher = (tab: string) => async () => (calls.push(tab), await answered, `${tab}’s cover`);
      const fetching = a.cache.resolve('artwork', 'k', fetcher('a'));
      await vi.waitFor(() => expect(calls).toEqual(['a']));
      const waiting = b.cache.resolve('artwork', 'k', fetcher('b'));
      // b waits for a's fetch (the key's lock) before it answers.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = [...calls];
      answer();
      return [await fetching, await waiting, before, [...calls]];
    };
    expect(await twoDeploys(true, false)).toEqual([{ value: 'a’s cover', source: 'fetch' }, { value: 'b’s cover', source: 'fetch' }, ['a'], ['a', 'b']]);
    expect(await twoDeploys(false, true)).toEqual([{ value: 'a’s cover', source: 'fetch' }, { value: 'a’s cover', source: 'shared' }, ['a'], ['a']]);
  });
});

// Two deploys that both keep a type in IndexedDB, under different rules (README › Tabs with different configs).
describe.each<[string, 'artwork' | 'track_metadata', CacheConfig, CacheConfig]>([
  ['a custom type listed by invalidatedBy in one deploy only', 'artwork', withArtwork(true, { invalidatedBy: ['track_modified'] }), withArtwork(true, { invalidatedBy: [] })],
  ['a built-in type time_based in one deploy only', 'track_metadata', {}, { caching: { policies: { track_metadata: { invalidationStrategy: 'time_based' } } } }],
])('%s', (_what, type, removing, sparing) => {
  const open = async () => {
    const a = await openCache({ config: removing });
    const b = await openCache({ config: sparing, indexedDB: a.indexedDB, name: a.name });
    return [a.cache, b.cache] as unknown as [Cache<Schemas, 'artwork'>, Cache<Schemas, 'artwork'>];
  };

  it('a value the sparing deploy’s tab fetched before an event of the other removed the track’s entries is answered, not stored (no stale write-back, whoever’s rules)', async () => {
    const [a, b] = await open();
    let reply!: (value: string) => void;
    const fetcher = vi.fn(() => new Promise<string>((resolve) => (reply = resolve)));
    const fetched = b.getOrSet(type, 'k', fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    await a.emit({ eventType: 'track_modified', trackId: 't1' });
    reply('cover before the change');
    expect(await fetched).toBe('cover before the change');
    expect([await a.get(type, 'k'), await b.get(type, 'k')]).toEqual([undefined, undefined]);
  });

  it('each deploy’s event removes what its own rules say: what the sparing one’s event leaves is still answered by the other (the known gap)', async () => {
    const [a, b] = await open();
    await a.set(type, 'k', 'cover', { trackId: 't1' });
    expect((await b.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).not.toHaveProperty(type);
    expect([await a.get(type, 'k'), await b.get(type, 'k')]).toEqual(['cover', 'cover']);
    expect((await a.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).toMatchObject({ [type]: 1 });
    expect([await a.get(type, 'k'), await b.get(type, 'k')]).toEqual([undefined, undefined]);
  });
});

describe.each(['in process', 'with a worker'] as const)('a custom type persistent, then kept in memory (or not configured) for a deploy, then persistent again (%s)', (mode) => {
  // Typed with the type whichever config it is opened with: the deploy between uses it through events and clears only.
  // A page listens a few ms after the session before it closed: a change logged within the ms it listens would be
  // replayed at its start (as old as the start, it counts), which removes what the catch-up under test must remove.
  const session = async (config: CacheConfig | undefined, same: { indexedDB: IDBFactory; name: string }) =>
    (mode === 'in process'
      ? (await openCache({ ...same, config })).cache
      : (await new Promise((resolve) => setTimeout(resolve, 5)), (await openRemoteCache({ ...same, config, now: Date.now })).cache)) as unknown as Cache<Schemas, 'artwork'>;

  it.each<[string, CacheConfig | undefined]>([
    ['kept in memory', withArtwork(false)],
    ['kept in memory, invalidated by no event', withArtwork(false, { invalidationStrategy: 'time_based', invalidatedBy: [] })],
    ['not configured', undefined],
  ])('answers nothing that an event of the deploy in between removes (%s then)', async (_, between) => {
    const same = { indexedDB: new IDBFactory(), name: uniqueName() };
    const first = await session(withArtwork(true), same);
    await first.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await first.set('artwork', 'y', 'kept', { trackId: 't2' });
    await first.close();
    const second = await session(between, same);
    await second.emit({ eventType: 'track_modified', trackId: 't1' });
    await second.close();
    const third = await session(withArtwork(true), same);
    expect(await third.getMany('artwork', ['x', 'y'])).toEqual([undefined, 'kept']);
    expect((await third.stats()).types.artwork).toMatchObject({ entries: 1, storage: 'indexeddb' });
    await third.close();
  });

  it('answers nothing that a clear of the deploy in between removed', async () => {
    const same = { indexedDB: new IDBFactory(), name: uniqueName() };
    const first = await session(withArtwork(true), same);
    await first.set('artwork', 'x', 'old cover');
    await first.close();
    const second = await session(withArtwork(false), same);
    await second.clear();
    await second.close();
    const third = await session(withArtwork(true), same);
    expect(await third.get('artwork', 'x')).toBeUndefined();
    expect((await third.stats()).types.artwork.entries).toBe(0);
    await third.close();
  });
});

describe('a custom type brought up to date after a deploy that kept it in memory', () => {
  /** Session 1 keeps artwork in IndexedDB (x of t1, y of t2); session 2 keeps it in memory and emits track_modified t1. */
  async function afterDeploy(between: CacheConfig = withArtwork(false), more?: (cache: Cache<Schemas, 'artwork'>) => Promise<void>) {
    const clock = fakeClock();
    const same = { indexedDB: new IDBFactory(), name: uniqueName(), clock };
    const first = await openCache({ ...same, config: withArtwork(true) });
    await first.cache.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await first.cache.set('artwork', 'y', 'kept', { trackId: 't2' });
    await first.cache.close();
    const second = (await openCache({ ...same, config: between })).cache as unknown as Cache<Schemas, 'artwork'>;
    await second.emit({ eventType: 'track_modified', trackId: 't1' });
    await more?.(second);
    await second.close();
    return same;
  }

  it('a page whose worker died while another deploy’s tab emitted tells its watchers what the event removed of the custom type (its next worker replays it)', async () => {
    const clock = fakeClock();
    const same = { indexedDB: new IDBFactory(), name: uniqueName(), clock };
    let opening: Promise<void> = Promise.resolve();
    const { cache, workers } = await openRemoteCache({
      ...same,
      config: withArtwork(true),
      now: clock.now,
      opening: () => opening,
      engine: { openChannel: checkedChannel(() => new BroadcastChannel(same.name)) },
    });
    const artworks = cache as unknown as Cache<Schemas, 'artwork'>;
    await artworks.set('artwork', 'x', 'old cover', { trackId: 't1' });
    await artworks.set('artwork', 'y', 'kept', { trackId: 't2' });
    const changes: unknown[] = [];
    artworks.watch('artwork', null, (change) => changes.push(change));
    // The next worker opens only once the other deploy's tab has emitted.
    let open!: () => void;
    opening = new Promise((resolve) => (open = resolve));
    workers[0]!.kill();
    const other = await openCache({ ...same, config: withArtwork(false) });
    await other.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    open();
    expect(await artworks.getMany('artwork', ['x', 'y'])).toEqual([undefined, 'kept']);
    expect(workers).toHaveLength(2);
    await vi.waitFor(() => expect(changes).toEqual([{ type: 'artwork', keys: ['x'], kind: 'invalidate', source: 'remote' }]));
    await cache.close();
    await other.cache.close();
  });

  it('counts bytes exactly where the deploy between removed every entry and then some by their tags', async () => {
    const same = await afterDeploy(withArtwork(false), async (cache) => {
      await cache.emit({ eventType: 'library_sync' });
      await cache.emit({ eventType: 'track_modified', trackId: 't2' });
    });
    const { cache } = await openCache({ ...same, config: withArtwork(true) });
    expect(await cache.getMany('artwork', ['x', 'y'])).toEqual([undefined, undefined]);
    expect((await cache.stats()).types.artwork).toMatchObject({ entries: 0, bytes: 0 });
    await cache.set('artwork', 'z', 'new cover');
    expect((await cache.stats()).types.artwork.entries).toBe(1);
  });
});
