// Every read and delete API against every state an entry can be in (README: Using it, The model,
// Schemas, Guarantees), in both stores, in-process and "in a worker" (with and without the page's own
// reads, src/DirectReads.ts): each cell answers as README says, and all of them alike.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { CacheChange } from '../src/Cache';
import { checkedChannel } from '../src/checkedChannel';
import type { CacheConfig } from '../src/configSchema';
import { INFINITE_TTL } from '../src/index';
import type { EngineOptions } from '../worker/Engine';
import { engineTab } from './support/engineTab';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, uniqueName } from './support/openCache';

/** A 60 s TTL and a 600 s stale window; generic made hybrid, so that it has fingerprints and events as album_year does. */
const config: CacheConfig = {
  caching: {
    policies: {
      generic: { ttlSeconds: 60, staleWhileRevalidateSeconds: 600, invalidationStrategy: 'hybrid' },
      album_year: { ttlSeconds: 60, staleWhileRevalidateSeconds: 600 },
    },
  },
};
const FP = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const YEAR = 365 * 86_400_000;
/** Another tab's channel that neither sends nor hears: its messages never arrive. */
const mute = checkedChannel(() => ({ postMessage() {}, addEventListener() {}, close() {} }));

type Store = 'memory' | 'indexeddb';
const TYPE = { memory: 'generic', indexeddb: 'album_year' } as const;
type Type = (typeof TYPE)[Store];

/** One tab whose schema refuses 'v' once `refuse()` is called (a value stored in an older format). */
async function tab(mode: 'in-process' | 'worker' | 'direct') {
  const clock = fakeClock();
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  let refusing = false;
  const value = z.string().refine((v) => !(refusing && v === 'v'));
  const schemas = { generic: value, album_year: value };
  const { cache } =
    mode === 'in-process'
      ? await openCache({ name, indexedDB, clock, config, schemas })
      : await openRemoteCache({ name, indexedDB, now: clock.now, config, schemas, direct: mode === 'direct' });
  const others: (() => Promise<void>)[] = [];
  /** Called first when the tab closes (an import held, let go). */
  const releases: (() => void)[] = [];
  /** Another tab of the cache, whose messages never reach this one. */
  const other = async (engine: Partial<EngineOptions> = {}) => {
    const opened = await engineTab({ name, indexedDB, config, openChannel: mute, engine: { now: clock.now, ...engine } });
    others.push(() => opened.cache.close());
    return opened.cache;
  };
  const close = async () => {
    for (const release of releases.splice(0)) release();
    for (const closing of others.splice(0).reverse()) await closing();
    await cache.close();
  };
  return { cache, clock, other, close, releases, refuse: () => void (refusing = true) };
}
type Tab = Awaited<ReturnType<typeof tab>>;

/** Another tab imports 20 entries of `type` for an hour (k among them, as 'new') in steps of ten and holds before its commit (until this tab closes). */
async function pendingImport(t: Tab, type: Type): Promise<() => Promise<void>> {
  let stepped!: () => void;
  const held = new Promise<void>((resolve) => (stepped = resolve));
  let release!: () => void;
  const answered = new Promise<void>((resolve) => t.releases.push((release = resolve)));
  const progress = (_: string, done: number, total: number) => (done === total ? (stepped(), answered) : undefined);
  const importer = await t.other({ importChunk: 10, client: { remoteEvent() {}, listening() {}, log() {}, changed() {}, progress } });
  const entries = Array.from({ length: 20 }, (_, index) => ({ key: index ? `i${index}` : 'k', value: 'new', fingerprint: FP, ttlSeconds: 3600 }));
  const imported = importer.setMany(type, entries, { onProgress() {} });
  imported.catch(() => {});
  await held;
  return () => (release(), imported);
}

const set = (t: Tab, type: Type, ttlSeconds?: number) => t.cache.set(type, 'k', 'v', { fingerprint: FP, trackId: 't', ttlSeconds });

interface State {
  /** Persistent types only (imports). */
  store?: Store;
  setup(t: Tab, type: Type): Promise<unknown>;
  /** The fingerprint get, getMany and resolve ask (FP, as stored, unless said). */
  asked?: string;
  found: boolean;
  has: boolean;
  resolve: 'cache' | 'stale' | 'fetch';
  deleted: boolean;
  /** What a get counts in stats() (hits and misses, and what it removed), and what the type's watchers hear by the time it resolves. */
  counted: Partial<Record<'hits' | 'misses' | 'expirations' | 'corrupt' | 'invalidations', number>>;
  heard: readonly CacheChange['kind'][] | Record<Store, readonly CacheChange['kind'][]>;
}

const hit = { hits: 1, misses: 0, expirations: 0, corrupt: 0, invalidations: 0 };
const live = { found: true, has: true, resolve: 'cache', deleted: true, counted: hit, heard: [] } as const;
const gone = { found: false, has: false, resolve: 'fetch', deleted: false } as const;
const expired = { ...gone, counted: { hits: 0, misses: 1, expirations: 1 }, heard: ['expire'] } as const;

const states: Record<string, State> = {
  fresh: { setup: (t, type) => set(t, type), ...live },
  // README › Stale while revalidate: only a read-through serves it; delete counts it as there.
  'within its stale window': { setup: async (t, type) => (await set(t, type), t.clock.advance(61_000)), ...gone, resolve: 'stale', deleted: true, counted: { hits: 0, misses: 1, expirations: 0 }, heard: [] },
  'past its stale window': { setup: async (t, type) => (await set(t, type), t.clock.advance(661_000)), ...expired },
  'with a TTL of INFINITE_TTL, twenty years on': { setup: async (t, type) => (await set(t, type, INFINITE_TTL), t.clock.advance(20 * YEAR)), ...live },
  'with a TTL above INFINITE_TTL, forty years on': { setup: async (t, type) => (await set(t, type, 3 * INFINITE_TTL), t.clock.advance(40 * YEAR)), ...live },
  // README › Fingerprints: a miss that deletes it; has, keys and entries ask no fingerprint.
  'stored with another fingerprint than the one asked': { setup: (t, type) => set(t, type), asked: OTHER, ...live, found: false, resolve: 'fetch', counted: { hits: 0, misses: 1, invalidations: 1 }, heard: ['invalidate'] },
  // README › Schemas: a miss, deleted, counted corrupt; delete answers false; watchers hear of its deletion.
  'a value the schema now refuses': { setup: async (t, type) => (await set(t, type), t.refuse()), ...gone, counted: { hits: 0, misses: 1, corrupt: 1 }, heard: ['delete'] },
  // README › TTL, A clock that was wrong.
  'written a year ahead of the clock, which was then set right': { setup: async (t, type) => (t.clock.advance(YEAR), await set(t, type), t.clock.advance(-YEAR)), ...expired },
  'that never expires, written a year ahead of the clock, which was then set right': { setup: async (t, type) => (t.clock.advance(YEAR), await set(t, type, INFINITE_TTL), t.clock.advance(-YEAR)), ...live },
  // README › Messages are hints; IndexedDB is the truth (and, for an event-invalidated memory type, its log read before each read).
  "removed by another tab's event whose message has not arrived": {
    setup: async (t, type) => (await set(t, type), await (await t.other()).emit({ eventType: 'manual_invalidation', trackId: 't' })),
    ...gone,
    counted: { hits: 0, misses: 1 },
    // Persistent: its reads are right from the first, its listeners hear the event with the next message, stats() or cleanup() (README › Limits).
    heard: { memory: ['invalidate'], indexeddb: [] },
  },
  // README › Imports: until the commit, every read, listing and has sees what was there before.
  "part of another tab's import not yet committed": { store: 'indexeddb', setup: async (t, type) => void (await pendingImport(t, type)), ...gone, counted: { hits: 0, misses: 1 }, heard: [] },
  "replaced by another tab's import not yet committed": { store: 'indexeddb', setup: async (t, type) => (await set(t, type), await pendingImport(t, type)), ...live },
};

describe.each(['in-process', 'worker', 'direct'] as const)('%s', (mode) => {
  describe.each(['memory', 'indexeddb'] as const)('%s', (store) => {
    const type = TYPE[store];
    it.each(Object.entries(states).filter(([, state]) => (state.store ?? store) === store))('an entry %s', async (_, state) => {
      const fingerprint = state.asked ?? FP;
      const value = state.found ? 'v' : undefined;
      /** What `call` answers on a tab whose entry was just put in the state. */
      const on = async <T>(call: (t: Tab) => Promise<T>, after?: (t: Tab, answer: T) => Promise<void>) => {
        const t = await tab(mode);
        try {
          await state.setup(t, type);
          const answer = await call(t);
          await after?.(t, answer);
          return answer;
        } finally {
          await t.close();
        }
      };
      const listed = state.has ? ['k'] : [];
      expect(
        await on(
          (t) => {
            const heard: string[] = [];
            t.cache.watch(type, 'k', (change) => heard.push(change.kind));
            return t.cache.get(type, 'k', { fingerprint }).then((answer) => ({ answer, heard: [...heard] }));
          },
          async (t) => expect((await t.cache.stats()).types[type]).toMatchObject(state.counted),
        ),
      ).toEqual({ answer: value, heard: 'memory' in state.heard ? state.heard[store] : state.heard });
      expect(await on((t) => t.cache.getMany(type, ['k'], { fingerprint }))).toEqual([value]);
      expect(
        await on(
          (t) => t.cache.has(type, 'k'),
          async (t) => expect((await t.cache.stats()).types[type]).toMatchObject({ hits: 0, misses: 0 }),
        ),
      ).toBe(state.has);
      expect(await on((t) => t.cache.keys(type))).toEqual(listed);
      expect(await on((t) => t.cache.entries(type))).toEqual(state.has ? [['k', 'v']] : []);
      expect(await on((t) => t.cache.resolve(type, 'k', async () => 'fetched', { fingerprint }))).toEqual({ value: state.resolve === 'fetch' ? 'fetched' : 'v', source: state.resolve });
      expect(await on((t) => t.cache.getOrSet(type, 'k', async () => 'fetched', { fingerprint, forceFresh: true }))).toBe('fetched');
      // A per-call window of none: a stale entry is fetched anew.
      expect(await on((t) => t.cache.getOrSet(type, 'k', async () => 'fetched', { fingerprint, staleWhileRevalidateSeconds: 0 }))).toBe(state.resolve === 'cache' ? 'v' : 'fetched');
      expect(await on((t) => t.cache.delete(type, 'k'))).toBe(state.deleted);
      expect(await on((t) => t.cache.deleteMany(type, ['k', 'k']))).toBe(state.deleted ? 1 : 0);
    });
  });
});

// README › Imports: reads see the entry an import replaces until it commits; what they remove of it is that entry alone.
describe.each(['in-process', 'worker', 'direct'] as const)("%s: an entry replaced by another tab's pending import", (mode) => {
  const found: Record<string, { read(t: Tab): Promise<unknown>; counted: Partial<Record<'expirations' | 'corrupt' | 'invalidations', number>> }> = {
    'found corrupt by a get': { read: (t) => (t.refuse(), t.cache.get('album_year', 'k')), counted: { corrupt: 1 } },
    'found corrupt by a delete': { read: (t) => (t.refuse(), t.cache.delete('album_year', 'k')), counted: { corrupt: 1 } },
    'found expired by a has': { read: (t) => (t.clock.advance(61_000 + 600_000), t.cache.has('album_year', 'k')), counted: { expirations: 1 } },
    'read with another fingerprint': { read: (t) => t.cache.get('album_year', 'k', { fingerprint: OTHER }), counted: { invalidations: 1 } },
  };
  it.each(Object.entries(found))('%s: a miss, counted, and the import still commits its entry', async (_, { read, counted }) => {
    const t = await tab(mode);
    try {
      await set(t, 'album_year');
      const commit = await pendingImport(t, 'album_year');
      expect(await read(t)).toBeFalsy();
      await commit();
      expect(await t.cache.get('album_year', 'k', { fingerprint: FP })).toBe('new');
      expect((await t.cache.stats()).types.album_year).toMatchObject({ entries: 20, ...counted });
    } finally {
      await t.close();
    }
  });
});
