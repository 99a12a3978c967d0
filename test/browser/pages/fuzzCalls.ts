// Bad calls through the public API, generated from a seed: wrong types, empty and huge keys, unknown
// content and event types, functions, symbols, BigInts, cyclic values, NaN/negative/infinite TTLs, bad
// events, misaligned fingerprints. Runs in a page (worker mode) and in Node. Valid writes are mixed in,
// so that what the cache holds afterwards can be compared with a cache that made only those.
import type { Cache } from '../../../src/index';

/** What a cache holds, to compare one that took bad calls with one that took only the valid ones. */
export async function holdings(cache: Cache) {
  const { types } = await cache.stats();
  return {
    usage: Object.fromEntries(Object.entries(types).map(([type, stats]) => [type, [stats.entries, stats.bytes]])),
    generic: await cache.getMany('generic', VALID_KEYS),
    track_metadata: await cache.getMany('track_metadata', VALID_KEYS),
  };
}

export interface FuzzReport {
  calls: number;
  valid: number;
  /** Rejections per CacheError code. */
  codes: Record<string, number>;
  /** What broke the rules: a synchronous throw, a rejection that is not a CacheError, a call that hung, a bad call that resolved. */
  problems: string[];
}

type Call = { what: string; run: (cache: Cache) => unknown; valid?: boolean };

/** mulberry32: small, seeded, good enough to pick arguments (also randomFaults.test's calls). */
export function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!, below: (n: number) => Math.floor(next() * n) };
}

const cyclic = () => {
  const value: Record<string, unknown> = { a: 1 };
  value['self'] = value;
  return value;
};

/** Arguments no call accepts where a content type, key or event type is expected. */
const notStrings = (): unknown[] => [undefined, null, 0, 1.5, NaN, -1, true, {}, [], ['generic'], () => 'generic', Symbol('generic'), 10n, cyclic(), new Date()];
const badKeys = (): unknown[] => [...notStrings(), '', 'k'.repeat(5000)];
const badTypes = (): unknown[] => [...notStrings(), '', 'GENERIC', 'podcast', 'track metadata', ' generic'];
const badTtls = (): unknown[] => [NaN, -Infinity, '60', null, 10n, {}];
const badValues = (): unknown[] => [undefined, () => 1, Symbol('value'), { nested: () => 1 }, [Symbol('x')], new WeakMap()];
const badEvents = (): unknown[] => [
  undefined,
  null,
  'track_removed',
  10n,
  cyclic(),
  {},
  { eventType: 'play' },
  { eventType: 10n },
  { eventType: cyclic() },
  { eventType: 'track_removed' },
  { eventType: 'track_modified', trackId: '' },
  { eventType: 'track_added', trackId: 5 },
  { eventType: 'fingerprint_changed' },
  { eventType: 'fingerprint_changed', fingerprint: ' ' },
  { eventType: 'library_sync', extra: 1 },
  { eventType: 'manual_invalidation', trackId: 10n },
  { eventType: 'track_removed', trackId: 't', metadata: 'not an object' },
  { eventType: 'track_removed', trackId: 't', metadata: { artist: () => 1 } },
];

function calls(seed: number, count: number): Call[] {
  const r = random(seed);
  const type = () => (r.next() < 0.7 ? r.pick(['generic', 'track_metadata', 'album_year', 'negative_result']) : r.pick(badTypes()));
  const key = () => (r.next() < 0.6 ? `fuzz-${Math.floor(r.next() * 20)}` : r.pick(badKeys()));
  const makers: (() => Call)[] = [
    () => ({ what: 'get', run: (cache) => cache.get(r.pick(badTypes()) as never, key() as never) }),
    () => ({ what: 'get bad key', run: (cache) => cache.get(type() as never, r.pick(badKeys()) as never) }),
    () => ({ what: 'get bad options', run: (cache) => cache.get('album_year', 'k', r.pick([{ fingerprint: '' }, { fingerprint: 5 }, { other: 1 }, 'x', 10n]) as never) }),
    () => ({ what: 'getMany not an array', run: (cache) => cache.getMany(type() as never, r.pick([null, 'k', 5, { 0: 'k' }, 10n]) as never) }),
    () => ({ what: 'getMany bad key', run: (cache) => cache.getMany('generic', ['a', r.pick(badKeys()) as never, 'b']) }),
    () => ({ what: 'getMany misaligned fingerprints', run: (cache) => cache.getMany('album_year', ['a', 'b'], { fingerprints: r.pick([['F'], ['F', 'G', 'H'], 'F', [5, 6]]) as never }) }),
    () => ({ what: 'set bad type', run: (cache) => cache.set(r.pick(badTypes()) as never, 'k', 1 as never) }),
    () => ({ what: 'set bad key', run: (cache) => cache.set('generic', r.pick(badKeys()) as never, 1) }),
    () => ({ what: 'set bad value', run: (cache) => cache.set(type() as never, 'k', r.pick(badValues()) as never) }),
    () => ({ what: 'set bad ttl', run: (cache) => cache.set('generic', 'k', 1, { ttlSeconds: r.pick(badTtls()) as never }) }),
    () => ({
      what: 'set bad options',
      run: (cache) =>
        cache.set('track_metadata', 'k', 1, r.pick([{ trackId: 5 }, { trackId: '' }, { trackId: ['t', 7] }, { album: { artist: 1 } }, { album: 'x' }, { fingerprint: '' }, { other: true }, 10n, cyclic()]) as never),
    }),
    () => ({ what: 'setMany not an array', run: (cache) => cache.setMany('generic', r.pick([null, 5, 'x', { key: 'k', value: 1 }, 10n]) as never) }),
    () => ({
      what: 'setMany one bad entry',
      run: (cache) =>
        cache.setMany('track_metadata', [
          { key: 'ok-1', value: 1 },
          r.pick([{ key: '', value: 1 }, { key: 'k' }, { key: 'k', value: () => 1 }, { key: 'k', value: 1, ttlSeconds: Number.NaN }, null, 10n, { key: 10n, value: 1 }]) as never,
          { key: 'ok-2', value: 2 },
        ]),
    }),
    () => ({ what: 'setMany bad options', run: (cache) => cache.setMany('generic', [{ key: 'k', value: 1 }], r.pick([{ onProgress: 'x' }, { other: 1 }, 10n]) as never) }),
    () => ({ what: 'getOrSet bad type', run: (cache) => cache.getOrSet(r.pick(badTypes()) as never, 'k', () => 1 as never) }),
    () => ({ what: 'getOrSet bad key', run: (cache) => cache.getOrSet('generic', r.pick(badKeys()) as never, () => 1 as never) }),
    () => ({ what: 'getOrSet bad fetcher', run: (cache) => cache.getOrSet('generic', 'gos', r.pick([null, 5, 'fetch', 10n]) as never) }),
    () => ({ what: 'getOrSet fetched a bad value', run: (cache) => cache.getOrSet('generic', `gos-${Math.floor(r.next() * 1e9)}`, () => r.pick(badValues()) as never) }),
    () => ({ what: 'getOrSet bad options', run: (cache) => cache.getOrSet('generic', 'gos', () => 1 as never, r.pick([{ ttlSeconds: NaN }, { trackId: 5 }, { other: 1 }]) as never) }),
    () => ({ what: 'delete', run: (cache) => cache.delete(r.pick(badTypes()) as never, key() as never) }),
    () => ({ what: 'delete bad key', run: (cache) => cache.delete('generic', r.pick(badKeys()) as never) }),
    () => ({ what: 'clear', run: (cache) => cache.clear(r.pick(badTypes().filter((value) => value !== undefined)) as never) }),
    () => ({ what: 'emit', run: (cache) => cache.emit(r.pick(badEvents()) as never) }),
    () => ({ what: 'has', run: (cache) => cache.has(r.pick(badTypes()) as never, key() as never) }),
    () => ({ what: 'has bad key', run: (cache) => cache.has('album_year', r.pick(badKeys()) as never) }),
    () => ({ what: 'deleteMany bad keys', run: (cache) => cache.deleteMany(type() as never, r.pick([null, 'k', [r.pick(badKeys())], 10n, [cyclic()]]) as never) }),
    () => ({ what: 'keys bad options', run: (cache) => cache.keys(type() as never, r.pick([{ prefix: 5 }, { prefix: 10n }, { start: 'a' }, 'a', cyclic()]) as never) }),
    () => ({ what: 'entries bad type', run: (cache) => cache.entries(r.pick(badTypes()) as never) }),
    () => ({
      what: 'resolve bad options',
      run: (cache) =>
        cache.resolve('generic', 'res', () => 1 as never, r.pick([{ signal: {} }, { forceFresh: 'yes' }, { staleWhileRevalidateSeconds: -1 }, { staleWhileRevalidateSeconds: NaN }, { signal: AbortSignal.abort() }]) as never),
    }),
  ];
  return Array.from({ length: count }, (_, index) => {
    // One call in ten is a valid write, of a value the comparison cache writes too.
    if (index % 10 === 9) {
      const k = VALID_KEYS[index % VALID_KEYS.length]!;
      const value = { index, text: 'v'.repeat(index % 50) };
      const valid = r.pick(['generic', 'track_metadata'] as const);
      return { what: `set ${valid} ${k}`, run: (cache: Cache) => cache.set(valid, k, value), valid: true };
    }
    return r.pick(makers)();
  });
}

const TIMEOUT = Symbol('timeout');

/** The keys valid calls write (each in one of two types). */
export const VALID_KEYS = Array.from({ length: 200 }, (_, index) => `valid-${index}`);

/** Makes `count` calls (bad ones, and a valid write in ten) on `cache`; `reference` gets only the valid ones. */
export async function fuzz(cache: Cache, reference: Cache, seed: number, count: number): Promise<FuzzReport> {
  const report: FuzzReport = { calls: 0, valid: 0, codes: {}, problems: [] };
  for (const call of calls(seed, count)) {
    report.calls++;
    if (call.valid) {
      report.valid++;
      await call.run(cache);
      await call.run(reference);
      continue;
    }
    let pending: unknown;
    try {
      pending = call.run(cache);
    } catch (error) {
      report.problems.push(`${call.what} threw synchronously: ${String(error)}`);
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      Promise.resolve(pending).then(
        () => 'resolved' as const,
        (error: unknown) => error,
      ),
      new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), 5000))),
    ]);
    clearTimeout(timer);
    if (outcome === TIMEOUT) report.problems.push(`${call.what} hung`);
    else if (outcome === 'resolved') report.problems.push(`${call.what} resolved`);
    else {
      const error = outcome as { name?: unknown; code?: unknown };
      if (error?.name !== 'CacheError' || typeof error.code !== 'string') report.problems.push(`${call.what} rejected with ${String(outcome)}`);
      else report.codes[error.code] = (report.codes[error.code] ?? 0) + 1;
    }
  }
  return report;
}
