// Tabs simulated in one Node process: caches of one name on one fake IndexedDB, talking over Node's
// own BroadcastChannel, exactly as in a browser (where test/browser/tabs.test.ts does it for real).
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { CacheClient } from '../src/CacheClient';
import { CHANNEL_VERSION } from '../src/channelMessage';
import { SmartCacheConfig, type CacheEvent, type EventContext } from '../src/index';
import { Engine } from '../worker/Engine';
import { IdbStore } from '../worker/IdbStore';
import { brokenFactory } from './support/faultyIndexedDB';
import { uniqueName } from './support/openCache';

// `generic` (a memory type) is made event-driven, so that events reach each tab's memory tier.
const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };

/** One tab: an engine as createCache wires it in-process, and the client; the engine stands in for the page lifecycle. */
async function openTab(name: string, indexedDB: IDBFactory) {
  let cache: CacheClient | undefined;
  const logger = { error: vi.fn() };
  const engine = await Engine.create({
    name,
    config: new SmartCacheConfig(config),
    indexedDB,
    cloneValues: true,
    logger,
    client: {
      remoteEvent: (event, invalidated) => cache?.remoteEvent(event, invalidated),
      progress: (batch, done, total) => cache?.progress(batch, done, total),
    },
    openChannel: () => new BroadcastChannel(name),
  });
  cache = new CacheClient(engine, { logger });
  return { cache, engine, logger };
}

async function twoTabs(indexedDB: IDBFactory = new IDBFactory()) {
  const name = uniqueName();
  const first = await openTab(name, indexedDB);
  const second = await openTab(name, indexedDB);
  return { a: first.cache, b: second.cache, engineB: second.engine, name, indexedDB };
}

function recorder() {
  const seen: [CacheEvent, EventContext][] = [];
  return { seen, listener: (event: CacheEvent, context: EventContext) => void seen.push([event, context]) };
}

describe('events across tabs', () => {
  it('an event in one tab removes the matching entries in the other, and runs its listeners as remote', async () => {
    const { a, b } = await twoTabs();
    await a.set('track_metadata', 'shared', 1, { trackId: 't1' });
    await a.set('generic', 'mine', 'a', { trackId: 't1' });
    await b.set('generic', 'mine', 'b', { trackId: 't1' });
    await b.set('generic', 'other', 'b', { trackId: 't2' });
    const { seen, listener } = recorder();
    b.on('*', listener);
    const report = await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    expect(report.invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 0, album_year: 0, generic: 1 });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual([
      { eventType: 'manual_invalidation', trackId: 't1' },
      { source: 'remote', invalidated: { track_metadata: 1, successful_api_metadata: 0, album_year: 0, generic: 1 } },
    ]);
    expect(await b.get('track_metadata', 'shared')).toBeUndefined();
    expect(await b.getMany('generic', ['mine', 'other'])).toEqual([undefined, 'b']);
    expect((await b.stats()).types.generic.invalidations).toBe(1);
  });

  it('a tab does not hear its own events as remote', async () => {
    const { a } = await twoTabs();
    const { seen, listener } = recorder();
    a.on('*', listener);
    await a.emit({ eventType: 'library_sync' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.map(([, context]) => context.source)).toEqual(['local']);
  });

  it('drops and counts malformed messages on the channel', async () => {
    const { a, b, name } = await twoTabs();
    const { seen, listener } = recorder();
    b.on('*', listener);
    const channel = new BroadcastChannel(name);
    const valid = { v: CHANNEL_VERSION, kind: 'event', origin: 'x', seq: null, event: { eventType: 'library_sync' }, invalidated: {} };
    for (const garbage of ['hello', null, 42, { ...valid, v: 99 }, { ...valid, event: { eventType: 'track_removed' } }, { ...valid, extra: 1 }, { ...valid, seq: -1 }]) {
      channel.postMessage(garbage);
    }
    channel.close();
    await vi.waitFor(async () => expect((await b.stats()).droppedMessages).toBe(7));
    expect((await a.stats()).droppedMessages).toBe(7);
    expect(seen).toEqual([]);
  });

  it('a tab that missed messages replays them from the log before it answers', async () => {
    const { a, b, engineB } = await twoTabs();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    await b.set('generic', 'y', 2, { trackId: 't2' });
    const { seen, listener } = recorder();
    b.on('*', listener);
    // What the page does on `freeze`: the channel is closed, so these events do not reach it.
    await engineB.suspend();
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await a.emit({ eventType: 'manual_invalidation', trackId: 't2' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([]);
    await engineB.resume();
    expect(await b.getMany('generic', ['x', 'y'])).toEqual([undefined, undefined]);
    expect(seen.map(([event, context]) => [event.trackId, context.source])).toEqual([
      ['t1', 'remote'],
      ['t2', 'remote'],
    ]);
  });

  it('a tab whose missed events were trimmed from the log forgets what they could have invalidated', async () => {
    const { a, b, engineB, name, indexedDB } = await twoTabs();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    await b.set('generic', 'unrelated', 2);
    await b.set('negative_result', 'kept', 3);
    await engineB.suspend();
    await a.emit({ eventType: 'manual_invalidation', trackId: 't9' });
    await a.emit({ eventType: 'manual_invalidation', trackId: 't8' });
    const store = await IdbStore.open({ name, indexedDB });
    expect(await store.log.trim(Date.now() + 1, 0)).toBe(2);
    store.close();
    await engineB.resume();
    expect(await b.getMany('generic', ['x', 'unrelated'])).toEqual([undefined, undefined]);
    expect(await b.get('negative_result', 'kept')).toBe(3);
  });

  it('a tab opened later starts from the end of the log', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const first = await openTab(name, indexedDB);
    await first.cache.emit({ eventType: 'library_sync' });
    const second = await openTab(name, indexedDB);
    const { seen, listener } = recorder();
    second.cache.on('*', listener);
    await first.cache.emit({ eventType: 'manual_invalidation' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.[0].eventType).toBe('manual_invalidation');
  });

  it('tabs without IndexedDB still hear each other', async () => {
    const name = uniqueName();
    const first = await openTab(name, brokenFactory());
    const second = await openTab(name, brokenFactory());
    await second.cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await first.cache.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(async () => expect(await second.cache.get('track_metadata', 'k')).toBeUndefined());
  });
});

describe('the event log', () => {
  it('keeps the newest events and those younger than the retention, and records how far it was trimmed', async () => {
    const { a, name, indexedDB } = await twoTabs();
    for (let index = 0; index < 5; index++) await a.emit({ eventType: 'library_sync' });
    const store = await IdbStore.open({ name, indexedDB });
    const { log } = store;
    const { events } = await log.after(0);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await log.trim(0, 0)).toBe(0);
    expect(await log.trim(Date.now() + 1, 2)).toBe(3);
    expect(await log.after(0)).toMatchObject({ trimmedThrough: 3, events: [{ seq: 4 }, { seq: 5 }] });
    expect(await log.head()).toBe(5);
    store.close();
  });
});

