// Locks over a BroadcastChannel, for pages without Web Locks: tabs simulated in one Node process, each
// with its own ChannelLocks on a channel that delivers asynchronously, as a browser's, and on time (see onTimeChannels).
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it, vi } from 'vitest';
import { ChannelLocks } from '../src/ChannelLocks';
import type { FetchChannel } from '../src/FetchLocks';
import { onTimeChannels } from './support/onTimeChannels';

function tabs(count: number) {
  const openChannel = onTimeChannels();
  /** Set on a tab to make it vanish as a crashed one does: it says nothing more, and hears nothing. */
  const gone = new Set<number>();
  /** A frozen tab's (by index): it says nothing (its script does not run), and what it is sent waits here until it thaws. */
  const frozen = new Map<number, (() => void)[]>();
  return Array.from({ length: count }, (_, tab) => ({
    locks: new ChannelLocks((): FetchChannel => {
      const channel = openChannel();
      return {
        postMessage: (message) => gone.has(tab) || frozen.has(tab) || channel.postMessage(message),
        addEventListener: (type, listener) =>
          channel.addEventListener(type, (event) => gone.has(tab) || (frozen.get(tab)?.push(() => listener(event as MessageEvent)) ?? listener(event as MessageEvent))),
        close: () => channel.close(),
      };
    }),
    crash: () => gone.add(tab),
    freeze: () => frozen.set(tab, []),
    thaw: () => {
      const held = frozen.get(tab) ?? [];
      frozen.delete(tab);
      held.forEach((hear) => hear());
    },
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ChannelLocks', () => {
  it('tabs asking at once hold the lock one after the other, never two at a time', async () => {
    const log: string[] = [];
    await Promise.all(
      tabs(4).map(({ locks }, tab) =>
        locks.request('L', {}, async () => {
          log.push(`+${tab}`);
          await sleep(30);
          log.push(`-${tab}`);
        }),
      ),
    );
    expect(log).toHaveLength(8);
    for (let index = 0; index < log.length; index += 2) expect(log[index + 1]).toBe(`-${log[index]!.slice(1)}`);
  });

  it('with ifAvailable, a tab asking while another holds gets null at once; one asking after it let go holds', async () => {
    const [a, b] = tabs(2);
    let release = () => {};
    const holding = a!.locks.request('L', {}, (held) => new Promise<unknown>((resolve) => (release = () => resolve(held))));
    await sleep(60);
    expect(await b!.locks.request('L', { ifAvailable: true }, (held) => held)).toBeNull();
    release();
    expect(await holding).not.toBeNull();
    expect(await b!.locks.request('L', { ifAvailable: true }, (held) => held)).not.toBeNull();
  });

  it('two locks of different names do not wait for each other', async () => {
    const [a, b] = tabs(2);
    let release = () => {};
    const holding = a!.locks.request('L', {}, () => new Promise<void>((resolve) => (release = resolve)));
    await sleep(60);
    expect(await b!.locks.request('M', { ifAvailable: true }, (held) => held)).not.toBeNull();
    release();
    await holding;
  });

  it('a request waiting for the lock rejects with AbortError when its signal aborts, and holds nothing', async () => {
    const [a, b] = tabs(2);
    let release = () => {};
    const holding = a!.locks.request('L', {}, () => new Promise<void>((resolve) => (release = resolve)));
    await sleep(60);
    const controller = new AbortController();
    let ran = false;
    const waiting = b!.locks.request('L', { signal: controller.signal }, () => (ran = true));
    await sleep(30);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    release();
    await holding;
    expect(ran).toBe(false);
  });

  it('a hidden tab whose timers run late (about once a second) holds up no other tab with its claim', async () => {
    const [hiddenTab, shown] = tabs(2);
    // The hidden tab's timers, those started from its requests, wait at least a second, as a browser throttles them.
    const hidden = new AsyncLocalStorage<boolean>();
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((run: () => void, ms?: number) => realSetTimeout(run, hidden.getStore() ? Math.max(ms ?? 0, 1000) : ms)) as typeof setTimeout;
    try {
      const started = Date.now();
      const held: [string, number][] = [];
      const claimedFirst = hidden.run(true, () => hiddenTab!.locks.request('L', {}, () => void held.push(['hidden', Date.now() - started])));
      await sleep(5);
      await shown!.locks.request('L', {}, () => void held.push(['shown', Date.now() - started]));
      await claimedFirst;
      expect(held.map(([tab]) => tab)).toEqual(['shown', 'hidden']);
      expect(held[0]![1]).toBeLessThan(held[1]![1]);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  });

  it('a holder that crashed as the system clock was set back (an NTP correction) is waited for a few seconds, not for as long as the clock went back', async () => {
    const [a, b] = tabs(2);
    void a!.locks.request('L', {}, () => new Promise(() => {}));
    await sleep(60);
    let held = false;
    const controller = new AbortController();
    const heldByB = b!.locks.request('L', { signal: controller.signal }, () => void (held = true)).catch(() => {});
    await sleep(60);
    a!.crash();
    const realNow = Date.now.bind(Date);
    const setBack = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 60 * 60_000);
    try {
      await Promise.race([heldByB, sleep(8000)]);
      expect(held).toBe(true);
    } finally {
      setBack.mockRestore();
      controller.abort();
      await heldByB;
    }
  }, 15_000);

  it('a holder that crashed (silent from then on) is waited for a few seconds at most; one that lives keeps the lock however long it holds', async () => {
    const [a, b, c] = tabs(3);
    void a!.locks.request('L', {}, () => new Promise(() => {}));
    await sleep(60);
    const log: string[] = [];
    let releaseB = () => {};
    const heldByB = b!.locks.request('L', {}, () => {
      log.push('b holds');
      return new Promise<void>((resolve) => (releaseB = resolve));
    });
    await sleep(60);
    a!.crash();
    const crashed = Date.now();
    await vi.waitFor(() => expect(log).toEqual(['b holds']), { timeout: 8000, interval: 50 });
    // It waited for the heartbeats to lapse, not taking the lock from a holder that might be alive.
    expect(Date.now() - crashed).toBeGreaterThanOrEqual(2000);
    const heldByC = c!.locks.request('L', {}, () => void log.push('c holds'));
    await sleep(4500);
    log.push('b lets go');
    releaseB();
    await Promise.all([heldByB, heldByC]);
    expect(log).toEqual(['b holds', 'b lets go', 'c holds']);
  }, 20_000);

  // A page frozen by the browser (a background tab, the back/forward cache) is not dead: it may come back still holding.
  it('a holder frozen by the browser is waited for a few seconds, as a crashed one; once it comes back still holding, a tab that asks then holds only after both it and the tab that took over let go', async () => {
    const [a, b, c] = tabs(3);
    const log: string[] = [];
    let inside = 0;
    const hold = (tab: string) => {
      let release = () => {};
      const until = new Promise<void>((resolve) => (release = resolve));
      return {
        release: () => release(),
        callback: async () => {
          log.push(`${tab} holds${++inside > 1 ? ' with another' : ''}`);
          await until;
          inside--;
          log.push(`${tab} lets go`);
        },
      };
    };
    const [holdA, holdB] = [hold('a'), hold('b')];
    const heldByA = a!.locks.request('L', {}, holdA.callback);
    await sleep(60);
    const heldByB = b!.locks.request('L', {}, holdB.callback);
    await sleep(60);
    a!.freeze();
    await vi.waitFor(() => expect(log).toContain('b holds with another'), { timeout: 8000, interval: 50 });
    a!.thaw();
    await sleep(100);
    const heldByC = c!.locks.request('L', {}, () => void log.push('c holds'));
    await sleep(1500);
    holdB.release();
    await sleep(1500);
    holdA.release();
    await Promise.all([heldByA, heldByB, heldByC]);
    expect(log).toEqual(['a holds', 'b holds with another', 'b lets go', 'a lets go', 'c holds']);
  }, 20_000);
});
