// Helpers for tests that drive several pages (tabs) of one browser context.
import type { Page } from 'playwright-core';
import type { CacheConfig } from '../../src/index';
import type { Browser, TestPage } from './chromium';

/** `generic` is made event-driven, so events reach each tab's memory tier too. */
export const TAB_CONFIG: CacheConfig = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' } } } };

/** Opens the harness page and a cache in it (in a worker, as in production). */
export async function openTab(browser: Browser, name: string, config: CacheConfig = TAB_CONFIG): Promise<TestPage> {
  const tab = await browser.open('/test/browser/pages/reprise.html');
  await tab.page.waitForFunction(() => 'tab' in window);
  await tab.page.evaluate(({ name, config }) => window.tab.open({ name, config }), { name, config });
  return tab;
}

/** Waits until the page's cache has seen `count` events (local or remote). */
export async function waitForEvents(page: Page, count: number): Promise<void> {
  await page.waitForFunction((count) => window.tab.events.length >= count, count, { timeout: 10_000 });
}

/**
 * Each tab asks for the key at once, with a fetcher that answers (or fails) after a second and counts its calls.
 * Each tab's engine is open first: createCache resolves before it is, and a tab whose engine opened only after
 * another tab's fetch ended would have asked after it, not at once (a memory type's value it then missed).
 */
export async function askAtOnce(tabs: TestPage[], type: string, fail: boolean) {
  await Promise.all(tabs.map(({ page }) => page.evaluate(() => window.tab.cache!.stats())));
  return Promise.all(
    tabs.map(({ page }) =>
      page.evaluate(
        async ({ type, fail }) => {
          (window as unknown as { fetcherCalls: number }).fetcherCalls ??= 0;
          const fetcher = async () => {
            (window as unknown as { fetcherCalls: number }).fetcherCalls++;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            if (fail) throw new Error('API down');
            return { year: 1999 };
          };
          const result = await window.tab.cache!.resolve(type as 'album_year', 'k', fetcher).then(
            (resolved) => ({ ok: true as const, ...resolved }),
            (error: Error) => ({ ok: false as const, message: error.message }),
          );
          return { result, calls: (window as unknown as { fetcherCalls: number }).fetcherCalls, has: await window.tab.cache!.has(type as 'album_year', 'k') };
        },
        { type, fail },
      ),
    ),
  );
}

/**
 * How many workers the page has made, and whether that must be two: a worker that dies within 5 s of the
 * last one's start is replaced only by the next call (or 5 s later), but on a slow machine those 5 s may
 * have passed by then, and a third start at once.
 */
export async function workersMade(page: Page): Promise<{ workers: number; withinRestartWindow: boolean }> {
  return page.evaluate(() => ({
    workers: window.tab.workers.length,
    withinRestartWindow: performance.timeOrigin + performance.now() - window.tab.workersMadeAt[1]! < 4500,
  }));
}
