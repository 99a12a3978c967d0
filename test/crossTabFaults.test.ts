// Cross-tab faults found by an independent audit: cases where a user-visible promise failed, reproduced in Node with
// fake-indexeddb. Tabs are wired as createCache wires them in-process (test/support/engineTab).
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { checkedChannel } from '../src/checkedChannel';
import type { CacheChange, CacheEvent, EventContext } from '../src/index';
import { engineTab } from './support/engineTab';
import { lossyChannel } from './support/lossyChannel';
import { deleteUnderTabs } from './support/faultyIndexedDB';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, uniqueName } from './support/openCache';
import { requestDone } from '../worker/idbRequests';
import { later } from '../worker/schedule';

// `generic` (a memory type) is made event-driven, so that events reach each tab's memory tier.
const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };


async function withLossyTab(tabConfig: typeof config | Record<string, never> = config) {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const { cache: a } = await engineTab({ name, indexedDB, config: tabConfig });
  const lossy = lossyChannel(name);
  const { cache: b } = await engineTab({ name, indexedDB, config: tabConfig, openChannel: lossy.open });
  return { a, b, lossy };
}

describe('a tab that silently lost an event message', () => {
  it('stats() does not count memory-tier entries that an event logged before the call removed', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    await b.set('generic', 'y', 2, { trackId: 't2' });
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    const stats = await b.stats();
    // Only y is live: get agrees.
    expect(await b.getMany('generic', ['x', 'y'])).toEqual([undefined, 2]);
    expect(stats.types.generic.entries).toBe(1);
  });

  it('delete() of an entry an event logged before the call removed answers false and tells no watcher', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    const seen: CacheChange[] = [];
    b.watch('generic', 'x', (change) => void seen.push(change));
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    const deleted = await b.delete('generic', 'x');
    expect(deleted).toBe(false);
    expect(seen.map(({ kind }) => kind)).not.toContain('delete');
  });

  it("its on('*') listener hears the missed event before its next call answers (default config: a get of a persistent type, stats, a set)", async () => {
    // The default config: no memory type is event-driven, so no read checks the log.
    const { a, b, lossy } = await withLossyTab({});
    const seen: [CacheEvent, EventContext][] = [];
    b.on('*', (event, context) => void seen.push([event, context]));
    lossy.lose = true;
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await b.get('track_metadata', 'anything');
    await b.stats();
    await b.set('track_metadata', 'other', 1);
    expect(seen.map(([event, context]) => [event.eventType, context.source])).toEqual([['track_removed', 'remote']]);
  });
});

describe('a tab that silently lost an event message, then emits', () => {
  it('its emit reports what it removed itself (not what the earlier event had removed), and its listener hears the earlier event first', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    const seen: [string, string][] = [];
    b.on('*', (event, context) => void seen.push([event.metadata?.['by'] as string, context.source]));
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1', metadata: { by: 'a' } });
    const report = await b.emit({ eventType: 'manual_invalidation', trackId: 't1', metadata: { by: 'b' } });
    await b.stats();
    expect(report.invalidated).toMatchObject({ generic: 0 });
    expect(seen).toEqual([
      ['a', 'remote'],
      ['b', 'local'],
    ]);
  });
});

describe('a tab that silently lost a clear message (default config: memory types are time-based)', () => {
  it('drops what another tab cleared from its memory tier once a call replays the log (stats), not at every read (README: the limit)', async () => {
    const { a, b, lossy } = await withLossyTab({});
    await b.set('generic', 'x', 'kept in b');
    lossy.lose = true;
    await a.clear('generic');
    expect((await b.stats()).types.generic.entries).toBe(0);
    expect(await b.get('generic', 'x')).toBeUndefined();
  });
});

describe('an upgrade blocked by a connection that never lets go', () => {
  it('the other tabs keep answering: none of their calls hangs behind the upgrade that never runs', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB, config });
    await a.set('track_metadata', 'k', 'before');
    // Some other code of the origin holds the database open and ignores versionchange.
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    const custom = { caching: { ...config.caching, customTypes: { lyrics: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based' as const, maxSizeMb: 1 } } } };
    const { cache: c } = await engineTab({ name, indexedDB, config: custom });
    expect((await c.stats()).degraded).toMatch(/blocked/);
    const timedOut = Symbol('timed out');
    const within = <T>(call: Promise<T>) => Promise.race([call.catch((error: { code?: string }) => `rejected ${error.code}`), new Promise<typeof timedOut>((resolve) => setTimeout(() => resolve(timedOut), 20_000))]);
    const outcomes = await Promise.all([
      within(a.get('track_metadata', 'k')),
      within(a.set('track_metadata', 'k2', 'after')),
      within(a.get('generic', 'g')),
      within(a.emit({ eventType: 'library_sync' })),
    ]);
    expect(outcomes).not.toContain(timedOut);
    // And they go on in memory, as with any IndexedDB that is blocked (SPEC §4).
    expect(outcomes.filter((outcome) => typeof outcome === 'string' && outcome.startsWith('rejected'))).toEqual([]);
  }, 40_000);
});

describe('an upgrade blocked by a connection that lets go just before the blocked timeout', () => {
  it('the open goes through: the tab keeps its persistent types in IndexedDB (not degraded to memory while the database was upgraded for it)', async () => {
    const name = uniqueName();
    const inner = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB: inner, config });
    await a.set('track_metadata', 'k', 'before');
    // Some other code of the origin holds the database open and lets go of it late (a long transaction of its own).
    const blocker = await requestDone(inner.open(name));
    // The blocked open's timeout, held until the test lets it fire (3 s in a browser); other deferred work runs as usual.
    let blockedTimeout: (() => void) | undefined;
    const schedule = (run: () => void, ms: number) => {
      if (ms !== 3000) return later(run, ms);
      let cancelled = false;
      blockedTimeout = () => cancelled || run();
      return () => void (cancelled = true);
    };
    // The timeout fires while the upgrade runs: the blocker closed in its last milliseconds, and the upgrade takes longer than those.
    const indexedDB = {
      open(openName: string, version?: number) {
        const request = inner.open(openName, version);
        request.addEventListener('upgradeneeded', () => queueMicrotask(() => blockedTimeout?.()));
        return request;
      },
      deleteDatabase: (deleted: string) => inner.deleteDatabase(deleted),
      databases: () => inner.databases(),
      cmp: (x: unknown, y: unknown) => inner.cmp(x, y),
    } as IDBFactory;
    const custom = { caching: { ...config.caching, customTypes: { lyrics: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based' as const, maxSizeMb: 1 } } } };
    const opening = engineTab({ name, indexedDB, config: custom, engine: { schedule } });
    await vi.waitFor(() => expect(blockedTimeout).toBeDefined());
    blocker.close();
    const { cache: c } = await opening;
    expect((await c.stats()).degraded).toBeNull();
    await c.set('album_year', 'album', 1999);
    expect(await c.get('track_metadata', 'k')).toBe('before');
    // Stored where the other tabs read.
    const { cache: d } = await engineTab({ name, indexedDB: inner, config: custom });
    expect(await d.get('album_year', 'album')).toBe(1999);
  });
});

describe('IndexedDB lost with several calls in flight', () => {
  it('every call goes on in memory (SPEC §4), not only the first to meet the failed open', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB, config });
    await a.set('track_metadata', 'k', 'before');
    expect(await newerLayout(indexedDB, name)).toBeGreaterThan(2);
    const outcomes = await Promise.all(
      [
        a.set('track_metadata', 'k1', 1),
        a.set('album_year', 'k2', 2),
        a.setMany('successful_api_metadata', [{ key: 'k3', value: 3 }]),
        a.get('generic', 'g'),
        a.has('track_metadata', 'k'),
      ].map((call) => call.then(() => 'resolved', (error: { code?: string }) => `rejected ${error.code}`)),
    );
    expect(outcomes).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'resolved']);
    expect((await a.stats()).degraded).toMatch(/layout/);
    expect(await a.getMany('track_metadata', ['k1'])).toEqual([1]);
  });
});

describe('IndexedDB lost while a call waits between two of its transactions', () => {
  it('a setMany waiting for another tab’s import goes on in memory once another call found IndexedDB newer; it does not reject with closed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache } = await engineTab({ name, indexedDB, config, engine: { importChunk: 20 } });
    await cache.set('track_metadata', 'k', 'before');
    // Another tab's import of track_metadata, open as its first step left it (no Web Locks: this tab looks again every 250 ms).
    const db = await requestDone(indexedDB.open(name));
    const tx = db.transaction('track_metadata', 'readwrite');
    tx.objectStore('track_metadata').put({ key: ['batch', 1], state: 'open', beat: 1, created: 0, held: 0, targets: [], unlocked: true });
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    const entries = Array.from({ length: 50 }, (_, index) => ({ key: `i${index}`, value: index }));
    const importing = cache.setMany('track_metadata', entries).then(
      () => 'resolved',
      (error: { code?: string }) => `rejected ${error.code}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await newerLayout(indexedDB, name);
    // Another call meets the newer database first: the cache goes to memory.
    expect(await cache.get('album_year', 'x')).toBeUndefined();
    expect((await cache.stats()).degraded).toMatch(/layout/);
    expect(await importing).toBe('resolved');
    expect(await cache.getMany('track_metadata', ['i0', 'i49'])).toEqual([0, 49]);
  });
});

describe('site data cleared while a page has no worker', () => {
  it('its next worker replays to the listeners what another tab logged in the new database meanwhile', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    const heard: string[] = [];
    here.on('*', (event, { source }) => heard.push(`${source} ${event.eventType}`));
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toEqual(['remote library_sync']));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // Dead again within 5 s: no worker until the next call.
    workers[1]!.kill();
    await deleteUnderTabs(indexedDB, name);
    await other.emit({ eventType: 'manual_invalidation' });
    expect(workers).toHaveLength(2);
    await here.stats();
    await other.emit({ eventType: 'track_added', trackId: 't1' });
    await vi.waitFor(() => expect(heard).toContain('remote track_added'));
    expect(heard).toEqual(['remote library_sync', 'remote manual_invalidation', 'remote track_added']);
  });
});

describe('a deletion blocked by a connection that never lets go', () => {
  it('the tabs keep answering: none of their calls hangs behind the deletion that never runs', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB, config });
    await a.set('track_metadata', 'k', 'before');
    await a.set('generic', 'g', 'memory');
    // Some other code of the origin holds the database open and ignores versionchange...
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    // ...while a page deletes the database ("clear site data" by a script of the app).
    indexedDB.deleteDatabase(name);
    const timedOut = Symbol('timed out');
    const within = <T>(call: Promise<T>) => Promise.race([call.catch((error: { code?: string }) => `rejected ${error.code}`), new Promise<typeof timedOut>((resolve) => setTimeout(() => resolve(timedOut), 20_000))]);
    const outcomes = await Promise.all([within(a.get('track_metadata', 'k')), within(a.set('track_metadata', 'k2', 'after')), within(a.get('generic', 'g')), within(a.emit({ eventType: 'library_sync' }))]);
    expect(outcomes).not.toContain(timedOut);
    expect(outcomes.filter((outcome) => typeof outcome === 'string' && outcome.startsWith('rejected'))).toEqual([]);
  }, 40_000);
});

/** A newer Reprise opens the database with a layout this one does not know (see worker/databaseSchema.ts); resolves with its version. */
function newerLayout(indexedDB: IDBFactory, name: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = indexedDB.open(name);
    probe.onsuccess = () => {
      const current = probe.result.version;
      probe.result.close();
      const request = indexedDB.open(name, current + 1);
      request.onupgradeneeded = () => request.result.createObjectStore('layout:99');
      request.onsuccess = () => {
        request.result.close();
        resolve(request.result.version);
      };
      request.onerror = () => reject(request.error);
    };
  });
}
