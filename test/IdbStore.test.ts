import { IDBFactory } from 'fake-indexeddb';
import { IDBObjectStore } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { IdbStore } from '../worker/IdbStore';
import type { ExpiredBy } from '../worker/Store';
import { entry } from './contract/storeContract';
import { entryStore } from '../worker/databaseSchema';
import { uniqueName } from './support/openCache';

describe('IdbStore', () => {
  it('an invalidation and a write called just after it apply in call order: the write stays, usage exact', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory() });
    await store.write('track_metadata', [entry('track_metadata', 'before', { trackIds: ['t1'] })], null, 0);
    // The lookup and the removal are one transaction: nothing written between them can be missed or half-counted.
    const invalidated = store.invalidateAndLog([{ type: 'track_metadata', by: 'track', trackId: 't1' }], {
      id: 'e1',
      origin: 'test',
      event: { eventType: 'track_removed', trackId: 't1' },
    });
    const written = store.write('track_metadata', [entry('track_metadata', 'after', { trackIds: ['t1'], bytes: 300 })], null, 0);
    const [{ record }] = await Promise.all([invalidated, written]);
    expect(record.invalidated).toEqual({ track_metadata: 1 });
    expect((await store.read('track_metadata', ['before', 'after'])).map((found) => found?.key)).toEqual([undefined, 'after']);
    expect(await store.usage(['track_metadata'])).toEqual([{ entries: 1, bytes: 300 }]);
    store.close();
  });

  it('a sweep settles entries that never expire used ahead of the clock in steps, each its own transaction: writes of those keys made meanwhile stay as written', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory(), chunk: 7 });
    const [now, year] = [1_000_000, 365 * 86_400_000];
    const keys = Array.from({ length: 30 }, (_, index) => `k${String(index).padStart(2, '0')}`);
    await store.write('track_metadata', keys.map((key, index) => entry('track_metadata', key, { at: now + year + index, expires: false })), null, now + year);
    const cleanup = store.cleanup(new Map([['track_metadata', null]]), now);
    // Written while the sweep goes through them: each lands between two of its steps, or before it.
    const writes = ['k03', 'k12', 'k29'].map((key) => store.write('track_metadata', [entry('track_metadata', key, { at: now + 5, value: 'rewritten', expires: false })], null, now));
    expect(await cleanup).toEqual({ track_metadata: { expired: 0, evicted: 0 } });
    await Promise.all(writes);
    const found = await store.read('track_metadata', keys);
    expect(found.filter((item) => item?.value === 'rewritten').map((item) => [item!.key, item!.lastAccess])).toEqual([['k03', now + 5], ['k12', now + 5], ['k29', now + 5]]);
    expect(found.filter((item) => item?.value !== 'rewritten').every((item) => item?.lastAccess === 0)).toBe(true);
    expect(await store.usage(['track_metadata'])).toEqual([{ entries: 30, bytes: 3000 }]);
    store.close();
  });

  it('a sweep of many expired entries removes them in steps, each its own transaction: a write of another type made during it lands between two of them, and the byte counts are exact', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory(), chunk: 7 });
    const keys = Array.from({ length: 30 }, (_, index) => `a${String(index).padStart(2, '0')}`);
    // Written at 0, an hour's TTL: every one expired at 10,000,000.
    await store.write('album_year', keys.map((key) => entry('album_year', key, { at: 0 })), null, 0);
    const now = 10_000_000;
    const order: string[] = [];
    let written: Promise<unknown> | undefined;
    // A step of the sweep is seen as its delete of album_year entries; the first starts a write of track_metadata.
    const original = IDBObjectStore.prototype.delete;
    const deletes = vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(function (this: IDBObjectStore, key: IDBValidKey | IDBKeyRange) {
      if (this.name === entryStore('album_year')) {
        order.push('sweep step');
        written ??= store.write('track_metadata', [entry('track_metadata', 'other', { at: now })], null, now).then(() => order.push('write landed'));
      }
      return original.call(this, key);
    });
    try {
      expect(await store.cleanup(new Map([['album_year', null], ['track_metadata', null]]), now)).toEqual({ album_year: { expired: 30, evicted: 0 }, track_metadata: { expired: 0, evicted: 0 } });
      await written;
    } finally {
      deletes.mockRestore();
    }
    // The write did not wait for the whole sweep: the sweep still removed entries after it landed.
    expect(order.lastIndexOf('sweep step')).toBeGreaterThan(order.indexOf('write landed'));
    expect(await store.usage(['album_year', 'track_metadata'])).toEqual([
      { entries: 0, bytes: 0 },
      { entries: 1, bytes: 100 },
    ]);
    store.close();
  });

  it('a relayed change already logged under its id, however long ago, is not applied again', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory() });
    const relayed = { id: 'from-a-tab-without-indexeddb', origin: 'degraded', event: { eventType: 'library_sync' as const } };
    const first = await store.invalidateAndLog([{ type: 'album_year', by: 'all' }], relayed, true);
    for (let index = 0; index < 3; index++) {
      await store.invalidateAndLog([], { id: `later-${index}`, origin: 'test', event: { eventType: 'track_added', trackId: 't' } });
    }
    await store.write('album_year', [entry('album_year', 'written after')], null, 0);
    const again = await store.invalidateAndLog([{ type: 'album_year', by: 'all' }], relayed, true);
    expect(again.record.seq).toBe(first.record.seq);
    expect((await store.read('album_year', ['written after']))[0]?.key).toBe('written after');
    expect((await store.log.after(0)).changes.map((change) => change.id)).toEqual([relayed.id, 'later-0', 'later-1', 'later-2']);
    store.close();
  });

  // Entries stamped at the time the store is given (0): one written after it by more than a minute is expired (see isExpired).
  it('frees room over the quota with deletes only (a browser over its quota refuses any put), and usage is recounted exactly', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory() });
    await store.write('album_year', Array.from({ length: 20 }, (_, index) => entry('album_year', `a${index}`, { bytes: 100 + index, at: 0 })), null, 0);
    await store.write('track_metadata', [entry('track_metadata', 't', { bytes: 500, at: 0 })], null, 0);
    const puts = vi.spyOn(IDBObjectStore.prototype, 'put');
    try {
      const freed = await store.free(['album_year', 'track_metadata'], 300, 0);
      expect(puts).not.toHaveBeenCalled();
      expect(freed.album_year?.evicted).toBeGreaterThan(0);
    } finally {
      puts.mockRestore();
    }
    const left = (await store.read('album_year', Array.from({ length: 20 }, (_, index) => `a${index}`))).filter((found) => found !== undefined);
    const bytes = left.reduce((sum, found) => sum + found!.bytes, 0);
    expect(await store.usage(['album_year', 'track_metadata'])).toEqual([
      { entries: left.length, bytes },
      { entries: 1, bytes: 500 },
    ]);
    await store.write('album_year', [entry('album_year', 'after', { bytes: 50 })], null, 0);
    expect(await store.usage(['album_year'])).toEqual([{ entries: left.length + 1, bytes: bytes + 50 }]);
    store.close();
  });

  it('a cleanup whose removals find the clock set back since its plan (every entry then written ahead of it) keeps the usage exact and counts what went', async () => {
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory() });
    const keys = Array.from({ length: 10 }, (_, index) => `k${index}`);
    await store.write('track_metadata', keys.map((key) => entry('track_metadata', key, { at: 1_000_000 })), null, 0);
    // The plan reads the clock as 1,000,000; the removals, in the next transaction, a day earlier.
    let reads = 0;
    const expiredBy: ExpiredBy = () => ({ by: 0, now: reads++ === 0 ? 1_000_000 : 1_000_000 - 86_400_000 });
    const removed = await store.cleanup(new Map([['track_metadata', { maxBytes: 1000, lowWater: 500 }]]), expiredBy);
    const left = (await store.read('track_metadata', keys)).filter((found) => found !== undefined);
    expect(left.length).toBeLessThanOrEqual(5);
    expect(await store.usage(['track_metadata'])).toEqual([{ entries: left.length, bytes: 100 * left.length }]);
    expect(removed.track_metadata).toEqual({ expired: 10 - left.length, evicted: 0 });
    store.close();
  });

  it('a write marked with a commit id can be asked about, in its own type; old marks are trimmed', async () => {
    let time = 1000;
    const store = await IdbStore.open({ name: uniqueName(), indexedDB: new IDBFactory(), now: () => time });
    await store.write('track_metadata', [entry('track_metadata', 'k', { at: 0 })], null, 0, { commit: { id: 'old' } });
    time = 3000;
    await store.write('track_metadata', [entry('track_metadata', 'k2', { at: 0 })], null, 0, { commit: { id: 'new' } });
    const committed = (...ids: string[]) => Promise.all(ids.map(async (id) => (await store.committed('track_metadata', id)) !== undefined));
    expect(await committed('old', 'new', 'never')).toEqual([true, true, false]);
    expect(await store.committed('album_year', 'old')).toBeUndefined();
    // Marks are neither entries nor counted, and a clear leaves them.
    expect(await store.liveKeys('track_metadata', () => 0)).toEqual(['k', 'k2']);
    expect(await store.usage(['track_metadata'])).toEqual([{ entries: 2, bytes: 2 * entry('track_metadata', 'k').bytes }]);
    await store.clear(['track_metadata']);
    expect(await committed('old', 'new')).toEqual([true, true]);
    await store.trimCommitMarks(['track_metadata'], 2000);
    expect(await committed('old', 'new')).toEqual([false, true]);
    store.close();
  });
});
