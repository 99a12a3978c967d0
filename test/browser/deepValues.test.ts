// Deeply nested values in a real page and its worker: Chromium's worker reads back arrays nested about
// 1,050 levels, objects 1,260, Maps and Sets 2,620; a value (or an event's metadata) nested deeper than
// 500 levels is refused before it is stored, by the page before it is sent: one the worker could not even
// read costs no worker.
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';

const browser = useBrowser();

describe('deeply nested values in Chromium', () => {
  it('deeper than 500 levels: not_cloneable in both tiers, also too deep for the worker to read (no worker lost); 500 levels: stored and read back; and the cache answers after', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'Reprise' in window);
    const seen = await page.evaluate(async (name) => {
      const { createCache, isCacheError } = window.Reprise;
      const cache = await createCache({ name });
      const nested = (kind: string, levels: number) => {
        let value: unknown = 'leaf';
        for (let level = 0; level < levels; level++) value = kind === 'array' ? [value] : kind === 'object' ? { a: value } : kind === 'Map' ? new Map([['a', value]]) : new Set([value]);
        return value;
      };
      const levelsOf = (value: unknown) => {
        let levels = 0;
        for (; typeof value === 'object' && value !== null; levels++) value = Array.isArray(value) ? value[0] : value instanceof Map ? value.get('a') : value instanceof Set ? [...value][0] : (value as { a: unknown }).a;
        return value === 'leaf' ? levels : -1;
      };
      // Settles within 8 s, or says it hung.
      const outcome = (call: Promise<unknown>) =>
        Promise.race([
          call.then(
            (value) => (value === undefined ? 'resolved' : `resolved ${levelsOf(value)} levels`),
            (error: unknown) => (isCacheError(error) ? `${error.code}: ${error.message}` : `raw ${String(error)}`),
          ),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 8000)),
        ]);
      const seen: string[] = [];
      for (const type of ['track_metadata', 'generic'] as const) {
        for (const kind of ['array', 'object', 'Map', 'Set']) {
          seen.push(`${type} ${kind} 501: ${await outcome(cache.set(type, `deep ${kind}`, nested(kind, 501)))}`);
          seen.push(`${type} ${kind} 500: ${await outcome(cache.set(type, kind, nested(kind, 500)))}, ${await outcome(cache.get(type, kind))}`);
        }
      }
      // Ones its worker could not read at all (Chromium's page posts them, the worker cannot rebuild them): refused
      // by the page, so the worker and its memory tier (the generic Map above) live on.
      seen.push(`generic object 2000: ${await outcome(cache.set('generic', 'unreadable', nested('object', 2000)))}`);
      seen.push(`metadata 2000: ${await outcome(cache.emit({ eventType: 'library_sync', metadata: { deep: nested('object', 2000) } }))}`);
      seen.push(`then: ${await outcome(cache.set('generic', 'flat', 1))}, ${await outcome(cache.get('track_metadata', 'Map'))}, ${await outcome(cache.get('generic', 'Map'))}`);
      seen.push(`close: ${await outcome(cache.close())}`);
      return seen;
    }, uniqueName('deep'));
    console.log(seen.join('\n'));
    const refused = (type: string) => `not_cloneable: The value of "deep ${type}" cannot be stored: it is nested deeper than 500 levels`;
    const expected: string[] = [];
    for (const type of ['track_metadata', 'generic']) {
      for (const kind of ['array', 'object', 'Map', 'Set']) expected.push(`${type} ${kind} 501: ${refused(kind)}`, `${type} ${kind} 500: resolved, resolved 500 levels`);
    }
    expect(seen.slice(0, -4)).toEqual(expected);
    expect(seen.slice(-4)).toEqual([
      `generic object 2000: not_cloneable: The value of "unreadable" cannot be stored: it is nested deeper than 500 levels`,
      expect.stringMatching(/^metadata 2000: not_cloneable: .*500 levels/),
      'then: resolved, resolved 500 levels, resolved 500 levels',
      'close: resolved',
    ]);
    // No worker died (the page's logger, console.error by default, would tell).
    expect(errors).toEqual([]);
  });
});
