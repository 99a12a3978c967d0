import { describe, expect, test } from 'vitest';
import { Random } from './random';
import { SimNetwork, type ChannelLike, type SimNetworkOptions } from './SimNetwork';

interface Endpoint {
  channel: ChannelLike;
  received: unknown[];
}

function open(network: SimNetwork, tab: string): Endpoint {
  const channel = network.opener(tab)();
  const endpoint: Endpoint = { channel, received: [] };
  channel.addEventListener('message', (event) => endpoint.received.push(event.data));
  return endpoint;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One sender posting 0..n-1 to one receiver; what the receiver got. */
async function run(seed: number, options: SimNetworkOptions, n = 30): Promise<unknown[]> {
  const network = new SimNetwork(new Random(seed), options);
  const a = open(network, 'a');
  const b = open(network, 'b');
  for (let i = 0; i < n; i++) a.channel.postMessage(i);
  await network.drain();
  return b.received;
}

describe('SimNetwork delivery', () => {
  test('reaches every other open instance, those of the same tab included, never the sender', async () => {
    const network = new SimNetwork(new Random(1));
    const a1 = open(network, 'a');
    const a2 = open(network, 'a');
    const b = open(network, 'b');
    a1.channel.postMessage('hi');
    expect(b.received).toEqual([]); // never synchronous
    await network.drain();
    expect(a1.received).toEqual([]);
    expect(a2.received).toEqual(['hi']);
    expect(b.received).toEqual(['hi']);
  });

  test('delivers a clone taken at post time, a copy per receiver', async () => {
    const network = new SimNetwork(new Random(2));
    const a = open(network, 'a');
    const b = open(network, 'b');
    const c = open(network, 'c');
    const message = { n: 1, nested: { list: [1] } };
    a.channel.postMessage(message);
    message.n = 2;
    message.nested.list.push(2);
    await network.drain();
    expect(b.received).toEqual([{ n: 1, nested: { list: [1] } }]);
    expect(b.received[0]).not.toBe(c.received[0]);
    expect(b.received[0]).not.toBe(network.posts[0]?.data);
  });

  test('a message that cannot be cloned throws a DataCloneError from postMessage', () => {
    const network = new SimNetwork(new Random(3));
    const a = open(network, 'a');
    open(network, 'b');
    let error: unknown;
    try {
      a.channel.postMessage({ f: () => 1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('DataCloneError');
    expect(network.posts).toEqual([]);
    expect(network.inFlight).toBe(0);
  });

  test('an instance closed before delivery gets nothing; a closed one posts nothing', async () => {
    const network = new SimNetwork(new Random(4));
    const a = open(network, 'a');
    const b = open(network, 'b');
    a.channel.postMessage('lost');
    b.channel.close();
    expect(network.inFlight).toBe(0);
    b.channel.postMessage('silent');
    await network.drain();
    expect(b.received).toEqual([]);
    expect(a.received).toEqual([]);
    expect(network.posts.map((post) => post.data)).toEqual(['lost']);
  });

  test('an instance opened after a post does not get it; a reopened tab gets later posts', async () => {
    const network = new SimNetwork(new Random(5));
    const a = open(network, 'a');
    const first = open(network, 'b');
    first.channel.close(); // frozen
    a.channel.postMessage('while frozen');
    const second = open(network, 'b'); // resumed
    a.channel.postMessage('after resume');
    await network.drain();
    expect(second.received).toEqual(['after resume']);
  });

  test('kill closes every channel of the tab', async () => {
    const network = new SimNetwork(new Random(6));
    const a = open(network, 'a');
    const b1 = open(network, 'b');
    const b2 = open(network, 'b');
    a.channel.postMessage('x');
    network.kill('b');
    b1.channel.postMessage('from the dead');
    await network.drain();
    expect([b1.received, b2.received, a.received]).toEqual([[], [], []]);
  });

  test("rename makes the tab's open channels another's: what they receive, queued before, and post after is recorded as its", async () => {
    const network = new SimNetwork(new Random(8), { maxDelayTicks: 0 });
    const a = open(network, 'a');
    const b = open(network, 'b');
    a.channel.postMessage('in flight');
    network.rename('b', 'c');
    b.channel.postMessage('after');
    await network.drain();
    expect(b.received).toEqual(['in flight']);
    expect(network.deliveries.map(({ from, to, data }) => [from, to, data])).toEqual([
      ['a', 'c', 'in flight'],
      ['c', 'a', 'after'],
    ]);
  });

  test('each delivery is a task of its own: microtasks run in between', async () => {
    const network = new SimNetwork(new Random(7), { maxDelayTicks: 0 });
    const a = open(network, 'a');
    const log: string[] = [];
    network.opener('b')().addEventListener('message', (event) => {
      log.push(`message ${String(event.data)}`);
      queueMicrotask(() => log.push(`microtask ${String(event.data)}`));
    });
    a.channel.postMessage(1);
    a.channel.postMessage(2);
    await network.drain();
    expect(log).toEqual(['message 1', 'microtask 1', 'message 2', 'microtask 2']);
  });

  test('what a listener throws goes to network.errors; other listeners still run', async () => {
    const network = new SimNetwork(new Random(8), { maxDelayTicks: 0 });
    const a = open(network, 'a');
    const b = network.opener('b')();
    const got: unknown[] = [];
    b.addEventListener('message', () => {
      throw new Error('listener bug');
    });
    b.addEventListener('message', (event) => got.push(event.data));
    a.channel.postMessage('m');
    await network.drain();
    expect(got).toEqual(['m']);
    expect(network.errors).toEqual([new Error('listener bug')]);
  });

  test('drain waits for replies posted by listeners', async () => {
    const network = new SimNetwork(new Random(9));
    const received: unknown[] = [];
    const [a] = ['a', 'b'].map((tab) => {
      const channel = network.opener(tab)();
      channel.addEventListener('message', (event) => {
        received.push(event.data);
        if (typeof event.data === 'number' && event.data < 5) channel.postMessage(event.data + 1);
      });
      return channel;
    });
    a?.postMessage(0);
    await network.drain();
    expect(received).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('SimNetwork faults', () => {
  test('is deterministic for a seed and varies between seeds', async () => {
    const options = { maxDelayTicks: 5, duplicate: 0.2 };
    expect(await run(10, options)).toEqual(await run(10, options));
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 5; seed++) outcomes.add(JSON.stringify(await run(seed, options)));
    expect(outcomes.size).toBeGreaterThan(1);
  });

  test('delays reorder messages; reorder: false keeps per-sender order', async () => {
    const ordered = Array.from({ length: 30 }, (_, i) => i);
    expect(await run(11, { maxDelayTicks: 5 })).not.toEqual(ordered);
    expect(await run(11, { maxDelayTicks: 0 })).toEqual(ordered);
    for (let seed = 0; seed < 10; seed++) expect(await run(seed, { maxDelayTicks: 5, reorder: false })).toEqual(ordered);
  });

  test('reorder: false keeps order with duplicates too', async () => {
    const received = (await run(12, { maxDelayTicks: 5, reorder: false, duplicate: 0.5 })) as number[];
    expect(received.length).toBeGreaterThan(30);
    expect(received).toEqual([...received].sort((x, y) => x - y));
    expect(new Set(received).size).toBe(30);
  });

  test('duplicate: 1 delivers everything twice', async () => {
    const received = (await run(13, { duplicate: 1 }, 10)) as number[];
    expect(received.sort((x, y) => x - y)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  });

  test('setLossy drops that fraction of the messages to the tab, silently', async () => {
    const network = new SimNetwork(new Random(14));
    const a = open(network, 'a');
    const deaf = open(network, 'deaf');
    const flaky = open(network, 'flaky');
    const fine = open(network, 'fine');
    network.setLossy('deaf', 1);
    network.setLossy('flaky', 0.5);
    for (let i = 0; i < 200; i++) a.channel.postMessage(i);
    await network.drain();
    expect(deaf.received).toEqual([]);
    expect(flaky.received.length).toBeGreaterThan(70);
    expect(flaky.received.length).toBeLessThan(130);
    expect(fine.received).toHaveLength(200);
    expect(network.errors).toEqual([]);
    expect(() => network.setLossy('a', 2)).toThrow(RangeError);
  });

  test('gate holds deliveries to a tab (drain ignores them); release delivers them in order', async () => {
    const network = new SimNetwork(new Random(15), { maxDelayTicks: 4, reorder: false });
    const a = open(network, 'a');
    const b = open(network, 'b');
    const c = open(network, 'c');
    network.gate('b');
    for (let i = 0; i < 10; i++) a.channel.postMessage(i);
    await network.drain();
    expect(network.inFlight).toBe(0);
    expect(b.received).toEqual([]);
    expect(c.received).toHaveLength(10);
    a.channel.postMessage(10);
    network.release('b');
    await network.drain();
    expect(b.received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('gate also holds messages already in flight', async () => {
    const network = new SimNetwork(new Random(16), { maxDelayTicks: 0 });
    const a = open(network, 'a');
    const b = open(network, 'b');
    a.channel.postMessage('in flight');
    network.gate('b');
    await network.drain();
    expect(b.received).toEqual([]);
    network.release('b');
    await network.drain();
    expect(b.received).toEqual(['in flight']);
  });

  test('released messages come before those posted meanwhile by the same sender (reorder: false)', async () => {
    const network = new SimNetwork(new Random(16), { maxDelayTicks: 0, reorder: false });
    const a = open(network, 'a');
    const b = open(network, 'b');
    a.channel.postMessage(1);
    network.gate('b');
    await turn(); // 1 is held
    a.channel.postMessage(2);
    network.release('b');
    await network.drain();
    expect(b.received).toEqual([1, 2]);
  });

  test('partition drops everything to and from a tab until heal', async () => {
    const network = new SimNetwork(new Random(17));
    const a = open(network, 'a');
    const b = open(network, 'b');
    const c = open(network, 'c');
    a.channel.postMessage('in flight');
    network.partition('b');
    a.channel.postMessage('to b');
    b.channel.postMessage('from b');
    await network.drain();
    network.heal('b');
    await network.drain();
    expect(b.received).toEqual([]);
    expect(c.received.sort()).toEqual(['in flight', 'to b']);
    a.channel.postMessage('healed');
    await network.drain();
    expect(b.received).toEqual(['healed']);
  });
});

describe('SimNetwork log', () => {
  test('records posts and deliveries against the clock; wasDelivered answers from them', async () => {
    const network = new SimNetwork(new Random(18), { maxDelayTicks: 0 });
    const a = open(network, 'a');
    open(network, 'b');
    open(network, 'c');
    a.channel.postMessage('one');
    expect(network.posts).toEqual([{ id: 1, from: 'a', data: 'one', postedAt: 0 }]);
    expect(network.inFlight).toBe(2);
    await network.drain();
    expect(network.deliveries).toEqual([
      { id: 1, from: 'a', to: 'b', data: 'one', postedAt: 0, deliveredAt: 1 },
      { id: 1, from: 'a', to: 'c', data: 'one', postedAt: 0, deliveredAt: 2 },
    ]);
    expect(network.clock()).toBe(2);
    expect(network.wasDelivered(1, 'b')).toBe(true);
    expect(network.wasDelivered(1, 'c', 2)).toBe(false);
    expect(network.wasDelivered(1, 'c', 3)).toBe(true);
    expect(network.wasDelivered(1, 'a')).toBe(false);
    expect(network.wasDelivered(2, 'b')).toBe(false);
  });

  test('a delivery is logged before its listeners run, stamped by the clock given', async () => {
    let time = 100;
    const network = new SimNetwork(new Random(19), { now: () => time });
    const a = open(network, 'a');
    const seen: boolean[] = [];
    network.opener('b')().addEventListener('message', () => seen.push(network.wasDelivered(1, 'b')));
    a.channel.postMessage('m');
    time = 150;
    await network.drain();
    expect(seen).toEqual([true]);
    expect(network.deliveries[0]).toMatchObject({ postedAt: 100, deliveredAt: 150 });
  });

  test('keepLog: false records nothing', async () => {
    const network = new SimNetwork(new Random(20), { keepLog: false });
    const a = open(network, 'a');
    const b = open(network, 'b');
    a.channel.postMessage('m');
    await network.drain();
    expect(b.received).toEqual(['m']);
    expect([network.posts, network.deliveries]).toEqual([[], []]);
    expect(() => network.wasDelivered(1, 'b')).toThrow(/keepLog/);
  });

  test('drain yields setImmediate turns only', async () => {
    const network = new SimNetwork(new Random(21), { maxDelayTicks: 2 });
    const a = open(network, 'a');
    open(network, 'b');
    a.channel.postMessage('m');
    let turns = 0;
    while (network.inFlight > 0) {
      await turn();
      turns++;
    }
    expect(turns).toBeGreaterThan(0);
    expect(turns).toBeLessThanOrEqual(3);
  });
});
