// The behaviour every Store must have, written once and run against both stores: in Node by Vitest
// (test/stores.test.ts) and in Chromium against native IndexedDB (test/browser/stores.test.ts). It uses
// its own tiny assertions so that it runs in a plain page too.
import type { ContentType } from '../../src/contentType';
import { IdbStore } from '../../worker/IdbStore';
import { MemoryStore } from '../../worker/MemoryStore';
import type { Budget, Store, StoredEntry } from '../../worker/Store';

export interface ContractContext {
  /** A fresh, empty store. */
  store: Store;
  /** Whether entries survive `reopen` (IndexedDB) or not (memory). */
  persistent: boolean;
  /** Closes the store and opens the same storage again. */
  reopen: () => Promise<Store>;
}

export type ContractCase = (context: ContractContext) => Promise<void>;

export class ContractFailure extends Error {
  override name = 'ContractFailure';
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : item === undefined
        ? '<undefined>'
        : item,
  );
}

export function same(actual: unknown, expected: unknown, what: string): void {
  const [a, b] = [canonical(actual), canonical(expected)];
  if (a !== b) throw new ContractFailure(`${what}: expected ${b}, got ${a}`);
}

export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new ContractFailure(what);
}

const T: ContentType = 'track_metadata';
const S: ContentType = 'successful_api_metadata';
const A: ContentType = 'album_year';

let clock = 1_000_000;

/** An entry of the given size; `at` sets both its write time and last access. */
export function entry(type: ContentType, key: string, options: Partial<StoredEntry> & { at?: number } = {}): StoredEntry {
  const { at = ++clock, ...rest } = options;
  return { type, key, value: { key, payload: `value of ${key}` }, bytes: 100, expiresAt: at + 3_600_000, expires: true, lastAccess: at, ...rest };
}

const keysOf = (entries: (StoredEntry | undefined)[]) => entries.map((found) => found?.key);

async function usageOf(store: Store, type: ContentType) {
  const [usage] = await store.usage([type]);
  return usage;
}

/** Recounts entries and bytes from what is stored under `keys`, to compare with the tracked usage. */
async function recount(store: Store, type: ContentType, keys: Iterable<string>) {
  const found = (await store.read(type, [...keys])).filter((item): item is StoredEntry => item !== undefined);
  return { entries: found.length, bytes: found.reduce((sum, item) => sum + item.bytes, 0) };
}

export const storeContract: Record<string, ContractCase> = {
  async 'reads what was written, in key order, undefined for misses'({ store }) {
    await store.write(T, [entry(T, 'a'), entry(T, 'b', { value: [1, 2, 3] })], null, clock);
    const found = await store.read(T, ['b', 'missing', 'a']);
    same(keysOf(found), ['b', undefined, 'a'], 'keys');
    same(found[0]?.value, [1, 2, 3], 'value');
    same(keysOf(await store.read(S, ['a'])), [undefined], 'types are separate');
  },

  async 'replaces an entry with the same key and keeps usage exact'({ store }) {
    await store.write(T, [entry(T, 'a', { bytes: 100 }), entry(T, 'b', { bytes: 50 })], null, clock);
    await store.write(T, [entry(T, 'a', { bytes: 300, value: 'new' })], null, clock);
    same(await usageOf(store, T), { entries: 2, bytes: 350 }, 'usage');
    same((await store.read(T, ['a']))[0]?.value, 'new', 'value');
    same(await usageOf(store, S), { entries: 0, bytes: 0 }, 'other type');
  },

  async 'keeps entries across a reopen only when persistent'({ store, persistent, reopen }) {
    await store.write(T, [entry(T, 'a')], null, clock);
    const again = await reopen();
    same(keysOf(await again.read(T, ['a'])), [persistent ? 'a' : undefined], 'after reopen');
    same((await usageOf(again, T))?.entries, persistent ? 1 : 0, 'usage after reopen');
  },

  async 'removes keys, only those passing the condition'({ store }) {
    await store.write(T, [entry(T, 'a', { fingerprint: 'x' }), entry(T, 'b', { fingerprint: 'y' }), entry(T, 'c')], null, clock);
    same(await store.remove(T, ['a', 'b', 'zzz'], (found) => found.fingerprint === 'x'), { deleted: ['a'], expired: [] }, 'removed with condition');
    same(await store.remove(T, ['b', 'c']), { deleted: ['b', 'c'], expired: [] }, 'removed without');
    same(keysOf(await store.read(T, ['a', 'b', 'c'])), [undefined, undefined, undefined], 'left');
    same(await usageOf(store, T), { entries: 0, bytes: 0 }, 'usage');
  },

  async 'removes the entries the condition calls expired in the same step, apart from those it deletes'({ store }) {
    await store.write(T, [entry(T, 'a', { bytes: 100 }), entry(T, 'b', { bytes: 40 }), entry(T, 'c', { bytes: 7 })], null, clock);
    const removed = await store.remove(T, ['a', 'b', 'c', 'zzz', 'b'], (found) => (found.key === 'c' ? false : found.key === 'b' ? 'expired' : true));
    same(removed, { deleted: ['a'], expired: ['b'] }, 'deleted apart from expired');
    same(keysOf(await store.read(T, ['a', 'b', 'c'])), [undefined, undefined, 'c'], 'left');
    same(await usageOf(store, T), { entries: 1, bytes: 7 }, 'usage');
  },

  async 'counts a key given twice in one call once'({ store }) {
    await store.write(T, [entry(T, 'a', { bytes: 100 }), entry(T, 'a', { bytes: 40 })], null, clock);
    same(await usageOf(store, T), { entries: 1, bytes: 40 }, 'usage after writing a key twice');
    same(keysOf(await store.read(T, ['a', 'a'])), ['a', 'a'], 'read twice');
    same(await store.remove(T, ['a', 'a'], () => true), { deleted: ['a'], expired: [] }, 'removed with a condition');
    same(await usageOf(store, T), { entries: 0, bytes: 0 }, 'usage after removing it twice');
    await store.write(T, [entry(T, 'b'), entry(T, 'c')], null, clock);
    same(await store.remove(T, ['b', 'c', 'b']), { deleted: ['b', 'c'], expired: [] }, 'removed without');
    same(await usageOf(store, T), { entries: 0, bytes: 0 }, 'usage after removing a key twice');
  },

  async 'invalidates by track, including entries tagged with several tracks'({ store }) {
    await store.write(T, [entry(T, 'a', { trackIds: ['t1'] }), entry(T, 'b', { trackIds: ['t2', 't1'] }), entry(T, 'c', { trackIds: ['t2'] })], null, clock);
    await store.write(S, [entry(S, 'a', { trackIds: ['t1'] })], null, clock);
    same(await store.invalidate([{ type: T, by: 'track', trackId: 't1' }]), { counts: { [T]: 2 }, keys: { [T]: ['a', 'b'] } }, 'counts and keys');
    same(keysOf(await store.read(T, ['a', 'b', 'c'])), [undefined, undefined, 'c'], 'left in type');
    same(keysOf(await store.read(S, ['a'])), ['a'], 'other type untouched');
    same(await usageOf(store, T), { entries: 1, bytes: 100 }, 'usage');
  },

  async 'invalidates by album key and by fingerprint, optionally of one track'({ store }) {
    await store.write(
      S,
      [entry(S, 'x', { albumKey: 'k1' }), entry(S, 'y', { albumKey: 'k2' }), entry(S, 'z', { albumKey: 'k1', trackIds: ['t9'] })],
      null,
      clock,
    );
    await store.write(T, [entry(T, 'f1', { fingerprint: 'F', trackIds: ['t1'] }), entry(T, 'f2', { fingerprint: 'F', trackIds: ['t2'] }), entry(T, 'f3', { fingerprint: 'G' })], null, clock);
    same(await store.invalidate([{ type: S, by: 'album', albumKey: 'k1' }]), { counts: { [S]: 2 }, keys: { [S]: ['x', 'z'] } }, 'album');
    same(keysOf(await store.read(S, ['x', 'y', 'z'])), [undefined, 'y', undefined], 'album left');
    same(await store.invalidate([{ type: T, by: 'fingerprint', fingerprint: 'F', trackId: 't2' }]), { counts: { [T]: 1 }, keys: { [T]: ['f2'] } }, 'fingerprint of a track');
    same(await store.invalidate([{ type: T, by: 'fingerprint', fingerprint: 'F' }]), { counts: { [T]: 1 }, keys: { [T]: ['f1'] } }, 'fingerprint');
    same(keysOf(await store.read(T, ['f1', 'f2', 'f3'])), [undefined, undefined, 'f3'], 'fingerprint left');
  },

  async 'counts an entry found by two targets once'({ store }) {
    await store.write(S, [entry(S, 'x', { albumKey: 'k1', trackIds: ['t1'] })], null, clock);
    const removed = await store.invalidate([
      { type: S, by: 'track', trackId: 't1' },
      { type: S, by: 'album', albumKey: 'k1' },
    ]);
    same(removed, { counts: { [S]: 1 }, keys: { [S]: ['x'] } }, 'counts and keys');
    same(await usageOf(store, S), { entries: 0, bytes: 0 }, 'usage');
  },

  async 'invalidates a whole type'({ store }) {
    await store.write(A, [entry(A, 'a'), entry(A, 'b')], null, clock);
    await store.write(T, [entry(T, 'a')], null, clock);
    same(await store.invalidate([{ type: A, by: 'all' }]), { counts: { [A]: 2 }, keys: {} }, 'counts, any key');
    same(await usageOf(store, A), { entries: 0, bytes: 0 }, 'usage');
    same(keysOf(await store.read(T, ['a'])), ['a'], 'other type untouched');
  },

  async 'clears the given types only'({ store }) {
    await store.write(A, [entry(A, 'a')], null, clock);
    await store.write(T, [entry(T, 'a')], null, clock);
    await store.clear([A]);
    same(keysOf(await store.read(A, ['a'])), [undefined], 'cleared');
    same(keysOf(await store.read(T, ['a'])), ['a'], 'kept');
    same(await usageOf(store, A), { entries: 0, bytes: 0 }, 'usage');
  },

  async 'evicts expired entries first, then the least recently used, down to the low-water mark'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 800 };
    const now = 1000;
    await store.write(T, [entry(T, 'old', { at: 1 }), entry(T, 'expired', { at: 50, expiresAt: now - 1 })], budget, now);
    const fresh = Array.from({ length: 6 }, (_, index) => entry(T, `fresh${index}`, { at: 100 + index }));
    await store.write(T, fresh, budget, now);
    // 8 × 100 bytes = 800: at the mark, nothing to evict yet.
    same((await usageOf(store, T))?.bytes, 800, 'at the mark');
    const removed = await store.write(T, [entry(T, 'new', { at: now })], budget, now);
    same(removed, { expired: 1, evicted: 0 }, 'the expired one goes first');
    const again = await store.write(T, [entry(T, 'newer', { at: now + 1 })], budget, now);
    same(again, { expired: 0, evicted: 1 }, 'then the least recently used');
    same(keysOf(await store.read(T, ['old', 'expired', 'fresh0'])), [undefined, undefined, 'fresh0'], 'which ones');
    const usage = await usageOf(store, T);
    check(usage && usage.bytes <= budget.lowWater, `bytes ${usage?.bytes} ≤ low water`);
  },

  async 'leaves entries that never expire out of the sweep, whatever their expiresAt'({ store }) {
    await store.write(T, [entry(T, 'forever', { at: 1, expiresAt: 5, expires: false }), entry(T, 'mortal', { at: 2, expiresAt: 5 })], null, 0);
    same(await store.cleanup(new Map([[T, null]]), 10), { [T]: { expired: 1, evicted: 0 } }, 'report');
    same(keysOf(await store.read(T, ['forever', 'mortal'])), ['forever', undefined], 'left');
  },

  async 'the sweep gives entries that never expire used ahead of the clock an unknown last use: first to go, read since as used then; bytes kept, nothing counted'({ store }) {
    const [now, year] = [1_000_000, 365 * 86_400_000];
    const forever = { expiresAt: now, expires: false };
    await store.write(T, [entry(T, 'ahead0', { at: now + year, ...forever }), entry(T, 'ahead1', { at: now + year + 1, ...forever }), entry(T, 'mortal', { at: now + year + 2 })], null, now + year);
    await store.write(T, [entry(T, 'k0', { at: now - 3, ...forever }), entry(T, 'k1', { at: now - 2, ...forever })], null, now);
    same(await store.cleanup(new Map([[T, null]]), now), { [T]: { expired: 1, evicted: 0 } }, 'report');
    same((await store.read(T, ['ahead0', 'ahead1'])).map((found) => found?.lastAccess), [0, 0], 'their last use');
    same(await usageOf(store, T), { entries: 4, bytes: 400 }, 'usage');
    store.touch(T, 'ahead1', now);
    same(await store.write(T, [entry(T, 'new', { at: now + 1, ...forever })], { maxBytes: 500, lowWater: 300 }, now + 1), { expired: 0, evicted: 2 }, 'room made');
    same(keysOf(await store.read(T, ['ahead0', 'k0', 'k1', 'ahead1'])), [undefined, undefined, 'k1', 'ahead1'], 'the one not read, then the least recently used');
  },

  async 'never evicts the entries of the write itself'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 500 };
    await store.write(T, [entry(T, 'old')], budget, clock);
    const batch = Array.from({ length: 7 }, (_, index) => entry(T, `b${index}`));
    const removed = await store.write(T, batch, budget, clock);
    same(removed.evicted, 1, 'evicted the older entry');
    same(keysOf(await store.read(T, batch.map((item) => item.key))), batch.map((item) => item.key), 'batch kept, above the mark');
  },

  async 'evicts by last access, whatever the order of the entries in their write'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 800 };
    // Named in one order, used in the opposite one: k7 is the least recently used.
    await store.write(T, Array.from({ length: 8 }, (_, index) => entry(T, `k${index}`, { at: 20 - index })), budget, 100);
    await store.write(T, [entry(T, 'new', { at: 300 })], budget, 300);
    same(keysOf(await store.read(T, ['k0', 'k7'])), ['k0', undefined], 'k7 was used least recently');
  },

  async 'evicts by last access, whatever the order of the keys: a newer key between two evicted ones stays'({ store }) {
    const budget: Budget = { maxBytes: 1200, lowWater: 800 };
    await store.write(T, ['a0', 'a1', 'a2', 'a4', 'a6'].map((key, index) => entry(T, key, { at: 1 + index })), null, 100);
    await store.write(T, ['a3', 'a5'].map((key, index) => entry(T, key, { at: 10 + index })), null, 100);
    const removed = await store.write(T, ['z0', 'z1', 'z2', 'z3', 'z4'].map((key) => entry(T, key, { at: 100 })), budget, 100);
    same(removed, { expired: 0, evicted: 4 }, 'four go');
    const keys = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    same(keysOf(await store.read(T, keys)), [undefined, undefined, undefined, 'a3', undefined, 'a5', 'a6'], 'the least recently used, not a3 between them');
    same(await usageOf(store, T), { entries: 8, bytes: 800 }, 'usage');
  },

  async 'evicts the expired entries in the order they expired, whatever their last access'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 800 };
    const now = 1000;
    await store.write(T, [entry(T, 'late', { at: 1, expiresAt: now - 1 }), entry(T, 'early', { at: 2, expiresAt: now - 500 })], budget, now);
    await store.write(T, Array.from({ length: 6 }, (_, index) => entry(T, `k${index}`, { at: 10 + index })), budget, now);
    same(await store.write(T, [entry(T, 'new', { at: now })], budget, now), { expired: 1, evicted: 0 }, 'one expired entry goes');
    same(keysOf(await store.read(T, ['early', 'late'])), [undefined, 'late'], 'the one that expired first');
  },

  async 'takes the entries that can expire used ahead of the clock (of unknown age) before those past their expiry, whatever their expiry'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 800 };
    const [now, year] = [1_000_000, 365 * 86_400_000];
    await store.write(T, [entry(T, 'ahead', { at: now + year, expiresAt: now + year + 3_600_000 })], null, now + year);
    await store.write(T, [entry(T, 'expired', { at: 1, expiresAt: now - 1 })], null, now);
    await store.write(T, Array.from({ length: 6 }, (_, index) => entry(T, `k${index}`, { at: 10 + index })), budget, now);
    same(await store.write(T, [entry(T, 'new', { at: now })], budget, now), { expired: 1, evicted: 0 }, 'one expired entry goes');
    same(keysOf(await store.read(T, ['ahead', 'expired'])), [undefined, 'expired'], 'the one used ahead of the clock');
  },

  async 'spares an entry that was read recently'({ store }) {
    const budget: Budget = { maxBytes: 1000, lowWater: 800 };
    await store.write(T, Array.from({ length: 8 }, (_, index) => entry(T, `k${index}`, { at: 10 + index })), budget, 100);
    store.touch(T, 'k0', 200);
    await store.write(T, [entry(T, 'new', { at: 300 })], budget, 300);
    same(keysOf(await store.read(T, ['k0', 'k1'])), ['k0', undefined], 'k0 was read, so k1 goes');
  },

  async 'cleanup removes every expired entry and evicts types above their mark'({ store }) {
    const now = 10_000;
    await store.write(T, [entry(T, 'e1', { at: 1, expiresAt: now }), entry(T, 'e2', { at: 2, expiresAt: now - 5 }), entry(T, 'live', { at: 3, expiresAt: now + 1 })], null, 0);
    await store.write(A, Array.from({ length: 5 }, (_, index) => entry(A, `a${index}`, { at: index })), null, 0);
    const result = await store.cleanup(
      new Map([
        [T, null],
        [A, { maxBytes: 400, lowWater: 300 }],
      ]),
      now,
    );
    same(result, { [T]: { expired: 2, evicted: 0 }, [A]: { expired: 0, evicted: 2 } }, 'report');
    same(keysOf(await store.read(T, ['e1', 'e2', 'live'])), [undefined, undefined, 'live'], 'expired exactly at expiresAt');
    same(await usageOf(store, A), { entries: 3, bytes: 300 }, 'evicted down to the mark');
  },

  async 'frees room for a quota error: expired first, then LRU of the types in order'({ store }) {
    const now = 10_000;
    await store.write(A, [entry(A, 'expired', { at: 1, expiresAt: now - 1 }), entry(A, 'live', { at: 2 })], null, 0);
    await store.write(T, [entry(T, 't-old', { at: 3 }), entry(T, 't-new', { at: 4 })], null, 0);
    const freed = await store.free([T, A], 200, now);
    same(freed, { [T]: { expired: 0, evicted: 1 }, [A]: { expired: 1, evicted: 0 } }, 'freed');
    same(keysOf(await store.read(T, ['t-old', 't-new'])), [undefined, 't-new'], 'type written first');
    same(keysOf(await store.read(A, ['live'])), ['live'], 'others spared once enough is free');
  },

  async 'keeps usage equal to a recount after 2,000 random operations'({ store }) {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <V>(items: readonly V[]): V => items[Math.floor(random() * items.length)]!;
    const types = [T, S, A] as const;
    const keys = Array.from({ length: 60 }, (_, index) => `k${index}`);
    const tracks = ['t1', 't2', 't3', 't4'];
    const budget: Budget = { maxBytes: 6000, lowWater: 4000 };
    let now = 0;
    for (let step = 0; step < 2000; step++) {
      now += 1000;
      const type = pick(types);
      const roll = random();
      if (roll < 0.5) {
        const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
          entry(type, pick(keys), { at: now, bytes: 20 + Math.floor(random() * 400), expiresAt: now + Math.floor(random() * 50_000), trackIds: [pick(tracks)], albumKey: pick(['x', 'y']), fingerprint: pick(['F', 'G']) }),
        );
        const unique = [...new Map(batch.map((item) => [item.key, item])).values()];
        await store.write(type, unique, random() < 0.5 ? budget : null, now);
      } else if (roll < 0.65) await store.remove(type, [pick(keys), pick(keys)]);
      else if (roll < 0.8) await store.invalidate([{ type, by: 'track', trackId: pick(tracks) }, { type, by: 'album', albumKey: pick(['x', 'y']) }]);
      else if (roll < 0.85) await store.invalidate([{ type, by: 'fingerprint', fingerprint: pick(['F', 'G']), trackId: pick(tracks) }]);
      else if (roll < 0.9) await store.cleanup(new Map([[type, budget]]), now);
      else if (roll < 0.93) await store.free([type], 500, now);
      else if (roll < 0.95) await store.invalidate([{ type, by: 'all' }]);
      else store.touch(type, pick(keys), now);
    }
    for (const type of types) same(await usageOf(store, type), await recount(store, type, keys), `usage of ${type}`);
  },
};

/** The two stores the contract runs against: IndexedDB through `indexedDB`, and memory. */
export function contractStores(indexedDB: IDBFactory): Record<string, () => Promise<ContractContext>> {
  let databases = 0;
  const context = async (open: () => Promise<Store>, persistent: boolean): Promise<ContractContext> => {
    let store = await open();
    return {
      store,
      persistent,
      reopen: async () => {
        store.close();
        return (store = await open());
      },
    };
  };
  return {
    IdbStore: () => {
      const name = `contract-${++databases}-${Math.random().toString(36).slice(2)}`;
      return context(() => IdbStore.open({ name, indexedDB }), true);
    },
    MemoryStore: () => context(async () => new MemoryStore({ clone: true }), false),
  };
}
