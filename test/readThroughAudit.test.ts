// Read-through across tabs and events (SPEC §3b): cases an adversarial review found.
import { IDBFactory } from 'fake-indexeddb';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { FetchLocks, type FetchChannel } from '../src/FetchLocks';
import { z } from 'zod';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Cache, CacheChange, ContentType, FetcherContext, Schemas } from '../src/index';
import { SimLocks } from './simulation/SimLocks';
import { fakeClock, openCache, rejection, uniqueName } from './support/openCache';
import { engineTab } from './support/engineTab';
import { openRemoteCache } from './support/inProcessWorkers';
import { lossyChannel } from './support/lossyChannel';
import { postingChannel } from './support/postingChannel';

const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };

async function openTabs(count: number, locks = new SimLocks()) {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const fetchLocks = new FetchLocks({ name, locks: locks.manager(`tab${index}`), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
      return (await engineTab({ name, indexedDB, fetchLocks, config })).cache;
    }),
  );
}

/** Until a tab waits for a lock another tab holds: the fetch that tab is making. */
async function someoneWaits(locks: SimLocks): Promise<void> {
  await vi.waitFor(async () => expect((await locks.manager('observer').query()).pending).not.toHaveLength(0));
}

/** Until a tab holds a fetch lock: its fetch is under way. */
async function someoneFetches(locks: SimLocks): Promise<void> {
  await vi.waitFor(async () => expect((await locks.manager('observer').query()).held).not.toHaveLength(0));
}

function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

describe.each<ContentType>(['successful_api_metadata', 'generic'])('%s: a fetch an event made stale, waited on by a tab that asked after the event', (type) => {
  it('is returned to the tab that asked before the event, and never stored; the tab that asked after fetches again', async () => {
    const locks = new SimLocks();
    const [a, b] = await openTabs(2, locks);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a!.resolve(type, 'k', fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // The value being fetched is stale from here on.
    await a!.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    // Tab b asks after the event: it waits for tab a's fetch.
    const again = vi.fn(() => 'fetched again');
    const second = b!.resolve(type, 'k', again, { trackId: 't1' });
    await someoneWaits(locks);
    reply.open('fetched before the event');
    expect(await first).toEqual({ value: 'fetched before the event', source: 'fetch' });
    // Tab b asked after the event (a refetch the event caused, say): what the event made stale must not answer it.
    expect((await second).value).toBe('fetched again');
    expect(again).toHaveBeenCalledTimes(1);
    expect(await b!.get(type, 'k')).toBe('fetched again');
  });
});

describe('a fetch an event made stale while it ran', () => {
  it('tells no watcher it was set (nothing was)', async () => {
    const { cache } = await openCache({ config });
    const changes: CacheChange[] = [];
    cache.watch('generic', 'k', (change) => void changes.push(change));
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const pending = cache.getOrSet('generic', 'k', fetcher, { trackId: 't1' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalled());
    await cache.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    reply.open('stale');
    expect(await pending).toBe('stale');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await cache.has('generic', 'k')).toBe(false);
    expect(changes).toEqual([]);
  });
});

describe('a tab without IndexedDB fetching a persistent type for another tab', () => {
  it('calls the fetcher once: the other tab gets the value from it and stores it', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const locks = new SimLocks();
    const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
    // Its IndexedDB cannot be used (private mode, a newer version in another tab): it keeps album_year in memory.
    const { cache: a } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('a'), engine: { indexedDB: undefined } });
    const { cache: b } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b') });
    const reply = gate<number>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = b.resolve('album_year', 'k', fetcher);
    await someoneWaits(locks);
    reply.open(1999);
    expect(await first).toEqual({ value: 1999, source: 'fetch' });
    expect(await second).toEqual({ value: 1999, source: 'shared' });
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await b.get('album_year', 'k')).toBe(1999);
  });
});

/** Tabs a (without IndexedDB) and b share locks; tab c shares none with them (ChannelLocks whose claims crossed, say); one clock. */
async function lockApart() {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  // The clock the pages and their workers share.
  const clock = fakeClock();
  const dateNow = vi.spyOn(Date, 'now').mockImplementation(clock.now);
  onTestFinished(() => dateNow.mockRestore());
  const locks = new SimLocks();
  const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
  const engine = { now: clock.now };
  const a = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('a'), engine: { ...engine, indexedDB: undefined } });
  const { cache: b } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b'), engine });
  const { cache: c } = await engineTab({ name, indexedDB, fetchLocks: new FetchLocks({ name, locks: new SimLocks().manager('c'), openChannel: () => new BroadcastChannel(`reprise-fetch-c:${name}`) }), engine });
  return { a: a.cache, aEngine: a.engine, b, c, clock, locks };
}

// Across tabs, the store tells which of two fetches' fetchers was called later by the time each write carries (see worker/fetchRevision).
describe('a tab without IndexedDB fetching a persistent type for another tab, while a third tab (no lock shared) fetches the key too', () => {
  /** Tab a's fetcher and tab c's are called (tab a's first: `waitedOnFirst`), then tab b asks (it waits on tab a's fetch); tab a's answers first. */
  async function bothCalled(waitedOnFirst: boolean) {
    const { a, b, c, clock, locks } = await lockApart();
    const [waitedOn, other] = [gate<number>(), gate<number>()];
    const fetchers = [vi.fn(() => waitedOn.promise), vi.fn(() => other.promise)] as const;
    const call = (tab: 'a' | 'c') => (tab === 'a' ? a.resolve('album_year', 'k', fetchers[0]) : c.resolve('album_year', 'k', fetchers[1]));
    const [first, third] = waitedOnFirst ? [call('a'), undefined] : [undefined, call('c')];
    await vi.waitFor(() => expect(fetchers[waitedOnFirst ? 0 : 1]).toHaveBeenCalledTimes(1));
    clock.advance(1000);
    const calls = { a: first ?? call('a'), c: third ?? call('c') };
    await vi.waitFor(() => expect(fetchers[waitedOnFirst ? 1 : 0]).toHaveBeenCalledTimes(1));
    clock.advance(1000);
    // Tab b asks once both fetchers were called: it waits on tab a's fetch, and stores what it brings.
    const second = b.resolve('album_year', 'k', () => 3000);
    await someoneWaits(locks);
    clock.advance(1000);
    const [fromA, fromC] = waitedOnFirst ? [1999, 2001] : [2001, 1999];
    waitedOn.open(fromA);
    expect(await calls.a).toEqual({ value: fromA, source: 'fetch' });
    expect(await second).toEqual({ value: fromA, source: 'shared' });
    other.open(fromC);
    expect(await calls.c).toEqual({ value: fromC, source: 'fetch' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([await b.get('album_year', 'k'), await c.get('album_year', 'k')]).toEqual([2001, 2001]);
  }

  it('the value fetched by the fetcher called last stays, not the one the waiting tab stored from the fetch called first', () => bothCalled(true));

  it('the value fetched by the fetcher called last stays when the waiting tab took it: the third tab’s, called first and stored after, is left out', () => bothCalled(false));

  // The waiting tab reads the store under the lock before it takes a value announced (a tab without IndexedDB writes none there).
  it('tab a’s fetcher called once the third tab stored its own fetch, after the waiting tab’s mark: the waiting tab answers with the stored value, which stays (tab a’s, called last, only in its own memory)', async () => {
    const { a, aEngine, b, c, clock, locks } = await lockApart();
    // Tab a's read under the lock is answered late (its worker busy): it calls its fetcher once tab c stored.
    const read = gate<void>();
    const getMany = aEngine.getMany.bind(aEngine);
    const reads = vi.spyOn(aEngine, 'getMany').mockImplementation(async (...args) => {
      const found = await getMany(...args);
      if (reads.mock.calls.length === 2) await read.promise;
      return found;
    });
    const reply = gate<number>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(2));
    const second = b.resolve('album_year', 'k', () => 3000);
    await someoneWaits(locks);
    const heard = new Promise((resolve) => a.watch('album_year', 'k', resolve));
    clock.advance(1000);
    expect(await c.resolve('album_year', 'k', () => 2000)).toEqual({ value: 2000, source: 'fetch' });
    // Tab a hears of it before its fetcher is called (late, it would keep its value out of its memory: it cannot tell it older).
    await heard;
    clock.advance(1000);
    read.open();
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    reply.open(2001);
    expect(await first).toEqual({ value: 2001, source: 'fetch' });
    expect(await second).toEqual({ value: 2000, source: 'shared' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([await a.get('album_year', 'k'), await b.get('album_year', 'k'), await c.get('album_year', 'k')]).toEqual([2001, 2000, 2000]);
  });
});

/** Tab a without IndexedDB (its messages from other tabs lost once `lossy.lose`), tabs b and c with it; one Web Locks manager. */
async function threeTabs() {
  const name = uniqueName();
  const indexedDB = new IDBFactory();
  const locks = new SimLocks();
  const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
  const lossy = lossyChannel(name);
  const { cache: a } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('a'), openChannel: lossy.open, engine: { indexedDB: undefined } });
  const { cache: b } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b') });
  const { cache: c } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('c') });
  return { a, b, c, locks, lossy };
}

// A waiting tab's guard starts at its own call: what changed the key between the fetch's start and that call is for the
// fetching tab's guard to catch (README, No stale write-back), for the waiting tab's reads, or for the changes it noted
// (a value fetched before one it made or heard of is not taken).
describe('a tab without IndexedDB fetching a persistent type, all its messages from other tabs lost, for a tab that asks once a third tab changed the key', () => {
  it('a set: the asking tab reads it (no wait for the fetch), and it stays once the fetch answers', async () => {
    const { a, b, c, lossy } = await threeTabs();
    const reply = gate<number>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    await c.set('album_year', 'k', 2001);
    expect(await b.resolve('album_year', 'k', () => 2002)).toEqual({ value: 2001, source: 'cache' });
    reply.open(1999);
    expect(await first).toEqual({ value: 1999, source: 'fetch' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([await b.get('album_year', 'k'), await c.get('album_year', 'k')]).toEqual([2001, 2001]);
  });

  it('a delete of an entry there when the fetch started: the asking tab, which heard of it, does not take what was fetched before it, nor store it over it: it fetches again', async () => {
    const { a, b, c, locks, lossy } = await threeTabs();
    await c.set('album_year', 'k', 1990);
    const reply = gate<number>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    lossy.lose = true;
    expect(await c.delete('album_year', 'k')).toBe(true);
    const again = vi.fn(() => 2002);
    const second = b.resolve('album_year', 'k', again);
    await someoneWaits(locks);
    reply.open(1999);
    expect(await first).toEqual({ value: 1999, source: 'fetch' });
    expect(await second).toEqual({ value: 2002, source: 'fetch' });
    expect(await c.get('album_year', 'k')).toBe(2002);
  });
});

describe('album_year: a tab without IndexedDB fetching it, all its messages from other tabs lost, for a tab that asks once a third tab emitted library_sync', () => {
  it('the asking tab, which heard the event, does not take what was fetched before it: it fetches again, and stores that', async () => {
    const { a, b, c, locks, lossy } = await threeTabs();
    const reply = gate<number>();
    const first = a.resolve('album_year', 'k', () => reply.promise);
    await someoneFetches(locks);
    lossy.lose = true;
    const heard = new Promise<void>((resolve) => b.on('library_sync', () => resolve()));
    await c.emit({ eventType: 'library_sync' });
    await heard;
    const second = b.resolve('album_year', 'k', () => 2002);
    await someoneWaits(locks);
    reply.open(1999);
    expect(await first).toEqual({ value: 1999, source: 'fetch' });
    expect(await second).toEqual({ value: 2002, source: 'fetch' });
    expect(await c.get('album_year', 'k')).toBe(2002);
  });
});

describe('generic (a memory type): a tab that deleted its entry of a key once another tab began fetching it, then asks for it', () => {
  /**
   * Tab a fetches the key; once its fetcher is called, tab b (the clock `setBack` ms behind then) deletes it and asks; `slow`
   * ms after its delete (a fetcher that slow), having deleted another key meanwhile.
   */
  async function deleteWhileFetched(setBack: number, slow = 0) {
    const locks = new SimLocks();
    const [a, b] = await openTabs(2, locks);
    await b!.set('generic', 'k', 'old');
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a!.resolve('generic', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const real = Date.now;
    let shift = -setBack;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => real() + shift);
    try {
      expect(await b!.delete('generic', 'k')).toBe(true);
      shift += slow;
      if (slow) await b!.delete('generic', 'other');
      const again = vi.fn(() => 'fetched after the delete');
      const second = b!.resolve('generic', 'k', again);
      await someoneWaits(locks);
      reply.open('fetched before the delete');
      expect(await first).toEqual({ value: 'fetched before the delete', source: 'fetch' });
      expect(await second).toEqual({ value: 'fetched after the delete', source: 'fetch' });
      expect(await b!.get('generic', 'k')).toBe('fetched after the delete');
    } finally {
      clock.mockRestore();
    }
  }

  it('does not take what was fetched before its delete: it fetches again, and keeps that', () => deleteWhileFetched(0));

  // The machine's clock corrected 5 s back (both tabs read it): the delete made after the fetcher's call reads as before it.
  it('the clock set back a few seconds between the fetcher’s call and the delete (a time sync): it still does not take what was fetched before its delete', () => deleteWhileFetched(5000));

  // Tab b notes its delete, and forgets the note two minutes on, as it makes another one (memory kept small).
  it('a fetcher slower than two minutes, tab b having deleted another key since: it still does not take what was fetched before its delete', () => deleteWhileFetched(0, 121_000));
});

/** Tabs a and b sharing locks (b having run `before`); a's resolve of k has called its fetcher, which answers with what `reply` is opened with. */
async function aFetching(type: ContentType, before?: (b: Cache) => Promise<unknown>) {
  const locks = new SimLocks();
  const [a, b] = await openTabs(2, locks);
  await before?.(b!);
  const reply = gate<string>();
  const fetcher = vi.fn(() => reply.promise);
  const first = a!.resolve(type, 'k', fetcher);
  await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
  return { locks, a: a!, b: b!, reply, first };
}

describe.each<ContentType>(['album_year', 'track_metadata'])('%s: a key that held nothing as another tab began fetching it, then set and deleted (messages heard)', (type) => {
  it('the fetching tab does not store what it fetched before them, nor does the deleting tab take it: it fetches again, and keeps that', async () => {
    const { locks, a, b, reply, first } = await aFetching(type);
    await b.set(type, 'k', 'set meanwhile');
    expect(await b.delete(type, 'k')).toBe(true);
    const again = vi.fn(() => 'fetched after the delete');
    const second = b.resolve(type, 'k', again);
    await someoneWaits(locks);
    reply.open('fetched before the delete');
    expect(await first).toEqual({ value: 'fetched before the delete', source: 'fetch' });
    expect(await second).toEqual({ value: 'fetched after the delete', source: 'fetch' });
    expect(await a.get(type, 'k')).toBe('fetched after the delete');
  });

  // Told as a change of any key of the type (keys: null): no sign that this key was deleted.
  it('a deleteMany of more than 100 other keys in another tab meanwhile: what was fetched is stored, and a tab waiting on it takes it', async () => {
    const others = Array.from({ length: 101 }, (_, index) => `other${index}`);
    const { locks, a, b, reply, first } = await aFetching(type, (b) => b.setMany(type, others.map((key) => ({ key, value: 'x' }))));
    const again = vi.fn(() => 'fetched by b');
    const second = b.resolve(type, 'k', again);
    await someoneWaits(locks);
    const heard: (string[] | null)[] = [];
    a.watch(type, null, ({ kind, keys }) => void (kind === 'delete' && heard.push(keys)));
    expect(await b.deleteMany(type, others)).toBe(101);
    await vi.waitFor(() => expect(heard).toEqual([null]));
    reply.open('fetched');
    expect(await first).toEqual({ value: 'fetched', source: 'fetch' });
    expect(await second).toEqual({ value: 'fetched', source: 'shared' });
    expect(await a.get(type, 'k')).toBe('fetched');
  });

  // Set again: the key holds an entry at the mark (a forceFresh call, or a refresh, fetches it anew).
  it.each([false, true])('a delete made before the fetch started, its message reaching the fetching tab late (after its fetcher was called; then set again: %s): what was fetched is stored', async (setAgain) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const held: (() => void)[] = [];
    let holding = false;
    const { cache: remover } = await engineTab({ name, indexedDB, openChannel: postingChannel(name, (message, send) => (holding ? held.push(() => send(message)) : send(message))) });
    const { cache: fetching } = await engineTab({ name, indexedDB });
    const heard: string[] = [];
    fetching.watch(type, null, ({ kind, source }) => void heard.push(`${source} ${kind}`));
    await remover.set(type, 'k', 'old');
    await vi.waitFor(() => expect(heard).toEqual(['remote set']));
    holding = true;
    expect(await remover.delete(type, 'k')).toBe(true);
    if (setAgain) await remover.set(type, 'k', 'new');
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = fetching.resolve(type, 'k', fetcher, { forceFresh: setAgain });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    holding = false;
    for (const send of held.splice(0)) send();
    await vi.waitFor(() => expect(heard).toEqual(['remote set', 'remote delete', ...(setAgain ? ['remote set'] : [])]));
    reply.open('fetched after the delete');
    expect(await first).toEqual({ value: 'fetched after the delete', source: 'fetch' });
    expect(await remover.get(type, 'k')).toBe('fetched after the delete');
  });
});

// README, No stale write-back: a set of the key called in this tab once the fetch started is newer: the write stays.
describe.each<ContentType>(['generic', 'album_year'])('%s: a tab that sets a key while it waits on another tab’s fetch of it, once that fetch’s fetcher was called', (type) => {
  it('keeps its set (its call, read under the lock, answers it), in every tab that shares it: the fetcher runs once', async () => {
    const { locks, a, b, reply, first } = await aFetching(type);
    const again = vi.fn(() => 'fetched by b');
    const second = b.resolve(type, 'k', again);
    await someoneWaits(locks);
    await b.set(type, 'k', 'set in b');
    reply.open('fetched before the set');
    expect(await first).toEqual({ value: 'fetched before the set', source: 'fetch' });
    expect((await second).value).toBe('set in b');
    expect(again).not.toHaveBeenCalled();
    expect(await b.get(type, 'k')).toBe('set in b');
    // A memory type lives in each tab's memory: tab a keeps what it fetched; IndexedDB keeps the set for both.
    expect(await a.get(type, 'k')).toBe(type === 'generic' ? 'fetched before the set' : 'set in b');
  });

  /** Tabs a and b, b's fetch messages `late` ms late (a busy page) and its values checked by `schema`; a fetches k, b waits on it. */
  async function waitingTab(late: number, schema?: StandardSchemaV1<string>) {
    const locks = new SimLocks();
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const channel = (delay: number) => (): FetchChannel => {
      const inner = new BroadcastChannel(`reprise-fetch:${name}`);
      return {
        postMessage: (message) => inner.postMessage(message),
        addEventListener: (kind, listener) => inner.addEventListener(kind, (event) => void setTimeout(() => listener(event as MessageEvent), delay)),
        close: () => inner.close(),
      };
    };
    const tab = (index: number, delay: number, schemas?: Schemas) =>
      engineTab({ name, indexedDB, config, schemas, fetchLocks: new FetchLocks({ name, locks: locks.manager(`tab${index}`), openChannel: channel(delay) }) });
    const { cache: a } = await tab(0, 0);
    const { cache: b } = await tab(1, late, schema && { [type]: schema });
    const reply = gate<string>();
    const first = a.resolve(type, 'k', () => reply.promise);
    await someoneFetches(locks);
    const again = vi.fn(() => 'fetched by b');
    const second = b.resolve(type, 'k', again);
    await someoneWaits(locks);
    reply.open('fetched before the set');
    expect(await first).toEqual({ value: 'fetched before the set', source: 'fetch' });
    return { b, second, again, locks };
  }

  it('keeps its set when it is made once that fetch answered, its message still on its way to this tab: the value fetched before it is not kept, nor given to a call made after it', async () => {
    const { b, second, locks } = await waitingTab(40);
    // This tab holds the lock now, and reads under it (a miss) before the answer's message arrives.
    await vi.waitFor(async () => expect((await locks.manager('observer').query()).held?.map(({ clientId }) => clientId)).toEqual(['tab1']));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await b.set(type, 'k', 'set in b');
    const after = b.getOrSet(type, 'k', () => 'fetched after the set');
    await second;
    expect(await after).not.toBe('fetched before the set');
    expect(await b.get(type, 'k')).not.toBe('fetched before the set');
  });

  it('keeps its set when it is made while this tab checks that fetch’s value (an async schema): that call gets the value, which is not kept; a call made after the set gets the set', async () => {
    const checking = gate<void>();
    let checks = 0;
    const schema: StandardSchemaV1<string> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => (value === 'fetched before the set' ? (checks++, checking.promise.then(() => ({ value: value as string }))) : { value: value as string }) },
    };
    const { b, second, again } = await waitingTab(0, schema);
    await vi.waitFor(() => expect(checks).toBeGreaterThan(0));
    await b.set(type, 'k', 'set in b');
    const after = b.getOrSet(type, 'k', () => 'fetched after the set');
    checking.open();
    expect((await second).value).toBe('fetched before the set');
    expect(await after).toBe('set in b');
    expect(await b.get(type, 'k')).toBe('set in b');
    expect(again).not.toHaveBeenCalled();
  });
});

describe('stale while revalidate, while the refresh runs', () => {
  it.each(['album_year', 'generic'] as const)('%s: a second caller within the window is served the stale entry at once too, without another fetch', async (type) => {
    const { cache, clock } = await openCache({ config: { caching: { policies: { [type]: { staleWhileRevalidateSeconds: 60 } } } } });
    await cache.set(type, 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    expect(await cache.resolve(type, 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    // The API is slow: the refresh is still running.
    const second = cache.resolve(type, 'k', fetcher);
    const late = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 200));
    expect(await Promise.race([second, late])).toEqual({ value: 'old', source: 'stale' });
    reply.open('new');
    await vi.waitFor(async () => expect(await cache.get(type, 'k')).toBe('new'));
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});

describe('a value shared with another tab through the fetch channel', () => {
  async function twoTabs(locks: SimLocks, schemas: Schemas = {}) {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
    const { cache: a } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('a'), schemas });
    const { cache: b } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b'), schemas });
    return [a, b] as const;
  }

  /** a's fetcher called, b's call waiting on it; the fetch answers `value` (once for both): what each call resolved with. */
  async function fetchedByAWaitedByB(locks: SimLocks, a: Awaited<ReturnType<typeof twoTabs>>[0], b: Awaited<ReturnType<typeof twoTabs>>[1], value: string) {
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const first = a.resolve('generic', 'k', fetcher as never);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = b.resolve('generic', 'k', fetcher as never);
    await someoneWaits(locks);
    reply.open(value);
    const results = [await first, await second];
    expect(fetcher).toHaveBeenCalledTimes(1);
    return results;
  }

  it('with a transforming schema: the waiting tab gets what its schema makes of the fetched value, and stores it', async () => {
    const locks = new SimLocks();
    const [a, b] = await twoTabs(locks, { generic: z.string().transform((text) => text.length) });
    expect(await fetchedByAWaitedByB(locks, a, b, 'abcd')).toEqual([
      { value: 4, source: 'fetch' },
      { value: 4, source: 'shared' },
    ]);
    expect(await b.get('generic', 'k')).toBe(4);
  });

  it('each tab asks its schema once about the fetched value (a check that looks the value up is paid once per tab)', async () => {
    const locks = new SimLocks();
    const lookups: string[] = [];
    const lookedUp: StandardSchemaV1<string> = {
      '~standard': { version: 1, vendor: 'handmade', validate: async (value) => (lookups.push(value as string), { value: value as string }) },
    };
    const [a, b] = await twoTabs(locks, { generic: lookedUp });
    expect(await fetchedByAWaitedByB(locks, a, b, 'Song')).toEqual([
      { value: 'Song', source: 'fetch' },
      { value: 'Song', source: 'shared' },
    ]);
    expect(lookups).toEqual(['Song', 'Song']);
  });

  it('skipStore with a value that cannot be cloned: the fetching tab still gets it; the other tab fetches for itself', async () => {
    const locks = new SimLocks();
    const [a, b] = await twoTabs(locks);
    const reply = gate<unknown>();
    const fetcher = vi.fn((context: FetcherContext) => (context.skipStore(), reply.promise));
    const first = a.resolve('generic', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = b.resolve('generic', 'k', () => 'its own');
    await someoneWaits(locks);
    const handle = { close: () => {} };
    reply.open(handle);
    expect(await first).toEqual({ value: handle, source: 'fetch' });
    expect(await second).toEqual({ value: 'its own', source: 'fetch' });
  });
});

describe('a caller that aborts while its cache read is on its way', () => {
  it.each(['album_year', 'generic'] as const)('%s: rejects with aborted and leaves no fetch running (none started, or its signal aborted)', async (type) => {
    const { cache } = await openCache();
    const signals: AbortSignal[] = [];
    const fetcher = vi.fn(({ signal }: FetcherContext) => (signals.push(signal), new Promise<string>(() => {})));
    const leaving = new AbortController();
    const call = cache.resolve(type, 'k', fetcher, { signal: leaving.signal });
    leaving.abort();
    expect((await rejection(call)).code).toBe('aborted');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });
});

describe('a caller that aborts after its fetch started, before the fetcher is called', () => {
  it.each(['album_year', 'generic'] as const)('%s: rejects with aborted, and the fetcher is never called (nobody waits for it): nothing is stored', async (type) => {
    const leaving = new AbortController();
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: Date.now,
      // The caller leaves while the fetch takes its mark (the guard against stale write-back), before the fetcher runs.
      beforeCall: (method) => {
        if (method === 'mark') leaving.abort();
      },
    });
    const fetcher = vi.fn(() => 'nobody asked');
    expect((await rejection(cache.getOrSet(type, 'k', fetcher, { signal: leaving.signal }))).code).toBe('aborted');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fetcher).not.toHaveBeenCalled();
    expect(await cache.has(type, 'k')).toBe(false);
  });
});

describe('a clear while a fetch runs', () => {
  it.each(['album_year', 'generic'] as const)('%s: of this tab or another, or one caught up from the log: the value is returned, not stored', async (type) => {
    const { cache, indexedDB, name, clock } = await openCache({ config });
    const { cache: other } = await openCache({ indexedDB, name, clock, config });
    for (const clear of [() => cache.clear(type), () => other.clear(type), () => other.clear()]) {
      const reply = gate<string>();
      const fetcher = vi.fn(() => reply.promise);
      const pending = cache.getOrSet(type, 'k', fetcher);
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalled());
      await clear();
      reply.open('from before the clear');
      expect(await pending).toBe('from before the clear');
      expect(await cache.has(type, 'k')).toBe(false);
    }
  });
});

describe('forceFresh in a tab waiting on another tab’s fetch', () => {
  async function twoTabs(locks: SimLocks) {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
    const { cache: a } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('a') });
    const { cache: b } = await engineTab({ name, indexedDB, fetchLocks: fetchLocks('b') });
    return [a, b] as const;
  }

  // That fetch held the key as it asked: its request may have gone before what the caller knows changed.
  it('fetches for itself once that fetch is done, whether that fetch was not stored (skipStore) or failed: not the entry it asked to skip', async () => {
    for (const outcome of ['skipStore', 'failed'] as const) {
      const locks = new SimLocks();
      const [a, b] = await twoTabs(locks);
      await a.set('album_year', 'k', 'old');
      const reply = gate<string>();
      let fail!: (error: Error) => void;
      const fetcher = vi.fn((context: FetcherContext) =>
        outcome === 'skipStore' ? (context.skipStore(), reply.promise) : new Promise<string>((_, reject) => (fail = reject)),
      );
      const first = a.resolve('album_year', 'k', fetcher, { forceFresh: true });
      await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
      const second = b.resolve('album_year', 'k', async () => 'fetched after', { forceFresh: true });
      await someoneWaits(locks);
      if (outcome === 'skipStore') {
        reply.open('fresh');
        expect(await first).toEqual({ value: 'fresh', source: 'fetch' });
      } else {
        fail(new Error('API down'));
        expect((await rejection(first)).message).toBe('API down');
      }
      expect(await second).toEqual({ value: 'fetched after', source: 'fetch' });
      expect(await a.get('album_year', 'k')).toBe('fetched after');
    }
  });
});

describe('close() while a read-through is on its way', () => {
  it.each(['album_year', 'generic'] as const)('%s: a getOrSet whose fetcher answered before close(), its write on its way: it settles as it would have, its value stored', async (type) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    let closing: Promise<void> | undefined;
    const { cache } = await openRemoteCache({
      name,
      indexedDB,
      now: Date.now,
      // The write has left the page when close() is called.
      beforeCall: (method) => void (method === 'setMany' && (closing ??= cache.close())),
    });
    const call = cache.getOrSet(type, 'k', () => 'v');
    expect(await Promise.allSettled([call])).toEqual([{ status: 'fulfilled', value: 'v' }]);
    expect(closing).toBeDefined();
    await closing;
    // On the same clock (tabs of one browser share it): one eleven months behind would find the entry written ahead of it.
    const { cache: reopened } = await openCache({ name, indexedDB, now: Date.now });
    expect(await reopened.get(type, 'k')).toBe(type === 'album_year' ? 'v' : undefined);
  });
});

describe('close() once a fetcher has answered', () => {
  it('its value still being checked by an async schema when close() is called: the call settles as it would have, with the value, and it is stored', async () => {
    const checking = gate<void>();
    const checked = gate<void>();
    const schemas = { album_year: z.object({ year: z.number() }).refine(async () => (checking.open(), await checked.promise, true)) };
    const { cache, name, indexedDB, clock } = await openCache({ schemas });
    const call = cache.getOrSet('album_year', 'k', async () => ({ year: 1999 }));
    await checking.promise;
    const closing = cache.close();
    checked.open();
    expect(await Promise.allSettled([call])).toEqual([{ status: 'fulfilled', value: { year: 1999 } }]);
    await closing;
    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    expect(await reopened.get('album_year', 'k')).toEqual({ year: 1999 });
  });
});

describe('an open cache after many read-throughs', () => {
  it('keeps nothing of what a fetcher brought once its caller has it (no memory grows with each fetch until close())', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { cache } = await openCache();
    let fetched: WeakRef<object> | undefined;
    // Not stored (skipStore): once the caller drops it, nothing should hold it.
    await cache.getOrSet('generic', 'k', ({ skipStore }) => {
      skipStore();
      const value = { tracks: Array.from({ length: 1000 }, (_, index) => `track ${index}`) };
      fetched = new WeakRef(value);
      return value;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    expect(fetched?.deref()).toBeUndefined();
    await cache.close();
  });
});

describe('close() while a fetcher has not answered', () => {
  /** What a promise has come to within `ms` of real time: its value, its error's code, or still pending. */
  async function within(ms: number, promise: Promise<unknown>) {
    const timer = new Promise((resolve) => setTimeout(() => resolve('still pending'), ms));
    return Promise.race([promise.then((value) => ({ value }), (error: { code?: string }) => ({ code: error.code })), timer]);
  }

  it.each(['album_year', 'generic'] as const)('%s: one that never answers and ignores its signal: close() resolves at once, the caller rejects with closed, the fetcher is told', async (type) => {
    const { cache, logger } = await openCache();
    let signal: AbortSignal | undefined;
    const fetcher = vi.fn((context: FetcherContext) => ((signal = context.signal), new Promise<string>(() => {})));
    const call = cache.getOrSet(type, 'k', fetcher);
    const joined = cache.resolve(type, 'k', fetcher, { signal: new AbortController().signal });
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    expect(await within(1000, cache.close())).toEqual({ value: undefined });
    expect(await within(100, call)).toEqual({ code: 'closed' });
    expect(await within(100, joined)).toEqual({ code: 'closed' });
    expect(signal?.aborted).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('what it brings after close() is not stored: the caller rejects with closed', async () => {
    const { cache, name, indexedDB } = await openCache();
    const reply = gate<string>();
    const fetcher = vi.fn(() => reply.promise);
    const call = cache.getOrSet('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalled());
    const closing = cache.close();
    reply.open('late');
    expect(await within(1000, call)).toEqual({ code: 'closed' });
    await closing;
    const { cache: reopened } = await openCache({ name, indexedDB });
    expect(await reopened.get('album_year', 'k')).toBeUndefined();
  });

  it('one whose fetch waits on its worker before its fetcher is called (busy with a long task as the fetch asks where the store stands): it rejects with closed at once, its fetcher is not called, and close() resolves once the worker has answered', async () => {
    const busy = gate<void>();
    const asked = gate<void>();
    const { cache } = await openRemoteCache({
      name: uniqueName(),
      indexedDB: new IDBFactory(),
      now: Date.now,
      beforeCall: async (method) => {
        if (method !== 'mark') return;
        asked.open();
        await busy.promise;
      },
    });
    const fetcher = vi.fn(() => new Promise<string>(() => {}));
    const call = cache.getOrSet('album_year', 'k', fetcher);
    await asked.promise;
    const closing = cache.close();
    expect(await within(100, call)).toEqual({ code: 'closed' });
    busy.open();
    expect(await within(1000, closing)).toEqual({ value: undefined });
    expect(fetcher).not.toHaveBeenCalled();
  });

  it.each(['in process', 'with a worker'] as const)('%s: close() awaited by the fetcher itself, or by a watcher as it hears the write of a call made before: it resolves (no call waits on the other), the caller rejects with closed, the write resolves, stored', async (mode) => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const clock = fakeClock();
    const open = () => (mode === 'in process' ? openCache({ name, indexedDB, clock }) : openRemoteCache({ name, indexedDB, now: clock.now }));
    const { cache, logger } = await open();
    let signal: AbortSignal | undefined;
    const fetched = cache.getOrSet('album_year', 'k', async (context) => {
      signal = context.signal;
      await cache.close();
      return 1;
    });
    expect(await within(1000, fetched)).toEqual({ code: 'closed' });
    expect(signal?.aborted).toBe(true);
    const { cache: watching } = await open();
    let closing: Promise<void> | undefined;
    watching.watch('album_year', 'w', () => void (closing ??= watching.close()));
    expect(await within(1000, watching.set('album_year', 'w', 2))).toEqual({ value: undefined });
    expect(closing).toBeDefined();
    expect(await within(1000, closing!)).toEqual({ value: undefined });
    const { cache: reopened } = await openCache({ name, indexedDB, clock });
    expect(await reopened.getMany('album_year', ['k', 'w'])).toEqual([undefined, 2]);
    expect(logger.error).not.toHaveBeenCalled();
    await reopened.close();
  });

  it('one whose read is on its way when close() is called: its fetcher is not called, it rejects with closed, and close() does not wait', async () => {
    const { cache } = await openCache();
    const fetcher = vi.fn(() => new Promise<string>(() => {}));
    const call = cache.getOrSet('album_year', 'k', fetcher);
    expect(await within(1000, cache.close())).toEqual({ value: undefined });
    expect(await within(100, call)).toEqual({ code: 'closed' });
    expect(fetcher).not.toHaveBeenCalled();
  });
});

describe('a fetching tab that cannot store what it fetched', () => {
  it('closed during its background refresh: a tab waiting on that refresh fetches for itself, and does not reject with closed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const locks = new SimLocks();
    const clock = fakeClock();
    const fetchLocks = (tab: string) => new FetchLocks({ name, locks: locks.manager(tab), openChannel: () => new BroadcastChannel(`reprise-fetch:${name}`) });
    const config = { caching: { policies: { generic: { staleWhileRevalidateSeconds: 60 } } } };
    const { cache: a } = await engineTab({ name, indexedDB, config, fetchLocks: fetchLocks('a'), engine: { now: clock.now } });
    const { cache: b } = await engineTab({ name, indexedDB, config, fetchLocks: fetchLocks('b'), engine: { now: clock.now } });
    await a.set('generic', 'k', 'old', { ttlSeconds: 10 });
    clock.advance(15_000);
    const reply = gate<string>();
    const refresh = vi.fn(() => reply.promise);
    expect(await a.resolve('generic', 'k', refresh)).toEqual({ value: 'old', source: 'stale' });
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(1));
    // Tab b has no entry: it waits on a's refresh.
    const second = b.resolve('generic', 'k', () => 'b fetched');
    await someoneWaits(locks);
    await a.close();
    reply.open('new');
    expect(await second).toEqual({ value: 'b fetched', source: 'fetch' });
  });
});

describe('entries() finding a value its schema no longer accepts', () => {
  it('leaves it out, deletes it and counts it corrupt, without taking a hit off the counts (a listing counts none)', async () => {
    const { cache, indexedDB, clock, name } = await openCache();
    await cache.set('album_year', 'old-format', { released: 1999 });
    await cache.set('album_year', 'good', { year: 2001 });
    const { cache: strict } = await openCache({ indexedDB, clock, name, schemas: { album_year: z.object({ year: z.number() }) } });
    expect(await strict.entries('album_year')).toEqual([['good', { year: 2001 }]]);
    expect((await strict.stats()).types.album_year).toMatchObject({ corrupt: 1, entries: 1, hits: 0, misses: 0 });
  });
});

describe('a fetcher that throws what cannot be turned into a string', () => {
  it('its callers get what it threw, and a tab waiting on it gets the failure: the fetcher runs once', async () => {
    const locks = new SimLocks();
    const [a, b] = await openTabs(2, locks);
    const reply = gate<void>();
    // A parsed JSON body thrown as is, say: an object whose toString is no function.
    const thrown = JSON.parse('{"status": 503, "toString": "busy"}') as unknown;
    const fetcher = vi.fn(async () => {
      await reply.promise;
      throw thrown;
    });
    const first = a!.resolve('album_year', 'k', fetcher);
    await vi.waitFor(() => expect(fetcher).toHaveBeenCalledTimes(1));
    const second = b!.resolve('album_year', 'k', fetcher);
    await someoneWaits(locks);
    reply.open();
    expect(await rejection(first)).toBe(thrown);
    expect(await rejection(second)).toBeInstanceOf(Error);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await b!.has('album_year', 'k')).toBe(false);
  });
});
