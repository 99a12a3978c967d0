// Layout 2 (SPEC 0.2, issue 13): a write touches its type's own store only, so writes of one type never
// wait for another type's. Order shown by when each call resolved, not by timing thresholds.
import { IDBDatabase } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { openCache } from './support/openCache';

describe('writes of different types', () => {
  it('every write transaction holds its own type’s store and nothing else', async () => {
    const { cache, name } = await openCache({ config: { caching: { customTypes: { art: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1 } } } } });
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      await cache.set('track_metadata', 'a', 1);
      await cache.setMany('album_year', [{ key: 'b', value: 2 }]);
      await cache.set('art', 'c', 3);
      await cache.delete('track_metadata', 'a');
      const writes = transaction.mock.calls
        .filter((_, index) => (transaction.mock.contexts[index] as IDBDatabase).name === name)
        .filter(([, mode]) => mode === 'readwrite')
        .map(([stores]) => stores);
      expect(writes).toEqual([['track_metadata'], ['album_year'], ['custom:art'], ['track_metadata']]);
    } finally {
      transaction.mockRestore();
    }
  });

  it('a small write of one type, made while a big import of another is being written, resolves first', async () => {
    const { cache } = await openCache();
    const order: string[] = [];
    let small: Promise<unknown> | undefined;
    const big = cache
      .setMany(
        'track_metadata',
        Array.from({ length: 20_000 }, (_, index) => ({ key: `k${index}`, value: { index, text: 'x'.repeat(50) } })),
        {
          // The first report comes from inside the import's transaction: write another type then.
          onProgress: (done, total) => {
            if (small || done === total) return;
            order.push(`import at ${done} of ${total}`);
            small = cache.set('album_year', 'year', 1999).then(() => order.push('album_year write resolved'));
          },
        },
      )
      .then(() => order.push('import resolved'));
    await big;
    await small;
    expect(order).toEqual([expect.stringMatching(/^import at \d+ of 20000$/), 'album_year write resolved', 'import resolved']);
    expect(await cache.get('album_year', 'year')).toBe(1999);
    expect((await cache.stats()).types.track_metadata.entries).toBe(20_000);
  }, 60_000);
});
