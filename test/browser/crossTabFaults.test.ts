// Cross-tab faults in real Chromium: tabs that really miss BroadcastChannel messages (the page's
// cache channel gated: no lifecycle event tells them), and an upgrade that another connection blocks for good.
import { describe, expect, it } from 'vitest';
import type { CacheChange, CacheConfig } from '../../src/index';
import { uniqueName, useBrowser, type TestPage } from './chromium';
import { gateChannels, setGate, type Gate } from './gate';
import { TAB_CONFIG, openTab, workersMade } from './tabs';

const browser = useBrowser({ eachTest: true });

/**
 * A tab whose cache channel (the BroadcastChannel named after the cache) silently drops what arrives
 * while `window.gate.closed` is set: the tab misses messages with no lifecycle event to tell it.
 */
async function openGatedTab(name: string, config: CacheConfig = TAB_CONFIG): Promise<TestPage> {
  const tab = await browser.open('/test/browser/pages/reprise.html');
  await tab.page.waitForFunction(() => 'tab' in window);
  await tab.page.evaluate(gateChannels, name);
  await tab.page.evaluate(
    async ({ name, config }) => {
      Object.assign(window, { watched: [] });
      await window.tab.open({ name, config });
    },
    { name, config },
  );
  return tab;
}

describe('a tab whose channel really missed an event: stats() first', () => {
  it('stats() does not count the memory-tier entries a missed event removed (get agrees after)', async () => {
    const name = uniqueName('crossTabFaults');
    const a = await openTab(browser, name);
    const b = await openGatedTab(name);
    await b.page.evaluate(async () => {
      await window.tab.cache!.set('generic', 'x', 'x', { trackId: 't1' });
      await window.tab.cache!.set('generic', 'y', 'y', { trackId: 't2' });
    });
    await setGate(b.page, true);
    await a.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't1' }));
    await b.page.waitForFunction(() => (window as unknown as { gate: Gate }).gate.dropped >= 1);
    const seen = await b.page.evaluate(async () => {
      const cache = window.tab.cache!;
      const first = (await cache.stats()).types.generic;
      const values = await cache.getMany('generic', ['x', 'y']);
      const second = (await cache.stats()).types.generic;
      return { first: [first.entries, first.bytes], values, second: [second.entries, second.bytes] };
    });
    expect(seen.values).toEqual([undefined, 'y']);
    expect(seen.first).toEqual(seen.second);
  });
});

describe('a tab whose channel really missed an event (default config: no memory type is event-driven)', () => {
  it("its on('*') listener and its watcher hear the event before its next calls answer, with nothing else emitted", async () => {
    const name = uniqueName('crossTabFaults');
    const a = await openTab(browser, name, {});
    const b = await openGatedTab(name, {});
    await a.page.evaluate(() => window.tab.cache!.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' }));
    await b.page.evaluate(() => {
      const watched = (window as unknown as { watched: CacheChange[] }).watched;
      window.tab.cache!.watch('track_metadata', 'song', (change) => void watched.push(change));
    });
    await setGate(b.page, true);
    await a.page.evaluate(() => window.tab.cache!.emit({ eventType: 'track_removed', trackId: 't1' }));
    await b.page.waitForFunction(() => (window as unknown as { gate: Gate }).gate.dropped >= 1);
    await setGate(b.page, false);
    // b's calls, all answered after the event was logged: each must find the tab caught up.
    const answers = await b.page.evaluate(async () => {
      const cache = window.tab.cache!;
      const value = await cache.get('track_metadata', 'song');
      const has = await cache.has('track_metadata', 'song');
      const keys = await cache.keys('track_metadata');
      await cache.stats();
      await cache.set('track_metadata', 'other', 1);
      // A second later: long enough for anything on its way.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return {
        value,
        has,
        keys,
        heard: window.tab.events.map(({ event, context }) => [event.eventType, context.source]),
        watched: (window as unknown as { watched: CacheChange[] }).watched.map(({ kind, source }) => [kind, source]),
      };
    });
    expect({ value: answers.value, has: answers.has, keys: answers.keys }).toEqual({ value: undefined, has: false, keys: [] });
    expect(answers.heard).toEqual([['track_removed', 'remote']]);
    expect(answers.watched).toContainEqual(['invalidate', 'remote']);
  });
});

describe('an upgrade blocked by a connection that never lets go', () => {
  it('the other Reprise tabs keep answering (none hangs behind the upgrade that never runs)', async () => {
    const name = uniqueName('crossTabFaults');
    const a = await openTab(browser, name);
    await a.page.evaluate(async () => {
      await window.tab.cache!.set('track_metadata', 'k', 'before');
      await window.tab.cache!.set('generic', 'g', 'memory');
    });
    // Some other code of the origin holds the database open and ignores versionchange.
    const holder = await browser.open('/test/browser/pages/blank.html');
    await holder.page.evaluate(
      (name) =>
        new Promise<void>((resolve, reject) => {
          const request = indexedDB.open(name);
          request.onsuccess = () => {
            Object.assign(window, { held: request.result });
            resolve();
          };
          request.onerror = () => reject(request.error);
        }),
      name,
    );
    const config: CacheConfig = {
      ...TAB_CONFIG,
      caching: { ...TAB_CONFIG.caching, customTypes: { lyrics: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based', maxSizeMb: 1 } } },
    };
    const c = await openTab(browser, name, config);
    const cSide = await c.page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('lyrics' as never, 'song', 'la' as never);
      return { degraded: (await cache.stats()).degraded, lyrics: await cache.get('lyrics' as never, 'song') };
    });
    expect(cSide.degraded).toMatch(/blocked/);
    const aSide = await a.page.evaluate(async () => {
      const cache = window.tab.cache!;
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), 20_000));
      const attempt = (call: Promise<unknown>) =>
        Promise.race([
          call.then(
            (value) => JSON.stringify(value ?? null),
            (error: { code?: string }) => `rejected ${error.code}`,
          ),
          timeout,
        ]);
      const [get, set, memory, emit] = await Promise.all([
        attempt(cache.get('track_metadata', 'k')),
        attempt(cache.set('track_metadata', 'k2', 'after')),
        attempt(cache.get('generic', 'g')),
        attempt(cache.emit({ eventType: 'library_sync' })),
      ]);
      return { get, set, memory, emit };
    });
    console.log('a, behind a blocked upgrade:', JSON.stringify({ cSide, aSide }));
    for (const [call, outcome] of Object.entries(aSide)) expect({ call, outcome }).not.toEqual({ call, outcome: 'timed out' });
    // And they go on in memory, as with any IndexedDB that is blocked (SPEC §4).
    for (const [call, outcome] of Object.entries(aSide)) expect({ call, rejected: outcome.startsWith('rejected') }).toEqual({ call, rejected: false });
  });
});

describe('site data cleared while a page has no worker', () => {
  it("its next worker replays to the listeners what another tab logged in the new database meanwhile", async () => {
    const name = uniqueName('crossTabFaults');
    const [a, b] = [await openTab(browser, name), await openTab(browser, name)];
    await b.page.evaluate(() => window.tab.cache!.emit({ eventType: 'library_sync' }));
    await a.page.waitForFunction(() => window.tab.events.length >= 1);
    // Killed twice within 5 s: no worker until the next call.
    await a.page.evaluate(() => window.tab.workers[0]!.terminate());
    await a.page.waitForFunction(() => window.tab.workers.length === 2);
    await a.page.evaluate(() => window.tab.cache!.stats());
    await a.page.evaluate(() => window.tab.workers[1]!.terminate());
    const cdp = await browser.context.newCDPSession(b.page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(b.page.url()).origin, storageTypes: 'indexeddb' });
    await b.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 'after the clear' }));
    const made = await workersMade(a.page);
    if (made.withinRestartWindow) expect(made.workers).toBe(2);
    await a.page.evaluate(() => window.tab.cache!.stats());
    await a.page.waitForFunction(() => window.tab.events.length >= 2, null, { timeout: 10_000 }).catch(() => {});
    const heard = await a.page.evaluate(() => window.tab.events.map(({ event, context }) => [event.eventType, event.trackId ?? null, context.source]));
    expect(heard).toEqual([
      ['library_sync', null, 'remote'],
      ['manual_invalidation', 'after the clear', 'remote'],
    ]);
  });
});
