import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { CONTENT_TYPES } from '../src/index';
import { fakeClock, openCache, uniqueName } from './support/openCache';
import { LAYOUT } from '../worker/databaseSchema';
import { requestDone } from '../worker/idbRequests';
import { deleteUnderTabs, fillDisk } from './support/faultyIndexedDB';
import type { CacheChange } from '../src/Cache';

/** Writes a database exactly as Reprise 0.1 left it: version 1, no epoch, records without revisions, an event log. */
async function databaseOf01(indexedDB: IDBFactory, name: string, at: number): Promise<void> {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    for (const type of CONTENT_TYPES) {
      const entries = db.createObjectStore(type, { keyPath: 'key' });
      entries.createIndex('track', 'trackIds', { multiEntry: true });
      entries.createIndex('album', 'albumKey');
      entries.createIndex('fingerprint', 'fingerprint');
      entries.createIndex('expiry', 'expiry');
      entries.createIndex('access', 'lastAccess');
    }
    db.createObjectStore('usage');
    db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('meta');
  };
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const tx = db.transaction(['track_metadata', 'album_year', 'usage', 'events'], 'readwrite');
  tx.objectStore('track_metadata').put({ key: 'song', value: { title: 'Song' }, bytes: 100, expiresAt: at + 1e12, lastAccess: at, trackIds: ['t1'] });
  tx.objectStore('track_metadata').put({ key: 'other', value: { title: 'Other' }, bytes: 120, expiresAt: at + 1e12, lastAccess: at, trackIds: ['t2'] });
  tx.objectStore('album_year').put({ key: 'album', value: 1999, bytes: 80, expiresAt: at + 1e9, expiry: at + 1e9, lastAccess: at, fingerprint: 'F' });
  tx.objectStore('usage').put({ entries: 2, bytes: 220 }, 'track_metadata');
  tx.objectStore('usage').put({ entries: 1, bytes: 80 }, 'album_year');
  tx.objectStore('events').add({ event: { eventType: 'library_sync' }, origin: 'old-tab', at, invalidated: { album_year: 0 } });
  await new Promise((resolve) => (tx.oncomplete = resolve));
  db.close();
}

/** The counts stats() reports of a type. */
const pick = ({ entries, bytes }: { entries: number; bytes: number }) => ({ entries, bytes });

describe('the database', () => {
  it('written by Reprise 0.1 (version 1) keeps every entry, its usage, and events keep flowing', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const start = Date.UTC(2026, 0, 1);
    await databaseOf01(indexedDB, name, start);
    const { cache: a, clock } = await openCache({ indexedDB, name });
    const { cache: b } = await openCache({ indexedDB, name, clock });
    expect(await a.getMany('track_metadata', ['song', 'other'])).toEqual([{ title: 'Song' }, { title: 'Other' }]);
    expect(await a.get('album_year', 'album', { fingerprint: 'F' })).toBe(1999);
    const { types } = await a.stats();
    expect(types.track_metadata).toMatchObject({ entries: 2, bytes: 220 });
    expect(types.album_year).toMatchObject({ entries: 1, bytes: 80 });
    const seen = vi.fn();
    b.on('*', seen);
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(seen).toHaveBeenCalledTimes(1));
    expect(await b.getMany('track_metadata', ['song', 'other'])).toEqual([undefined, { title: 'Other' }]);
    expect((await b.stats()).types.track_metadata).toMatchObject({ entries: 1, bytes: 120 });
  });

  it('written by Reprise 0.1 with a byte count that had drifted from its entries (0.1 counted a key given twice in one setMany twice): stats() reports what the entries hold, and nothing once they are deleted', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    await databaseOf01(indexedDB, name, Date.UTC(2026, 0, 1));
    // 0.1's count of 'song' (100 bytes) set twice in one call: 3 entries, 320 bytes, where 2 entries of 220 are stored.
    const db = await requestDone(indexedDB.open(name, 1));
    const tx = db.transaction('usage', 'readwrite');
    tx.objectStore('usage').put({ entries: 3, bytes: 320 }, 'track_metadata');
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    const { cache } = await openCache({ indexedDB, name });
    const listed = await cache.entries('track_metadata');
    expect({ listed: listed.map(([key]) => key), stats: pick((await cache.stats()).types.track_metadata) }).toEqual({ listed: ['other', 'song'], stats: { entries: 2, bytes: 220 } });
    await cache.deleteMany('track_metadata', ['song', 'other']);
    expect(pick((await cache.stats()).types.track_metadata)).toEqual({ entries: 0, bytes: 0 });
  });

  it('written by Reprise 0.1, then deleted under the tab that gave it its epoch (site data cleared): the watchers hear a clear, as of any database', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    await databaseOf01(indexedDB, name, Date.UTC(2026, 0, 1));
    const { cache } = await openCache({ indexedDB, name });
    expect(await cache.get('album_year', 'album', { fingerprint: 'F' })).toBe(1999);
    const seen: CacheChange[] = [];
    cache.watch('album_year', 'album', (change) => void seen.push(change));
    await deleteUnderTabs(indexedDB, name);
    expect(await cache.get('album_year', 'album')).toBeUndefined();
    await cache.stats();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([{ type: 'album_year', kind: 'clear', keys: null, source: 'remote' }]);
  });

  it('written by Reprise 0.1: an album event finds its entries by the key 0.1 gave them (its fold took ı to i), and no entry stored since under that key', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const start = Date.UTC(2026, 0, 1);
    await databaseOf01(indexedDB, name, start);
    // 0.1 keyed ('Sıla', 'Yara') as ["sila","yara"]: that key, on a record without a revision.
    const db = await requestDone(indexedDB.open(name, 1));
    const tx = db.transaction('successful_api_metadata', 'readwrite');
    tx.objectStore('successful_api_metadata').put({ key: 'by 0.1', value: 1, bytes: 90, expiresAt: start + 1e12, lastAccess: start, albumKey: '["sila","yara"]' });
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    const { cache } = await openCache({ indexedDB, name, clock: fakeClock(start) });
    await cache.set('successful_api_metadata', 'sila now', 2, { album: { artist: 'Sila', album: 'Yara' } });
    const report = await cache.emit({ eventType: 'track_removed', trackId: 'x', metadata: { artist: 'Sıla', album: 'Yara' } });
    expect(report.invalidated).toEqual({ track_metadata: 0, successful_api_metadata: 1 });
    expect(await cache.getMany('successful_api_metadata', ['by 0.1', 'sila now'])).toEqual([undefined, 2]);
  });

  it('of layout 1 (a usage store) moves each usage record into its type’s store, keeps every entry and custom store, and drops the usage store', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const start = Date.UTC(2026, 0, 1);
    await databaseOf01(indexedDB, name, start);
    // An early 0.2 database, still layout 1, that had gained a custom type's store and its usage.
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name, 2);
      request.onupgradeneeded = () => {
        const art = request.result.createObjectStore('custom:art', { keyPath: 'key' });
        for (const index of ['track', 'album', 'fingerprint', 'expiry', 'access']) art.createIndex(index, index === 'track' ? 'trackIds' : index, { multiEntry: index === 'track' });
        art.put({ key: 'cover', value: 'blue', bytes: 40, expiresAt: start + 1e9, expiry: start + 1e9, lastAccess: start });
        request.transaction!.objectStore('usage').put({ entries: 1, bytes: 40 }, 'art');
      };
      request.onsuccess = () => (request.result.close(), resolve());
      request.onerror = () => reject(request.error);
    });
    const config = { caching: { customTypes: { art: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based' as const, maxSizeMb: 1 } } } };
    const { cache } = await openCache({ indexedDB, name, config, clock: fakeClock(start) });
    expect(await cache.get('art', 'cover')).toBe('blue');
    expect(await cache.getMany('track_metadata', ['song', 'other'])).toEqual([{ title: 'Song' }, { title: 'Other' }]);
    const { types } = await cache.stats();
    expect([types.track_metadata, types.album_year, types.art].map(({ entries, bytes }) => [entries, bytes])).toEqual([
      [2, 220],
      [1, 80],
      [1, 40],
    ]);
    await cache.close();
    // Read without Reprise: the layout mark, no usage store, each usage record in its type's store under key 0.
    const db = await requestDone(indexedDB.open(name));
    expect([db.objectStoreNames.contains(`layout:${LAYOUT}`), db.objectStoreNames.contains('usage')]).toEqual([true, false]);
    const tx = db.transaction(['track_metadata', 'custom:art'], 'readonly');
    const usage = [tx.objectStore('track_metadata').get(0), tx.objectStore('custom:art').get(0)];
    await new Promise((resolve) => (tx.oncomplete = resolve));
    expect(usage.map((request) => request.result)).toEqual([
      { key: 0, entries: 2, bytes: 220 },
      { key: 0, entries: 1, bytes: 40 },
    ]);
    db.close();
  });

  it('of layout 2 (before imports) gets its layout mark and keeps every entry, usage record and commit mark', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const start = Date.UTC(2026, 0, 1);
    // As layout 2 left it: version 2, each type's usage under key 0 in its own store, a commit mark, the `layout:2` mark.
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name, 2);
      request.onupgradeneeded = () => {
        const db = request.result;
        for (const type of CONTENT_TYPES) {
          const entries = db.createObjectStore(type, { keyPath: 'key' });
          for (const index of ['track', 'album', 'fingerprint', 'expiry', 'access']) entries.createIndex(index, { track: 'trackIds', album: 'albumKey', access: 'lastAccess' }[index] ?? index, { multiEntry: index === 'track' });
        }
        db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('meta').put('epoch-of-layout-2', 'epoch');
        db.createObjectStore('layout:2');
        const tracks = request.transaction!.objectStore('track_metadata');
        tracks.put({ key: 'song', value: { title: 'Song' }, bytes: 100, expiresAt: start + 1e12, lastAccess: start, trackIds: ['t1'], revision: 1 });
        tracks.put({ key: 0, entries: 1, bytes: 100 });
        tracks.put({ key: ['commit', 'c1'], at: start });
      };
      request.onsuccess = () => (request.result.close(), resolve());
      request.onerror = () => reject(request.error);
    });
    const { cache } = await openCache({ indexedDB, name, clock: fakeClock(start) });
    expect(await cache.get('track_metadata', 'song')).toEqual({ title: 'Song' });
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 1, bytes: 100 });
    await cache.setMany('track_metadata', Array.from({ length: 1500 }, (_, index) => ({ key: `k${index}`, value: index })));
    expect((await cache.stats()).types.track_metadata.entries).toBe(1501);
    await cache.close();
    const db = await requestDone(indexedDB.open(name));
    expect([db.version, db.objectStoreNames.contains(`layout:${LAYOUT}`)]).toEqual([3, true]);
    const tx = db.transaction('track_metadata', 'readonly');
    const mark = tx.objectStore('track_metadata').get(['commit', 'c1']);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    expect(mark.result).toEqual({ key: ['commit', 'c1'], at: start });
    db.close();
  });

  it('of layout 3 with what an unreleased 0.2 wrote about custom types kept elsewhere (a record naming the stores it skipped, a mark in meta) keeps every entry, and those go unread', async () => {
    const config = { caching: { customTypes: { art: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'event_driven' as const, maxSizeMb: 1, invalidatedBy: ['track_modified' as const] } } } };
    const first = await openCache({ config });
    const same = { indexedDB: first.indexedDB, name: first.name, clock: first.clock };
    await first.cache.set('art', 'cover', 'blue', { trackId: 't1' });
    await first.cache.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't2' });
    await first.cache.close();
    const db = await requestDone(same.indexedDB.open(same.name));
    const tx = db.transaction(['events', 'meta'], 'readwrite');
    const record = { id: 'old', origin: 'old-tab', at: same.clock.now(), event: { eventType: 'track_modified', trackId: 't9' }, invalidated: { track_metadata: 0 }, removed: {}, lapsed: ['custom:art'] };
    tx.objectStore('events').add(record);
    tx.objectStore('meta').put(0, 'lapsed:custom:art');
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    const { cache, logger } = await openCache({ ...same, config });
    expect([await cache.get('art', 'cover'), await cache.get('track_metadata', 'song')]).toEqual(['blue', { title: 'Song' }]);
    const stats = await cache.stats();
    expect([stats.types.art.entries, stats.types.track_metadata.entries, stats.degraded]).toEqual([1, 1, null]);
    expect((await cache.emit({ eventType: 'track_modified', trackId: 't1' })).invalidated).toMatchObject({ art: 1 });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('of layout 3 with the store of a custom type called constructor (0.2 took the name before it refused it): today’s tabs still hear each other’s events, none dropped as malformed', async () => {
    const first = await openCache();
    const same = { indexedDB: first.indexedDB, name: first.name, clock: first.clock };
    await first.cache.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' });
    await first.cache.close();
    // As that build added its store, with an entry of track t1.
    const { version } = await requestDone(same.indexedDB.open(same.name)).then((db) => (db.close(), db));
    const request = same.indexedDB.open(same.name, version + 1);
    request.onupgradeneeded = () => {
      const entries = request.result.createObjectStore('custom:constructor', { keyPath: 'key' });
      entries.createIndex('track', 'trackIds', { multiEntry: true });
      entries.createIndex('album', 'albumKey');
      entries.createIndex('fingerprint', 'fingerprint');
      entries.createIndex('expiry', 'expiry');
      entries.createIndex('access', 'lastAccess');
      entries.put({ key: 'x', value: 'old', bytes: 10, trackIds: ['t1'], lastAccess: 0, revision: 1 });
      entries.put({ key: 0, entries: 1, bytes: 10 });
    };
    (await requestDone(request)).close();
    const [a, b] = [await openCache(same), await openCache(same)];
    const heard: string[] = [];
    const last = new Promise((resolve) => b.cache.on('*', (event) => heard.push(event.eventType) === 3 && resolve(undefined)));
    await a.cache.emit({ eventType: 'track_modified', trackId: 't1' });
    await a.cache.emit({ eventType: 'library_sync' });
    await a.cache.emit({ eventType: 'track_added', trackId: 't9' });
    await last;
    expect([heard, (await b.cache.stats()).droppedMessages]).toEqual([['track_modified', 'library_sync', 'track_added'], 0]);
    expect(await b.cache.get('track_metadata', 'song')).toBeUndefined();
    expect([a.logger.error.mock.calls, b.logger.error.mock.calls]).toEqual([[], []]);
  });

  it('made on a full disk (its first open puts nothing: its epoch is a store’s name) is used: a write meets the full disk as any write does (nothing to evict: quota_exceeded, nothing written); once room is made, writes land for every tab', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const full = fillDisk({ database: name });
    try {
      const { cache, clock } = await openCache({ indexedDB, name });
      expect((await cache.stats()).degraded).toBeNull();
      expect(await cache.get('track_metadata', 'k')).toBeUndefined();
      // Its commit aborts, an empty cache has nothing to evict, its retry aborts too: Chromium's outcome (browser faults.test › a first open on a full disk).
      await expect(cache.set('track_metadata', 'k', 1)).rejects.toMatchObject({ code: 'quota_exceeded' });
      expect(full.fired()).toBe(true);
      expect([(await cache.stats()).degraded, await cache.get('track_metadata', 'k')]).toEqual([null, undefined]);
      full(); // room made elsewhere (another site's data cleared, the quota raised)
      await cache.set('track_metadata', 'k', 1);
      const { cache: other } = await openCache({ indexedDB, name, clock });
      expect(await other.get('track_metadata', 'k')).toBe(1);
      // The epoch a tab of an earlier build reads (a record in meta) names the same database.
      const db = await requestDone(indexedDB.open(name));
      const record = await requestDone(db.transaction('meta').objectStore('meta').get('epoch'));
      const named = Array.from(db.objectStoreNames).filter((store) => store.startsWith('epoch:'));
      db.close();
      expect(named).toEqual([`epoch:${record}`]);
    } finally {
      full();
    }
  });

  it('made by 0.2 is refused by Reprise 0.1 (which opens version 1 exactly) with a VersionError, not used with stores it does not know', async () => {
    const { cache, indexedDB, name } = await openCache();
    await cache.set('track_metadata', 'k', 1);
    await cache.close();
    const error = await new Promise<DOMException | null>((resolve) => {
      const request = indexedDB.open(name, 1);
      request.onsuccess = () => (request.result.close(), resolve(null));
      request.onerror = () => resolve(request.error);
    });
    expect(error?.name).toBe('VersionError');
  });
});
