// watch across real tabs: tab B's watcher sees tab A's set, delete, invalidation and clear as remote (an event only when it removed the key).
import { expect, it } from 'vitest';
import type { CacheChange } from '../../src/index';
import { uniqueName, useBrowser } from './chromium';
import { openTab } from './tabs';

const browser = useBrowser();

it("a watcher in tab B sees tab A's set, delete, invalidation and clear, as remote, and not an event that removed another key", async () => {
  const name = uniqueName('watch');
  const [a, b] = [await openTab(browser, name), await openTab(browser, name)];
  await b.page.evaluate(() => {
    const seen: CacheChange[] = [];
    (window as unknown as { watched: CacheChange[] }).watched = seen;
    window.tab.cache!.watch('track_metadata', 'song', (change) => void seen.push(change));
  });
  const watched = () => b.page.evaluate(() => (window as unknown as { watched: CacheChange[] }).watched);
  const step = async (count: number, action: () => Promise<unknown>) => {
    await action();
    await b.page.waitForFunction((count) => (window as unknown as { watched: unknown[] }).watched.length >= count, count, { timeout: 10_000 });
  };
  await step(1, () => a.page.evaluate(() => window.tab.cache!.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' })));
  await step(2, () => a.page.evaluate(() => window.tab.cache!.delete('track_metadata', 'song')));
  await step(3, () => a.page.evaluate(() => window.tab.cache!.set('track_metadata', 'song', { title: 'Again' }, { trackId: 't1' })));
  // Another track's entry removed: not this key's change (heard, it would stand fourth below).
  await a.page.evaluate(async () => {
    await window.tab.cache!.set('track_metadata', 'other', { title: 'Other' }, { trackId: 't2' });
    await window.tab.cache!.emit({ eventType: 'track_removed', trackId: 't2' });
  });
  await step(4, () => a.page.evaluate(() => window.tab.cache!.emit({ eventType: 'track_removed', trackId: 't1' })));
  await step(5, () => a.page.evaluate(() => window.tab.cache!.clear('track_metadata')));
  const seen = await watched();
  console.log("tab B's watcher saw:", JSON.stringify(seen));
  expect(seen).toEqual([
    { type: 'track_metadata', kind: 'set', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'delete', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'set', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'invalidate', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'clear', keys: null, source: 'remote' },
  ]);
  expect([...a.errors, ...b.errors]).toEqual([]);
});

it('a watcher in the same tab has heard a change when the call resolves (the worker sends it ahead of the answer)', async () => {
  const name = uniqueName('watch-local');
  const a = await openTab(browser, name);
  const { early, late } = await a.page.evaluate(async () => {
    const cache = window.tab.cache!;
    const heard = { early: 0, late: 0 };
    for (let index = 0; index < 200; index++) {
      const type = index % 2 ? 'generic' : 'track_metadata';
      let seen = 0;
      const stop = cache.watch(type, `k${index}`, () => void seen++);
      await cache.set(type, `k${index}`, index);
      if (seen) heard.early++;
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (seen) heard.late++;
      stop();
    }
    return heard;
  });
  console.log(`of 200 sets, the watcher had heard ${early} when the call resolved, ${late} a task later`);
  // Two ports (the callback's, the answer's): the platform does not promise their order; Chromium keeps it.
  expect(early).toBeGreaterThanOrEqual(180);
  expect(late).toBe(200);
  expect(a.errors).toEqual([]);
});
