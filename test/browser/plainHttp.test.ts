// A page served over plain http is not a secure context: no crypto.randomUUID, no crypto.subtle, no
// Web Locks. Reprise must work there like anywhere else, dead-worker detection included.
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import { askAtOnce, openTab, waitForEvents } from './tabs';

const browser = useBrowser({ plainHttp: true, eachTest: true });

describe('on a plain-http page', () => {
  it('works across two tabs, fingerprints like a secure page, and notices a dead worker without Web Locks', async () => {
    const name = uniqueName('http');
    const a = await openTab(browser, name);
    const b = await openTab(browser, name);
    const context = await a.page.evaluate(() => ({
      url: location.origin,
      secure: isSecureContext,
      randomUUID: typeof (crypto as Partial<Crypto>).randomUUID,
      subtle: typeof (crypto as Partial<Crypto>).subtle,
      locks: typeof (navigator as Partial<Navigator>).locks,
    }));
    console.log('plain-http page:', JSON.stringify(context));
    expect(context).toMatchObject({ secure: false, randomUUID: 'undefined', subtle: 'undefined', locks: 'undefined' });
    expect(context.url).toMatch(/^http:\/\/reprise\.test:\d+$/);

    await a.page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' });
      await cache.set('album_year', 'album', 1999);
    });
    expect(await b.page.evaluate(() => window.tab.cache!.getMany('track_metadata', ['song']))).toEqual([{ title: 'Song' }]);
    await b.page.evaluate(() => window.tab.cache!.set('generic', 'mine', 'b', { trackId: 't1' }));
    await a.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't1' }));
    await waitForEvents(b.page, 1);
    expect(await b.page.evaluate(async () => [await window.tab.cache!.get('track_metadata', 'song'), await window.tab.cache!.get('generic', 'mine')])).toEqual([
      undefined,
      undefined,
    ]);
    expect(await a.page.evaluate(() => window.tab.cache!.cleanup())).toEqual({ expired: 0, evicted: 0 });
    // What Python's hashlib gives for the original tool's canonical text of this track (test/fixtures/fingerprints).
    expect(await a.page.evaluate(() => window.Reprise.fingerprintTrack({ persistentId: 'p', location: 'l' }))).toBe(
      '7f272271a03e631396b31ec50bf95cd1c965b76e8cda7ee14f3b09a8f75e9ea7',
    );

    const dead = await a.page.evaluate(async () => {
      const started = performance.now();
      window.tab.workers.at(-1)!.terminate();
      // A call only the worker answers (this page reads a persistent hit itself).
      const code = await window.tab.cache!.get('generic', 'mine').then(
        () => 'answered',
        (error: { code?: string }) => error.code,
      );
      return { code, seconds: (performance.now() - started) / 1000, after: await window.tab.cache!.get('album_year', 'album'), workers: window.tab.workers.length };
    });
    console.log('a worker terminated on a plain-http page:', JSON.stringify(dead));
    expect(dead).toMatchObject({ code: 'worker_failed', after: 1999, workers: 2 });
    expect(dead.seconds).toBeLessThan(10);
  });

  it.each(['album_year', 'generic'])("%s: three tabs asking for one key at once call the fetcher once (the tabs elect the fetching one over the channel)", async (type) => {
    const name = uniqueName('http-fetch');
    const tabs = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    const seen = await askAtOnce(tabs, type, false);
    console.log(`plain http, ${type}, three tabs at once:`, JSON.stringify(seen));
    expect(seen.reduce((sum, { calls }) => sum + calls, 0)).toBe(1);
    expect(seen.map(({ result }) => (result.ok ? result.source : result.message)).sort()).toEqual(['fetch', 'shared', 'shared']);
    const failed = await askAtOnce(tabs, type, true).then((answers) => answers.map(({ result }) => result));
    // The key is cached now: no fetch, no failure.
    expect(failed.map((result) => result.ok && result.source)).toEqual(['cache', 'cache', 'cache']);
    for (const { errors } of tabs) expect(errors).toEqual([]);
  });
});
