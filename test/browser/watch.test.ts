// watch across real tabs: tab B's watcher sees tab A's set, delete, invalidation and clear as remote.
import { expect, it } from 'vitest';
import type { CacheChange } from '../../src/index';
import { uniqueName, useBrowser } from './chromium';
import { openTab } from './tabs';

const browser = useBrowser();

it("a watcher in tab B sees tab A's set, delete, invalidation and clear, as remote", async () => {
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
  await step(4, () => a.page.evaluate(() => window.tab.cache!.emit({ eventType: 'track_removed', trackId: 't1' })));
  await step(5, () => a.page.evaluate(() => window.tab.cache!.clear('track_metadata')));
  const seen = await watched();
  console.log("tab B's watcher saw:", JSON.stringify(seen));
  expect(seen).toEqual([
    { type: 'track_metadata', kind: 'set', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'delete', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'set', keys: ['song'], source: 'remote' },
    { type: 'track_metadata', kind: 'invalidate', keys: null, source: 'remote' },
    { type: 'track_metadata', kind: 'clear', keys: null, source: 'remote' },
  ]);
  expect([...a.errors, ...b.errors]).toEqual([]);
});
