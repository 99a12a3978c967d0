// What a page's listeners and watchers hear of the other tabs while its worker starts, dies and is
// replaced, and while the page is frozen: the page's relay (src/channelRelay.ts), what it keeps for the
// next worker, and where in the log the page knows its worker got to (src/PageTab.ts).
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import type { CacheChange } from '../src/Cache';
import { checkedChannel } from '../src/checkedChannel';
import type { ChannelLike, OpenTabChannel } from '../src/TabChannel';
import { CacheClient } from '../src/CacheClient';
import { PageTab } from '../src/PageTab';
import type { ClientCallbacks } from '../src/protocol';
import { RemoteEngine } from '../src/RemoteEngine';
import { SmartCacheConfig } from '../src/SmartCacheConfig';
import { Engine } from '../worker/Engine';
import { remoteLogger } from '../worker/remoteLogger';
import { inProcessWorkers, openRemoteCache } from './support/inProcessWorkers';
import { brokenFactory } from './support/faultyIndexedDB';
import { engineTab } from './support/engineTab';
import { postingChannel } from './support/postingChannel';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { tableOf } from './support/tableOf';
import { holdStore } from './support/holdStore';

const pageChannel = (name: string) => () => checkedChannel(() => new BroadcastChannel(name));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A gate a worker's open waits on until `release`. */
function hold() {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  return { held, release };
}

/** What the cache's `on('*')` listeners hear, as "source eventType". */
function listen(cache: CacheClient): string[] {
  const heard: string[] = [];
  cache.on('*', (event, { source }) => void heard.push(`${source} ${event.eventType}`));
  return heard;
}

/**
 * As openRemoteCache, but the page's engine is returned too: the page lifecycle (freeze, resume) calls it,
 * as watchLifecycle does. `now`: the clock the tabs log by (one clock in a browser).
 */
async function pageWithEngine(
  name: string,
  indexedDB: IDBFactory,
  opening: (openChannel?: OpenTabChannel) => Promise<void>,
  { channel = pageChannel(name), now, storage }: { channel?: () => OpenTabChannel; now?: () => number; storage?: (worker: number) => IDBFactory } = {},
) {
  let started = 0;
  let client: CacheClient | undefined;
  const tab = new PageTab(undefined, now);
  const logger = { error: vi.fn() };
  const callbacks: ClientCallbacks = {
    remoteEvent: (event, invalidated, logged) => {
      if (logged) tab.heard(logged);
      client?.remoteEvent(event, invalidated);
    },
    listening: (from) => tab.heard(from),
    progress: () => {},
    log: logger.error,
    changed: (changes) => client?.changed(changes),
  };
  const { workers, connect, kept } = inProcessWorkers(
    async (client, _, openChannel) => {
      await opening(openChannel);
      const worker = started++;
      return Engine.create({ name, config: tableOf(new SmartCacheConfig({})), indexedDB: storage?.(worker) ?? indexedDB, cloneValues: false, logger: remoteLogger(client.log), client, tab: tab.open, openChannel });
    },
    { pageChannel: channel },
  );
  const engine = await RemoteEngine.start({ connect: connect(callbacks), logger, kept });
  client = new CacheClient(engine, { logger });
  return { cache: client, engine, workers };
}

/**
 * Another tab (in-process, on the clock `now`) whose event messages are held back while `holding` runs (its
 * worker died before telling one: the next worker tells it, once its page sends the call again, after
 * events it made since); `late` sends them.
 */
async function tabWithLateMessages(name: string, indexedDB: IDBFactory, now: () => number) {
  const held: unknown[] = [];
  let holding = false;
  const { cache } = await engineTab({
    name,
    indexedDB,
    engine: { now },
    openChannel: postingChannel(name, (message, send) => (holding ? held.push(message) : send(message))),
  });
  return {
    cache,
    async holding(made: () => Promise<unknown>) {
      holding = true;
      await made().finally(() => (holding = false));
    },
    late() {
      const channel = new BroadcastChannel(name);
      for (const message of held.splice(0)) channel.postMessage(message);
      channel.close();
    },
  };
}

describe('a page hears the other tabs across its worker’s start, death and freeze', () => {
  it("a replacement worker does not tell the watchers again another tab's clear the dead worker told them", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name) });
    const { cache: other } = await openCache({ name, indexedDB });
    const seen: string[] = [];
    const persistent: string[] = [];
    here.watch('generic', null, ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    here.watch('album_year', null, ({ kind, source }: CacheChange) => void persistent.push(`${source} ${kind}`));
    await other.clear();
    await vi.waitFor(() => expect([seen, persistent]).toEqual([['remote clear'], ['remote clear']]));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(20);
    // The memory type's second: the dead worker's memory tier died with it (a loss, not the clear again).
    expect([seen, persistent]).toEqual([['remote clear', 'remote clear'], ['remote clear']]);
    await here.close();
    await other.close();
  });

  it('an event another tab emits after createCache resolved reaches the listeners when the worker dies while its engine opens', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    const { held, release } = hold();
    let opens = 0;
    // The first worker's open hangs (its IndexedDB blocked, say) until it is killed.
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name), opening: () => (opens++ === 0 ? held : Promise.resolve()) });
    const heard = listen(here);
    await other.emit({ eventType: 'library_sync' });
    await pause(20);
    workers[0]!.kill();
    release();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    // The replacement's catch-up is told a few tasks after its first answer: waited for (a loaded machine took
    // longer than 20 ms once), then no second telling.
    await vi.waitFor(() => expect(heard).toEqual(['remote library_sync']));
    await pause(20);
    expect(heard).toEqual(['remote library_sync']);
    await here.close();
    await other.close();
  });

  it('an event another tab emits after the page resumed reaches the listeners when the page froze while its engine opened', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    const { held, release } = hold();
    const { cache: here, engine } = await pageWithEngine(name, indexedDB, () => held);
    const heard = listen(here);
    // Frozen and resumed (document 'freeze', 'resume') while the worker's engine still opens.
    const frozen = engine.suspend();
    const resumed = engine.resume();
    await other.emit({ eventType: 'library_sync' });
    await pause(20);
    release();
    await Promise.all([frozen, resumed]);
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote library_sync']);
    await here.close();
    await other.close();
  });

  it("the watchers hear another tab's event when the worker dies just after telling the listeners of it", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name) });
    const { cache: other } = await openCache({ name, indexedDB });
    await other.set('track_metadata', 't1', { title: 'x' }, { trackId: 't1' });
    await pause(20);
    const seen: string[] = [];
    here.watch('track_metadata', 't1', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    // The worker is terminated (a crash) once the page has heard of the event: its watchers' share of it was still on its way.
    here.on('*', () => workers[0]!.kill());
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(20);
    expect(seen).toEqual(['remote invalidate']);
    await here.close();
    await other.close();
  });

  it('an event another tab emits while the page is frozen, as its engine opens, is told to the listeners when it resumes', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await other.emit({ eventType: 'track_removed', trackId: 'before' });
    clock.advance(1);
    const { held, release } = hold();
    const { cache: here, engine } = await pageWithEngine(name, indexedDB, () => held, { now: clock.now });
    const heard = listen(here);
    const frozen = engine.suspend();
    clock.advance(1);
    await other.emit({ eventType: 'library_sync' });
    await pause(20);
    // The engine opens while the page is frozen (a worker runs on): the log's head is past the missed event.
    release();
    await pause(20);
    await Promise.all([frozen, engine.resume()]);
    await here.stats();
    await pause(20);
    // Told once; not what was logged before the page listened.
    expect(heard).toEqual(['remote library_sync']);
    await here.close();
    await other.close();
  });

  it('an event logged just before the engine read where it starts, its message lost to a freeze, is told to the listeners', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    // The page's channels: what they hear arrives when let through (a message trails its commit); a closed one hears nothing more.
    const held: (() => void)[] = [];
    const slowChannel = () =>
      checkedChannel((): ChannelLike => {
        const channel = new BroadcastChannel(name);
        let open = true;
        return {
          postMessage: (message) => channel.postMessage(message),
          addEventListener: (type, listener) => channel.addEventListener(type, (event) => void held.push(() => open && listener(event as MessageEvent))),
          close: () => ((open = false), channel.close()),
        };
      });
    const opening = hold();
    const { cache: here, engine } = await pageWithEngine(name, indexedDB, () => opening.held, { channel: slowChannel, now: clock.now });
    const heard = listen(here);
    clock.advance(1);
    await other.emit({ eventType: 'library_sync' });
    opening.release();
    // The engine opens, reading the log's head after the event; then the page is frozen, and the message is lost.
    await here.stats();
    await engine.suspend();
    held.splice(0).forEach((deliver) => deliver());
    await engine.resume();
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote library_sync']);
    await here.close();
    await other.close();
  });

  it("another tab's events logged after the page listened reach the listeners when the worker they were told to dies before its engine opened, the clock set back behind when the page listened since the first, then set right again (soak seed 118684)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    let opens = 0;
    // The first worker's engine asks for its channel to the other tabs, then its reads of the log hang (IndexedDB busy) until it is killed.
    const hangs = (openChannel?: OpenTabChannel) => (openChannel!(() => {}), new Promise<void>(() => {}));
    const { cache: here, workers } = await pageWithEngine(name, indexedDB, (openChannel) => (opens++ ? Promise.resolve() : hangs(openChannel)), { now: clock.now });
    const heard = listen(here);
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    // An NTP step: two seconds behind when the page listened, then right again (stamped so, the second event looks older than the page).
    clock.advance(-2000);
    await other.emit({ eventType: 'library_sync' });
    clock.advance(5000);
    await pause(20);
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote track_removed', 'remote library_sync']);
    await here.close();
    await other.close();
  });

  it("another tab's event whose message comes late, after that tab's later event's, both while the engine opens: the listeners hear them in the order that tab made them", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const other = await tabWithLateMessages(name, indexedDB, clock.now);
    await other.holding(() => other.cache.emit({ eventType: 'track_removed', trackId: 't1' }));
    clock.advance(5000);
    const opening = hold();
    const { cache: here } = await openRemoteCache({ name, indexedDB, now: clock.now, pageChannel: pageChannel(name), opening: () => opening.held });
    const heard = listen(here);
    await other.cache.emit({ eventType: 'library_sync' });
    other.late();
    await pause(20);
    opening.release();
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote track_removed', 'remote library_sync']);
    await here.close();
    await other.cache.close();
  });

  // A page hears nothing logged before it listened but what it heard of: not an event logged between one whose message comes late and when it listened.
  for (const late of ['after', 'before'] as const) {
    it(`another tab's event whose message comes late, ${late} that tab's later event's, both while the engine opens: the listeners do not hear an event logged between them, before the page listened, whose message went before`, async () => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const clock = fakeClock();
      const other = await tabWithLateMessages(name, indexedDB, clock.now);
      await other.holding(() => other.cache.emit({ eventType: 'track_removed', trackId: 't1' }));
      // No page listened yet: its message reached nobody.
      await other.cache.emit({ eventType: 'manual_invalidation' });
      clock.advance(5000);
      const opening = hold();
      const { cache: here } = await openRemoteCache({ name, indexedDB, now: clock.now, pageChannel: pageChannel(name), opening: () => opening.held });
      const heard = listen(here);
      if (late === 'before') other.late();
      await other.cache.emit({ eventType: 'library_sync' });
      if (late === 'after') other.late();
      await pause(20);
      opening.release();
      await here.stats();
      await pause(20);
      expect(heard).toEqual(['remote track_removed', 'remote library_sync']);
      await here.close();
      await other.cache.close();
    });
  }

  it("another tab's event whose message comes late, after that tab's later event's, both while the engine opens, the worker dying as it tells the first: its next worker does not tell an event logged before the page listened, whose message went before", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const other = await tabWithLateMessages(name, indexedDB, clock.now);
    await other.holding(() => other.cache.emit({ eventType: 'track_removed', trackId: 't1' }));
    await other.cache.emit({ eventType: 'manual_invalidation' });
    clock.advance(5000);
    const opening = hold();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, pageChannel: pageChannel(name), opening: () => opening.held });
    const heard = listen(here);
    // The worker is terminated (a crash) once the page has heard of the first event.
    here.on('*', () => workers[0]!.kill());
    await other.cache.emit({ eventType: 'library_sync' });
    other.late();
    await pause(20);
    opening.release();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote track_removed', 'remote library_sync']);
    await here.close();
    await other.cache.close();
  });

  it('a page opened after the system clock was set back does not hear, as news, the events another tab logged before it opened', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    clock.advance(60_000);
    await other.emit({ eventType: 'library_sync' });
    // An NTP correction, or the user fixing the time: the clock goes back an hour, then a page opens.
    clock.advance(-3_600_000);
    const opening = hold();
    const { cache: here } = await openRemoteCache({ name, indexedDB, now: clock.now, pageChannel: pageChannel(name), opening: () => opening.held });
    const heard = listen(here);
    opening.release();
    await here.stats();
    clock.advance(1);
    await other.emit({ eventType: 'track_modified', trackId: 't2' });
    await here.stats();
    await pause(20);
    expect(heard).toEqual(['remote track_modified']);
    await here.close();
    await other.close();
  });

  it("the watchers hear another tab's set whose message is on its way as the page's worker dies (the next one starts at once)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name) });
    // The other tab's hint of its write goes out; the page's worker dies before the page's channel has it.
    let dieAsItPosts = false;
    const { cache: other } = await engineTab({
      name,
      indexedDB,
      openChannel: postingChannel(name, (message, send) => {
        send(message);
        if (dieAsItPosts && (message as { kind?: string }).kind === 'changed') (dieAsItPosts = false), workers[0]!.kill();
      }),
    });
    const seen: string[] = [];
    here.watch('track_metadata', 'k', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    dieAsItPosts = true;
    await other.set('track_metadata', 'k', 1);
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(50);
    expect(seen).toEqual(['remote set']);
    await here.close();
    await other.close();
  });

  it("the watchers hear another tab's set told to a worker whose engine, still opening (a third connection holds the log), then dies: the next worker tells it", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    await other.stats();
    const log = holdStore(indexedDB, name);
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name) });
    const seen: string[] = [];
    here.watch('track_metadata', null, ({ kind, keys, source }: CacheChange) => void seen.push(`${source} ${kind} ${keys}`));
    // The engine asked for its channel, and waits for the log: the page's relay tells it the hint, which waits behind its start.
    await pause(50);
    await other.set('track_metadata', 'song', 'Song');
    await pause(50);
    expect(seen).toEqual([]);
    workers[0]!.kill();
    await log.release();
    await here.stats();
    await vi.waitFor(() => expect(seen).toEqual(['remote set song']));
    expect(workers).toHaveLength(2);
    await here.close();
    await other.close();
  });

  it("a page without IndexedDB whose worker dies: its next worker does not tell the watchers again what the dead one told them of another tab's changes (its engine opened, it said so)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other, clock } = await openCache({ name, indexedDB });
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB: brokenFactory(), pageChannel: pageChannel(name), direct: false });
    const seen: string[] = [];
    here.watch('track_metadata', null, ({ kind, keys, source }: CacheChange) => void seen.push(`${source} ${kind} ${keys}`));
    await here.stats();
    await other.set('track_metadata', 'a', 'A', { ttlSeconds: 1 });
    clock.advance(2000);
    expect(await other.get('track_metadata', 'a')).toBeUndefined();
    await vi.waitFor(() => expect(seen).toEqual(['remote set a', 'remote expire a']));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(50);
    // Its memory tier died with it (the persistent types were kept there): heard as a clear, and nothing again.
    expect(seen).toEqual(['remote set a', 'remote expire a', 'remote clear null']);
    await here.close();
    await other.close();
  });

  it("the watchers hear another tab's set and delete made while the page waits to replace a worker that died again soon after its replacement started", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name), restartAfterMs: 60_000 });
    const { cache: other } = await openCache({ name, indexedDB });
    const seen: string[] = [];
    here.watch('track_metadata', 'k', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // Dead again at once: the next worker starts in 60 s, or with the next call; the other tab writes meanwhile.
    workers[1]!.kill();
    await pause(20);
    await other.set('track_metadata', 'k', 1);
    await other.delete('track_metadata', 'k');
    await pause(20);
    expect(workers).toHaveLength(2);
    await here.stats();
    await vi.waitFor(() => expect(seen).toEqual(['remote set', 'remote delete']));
    await here.close();
    await other.close();
  });

  it.each(['dies while its engine opens', 'dies again soon after its replacement started (the page waits to replace it)'] as const)(
    'a malformed message another tab posts while the worker %s is counted in stats().droppedMessages, once',
    async (when) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const { held, release } = hold();
      let opens = 0;
      const opensHang = when === 'dies while its engine opens';
      const { cache: here, workers } = await openRemoteCache({
        name,
        indexedDB,
        pageChannel: pageChannel(name),
        restartAfterMs: 60_000,
        // The first worker's open hangs (its IndexedDB blocked, say) until it is killed.
        opening: () => (opensHang && opens++ === 0 ? held : Promise.resolve()),
      });
      if (!opensHang) {
        workers[0]!.kill();
        await vi.waitFor(() => expect(workers).toHaveLength(2));
        // Dead again at once: the next worker starts in 60 s, or with the next call.
        workers[1]!.kill();
        await pause(20);
      }
      // Another deploy's tab (or anything on the channel) posts what no version of Reprise sends.
      const garbage = new BroadcastChannel(name);
      garbage.postMessage({ v: 1, kind: 'nonsense' });
      await pause(20);
      garbage.close();
      if (opensHang) {
        workers[0]!.kill();
        release();
        await vi.waitFor(() => expect(workers).toHaveLength(2));
      }
      expect((await here.stats()).droppedMessages).toBe(1);
      await here.close();
    },
  );

  it("the watchers hear another tab's set and delete made while the page waits to replace its worker, after a call's worker could not start meanwhile (its script did not load)", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    let loads = true;
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, pageChannel: pageChannel(name), restartAfterMs: 60_000, loads: () => loads });
    const { cache: other } = await openCache({ name, indexedDB });
    const seen: string[] = [];
    here.watch('track_metadata', 'k', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    workers[1]!.kill();
    await pause(20);
    // Offline: a call during the back-off starts a worker whose script does not load.
    loads = false;
    expect((await rejection(here.stats())).code).toBe('worker_failed');
    await other.set('track_metadata', 'k', 1);
    await other.delete('track_metadata', 'k');
    await pause(20);
    loads = true;
    await here.stats();
    await vi.waitFor(() => expect(seen).toEqual(['remote set', 'remote delete']));
    await here.close();
    await other.close();
  });

  it('a replacement worker that has the log does not tell the listeners and watchers again what a dead worker without it told them', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache: other } = await openCache({ name, indexedDB, clock });
    // The first worker cannot open IndexedDB (keeps its types in memory), the next one can.
    const { cache: here, workers } = await pageWithEngine(name, indexedDB, async () => {}, { now: clock.now, storage: (worker) => (worker === 0 ? brokenFactory() : indexedDB) });
    const heard = listen(here);
    const seen: string[] = [];
    here.watch('generic', null, ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    await here.stats();
    clock.advance(1);
    await other.emit({ eventType: 'library_sync' });
    await other.clear('generic');
    await vi.waitFor(() => expect([heard, seen]).toEqual([['remote library_sync'], ['remote clear']]));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await here.stats();
    await pause(20);
    expect([heard, seen]).toEqual([['remote library_sync'], ['remote clear']]);
    await here.close();
    await other.close();
  });
});

describe('the periodic cleanup as a worker opens', () => {
  it('a periodic cleanup whose timer fires while the engine opens does not replay to the listeners what other tabs logged before the page listened', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    await other.emit({ eventType: 'library_sync' });
    const heard: string[] = [];
    const client: ClientCallbacks = { remoteEvent: (event) => void heard.push(event.eventType), listening: () => {}, progress: () => {}, log: () => {}, changed: () => {} };
    // The cleanup's timer fires at the next turn (a short interval, a loaded machine), while the engine still
    // opens (its rollback of unfinished imports is a transaction of its own); later ones never.
    let timers = 0;
    const schedule = (run: () => void) => {
      if (timers++ === 0) setImmediate(run);
      return () => {};
    };
    const engine = await Engine.create({ name, config: tableOf(new SmartCacheConfig({})), indexedDB, cloneValues: false, logger: { error: vi.fn() }, client, schedule, tab: new PageTab().open });
    await engine.stats();
    await other.emit({ eventType: 'track_modified', trackId: 't2' });
    await engine.stats();
    expect(heard).toEqual(['track_modified']);
    await engine.close();
    await other.close();
  });
});
