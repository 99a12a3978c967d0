// Options in a real page: those that cannot apply to a worker are refused before one starts, and the
// worker's own reports reach the page's logger.
import { describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';

const browser = useBrowser();

describe('createCache options in Chromium', () => {
  it('indexedDB or now with the default worker: invalid_argument, and no worker starts', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'Reprise' in window);
    const codes = await page.evaluate(async () => {
      const attempt = (options: Parameters<typeof window.Reprise.createCache>[0]) =>
        window.Reprise.createCache(options).then(
          () => 'resolved',
          (error: unknown) => (window.Reprise.isCacheError(error) ? `${error.code}: ${error.message}` : String(error)),
        );
      return [await attempt({ name: 'refused', indexedDB }), await attempt({ name: 'refused', now: () => Date.now() })];
    });
    console.log('refused options:', codes);
    expect(codes).toEqual([
      'invalid_argument: indexedDB applies only to the in-process engine: pass worker: false, or leave it out',
      'invalid_argument: now applies only to the in-process engine: pass worker: false, or leave it out',
    ]);
    expect(page.workers()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("the worker's report that it cannot open IndexedDB reaches the page's logger as a CacheError", async () => {
    const { page } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'tab' in window);
    const seen = await page.evaluate(async () => {
      const name = `newer-${Math.random()}`;
      // A newer Reprise left its database here, marked with its layout: the worker refuses it with a VersionError.
      await new Promise((resolve, reject) => {
        const request = indexedDB.open(name, 99);
        request.onupgradeneeded = () => request.result.createObjectStore('layout:99');
        request.onsuccess = () => resolve(request.result.close());
        request.onerror = () => reject(request.error);
      });
      const logged: { message: string; name: unknown; code: unknown; text: unknown }[] = [];
      const logger = {
        error: (message: string, error: unknown) =>
          void logged.push({ message, name: (error as Error)?.name, code: (error as { code?: unknown })?.code, text: (error as Error)?.message }),
      };
      await window.tab.open({ name, logger });
      await window.tab.cache!.set('track_metadata', 'k', 1);
      const started = performance.now();
      while (logged.length === 0 && performance.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
      return { logged, degraded: (await window.tab.cache!.stats()).degraded, value: await window.tab.cache!.get('track_metadata', 'k') };
    });
    console.log("worker's report on the page:", JSON.stringify(seen));
    expect(seen.logged).toHaveLength(1);
    expect(seen.logged[0]).toMatchObject({ name: 'CacheError', code: 'storage_unavailable' });
    expect(seen.logged[0]?.message).toMatch(/^Reprise: IndexedDB is unusable, keeping persistent types in memory/);
    expect(seen.degraded).toMatch(/version/i);
    expect(seen.value).toBe(1);
  });

  it("updatePolicy on the SmartCacheConfig a cache was opened with reaches its worker, and a restarted worker", async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'tab' in window);
    const removed = await page.evaluate(async () => {
      const config = new window.Reprise.SmartCacheConfig({ caching: { customTypes: { art: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1 } } } });
      await window.tab.open({ name: `update-${Math.random()}`, config });
      const cache = window.tab.cache!;
      const everything = async () => {
        await cache.set('generic', 'k', 1);
        await cache.set('art' as never, 'k', 1 as never);
        const { invalidated } = await cache.emit({ eventType: 'manual_invalidation' });
        return { generic: invalidated.generic ?? null, art: invalidated['art'] ?? null };
      };
      // generic and art are time-based: events leave them alone...
      const before = await everything();
      // ...until the app makes them event-driven, in the worker too.
      config.updatePolicy('generic', { invalidationStrategy: 'event_driven' });
      config.updatePolicy('art', { invalidationStrategy: 'hybrid' });
      const after = await everything();
      // A new worker starts from the config as it is now.
      window.tab.workers.at(-1)!.terminate();
      await cache.stats().catch(() => {});
      const restarted = await everything();
      return { before, after, restarted, workers: window.tab.workers.length };
    });
    expect(removed).toEqual({ before: { generic: null, art: null }, after: { generic: 1, art: 1 }, restarted: { generic: 1, art: 1 }, workers: 2 });
    // The worker terminated on purpose is the one thing the default logger reports.
    expect(errors.filter((error) => !error.startsWith('Reprise: the cache worker died'))).toEqual([]);
  });
});
