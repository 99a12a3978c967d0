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
