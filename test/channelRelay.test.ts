// The worker's channels to the other tabs run through the page: here both sides run in one Node process,
// joined by real MessageChannels, with Node's BroadcastChannel for the tabs (test/browser/ does it in
// Chromium, with a real worker).
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelMessage } from '../src/channelMessage';
import { channelRelay, type ChannelRelay } from '../src/channelRelay';
import { checkedChannel } from '../src/checkedChannel';
import { KeptMessages } from '../src/KeptMessages';
import { type CacheEvent, type EventContext } from '../src/index';
import { CHANNEL_VERSION, type OpenTabChannel } from '../src/TabChannel';
import { relayedChannel } from '../worker/relayedChannel';
import { uniqueName } from './support/openCache';
import { engineTab } from './support/engineTab';

const hello = (origin: string): ChannelMessage => ({ v: CHANNEL_VERSION, kind: 'hello', origin, logs: true });

/** A few turns of the event loop: long enough for a message to cross a port or a channel. */
const turns = async (count = 10) => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
};

/** The page's checked channels, each recorded so that a test can see it opened and closed. */
function pageChannels(name: string) {
  const opened: { closed: boolean }[] = [];
  const check = checkedChannel(() => new BroadcastChannel(name));
  const open: OpenTabChannel = (receive) => {
    const channel = check(receive);
    const record = { closed: false };
    opened.push(record);
    return {
      ...channel,
      close() {
        record.closed = true;
        channel.close();
      },
    };
  };
  return { open, opened };
}

/** Another tab's plain BroadcastChannel, recording what it hears. */
function otherTab(name: string) {
  const channel = new BroadcastChannel(name);
  const heard: unknown[] = [];
  channel.addEventListener('message', (event) => heard.push((event as MessageEvent).data));
  cleanups.push(() => channel.close());
  return { channel, heard };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function relayOf(open: OpenTabChannel, kept?: KeptMessages): ChannelRelay {
  const relay = channelRelay(open, kept);
  cleanups.push(() => relay.close());
  return relay;
}

/** The worker's channel through `relay`, once ready: what it is told, as it is told it. */
async function toldThrough(relay: ChannelRelay): Promise<(ChannelMessage | null)[]> {
  const told: (ChannelMessage | null)[] = [];
  await relayedChannel(relay.port)((message) => told.push(message)).ready;
  return told;
}

/** A worker's channel through a relay of its own, ready, recording what it receives. */
async function readyChannel() {
  const name = uniqueName();
  const page = pageChannels(name);
  const relay = relayOf(page.open);
  const received: (ChannelMessage | null)[] = [];
  const channel = relayedChannel(relay.port)((message) => received.push(message));
  await channel.ready;
  return { name, page, relay, received, channel };
}

describe('channelRelay and relayedChannel', () => {
  it('the worker’s channel is ready once the page listens, and gets every message of another tab checked: valid ones as sent, malformed ones as null', async () => {
    const { name, page, received } = await readyChannel();
    expect(page.opened).toEqual([{ closed: false }]);
    const other = otherTab(name);
    for (const message of [hello('x'), 'hello', { ...hello('x'), v: 99 }, null, hello('y')]) other.channel.postMessage(message);
    await vi.waitFor(() => expect(received).toHaveLength(5));
    expect(received).toEqual([hello('x'), null, null, null, hello('y')]);
  });

  it('listens from the start: what another tab says before the worker asks for its first channel reaches that channel first; what comes while the page is paused does not', async () => {
    const name = uniqueName();
    const page = pageChannels(name);
    const relay = relayOf(page.open);
    expect(page.opened).toEqual([{ closed: false }]);
    const other = otherTab(name);
    other.channel.postMessage(hello('before'));
    other.channel.postMessage('malformed');
    await turns();
    relay.pause();
    other.channel.postMessage(hello('while paused'));
    await turns();
    const received: (ChannelMessage | null)[] = [];
    const channel = relayedChannel(relay.port)((message) => received.push(message));
    await channel.ready;
    // Told before the channel was ready.
    expect(received).toEqual([hello('before'), null]);
    other.channel.postMessage(hello('after'));
    await vi.waitFor(() => expect(received).toEqual([hello('before'), null, hello('after')]));
    expect(page.opened).toEqual([{ closed: true }, { closed: false }]);
  });

  it('what the worker posts reaches the other tabs', async () => {
    const name = uniqueName();
    const relay = relayOf(pageChannels(name).open);
    const other = otherTab(name);
    const channel = relayedChannel(relay.port)(() => {});
    channel.post(hello('worker'));
    await vi.waitFor(() => expect(other.heard).toEqual([hello('worker')]));
  });

  it('a channel the worker closed receives nothing more, and the page closes its BroadcastChannel', async () => {
    const { name, page, received, channel } = await readyChannel();
    channel.close();
    await channel.ready;
    const other = otherTab(name);
    other.channel.postMessage(hello('late'));
    await vi.waitFor(() => expect(page.opened).toEqual([{ closed: true }]));
    await turns();
    expect(received).toEqual([]);
  });

  it('paused by the page, it stops listening at once, still sends what the worker says, and closes when the worker does', async () => {
    const { name, page, relay, received, channel } = await readyChannel();
    const other = otherTab(name);
    relay.pause();
    expect(page.opened).toEqual([{ closed: true }]);
    other.channel.postMessage(hello('while paused'));
    // The worker has not heard of the pause yet: what it says still goes out (through a channel opened for it).
    channel.post(hello('worker'));
    await vi.waitFor(() => expect(other.heard).toEqual([hello('worker')]));
    channel.close();
    await turns();
    expect(received).toEqual([]);
    expect(page.opened.every((record) => record.closed)).toBe(true);
  });

  it('closed as its worker goes (a cache closing), it stops listening at once and still sends what the worker posted before', async () => {
    const { name, page, relay, received, channel } = await readyChannel();
    const other = otherTab(name);
    // The worker's last words, then its channel closes (as TabSync.close does), and the page closes the relay.
    channel.post(hello('last words'));
    channel.close();
    relay.close();
    expect(page.opened.every((record) => record.closed)).toBe(true);
    other.channel.postMessage(hello('too late'));
    await vi.waitFor(() => expect(other.heard).toEqual([hello('last words')]));
    await turns();
    expect(received).toEqual([]);
  });

  it('each channel the worker opens is a BroadcastChannel of its own; closing the relay (a dead worker, a closed cache) closes them all', async () => {
    const name = uniqueName();
    const page = pageChannels(name);
    const relay = relayOf(page.open);
    const open = relayedChannel(relay.port);
    const first = open(() => {});
    await first.ready;
    first.close();
    const second = open(() => {});
    await second.ready;
    await vi.waitFor(() => expect(page.opened).toEqual([{ closed: true }, { closed: false }]));
    relay.close();
    expect(page.opened).toEqual([{ closed: true }, { closed: true }]);
  });

  it('the next worker, started as another tab’s message is on its way to the page waiting to replace a dead one, is told it: the page’s channel that listened hands it over (seed 48331: a tab without IndexedDB never heard it)', async () => {
    const name = uniqueName();
    const page = pageChannels(name);
    // The page waits to replace a worker that died again soon after: it listens for the next one.
    const kept = new KeptMessages(page.open);
    kept.listen();
    const other = otherTab(name);
    other.channel.postMessage(hello('waiting'));
    await turns();
    // Posted, and not yet delivered as a call starts the next worker in the same turn.
    other.channel.postMessage(hello('in flight'));
    const told = await toldThrough(relayOf(page.open, kept));
    other.channel.postMessage(hello('after'));
    await vi.waitFor(() => expect(told).toContainEqual(hello('after')));
    expect(told).toEqual([hello('waiting'), hello('in flight'), hello('after')]);
  });

  it.each(['once it asked for its channel', 'before it asked for its channel'] as const)(
    'another tab’s message on its way to the page as its worker dies (%s), and as the next one dies too, is told to the worker after them, once',
    async (when) => {
      const name = uniqueName();
      const page = pageChannels(name);
      // The page's, as createCache keeps it for its workers.
      const kept = new KeptMessages(page.open);
      const other = otherTab(name);
      const toldTo: (ChannelMessage | null)[][] = [];
      for (const death of ['first', 'second']) {
        const relay = relayOf(page.open, kept);
        toldTo.push(when === 'once it asked for its channel' ? await toldThrough(relay) : []);
        // Posted, and not yet delivered as the page learns its worker died.
        other.channel.postMessage(hello(`as the ${death} dies`));
        relay.close();
      }
      const told = await toldThrough(relayOf(page.open, kept));
      other.channel.postMessage(hello('after'));
      await vi.waitFor(() => expect(told).toContainEqual(hello('after')));
      await turns();
      // Each to the first worker that asked for its channel after it came: the second, had it asked, was told the first.
      if (when === 'once it asked for its channel') expect([...toldTo, told]).toEqual([[], [hello('as the first dies')], [hello('as the second dies'), hello('after')]]);
      else expect([...toldTo, told]).toEqual([[], [], [hello('as the first dies'), hello('as the second dies'), hello('after')]]);
    },
  );

  it.each(['the cache closed', 'the page was paused'] as const)('closed as its worker dies after %s, it leaves no channel listening', async (when) => {
    const name = uniqueName();
    const page = pageChannels(name);
    const kept = new KeptMessages(page.open);
    const relay = relayOf(page.open, kept);
    await toldThrough(relay);
    if (when === 'the cache closed') kept.stop();
    else (kept.pause(), relay.pause());
    relay.close();
    expect(page.opened).toEqual([{ closed: true }]);
    // The page waits to replace its worker (see RemoteEngine): what comes while paused is missed, and it listens again as it
    // resumes; a closed cache hears nothing from then on.
    kept.listen();
    expect(page.opened).toEqual([{ closed: true }]);
    kept.resume();
    expect(page.opened).toEqual(when === 'the cache closed' ? [{ closed: true }] : [{ closed: true }, { closed: false }]);
    kept.stop();
    expect(page.opened.every((record) => record.closed)).toBe(true);
  });

  it('closed as its worker dies, gives the next worker first the changes of tabs without IndexedDB that the dead one was told and no tab said it logged: the newest 300, named by the database it last said it logs in (after the logged ones it was told before it said where it stands)', async () => {
    const name = uniqueName();
    const page = pageChannels(name);
    const kept = new KeptMessages();
    const dying = channelRelay(page.open, kept);
    const heard: unknown[] = [];
    const channel = relayedChannel(dying.port)((message) => heard.push(message));
    await channel.ready;
    // The worker greets the tabs, naming its database.
    channel.post({ ...hello('here'), epoch: 'db1' });
    await turns();
    const change = (id: string, seq: number | null = null): ChannelMessage => ({ v: CHANNEL_VERSION, kind: 'clear', origin: 'degraded', id, epoch: seq ? 'db1' : null, seq, types: ['generic'] });
    const other = otherTab(name);
    for (let index = 0; index < 302; index++) other.channel.postMessage(change(`c${index}`));
    // Another tab says where it logged c5; the worker, where it logged c6.
    other.channel.postMessage(change('c5', 3));
    await vi.waitFor(() => expect(heard).toHaveLength(303));
    channel.post(change('c6', 4));
    await vi.waitFor(() => expect(other.heard).toEqual([change('c6', 4)]));
    await turns();
    channel.close();
    dying.close();
    // A relay made with the page's kept messages, as connectWorker makes the next worker's.
    const told = await toldThrough(relayOf(page.open, kept));
    const expected = Array.from({ length: 300 }, (_, index) => `c${index + 2}`).filter((id) => id !== 'c5' && id !== 'c6');
    await vi.waitFor(() => expect(told).toHaveLength(expected.length + 1));
    // Where c5 is logged too: the worker died before it told the page where it stands in the log (see KeptMessages' unplaced).
    expect(told).toEqual([change('c5', 3), ...expected.map((id) => ({ ...change(id), epoch: 'db1' }))]);
  });
});

describe('an engine whose channel runs through the page', () => {
  const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };

  /** A tab: an engine on the shared database, and the client; `relayed` puts its channel behind a page relay. */
  async function openTab(name: string, indexedDB: IDBFactory, relayed: boolean) {
    const check = checkedChannel(() => new BroadcastChannel(name));
    const relay = relayed ? relayOf(check) : null;
    const { cache, engine, logger } = await engineTab({ name, indexedDB, config, openChannel: relay ? relayedChannel(relay.port) : check });
    cleanups.push(() => void engine.close());
    const seen: [CacheEvent, EventContext][] = [];
    cache.on('*', (event, context) => void seen.push([event, context]));
    // What connectWorker does on suspend: the page stops listening at once, then the worker hears of it.
    const suspend = () => (relay?.pause(), engine.suspend());
    return { cache, engine, seen, suspend, logger };
  }

  it('hears events of other tabs as remote, and is heard by them', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const page = await openTab(name, indexedDB, false);
    const worker = await openTab(name, indexedDB, true);
    await worker.cache.set('generic', 'x', 1, { trackId: 't1' });
    await page.cache.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await vi.waitFor(() => expect(worker.seen.map(([event, context]) => [event.trackId, context.source])).toEqual([['t1', 'remote']]));
    expect(await worker.cache.get('generic', 'x')).toBeUndefined();
    await worker.cache.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(page.seen.map(([event, context]) => [event.eventType, context.source])).toEqual([['manual_invalidation', 'local'], ['library_sync', 'remote']]));
  });

  it('counts the malformed messages the page dropped', async () => {
    const name = uniqueName();
    const worker = await openTab(name, new IDBFactory(), true);
    const other = otherTab(name);
    const valid = { v: CHANNEL_VERSION, kind: 'event', origin: 'x', id: 'e1', epoch: null, seq: null, event: { eventType: 'library_sync' }, invalidated: {} };
    for (const garbage of ['hello', 42, { ...valid, v: 99 }, { ...valid, event: { eventType: 'track_removed' } }, { ...valid, id: '' }]) {
      other.channel.postMessage(garbage);
    }
    await vi.waitFor(async () => expect((await worker.cache.stats()).droppedMessages).toBe(5));
    expect(worker.seen).toEqual([]);
  });

  it('suspended, it misses the messages of other tabs and catches up from the log when resumed', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const page = await openTab(name, indexedDB, false);
    const worker = await openTab(name, indexedDB, true);
    await worker.cache.set('generic', 'x', 1, { trackId: 't1' });
    await worker.cache.set('generic', 'y', 2, { trackId: 't2' });
    await worker.suspend();
    await page.cache.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await page.cache.emit({ eventType: 'manual_invalidation', trackId: 't2' });
    await turns();
    expect(worker.seen).toEqual([]);
    await worker.engine.resume();
    expect(await worker.cache.getMany('generic', ['x', 'y'])).toEqual([undefined, undefined]);
    expect(worker.seen.map(([event, context]) => [event.trackId, context.source])).toEqual([
      ['t1', 'remote'],
      ['t2', 'remote'],
    ]);
    // Listening again: the next event arrives as a message.
    await page.cache.emit({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(worker.seen).toHaveLength(3));
    expect(worker.logger.error).not.toHaveBeenCalled();
  });
});
