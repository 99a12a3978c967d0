// One fetch for all tabs, in real Chromium: Web Locks elect the tab that fetches, the others wait and
// take what it stored (or the value or error it announced).
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import { askAtOnce, openTab } from './tabs';

const browser = useBrowser({ eachTest: true });

describe.each(['album_year', 'generic'])('%s: three tabs asking for one key at once', (type) => {
  it("call the fetcher once in total: source 'fetch' once and 'shared' twice, and every tab holds the value", async () => {
    const name = uniqueName('fetch');
    const tabs = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    const seen = await askAtOnce(tabs, type, false);
    console.log(`${type}, three tabs at once:`, JSON.stringify(seen));
    expect(seen.reduce((sum, { calls }) => sum + calls, 0)).toBe(1);
    expect(seen.map(({ result }) => (result.ok ? result.source : result.message)).sort()).toEqual(['fetch', 'shared', 'shared']);
    for (const { result, has } of seen) {
      expect(result).toMatchObject({ ok: true, value: { year: 1999 } });
      expect(has).toBe(true);
    }
    for (const { errors } of tabs) expect(errors).toEqual([]);
  });

  it('a failing shared fetch reaches every caller, and nothing is cached', async () => {
    const name = uniqueName('fetch');
    const tabs = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    const seen = await askAtOnce(tabs, type, true);
    console.log(`${type}, a failing fetch:`, JSON.stringify(seen));
    expect(seen.reduce((sum, { calls }) => sum + calls, 0)).toBe(1);
    for (const { result, has } of seen) {
      expect(result).toEqual({ ok: false, message: 'API down' });
      expect(has).toBe(false);
    }
  });
});
