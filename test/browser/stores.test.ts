import { describe, expect, it } from 'vitest';
import { storeContract } from '../contract/storeContract';
import { useBrowser } from './chromium';

const browser = useBrowser();

describe('the store contract in Chromium', () => {
  it('holds for native IndexedDB and for memory', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/stores.html');
    await page.waitForFunction(() => 'runStoreContract' in window);
    const results = await page.evaluate(() => window.runStoreContract());
    const cases = Object.keys(storeContract);
    expect(results.map((result) => `${result.store}: ${result.name}`)).toEqual(
      ['IdbStore', 'MemoryStore'].flatMap((store) => cases.map((name) => `${store}: ${name}`)),
    );
    expect(results.filter((result) => result.error !== null)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
