// Tabs simulated in one Node process: caches of one name on one fake IndexedDB, talking over Node's
// own BroadcastChannel, exactly as in a browser (where test/browser/tabs.test.ts does it for real).
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { type CacheChange, type CacheEvent, type EventContext } from '../src/index';
import { openRemoteCache, type InProcessWorker } from './support/inProcessWorkers';
import { EventLog } from '../worker/EventLog';
import { IdbStore } from '../worker/IdbStore';
import { CHANNEL_VERSION, type ChannelLike, type OpenTabChannel } from '../src/TabChannel';
import { checkedChannel } from '../src/checkedChannel';
import { brokenFactory, deleteUnderTabs, failCommit, failRequest, fillDisk, holdNextOpen, tabFactory, type Tab } from './support/faultyIndexedDB';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { engineTab } from './support/engineTab';
import { lossyChannel } from './support/lossyChannel';
import { postingChannel } from './support/postingChannel';
import { LOG_KEEP, trimmingTab } from './support/trimmingTab';

// `generic` (a memory type) is made event-driven, so that events reach each tab's memory tier.
const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };


/** One tab: an engine as createCache wires it in-process, and the client; the engine stands in for the page lifecycle. */
function openTab(name: string, indexedDB: IDBFactory, openChannel?: OpenTabChannel) {
  return engineTab({ name, indexedDB, config, openChannel });
}

async function twoTabs(indexedDB: IDBFactory = new IDBFactory()) {
  const name = uniqueName();
  const first = await openTab(name, indexedDB);
  const second = await openTab(name, indexedDB);
  return { a: first.cache, b: second.cache, engineB: second.engine, name, indexedDB };
}

/** Two tabs of one cache; the second's channel loses what arrives while `lossy.lose` is set. */
async function withLossyTab() {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const { cache: a } = await openTab(name, indexedDB);
  const lossy = lossyChannel(name);
  const { cache: b } = await openTab(name, indexedDB, lossy.open);
  return { a, b, lossy, name };
}

/** A page whose worker relays (the only tab with IndexedDB), a tab without IndexedDB, and k written for track t1. */
async function relayingPageAndTabWithoutIndexedDB() {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const { cache: here, workers } = await openRemoteCache({ name, indexedDB, config, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)) });
  const { cache: degraded, engine: degradedEngine } = await openTab(name, brokenFactory());
  await here.set('track_metadata', 'k', 1, { trackId: 't1' });
  return { name, indexedDB, here, workers, degraded, degradedEngine };
}

type RemoteCache = Awaited<ReturnType<typeof openRemoteCache>>['cache'];
type Settling = Parameters<ReturnType<typeof recorder>['settled']>[0];

/** The page's worker dies with the track_removed it kept unlogged: the next one logs it, heard once here and once in `watching`, opened since. */
async function bothHearItOnceAsTheWorkerDies({ workers, here, settled, watching, heard }: { workers: InProcessWorker[]; here: Settling; settled: ReturnType<typeof recorder>['settled']; watching: Settling; heard: ReturnType<typeof recorder> }) {
  workers[0]!.kill();
  await vi.waitFor(() => expect(workers).toHaveLength(2));
  expect(await settled(here)).toEqual([['track_removed', 'remote']]);
  await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
  expect(await heard.settled(watching)).toEqual([['track_removed', 'remote']]);
}

function recorder() {
  const seen: [CacheEvent, EventContext][] = [];
  /** What the listeners heard (type and source) once `cache` answered a call and what its worker posted meanwhile arrived. */
  const settled = async (cache: { stats(): Promise<unknown> }) => {
    await cache.stats();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return seen.map(([event, { source }]) => [event.eventType, source]);
  };
  return { seen, settled, listener: (event: CacheEvent, context: EventContext) => void seen.push([event, context]) };
}

type TabSide = ReturnType<typeof tabFactory>;

/**
 * Runs `call` of `mine`'s tab; at the `nth` read of the event log on its connections, site data is cleared and
 * `other` logs an event in the database made since: `otherSide`'s connection closes first, so that its emit opens
 * the new database first, then `mine`'s, aborting the read, which is made again there. Resolves once both are done.
 */
async function clearedAsItReadsTheLog(
  { indexedDB, name, mine, otherSide, other, nth = 1 }: { indexedDB: IDBFactory; name: string; mine: TabSide; otherSide: TabSide; other: { emit(event: CacheEvent): Promise<unknown> }; nth?: number },
  call: () => Promise<unknown>,
): Promise<void> {
  const database = IDBDatabase.prototype as unknown as { transaction(this: IDBDatabase, ...args: unknown[]): IDBTransaction };
  const open = database.transaction;
  let reads = 0;
  let cleared: Promise<unknown> | undefined;
  database.transaction = function (this: IDBDatabase, ...args: unknown[]) {
    const tx = open.apply(this, args);
    const log = tx.mode === 'readonly' && [...tx.objectStoreNames].join() === 'events,meta';
    if (log && mine.connections().includes(this) && ++reads === nth) {
      database.transaction = open;
      const deleted = deleteUnderTabs(indexedDB, name);
      otherSide.loseConnection();
      const opening = otherSide.factory.open;
      otherSide.factory.open = (...args) => {
        otherSide.factory.open = opening;
        mine.loseConnection();
        return opening(...args);
      };
      cleared = Promise.all([deleted, other.emit({ eventType: 'track_removed', trackId: 't1' })]);
    }
    return tx;
  };
  try {
    await call();
  } finally {
    database.transaction = open;
  }
  await cleared;
}

/**
 * `cache` (a tab without IndexedDB, say) emits `event` (a manual_invalidation of track t1 unless told) whose first try to be
 * logged, by a tab that logs, aborts at commit: a full disk, or the error named (`error`). `until`: waited for before the fault ends.
 */
async function emitFirstLogFailing(
  cache: { emit(event: CacheEvent): Promise<unknown> },
  database: string,
  { event = { eventType: 'manual_invalidation', trackId: 't1' }, error, until }: { event?: CacheEvent; error?: string; until?: () => unknown } = {},
): Promise<void> {
  const fault = failCommit({ when: (tx) => tx.objectStoreNames.contains('events'), database, name: error });
  try {
    await cache.emit(event);
    await vi.waitFor(() => expect(fault.fired()).toBe(true));
    if (until) await vi.waitFor(until);
  } finally {
    fault();
  }
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

  /**
   * A clock for this tab's engine that, once armed, has another tab log an event right as this one logs
   * its own (read from the clock for its record), after this one has replayed the log: its transaction
   * is made first, so its record comes first.
   */
  function anotherTabLogging(name: string, indexedDB: IDBFactory) {
    let logAnother: (() => void) | undefined;
    const now = () => {
      logAnother?.();
      logAnother = undefined;
      return Date.now();
    };
    const arm = async () => {
      const raw = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      logAnother = () => {
        const tx = raw.transaction(['events'], 'readwrite');
        EventLog.append(tx, { id: 'another', origin: 'another tab', at: Date.now(), event: { eventType: 'track_added', trackId: 't0' }, invalidated: {} });
      };
      return () => raw.close();
    };
    return { now, arm };
  }

  it('an event another tab logs while this tab logs its own is older: this tab hears it first, in the log’s order, as every other tab does', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const another = anotherTabLogging(name, indexedDB);
    const { cache: a } = await engineTab({ name, indexedDB, engine: { now: another.now } });
    const { cache: c } = await openTab(name, indexedDB);
    const heard = { a: [] as string[], c: [] as string[] };
    a.on('*', (event, { source }) => void heard.a.push(`${source} ${event.eventType}`));
    c.on('*', (event) => void heard.c.push(event.eventType));
    const done = await another.arm();
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(heard.c).toHaveLength(2));
    await vi.waitFor(() => expect(heard.a).toHaveLength(2));
    expect(heard.c).toEqual(['track_added', 'track_removed']);
    expect(heard.a).toEqual(['remote track_added', 'local track_removed']);
    done();
  });

  it.each([
    ['the page hears that older event first too', async (cache: RemoteCache) => void (await cache.emit({ eventType: 'track_removed', trackId: 't1' })), 'local track_removed'],
    ['a clear resolves once the page has heard the older event logged before it, as an emit does', async (cache: RemoteCache, heard: string[]) => void (await cache.clear('generic'), heard.push('clear resolved')), 'clear resolved'],
  ])('with its engine in a worker, whose report of another tab’s event travels on a port of its own: %s', async (_, call, last) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const another = anotherTabLogging(name, indexedDB);
    // The call's answer comes back first unless the worker waits for the page to have heard the other event.
    const { cache: a } = await openRemoteCache({ name, indexedDB, engine: { now: another.now }, remoteEventDelayMs: 30 });
    const heard: string[] = [];
    a.on('*', (event, { source }) => void heard.push(`${source} ${event.eventType}`));
    const done = await another.arm();
    await call(a, heard);
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(heard).toEqual(['remote track_added', last]);
    done();
  });

  it('with its engine in a worker, while the page’s answer to an older event’s report travels back: an event another tab logs after this one’s is heard after it, in the log’s order', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const another = anotherTabLogging(name, indexedDB);
    const { cache: a } = await openRemoteCache({
      name,
      indexedDB,
      engine: { now: another.now, openChannel: checkedChannel(() => new BroadcastChannel(name)) },
      remoteEventAnswerDelayMs: 100,
    });
    const { cache: b } = await openTab(name, indexedDB);
    const heard: string[] = [];
    a.on('*', (event, { source }) => {
      heard.push(`${source} ${event.eventType}`);
      // Told the older event once its own is logged: the other tab logs a newer one now.
      if (source === 'remote' && event.eventType === 'track_added') void b.emit({ eventType: 'library_sync' });
    });
    const done = await another.arm();
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(heard).toHaveLength(3));
    expect(heard).toEqual(['remote track_added', 'local track_removed', 'remote library_sync']);
    done();
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
    const valid = { v: CHANNEL_VERSION, kind: 'event', origin: 'x', id: 'e1', epoch: null, seq: null, event: { eventType: 'library_sync' }, invalidated: {} };
    for (const garbage of ['hello', null, 42, { ...valid, v: 99 }, { ...valid, event: { eventType: 'track_removed' } }, { ...valid, origin: '' }, { ...valid, seq: -1 }]) {
      channel.postMessage(garbage);
    }
    channel.close();
    await vi.waitFor(async () => expect((await b.stats()).droppedMessages).toBe(7));
    expect((await a.stats()).droppedMessages).toBe(7);
    expect(seen).toEqual([]);
  });

  it('drops and counts a message naming a content type no tab can have ("constructor", which config rejects), also in a tab without IndexedDB that applies messages as they come', async () => {
    const name = uniqueName();
    const { cache: b, logger } = await openTab(name, brokenFactory());
    await b.set('generic', 'kept', 1);
    logger.error.mockClear();
    const { seen, listener } = recorder();
    b.on('*', listener);
    const channel = new BroadcastChannel(name);
    const event = { v: CHANNEL_VERSION, kind: 'event', origin: 'x', id: 'forged', epoch: null, seq: null, event: { eventType: 'manual_invalidation' } };
    channel.postMessage({ ...event, invalidated: { constructor: 1 } });
    channel.postMessage({ ...event, id: 'forged-keys', invalidated: {}, removed: { constructor: ['k'] } });
    channel.close();
    await vi.waitFor(async () => expect((await b.stats()).droppedMessages).toBe(2));
    expect(seen).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
    expect(await b.get('generic', 'kept')).toBe(1);
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

  it("a page that calls before it has resumed (the app's pageshow or resume listener, added before Reprise's, runs first) does not answer what another tab cleared meanwhile (time-based memory types)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // The default config: no memory type is event-driven, so reads of them do not replay the log while listening.
    const { cache: a } = await engineTab({ name, indexedDB });
    const { cache: b, engine: engineB } = await engineTab({ name, indexedDB });
    await b.set('negative_result', 'n', 1);
    await b.set('failed_api_lookup', 'f', 2);
    // The page goes into the back/forward cache: its channel is closed, so the clear's message does not reach it.
    await engineB.suspend();
    await a.clear('negative_result');
    await a.clear('failed_api_lookup');
    // Restored: the app's listener calls before Reprise's has told the engine (SPEC §3: it catches up before it answers its next call).
    expect(await b.get('negative_result', 'n')).toBeUndefined();
    expect(await b.keys('failed_api_lookup')).toEqual([]);
    await engineB.resume();
  });

  it('a page whose replay of the log fails as it resumes keeps replaying before reads of time-based memory types until one succeeds: it does not answer what another tab cleared meanwhile', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB });
    const { cache: b, engine: engineB } = await engineTab({ name, indexedDB });
    await b.set('negative_result', 'n', 1);
    await engineB.suspend();
    await a.clear('negative_result');
    // The resume's read of the log fails (a request error that aborts its transaction).
    const fault = failRequest({ nth: 1, name: 'UnknownError', stores: (store) => store === 'events', methods: ['getAll'], database: name });
    try {
      await engineB.resume();
      expect(fault.fired()).toBe(true);
    } finally {
      fault();
    }
    expect(await b.get('negative_result', 'n')).toBeUndefined();
  });

  it('a page without BroadcastChannel, once resumed and caught up, reads time-based memory types without replaying the log, as before it was suspended', async () => {
    const name = uniqueName();
    const { cache, engine } = await engineTab({ name, indexedDB: new IDBFactory(), engine: { openChannel: undefined } });
    await cache.set('negative_result', 'n', 1);
    await engine.suspend();
    await engine.resume();
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      expect(await cache.get('negative_result', 'n')).toBe(1);
      const mine = transaction.mock.calls.filter((_, index) => (transaction.mock.contexts[index] as IDBDatabase).name === name);
      expect(mine.filter(([stores]) => [stores].flat().includes('events'))).toEqual([]);
    } finally {
      transaction.mockRestore();
    }
  });

  it('a tab whose missed changes were trimmed from the log forgets its memory tier (a clear could have removed any of it)', async () => {
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
    expect(await b.get('negative_result', 'kept')).toBeUndefined();
  });

  it('a tab whose missed changes were trimmed from the log, told by a late change message of a write made amid them, forgets its memory tier once: what it writes after keeps', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // The writing tab's change messages held back (its page busy), then sent.
    const held: unknown[] = [];
    const { cache: a } = await openTab(
      name,
      indexedDB,
      postingChannel(name, (message, send) => ((message as { kind: string }).kind === 'changed' ? held.push(message) : send(message))),
    );
    const lossy = lossyChannel(name);
    const { cache: b } = await openTab(name, indexedDB, lossy.open);
    await b.set('generic', 'old', 1);
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't9' });
    await a.emit({ eventType: 'manual_invalidation', trackId: 't8' });
    // Written where a stood in the log: after both events.
    await a.set('track_metadata', 'song', 1);
    const store = await IdbStore.open({ name, indexedDB });
    expect(await store.log.trim(Date.now() + 1, 0)).toBe(2);
    store.close();
    await a.emit({ eventType: 'manual_invalidation', trackId: 't7' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    lossy.lose = false;
    const late = new BroadcastChannel(name);
    for (const message of held) late.postMessage(message);
    late.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A type events do not invalidate: its write replays nothing first.
    await b.set('negative_result', 'fresh', 2);
    // The trimmed changes could have removed anything: forgotten; no change since removes what it wrote after.
    expect(await b.get('generic', 'old')).toBeUndefined();
    expect(await b.get('negative_result', 'fresh')).toBe(2);
  });

  it('a tab whose missed changes the periodic cleanup trimmed from the log (a day later, past the newest thousand): every watcher of every type hears once that any key may have changed, before what it replays; its listeners hear only real events', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const trimming = await trimmingTab(name, indexedDB, config);
    const { cache: b, engine: engineB } = await openTab(name, indexedDB);
    await b.set('track_metadata', 'p', 1, { trackId: 'tp' });
    await b.set('generic', 'x', 2);
    await b.set('negative_result', 'n', 3);
    const heard: string[] = [];
    const tell = (who: string) => (change: CacheChange) => void heard.push(`${who}: ${change.kind} ${change.keys?.join() ?? 'any'} ${change.source}`);
    b.watch('track_metadata', null, tell('track_metadata'));
    b.watch('track_metadata', 'p', tell('track_metadata p'));
    b.watch('generic', 'x', tell('generic x'));
    b.watch('negative_result', null, tell('negative_result'));
    b.watch('album_year', null, tell('album_year'));
    const events: string[] = [];
    b.on('*', (event) => void events.push(`${event.eventType} ${event.trackId ?? ''}`));
    await engineB.suspend();
    await trimming.emitMany(LOG_KEEP + 1);
    await trimming.trim();
    // Logged after the trim: replayed, and heard after the forgetting.
    await trimming.cache.emit({ eventType: 'manual_invalidation', trackId: 'tp' });
    await engineB.resume();
    expect(await b.getMany('generic', ['x'])).toEqual([undefined]);
    expect(await b.get('negative_result', 'n')).toBeUndefined();
    await vi.waitFor(() => expect(events.at(-1)).toBe('manual_invalidation tp'));
    // Once per type (in the config's order), then what was logged after the trim.
    expect(heard.slice(0, 5).sort()).toEqual([
      'album_year: invalidate any remote',
      'generic x: invalidate any remote',
      'negative_result: invalidate any remote',
      'track_metadata p: invalidate any remote',
      'track_metadata: invalidate any remote',
    ]);
    expect(heard.slice(5)).toEqual(['track_metadata: invalidate p remote', 'track_metadata p: invalidate p remote']);
    // The thousand changes kept, and the one after: no made-up event for those trimmed.
    expect(events).toHaveLength(LOG_KEEP + 1);
    expect(events.every((event) => event.startsWith('manual_invalidation'))).toBe(true);
  }, 60_000);

  it('a tab whose missed changes went with the database (deleted and recreated while it was frozen): watchers of memory types hear once that any key may have changed; those of persistent types hear the clear only', async () => {
    const { a, b, engineB, name, indexedDB } = await twoTabs();
    await b.set('track_metadata', 'p', 1);
    await b.set('generic', 'x', 2);
    const heard: string[] = [];
    const tell = (who: string) => (change: CacheChange) => void heard.push(`${who}: ${change.kind} ${change.keys?.join() ?? 'any'} ${change.source}`);
    b.watch('track_metadata', null, tell('track_metadata'));
    b.watch('generic', 'x', tell('generic x'));
    b.watch('negative_result', null, tell('negative_result'));
    await engineB.suspend();
    await a.emit({ eventType: 'library_sync' });
    await deleteUnderTabs(indexedDB, name);
    await a.set('album_year', 'new', 1);
    await engineB.resume();
    expect(await b.get('generic', 'x')).toBeUndefined();
    await b.stats();
    expect(heard[0]).toBe('track_metadata: clear any remote');
    expect(heard.slice(1).sort()).toEqual(['generic x: invalidate any remote', 'negative_result: invalidate any remote']);
  });

  it('a tab opened on a log that was trimmed, and read at once, tells its watchers and listeners nothing (no forgetting at an ordinary start)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const trimming = await trimmingTab(name, indexedDB, config);
    await trimming.emitMany(LOG_KEEP + 1);
    await trimming.trim();
    const { cache: b } = await openTab(name, indexedDB);
    const heard = vi.fn();
    const events = vi.fn();
    for (const type of ['track_metadata', 'generic', 'negative_result'] as const) b.watch(type, null, heard);
    b.on('*', events);
    expect(await b.get('generic', 'x')).toBeUndefined();
    await b.stats();
    await b.cleanup();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).not.toHaveBeenCalled();
    expect(events).not.toHaveBeenCalled();
  }, 60_000);

  it('a tab whose reads of where it starts all failed replays, once it can read the log, what was logged since it started: its listeners hear it, its watchers nothing it did not remove, and it keeps what it wrote', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await openTab(name, indexedDB);
    await a.emit({ eventType: 'library_sync' });
    // Logged a few ms before the second tab starts: stamped within the same ms as its start, it would be
    // replayed there too (a change as old as the start counts, replayed rather than missed).
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The second tab's three reads of the log's head at start fail (a read that fails aborts its
    // transaction); the two reads of the epoch as it opens the database come first.
    const faults = [3, 4, 5].map((nth) => failRequest({ nth, name: 'UnknownError', stores: (store) => store === 'meta', methods: ['get'], database: name }));
    let b: Awaited<ReturnType<typeof openTab>>;
    try {
      b = await openTab(name, indexedDB);
      expect(faults.map((fault) => fault.fired())).toEqual([true, true, true]);
    } finally {
      faults.forEach((fault) => fault());
    }
    // A memory type that events do not invalidate: its write replays nothing first.
    await b.cache.set('negative_result', 'mine', 1);
    const heard = vi.fn();
    b.cache.watch('negative_result', null, heard);
    const { seen, listener } = recorder();
    b.cache.on('*', listener);
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.[0]).toEqual({ eventType: 'manual_invalidation', trackId: 't1' });
    expect(await b.cache.get('negative_result', 'mine')).toBe(1);
    await b.cache.stats();
    expect(heard).not.toHaveBeenCalled();
  });

  /** A tab `a` on a fake clock that logged a library_sync, the clock then ten seconds on: what another tab opening now did not miss. */
  async function tabThatLogged() {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const { cache: a } = await engineTab({ name, indexedDB, config, engine: { now: clock.now } });
    await a.emit({ eventType: 'library_sync' });
    clock.advance(10_000);
    return { name, indexedDB, clock, a };
  }

  /**
   * Two tabs on one clock, the second's three reads of the log's head at start failing and its channel
   * losing what arrives while `lossy.lose` is set: it does not know where it starts in the log.
   */
  async function unplacedTab() {
    // Logged before the second tab starts: not its business.
    const { name, indexedDB, clock, a } = await tabThatLogged();
    const faults = [4, 5, 6].map((nth) => failRequest({ nth, name: 'UnknownError', stores: (store) => store === 'meta', methods: ['get'], database: name }));
    const lossy = lossyChannel(name);
    let b: Awaited<ReturnType<typeof engineTab>>;
    try {
      b = await engineTab({ name, indexedDB, config, openChannel: lossy.open, engine: { now: clock.now } });
      expect(faults.map((fault) => fault.fired())).toEqual([true, true, true]);
    } finally {
      faults.forEach((fault) => fault());
    }
    /** `a` emits, its message lost to `b`. */
    const emitUnheard = async (event: CacheEvent) => {
      lossy.lose = true;
      await a.emit(event);
      await vi.waitFor(() => expect(lossy.lost.some((message) => (message as { kind?: string }).kind === 'event')).toBe(true));
      lossy.lost.length = 0;
      lossy.lose = false;
    };
    return { a, b: b.cache, clock, emitUnheard };
  }

  it('a tab whose reads of where it starts all failed replays what was logged since it started, though the clock was set back since a change was logged (stamped later than the clock then reads)', async () => {
    const { b, clock, emitUnheard } = await unplacedTab();
    const { seen, listener } = recorder();
    b.on('*', listener);
    clock.advance(60_000);
    await emitUnheard({ eventType: 'manual_invalidation', trackId: 't1' });
    // Set back half a minute: still after the tab started, yet before the change's time.
    clock.advance(-30_000);
    await b.stats();
    expect(seen.map(([event]) => event)).toEqual([{ eventType: 'manual_invalidation', trackId: 't1' }]);
  });

  it('a tab whose reads of where it starts all failed, its clock since set back behind when it started, cannot tell by time what was logged since: it forgets, and its watchers hear so', async () => {
    const { b, clock, emitUnheard } = await unplacedTab();
    await b.set('negative_result', 'mine', 1);
    const heard: CacheChange[] = [];
    b.watch('negative_result', null, (change) => void heard.push(change));
    clock.advance(60_000);
    await emitUnheard({ eventType: 'manual_invalidation', trackId: 't1' });
    // Set back an hour: what is logged now is stamped before the tab started.
    clock.advance(-3_600_000);
    await emitUnheard({ eventType: 'manual_invalidation', trackId: 't2' });
    await b.stats();
    expect(heard).toEqual([{ type: 'negative_result', keys: null, kind: 'invalidate', source: 'remote' }]);
    expect(await b.get('negative_result', 'mine')).toBeUndefined();
  });

  /**
   * A page of the cache that began listening to the other tabs (at the clock's time) before its engine
   * opened, which waits for `open`; another tab `a` on the same clock, which logged an event before.
   */
  async function pageOpeningLate() {
    const { name, indexedDB, clock, a } = await tabThatLogged();
    let open!: () => void;
    const opening = new Promise<void>((resolve) => (open = resolve));
    const { cache: b } = await openRemoteCache({ name, indexedDB, config, now: clock.now, opening: () => opening, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    return { a, b, clock, open };
  }

  it('a page whose engine opens after it listened, the clock set back behind that since, tells its listeners what was logged after it listened, before the set back and after it', async () => {
    const { a, b, clock, open } = await pageOpeningLate();
    const { seen, listener } = recorder();
    b.on('*', listener);
    clock.advance(60_000);
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    // Set back an hour: what is logged now is stamped before the page listened.
    clock.advance(-3_600_000);
    await a.emit({ eventType: 'manual_invalidation', trackId: 't2' });
    open();
    await b.stats();
    expect(seen.map(([event]) => event.trackId)).toEqual(['t1', 't2']);
  });

  it('a page whose engine opens after it listened, the clock set back behind that since, cannot tell by time whether what was logged since the set back is older: it forgets, and its watchers hear so', async () => {
    const { a, b, clock, open } = await pageOpeningLate();
    const heard: CacheChange[] = [];
    b.watch('generic', null, (change) => void heard.push(change));
    clock.advance(-3_600_000);
    await a.emit({ eventType: 'manual_invalidation', trackId: 't2' });
    open();
    await b.stats();
    expect(heard).toEqual([{ type: 'generic', keys: null, kind: 'invalidate', source: 'remote' }]);
  });

  it('a page whose engine opens after it listened tells its listeners what was logged since, though a change made before it listened, its transaction held up meanwhile, was logged after them (soak seed 60406)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const side = tabFactory(indexedDB);
    const { cache: a } = await engineTab({ name, indexedDB: side.factory, config, engine: { now: clock.now } });
    await a.emit({ eventType: 'library_sync' });
    const { cache: c } = await engineTab({ name, indexedDB, config, engine: { now: clock.now } });
    // a's connection is closed under it, and its next open waits (the machine asleep meanwhile, an hour by the wall clock).
    const reopen = holdNextOpen(side);
    side.loseConnection();
    const late = a.emit({ eventType: 'manual_invalidation', trackId: 'y' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.advance(3_600_000);
    let openB!: () => void;
    const openingB = new Promise<void>((resolve) => (openB = resolve));
    const { cache: b } = await openRemoteCache({ name, indexedDB, config, now: clock.now, opening: () => openingB, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const { seen, listener } = recorder();
    b.on('*', listener);
    // Logged after the page listened, before the change held up.
    await c.emit({ eventType: 'manual_invalidation', trackId: 'x' });
    reopen();
    await late;
    openB();
    await b.stats();
    expect(seen.map(([event]) => event.trackId)).toEqual(['x', 'y']);
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

  it('a tab without IndexedDB, resumed after missing messages, forgets its memory tier (it has no log to replay)', async () => {
    const name = uniqueName();
    const { cache: a } = await openTab(name, brokenFactory());
    const { cache: b, engine: engineB } = await openTab(name, brokenFactory());
    await b.set('track_metadata', 'k', 1, { trackId: 't1' });
    await b.set('negative_result', 'n', 2);
    await engineB.suspend();
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await a.clear('negative_result');
    await engineB.resume();
    expect(await b.get('track_metadata', 'k')).toBeUndefined();
    expect(await b.get('negative_result', 'n')).toBeUndefined();
  });

  it("a tab without IndexedDB that is called before it has resumed (the app's listener runs first) does not answer what it may have missed either: it forgets, as resume does", async () => {
    const name = uniqueName();
    const { cache: a } = await openTab(name, brokenFactory());
    const { cache: b, engine: engineB } = await openTab(name, brokenFactory());
    await b.set('track_metadata', 'k', 1, { trackId: 't1' });
    await b.set('negative_result', 'n', 2);
    await engineB.suspend();
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await a.clear('negative_result');
    expect(await b.get('track_metadata', 'k')).toBeUndefined();
    expect(await b.get('negative_result', 'n')).toBeUndefined();
    // What the page writes meanwhile is read back until it resumes (which forgets it, as it forgets all).
    await b.set('track_metadata', 'k', 2);
    expect(await b.get('track_metadata', 'k')).toBe(2);
    await engineB.resume();
  });

  it('a tab without IndexedDB restored from the back/forward cache tells the watchers of the types it held entries of that it forgot, once, also when the page calls before it resumes; those of types it held nothing of hear nothing', async () => {
    const name = uniqueName();
    await openTab(name, brokenFactory());
    const { cache: b, engine: engineB } = await openTab(name, brokenFactory());
    await b.set('negative_result', 'n', 1);
    const heard: CacheChange[] = [];
    for (const type of ['negative_result', 'track_metadata', 'generic'] as const) b.watch(type, null, (change) => void heard.push(change));
    // Restored: a page that held something hears it once.
    await engineB.suspend();
    await engineB.resume();
    expect(heard).toEqual([{ type: 'negative_result', keys: null, kind: 'invalidate', source: 'remote' }]);
    // Restored again, the app's listener reading before Reprise's resumes: once more, once.
    await b.set('negative_result', 'n', 2);
    heard.length = 0;
    await engineB.suspend();
    expect(await b.get('negative_result', 'n')).toBeUndefined();
    await engineB.resume();
    await b.stats();
    expect(heard).toEqual([{ type: 'negative_result', keys: null, kind: 'invalidate', source: 'remote' }]);
    // Restored holding nothing: nothing it held can have changed, nothing is told.
    heard.length = 0;
    await engineB.suspend();
    await engineB.resume();
    await b.stats();
    expect(heard).toEqual([]);
  });

  it('a change finished while the page was frozen is sent when it resumes', async () => {
    const name = uniqueName();
    const { cache: a, engine: engineA } = await openTab(name, brokenFactory());
    const { cache: b } = await openTab(name, brokenFactory());
    await b.set('track_metadata', 'k', 1, { trackId: 't1' });
    await engineA.suspend();
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await b.get('track_metadata', 'k')).toBe(1);
    await engineA.resume();
    await vi.waitFor(async () => expect(await b.get('track_metadata', 'k')).toBeUndefined());
  });

  it('a tab without IndexedDB that has heard of no tab with IndexedDB does not wait for one to log its event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const name = uniqueName();
      const { cache: alone } = await openTab(name, brokenFactory());
      const turns = async (count: number) => {
        for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
        return 'still waiting';
      };
      // Its half-second wait would never end here: the clock does not move.
      expect(await Promise.race([alone.emit({ eventType: 'library_sync' }).then(() => 'resolved'), turns(50)])).toBe('resolved');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a tab without IndexedDB waiting for another to log its event answers a read made after it at once (its memory tier is invalidated already)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };
    const logging = await engineTab({ name, indexedDB, config });
    // A schedule run by hand: the wait for a tab that logs (TabSync's RELAY_WAIT_MS) ends when the test says.
    const due: { run: () => void; ms: number }[] = [];
    const schedule = (run: () => void, ms: number) => {
      const item = { run, ms };
      due.push(item);
      return () => void due.splice(due.indexOf(item), 1);
    };
    const degraded = await engineTab({ name, indexedDB: brokenFactory(), config, engine: { schedule } });
    // The tabs greet each other; then the one that logs is closed, unheard.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await logging.cache.close();
    await degraded.cache.set('generic', 'g', 1);
    const turns = async (count: number) => {
      for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
      return 'still waiting' as const;
    };
    const emitting = degraded.cache.emit({ eventType: 'manual_invalidation' }).then(() => 'emitted');
    const read = degraded.cache.get('generic', 'g').then((value) => ({ value }));
    try {
      expect(await Promise.race([read, turns(50)])).toEqual({ value: undefined });
      expect(await Promise.race([emitting, turns(1)])).toBe('still waiting');
    } finally {
      for (const { run, ms } of [...due]) if (ms === 500) run();
      await emitting;
      await degraded.cache.close();
    }
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

describe('messages are hints, IndexedDB is the truth', () => {
  it('a tab that silently lost an event’s message never answers from its memory tier what the event invalidated', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    await b.set('generic', 'y', 2, { trackId: 't2' });
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    // No waiting: the event is logged once emit resolves, and b checks the log before it answers.
    expect(await b.getMany('generic', ['x', 'y'])).toEqual([undefined, 2]);
  });

  it('a read whose replay of the log fails (a read that fails, aborting its transaction) rejects rather than answer from the memory tier; the next read replays', async () => {
    const { a, b, lossy, name } = await withLossyTab();
    await b.set('generic', 'x', 1, { trackId: 't1' });
    await b.set('generic', 'y', 2, { trackId: 't2' });
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    const fault = failRequest({ nth: 1, name: 'UnknownError', stores: (store) => store === 'events', methods: ['getAll'], database: name });
    try {
      // The missed event may have removed any of it: nothing is answered from the memory tier.
      expect(await rejection(b.getMany('generic', ['x', 'y']))).toMatchObject({ name: 'CacheError', message: expect.stringContaining('UnknownError') });
      expect(fault.fired()).toBe(true);
    } finally {
      fault();
    }
    expect(await b.getMany('generic', ['x', 'y'])).toEqual([undefined, 2]);
  });

  it('a tab that silently lost an event’s message, then emits one of its own, hears the older event first (default config: no memory type replays on reads)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB });
    const lossy = lossyChannel(name);
    const { cache: b } = await engineTab({ name, indexedDB, openChannel: lossy.open });
    const heard: string[] = [];
    b.on('*', (event, { source }) => void heard.push(`${source} ${event.eventType}`));
    lossy.lose = true;
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    // Logged before b's own event was emitted: it is older, for b's listeners as for every other tab's.
    await b.emit({ eventType: 'track_added', trackId: 't1' });
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(heard).toEqual(['remote track_removed', 'local track_added']);
  });

  it('a tab that silently lost an event’s message, then clears the type, tells its watchers of the older event first, as every other tab does', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await engineTab({ name, indexedDB });
    const lossy = lossyChannel(name);
    const { cache: b } = await engineTab({ name, indexedDB, openChannel: lossy.open });
    await a.set('track_metadata', 'k', 1, { trackId: 't1' });
    const [heardA, heardB] = [[] as string[], [] as string[]];
    for (const [cache, heard] of [[a, heardA], [b, heardB]] as const) {
      cache.watch('track_metadata', null, ({ kind, keys, source }) => void heard.push(`${source} ${kind} ${keys ?? 'any'}`));
    }
    lossy.lose = true;
    await a.emit({ eventType: 'track_removed', trackId: 't1' });
    // Logged before b's clear: it is older, for b's watchers as for every other tab's.
    await b.clear('track_metadata');
    await vi.waitFor(() => expect([heardA.length, heardB.length]).toEqual([2, 2]));
    expect(heardA).toEqual(['local invalidate k', 'remote clear any']);
    expect(heardB).toEqual(['remote invalidate k', 'local clear any']);
  });

  it('an event this tab had not heard of yet does not remove what it writes after the event (memory tier)', async () => {
    const { a, b, lossy } = await withLossyTab();
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await b.set('generic', 'x', 'written after the event', { trackId: 't1' });
    expect(await b.get('generic', 'x')).toBe('written after the event');
  });

  /** Two tabs on one fake clock (default config: `generic` is a time-based memory type); the second's channel loses what arrives while `lossy.lose` is set. */
  async function lossyTabsOnOneClock() {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const { cache: a } = await engineTab({ name, indexedDB, engine: { now: clock.now } });
    const lossy = lossyChannel(name);
    const { cache: b } = await engineTab({ name, indexedDB, openChannel: lossy.open, engine: { now: clock.now } });
    return { a, b, lossy, clock };
  }

  it.each([
    ['by less than a second', 900],
    ['by an hour', 3_600_000],
  ])('a clear logged after this tab wrote, the clock set back %s in between (it is stamped before the write), still removes the entry as this tab replays the log, its message lost', async (_, ms) => {
    const { a, b, lossy, clock } = await lossyTabsOnOneClock();
    await b.set('generic', 'x', 'written before the clear');
    clock.advance(-ms);
    lossy.lose = true;
    await a.clear('generic');
    await vi.waitFor(() => expect(lossy.lost).toHaveLength(1));
    lossy.lose = false;
    await b.stats();
    expect(await b.get('generic', 'x')).toBeUndefined();
  });

  it('an event whose message this tab lost leaves, as this tab replays the log (stats()), what it wrote after the event (an event-invalidated memory type, whose writes replay the log first)', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('generic', 'x', 'written before the event', { trackId: 't1' });
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await vi.waitFor(() => expect(lossy.lost).toHaveLength(1));
    lossy.lose = false;
    await b.set('generic', 'y', 'written after the event', { trackId: 't1' });
    await b.stats();
    expect(await b.getMany('generic', ['x', 'y'])).toEqual([undefined, 'written after the event']);
  });

  it('a forceFresh fetch started after an event another tab logged (its message lost) is stored: the event is older than the fetch', async () => {
    const { a, b, lossy } = await withLossyTab();
    lossy.lose = true;
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    expect(await b.resolve('generic', 'x', async () => 'fresh', { trackId: 't1', forceFresh: true })).toEqual({ value: 'fresh', source: 'fetch' });
    expect(await b.get('generic', 'x')).toBe('fresh');
  });

  it('events keep flowing after the database is deleted under the tabs and recreated', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: a } = await openTab(name, indexedDB);
    const { cache: b } = await openTab(name, indexedDB);
    const { seen, listener } = recorder();
    b.on('*', listener);
    for (const trackId of ['t1', 't2', 't3']) await a.emit({ eventType: 'manual_invalidation', trackId });
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    await deleteUnderTabs(indexedDB, name);
    await b.set('generic', 'x', 1, { trackId: 't9' });
    await a.emit({ eventType: 'manual_invalidation', trackId: 't9' });
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen[3]?.[0]).toEqual({ eventType: 'manual_invalidation', trackId: 't9' });
    expect(await b.get('generic', 'x')).toBeUndefined();
  });

  it('an event emitted by a tab that cannot open IndexedDB reaches the shared data through a tab that can', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: healthy } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    expect((await degraded.stats()).degraded).not.toBeNull();
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    await healthy.set('track_metadata', 'other', 2, { trackId: 't2' });
    const { seen, listener } = recorder();
    healthy.on('*', listener);
    const { cache: reader } = await openTab(name, indexedDB);
    await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
    // Resolved once a tab with IndexedDB logged it: the shared data has it already.
    expect(await reader.getMany('track_metadata', ['k', 'other'])).toEqual([undefined, 2]);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.[1]).toMatchObject({ source: 'remote', invalidated: { track_metadata: 1 } });
    expect(await healthy.getMany('track_metadata', ['k', 'other'])).toEqual([undefined, 2]);
    const { cache: later } = await openTab(name, indexedDB);
    expect(await later.getMany('track_metadata', ['k', 'other'])).toEqual([undefined, 2]);
    // Heard once, although the healthy tab both received it and logged it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(1);
  });

  it('an event emitted while no tab could log it reaches the shared data when a tab that can opens', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const first = await openTab(name, indexedDB);
    await first.cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await first.cache.close();
    const { cache: degraded } = await openTab(name, brokenFactory());
    await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
    const { cache: healthy } = await openTab(name, indexedDB);
    await vi.waitFor(async () => expect(await healthy.get('track_metadata', 'k')).toBeUndefined());
  });

  it('an event emitted while the only tab with IndexedDB was frozen reaches the shared data when that tab resumes', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: healthy, engine } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    // The page is frozen: its channel is closed, and nothing else happens in any tab afterwards.
    await engine.suspend();
    await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
    await engine.resume();
    await vi.waitFor(async () => expect(await healthy.get('track_metadata', 'k')).toBeUndefined());
  });

  it("an event a page without IndexedDB emitted while the only tab with IndexedDB was frozen, that page's worker dead before that tab resumed: its next worker sends it again, and it reaches the shared data", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: healthy, engine } = await openTab(name, indexedDB);
    const { cache: degraded, workers } = await openRemoteCache({ name, indexedDB: brokenFactory(), config, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)) });
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    await engine.suspend();
    // Resolved unlogged: no tab that logs answers within half a second.
    await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
    // The page's worker dies between two calls; the next one starts before the tab with IndexedDB resumes.
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await degraded.stats();
    await engine.resume();
    await vi.waitFor(async () => expect(await healthy.get('track_metadata', 'k')).toBeUndefined(), { timeout: 2000 });
  });

  it('a tab that loses IndexedDB after opening: its emit resolves once a tab with IndexedDB has logged it', async () => {
    const name = uniqueName();
    const inner = new IDBFactory();
    const { cache: healthy } = await openTab(name, inner);
    const tab = tabFactory(inner);
    // Both tabs log, so neither greeted the other.
    const { cache: later } = await openTab(name, tab.factory);
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    tab.loseConnection();
    tab.refuse();
    await later.emit({ eventType: 'track_removed', trackId: 't1' });
    expect((await later.stats()).degraded).not.toBeNull();
    expect(await healthy.get('track_metadata', 'k')).toBeUndefined();
  });

  it('an event of a tab without IndexedDB that the tab with it fails to log still reaches that tab, once, and is logged when it is sent again', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: healthy, logger } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    await healthy.set('generic', 'x', 1, { trackId: 't1' });
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    const { seen, listener } = recorder();
    healthy.on('*', listener);
    // The disk is full: the transaction that would log it aborts at commit, as Chromium reports it.
    await emitFirstLogFailing(degraded, name, { until: async () => expect(await healthy.get('generic', 'x')).toBeUndefined() });
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('logging a change from a tab without IndexedDB failed'), expect.anything());
    expect(await healthy.get('track_metadata', 'k')).toBe(1);
    // The tab that made it sends it again when a tab that logs speaks (here: one that opens).
    await openTab(name, indexedDB);
    await vi.waitFor(async () => expect(await healthy.get('track_metadata', 'k')).toBeUndefined());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['logs the first', 1],
    ['reads the log after logging the first, the second heard', 2],
  ] as const)('a tab with IndexedDB whose close() is called as it logs the events of two tabs without IndexedDB (as it %s): its logger hears nothing, after close() resolved, of what the close cut short, and both events reach the shared data', async (_, nth) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: closing, logger } = await openTab(name, indexedDB);
    const degraded = await Promise.all([1, 2].map(async () => (await openTab(name, brokenFactory())).cache));
    for (const key of ['k1', 'k2']) await closing.set('track_metadata', key, 1, { trackId: key });
    // The app closes the cache at the tab's nth transaction on the event log, the other event waiting its turn.
    const proto = IDBDatabase.prototype as unknown as { transaction(this: IDBDatabase, ...args: unknown[]): IDBTransaction };
    const original = proto.transaction;
    let closed: Promise<void> | undefined;
    let seen = 0;
    proto.transaction = function (this: IDBDatabase, ...args: unknown[]) {
      if (this.name === name && ([] as unknown[]).concat(args[0]).includes('events') && ++seen === nth) closed = closing.close();
      return original.apply(this, args);
    };
    try {
      const emitted = degraded.map((tab, index) => tab.emit({ eventType: 'track_removed', trackId: `k${index + 1}` }));
      await vi.waitFor(() => expect(closed).toBeDefined());
      await closed;
      await Promise.all(emitted);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      proto.transaction = original;
    }
    // Before: "Reprise: applying a change from another tab failed: This cache is closed" (1), "…logging a change from a tab
    // without IndexedDB failed: This cache is closed" (2), told after close() resolved.
    expect(logger.error.mock.calls.map(([message, error]) => `${message}: ${(error as Error | undefined)?.message}`)).toEqual([]);
    // Logged by it, or by the next tab that logs (greeted, a tab without IndexedDB sends what was not logged again).
    const { cache: next } = await openTab(name, indexedDB);
    await vi.waitFor(async () => expect(await next.getMany('track_metadata', ['k1', 'k2'])).toEqual([undefined, undefined]));
    await Promise.all([...degraded, next].map((tab) => tab.close()));
  });

  it('a tab with IndexedDB whose close() is called as it logs again the events of a tab without IndexedDB it failed to log (after logging one of its own), between the first and the second: its logger hears nothing, after close() resolved, of what the close cut short, and both events reach the shared data', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: closing, logger } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    for (const key of ['k1', 'k2', 'k3']) await closing.set('track_metadata', key, 1, { trackId: key });
    // The disk is full as the tab with IndexedDB hears both events: it applies them unlogged, and logs them once it logs again.
    const full = fillDisk({ database: name });
    for (const trackId of ['k1', 'k2']) await degraded.emit({ eventType: 'track_removed', trackId });
    await vi.waitFor(() => expect(logger.error.mock.calls.filter(([message]) => String(message).includes('logging a change from a tab without IndexedDB failed'))).toHaveLength(2));
    full();
    logger.error.mockClear();
    // The app closes the cache as the tab reads the log after logging the first again, the second waiting its turn in the same step.
    const proto = IDBDatabase.prototype as unknown as { transaction(this: IDBDatabase, ...args: unknown[]): IDBTransaction };
    const original = proto.transaction;
    let closed: Promise<void> | undefined;
    let seen = 0;
    proto.transaction = function (this: IDBDatabase, ...args: unknown[]) {
      if (this.name === name && ([] as unknown[]).concat(args[0]).includes('events') && ++seen === 3) closed = closing.close();
      return original.apply(this, args);
    };
    try {
      // Its own event (logged: the first transaction), then the first again (the second) and the read after it (the third).
      await closing.emit({ eventType: 'track_removed', trackId: 'k3' });
      await vi.waitFor(() => expect(closed).toBeDefined());
      await closed;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      proto.transaction = original;
    }
    expect(logger.error.mock.calls.map(([message, error]) => `${message}: ${(error as Error | undefined)?.message}`)).toEqual([]);
    const { cache: next } = await openTab(name, indexedDB);
    await vi.waitFor(async () => expect(await next.getMany('track_metadata', ['k1', 'k2', 'k3'])).toEqual([undefined, undefined, undefined]));
    await Promise.all([degraded, next].map((tab) => tab.close()));
  });

  /**
   * A tab with IndexedDB holding `k` of track t1, and a tab without it (which heard of its database) whose event invalidating t1 the first fails
   * to log (an abort at commit, as Chromium reports an UnknownError there); that tab reloads before any tab that
   * logs speaks again (its emit resolved), so it never sends the event again.
   */
  async function relayFailedThenReloaded(name: string, indexedDB: IDBFactory) {
    const { cache: healthy } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    await healthy.set('track_metadata', 'k', 1, { trackId: 't1' });
    // It has heard a logged change: its event names that database.
    const heard = recorder();
    degraded.on('*', heard.listener);
    await healthy.emit({ eventType: 'track_added', trackId: 't0' });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
    await emitFirstLogFailing(degraded, name, { error: 'UnknownError' });
    await degraded.close();
    return healthy;
  }

  it('an event of a tab without IndexedDB that the tab with it fails to log (an abort at commit), that tab reloaded since, is logged once the tab with it logs again', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const healthy = await relayFailedThenReloaded(name, indexedDB);
    // The tab with IndexedDB logs a change of its own: the disk takes writes again.
    await healthy.emit({ eventType: 'track_modified', trackId: 'other' });
    await vi.waitFor(async () => expect(await healthy.get('track_metadata', 'k')).toBeUndefined());
    const { cache: opened } = await openTab(name, indexedDB);
    expect(await opened.get('track_metadata', 'k')).toBeUndefined();
  });

  it('an event of a tab without IndexedDB that the tab with it fails to log, site data cleared before that tab logs again: not logged then over what was written since (it was made in the database deleted), and said once that no tab logs it, not at every change that tab logs after', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const healthy = await relayFailedThenReloaded(name, indexedDB);
    await deleteUnderTabs(indexedDB, name);
    await healthy.set('track_metadata', 'k', 2, { trackId: 't1' });
    const gone: unknown[] = [];
    const channel = new BroadcastChannel(name);
    channel.onmessage = ({ data }) => void (data?.gone && gone.push(data));
    for (const trackId of ['t2', 't3', 't4']) await healthy.emit({ eventType: 'track_modified', trackId });
    await vi.waitFor(() => expect(gone).toHaveLength(1));
    // Its calls wait for what its sync has under way (the retries after each change it logged).
    expect(await healthy.get('track_metadata', 'k')).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    channel.close();
    expect(gone).toHaveLength(1);
  });

  it("an event of a tab without IndexedDB that a page's worker failed to log (a full disk) and told its listeners, that worker dead since, is not heard again there when its next worker logs it, sent again", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, config, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const { cache: degraded } = await openTab(name, brokenFactory());
    await here.set('track_metadata', 'k', 1, { trackId: 't1' });
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    // The disk is full: the transaction that would log it aborts at commit, as Chromium reports it.
    await emitFirstLogFailing(degraded, name, { until: () => expect(seen).toHaveLength(1) });
    expect(await here.get('track_metadata', 'k')).toBe(1);
    // The worker dies between two calls; the next one greets the tabs, the event is sent again, and it logs it.
    workers[0]!.kill();
    await vi.waitFor(async () => expect(await here.get('track_metadata', 'k')).toBeUndefined());
    expect(workers).toHaveLength(2);
    expect(await settled(here)).toEqual([['manual_invalidation', 'remote']]);
  });

  /**
   * A page whose worker (a Worker of its own, see tabFactory) holds `k` of track t1, and a tab without IndexedDB whose
   * event removing t1 that worker's relay waits to log (another connection's transaction holds track_metadata) as it
   * dies (its transactions abort); the tab reloaded as its emit resolved unlogged. `loaded`: settles when the next
   * worker's script has loaded. `meanwhile`: runs as the worker dies, another connection still holding the store.
   */
  async function relayWaitingAsWorkerDies(name: string, indexedDB: IDBFactory, loaded: Promise<unknown> = Promise.resolve(), meanwhile?: (workers: InProcessWorker[]) => Promise<unknown>) {
    const sides = new Map<InProcessWorker, Tab>();
    const { cache: here, workers } = await openRemoteCache({
      name,
      indexedDB,
      config,
      pageChannel: () => checkedChannel(() => new BroadcastChannel(name)),
      workerEngine: (worker) => {
        const side = tabFactory(indexedDB);
        sides.set(worker, side);
        return { indexedDB: side.factory };
      },
      onKill: (worker) => sides.get(worker)?.kill(),
      loads: () => sides.size === 0 || loaded.then(() => true),
    });
    const { cache: degraded } = await openTab(name, brokenFactory());
    await here.set('track_metadata', 'k', 1, { trackId: 't1' });
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    // Another tab's read-write transaction of track_metadata, kept busy: the relay's transaction waits for it.
    const other = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const busy = other.transaction('track_metadata', 'readwrite').objectStore('track_metadata');
    let holding = true;
    const keepBusy = () => void (holding && (busy.get('x').onsuccess = keepBusy));
    keepBusy();
    try {
      // Nobody logs it within half a second: it resolves unlogged, and its tab reloads.
      await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
      await degraded.close();
      workers[0]!.kill();
      await meanwhile?.(workers);
    } finally {
      holding = false;
      other.close();
    }
    return { here, workers, seen, settled };
  }

  it("an event of a tab without IndexedDB whose relay by a page's worker still waited on IndexedDB as that worker died, its tab reloaded since (its emit resolved unlogged): the page gives it to its next worker, which logs it", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { here, settled } = await relayWaitingAsWorkerDies(name, indexedDB, undefined, (workers) => vi.waitFor(() => expect(workers).toHaveLength(2)));
    await vi.waitFor(async () => expect(await here.get('track_metadata', 'k')).toBeUndefined());
    const { cache: opened } = await openTab(name, indexedDB);
    expect(await opened.get('track_metadata', 'k')).toBeUndefined();
    expect(await settled(here)).toEqual([['track_removed', 'remote']]);
  });

  it("an event of a tab without IndexedDB that a page's worker failed to log (an abort at commit) and told its listeners, its tab reloaded since, that worker dead before it logged again: the page gives it to its next worker, which logs it, heard once", async () => {
    const { name, here, workers, degraded } = await relayingPageAndTabWithoutIndexedDB();
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    await emitFirstLogFailing(degraded, name, { event: { eventType: 'track_removed', trackId: 't1' }, error: 'UnknownError', until: () => expect(seen).toHaveLength(1) });
    await degraded.close();
    workers[0]!.kill();
    await vi.waitFor(async () => expect(await here.get('track_metadata', 'k')).toBeUndefined());
    expect(workers).toHaveLength(2);
    expect(await settled(here)).toEqual([['track_removed', 'remote']]);
  });

  it("an event a tab without IndexedDB makes after site data was cleared, that a page's worker, moved to the database made since without a word to the other tabs, failed to log there (a full disk) and told its listeners, its tab reloaded since, that worker dead before it logged again: the page's next worker logs it there, not answered gone (the page named the database deleted)", async () => {
    const { name, indexedDB, here, workers, degraded } = await relayingPageAndTabWithoutIndexedDB();
    // Site data is cleared; another tab writes k to the database made since, then closes.
    await deleteUnderTabs(indexedDB, name);
    const { cache: other } = await openTab(name, indexedDB);
    await other.set('track_metadata', 'k', 2, { trackId: 't1' });
    await other.close();
    // The page's worker replays the log: it opens the database made since, and posts nothing naming it.
    await here.stats();
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    // The tab without IndexedDB removes t1: the page's worker, the only tab that logs, fails at commit (a full disk).
    await emitFirstLogFailing(degraded, name, { event: { eventType: 'track_removed', trackId: 't1' }, until: () => expect(seen).toHaveLength(1) });
    await degraded.close();
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    expect(await settled(here)).toEqual([['track_removed', 'remote']]);
    const { cache: opened } = await openTab(name, indexedDB);
    expect(await opened.get('track_metadata', 'k')).toBeUndefined();
    expect(await here.get('track_metadata', 'k')).toBeUndefined();
  });

  it("an event a tab without IndexedDB makes after site data was cleared, that a page's worker, still naming the database deleted as it was told the event, reopened the one made since to log it and failed there (a full disk) and told its listeners, its tab reloaded since, that worker dead before it logged again: the page's next worker logs it there, and the other tabs hear it", async () => {
    const { name, indexedDB, here, workers, degraded } = await relayingPageAndTabWithoutIndexedDB();
    // Site data is cleared; another tab opens the database made since, and closes: the page's worker has not opened it.
    await deleteUnderTabs(indexedDB, name);
    const { cache: other } = await openTab(name, indexedDB);
    await other.close();
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    // The tab without IndexedDB removes t1: the page's worker, the only tab that logs, opens the new database for it and fails at commit there (a full disk).
    await emitFirstLogFailing(degraded, name, { event: { eventType: 'track_removed', trackId: 't1' }, until: () => expect(seen).toHaveLength(1) });
    await degraded.close();
    // A tab that opens now hears what is logged from now on.
    const { cache: watching } = await openTab(name, indexedDB);
    const heard = recorder();
    watching.on('*', heard.listener);
    await bothHearItOnceAsTheWorkerDies({ workers, here, settled, watching, heard });
  });

  it("an event a tab without IndexedDB makes after site data was cleared, having missed word of the database made since, that a page's worker reopened that one to log it and failed there (a full disk), sent again naming the one deleted as the disk is still full, that worker dead before it logged again: the page's next worker logs it in the one its relay failed in, and the other tabs hear it", async () => {
    const { name, indexedDB, here, workers, degraded, degradedEngine } = await relayingPageAndTabWithoutIndexedDB();
    // Site data is cleared while the tab without IndexedDB is frozen; another tab opens the database made since, and closes.
    await degradedEngine.suspend();
    await deleteUnderTabs(indexedDB, name);
    const { cache: other } = await openTab(name, indexedDB);
    await other.close();
    // Resumed, it greets: the page's worker, which has not opened the new database, answers naming the one deleted (heard meanwhile).
    await degradedEngine.resume();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { seen, settled, listener } = recorder();
    here.on('*', listener);
    const fault = fillDisk({ database: name });
    let watching: Awaited<ReturnType<typeof openTab>>['cache'];
    const heard = recorder();
    try {
      // It removes t1: the page's worker opens the new database for it and fails at commit there (a full disk).
      await degraded.emit({ eventType: 'track_removed', trackId: 't1' });
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      // A tab opens: greeted, the tab without IndexedDB sends the event again, naming the database deleted: the page's
      // worker fails again (taken meanwhile), and the tab opened answers it gone.
      ({ cache: watching } = await openTab(name, indexedDB));
      watching.on('*', heard.listener);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      fault();
    }
    await degraded.close();
    await bothHearItOnceAsTheWorkerDies({ workers, here, settled, watching, heard });
  });

  it("an event of a tab without IndexedDB whose relay by a page's worker still waited on IndexedDB as that worker died, logged by another tab before the page's next worker starts: that worker does not log it again, over what was written since", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    let load!: () => void;
    const loaded = new Promise<void>((resolve) => (load = resolve));
    // Another tab with IndexedDB, which hears it too: its relay waits on the same store.
    const { cache: logging } = await openTab(name, indexedDB);
    const { here, workers, seen } = await relayWaitingAsWorkerDies(name, indexedDB, loaded);
    await vi.waitFor(async () => expect(await logging.get('track_metadata', 'k')).toBeUndefined());
    await logging.set('track_metadata', 'k', 2, { trackId: 't1' });
    load();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await here.stats();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await here.get('track_metadata', 'k')).toBe(2);
    expect(await logging.get('track_metadata', 'k')).toBe(2);
    expect(seen.map(([event, { source }]) => [event.eventType, source])).toEqual([['track_removed', 'remote']]);
  });

  it("an event of a tab without IndexedDB whose relay by a page's worker still waited on IndexedDB as that worker died, site data cleared before the page's next worker starts: that worker does not log it in the database made since, over what was written there", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    let load!: () => void;
    const loaded = new Promise<void>((resolve) => (load = resolve));
    const { here, workers } = await relayWaitingAsWorkerDies(name, indexedDB, loaded);
    await deleteUnderTabs(indexedDB, name);
    const { cache: later } = await openTab(name, indexedDB);
    await later.set('track_metadata', 'k', 2, { trackId: 't1' });
    load();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await here.get('track_metadata', 'k')).toBe(2);
    expect(await later.get('track_metadata', 'k')).toBe(2);
  });

  it("an event of a tab without IndexedDB sent again naming a database deleted since, heard so by a tab frozen as it was first sent, then logged by another tab that heard it first: that tab's listeners hear it", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, engine } = await openTab(name, indexedDB);
    const { seen, listener } = recorder();
    here.on('*', listener);
    const channel = new BroadcastChannel(name);
    const gone: unknown[] = [];
    channel.onmessage = ({ data }) => void (data?.gone && gone.push(data));
    const event = { v: CHANNEL_VERSION, kind: 'event', origin: 'degraded', id: 'sent-again', seq: null, event: { eventType: 'manual_invalidation' as const, trackId: 't1' }, invalidated: {} };
    // Sent first (naming no database) as this tab is frozen; sent again once it resumes, naming the database
    // its tab made it in as it last heard, deleted since (site data cleared): no tab has logged it yet.
    await engine.suspend();
    channel.postMessage({ ...event, epoch: null });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await engine.resume();
    channel.postMessage({ ...event, epoch: 'deleted-since' });
    await vi.waitFor(() => expect(gone).toHaveLength(1));
    // Another tab, which heard the first message, logs it now, in this tab's database.
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = raw.transaction(['events'], 'readwrite');
    EventLog.append(tx, { id: 'sent-again', origin: 'degraded', at: Date.now(), event: event.event, invalidated: {} });
    await new Promise((resolve) => (tx.oncomplete = resolve));
    raw.close();
    channel.close();
    await here.stats();
    expect(seen.map(([received, { source }]) => [received.eventType, source])).toEqual([['manual_invalidation', 'remote']]);
  });

  it('a change one tab failed to log and another then logged runs the listeners of the first once', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: first } = await openTab(name, indexedDB);
    const { cache: second } = await openTab(name, indexedDB);
    const { cache: degraded } = await openTab(name, brokenFactory());
    const [one, two] = [recorder(), recorder()];
    first.on('manual_invalidation', one.listener);
    second.on('manual_invalidation', two.listener);
    // The tabs greet each other: the one without IndexedDB learns that tabs which log are there.
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One tab's relay aborts at commit (a full disk); the other's logs it.
    await emitFirstLogFailing(degraded, name);
    // Both replay the log too.
    await first.emit({ eventType: 'track_modified', trackId: 'other' });
    await second.emit({ eventType: 'track_modified', trackId: 'other' });
    await vi.waitFor(() => expect([one.seen.length, two.seen.length]).toEqual([1, 1]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([one.seen.length, two.seen.length]).toEqual([1, 1]);
  });

  /**
   * A tab that logs and a tab without IndexedDB, which is frozen just as the first posts where it logged
   * its event: it misses that answer, and sends the event again once resumed. `heardFirst`: what the tab without
   * IndexedDB heard of the other before its event — an event it logged, only its greeting (no change, no hint), or
   * only where it logged an event of its own (the greetings lost).
   */
  async function frozenAsItsEventIsLogged(name: string, indexedDB: IDBFactory, heardFirst: 'an event' | 'the greeting only' | 'its own event logged' | false = false) {
    let freeze = () => {};
    const logging = await openTab(
      name,
      indexedDB,
      postingChannel(name, (message, send) => {
        // Where it logged a change (a hint names how far this tab had applied the log, too).
        if ((message as { kind: string }).kind !== 'changed' && (message as { seq?: unknown }).seq) freeze();
        send(message);
      }),
    );
    // What reaches the tab without IndexedDB, before its engine reads it (what `lose` says is lost); and what it sends.
    let greeted = false;
    let answered = false;
    let losing = (message: { kind?: string; gone?: boolean }) => heardFirst === 'its own event logged' && message.kind === 'hello';
    const sent: { kind: string; event?: CacheEvent }[] = [];
    const degraded = await openTab(
      name,
      brokenFactory(),
      checkedChannel((): ChannelLike => {
        const channel = new BroadcastChannel(name);
        return {
          postMessage: (message) => {
            sent.push(message as (typeof sent)[number]);
            channel.postMessage(message);
          },
          addEventListener: (type, listener) =>
            channel.addEventListener(type, (event) => {
              const { kind, logs } = (event as MessageEvent).data as { kind: string; logs?: boolean };
              if (losing((event as MessageEvent).data as { kind?: string; gone?: boolean })) return;
              greeted ||= kind === 'hello' && logs === true;
              answered ||= !!((event as MessageEvent).data as { seq?: unknown }).seq;
              listener(event as MessageEvent);
            }),
          close: () => channel.close(),
        };
      }),
    );
    if (heardFirst === 'an event') {
      // It hears an event the other tab logged before it makes its own.
      const heard = recorder();
      degraded.cache.on('*', heard.listener);
      await logging.cache.emit({ eventType: 'track_added', trackId: 'first' });
      await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
    }
    if (heardFirst === 'its own event logged') {
      // It hears where the other tab logged its first event, and nothing else of that tab (its greeting lost).
      await degraded.cache.emit({ eventType: 'track_added', trackId: 'first' });
      await vi.waitFor(() => expect(answered).toBe(true));
      losing = () => false;
    }
    let frozen: Promise<void> | undefined;
    freeze = () => {
      freeze = () => {};
      frozen = degraded.engine.suspend();
    };
    if (heardFirst === 'the greeting only') {
      // The tab that logs answered its greeting: it knows a tab that logs is there, and heard nothing else of it.
      await vi.waitFor(() => expect(greeted).toBe(true));
      const heard = recorder();
      logging.cache.on('*', heard.listener);
      await degraded.cache.emit({ eventType: 'manual_invalidation' });
      await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
      await frozen;
      return { logging, degraded, sent, lose: (what: typeof losing) => void (losing = what) };
    }
    await logging.cache.set('track_metadata', 'before', 0);
    await degraded.cache.emit({ eventType: 'manual_invalidation' });
    await vi.waitFor(async () => expect(await logging.cache.get('track_metadata', 'before')).toBeUndefined());
    await frozen;
    return { logging, degraded, sent, lose: (what: typeof losing) => void (losing = what) };
  }

  /**
   * `frozenAsItsEventIsLogged` (heard first: `heardFirst`), then the tab that logged it reloads (its engine is gone),
   * site data is cleared and a tab opened since writes an entry; the frozen tab resumes and sends its event again:
   * no tab applies it again, over what was written since.
   */
  async function expectNotAppliedAgain(heardFirst: 'an event' | 'the greeting only' | 'its own event logged') {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { logging, degraded } = await frozenAsItsEventIsLogged(name, indexedDB, heardFirst);
    await logging.cache.close();
    await deleteUnderTabs(indexedDB, name);
    const later = await openTab(name, indexedDB);
    await later.cache.set('track_metadata', 'k', 1);
    const heard = recorder();
    later.cache.on('*', heard.listener);
    await degraded.engine.resume();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.seen).toEqual([]);
    expect(await later.cache.get('track_metadata', 'k')).toBe(1);
  }

  it('a tab without IndexedDB frozen as another logged its event learns it was logged when it sends it again: no tab applies it again later, over what was written since', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { logging, degraded } = await frozenAsItsEventIsLogged(name, indexedDB);
    // It resumes and sends its event again to the tab that logged it.
    await degraded.engine.resume();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Site data cleared: the log that said the event was logged is gone. Then an entry is written, and a tab opens.
    await deleteUnderTabs(indexedDB, name);
    await logging.cache.set('track_metadata', 'k', 1);
    const later = await openTab(name, indexedDB);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await later.cache.get('track_metadata', 'k')).toBe(1);
    expect(await logging.cache.get('track_metadata', 'k')).toBe(1);
  });

  it('a tab without IndexedDB frozen as another logged its event, that tab gone and site data cleared before it resumes: no tab applies the event again, over what was written since', async () => {
    await expectNotAppliedAgain('an event');
  });

  it.each([
    ['', 2],
    [', also when it misses that answer (a lost message)', 3],
  ])('a tab without IndexedDB frozen as another logged its event, that tab gone and site data cleared before it resumes: told that no tab logs it any more, it stops sending it again at every change it hears%s', async (lost, times) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { logging, degraded, sent, lose } = await frozenAsItsEventIsLogged(name, indexedDB, 'an event');
    // The first answer that says so is lost: told again when it sends the event again.
    if (lost)
      lose((message) => {
        if (!message.gone) return false;
        lose(() => false);
        return true;
      });
    await logging.cache.close();
    await deleteUnderTabs(indexedDB, name);
    const later = await openTab(name, indexedDB);
    // It resumes and sends its event again (made in the database deleted since): the tab opened since does not log it.
    // Missing that answer, it waits for it half a second before it sends the event again (at the next event it hears).
    await degraded.engine.resume();
    await new Promise((resolve) => setTimeout(resolve, lost ? 600 : 100));
    const heard = recorder();
    degraded.cache.on('*', heard.listener);
    for (const trackId of ['t1', 't2', 't3']) await later.cache.emit({ eventType: 'track_added', trackId });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Sent first, then once again at the resume (and at the next event, where it missed the answer): not at each event it heard since.
    expect(sent.filter((message) => message.event?.eventType === 'manual_invalidation')).toHaveLength(times);
  });

  it('two tabs without IndexedDB making changes one after another, logged by a third: each change is sent at most twice, not again at every change the other logs while it waits for its answer', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const sent = new Map<string, number>();
    const counting = postingChannel(name, (message, send) => {
      const { kind, seq, id } = message as { kind?: string; seq?: number | null; id: string };
      if (kind === 'event' && seq === null) sent.set(id, (sent.get(id) ?? 0) + 1);
      send(message);
    });
    const logging = await openTab(name, indexedDB);
    const heard = recorder();
    logging.cache.on('*', heard.listener);
    const degraded = [await openTab(name, brokenFactory(), counting), await openTab(name, brokenFactory(), counting)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let change = 0; change < 50; change++)
      for (const [tab, { cache }] of degraded.entries()) await cache.emit({ eventType: 'track_added', trackId: `t${tab}-${change}` });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(100));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sent.size).toBe(100);
    expect(Math.max(...sent.values())).toBeLessThanOrEqual(2);
    await Promise.all([logging.cache.close(), ...degraded.map(({ cache }) => cache.close())]);
  });

  it('a tab without IndexedDB that had heard only the greeting of a tab that logs (no change yet), frozen as that tab logged its event, that tab gone and site data cleared before it resumes: no tab applies the event again, over what was written since', async () => {
    await expectNotAppliedAgain('the greeting only');
  });

  it('an event a tab without IndexedDB makes after site data was cleared while it was frozen (it last heard of the database before), which the first try fails to log (a full disk), removes what it names once sent again', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const logging = await openTab(name, indexedDB);
    const degraded = await openTab(name, brokenFactory());
    // The tabs greet each other; the one without IndexedDB hears an event logged in the database.
    const heard = recorder();
    degraded.cache.on('*', heard.listener);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await logging.cache.emit({ eventType: 'track_added', trackId: 'first' });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
    // Frozen while site data is cleared and the other tab writes an entry of track t1 to the new database.
    await degraded.engine.suspend();
    await deleteUnderTabs(indexedDB, name);
    await logging.cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await degraded.engine.resume();
    // Its event for t1: the other tab's first try to log it aborts at commit (a full disk).
    await emitFirstLogFailing(degraded.cache, name);
    // The other tab logs an event of its own: the tab without IndexedDB hears it, and sends its event again.
    await logging.cache.emit({ eventType: 'track_modified', trackId: 'other' });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await logging.cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('an event a tab without IndexedDB makes after site data was cleared, having missed word of the database made since (it names the one deleted), which the first try fails to log there (a full disk), is logged there once sent again: the tab that applied it is not left alone with it (soak seed 77364)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const logging = await openTab(name, indexedDB);
    const lossy = lossyChannel(name);
    const degraded = await openTab(name, brokenFactory(), lossy.open);
    // The tabs greet each other; the one without IndexedDB hears an event logged in the database.
    const heard = recorder();
    degraded.cache.on('*', heard.listener);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await logging.cache.emit({ eventType: 'track_added', trackId: 'first' });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
    // Site data is cleared; the other tab writes an entry of track t1 to the database made since, whose message the tab without IndexedDB loses.
    await deleteUnderTabs(indexedDB, name);
    lossy.lose = true;
    await logging.cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    await vi.waitFor(() => expect(lossy.lost.some((message) => (message as { kind?: unknown }).kind === 'changed')).toBe(true));
    lossy.lose = false;
    const applied = recorder();
    logging.cache.on('*', applied.listener);
    // Its event for t1: the other tab's first try to log it, in the database made since, aborts at commit (a full disk).
    await emitFirstLogFailing(degraded.cache, name);
    // Applied there unlogged, its listeners told.
    await vi.waitFor(() => expect(applied.seen.map(([event, { source }]) => [event.eventType, source])).toEqual([['manual_invalidation', 'remote']]));
    // A tab that logs opens and greets: the tab without IndexedDB sends its event again.
    await openTab(name, indexedDB);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await logging.cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it('a tab without IndexedDB whose worker died after its event was logged, site data cleared before the page sent it again to the next worker (told from memory where it was logged, the database deleted): that worker’s next event, whose first relay failed, removes what it names once sent again', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const logging = await openTab(name, indexedDB);
    const tab = { id: 'page-without-idb', since: null };
    const first = await engineTab({ name, indexedDB: brokenFactory(), config, engine: { tab } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Its event, logged by the other tab; then its worker dies before answering.
    const event: CacheEvent = { eventType: 'track_added', trackId: 'first' };
    await first.engine.emit(event, { id: 'e1', retry: false });
    await first.cache.close();
    // Site data cleared; the other tab writes an entry of track t1 to the new database.
    await deleteUnderTabs(indexedDB, name);
    await logging.cache.set('track_metadata', 'k', 1, { trackId: 't1' });
    // The next worker of that page, greeted by the other tab (naming the new database), is sent the event again.
    const next = await engineTab({ name, indexedDB: brokenFactory(), config, engine: { tab } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await next.engine.emit(event, { id: 'e1', retry: true }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Its next event for t1: the other tab's first try to log it aborts at commit (a full disk); sent again once that tab logs one of its own.
    await emitFirstLogFailing(next.cache, name);
    await logging.cache.emit({ eventType: 'track_modified', trackId: 'other' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await logging.cache.get('track_metadata', 'k')).toBeUndefined();
  });

  it("a page whose worker logged an event of a tab without IndexedDB, then died, site data cleared meanwhile, hears it once: another page, whose worker was still opening as the event was first sent, logs it again in the database made since, which the next worker replays", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache, workers } = await openRemoteCache({ name, indexedDB, config, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)) });
    const { seen, settled, listener } = recorder();
    cache.on('*', listener);
    const { cache: degraded } = await openTab(name, brokenFactory());
    expect((await degraded.stats()).degraded).not.toBeNull();
    // Another page whose worker is still opening: the page keeps what it hears for it, but hears where changes were logged
    // late (those messages held back on its channel): its worker takes the event as first sent, naming no database.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let late: (() => void)[] | null = [];
    const lateWhereLogged = checkedChannel((): ChannelLike => {
      const channel = new BroadcastChannel(name);
      let open = true;
      return {
        postMessage: (message) => channel.postMessage(message),
        addEventListener: (type, listener) =>
          channel.addEventListener(type, (event) => {
            const { data } = event as MessageEvent;
            // A closed channel hears nothing, late or not.
            if (late && data?.kind === 'event' && data.seq !== null) late.push(() => open && listener(event as MessageEvent));
            else listener(event as MessageEvent);
          }),
        close: () => {
          open = false;
          channel.close();
        },
      };
    });
    const { cache: opening } = await openRemoteCache({ name, indexedDB, config, opening: () => held, pageChannel: () => lateWhereLogged });
    // Logged by this page's worker, which tells its page and the tabs where (that answer late to the other page).
    await degraded.emit({ eventType: 'track_added', trackId: 't3' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await vi.waitFor(() => expect(late).not.toHaveLength(0));
    // Site data cleared; the other page's worker then opens the database made since and hears the event as first sent:
    // it logs it there again.
    await deleteUnderTabs(indexedDB, name);
    release();
    await opening.stats();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const store = await IdbStore.open({ name, indexedDB });
    expect((await store.log.after(0)).changes).toMatchObject([{ seq: 1, event: { eventType: 'track_added', trackId: 't3' } }]);
    store.close();
    // Where it was logged arrives, after.
    const arriving = late;
    late = null;
    for (const arrive of arriving) arrive();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // This page's worker dies between two calls; the next one goes on from where the page heard it stood.
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    expect(await settled(cache)).toEqual([['track_added', 'remote']]);
    await Promise.all([cache.close(), opening.close(), degraded.close()]);
  });

  it('an event of a tab without IndexedDB that one page logged, heard first (naming no database) by another page whose worker was still opening, site data cleared before that worker opens the database made since: not logged there again, over an entry written there after the event resolved', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache } = await openRemoteCache({ name, indexedDB, config, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)) });
    const { seen, listener } = recorder();
    cache.on('*', listener);
    const { cache: degraded } = await openTab(name, brokenFactory());
    expect((await degraded.stats()).degraded).not.toBeNull();
    // Another page whose worker is still opening: the page keeps what it hears for it (the event as first sent, and where it was logged).
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const { cache: opening } = await openRemoteCache({ name, indexedDB, config, opening: () => held, pageChannel: () => checkedChannel(() => new BroadcastChannel(name)) });
    // Logged by the first page's worker.
    await degraded.emit({ eventType: 'track_modified', trackId: 't3' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    // Site data cleared; then an entry of that track is written in the database made since, after the event resolved.
    await deleteUnderTabs(indexedDB, name);
    await cache.set('track_metadata', 'k', 1, { trackId: 't3' });
    // The other page's worker opens the database made since, and takes what its page kept.
    release();
    await opening.stats();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([await cache.get('track_metadata', 'k'), await opening.get('track_metadata', 'k')]).toEqual([1, 1]);
    await Promise.all([cache.close(), opening.close(), degraded.close()]);
  });

  it('a tab without IndexedDB that had heard of no database but where its own first event was logged, frozen as another tab logged its next one, that tab gone and site data cleared before it resumes: no tab applies that event again, over what was written since', async () => {
    await expectNotAppliedAgain('its own event logged');
  });

  it('a tab without IndexedDB frozen as another logged its event, site data cleared before it resumes: told from memory where the event was logged (the database deleted), its next event, sent again, still names the database made since, and is logged', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { logging, degraded } = await frozenAsItsEventIsLogged(name, indexedDB);
    await deleteUnderTabs(indexedDB, name);
    await logging.cache.set('track_metadata', 'k', 1);
    // It resumes: the tab that logs greets it naming the database made since, then answers its event sent again from memory.
    await degraded.engine.resume();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Its next event reaches no tab that logs (that tab frozen), and is sent again once that tab resumes.
    logging.engine.suspend();
    await degraded.cache.emit({ eventType: 'manual_invalidation' });
    await logging.engine.resume();
    await vi.waitFor(async () => expect(await logging.cache.get('track_metadata', 'k')).toBeUndefined());
  });

  it('a tab opened after the event of a tab without IndexedDB was logged does not hear it when that tab, frozen as it was logged, sends it again', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { degraded } = await frozenAsItsEventIsLogged(name, indexedDB);
    const later = await openTab(name, indexedDB);
    const heard = recorder();
    later.cache.on('*', heard.listener);
    const watched: unknown[] = [];
    later.cache.watch('track_metadata', null, (change) => watched.push(change));
    // It resumes and sends its event again: the tab that logged it says where, and the later tab, which relays it, finds it logged before it opened.
    await degraded.engine.resume();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.seen).toEqual([]);
    expect(watched).toEqual([]);
  });

  it('a tab without IndexedDB keeps no timer once closed: the wait for its change to be logged ends with it', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    await openTab(name, indexedDB);
    const pending = new Set<ReturnType<typeof setTimeout>>();
    const schedule = (run: () => void, ms: number) => {
      const timer = setTimeout(() => (pending.delete(timer), run()), ms);
      pending.add(timer);
      return () => (clearTimeout(timer), pending.delete(timer));
    };
    const { cache: degraded } = await engineTab({ name, indexedDB: brokenFactory(), config, engine: { schedule } });
    // It hears that a tab which logs is there, so its emit waits until that tab has logged it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await degraded.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await degraded.close();
    expect(pending.size).toBe(0);
  });

  it('clear() clears the type in every tab, memory tiers too', async () => {
    const { a, b } = await twoTabs();
    await b.set('negative_result', 'n', 1);
    await b.set('failed_api_lookup', 'f', 2);
    await a.set('track_metadata', 't', 3);
    await a.clear('negative_result');
    await vi.waitFor(async () => expect(await b.get('negative_result', 'n')).toBeUndefined());
    await a.clear();
    await vi.waitFor(async () => expect(await b.get('failed_api_lookup', 'f')).toBeUndefined());
    expect(await b.get('track_metadata', 't')).toBeUndefined();
  });

  it('a clear whose message was lost reaches the tab with the next event, from the log', async () => {
    const { a, b, lossy } = await withLossyTab();
    await b.set('negative_result', 'n', 1);
    lossy.lose = true;
    await a.clear('negative_result');
    await new Promise((resolve) => setTimeout(resolve, 20));
    lossy.lose = false;
    await a.emit({ eventType: 'track_added', trackId: 't1' });
    await vi.waitFor(async () => expect(await b.get('negative_result', 'n')).toBeUndefined());
  });
  it('a worker that replaces a dead one on a database recreated since tells the watchers that its tab forgot what the dead one never told of the database deleted', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openTab(name, indexedDB);
    const { cache, workers } = await openRemoteCache({ name, indexedDB, config, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const heard: CacheChange[] = [];
    cache.watch('generic', null, (change) => void heard.push(change));
    // The page knows where its worker stands in the log.
    const first = new Promise<void>((resolve) => cache.on('track_added', () => resolve()));
    await other.emit({ eventType: 'track_added', trackId: 't0' });
    await first;
    await cache.set('generic', 'x', 1, { trackId: 't1' });
    await cache.stats();
    heard.length = 0;
    // The worker dies between two calls; another tab's event, then the database deleted (the dead
    // worker's connection closes on versionchange) and recreated by that tab.
    workers[0]!.kill();
    await other.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await deleteUnderTabs(indexedDB, name);
    await other.set('track_metadata', 'k', 1);
    // The next call starts the next worker: what the event did is lost with the database, and said so.
    expect(await cache.get('generic', 'x')).toBeUndefined();
    expect(workers).toHaveLength(2);
    await cache.stats();
    // First that the dead worker's memory tier died with it.
    expect(heard).toEqual([
      { type: 'generic', keys: null, kind: 'clear', source: 'remote' },
      { type: 'generic', keys: null, kind: 'invalidate', source: 'remote' },
    ]);
  });

  it('a tab that finds the database recreated, site data cleared again as it reads the new log (another tab logs its event in the database made since), hears that event once, also from its next worker', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const [otherSide, workerSide] = [tabFactory(indexedDB), tabFactory(indexedDB)];
    const { cache: other } = await openTab(name, otherSide.factory);
    const { cache, workers } = await openRemoteCache({ name, indexedDB: workerSide.factory, config, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const { seen, settled, listener } = recorder();
    cache.on('*', listener);
    await other.emit({ eventType: 'track_added', trackId: 't0' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    // Site data cleared while this tab is idle; the other tab writes to the database made since.
    await deleteUnderTabs(indexedDB, name);
    await other.set('track_metadata', 'k', 1);
    // This tab's replay reads the log's head, then its tail, which names the new database, then (the old one's
    // changes forgotten) the new one's log: site data is cleared again right then, as the other tab emits.
    await clearedAsItReadsTheLog({ indexedDB, name, mine: workerSide, otherSide, other, nth: 3 }, () => cache.stats());
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    // The worker dies between two calls; the next one goes on from where the page heard it stood.
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    expect(await settled(cache)).toEqual([
      ['track_added', 'remote'],
      ['track_removed', 'remote'],
    ]);
  });

  it("a tab whose emit, behind in the log, finds as it replays what was logged before it the database recreated (site data cleared as it logged, another tab's event logged in the one made since) tells its own event first, then that newer one", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const [otherSide, mySide] = [tabFactory(indexedDB), tabFactory(indexedDB)];
    const { cache: other } = await openTab(name, otherSide.factory);
    const lossy = lossyChannel(name);
    const { cache } = await openTab(name, mySide.factory, lossy.open);
    const { settled, listener } = recorder();
    cache.on('*', listener);
    // This tab misses the other's event: its own, logged after it, replays the log up to its record first.
    lossy.lose = true;
    await other.emit({ eventType: 'track_added', trackId: 't0' });
    await vi.waitFor(() => expect(lossy.lost).toHaveLength(1));
    lossy.lose = false;
    // As it reads the log, site data is cleared and the other tab logs an event in the database made since.
    await clearedAsItReadsTheLog({ indexedDB, name, mine: mySide, otherSide, other }, () => cache.emit({ eventType: 'library_sync' }));
    // The other tab's first event went with the database deleted (forgotten); its second came after this tab's.
    expect(await settled(cache)).toEqual([
      ['library_sync', 'local'],
      ['track_removed', 'remote'],
    ]);
  });
});


describe('a tab behind in a database made again since it last read the log (site data cleared)', () => {
  /** Tabs `other` and `mine` (whose channel loses what arrives while `lossy.lose` is set), both past the first database's first event; then site data is cleared. */
  async function behindAfterTheClear(otherChannel?: (name: string) => OpenTabChannel) {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openTab(name, indexedDB, otherChannel?.(name));
    const lossy = lossyChannel(name);
    const { cache: mine } = await openTab(name, indexedDB, lossy.open);
    const heard = recorder();
    mine.on('*', heard.listener);
    await other.emit({ eventType: 'track_added', trackId: 't0' });
    await vi.waitFor(() => expect(heard.seen).toHaveLength(1));
    await deleteUnderTabs(indexedDB, name);
    return { name, indexedDB, other, mine, lossy, heard };
  }

  it("its emit logged in the new database after another tab's event whose message it lost: its listeners hear that event first, as every tab does", async () => {
    const { other, mine, lossy, heard } = await behindAfterTheClear();
    lossy.lose = true;
    await other.emit({ eventType: 'track_modified', trackId: 't1' });
    await vi.waitFor(() => expect(lossy.lost).toHaveLength(1));
    lossy.lose = false;
    await mine.emit({ eventType: 'library_sync' });
    expect(await heard.settled(mine)).toEqual([
      ['track_added', 'remote'],
      ['track_modified', 'remote'],
      ['library_sync', 'local'],
    ]);
  });

  it("another tab's write heard late, after an event logged since in the new database whose message it lost: its watcher hears the write, then the event that removed it", async () => {
    const held: (() => void)[] = [];
    let holding = false;
    const writer = (name: string) => postingChannel(name, (message, send) => (holding ? held.push(() => send(message)) : send(message)));
    const { name, indexedDB, other, mine, lossy } = await behindAfterTheClear(writer);
    const { cache: third } = await openTab(name, indexedDB);
    const watched: string[] = [];
    mine.watch('track_metadata', 'k', ({ kind }) => void watched.push(kind));
    holding = true;
    await other.set('track_metadata', 'k', 1, { trackId: 't1' });
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
    holding = false;
    lossy.lose = true;
    await third.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(lossy.lost.length).toBeGreaterThan(0));
    lossy.lose = false;
    held.splice(0).forEach((post) => post());
    await vi.waitFor(() => expect(watched).toContain('set'));
    // Its next call replays the rest of the log first, as after any hint (see #receive).
    await mine.stats();
    await vi.waitFor(() => expect(watched.filter((kind) => kind !== 'clear')).toEqual(['set', 'invalidate']));
    expect(await mine.get('track_metadata', 'k')).toBeUndefined();
  });
});

describe('the event log', () => {
  it('keeps the newest events and those younger than the retention, and records how far it was trimmed', async () => {
    const { a, name, indexedDB } = await twoTabs();
    for (let index = 0; index < 5; index++) await a.emit({ eventType: 'library_sync' });
    const store = await IdbStore.open({ name, indexedDB });
    const { log } = store;
    const { changes, epoch } = await log.after(0);
    expect(changes.map((change) => change.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    expect(await log.trim(0, 0)).toBe(0);
    expect(await log.trim(Date.now() + 1, 2)).toBe(3);
    expect(await log.after(0)).toMatchObject({ trimmedThrough: 3, changes: [{ seq: 4 }, { seq: 5 }] });
    expect(await log.head()).toEqual({ epoch, seq: 5 });
    store.close();
  });

  it('says where a tab stands that applied what was logged before a time and nothing since', async () => {
    const { a, name, indexedDB } = await twoTabs();
    await a.emit({ eventType: 'library_sync' });
    await a.emit({ eventType: 'library_sync' });
    const store = await IdbStore.open({ name, indexedDB });
    const { log } = store;
    const { epoch, changes } = await log.after(0);
    const [, second] = changes;
    expect(await log.before(second!.at + 1, Date.now())).toEqual({ epoch, seq: 2 });
    expect(await log.before(second!.at, Date.now())).toEqual({ epoch, seq: changes[0]!.at === second!.at ? 0 : 1 });
    expect(await log.before(0, Date.now())).toEqual({ epoch, seq: 0 });
    // A clock a millisecond behind `time` (the same tick, or an NTP slew) is within the out-of-order tolerance: not
    // a set back that makes what was logged since untellable (which would forget the tab's memory tier).
    expect(await log.before(second!.at + 1, second!.at)).toEqual({ epoch, seq: 2 });
    store.close();
  });

  it('finds the oldest change logged since a time even when records are a little out of time order', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // Two tabs whose clocks differ by a second (a clock slewed): the second logs later with an earlier time.
    const { cache: late } = await openCache({ name, indexedDB, clock: fakeClock(Date.UTC(2026, 0, 1, 0, 0, 2)) });
    const { cache: early } = await openCache({ name, indexedDB, clock: fakeClock(Date.UTC(2026, 0, 1, 0, 0, 1)) });
    await late.emit({ eventType: 'library_sync' });
    await early.emit({ eventType: 'library_sync' });
    const store = await IdbStore.open({ name, indexedDB });
    const { epoch } = await store.log.after(0);
    const now = Date.UTC(2026, 0, 1, 0, 0, 3);
    expect(await store.log.before(Date.UTC(2026, 0, 1, 0, 0, 1, 500), now)).toEqual({ epoch, seq: 0 });
    expect(await store.log.before(Date.UTC(2026, 0, 1, 0, 0, 3), now)).toEqual({ epoch, seq: 2 });
    // The clock set back since both were logged: neither tells whether it came after a time, and neither is replayed.
    expect(await store.log.before(Date.UTC(2025, 11, 31, 23, 59, 50), Date.UTC(2025, 11, 31, 23, 59, 50))).toEqual({ epoch, seq: 2 });
    // Set back after the time (which is ahead of the clock): the times are told apart by it alone.
    expect(await store.log.before(Date.UTC(2026, 0, 1, 0, 0, 1, 500), Date.UTC(2026, 0, 1))).toEqual({ epoch, seq: 0 });
    store.close();
    await late.close();
    await early.close();
  });
});
