// The back/forward cache: a page using Reprise must stay eligible (as far as Reprise is concerned) and
// catch up when restored. Playwright disables the cache by default; these tests turn it back on, and
// read Chromium's own reasons for not restoring a page (Page.backForwardCacheNotUsed).
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import { openTab, waitForEvents } from './tabs';

const browser = useBrowser({ backForwardCache: true, eachTest: true });

/** Chromium's reasons for not restoring pages, as they come. */
async function watchBackForwardCache(page: Page): Promise<{ cdp: CDPSession; reasons: string[] }> {
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Page.enable');
  const reasons: string[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (event) => {
    for (const explanation of event.notRestoredExplanations) reasons.push(`${explanation.type}: ${explanation.reason}`);
  });
  await page.evaluate(() => {
    const shown: boolean[] = [];
    Object.assign(window, { shown });
    window.addEventListener('pageshow', (event) => shown.push(event.persisted));
  });
  return { cdp, reasons };
}

/** Navigates to another page of the origin, collects garbage (twice, a second apart) while away, and goes back. */
async function awayAndBack(page: Page, cdp: CDPSession, whileAway: () => Promise<void> = async () => {}): Promise<boolean> {
  const url = page.url();
  await page.goto(url.replace(/[^/]*$/, 'blank.html'));
  for (let round = 0; round < 2; round++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await whileAway();
  // A page restored from the cache fires no load event: wait for the navigation to commit only.
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForFunction(() => 'shown' in window);
  const shown = await page.evaluate(() => (window as unknown as { shown: boolean[] }).shown);
  return shown.includes(true);
}

describe('the back/forward cache', () => {
  it('restores a page that made many calls, like the same page without Reprise, after garbage collection while cached', async () => {
    const without = await browser.open('/test/browser/pages/reprise.html');
    const plain = await watchBackForwardCache(without.page);
    const restoredWithout = await awayAndBack(without.page, plain.cdp);

    const results: { restored: boolean; reasons: string[] }[] = [];
    for (let round = 0; round < 3; round++) {
      const { page } = await openTab(browser, uniqueName('bfcache'));
      await page.evaluate(async () => {
        const cache = window.tab.cache!;
        for (let index = 0; index < 40; index++) {
          await cache.set('generic', `k${index}`, index);
          await cache.get('track_metadata', `k${index}`);
          await cache.getMany('generic', [`k${index}`, 'none']);
        }
        await cache.emit({ eventType: 'track_added', trackId: 't1' });
        await cache.stats();
      });
      const { cdp, reasons } = await watchBackForwardCache(page);
      results.push({ restored: await awayAndBack(page, cdp), reasons });
      await page.close();
    }
    console.log('back/forward cache: without Reprise', JSON.stringify({ restored: restoredWithout, reasons: plain.reasons }), 'with Reprise', JSON.stringify(results));
    expect(restoredWithout).toBe(true);
    for (const result of results) expect(result).toEqual({ restored: true, reasons: [] });
  });

  it('a restored page catches up on an event another tab emitted while it was cached', async () => {
    const name = uniqueName('bfcache');
    const a = await openTab(browser, name);
    const b = await openTab(browser, name);
    await a.page.evaluate(async () => {
      await window.tab.cache!.set('generic', 'mine', 'a', { trackId: 't1' });
      await window.tab.cache!.set('generic', 'other', 'a', { trackId: 't2' });
    });
    const { cdp, reasons } = await watchBackForwardCache(a.page);
    const restored = await awayAndBack(a.page, cdp, async () => {
      await b.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't1' }));
    });
    await waitForEvents(a.page, 1);
    const seen = await a.page.evaluate(async () => ({
      event: window.tab.events[0],
      values: await window.tab.cache!.getMany('generic', ['mine', 'other']),
    }));
    console.log('restored after another tab emitted:', JSON.stringify({ restored, reasons, seen: seen.event?.context }));
    expect({ restored, reasons }).toEqual({ restored: true, reasons: [] });
    expect(seen.event).toMatchObject({ event: { eventType: 'manual_invalidation', trackId: 't1' }, context: { source: 'remote' } });
    expect(seen.values).toEqual([undefined, 'a']);
  });
  it("a restored page whose own pageshow or resume listener (added before the cache's) reads at once does not get what another tab cleared while it was cached", async () => {
    const name = uniqueName('bfcache');
    const a = await browser.open('/test/browser/pages/reprise.html');
    await a.page.waitForFunction(() => 'tab' in window);
    // The app listens before it creates its cache, so its listeners run before Reprise's: it reads a time-based memory type at once.
    await a.page.evaluate(async (name) => {
      const reads: { on: string; value: unknown }[] = [];
      Object.assign(window, { reads });
      const read = (on: string) => void window.tab.cache!.get('negative_result', 'n').then((value) => reads.push({ on, value }));
      document.addEventListener('resume', () => read('resume'));
      window.addEventListener('pageshow', (event) => event.persisted && read('pageshow'));
      await window.tab.open({ name });
      await window.tab.cache!.set('negative_result', 'n', 'not found');
    }, name);
    const b = await openTab(browser, name, {});
    const { cdp, reasons } = await watchBackForwardCache(a.page);
    const restored = await awayAndBack(a.page, cdp, async () => {
      await b.page.evaluate(() => window.tab.cache!.clear('negative_result'));
    });
    await a.page.waitForFunction(() => (window as unknown as { reads: unknown[] }).reads.length > 0);
    const reads = await a.page.evaluate(() => (window as unknown as { reads: { on: string; value: unknown }[] }).reads);
    console.log('read by the app as the page was restored:', JSON.stringify({ restored, reasons, reads }));
    expect({ restored, reasons }).toEqual({ restored: true, reasons: [] });
    expect(reads[0]).toMatchObject({ value: undefined });
  });
});
