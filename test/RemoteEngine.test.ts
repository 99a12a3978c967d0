import * as Comlink from 'comlink';
import { IDBFactory } from 'fake-indexeddb';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { SET_MANY_CHUNK } from '../src/CacheClient';
import { checkedChannel } from '../src/checkedChannel';
import type { EngineApi } from '../src/protocol';
import type { DirectReads } from '../src/DirectReads';
import { RemoteEngine } from '../src/RemoteEngine';
import { IDLE_PROBE_MS } from '../src/probeWorker';
import { isCacheError } from '../src/CacheError';
import { inProcessWorkers, openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { engineTab } from './support/engineTab';
import { postingChannel } from './support/postingChannel';
import { failCommit, failRequest, tabFactory } from './support/faultyIndexedDB';
import { FetchLocks } from '../src/FetchLocks';
import { SimLocks } from './simulation/SimLocks';
import { createCache } from '../src/createCache';
import { parseConfig } from '../src/configSchema';
import type { WorkerHost } from '../src/protocol';
import { Engine } from '../worker/Engine';
import { exposeEngine } from '../worker/exposeEngine';

type RemoteCache = Awaited<ReturnType<typeof openRemoteCache>>['cache'];
const entries = (count: number) => Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: index }));

describe('a worker that dies', () => {
  /** A page whose worker runs in process (its listener records the events it hears), and another tab of the same cache. */
  async function listeningTabs(options: { restartAfterMs?: number; loads?: () => boolean | Promise<boolean> } = {}) {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const { cache, workers, logger } = await openRemoteCache({ name, indexedDB, now: clock.now, ...options, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    const heard = vi.fn();
    cache.on('*', (event) => heard(event.eventType));
    return { cache, workers, logger, other, heard, clock };
  }

  it('is replaced at once, so that a page that only listens hears the other tabs again without a call of its own; not in a loop', async () => {
    const { cache, workers, logger, other, heard } = await listeningTabs();
    workers[0]!.kill();
    // (A worker is listed once its engine is open, listening to the other tabs.)
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toHaveBeenCalledWith('library_sync'));
    expect(logger.error).toHaveBeenCalledWith('Reprise: the cache worker died; starting a new one', expect.anything());
    // A second death soon after: the next worker starts 5 s later, or with the next call, not at once.
    workers[1]!.kill();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(workers).toHaveLength(2);
    expect(logger.error).toHaveBeenLastCalledWith('Reprise: the cache worker died; a new one starts in 5 s, or with the next call', expect.anything());
    await cache.stats();
    expect(workers).toHaveLength(3);
  });

  it('dead hours after its replacement started, the system clock having been set back meanwhile (an NTP correction), it is replaced at once, as any worker that lived long', async () => {
    const { cache, workers, logger, clock } = await listeningTabs();
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // The replacement lives two hours, during which the system clock is set back by three.
    clock.advance(2 * 3600_000 - 3 * 3600_000);
    workers[1]!.kill();
    const deaths = () => logger.error.mock.calls.map(([message]) => String(message)).filter((message) => message.startsWith('Reprise: the cache worker died'));
    await vi.waitFor(() => expect(deaths()).toHaveLength(2));
    expect(deaths()[1]).toBe('Reprise: the cache worker died; starting a new one');
    await vi.waitFor(() => expect(workers).toHaveLength(3));
    await cache.close();
  });

  it('dead again soon after, it is replaced later without a call (after 1, then 2, 4… times the wait): a page that only listens hears the other tabs again', async () => {
    const { cache, workers, logger, other, heard } = await listeningTabs({ restartAfterMs: 50 });
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    workers[1]!.kill();
    await vi.waitFor(() => expect(logger.error).toHaveBeenLastCalledWith('Reprise: the cache worker died; a new one starts in 0.05 s, or with the next call', expect.anything()));
    await vi.waitFor(() => expect(workers).toHaveLength(3));
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toHaveBeenCalledWith('library_sync'));
    workers[2]!.kill();
    await vi.waitFor(() => expect(logger.error).toHaveBeenLastCalledWith('Reprise: the cache worker died; a new one starts in 0.1 s, or with the next call', expect.anything()));
    await vi.waitFor(() => expect(workers).toHaveLength(4));
    // Closed while one waits to start: none starts.
    workers[3]!.kill();
    await vi.waitFor(() => expect(logger.error).toHaveBeenLastCalledWith('Reprise: the cache worker died; a new one starts in 0.2 s, or with the next call', expect.anything()));
    await cache.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(workers).toHaveLength(4);
  });

  it('whose replacement cannot start (its script did not load: offline, a deploy that removed it) is replaced again later without a call: a page that only listens hears the other tabs again once it loads', async () => {
    let loads = true;
    let refused = 0;
    const { cache, workers, logger, other, heard } = await listeningTabs({ restartAfterMs: 50, loads: () => loads || (refused++, false) });
    loads = false;
    workers[0]!.kill();
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith('Reprise: the cache worker died; starting a new one', expect.anything()));
    // The network is back once the replacement could not load: the next replacement loads.
    await vi.waitFor(() => expect(refused).toBeGreaterThan(0));
    loads = true;
    await vi.waitFor(() => expect(workers).toHaveLength(2), { timeout: 2000 });
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toHaveBeenCalledWith('library_sync'));
    await cache.close();
  });

  it('whose replacement is due while a call starts one that then cannot start (its script fails to load, slowly) is replaced again later without a call', async () => {
    let loads: boolean | Promise<boolean> = true;
    const { cache, workers, logger, other, heard } = await listeningTabs({ restartAfterMs: 50, loads: () => loads });
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    // Dead again soon after: the next one is due in 50 ms.
    workers[1]!.kill();
    await vi.waitFor(() => expect(logger.error).toHaveBeenLastCalledWith('Reprise: the cache worker died; a new one starts in 0.05 s, or with the next call', expect.anything()));
    // Offline meanwhile: a call starts a worker whose script fails to load 200 ms later, after the replacement was due.
    loads = new Promise((resolve) => setTimeout(() => resolve(false), 200));
    expect(isCacheError(await rejection(cache.stats()), 'worker_failed')).toBe(true);
    // The network is back: the next replacement loads.
    loads = true;
    await vi.waitFor(() => expect(workers).toHaveLength(3), { timeout: 2000 });
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toHaveBeenCalledWith('library_sync'));
    await cache.close();
  });

  it('its replacement replays to the listeners, once, what other tabs logged while no worker ran; this page’s own changes stay its own', async () => {
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
    // Made by the second worker, logged as this page's.
    await here.emit({ eventType: 'track_removed', trackId: 'mine' });
    // Dead again within 5 s: no worker until the next call, while the other tab emits twice.
    workers[1]!.kill();
    await other.emit({ eventType: 'track_modified', trackId: 't1' });
    await other.emit({ eventType: 'manual_invalidation' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(workers).toHaveLength(2);
    await here.stats();
    const expected = ['remote library_sync', 'local track_removed', 'remote track_modified', 'remote manual_invalidation'];
    await vi.waitFor(() => expect(heard).toEqual(expected));
    await other.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(heard).toEqual([...expected, 'remote library_sync']));
  });

  it.each([
    ['', 0],
    [' after a thousand more', 1000],
  ])('its replacement does not tell the listeners again what the dead worker told them, when that change’s message comes late%s', async (_, more) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: here, workers } = await openRemoteCache({ name, indexedDB, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) } });
    // The other tab's messages, kept to deliver one again: late, or twice, as a channel may.
    const posted: unknown[] = [];
    const { cache: other } = await engineTab({
      name,
      indexedDB,
      openChannel: postingChannel(name, (message, send) => (posted.push(message), send(message))),
    });
    const heard: string[] = [];
    here.on('*', (event, { source }) => heard.push(`${source} ${event.eventType}`));
    await other.emit({ eventType: 'library_sync' });
    // A bulk of other events after it (an app's sync emitting one per track), all heard: more than the page keeps ids of.
    for (let index = 0; index < more; index++) await other.emit({ eventType: 'track_modified', trackId: `t${index}` });
    await vi.waitFor(() => expect(heard).toHaveLength(1 + more));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    const late = new BroadcastChannel(name);
    late.postMessage(posted.find((message) => (message as { kind: string }).kind === 'event'));
    late.close();
    await other.emit({ eventType: 'track_removed', trackId: 't1' });
    await vi.waitFor(() => expect(heard).toHaveLength(2 + more));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard.filter((told) => told === 'remote library_sync')).toHaveLength(1);
    expect(heard.at(-1)).toBe('remote track_removed');
  }, 60_000);

  it('fails the pending calls with worker_failed, and the next call starts a new worker', async () => {
    // Every read through the worker (a hit the page reads itself needs no worker: see DirectReads.test).
    const { cache, workers } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now, direct: false });
    await cache.set('track_metadata', 'k', 1);
    const pending = cache.get('track_metadata', 'k');
    workers[0]!.kill();
    expect(await rejection(pending)).toMatchObject({ code: 'worker_failed' });
    expect(await cache.get('track_metadata', 'k')).toBe(1);
    expect(workers).toHaveLength(2);
  });

  it("its counts in stats() carry over to the next worker, as of the dead one's last stats() (a dashboard's hit count does not drop)", async () => {
    const { cache, workers } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now, direct: false });
    await cache.set('track_metadata', 'k', 1);
    await cache.set('generic', 'k', 1);
    await cache.get('track_metadata', 'k');
    await cache.get('track_metadata', 'gone');
    await cache.get('generic', 'k');
    const counts = (stats: Awaited<ReturnType<RemoteCache['stats']>>) => ({
      track_metadata: [stats.types.track_metadata.hits, stats.types.track_metadata.misses],
      generic: [stats.types.generic.hits, stats.types.generic.misses],
    });
    const seen = await cache.stats();
    expect(counts(seen)).toEqual({ track_metadata: [1, 1], generic: [1, 0] });
    // What the caller does with its answer changes nothing of what carries over.
    seen.types.track_metadata.hits = 100;
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers).toHaveLength(2));
    await cache.get('track_metadata', 'k');
    // The persistent entry is still there; the generic one died with the worker's memory.
    await cache.get('generic', 'k');
    expect(counts(await cache.stats())).toEqual({ track_metadata: [2, 1], generic: [1, 1] });
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])(
    'between a read that found a value its schema refuses and its discard (an async schema checking it), the hit is taken back once: from the worker that counted it, or from the counts carried over when a stats() in between carried it; hits never go below zero (direct reads %s, stats() in between %s)',
    async (direct, statsBetween) => {
      const name = uniqueName();
      const indexedDB = new IDBFactory();
      const clock = fakeClock();
      // Another tab, whose app has no schema, stored a value this one's refuses.
      const { cache: other } = await openCache({ name, indexedDB, clock });
      await other.set('track_metadata', 'k', 'not a number');
      let checked!: () => void;
      const checking = new Promise<void>((resolve) => (checked = resolve));
      let answered!: () => void;
      const checkingStarted = new Promise<void>((resolve) => (answered = resolve));
      const validate = async (value: unknown) => (answered(), await checking, typeof value === 'number' ? { value } : { issues: [{ message: 'a number expected' }] });
      const { cache, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, direct, schemas: { track_metadata: { '~standard': { version: 1, vendor: 'test', validate } } } });
      const read = cache.get('track_metadata', 'k');
      // The read is answered (its hit counted), then its worker dies before the page has checked the value.
      await checkingStarted;
      if (direct) await cache.has('generic', 'x');
      // A dashboard's stats() now counts that hit, which carries over to the next worker.
      if (statsBetween) expect((await cache.stats()).types.track_metadata.hits).toBe(1);
      workers[0]!.kill();
      await vi.waitFor(() => expect(workers).toHaveLength(2));
      checked();
      expect(await read).toBeUndefined();
      const { hits, misses, corrupt } = (await cache.stats()).types.track_metadata;
      expect({ hits, misses, corrupt }).toEqual({ hits: 0, misses: 1, corrupt: 1 });
    },
  );

  it.each(['track_metadata', 'generic'] as const)(
    '%s: between two chunks of a setMany, the call rejects with worker_failed and writes none of it',
    async (type) => {
      let stages = 0;
      const { cache, workers } = await openRemoteCache({
        name: uniqueName(),
        indexedDB: new IDBFactory(),
        now: fakeClock().now,
        // The first chunk of entries reaches the worker (after the empty one that begins the batch), which dies before the second is sent.
        beforeCall: (method, args, worker) => {
          if (method === 'stage' && (args[2] as unknown[]).length && ++stages === 1) setImmediate(() => worker.kill());
        },
      });
      const batch = entries(3 * SET_MANY_CHUNK);
      const error = await rejection(cache.setMany(type, batch));
      expect(error).toMatchObject({ code: 'worker_failed' });
      expect(workers.length).toBeGreaterThan(1);
      expect(await cache.getMany(type, batch.map((entry) => entry.key))).toEqual(batch.map(() => undefined));
      expect((await cache.stats()).types[type].entries).toBe(0);
    },
  );

  it('as the empty first chunk of a setMany reaches it (the one that begins the batch, none of its entries yet), the call rejects with worker_failed and writes none of it', async () => {
    const { cache, workers } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      beforeCall: (method, args, worker) => {
        if (method === 'stage' && !(args[2] as unknown[]).length && workers.length === 1) worker.kill();
      },
    });
    const batch = entries(SET_MANY_CHUNK + 1);
    expect(await rejection(cache.setMany('album_year', batch))).toMatchObject({ code: 'worker_failed' });
    expect(workers.length).toBe(2);
    expect((await cache.stats()).types.album_year.entries).toBe(0);
  });

  it('between a setMany’s last chunk and its commit, the commit does not resolve on a worker that never saw the chunks', async () => {
    let stages = 0;
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      beforeCall: (method, args, worker) => {
        if (method === 'stage' && (args[2] as unknown[]).length && ++stages === 2) setImmediate(() => worker.kill());
      },
    });
    const batch = entries(2 * SET_MANY_CHUNK + 1);
    expect(await rejection(cache.setMany('album_year', batch))).toMatchObject({ code: 'worker_failed' });
    expect((await cache.stats()).types.album_year.entries).toBe(0);
  });

  it('a write made while its replacement loads stores the values as they were when it was made, not as the caller changed them right after (as with a live worker)', async () => {
    let loads: boolean | Promise<boolean> = true;
    const { cache, workers } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now, loads: () => loads });
    let loaded!: (loads: boolean) => void;
    // A slow network: the replacement's script takes a while.
    loads = new Promise((resolve) => (loaded = resolve));
    workers[0]!.kill();
    await vi.waitFor(() => expect(workers[0]!.dead).toBe(true));
    // Not awaited: the caller goes on with its values (a form's state, a list it builds) at once.
    const value = { title: 'as given' };
    const setting = cache.set('track_metadata', 'k', value);
    value.title = 'changed after';
    const batch = [{ key: 'm', value: { n: 1 } }];
    const many = cache.setMany('track_metadata', batch);
    batch[0]!.value.n = 2;
    loaded(true);
    await Promise.all([setting, many]);
    expect(await cache.getMany('track_metadata', ['k', 'm'])).toEqual([{ title: 'as given' }, { n: 1 }]);
    await cache.close();
  });
});

describe('a page hidden while no worker runs', () => {
  it('starts none (suspend resolves: there is nothing to stop); the next call starts one', async () => {
    // Workers that only count what they are asked, and die when told.
    const started: { suspended: number; kill: () => void }[] = [];
    const connect = async () => {
      let fail!: (error: Error) => void;
      const died = new Promise<never>((_, reject) => (fail = reject));
      died.catch(() => {});
      const worker = { suspended: 0, kill: () => fail(Object.assign(new Error('The cache worker stopped'), { name: 'CacheError', code: 'worker_failed' })) };
      started.push(worker);
      const engine = new Proxy({} as EngineApi, { get: (_, method) => async () => void (method === 'suspend' && worker.suspended++) });
      return { engine, died, terminate: () => worker.kill() };
    };
    const engine = await RemoteEngine.start({ connect, logger: { error: vi.fn() } });
    started[0]!.kill();
    await vi.waitFor(() => expect(started).toHaveLength(2));
    // Dead again soon after: the next starts 5 s later, or with the next call.
    started[1]!.kill();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toHaveLength(2);
    // pagehide (or freeze): the page is going away, or into the back/forward cache.
    await engine.suspend();
    expect(started).toHaveLength(2);
    await engine.stats();
    expect(started).toHaveLength(3);
    await engine.close();
  });
});

describe('a worker that dies after a write committed, before it answered', () => {
  it.each([
    ['one step', 10],
    ['several chunks', 2 * SET_MANY_CHUNK + 1],
  ])('a persistent setMany (%s) resolves, since it happened; the entries are there', async (_what, count) => {
    const { cache, workers } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      afterCall: (method, _args, worker) => {
        if (method === 'setMany' || method === 'commit') worker.kill();
      },
    });
    const batch = entries(count);
    await cache.setMany('album_year', batch);
    expect(workers.length).toBeGreaterThan(1);
    expect((await cache.stats()).types.album_year.entries).toBe(count);
  });

  it('so does a persistent set', async () => {
    const { cache, workers } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      afterCall: (method, _args, worker) => {
        if (method === 'setMany') worker.kill();
      },
    });
    await cache.set('track_metadata', 'k', 'v');
    expect(workers.length).toBe(2);
    expect(await cache.get('track_metadata', 'k')).toBe('v');
  });

  it('when the next worker cannot open IndexedDB (it keeps the types in memory), it cannot tell: the setMany rejects with worker_failed saying so, not as if nothing were written', async () => {
    const name = uniqueName();
    const inner = new IDBFactory();
    const tab = tabFactory(inner);
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: tab.factory,
      now: fakeClock().now,
      direct: false,
      afterCall: (method, _args, worker) => {
        if (method !== 'commit') return;
        // IndexedDB refuses this page from now on (another tab opened a newer version, say): the next worker keeps its types in memory.
        tab.refuse('VersionError');
        worker.kill();
      },
    });
    const batch = entries(2 * SET_MANY_CHUNK + 1);
    const error = await rejection(cache.setMany('album_year', batch));
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toMatch(/unknown if the write landed/);
    expect((await cache.stats()).types.album_year.storage).toBe('memory');
    expect(workers).toHaveLength(2);
    // It was: the shared data holds every entry.
    const { cache: other } = await openCache({ name, indexedDB: inner });
    expect((await other.stats()).types.album_year.entries).toBe(batch.length);
  });

  /** A tab whose worker dies once `method` has happened there, IndexedDB refusing this page from then on: its next worker keeps the types in memory. */
  async function openRefused(method: string, when: 'before' | 'after' = 'after') {
    const name = uniqueName();
    const inner = new IDBFactory();
    const tab = tabFactory(inner);
    const kill = (called: string, worker: { kill(): void }) => {
      if (called !== method || workers.indexOf(worker as (typeof workers)[number]) !== 0) return;
      tab.refuse('VersionError');
      worker.kill();
    };
    // The calls that reached the next worker, by method.
    const retried = new Map<string, number>();
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: tab.factory,
      now: fakeClock().now,
      direct: false,
      engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) },
      beforeCall: (called, _args, worker) => {
        if (workers.indexOf(worker) === 1) retried.set(called, (retried.get(called) ?? 0) + 1);
        if (when === 'before') kill(called, worker);
      },
      ...(when === 'after' && { afterCall: (called: string, _args: unknown[], worker: { kill(): void }) => kill(called, worker) }),
    });
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    const { cache: other } = await openCache({ name, indexedDB: inner });
    return { cache, other, workers, retried };
  }

  // That worker answers for itself: it is not dead, and asking it again (3 more times, each applied to its memory tier and published) tells nothing more.
  it.each([
    ['deleteMany', (cache: RemoteCache) => cache.delete('track_metadata', 'k')],
    ['emit', (cache: RemoteCache) => cache.emit({ eventType: 'track_removed', trackId: 't1' })],
  ] as const)('when the next worker cannot open IndexedDB, the retry of a change that happened (%s) reaches it once: its own worker_failed is not a death', async (method, call) => {
    const { cache, workers, retried } = await openRefused(method);
    expect(await rejection(call(cache))).toMatchObject({ code: 'worker_failed' });
    expect(workers).toHaveLength(2);
    expect(retried.get(method)).toBe(1);
  });

  it('when the next worker cannot open IndexedDB, a delete that happened rejects with worker_failed saying it cannot tell, not false (nothing deleted)', async () => {
    const { cache, other, workers } = await openRefused('deleteMany');
    const error = await rejection(cache.delete('track_metadata', 'k'));
    expect(workers).toHaveLength(2);
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toMatch(/unknown if/);
    // It was: the shared data no longer has it.
    expect(await other.has('track_metadata', 'k')).toBe(false);
  });

  it('when the next worker cannot open IndexedDB, an emit that happened rejects with worker_failed saying it cannot tell, not a report of nothing invalidated', async () => {
    const { cache, other, workers } = await openRefused('emit');
    const heard = vi.fn();
    cache.on('track_removed', (_event, { invalidated }) => heard(invalidated));
    const error = await rejection(cache.emit({ eventType: 'track_removed', trackId: 't1' }));
    expect(workers).toHaveLength(2);
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toMatch(/unknown if/);
    expect(heard).not.toHaveBeenCalled();
    // It was: the shared data no longer has the track's entry.
    expect(await other.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']);
  });

  it('when the next worker cannot open IndexedDB, an emit whose worker died before it reached it still reaches the shared data, through a tab that has IndexedDB', async () => {
    const { cache, other, workers } = await openRefused('emit', 'before');
    const error = await rejection(cache.emit({ eventType: 'track_removed', trackId: 't1' }));
    expect(workers).toHaveLength(2);
    expect(error).toMatchObject({ code: 'worker_failed' });
    // The other tab logged it (as any change of a tab without IndexedDB), and removed the track's entry.
    await vi.waitFor(async () => expect(await other.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']));
  });

  it('when the next worker loses IndexedDB for good during the retry of a deleteMany that happened, it rejects with worker_failed saying it cannot tell, not 0 (nothing deleted)', async () => {
    const name = uniqueName();
    const inner = new IDBFactory();
    const tab = tabFactory(inner);
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: tab.factory,
      now: fakeClock().now,
      direct: false,
      afterCall: (called, _args, worker) => {
        if (called === 'deleteMany' && workers.indexOf(worker) === 0) worker.kill();
      },
      beforeCall: (called, _args, worker) => {
        // The next worker opened IndexedDB; as the retry reaches it, the browser closes its connection and refuses it from then on.
        if (called !== 'deleteMany' || workers.indexOf(worker) !== 1) return;
        tab.refuse('VersionError');
        tab.loseConnection();
      },
    });
    await cache.setMany('track_metadata', [{ key: 'k', value: 'v' }]);
    const { cache: other } = await openCache({ name, indexedDB: inner });
    const outcome = await cache.deleteMany('track_metadata', ['k']).catch((error: unknown) => error);
    expect(workers).toHaveLength(2);
    // It happened: the shared data no longer has it.
    expect(await other.has('track_metadata', 'k')).toBe(false);
    expect(outcome).toMatchObject({ code: 'worker_failed', message: expect.stringMatching(/unknown if/) });
  });

  // Offline: each worker after the dead one fails to load, so none can say whether the change happened; it did.
  it.each([
    ['set', 'setMany', (cache: RemoteCache) => cache.set('track_metadata', 'k', 'new'), 'new'],
    ['delete', 'deleteMany', (cache: RemoteCache) => cache.delete('track_metadata', 'k'), undefined],
  ] as const)('when the next workers cannot start (their script does not load), a %s that happened rejects with worker_failed saying it is unknown whether it happened, not only that a worker could not start', async (_name, method, call, after) => {
    let [armed, loads] = [false, true];
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      loads: () => loads,
      afterCall: (called, _args, worker) => {
        if (called !== method || !armed) return;
        [armed, loads] = [false, false];
        worker.kill();
      },
    });
    await cache.setMany('track_metadata', [{ key: 'k', value: 'old' }]);
    armed = true;
    const error = await rejection(call(cache));
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toMatch(/whether it happened could not be learnt/);
    loads = true;
    expect(await cache.get('track_metadata', 'k')).toBe(after);
    await cache.close();
  });

  it('a memory-type setMany rejects with worker_failed: its entries died with the worker', async () => {
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      afterCall: (method, _args, worker) => {
        if (method === 'setMany') worker.kill();
      },
    });
    expect(await rejection(cache.setMany('generic', entries(10)))).toMatchObject({ code: 'worker_failed' });
    expect((await cache.stats()).types.generic.entries).toBe(0);
  });
});

describe.each(['after', 'before'] as const)('a worker that dies %s applying a deleteMany, a clear or an emit (before it answered)', (when) => {
  /** A tab whose first worker dies at `method`'s first call; a second tab of the same cache listening. */
  async function open(method: string) {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    let killed = false;
    const kill = (called: string, worker: { kill(): void }) => {
      if (called !== method || killed) return;
      killed = true;
      worker.kill();
    };
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      now: clock.now,
      engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) },
      [when === 'after' ? 'afterCall' : 'beforeCall']: (called: string, _args: unknown[], worker: { kill(): void }) => kill(called, worker),
    });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    return { cache, other, workers };
  }

  it('deleteMany resolves with the count removed, once; the entry is gone', async () => {
    const { cache, workers } = await open('deleteMany');
    expect(await cache.deleteMany('track_metadata', ['k', 'missing'])).toBe(1);
    expect(workers).toHaveLength(2);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']);
    expect((await cache.stats()).types.track_metadata).toMatchObject({ entries: 1 });
  });

  it('clear resolves; the type is empty', async () => {
    const { cache, other, workers } = await open('clear');
    await cache.clear('track_metadata');
    expect(workers).toHaveLength(2);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, undefined]);
    expect(await other.has('track_metadata', 'kept')).toBe(false);
  });

  it('emit resolves with its report; the listeners of this tab and of the other run once', async () => {
    const { cache, other, workers } = await open('emit');
    const [here, there] = [vi.fn(), vi.fn()];
    cache.on('track_removed', (_event, { invalidated }) => here(invalidated));
    other.on('track_removed', (_event, { invalidated }) => there(invalidated));
    const report = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(report.invalidated.track_metadata).toBe(1);
    expect(workers).toHaveLength(2);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']);
    // The other tab hears of it from the message or from the log, once whichever worker sent it.
    await other.get('track_metadata', 'kept');
    await vi.waitFor(() => expect(there).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(here.mock.calls).toEqual([[report.invalidated]]);
    expect(there).toHaveBeenCalledTimes(1);
  });
});

describe('an emit whose worker answered a stats() counting it, then died before the emit answered', () => {
  it('is counted once in stats().invalidations: the stats() waits for the emit it counts to have answered', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // The emit's answer waits for the page's answer to the report of an older event of another tab, which travels back on a port of its own.
    const { cache, workers } = await openRemoteCache({ name, indexedDB, engine: { openChannel: checkedChannel(() => new BroadcastChannel(name)) }, remoteEventAnswerDelayMs: 100 });
    const { cache: other } = await openCache({ name, indexedDB });
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    let emitted: Promise<unknown> | undefined;
    let counted: Promise<unknown> | undefined;
    cache.on('track_added', () => {
      counted = cache.stats().then((stats) => {
        // The worker dies as the stats() answers, before the emit does.
        workers[0]!.kill();
        return stats.types.track_metadata.invalidations;
      }, String);
      // Made as the stats() there has read where the log is, and not yet what the type holds.
      emitted = (async () => {
        for (let turn = 0; turn < 10; turn++) await null;
        return cache.emit({ eventType: 'track_removed', trackId: 't1' });
      })();
    });
    await other.emit({ eventType: 'track_added', trackId: 'x' });
    await vi.waitFor(() => expect(emitted).toBeDefined());
    expect(await emitted).toMatchObject({ invalidated: { track_metadata: 1 } });
    expect(await counted).toBe(1);
    expect((await cache.stats()).types.track_metadata.invalidations).toBe(1);
    expect(workers).toHaveLength(2);
  });
});

describe.each(['before', 'after'] as const)('two workers that die in a row: the first after the change happened, the next %s its retry (or its question) reached it', (when) => {
  /** A tab whose first worker dies once `method` has happened there, and whose second dies as that call's retry (or the question whether it happened) reaches it. */
  async function open(method: string, retry = method) {
    const { cache, workers } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      afterCall: (called, _args, worker) => {
        if (called === method && workers.indexOf(worker) === 0) worker.kill();
        if (when === 'after' && called === retry && workers.indexOf(worker) === 1) worker.kill();
      },
      beforeCall: (called, _args, worker) => {
        if (when === 'before' && called === retry && workers.indexOf(worker) === 1) worker.kill();
      },
    });
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    return { cache, workers };
  }

  it('emit resolves with its report; the entry is gone', async () => {
    const { cache, workers } = await open('emit');
    const heard = vi.fn();
    cache.on('track_removed', (_event, { invalidated }) => heard(invalidated));
    const report = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
    expect(report.invalidated.track_metadata).toBe(1);
    expect(workers).toHaveLength(3);
    expect(heard.mock.calls).toEqual([[report.invalidated]]);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']);
  });

  it('deleteMany resolves with the count removed', async () => {
    const { cache, workers } = await open('deleteMany');
    expect(await cache.deleteMany('track_metadata', ['k'])).toBe(1);
    expect(workers).toHaveLength(3);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, 'w']);
  });

  it('clear resolves; the type is empty', async () => {
    const { cache, workers } = await open('clear');
    await cache.clear('track_metadata');
    expect(workers).toHaveLength(3);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual([undefined, undefined]);
  });

  it('a persistent set resolves; the entry is there', async () => {
    const { cache, workers } = await open('setMany', 'committed');
    await cache.set('track_metadata', 'new', 'x');
    expect(workers).toHaveLength(3);
    expect(await cache.get('track_metadata', 'new')).toBe('x');
  });
});

describe('a worker that dies after the change happened, whose next worker fails in IndexedDB as the retry (or the question whether it happened) reaches it', () => {
  /**
   * A tab whose first worker dies once `method` has happened there; as the retry (or `retry`, the
   * question) reaches the next worker, `fault` is armed: a request or a commit of the cache's database
   * (`name`: not of a cache another test left writing its read times) that fails as browsers fail them.
   */
  async function open(method: string, fault: (name: string) => void, retry = method) {
    let armed = false;
    const name = uniqueName();
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: new IDBFactory(),
      now: fakeClock().now,
      afterCall: (called, _args, worker) => {
        if (armed && called === method && workers.indexOf(worker) === 0) worker.kill();
      },
      beforeCall: (called, _args, worker) => {
        if (armed && called === retry && workers.indexOf(worker) === 1) fault(name);
      },
    });
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    armed = true;
    return { cache, workers };
  }
  const abortAtCommit = (database: string) => void failCommit({ name: 'UnknownError', when: (tx) => tx.mode === 'readwrite', database });

  // It happened: a rejection saying storage failed would tell the app that nothing did.
  it.each([
    ['emit', (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.emit({ eventType: 'track_removed', trackId: 't1' }), [undefined, 'w']],
    ['deleteMany', (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.deleteMany('track_metadata', ['k']), [undefined, 'w']],
    ['clear', (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.clear('track_metadata'), [undefined, undefined]],
  ] as const)('%s (its retry aborts at commit with UnknownError) rejects with worker_failed, unknown whether it happened; it did', async (method, call, after) => {
    const { cache, workers } = await open(method, abortAtCommit);
    const error = await rejection(call(cache));
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('UnknownError');
    expect(workers).toHaveLength(2);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual(after);
  });

  it('a persistent set (the question whether it committed fails: its read gets UnknownError) rejects with worker_failed, unknown whether it happened; it did', async () => {
    const { cache, workers } = await open('setMany', (database) => void failRequest({ nth: 1, name: 'UnknownError', methods: ['get'], database }), 'committed');
    const error = await rejection(cache.set('track_metadata', 'new', 'x'));
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('UnknownError');
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'new')).toBe('x');
  });
});

describe('a change whose worker dies before it reaches it, and whose retry on the next worker meets a full disk twice', () => {
  /** A tab whose first worker dies as `method` reaches it (nothing happened there); as `method` reaches the next worker, its commits (those `when` selects) fail twice with QuotaExceededError. */
  async function open(method: string, when?: (tx: IDBTransaction) => boolean) {
    let armed = false;
    const clock = fakeClock();
    const name = uniqueName();
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB: new IDBFactory(),
      now: clock.now,
      beforeCall: (called, _args, worker) => {
        if (!armed || called !== method) return;
        if (workers.indexOf(worker) === 0) worker.kill();
        else if (workers.indexOf(worker) === 1) {
          armed = false;
          failCommit({ when, database: name });
          failCommit({ when, database: name });
        }
      },
    });
    // What the room made on the full disk evicts first (least recently used).
    await cache.setMany('track_metadata', Array.from({ length: 8 }, (_, index) => ({ key: `old${index}`, value: 'o'.repeat(2000) })));
    clock.advance(1000);
    await cache.setMany('track_metadata', [
      { key: 'k', value: 'v', trackId: 't1' },
      { key: 'kept', value: 'w', trackId: 't2' },
    ]);
    armed = true;
    return { cache, workers };
  }
  const logging = (tx: IDBTransaction) => tx.objectStoreNames.contains('events');

  // The retry read, in the transaction that failed, that the dead worker's change had not landed: nothing happened, and the app learns why.
  it.each([
    ['emit', logging, (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.emit({ eventType: 'track_removed', trackId: 't1' })],
    ['clear', logging, (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.clear('track_metadata')],
    ['deleteMany', undefined, (cache: Awaited<ReturnType<typeof open>>['cache']) => cache.deleteMany('track_metadata', ['k'])],
  ] as const)('%s rejects with quota_exceeded, and nothing of it happened', async (method, when, call) => {
    const { cache, workers } = await open(method, when);
    expect(await rejection(call(cache))).toMatchObject({ code: 'quota_exceeded' });
    expect(workers).toHaveLength(2);
    expect(await cache.getMany('track_metadata', ['k', 'kept'])).toEqual(['v', 'w']);
  });

  it("a getOrSet's write (not committed, the next worker says) rejects with quota_exceeded, as without the death, and stores nothing", async () => {
    const { cache, workers } = await open('setMany');
    expect(await rejection(cache.getOrSet('track_metadata', 'new', () => 'x'))).toMatchObject({ code: 'quota_exceeded' });
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'new')).toBeUndefined();
  });
});

describe('a deleteMany of an expired entry whose worker dies after applying it', () => {
  it('resolves with the count the first worker deleted: the expired entry, removed as an expiration, is not counted', async () => {
    const clock = fakeClock();
    let killed = false;
    const { cache, workers } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: clock.now,
      afterCall: (method, _args, worker) => {
        if (method !== 'deleteMany' || killed) return;
        killed = true;
        worker.kill();
      },
    });
    await cache.set('track_metadata', 'old', 'v', { ttlSeconds: 1 });
    await cache.set('track_metadata', 'live', 'w');
    clock.advance(2000);
    expect(await cache.deleteMany('track_metadata', ['old', 'live'])).toBe(1);
    expect(workers).toHaveLength(2);
    expect(await cache.delete('track_metadata', 'old')).toBe(false);
  });
});

describe('getOrSet across a worker’s death', () => {
  it('does not store in the new worker a value that an event made stale while the old one fetched it', async () => {
    const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const clock = fakeClock();
    const { cache, workers } = await openRemoteCache({ name, indexedDB, now: clock.now, config });
    const { cache: other } = await openCache({ name, indexedDB, clock, config });
    let release!: () => void;
    const fetched = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const pending = cache.getOrSet(
      'generic',
      'k',
      async () => {
        started = true;
        await fetched;
        return 'fetched';
      },
      { trackId: 't1' },
    );
    await vi.waitFor(() => expect(started).toBe(true));
    workers[0]!.kill();
    await other.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    release();
    expect(await pending).toBe('fetched');
    expect(await cache.get('generic', 'k')).toBeUndefined();
  });
});

// As set's write would reject with worker_failed (it may or may not have happened), a read-through's resolves: the fetcher
// answered, and its callers get the value; whether it is stored is then unknown, as README says.
describe.each(['before', 'after'] as const)('a read-through whose worker dies %s its write reached it, the three workers after it dying as they are asked whether it happened', (when) => {
  it('resolves with the fetched value all the same; the key holds it only if that write had committed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      [when === 'after' ? 'afterCall' : 'beforeCall']: (called: string, _args: unknown[], worker: { kill(): void }) => {
        const which = workers.indexOf(worker as (typeof workers)[number]);
        if ((called === 'setMany' && which === 0) || (called === 'committed' && which > 0 && which < 4)) worker.kill();
      },
    });
    expect(await cache.resolve('track_metadata', 'k', async () => 'fetched')).toEqual({ value: 'fetched', source: 'fetch' });
    expect(workers).toHaveLength(4);
    expect(await cache.get('track_metadata', 'k')).toBe(when === 'after' ? 'fetched' : undefined);
  });
});

describe.each(['before', 'after'] as const)('a read-through whose worker dies %s its write reached it (the value fetched)', (when) => {
  /** A tab whose first worker dies at its first setMany (the read-through's write), and another tab of the cache. */
  async function open() {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const kill = (called: string, worker: { kill(): void }) => {
      if (called === 'setMany' && workers.indexOf(worker as (typeof workers)[number]) === 0) worker.kill();
    };
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      now: clock.now,
      [when === 'after' ? 'afterCall' : 'beforeCall']: (called: string, _args: unknown[], worker: { kill(): void }) => kill(called, worker),
    });
    const { cache: other } = await openCache({ name, indexedDB, clock });
    return { cache, other, workers };
  }

  it('resolves with the fetched value, fetched once, which the next worker stores (a persistent type)', async () => {
    const { cache, other, workers } = await open();
    const fetcher = vi.fn(async () => 'fetched');
    expect(await cache.resolve('track_metadata', 'k', fetcher, { trackId: 't1' })).toEqual({ value: 'fetched', source: 'fetch' });
    expect(workers).toHaveLength(2);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await cache.get('track_metadata', 'k')).toBe('fetched');
    expect(await other.get('track_metadata', 'k')).toBe('fetched');
  });

  it('does not store a value that an event in another tab made stale while it was fetched', async () => {
    const { cache, other, workers } = await open();
    const value = await cache.getOrSet(
      'track_metadata',
      'k',
      async () => {
        await other.emit({ eventType: 'track_modified', trackId: 't1' });
        return 'fetched';
      },
      { trackId: 't1' },
    );
    expect(value).toBe('fetched');
    expect(workers).toHaveLength(2);
    expect(await cache.get('track_metadata', 'k')).toBeUndefined();
    expect(await other.get('track_metadata', 'k')).toBeUndefined();
  });

  /** This tab (whose first worker dies at its write) and another share one fetch of `k`: `leader`'s resolve makes it, the other's waits on it. */
  async function fetchedOnceForBoth(type: 'track_metadata' | 'generic', leader: 'this' | 'other') {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const locks = new SimLocks();
    const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
    const kill = (called: string, worker: { kill(): void }) => {
      if (called === 'setMany' && workers.indexOf(worker as (typeof workers)[number]) === 0) worker.kill();
    };
    const { cache, workers } = await openRemoteCache({
      name,
      indexedDB,
      fetchLocks: fetchLocks('a'),
      [when === 'after' ? 'afterCall' : 'beforeCall']: (called: string, _args: unknown[], worker: { kill(): void }) => kill(called, worker),
    });
    const { cache: other } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b') });
    const [fetching, waiting] = leader === 'this' ? [cache, other] : [other, cache];
    let reply!: (value: string) => void;
    const fetcher = vi.fn(() => new Promise<string>((resolve) => (reply = resolve)));
    const first = fetching.resolve(type, 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = waiting.resolve(type, 'k', fetcher);
    await vi.waitFor(async () => expect((await locks.manager('observer').query()).pending).not.toHaveLength(0));
    reply('fetched');
    expect(await first).toEqual({ value: 'fetched', source: 'fetch' });
    expect(await second).toEqual({ value: 'fetched', source: 'shared' });
    expect(workers).toHaveLength(2);
    expect(fetcher).toHaveBeenCalledTimes(1);
    return other;
  }

  it('answers another tab waiting on that fetch with the value, fetched once for both', async () => {
    const other = await fetchedOnceForBoth('track_metadata', 'this');
    expect(await other.get('track_metadata', 'k')).toBe('fetched');
  });

  it('waiting on another tab\'s fetch of a temporary type (its worker dies as it keeps the value announced), resolves with that value', async () => {
    await fetchedOnceForBoth('generic', 'other');
  });

  it('resolves with the fetched value of a temporary type', async () => {
    const { cache, workers } = await open();
    expect(await cache.getOrSet('generic', 'k', async () => 'fetched')).toBe('fetched');
    expect(workers).toHaveLength(2);
  });
});

it('a read-through whose worker died before its write does not make that write on the next worker over a set of the key called meanwhile', async () => {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  let newer: Promise<void> | undefined;
  const { cache, workers } = await openRemoteCache({
    name,
    indexedDB,
    now: fakeClock().now,
    beforeCall: (called: string, _args: unknown[], worker: { kill(): void }) => {
      const which = workers.indexOf(worker as (typeof workers)[number]);
      if (called === 'setMany' && which === 0) worker.kill();
      // The retry asks the next worker whether the write happened: the app sets the key just then.
      if (called === 'committed' && which === 1) newer ??= cache.set('track_metadata', 'k', 'newer', { trackId: 't1' });
    },
  });
  const { cache: other } = await openCache({ name, indexedDB });
  expect(await cache.resolve('track_metadata', 'k', async () => 'fetched', { trackId: 't1' })).toEqual({ value: 'fetched', source: 'fetch' });
  await newer;
  expect(workers).toHaveLength(2);
  expect(await cache.get('track_metadata', 'k')).toBe('newer');
  expect(await other.get('track_metadata', 'k')).toBe('newer');
});

describe('a worker whose death cannot be observed (no Web Locks)', () => {
  /** A connection whose engine never answers, and whose probe answers or not. */
  function silentConnection(probeAnswers: boolean) {
    let fail!: (error: Error) => void;
    const died = new Promise<never>((_, reject) => (fail = reject));
    died.catch(() => {});
    const terminate = vi.fn(() => fail(Object.assign(new Error('The cache worker was terminated'), { name: 'CacheError', code: 'worker_failed' })));
    const engine = new Proxy({} as EngineApi, { get: () => () => new Promise(() => {}) });
    const probe = () => (probeAnswers ? Promise.resolve() : new Promise<void>(() => {}));
    return { connection: { engine, died, terminate, probe }, terminate };
  }

  it('is probed when a call takes long; one that does not answer is terminated, and the call fails with worker_failed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connection, terminate } = silentConnection(false);
      const engine = await RemoteEngine.start({ connect: async () => connection, logger: { error: vi.fn() } });
      const call = engine.getMany('generic', ['k']);
      const outcome = rejection(call);
      await vi.advanceTimersByTimeAsync(6000);
      expect(terminate).toHaveBeenCalledOnce();
      expect(await outcome).toMatchObject({ code: 'worker_failed' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('one that answers the probe is left to finish its call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connection, terminate } = silentConnection(true);
      const engine = await RemoteEngine.start({ connect: async () => connection, logger: { error: vi.fn() } });
      void engine.getMany('generic', ['k']);
      await vi.advanceTimersByTimeAsync(6000);
      expect(terminate).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('one that answers the probe and then hangs (a loop that never ends) is terminated while its call still waits: the call rejects with worker_failed, as with Web Locks, instead of waiting for ever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connection, terminate } = silentConnection(true);
      let answers = true;
      connection.probe = () => (answers ? Promise.resolve() : new Promise<void>(() => {}));
      const engine = await RemoteEngine.start({ connect: async () => connection, logger: { error: vi.fn() } });
      const outcome = rejection(engine.getMany('generic', ['k']));
      await vi.advanceTimersByTimeAsync(6000);
      expect(terminate).not.toHaveBeenCalled();
      // Its thread hangs; the call, made before, still waits, and the app makes no other.
      answers = false;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(terminate).toHaveBeenCalledOnce();
      expect(await outcome).toMatchObject({ code: 'worker_failed' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('one that dies while no call waits (no error event, no lock to tell) is found by its pings and replaced, as with Web Locks: a page that only listens hears the other tabs again, and its next call is answered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      /** A connection that answers every call and probe with its name until it is `dead`: then nothing, until terminated. */
      const connectionOf = (name: string, dead: () => boolean) => {
        let fail!: (error: Error) => void;
        const died = new Promise<never>((_, reject) => (fail = reject));
        died.catch(() => {});
        const answer = () => (dead() ? new Promise<never>(() => {}) : Promise.resolve(name));
        const engine = new Proxy({} as EngineApi, { get: () => answer });
        const terminate = vi.fn(() => fail(Object.assign(new Error('The cache worker was terminated'), { name: 'CacheError', code: 'worker_failed' })));
        return { engine, died, terminate, probe: async () => void (await answer()) };
      };
      let dead = false;
      const first = connectionOf('first', () => dead);
      const connect = vi.fn().mockResolvedValueOnce(first).mockResolvedValueOnce(connectionOf('second', () => false));
      const engine = await RemoteEngine.start({ connect, logger: { error: vi.fn() } });
      expect(await engine.keys('generic')).toBe('first');
      // It dies while the page makes no call (one that only listens, on or watch).
      dead = true;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(first.terminate).toHaveBeenCalledOnce();
      expect(connect).toHaveBeenCalledTimes(2);
      expect(await engine.keys('generic')).toBe('second');
    } finally {
      vi.useRealTimers();
    }
  });

  it('is pinged while no call waits, every IDLE_PROBE_MS; one that holds its Web Lock (no probe: its death is seen through the lock) is not pinged then', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const connectionOf = (locked: boolean) => {
        const pings = vi.fn(async () => {});
        const engine = new Proxy({} as EngineApi, { get: () => async () => [] });
        return { pings, connection: { engine, died: new Promise<never>(() => {}), terminate: vi.fn(), ping: pings, ...(!locked && { probe: pings }) } };
      };
      const [locked, unlocked] = [connectionOf(true), connectionOf(false)];
      await RemoteEngine.start({ connect: async () => locked.connection, logger: { error: vi.fn() } });
      await RemoteEngine.start({ connect: async () => unlocked.connection, logger: { error: vi.fn() } });
      await vi.advanceTimersByTimeAsync(6 * IDLE_PROBE_MS);
      expect(locked.pings).not.toHaveBeenCalled();
      expect(unlocked.pings).toHaveBeenCalledTimes(6);
      expect([locked.connection.terminate, unlocked.connection.terminate].map((terminate) => terminate.mock.calls.length)).toEqual([0, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a long-lived one, probed at each slow call, keeps nothing of those calls waiting on its death (what waits on it does not grow with them)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // Its death, counting what waits on it (each then, catch or race taken of it).
      const died = new Promise<never>(() => {});
      let waits = 0;
      const then = died.then.bind(died);
      died.then = ((...args: Parameters<typeof then>) => (waits++, then(...args))) as typeof died.then;
      // Every call answers, past the time a call waits before its worker is probed; the probe is answered at once.
      const engine = new Proxy({} as EngineApi, { get: () => () => new Promise((resolve) => setTimeout(() => resolve([undefined]), 2500)) });
      const connection = { engine, died, terminate: vi.fn(), probe: () => Promise.resolve() };
      const remote = await RemoteEngine.start({ connect: async () => connection, logger: { error: vi.fn() } });
      const slowCall = async () => {
        const call = remote.getMany('generic', ['k']);
        await vi.advanceTimersByTimeAsync(2500);
        expect(await call).toEqual([undefined]);
      };
      await slowCall();
      const afterOne = waits;
      for (let index = 0; index < 50; index++) await slowCall();
      expect(connection.terminate).not.toHaveBeenCalled();
      expect(waits - afterOne).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('reads the page answers itself', () => {
  it('a getMany of a whole large library (150k hits) right after another read of its type resolves, and the worker counts every hit', async () => {
    const told: number[] = [];
    const engine = new Proxy({} as EngineApi, {
      get: (_, method) => (method === 'touched' ? async (_type: string, reads: string[][]) => void told.push(reads.reduce((hits, keys) => hits + keys.length, 0)) : async () => {}),
    });
    const died = new Promise<never>(() => {});
    const connection = { engine, died, terminate: () => {}, storage: () => 'indexeddb' as const, opened: Promise.resolve() };
    // A page read of plain hits only, as DirectReads answers one (what IndexedDB holds is not this test's).
    const direct = {
      reads: () => true,
      read: async (_type: string, keys: readonly string[]) => keys.map(() => ({ value: 1, revision: 1 })),
      record: () => {},
      warm: () => {},
      close: () => {},
    } as unknown as DirectReads;
    const remote = await RemoteEngine.start({ connect: async () => connection, logger: { error: vi.fn() }, direct });
    await remote.getMany('track_metadata', ['first']);
    const library = Array.from({ length: 150_000 }, (_, index) => `k${index}`);
    expect(await remote.getMany('track_metadata', library)).toHaveLength(150_000);
    await remote.stats();
    expect(told).toEqual([150_001]);
  });
});

it('gets of one key made together (read in one getMany) each resolve with a value of their own, as from IndexedDB and in-process: one caller changing its value changes nothing of another’s', async () => {
  const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now });
  for (const type of ['generic', 'track_metadata'] as const) {
    await cache.set(type, 'k', { tracks: ['a', 'b'] });
    const [mine, theirs] = (await Promise.all([cache.get(type, 'k'), cache.get(type, 'k')])) as { tracks: string[] }[];
    mine!.tracks.reverse();
    expect(theirs, type).toEqual({ tracks: ['a', 'b'] });
  }
});

it('values set together that share an object (one setMany: postMessage keeps it one) each come back as a value of their own, as from IndexedDB: one caller changing its value changes nothing of another key’s', async () => {
  const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now });
  for (const type of ['generic', 'track_metadata'] as const) {
    const album = { title: 'A', year: 1999 };
    await cache.setMany(type, [
      { key: 'a', value: { album } },
      { key: 'b', value: { album } },
    ]);
    const [a, b] = (await cache.getMany(type, ['a', 'b'])) as { album: { year: number } }[];
    a!.album.year = 2000;
    expect(b, type).toEqual({ album: { title: 'A', year: 1999 } });
    const [[, first], [, second]] = (await cache.entries(type)) as [[string, { album: { year: number } }], [string, { album: { year: number } }]];
    first.album.year = 2000;
    expect(second, `${type} entries`).toEqual({ album: { title: 'A', year: 1999 } });
  }
});

it('a getMany of no keys resolves with none, and asks nothing of IndexedDB or the worker', async () => {
  const calls: string[] = [];
  const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now, beforeCall: (method) => void calls.push(method) });
  await cache.set('track_metadata', 'k', 'v');
  calls.length = 0;
  expect(await cache.getMany('track_metadata', [])).toEqual([]);
  await cache.stats();
  expect(calls).toEqual(['stats']);
});

describe('inProcessWorkers', () => {
  it('copies arguments and results like postMessage', async () => {
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: fakeClock().now });
    const value = { nested: [1, 2] };
    await cache.set('generic', 'k', value);
    value.nested.push(3);
    const read = (await cache.get('generic', 'k')) as typeof value;
    expect(read).toEqual({ nested: [1, 2] });
    expect(inProcessWorkers).toBeTypeOf('function');
  });
});

describe('a long-lived worker', () => {
  it('keeps no answer of a call once its caller is done with it (nothing grows with each call while the worker lives)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() });
    let read: WeakRef<object> | undefined;
    await cache.set('generic', 'k', { tracks: Array.from({ length: 1000 }, (_, index) => `track ${index}`) });
    read = new WeakRef((await cache.get('generic', 'k')) as object);
    await cache.delete('generic', 'k');
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    expect(read.deref()).toBeUndefined();
    await cache.close();
  });
});

describe('a value nested deeper than the worker can read', () => {
  /** A cache whose real engine runs behind a MessageChannel, as in a worker: what Node posts, it may not rebuild (an object 2,000 levels deep). */
  async function behindPorts() {
    let started = 0;
    const createWorker = () => {
      started++;
      const { port1, port2 } = new MessageChannel();
      const host: WorkerHost = {
        open: async ({ name, config }, client) => exposeEngine(await Engine.create({ name, config: parseConfig(config), indexedDB: new IDBFactory(), cloneValues: false, client })),
        ping: async () => {},
      };
      Comlink.expose(host, port2);
      const worker = Object.assign(new EventTarget(), {
        postMessage: (message: unknown, transfer: Transferable[] = []) => port1.postMessage(message, transfer as never),
        terminate: () => port1.close(),
      });
      port1.onmessage = (event) => worker.dispatchEvent(new MessageEvent('message', { data: event.data }));
      return worker as unknown as Worker;
    };
    const cache = await createCache({ name: uniqueName(), worker: createWorker, logger: { error() {} } });
    return { cache, workers: () => started };
  }

  it('is refused with not_cloneable naming the limit, in every call that stores, and nothing is written; the worker and its memory tier live on', async () => {
    const { cache, workers } = await behindPorts();
    await cache.set('generic', 'kept', 'in memory');
    for (const [kind, make] of [
      ['object', (value: unknown) => ({ a: value })],
      ['array', (value: unknown) => [value]],
      // Structured cloning keeps an array's own named properties, and goes down them.
      ["array's named property", (value: unknown) => Object.assign([], { a: value })],
    ] as const) {
      let deep: unknown = 'leaf';
      for (let level = 0; level < 2000; level++) deep = make(deep);
      const calls = [
        () => cache.set('generic', 'deep', deep),
        () => cache.setMany('generic', [{ key: 'flat', value: 1 }, { key: 'deep', value: deep }]),
        // Staged in chunks: the whole batch refused.
        () => cache.setMany('generic', [...entries(2500), { key: 'deep', value: deep }]),
        () => cache.getOrSet('generic', 'deep', () => deep),
        () => cache.resolve('generic', 'deep', async () => deep),
      ];
      for (const call of calls) {
        const error = await rejection(call());
        expect([kind, error.code, error.message]).toEqual([kind, 'not_cloneable', expect.stringContaining('500 levels')]);
        expect(await cache.keys('generic')).toEqual(['kept']);
      }
    }
    expect(await cache.get('generic', 'kept')).toBe('in memory');
    expect(workers()).toBe(1);
    await cache.close();
  });
});
