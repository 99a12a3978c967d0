// SPEC §2–§3b event invalidation as a table: every event (with its edge fields) × every strategy × every
// entry shape, in IndexedDB and in memory, in the tab that emits and in another tab of the cache. The
// expected outcome is written from SPEC's sentences (`removes` below), not from the code's rules.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { HOUR, INFINITE_TTL, MINUTE, SmartCacheConfig, albumKey, type CacheEventInput, type EventType, type Schemas } from '../src/index';
import { brokenFactory } from './support/faultyIndexedDB';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, uniqueName } from './support/openCache';

const F1 = 'a'.repeat(64);
const F2 = 'b'.repeat(64);

/** The entries written to every type: each key names its tags. */
const ENTRIES: { key: string; trackId?: string | string[]; album?: { artist: string; album: string }; fingerprint?: string }[] = [
  { key: 'plain' },
  { key: 't1', trackId: 't1' },
  { key: 't2', trackId: 't2' },
  { key: 't0+t1', trackId: ['t0', 't1'] },
  { key: 'album A/X', album: { artist: 'A', album: 'X' } },
  // The same album as albumKey folds it.
  { key: 'album a/x', album: { artist: ' a ', album: 'x' } },
  { key: 'album A/Y', album: { artist: 'A', album: 'Y' } },
  { key: 't2 album A/X', trackId: 't2', album: { artist: 'A', album: 'X' } },
  { key: 'F1', fingerprint: F1 },
  { key: 'F1 t1', fingerprint: F1, trackId: 't1' },
  { key: 'F1 t2', fingerprint: F1, trackId: 't2' },
  { key: 'F2 t1', fingerprint: F2, trackId: 't1' },
];

const NON_MANUAL: EventType[] = ['track_added', 'track_removed', 'track_modified', 'fingerprint_changed', 'library_sync'];

/**
 * Each type of the two configs, with what SPEC says of it: the events (besides manual_invalidation,
 * which applies to every type with event invalidation) it is invalidated by, and whether album tags
 * count (successful_api_metadata, and custom types).
 */
interface TypeRule {
  persistent: boolean;
  /** null: no event invalidation (time_based or fingerprint_based): no event applies, manual_invalidation neither. */
  events: EventType[] | null;
  albums: boolean;
}

const customTypes = {
  mem_every: { persistent: false, ttlSeconds: HOUR, invalidationStrategy: 'event_driven', maxSizeMb: 1, invalidatedBy: NON_MANUAL },
  idb_every: { persistent: true, ttlSeconds: HOUR, invalidationStrategy: 'hybrid', maxSizeMb: 1, invalidatedBy: NON_MANUAL },
  idb_some: { persistent: true, ttlSeconds: HOUR, invalidationStrategy: 'event_driven', maxSizeMb: 1, invalidatedBy: ['track_added', 'fingerprint_changed'] },
  mem_manual: { persistent: false, ttlSeconds: HOUR, invalidationStrategy: 'hybrid', maxSizeMb: 1 },
  idb_time: { persistent: true, ttlSeconds: HOUR, invalidationStrategy: 'time_based', maxSizeMb: 1, invalidatedBy: NON_MANUAL },
  mem_fingerprint: { persistent: false, ttlSeconds: HOUR, invalidationStrategy: 'fingerprint_based', maxSizeMb: 1, invalidatedBy: NON_MANUAL },
} as const;

const customRules: Record<keyof typeof customTypes, TypeRule> = {
  mem_every: { persistent: false, events: NON_MANUAL, albums: true },
  idb_every: { persistent: true, events: NON_MANUAL, albums: true },
  idb_some: { persistent: true, events: ['track_added', 'fingerprint_changed'], albums: true },
  mem_manual: { persistent: false, events: [], albums: true },
  idb_time: { persistent: true, events: null, albums: true },
  mem_fingerprint: { persistent: false, events: null, albums: true },
};

const configs: { title: string; config: Record<string, unknown>; rules: Record<string, TypeRule> }[] = [
  {
    title: 'default built-in policies, generic made event_driven',
    config: { caching: { policies: { generic: { invalidationStrategy: 'event_driven' } }, customTypes } },
    rules: {
      track_metadata: { persistent: true, events: ['track_removed', 'track_modified', 'fingerprint_changed'], albums: false },
      successful_api_metadata: { persistent: true, events: ['track_removed', 'track_modified'], albums: true },
      failed_api_lookup: { persistent: false, events: null, albums: false },
      album_year: { persistent: true, events: ['library_sync'], albums: false },
      negative_result: { persistent: false, events: null, albums: false },
      // SPEC lists no event of its own for it: manual_invalidation only.
      generic: { persistent: false, events: [], albums: false },
      ...customRules,
    },
  },
  {
    title: 'built-in strategies changed in the config',
    config: {
      caching: {
        policies: {
          track_metadata: { invalidationStrategy: 'time_based' },
          successful_api_metadata: { invalidationStrategy: 'hybrid' },
          album_year: { invalidationStrategy: 'fingerprint_based' },
          failed_api_lookup: { invalidationStrategy: 'hybrid' },
          negative_result: { invalidationStrategy: 'fingerprint_based' },
        },
        customTypes,
      },
    },
    rules: {
      track_metadata: { persistent: true, events: null, albums: false },
      successful_api_metadata: { persistent: true, events: ['track_removed', 'track_modified'], albums: true },
      failed_api_lookup: { persistent: false, events: [], albums: false },
      album_year: { persistent: true, events: null, albums: false },
      negative_result: { persistent: false, events: null, albums: false },
      generic: { persistent: false, events: null, albums: false },
      ...customRules,
    },
  },
];

const events: CacheEventInput[] = [
  { eventType: 'track_added', trackId: 't1' },
  { eventType: 'track_added', trackId: 't1', metadata: { artist: 'A', album: 'X' } },
  { eventType: 'track_removed', trackId: 't1' },
  { eventType: 'track_removed', trackId: 't1', metadata: { artist: 'a', album: ' x ' } },
  // A fingerprint on a track event narrows nothing.
  { eventType: 'track_removed', trackId: 't1', fingerprint: F2 },
  { eventType: 'track_modified', trackId: 't1', metadata: { artist: 'A', album: 'X' } },
  { eventType: 'track_modified', trackId: 't9', metadata: { artist: 'A', album: 'X', year: 1999 } },
  { eventType: 'track_modified', trackId: 't2', metadata: { artist: 'A' } },
  { eventType: 'fingerprint_changed', fingerprint: F1 },
  { eventType: 'fingerprint_changed', fingerprint: F1, trackId: 't1' },
  { eventType: 'fingerprint_changed', fingerprint: F1, trackId: 't9' },
  { eventType: 'fingerprint_changed', fingerprint: F1, trackId: null },
  { eventType: 'fingerprint_changed', fingerprint: F1, metadata: { artist: 'A', album: 'X' } },
  { eventType: 'library_sync' },
  { eventType: 'library_sync', trackId: 't1', metadata: { artist: 'A', album: 'X' } },
  { eventType: 'manual_invalidation' },
  { eventType: 'manual_invalidation', trackId: 't1' },
  { eventType: 'manual_invalidation', trackId: null },
  { eventType: 'manual_invalidation', trackId: 't1', metadata: { artist: 'A', album: 'X' } },
  { eventType: 'manual_invalidation', fingerprint: F1 },
  { eventType: 'manual_invalidation', metadata: { artist: 'A', album: 'X' } },
];

/** Whether SPEC's event applies to a type of this rule. */
function applies(rule: TypeRule, event: CacheEventInput): boolean {
  if (rule.events === null) return false;
  return event.eventType === 'manual_invalidation' || rule.events.includes(event.eventType);
}

/** Whether SPEC says the event removes the entry from a type it applies to. */
function removes(rule: TypeRule, event: CacheEventInput, entry: (typeof ENTRIES)[number]): boolean {
  const tracks = entry.trackId === undefined ? [] : [entry.trackId].flat();
  // A field given as null is the field absent (README, The model).
  const trackId = event.trackId ?? undefined;
  const ofTrack = trackId !== undefined && tracks.includes(trackId);
  const artist = event.metadata?.['artist'];
  const album = event.metadata?.['album'];
  switch (event.eventType) {
    case 'track_added':
    case 'track_removed':
    case 'track_modified':
      return (
        ofTrack ||
        (rule.albums && typeof artist === 'string' && typeof album === 'string' && entry.album !== undefined && albumKey(entry.album.artist, entry.album.album) === albumKey(artist, album))
      );
    case 'fingerprint_changed':
      return entry.fingerprint === event.fingerprint && (trackId === undefined || ofTrack);
    case 'library_sync':
      return true;
    case 'manual_invalidation':
      return trackId === undefined || ofTrack;
  }
}

type Tab = { cache: { set: Function; setMany: Function; getOrSet: Function; getMany: Function; emit: Function; on: Function; watch: Function; close(): Promise<void> } } & Record<string, unknown>;

/** How the entries are written: each write's tags are its options (setMany: the entry's fields). */
const writers: Record<string, (tab: Tab, type: string) => Promise<unknown>> = {
  set: async (tab, type) => {
    for (const { key, ...tags } of ENTRIES) await tab.cache.set(type, key, key, tags);
  },
  setMany: (tab, type) => tab.cache.setMany(type, ENTRIES.map((entry) => ({ ...entry, value: entry.key }))),
  getOrSet: (tab, type) => Promise.all(ENTRIES.map(({ key, ...tags }) => tab.cache.getOrSet(type, key, () => key, tags))),
};

type Open = (name: string, indexedDB: IDBFactory, clock: ReturnType<typeof fakeClock>, config: Record<string, unknown>) => Promise<Tab>;

const modes: [string, Open][] = [
  ['worker: false', (name, indexedDB, clock, config) => openCache({ name, indexedDB, clock, config }) as Promise<Tab>],
  ['in a worker', (name, indexedDB, clock, config) => openRemoteCache({ name, indexedDB, now: clock.now, config }) as Promise<Tab>],
];

const keys = ENTRIES.map((entry) => entry.key);

const describeEvent = (event: CacheEventInput) => JSON.stringify(event).replaceAll(F1, 'F1').replaceAll(F2, 'F2');

// In-process: every event under both configs with entries written by set, and by setMany and getOrSet under
// the first; in a worker (where the page reads persistent entries itself), under the first with set.
// Both tabs degraded (IndexedDB cannot open: every type in each tab's memory), under the first with set.
const [inProcess, inWorker] = modes.map(([mode, open]) => ({ mode, open, degraded: false }));
const degraded = { mode: 'both tabs without IndexedDB', open: ((name, _indexedDB, clock, config) => openCache({ name, indexedDB: brokenFactory(), clock, config })) as Open, degraded: true };
const cases = [
  ...configs.map((config) => ({ ...inProcess!, ...config, writer: 'set' })),
  ...['setMany', 'getOrSet'].map((writer) => ({ ...inProcess!, ...configs[0]!, writer })),
  { ...inWorker!, ...configs[0]!, writer: 'set' },
  { ...degraded, ...configs[0]!, writer: 'set' },
];

describe.each(cases)('event invalidation, $mode, $title, entries written by $writer', ({ open, config, rules, writer, degraded }) => {
  const types = Object.keys(rules);

  it.each(events.map((event) => [describeEvent(event), event] as const))('%s removes exactly what SPEC says, in the tab that emits and in another tab', async (_title, event) => {
    const clock = fakeClock();
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const a = await open(name, indexedDB, clock, config);
    const b = await open(name, indexedDB, clock, config);
    // Persistent types once (they are shared), memory types in each tab (every type, without IndexedDB).
    for (const type of types) {
      for (const tab of rules[type]!.persistent && !degraded ? [a] : [a, b]) await writers[writer]!(tab, type);
    }
    const told = new Map<Tab, Record<string, unknown[]>>();
    for (const tab of [a, b]) {
      const seen: Record<string, unknown[]> = {};
      // The writes' own changes may reach the other tab's watchers still: only what the event does counts here.
      for (const type of types) tab.cache.watch(type, null, (change: { kind: string }) => change.kind !== 'set' && (seen[type] ??= []).push(change));
      told.set(tab, seen);
    }
    const heard: unknown[] = [];
    b.cache.on('*', (heardEvent: unknown, context: unknown) => heard.push([heardEvent, context]));

    const expected: Record<string, string[]> = {};
    const counts: Record<string, number> = {};
    for (const type of types) {
      const rule = rules[type]!;
      const gone = applies(rule, event) ? keys.filter((key) => removes(rule, event, ENTRIES.find((entry) => entry.key === key)!)) : [];
      expected[type] = keys.filter((key) => !gone.includes(key));
      if (applies(rule, event)) counts[type] = gone.length;
    }

    const report = await a.cache.emit(event);
    const left = async (tab: Tab) =>
      Object.fromEntries(await Promise.all(types.map(async (type) => [type, ((await tab.cache.getMany(type, keys)) as (string | undefined)[]).filter((value) => value !== undefined)])));
    expect({ report, left: await left(a) }).toEqual({ report: { eventType: event.eventType, invalidated: counts }, left: expected });
    // The other tab answers so at once (its memory tier too: it reads the log first), and its listeners hear
    // the event with the same counts. Without IndexedDB there is no log: it answers so once the message has
    // come, which its listeners are told of after applying it.
    if (degraded) await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(await left(b)).toEqual(expected);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(heard[0]).toEqual([expect.objectContaining({ eventType: event.eventType }), { source: 'remote', invalidated: counts }]);
    // Watchers in both tabs hear exactly the keys removed, of the types that lost any.
    for (const [tab, source] of [[a, 'local'], [b, 'remote']] as const) {
      const want = Object.fromEntries(
        types.flatMap((type) => {
          const gone = keys.filter((key) => !expected[type]!.includes(key)).sort();
          // An event that empties the type tells "any key" (keys: null), as a clear does.
          return gone.length ? [[type, [{ type, kind: 'invalidate', keys: gone.length === keys.length ? null : gone, source }]]] : [];
        }),
      );
      const seen = told.get(tab)!;
      await vi.waitFor(() => expect(Object.keys(seen).sort()).toEqual(Object.keys(want).sort()));
      const sortKeys = ({ keys: heard, ...rest }: { keys: string[] | null }) => ({ ...rest, keys: heard && [...heard].sort() });
      const sorted = Object.fromEntries(Object.entries(seen).map(([type, changes]) => [type, (changes as { keys: string[] | null }[]).map(sortKeys)]));
      expect(sorted, source).toEqual(want);
    }
    await Promise.all([a.cache.close(), b.cache.close()]);
  });
});

describe('updatePolicy and entries already stored (worker: false)', () => {
  const caching = {
    customTypes: {
      art: { persistent: true, ttlSeconds: HOUR, invalidationStrategy: 'time_based', maxSizeMb: 1, invalidatedBy: ['track_removed'] },
      lyrics: { persistent: false, ttlSeconds: HOUR, invalidationStrategy: 'time_based', maxSizeMb: 1, invalidatedBy: ['track_removed'] },
    },
  } as const;

  it('a strategy changed by updatePolicy decides which stored entries later events remove, built-in and custom, in IndexedDB and in memory', async () => {
    const config = new SmartCacheConfig({ caching });
    const { cache } = await openCache<Schemas, 'art' | 'lyrics'>({ config });
    const types = ['track_metadata', 'generic', 'art', 'lyrics'] as const;
    for (const type of types) await cache.set(type, 'k', type, { trackId: 't1' });
    config.updatePolicy('track_metadata', { invalidationStrategy: 'time_based' });
    config.updatePolicy('generic', { invalidationStrategy: 'event_driven' });
    config.updatePolicy('art', { invalidationStrategy: 'event_driven' });
    config.updatePolicy('lyrics', { invalidationStrategy: 'hybrid' });
    // track_removed: the custom types list it; generic has no event of its own; track_metadata no longer uses events.
    expect((await cache.emit({ eventType: 'track_removed', trackId: 't1' })).invalidated).toEqual({ successful_api_metadata: 0, art: 1, lyrics: 1 });
    expect(await Promise.all(types.map((type) => cache.get(type, 'k')))).toEqual(['track_metadata', 'generic', undefined, undefined]);
    expect((await cache.emit({ eventType: 'manual_invalidation', trackId: 't1' })).invalidated).toEqual({
      successful_api_metadata: 0,
      album_year: 0,
      generic: 1,
      art: 0,
      lyrics: 0,
    });
    expect(await Promise.all(types.map((type) => cache.get(type, 'k')))).toEqual(['track_metadata', undefined, undefined, undefined]);
  });

  it('fingerprint validation switched by updatePolicy applies to entries stored before it', async () => {
    const config = new SmartCacheConfig({ caching });
    const { cache } = await openCache<Schemas, 'art' | 'lyrics'>({ config });
    for (const type of ['album_year', 'generic', 'art', 'lyrics'] as const) await cache.set(type, 'k', type, { fingerprint: F1 });
    config.updatePolicy('album_year', { invalidationStrategy: 'time_based' });
    config.updatePolicy('generic', { invalidationStrategy: 'fingerprint_based' });
    config.updatePolicy('art', { invalidationStrategy: 'hybrid' });
    expect(await cache.get('album_year', 'k', { fingerprint: F2 })).toBe('album_year');
    expect(await cache.get('lyrics', 'k', { fingerprint: F2 })).toBe('lyrics');
    expect(await cache.get('generic', 'k', { fingerprint: F2 })).toBeUndefined();
    expect(await cache.get('art', 'k', { fingerprint: F2 })).toBeUndefined();
    // A miss by fingerprint deletes the entry.
    expect([await cache.get('generic', 'k'), await cache.get('art', 'k')]).toEqual([undefined, undefined]);
  });

  it.each([
    ['INFINITE_TTL', INFINITE_TTL],
    ['Infinity', Infinity],
  ])('a TTL raised to %s by updatePolicy makes later writes eternal (read and sweep); entries stored before keep their expiry', async (_title, ttlSeconds) => {
    const config = new SmartCacheConfig({ caching });
    const { cache, clock } = await openCache<Schemas, 'art' | 'lyrics'>({ config });
    const types = ['generic', 'album_year', 'art', 'lyrics'] as const;
    for (const type of types) await cache.set(type, 'before', 1);
    for (const type of types) config.updatePolicy(type, { ttlSeconds });
    for (const type of types) await cache.set(type, 'after', 2);
    clock.advance(2 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: types.length, evicted: 0 });
    for (const type of types) expect(await cache.getMany(type, ['before', 'after']), type).toEqual([undefined, 2]);
    clock.advance(2 * INFINITE_TTL * 1000);
    expect(await cache.cleanup()).toEqual({ expired: 0, evicted: 0 });
    for (const type of types) expect(await cache.keys(type), type).toEqual(['after']);
  });

  it('a TTL lowered by updatePolicy leaves entries stored before eternal; later writes expire, in the other tab too', async () => {
    const config = new SmartCacheConfig({ caching: { customTypes: { art: { ...caching.customTypes.art, ttlSeconds: INFINITE_TTL } } } });
    const a = await openCache<Schemas, 'art'>({ config });
    const b = await openCache<Schemas, 'art'>({ name: a.name, indexedDB: a.indexedDB, clock: a.clock, config: config.toJSON() as never });
    for (const type of ['track_metadata', 'art'] as const) await a.cache.set(type, 'before', 1);
    for (const type of ['track_metadata', 'art'] as const) config.updatePolicy(type, { ttlSeconds: MINUTE });
    for (const type of ['track_metadata', 'art'] as const) await a.cache.set(type, 'after', 2);
    a.clock.advance(2 * INFINITE_TTL * 1000);
    expect(await b.cache.cleanup()).toEqual({ expired: 2, evicted: 0 });
    for (const tab of [a, b]) for (const type of ['track_metadata', 'art'] as const) expect(await tab.cache.getMany(type, ['before', 'after']), type).toEqual([1, undefined]);
  });
});
