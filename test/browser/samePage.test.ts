// Two or more caches of one name in one page, as apps make them: React's Strict Mode runs an effect
// twice (the first cache closed by its cleanup as the second starts), and a dev server's hot reload
// re-runs a module that creates one while the old one is still open. Each is another tab to the others.
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';

const browser = useBrowser();

describe('caches of one name in one page', () => {
  it("Strict Mode: two started at once, the first closed as it resolves (its engine still opening): the second keeps IndexedDB, no worker is left of the first, nothing is logged", async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    page.on('console', (message) => message.type() === 'log' && console.log(message.text()));
    await page.waitForFunction(() => 'Reprise' in window);
    for (const delay of [-1, 0, 20]) {
      const name = uniqueName('strict');
      const result = await page.evaluate(
        async ({ name, delay }) => {
          const logged: string[] = [];
          const logger = { error: (message: string, error: unknown) => void logged.push(`${message} ${String(error)}`) };
          const { createCache } = window.Reprise;
          const t0 = performance.now();
          const first = createCache({ name, logger });
          // A cleanup that closes the first once it has it; the second mount starts now (or a little later).
          const closed = first.then((cache) => cache.close());
          if (delay >= 0) await new Promise((resolve) => setTimeout(resolve, delay));
          const second = await createCache({ name, logger });
          await closed;
          const t1 = performance.now();
          await second.set('track_metadata', 'k', { title: 'T' }, { trackId: 't' });
          const t2 = performance.now();
          const value = await second.get('track_metadata', 'k');
          const stats = await second.stats();
          await second.close();
          console.log(`strict ${delay}: both created ${Math.round(t1 - t0)} ms, first set ${Math.round(t2 - t1)} ms`);
          return { value, degraded: stats.degraded, storage: stats.types.track_metadata.storage, logged };
        },
        { name, delay },
      );
      expect(result, `delay ${delay}`).toEqual({ value: { title: 'T' }, degraded: null, storage: 'indexeddb', logged: [] });
    }
    // Each worker gone once Playwright hears of it (its detach event comes when it does).
    await expect.poll(() => page.workers().length, { timeout: 5000 }).toBe(0);
    expect(errors).toEqual([]);
  });

  it("a write and an event through one reach the other's reads, watchers and listeners, also when it is closed at once after making them", async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'Reprise' in window);
    const name = uniqueName('pair');
    const result = await page.evaluate(async (name) => {
      const logged: string[] = [];
      const logger = { error: (message: string, error: unknown) => void logged.push(`${message} ${String(error)}`) };
      const { createCache } = window.Reprise;
      const [a, b] = await Promise.all([createCache({ name, logger }), createCache({ name, logger })]);
      const watched: unknown[] = [];
      const heard: unknown[] = [];
      b.watch('track_metadata', null, (change) => void watched.push(change));
      b.on('*', (event, context) => void heard.push([event.eventType, context.source, context.invalidated]));
      await a.set('track_metadata', 'k', { title: 'T' }, { trackId: 't' });
      const seen = await b.get('track_metadata', 'k');
      void a.set('track_metadata', 'j', { title: 'J' }, { trackId: 'u' });
      void a.emit({ eventType: 'track_removed', trackId: 't' });
      await a.close();
      const afterClose = await b.getMany('track_metadata', ['k', 'j']);
      const started = performance.now();
      while ((watched.length < 3 || heard.length < 1) && performance.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
      await b.close();
      return { seen, afterClose, watched: watched.map((change) => JSON.stringify(change)).sort(), heard, logged };
    }, name);
    expect(result).toEqual({
      seen: { title: 'T' },
      afterClose: [undefined, { title: 'J' }],
      watched: [
        { type: 'track_metadata', kind: 'set', keys: ['k'], source: 'remote' },
        { type: 'track_metadata', kind: 'set', keys: ['j'], source: 'remote' },
        { type: 'track_metadata', kind: 'invalidate', keys: ['k'], source: 'remote' },
      ]
        .map((change) => JSON.stringify(change))
        .sort(),
      heard: [['track_removed', 'remote', { track_metadata: 1, successful_api_metadata: 0 }]],
      logged: [],
    });
    // Each worker gone once Playwright hears of it (its detach event comes when it does).
    await expect.poll(() => page.workers().length, { timeout: 5000 }).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a getOrSet in each at once, the first closed while its fetcher never answers: the second fetches for itself at once; await using closes', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'Reprise' in window);
    const name = uniqueName('fetch');
    const result = await page.evaluate(async (name) => {
      const logged: string[] = [];
      const logger = { error: (message: string, error: unknown) => void logged.push(`${message} ${String(error)}`) };
      const { createCache } = window.Reprise;
      const a = await createCache({ name, logger });
      const b = await createCache({ name, logger });
      const first = a.getOrSet('album_year', 'k', () => new Promise(() => {})).catch((error: { code?: string }) => error.code);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = b.resolve('album_year', 'k', async () => ({ year: 2 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = performance.now();
      await a.close();
      const answer = await second;
      const took = performance.now() - closing;
      const has = await b.has('album_year', 'k');
      await b.close();
      // await using, as TypeScript compiles it where the platform has the symbol.
      const c = await createCache({ name, logger });
      await c[Symbol.asyncDispose]();
      const afterDispose = await c.get('album_year', 'k').catch((error: { code?: string }) => error.code);
      return { first: await first, answer, quick: took < 3000, has, afterDispose, logged };
    }, name);
    expect(result).toEqual({ first: 'closed', answer: { value: { year: 2 }, source: 'fetch' }, quick: true, has: true, afterDispose: 'closed', logged: [] });
    // Each worker gone once Playwright hears of it (its detach event comes when it does).
    await expect.poll(() => page.workers().length, { timeout: 5000 }).toBe(0);
    expect(errors).toEqual([]);
  });

  it('hot reload: the new module\'s cache adds a persistent custom type while the old one imports: the import commits, neither degrades, counts are each its own', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    page.on('console', (message) => message.type() === 'log' && console.log(message.text()));
    await page.waitForFunction(() => 'Reprise' in window);
    const name = uniqueName('hmr');
    const result = await page.evaluate(async (name) => {
      const logged: string[] = [];
      const logger = { error: (message: string, error: unknown) => void logged.push(`${message} ${String(error)}`) };
      const { createCache } = window.Reprise;
      const old = await createCache({ name, logger });
      await old.set('track_metadata', 'seen', 1);
      await old.get('track_metadata', 'seen');
      let done = 0;
      const entries = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: { i, pad: 'x'.repeat(100) } }));
      const t0 = performance.now();
      const writing = old.setMany('track_metadata', entries, { onProgress: (d) => void (done = d) });
      while (done === 0 && performance.now() - t0 < 10_000) await new Promise((resolve) => setTimeout(resolve, 5));
      const t1 = performance.now();
      const fresh = await createCache({
        name,
        logger,
        config: { caching: { customTypes: { art: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based', maxSizeMb: 5 } } } },
      });
      await fresh.set('art' as never, 'a', 'cover' as never);
      const t2 = performance.now();
      const wrote = await writing.then(() => 'ok', (error: { code?: string }) => error.code);
      const t3 = performance.now();
      const [oldStats, freshStats] = [await old.stats(), await fresh.stats()];
      const count = (await fresh.keys('track_metadata')).length;
      await fresh.get('track_metadata', 'seen');
      const [oldAfter, freshAfter] = [await old.stats(), await fresh.stats()];
      console.log(`hmr: import ${Math.round(t1 - t0)} ms to its first step, fresh cache and its write ${Math.round(t2 - t1)} ms, import done ${Math.round(t3 - t0)} ms`);
      await Promise.all([old.close(), fresh.close()]);
      return {
        wrote,
        count,
        degraded: [oldStats.degraded, freshStats.degraded],
        art: await createCache({ name, logger, config: { caching: { customTypes: { art: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based', maxSizeMb: 5 } } } } }).then(async (c) => {
          const value = await c.get('art' as never, 'a');
          await c.close();
          return value;
        }),
        hits: [oldAfter.types.track_metadata.hits, freshAfter.types.track_metadata.hits],
        entries: [oldAfter.types.track_metadata.entries, freshAfter.types.track_metadata.entries],
        logged,
      };
    }, name);
    expect(result).toEqual({ wrote: 'ok', count: 10_001, degraded: [null, null], art: 'cover', hits: [1, 1], entries: [10_001, 10_001], logged: [] });
    // Each worker gone once Playwright hears of it (its detach event comes when it does).
    await expect.poll(() => page.workers().length, { timeout: 5000 }).toBe(0);
    expect(errors).toEqual([]);
  });
});
