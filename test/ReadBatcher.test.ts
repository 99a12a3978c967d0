// Concurrent gets of a type in one task are one getMany: one round trip, one transaction.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CacheClient } from '../src/CacheClient';
import { isCacheError } from '../src/CacheError';
import type { EngineApi } from '../src/protocol';
import { SmartCacheConfig } from '../src/SmartCacheConfig';
import { Engine } from '../worker/Engine';
import { failRequest } from './support/faultyIndexedDB';
import { rejection, uniqueName } from './support/openCache';
import { tableOf } from './support/tableOf';

/** A client over a real engine whose getMany calls are counted. */
async function openCounted(options: { schemas?: Record<string, z.ZodType> } = {}) {
  // Hybrid: track_metadata checks fingerprints on read.
  const config = new SmartCacheConfig({ caching: { policies: { track_metadata: { invalidationStrategy: 'hybrid' } } } });
  const name = uniqueName();
  const engine = await Engine.create({ name, config: tableOf(config), indexedDB: new IDBFactory(), cloneValues: true, logger: { error: vi.fn() } });
  const getMany = vi.fn(engine.getMany.bind(engine));
  const methods = Object.getOwnPropertyNames(Engine.prototype).filter((name) => name !== 'constructor') as (keyof EngineApi)[];
  const counted = Object.fromEntries(
    methods.map((name) => [name, name === 'getMany' ? getMany : (engine[name] as (...args: unknown[]) => unknown).bind(engine)]),
  ) as unknown as EngineApi;
  return { cache: new CacheClient(counted, { schemas: options.schemas }), getMany, name };
}

describe('concurrent gets', () => {
  it.each(['track_metadata', 'generic'] as const)('%s: 50 gets in one task are one getMany, each answered with its own key', async (type) => {
    const { cache, getMany } = await openCounted();
    await cache.setMany(type, Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: i })));
    getMany.mockClear();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i % 45}`);
    const values = await Promise.all(keys.map((key) => cache.get(type, key)));
    expect(values).toEqual(keys.map((_, i) => (i % 45 < 40 ? i % 45 : undefined)));
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[1]).toHaveLength(50);
    const stats = (await cache.stats()).types[type];
    expect({ hits: stats.hits, misses: stats.misses }).toEqual({ hits: 45, misses: 5 });
  });

  it('types apart, and gets of later tasks apart', async () => {
    const { cache, getMany } = await openCounted();
    await Promise.all([cache.get('generic', 'a'), cache.get('album_year', 'b'), cache.get('generic', 'c')]);
    expect(getMany.mock.calls.map(([type, keys]) => [type, keys])).toEqual([
      ['generic', ['a', 'c']],
      ['album_year', ['b']],
    ]);
    await cache.get('generic', 'd');
    await cache.get('generic', 'e');
    expect(getMany).toHaveBeenCalledTimes(4);
  });

  it('each get keeps its own fingerprint check and its own schema check', async () => {
    const { cache, getMany } = await openCounted({ schemas: { track_metadata: z.object({ title: z.string() }) } });
    const [print, other] = ['a'.repeat(64), 'b'.repeat(64)];
    await cache.set('track_metadata', 'ok', { title: 'ok' }, { fingerprint: print });
    await cache.set('track_metadata', 'changed', { title: 'changed' }, { fingerprint: print });
    getMany.mockClear();
    const [ok, changed, unchecked] = await Promise.all([
      cache.get('track_metadata', 'ok', { fingerprint: print }),
      cache.get('track_metadata', 'changed', { fingerprint: other }),
      cache.get('track_metadata', 'ok'),
    ]);
    expect([ok, changed, unchecked]).toEqual([{ title: 'ok' }, undefined, { title: 'ok' }]);
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[2]).toEqual([print, other, undefined]);
    expect(await cache.has('track_metadata', 'changed')).toBe(false);
  });

  it('a failed read reaches every get of the batch; a bad argument fails only its own get, before any read', async () => {
    const { cache, getMany } = await openCounted();
    getMany.mockRejectedValueOnce(new Error('gone'));
    const outcomes = await Promise.allSettled([cache.get('generic', 'a'), cache.get('generic', 'b')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    const [bad, good] = await Promise.allSettled([cache.get('generic', ''), cache.get('generic', 'b')]);
    expect(bad.status === 'rejected' && isCacheError(bad.reason, 'invalid_argument')).toBe(true);
    expect(good).toEqual({ status: 'fulfilled', value: undefined });
    expect(getMany.mock.calls.at(-1)?.[1]).toEqual(['b']);
    await cache.close();
    expect(isCacheError(await rejection(cache.get('generic', 'a')), 'closed')).toBe(true);
  });

  it('a value IndexedDB cannot read back (NotReadableError: its file lost) fails the gets of its key only: the other gets of the batch answer, as each alone would; a getMany of it rejects whole', async () => {
    const { cache, name } = await openCounted();
    await cache.setMany('track_metadata', [
      { key: 'lost', value: 'L' },
      { key: 'kept', value: 'K' },
    ]);
    // Every read of its record fails (Chromium: "Data lost due to missing file"), and aborts its transaction.
    const faults = [1, 2, 3, 4].map((nth) => failRequest({ nth, name: 'NotReadableError', methods: ['get'], database: name, matching: (key) => key === 'lost' }));
    try {
      const outcomes = await Promise.allSettled([cache.get('track_metadata', 'lost'), cache.get('track_metadata', 'kept'), cache.get('track_metadata', 'none')]);
      expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : isCacheError(outcome.reason) && outcome.reason.code))).toEqual([
        'storage_unavailable',
        'K',
        undefined,
      ]);
      expect(isCacheError(await rejection(cache.getMany('track_metadata', ['lost', 'kept'])), 'storage_unavailable')).toBe(true);
    } finally {
      faults.forEach((restore) => restore());
    }
  });

  it('a get with a fingerprint whose batch failed, read again alone with no write of its key made since, removes the entry of another fingerprint, as any get does', async () => {
    await withLostRecord(async (cache, [, other]) => {
      const [k, lost] = await Promise.allSettled([cache.get('track_metadata', 'k', { fingerprint: other }), cache.get('track_metadata', 'lost')]);
      expect([k, lost.status]).toEqual([{ status: 'fulfilled', value: undefined }, 'rejected']);
      expect(await cache.get('track_metadata', 'k')).toBeUndefined();
      expect((await cache.stats()).types.track_metadata.invalidations).toBe(1);
    });
  });

  it('a get with a fingerprint whose batch failed is read again after a write of its key made since with another fingerprint: what was there or a miss, and the write’s entry stays', async () => {
    await withLostRecord(async (cache, [print, other]) => {
      const [read, unreadable] = [cache.get('track_metadata', 'k', { fingerprint: print }), cache.get('track_metadata', 'lost')];
      const written = cache.set('track_metadata', 'k', 'new', { fingerprint: other });
      const [k, lost] = await Promise.allSettled([read, unreadable]);
      await written;
      // Made before the write: what was there, or a miss for the write's entry of another fingerprint.
      expect([k.status === 'fulfilled' && ['old', undefined].includes(k.value as string), lost.status]).toEqual([true, 'rejected']);
      expect(await cache.get('track_metadata', 'k', { fingerprint: other })).toBe('new');
    });
  });
});

/** A cache holding `k` (stored with the first of two fingerprints) and `lost`, whose next two reads fail as Chromium's do for a value whose file is lost. */
async function withLostRecord(run: (cache: Awaited<ReturnType<typeof openCounted>>['cache'], prints: [string, string]) => Promise<void>): Promise<void> {
  const { cache, name } = await openCounted();
  const prints: [string, string] = ['a'.repeat(64), 'b'.repeat(64)];
  await cache.set('track_metadata', 'k', 'old', { fingerprint: prints[0] });
  await cache.set('track_metadata', 'lost', 'L');
  // Each read of its record fails, and aborts its transaction.
  const faults = [1, 2].map((nth) => failRequest({ nth, name: 'NotReadableError', methods: ['get'], database: name, matching: (key) => key === 'lost' }));
  try {
    await run(cache, prints);
  } finally {
    faults.forEach((restore) => restore());
  }
}
