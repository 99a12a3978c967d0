// A cache's start in a real page: createCache does not wait for the worker's engine to open, and the
// page answers reads of persistent entries meanwhile. The engine is held up the way a browser holds it
// up: another tab keeps a read-write transaction on the event log, which the engine reads as it opens.
import { describe, expect, it } from 'vitest';
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

    // Another tab: a read-write transaction on the event log, kept alive by one request after another.
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
    const spins = () => holder.page.evaluate(() => (window as unknown as { held: { spins: number; done: boolean } }).held);

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
    const held = await spins();
    expect(held.done).toBe(false);
    expect(held.spins).toBeGreaterThan(0);
    expect(started).toEqual({ opened: 'opened', value: { title: 'stored' }, stats: 'pending' });

    await holder.page.evaluate(() => void ((window as unknown as { held: { release: boolean } }).held.release = true));
    await holder.page.waitForFunction(() => (window as unknown as { held: { done: boolean } }).held.done);
    expect(await reader.page.evaluate(() => (window as unknown as { stats: Promise<unknown> }).stats)).toBe('indexeddb');
    expect(reader.errors).toEqual([]);
  });
});
