import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, test } from 'vitest';
import { Random } from './random';
import { afterTurns, SimTab, type SimWorld } from './SimTab';
import { SimNetwork } from './SimNetwork';

const turns = (n: number) => new Promise<void>((resolve) => afterTurns(n, resolve));

function world(seed: number): SimWorld {
  return {
    seed,
    name: `simtab-${seed}`,
    inner: new IDBFactory(),
    network: new SimNetwork(new Random(seed)),
    fetchNetwork: new SimNetwork(new Random(~seed)),
    locks: null,
    now: () => Date.UTC(2026, 0, 1),
    random: new Random(seed + 1),
    config: {},
    logged: [],
  };
}

describe('SimTab', () => {
  // A worker that dies soon after the one before is replaced later: meanwhile the page listens for the next one, whose
  // relay takes that channel (see KeptMessages.stop). The harness's faults and excuses name a worker's channel.
  test("a tab's current worker sends and hears on the channel it is named by, after its page listened for it", async () => {
    const w = world(1);
    const [here, there] = [await SimTab.open(w, 'tab0', false), await SimTab.open(w, 'tab1', false)];
    for (let death = 0; death < 2; death++) {
      here.kill();
      await turns(20);
      await here.cache.emit({ eventType: 'library_sync' });
      await w.network.drain();
    }
    const posts = w.network.posts.length;
    await here.cache.emit({ eventType: 'library_sync' });
    await w.network.drain();
    expect(w.network.posts.slice(posts).map(({ from }) => from)).toContain(here.channelName);
    expect(here.pageChannels).toContain(here.channelName);
    // The lossy fault: what reaches the tab's worker is lost.
    w.network.setLossy(here.channelName, 1);
    const deliveries = w.network.deliveries.length;
    await there.cache.emit({ eventType: 'library_sync' });
    await w.network.drain();
    expect(w.network.deliveries.slice(deliveries).filter(({ to }) => to.startsWith('tab0/')).map(({ to }) => to)).toEqual([]);
    await Promise.all([here.close(), there.close()]);
  });

  test('a channel a closed page listened on for its next worker is no channel of the next page', async () => {
    const w = world(2);
    const [here, there] = [await SimTab.open(w, 'tab0', false), await SimTab.open(w, 'tab1', false)];
    here.kill();
    await turns(20);
    await here.cache.emit({ eventType: 'library_sync' });
    // Dead soon after the one before: the page listens for the next one, which no call starts before the reload.
    here.kill();
    await turns(20);
    await there.cache.emit({ eventType: 'library_sync' });
    await w.network.drain();
    const before = new Set(w.network.deliveries.map(({ to }) => to));
    await here.reload();
    expect(here.pageChannels.filter((name) => before.has(name))).toEqual([]);
    await Promise.all([here.close(), there.close()]);
  });
});
