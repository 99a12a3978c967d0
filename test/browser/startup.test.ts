// A cache's start in a real page: createCache does not wait for the worker's engine to open, and the
// page answers reads of persistent entries meanwhile. The engine is held up the way a browser holds it
// up: another tab keeps a read-write transaction on the event log, which the engine reads as it opens.
import { describe, expect, it } from 'vitest';
import type { CacheChange } from '../../src/index';
import { uniqueName, useBrowser } from './chromium';
import { openTab } from './tabs';

const browser = useBrowser();

describe('a cache starting while its engine cannot open yet', () => {
  it('createCache resolves and a get is answered by the page; a call made meanwhile waits for the open, then answers', async () => {
    const name = uniqueName('startup');
    const writer = await openTab(browser, name);
    await writer.page.evaluate(async () => {
      await window.tab.cache!.set('track_metadata', 'k', { title: 'stored' });
      await window.tab.cache!.close();
    });
    await writer.page.close();

    const holder = await holdEventLog(name);
    const reader = await browser.open('/test/browser/pages/reprise.html');
    await reader.page.waitForFunction(() => 'tab' in window);
    const started = await reader.page.evaluate(async (name) => {
      const timeout = new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), 5000));
      const opened = await Promise.race([window.tab.open({ name }).then(() => 'opened' as const), timeout]);
      if (opened !== 'opened') return { opened };
      const cache = window.tab.cache!;
      const value = await Promise.race([cache.get('track_metadata', 'k'), timeout]);
      const state = { stats: 'pending' as string };
      (window as unknown as { stats: Promise<unknown> }).stats = cache.stats().then((stats) => (state.stats = stats.degraded === null ? 'indexeddb' : 'degraded'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { opened, value, stats: state.stats };
    }, name);
    // All of that happened while the other tab still held the log.
    await holder.stillHeld();
    expect(started).toEqual({ opened: 'opened', value: { title: 'stored' }, stats: 'pending' });

    await holder.release();
    expect(await reader.page.evaluate(() => (window as unknown as { stats: Promise<unknown> }).stats)).toBe('indexeddb');
    expect(reader.errors).toEqual([]);
  });

  it('its watchers and listeners are told what another tab changed meanwhile', async () => {
    const name = uniqueName('startup');
    const writer = await openTab(browser, name);
    // The writer's engine must be open before the log is held: createCache resolves before it is, and one
    // still opening would wait for the log too, with its set (this test timed out so, once in five runs).
    await writer.page.evaluate(() => window.tab.cache!.stats());
    const holder = await holdEventLog(name);
    const reader = await openTab(browser, name);
    await reader.page.evaluate(() => {
      const seen: CacheChange[] = [];
      (window as unknown as { watched: CacheChange[] }).watched = seen;
      window.tab.cache!.watch('track_metadata', 'song', (change) => void seen.push(change));
    });
    await writer.page.evaluate(() => window.tab.cache!.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' }));
    // The writer's event waits for the log too: it is logged once the holder lets go.
    const emitted = writer.page.evaluate(() => window.tab.cache!.emit({ eventType: 'track_modified', trackId: 't2' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Both happened while the reader's engine could not open (its start was waiting on the log).
    await holder.stillHeld();
    const watched = () => reader.page.evaluate(() => (window as unknown as { watched: CacheChange[] }).watched);

    await holder.release();
    await emitted;
    await reader.page.waitForFunction(() => (window as unknown as { watched: unknown[] }).watched.length >= 1 && window.tab.events.length >= 1, null, { timeout: 10_000 });
    expect(await watched()).toEqual([{ type: 'track_metadata', kind: 'set', keys: ['song'], source: 'remote' }]);
    expect(await reader.page.evaluate(() => window.tab.events.map(({ event, context }) => [event.eventType, event.trackId, context.source]))).toEqual([
      ['track_modified', 't2', 'remote'],
    ]);
    expect([...writer.errors, ...reader.errors]).toEqual([]);
  });
});

/**
 * Another tab holds a read-write transaction on the event log, kept alive by one request after another,
 * until `release`: an engine cannot open meanwhile (it reads the log as it opens).
 */
async function holdEventLog(name: string) {
  const holder = await browser.open('/test/browser/pages/blank.html');
  await holder.page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          const store = db.transaction(['events'], 'readwrite').objectStore('events');
          const state: { spins: number; release: boolean; done: boolean } = { spins: 0, release: false, done: false };
          (window as unknown as { held: typeof state }).held = state;
          const spin = () => {
            if (state.release) return;
            state.spins++;
            store.count().onsuccess = spin;
          };
          spin();
          store.transaction.oncomplete = () => {
            state.done = true;
            db.close();
          };
          resolve();
        };
      }),
    name,
  );
  return {
    async stillHeld() {
      const held = await holder.page.evaluate(() => (window as unknown as { held: { spins: number; done: boolean } }).held);
      expect(held.done).toBe(false);
      expect(held.spins).toBeGreaterThan(0);
    },
    async release() {
      await holder.page.evaluate(() => void ((window as unknown as { held: { release: boolean } }).held.release = true));
      await holder.page.waitForFunction(() => (window as unknown as { held: { done: boolean } }).held.done);
    },
  };
}
