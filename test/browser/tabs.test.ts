import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import type { CacheConfig } from '../../src/index';
import { TAB_CONFIG, openTab, waitForEvents, workersMade } from './tabs';

const browser = useBrowser({ eachTest: true });

describe('three tabs', () => {
  it('an event emitted in one removes the matching entries in the other two and runs their listeners', async () => {
    const name = uniqueName('tabs');
    const [a, b, c] = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    await a!.page.evaluate(async () => {
      await window.tab.cache!.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' });
    });
    for (const { page } of [b!, c!]) {
      await page.evaluate(async () => {
        const cache = window.tab.cache!;
        await cache.set('generic', 'mine', 'memory', { trackId: 't1' });
        await cache.set('generic', 'other', 'memory', { trackId: 't2' });
      });
    }
    const report = await a!.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't1' }));
    expect(report.invalidated).toMatchObject({ track_metadata: 1 });
    for (const { page, errors } of [b!, c!]) {
      await waitForEvents(page, 1);
      const seen = await page.evaluate(async () => {
        const cache = window.tab.cache!;
        return {
          event: window.tab.events[0],
          values: [await cache.get('track_metadata', 'song'), ...(await cache.getMany('generic', ['mine', 'other']))],
        };
      });
      expect(seen.event).toMatchObject({
        event: { eventType: 'manual_invalidation', trackId: 't1' },
        context: { source: 'remote', invalidated: { track_metadata: 1, generic: 1 } },
      });
      expect(seen.values).toEqual([undefined, undefined, 'memory']);
      expect(errors).toEqual([]);
    }
  });

  it("a read in one tab spares the entry from the eviction another tab's write runs right after it resolves", async () => {
    const name = uniqueName('tabs');
    // About 10 kB for track_metadata; each value below is about 1 kB.
    const config: CacheConfig = { caching: { policies: { track_metadata: { maxSizeMb: 0.01 } } } };
    const [writer, reader] = [await openTab(browser, name, config), await openTab(browser, name, config)];
    await writer!.page.evaluate(async () => {
      for (let index = 0; index < 7; index++) await window.tab.cache!.set('track_metadata', `k${index}`, { index, text: 'x'.repeat(450) });
    });
    // The reader's page reads k0 itself; the writer writes as soon as that read has resolved.
    expect(await reader!.page.evaluate(async () => ((await window.tab.cache!.get('track_metadata', 'k0')) as { index: number }).index)).toBe(0);
    const left = await writer!.page.evaluate(async () => {
      const cache = window.tab.cache!;
      for (let index = 7; index < 9; index++) await cache.set('track_metadata', `k${index}`, { index, text: 'x'.repeat(450) });
      return (await cache.getMany('track_metadata', ['k0', 'k1'])).map((value) => value !== undefined);
    });
    expect(left).toEqual([true, false]);
    expect([...writer!.errors, ...reader!.errors]).toEqual([]);
  });

  it('two of them emitting at once: every tab hears the events in one order, the log’s (each its own among the others’)', async () => {
    const name = uniqueName('tabs-order');
    const tabs = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    const emit = (index: number, prefix: string) =>
      tabs[index]!.page.evaluate(async (prefix) => {
        for (let round = 0; round < 40; round++) await window.tab.cache!.emit({ eventType: 'track_modified', trackId: `${prefix}${round}` });
      }, prefix);
    await Promise.all([emit(0, 'a'), emit(1, 'b')]);
    for (const { page } of tabs) await waitForEvents(page, 80);
    const orders = await Promise.all(tabs.map(({ page }) => page.evaluate(() => window.tab.events.map(({ event }) => event.trackId))));
    // The third tab only listens: it hears them in the log's order.
    expect(orders[0]).toEqual(orders[2]);
    expect(orders[1]).toEqual(orders[2]);
    expect(tabs.flatMap(({ errors }) => errors)).toEqual([]);
  });

  it('after 200 random events and writes spread over the tabs, every tab answers the same for every key', async () => {
    const name = uniqueName('tabs');
    const tabs = [await openTab(browser, name), await openTab(browser, name), await openTab(browser, name)];
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const keys = Array.from({ length: 30 }, (_, index) => `k${index}`);
    const tracks = ['t1', 't2', 't3', 't4', 't5'];
    const fingerprints = ['F1', 'F2'];
    let events = 0;
    let invalidated = 0;
    for (let step = 0; step < 200; step++) {
      const roll = random();
      if (roll < 0.35) {
        // A persistent write in one tab: the others read it from the shared IndexedDB.
        const entry = { type: pick(['track_metadata', 'successful_api_metadata', 'album_year'] as const), key: pick(keys), value: step, trackId: pick(tracks), fingerprint: pick(fingerprints), album: pick(['A', 'B']) };
        await pick(tabs).page.evaluate(
          (entry) => window.tab.cache!.set(entry.type, entry.key, entry.value, { trackId: entry.trackId, fingerprint: entry.fingerprint, album: { artist: 'X', album: entry.album } }),
          entry,
        );
      } else if (roll < 0.6) {
        // A memory write, made in every tab alike, so that their memory tiers can be compared.
        const entry = { key: pick(keys), value: step, trackId: pick(tracks) };
        for (const { page } of tabs) await page.evaluate((entry) => window.tab.cache!.set('generic', entry.key, entry.value, { trackId: entry.trackId }), entry);
      } else {
        const event = pick([
          { eventType: 'track_removed', trackId: pick(tracks) },
          { eventType: 'track_modified', trackId: pick(tracks), metadata: { artist: 'X', album: pick(['A', 'B']) } },
          { eventType: 'fingerprint_changed', fingerprint: pick(fingerprints) },
          { eventType: 'manual_invalidation', trackId: pick(tracks) },
          { eventType: 'library_sync' },
          { eventType: 'track_added', trackId: pick(tracks) },
        ] as const);
        const report = await pick(tabs).page.evaluate((event) => window.tab.cache!.emit(event), event);
        invalidated += Object.values(report.invalidated).reduce<number>((sum, count) => sum + (count ?? 0), 0);
        events++;
        // Every tab applies the event before the next write, so that writes and events keep one order everywhere.
        for (const { page } of tabs) await waitForEvents(page, events);
      }
    }
    const answers = await Promise.all(
      tabs.map(({ page }) =>
        page.evaluate(async (keys) => {
          const cache = window.tab.cache!;
          const types = ['track_metadata', 'successful_api_metadata', 'album_year', 'generic'] as const;
          return Object.fromEntries(await Promise.all(types.map(async (type) => [type, await cache.getMany(type, keys)] as const)));
        }, keys),
      ),
    );
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(events).toBeGreaterThan(50);
    expect(invalidated).toBeGreaterThan(20);
    for (const { errors } of tabs) expect(errors).toEqual([]);
  });
});

describe('a tab that misses messages', () => {
  it('frozen while events are emitted, then resumed, never returns an entry those events invalidated', async () => {
    const name = uniqueName('tabs');
    const emitter = await openTab(browser, name);
    const frozen = await openTab(browser, name);
    await frozen.page.evaluate(async () => {
      const cache = window.tab.cache!;
      for (const track of ['t1', 't2', 't3']) await cache.set('generic', track, `memory ${track}`, { trackId: track });
    });
    const cdp = await browser.context.newCDPSession(frozen.page);
    await cdp.send('Page.enable');
    // Headless Chromium accepts this but neither freezes a visible page nor fires `freeze` (BroadcastChannel
    // messages would still arrive), so the test also fires the lifecycle event Chromium fires when it
    // freezes a hidden tab. Reprise's handler closes the tab's channel: the events below cannot reach it.
    await frozen.page.evaluate(() => document.dispatchEvent(new Event('freeze')));
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await emitter.page.evaluate(async () => {
      await window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't1' });
      await window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't2' });
    });
    // Long enough for the messages to have been delivered, had the channel been open.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    const missed = await frozen.page.evaluate(() => window.tab.events.length);
    await frozen.page.evaluate(() => document.dispatchEvent(new Event('resume')));
    const after = await frozen.page.evaluate(async () => ({
      values: await window.tab.cache!.getMany('generic', ['t1', 't2', 't3']),
      events: window.tab.events.map(({ event, context, at }) => ({ trackId: event.trackId, source: context.source, at })),
      resumedAt: window.tab.resumedAt,
    }));
    expect(missed).toBe(0);
    expect(after.values).toEqual([undefined, undefined, 'memory t3']);
    expect(after.events.map(({ trackId, source }) => [trackId, source])).toEqual([
      ['t1', 'remote'],
      ['t2', 'remote'],
    ]);
    // They arrived through the log after the tab resumed, not over the channel while it was frozen.
    expect(after.resumedAt).not.toBeNull();
    for (const { at } of after.events) expect(at).toBeGreaterThanOrEqual(after.resumedAt!);
    expect(frozen.errors).toEqual([]);
  });
});

describe('persistence', () => {
  it('persistent entries survive a reload and a browser restart; temporary ones do not', async () => {
    const name = uniqueName('tabs');
    const write = async () => {
      const { page } = await openTab(browser, name);
      await page.evaluate(async () => {
        const cache = window.tab.cache!;
        await cache.set('track_metadata', 'p', 'persistent');
        await cache.set('album_year', 'y', 1999);
        await cache.set('generic', 't', 'temporary');
        await cache.set('negative_result', 'n', 'temporary');
      });
      return page;
    };
    const read = (page: import('playwright-core').Page) =>
      page.evaluate(async () => {
        const cache = window.tab.cache!;
        return [await cache.get('track_metadata', 'p'), await cache.get('album_year', 'y'), await cache.get('generic', 't'), await cache.get('negative_result', 'n')];
      });
    const page = await write();
    await page.reload();
    await page.waitForFunction(() => 'tab' in window);
    await page.evaluate((name) => window.tab.open({ name }), name);
    expect(await read(page)).toEqual(['persistent', 1999, undefined, undefined]);

    await browser.restart();
    const { page: restarted } = await openTab(browser, name);
    expect(await read(restarted)).toEqual(['persistent', 1999, undefined, undefined]);
  });
});

describe('the worker boundary', () => {
  it('CacheError codes arrive intact on the main thread', async () => {
    const { page } = await openTab(browser, uniqueName('tabs'), { caching: { policies: { generic: { maxSizeMb: 0.001 } } } });
    const codes = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      const attempt = async (call: () => Promise<unknown>) => {
        try {
          await call();
          return 'resolved';
        } catch (error) {
          return { code: (error as { code?: string }).code, real: error instanceof window.Reprise.CacheError, message: (error as Error).message };
        }
      };
      return {
        // Thrown inside the worker by the engine: the budget check.
        tooBig: await attempt(() => cache.set('generic', 'big', 'x'.repeat(2000))),
        // Thrown by postMessage on the main thread.
        notCloneable: await attempt(() => cache.set('track_metadata', 'fn', () => 1)),
        // postMessage rethrows a getter's error as it is (no DataCloneError).
        getterThrows: await attempt(() =>
          cache.setMany('album_year', [
            {
              key: 'lazy',
              value: {
                get year(): number {
                  throw new Error('not loaded');
                },
              },
            },
          ]),
        ),
        // Thrown by the client before anything is sent.
        badKey: await attempt(() => cache.get('generic', '')),
      };
    });
    expect(codes.tooBig).toMatchObject({ code: 'invalid_value', real: true, message: expect.stringContaining('budget') });
    expect(codes.notCloneable).toMatchObject({ code: 'not_cloneable', real: true });
    expect(codes.getterThrows).toMatchObject({ code: 'not_cloneable', real: true, message: expect.stringContaining('not loaded') });
    expect(codes.badKey).toMatchObject({ code: 'invalid_argument', real: true });
  });

  it('a terminated worker fails the pending calls with worker_failed, then the cache works again', async () => {
    const { page } = await openTab(browser, uniqueName('tabs'));
    const result = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('track_metadata', 'kept', 'in IndexedDB');
      // A read only the worker answers (a hit of a persistent type the page reads itself).
      const pending = cache.get('generic', 'in memory');
      window.tab.workers[0]!.terminate();
      let code: string | undefined;
      try {
        await pending;
      } catch (error) {
        code = (error as { code?: string }).code;
      }
      await cache.set('generic', 'after', 'works');
      return { code, workers: window.tab.workers.length, after: await cache.get('generic', 'after'), kept: await cache.get('track_metadata', 'kept') };
    });
    expect(result).toEqual({ code: 'worker_failed', workers: 2, after: 'works', kept: 'in IndexedDB' });
  });

  it("a page that only listens: its terminated worker is replaced at once, and the next one replays, once, what another tab logged while it had none", async () => {
    const name = uniqueName('tabs');
    const [a, b] = [await openTab(browser, name), await openTab(browser, name)];
    const heard = () => a!.page.evaluate(() => window.tab.events.map(({ event, context }) => `${context.source} ${event.eventType}`));
    await b!.page.evaluate(() => window.tab.cache!.emit({ eventType: 'library_sync' }));
    await waitForEvents(a!.page, 1);
    // Killed: replaced at once, without a call from this page (its listener hears b again).
    await a!.page.evaluate(() => window.tab.workers[0]!.terminate());
    await a!.page.waitForFunction(() => window.tab.workers.length === 2);
    await b!.page.evaluate(() => window.tab.cache!.emit({ eventType: 'manual_invalidation', trackId: 't0' }));
    await waitForEvents(a!.page, 2);
    // This page's own event, made by its second worker; then that one dies too, within 5 s: no worker
    // until the next call, while b emits twice.
    await a!.page.evaluate(() => window.tab.cache!.emit({ eventType: 'track_removed', trackId: 'mine' }));
    await a!.page.evaluate(() => window.tab.workers[1]!.terminate());
    await b!.page.evaluate(async () => {
      await window.tab.cache!.emit({ eventType: 'track_modified', trackId: 't1' });
      await window.tab.cache!.emit({ eventType: 'library_sync' });
    });
    const made = await workersMade(a!.page);
    if (made.withinRestartWindow) expect(made.workers).toBe(2);
    await a!.page.evaluate(() => window.tab.cache!.stats());
    await waitForEvents(a!.page, 5);
    expect(await heard()).toEqual(['remote library_sync', 'remote manual_invalidation', 'local track_removed', 'remote track_modified', 'remote library_sync']);
    expect(a!.errors.filter((error) => !error.includes('the cache worker died'))).toEqual([]);
  });

  it('persist: true asks navigator.storage.persist() from the main thread', async () => {
    const { page } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'tab' in window);
    const asked = await page.evaluate(async (name) => {
      let calls = 0;
      const persist = navigator.storage.persist.bind(navigator.storage);
      navigator.storage.persist = () => {
        calls++;
        return persist();
      };
      await window.tab.open({ name, persist: true });
      await window.tab.cache!.set('track_metadata', 'k', 1);
      return { calls, value: await window.tab.cache!.get('track_metadata', 'k') };
    }, uniqueName('tabs'));
    expect(asked).toEqual({ calls: 1, value: 1 });
  });

  it('a page that opens the database with a newer layout makes the other tabs let go without hanging, and go on in memory', async () => {
    const name = uniqueName('tabs');
    const old = await openTab(browser, name);
    await old.page.evaluate(() => window.tab.cache!.set('track_metadata', 'k', 'v'));
    const upgrader = await browser.open('/test/browser/pages/blank.html');
    const upgraded = await upgrader.page.evaluate(
      (name) =>
        new Promise<number>((resolve, reject) => {
          const request = indexedDB.open(name, 3);
          // How a newer Reprise marks a layout this one does not know (see worker/databaseSchema.ts).
          request.onupgradeneeded = () => request.result.createObjectStore('layout:99');
          request.onsuccess = () => {
            resolve(request.result.version);
            request.result.close();
          };
          request.onerror = () => reject(request.error);
          request.onblocked = () => reject(new Error('blocked: the other tab did not close its connection'));
        }),
      name,
    );
    expect(upgraded).toBe(3);
    const stats = await old.page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('track_metadata', 'k2', 'still works');
      return { value: await cache.get('track_metadata', 'k2'), stats: await cache.stats() };
    });
    expect(stats.value).toBe('still works');
    expect(stats.stats.degraded).toMatch(/VersionError/);
    expect(stats.stats.types.track_metadata.storage).toBe('memory');
  });

  it('a tab opened with a custom type adds its store while another tab works on: nothing is lost, nobody degrades', async () => {
    const name = uniqueName('tabs');
    const plain = await openTab(browser, name);
    await plain.page.evaluate(() => window.tab.cache!.set('track_metadata', 'k', 'before'));
    const config = {
      ...TAB_CONFIG,
      caching: { ...TAB_CONFIG.caching, customTypes: { artwork: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'hybrid', maxSizeMb: 1, invalidatedBy: ['track_removed'] } } },
    } satisfies CacheConfig;
    const custom = await openTab(browser, name, config);
    const written = await custom.page.evaluate(async () => {
      const cache = window.tab.cache!;
      const blob = new Blob([new Uint8Array(3000).fill(7)], { type: 'image/png' });
      await cache.set('artwork' as never, 'cover', blob as never, { trackId: 't1' });
      return { before: await cache.get('track_metadata', 'k'), stats: await cache.stats() };
    });
    expect(written.before).toBe('before');
    expect(written.stats.degraded).toBeNull();
    expect((written.stats.types as Record<string, { entries: number; storage: string }>)['artwork']).toMatchObject({ entries: 1, storage: 'indexeddb' });
    // The first tab reopened the database at its new version, and knows nothing of artwork. (An event of
    // its for t1 would remove the cover too, as for a type every event invalidates: customTypes.test.)
    const plainSide = await plain.page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('track_metadata', 'k2', 'after');
      const report = await cache.emit({ eventType: 'track_removed', trackId: 't2' });
      return { value: await cache.get('track_metadata', 'k2'), stats: await cache.stats(), report };
    });
    expect(plainSide.value).toBe('after');
    expect(plainSide.stats.degraded).toBeNull();
    expect(Object.keys(plainSide.stats.types)).not.toContain('artwork');
    expect(plainSide.report.invalidated).not.toHaveProperty('artwork');
    // The cover, a Blob in IndexedDB, survives a reload of its tab; its own tab's events remove it.
    await custom.page.reload();
    await custom.page.waitForFunction(() => 'tab' in window);
    await custom.page.evaluate(({ name, config }) => window.tab.open({ name, config }), { name, config });
    const reloaded = await custom.page.evaluate(async () => {
      const cache = window.tab.cache!;
      const cover = (await cache.get('artwork' as never, 'cover')) as Blob | undefined;
      const size = cover?.size;
      const report = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
      return { size, type: cover?.type, report, after: await cache.has('artwork' as never, 'cover') };
    });
    expect(reloaded).toMatchObject({ size: 3000, type: 'image/png', report: { invalidated: { artwork: 1 } }, after: false });
    expect([plain.errors, custom.errors]).toEqual([[], []]);
  });
});

describe('reads the page answers itself', () => {
  it('a hit or a miss of a persistent type sends nothing to the worker, which counts it before its next call; memory types go to it', async () => {
    const { page, errors } = await openTab(browser, uniqueName('direct'));
    const result = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.setMany('track_metadata', Array.from({ length: 50 }, (_, index) => ({ key: `k${index}`, value: index })));
      await cache.set('generic', 'g', 'memory');
      // Every call to the worker is a Comlink APPLY message, on a MessagePort or the Worker itself (answers
      // to the worker's own callbacks, such as changes to watch, are other messages).
      let sent = 0;
      const count = <T extends { postMessage: (message: unknown, ...rest: never[]) => void }>(proto: T) => {
        const original = proto.postMessage;
        proto.postMessage = function (this: T, message: unknown, ...rest: never[]) {
          if ((message as { type?: string } | null)?.type === 'APPLY') sent++;
          return original.call(this, message, ...rest);
        } as T['postMessage'];
      };
      count(MessagePort.prototype);
      count(Worker.prototype);
      const values = await Promise.all(Array.from({ length: 50 }, (_, index) => cache.get('track_metadata', `k${index}`)));
      const many = await cache.getMany('track_metadata', ['k1', 'k2']);
      const miss = await cache.get('track_metadata', 'missing');
      const pageSent = sent;
      const memory = await cache.get('generic', 'g');
      const { hits, misses } = (await cache.stats()).types.track_metadata;
      return { values, many, pageSent, miss, memory, sentAfter: sent, hits, misses };
    });
    expect(result.values).toEqual(Array.from({ length: 50 }, (_, index) => index));
    expect(result.many).toEqual([1, 2]);
    expect(result.pageSent).toBe(0);
    expect(result).toMatchObject({ miss: undefined, memory: 'memory', hits: 52, misses: 1 });
    expect(result.sentAfter).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('its connection holds up no other tab: one that adds a store opens at once, and the page reads on', async () => {
    const name = uniqueName('direct');
    const plain = await openTab(browser, name);
    expect(await plain.page.evaluate(async () => (await window.tab.cache!.set('track_metadata', 'k', 'v'), window.tab.cache!.get('track_metadata', 'k')))).toBe('v');
    const config = {
      ...TAB_CONFIG,
      caching: { ...TAB_CONFIG.caching, customTypes: { lyrics: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'time_based', maxSizeMb: 1 } } },
    } satisfies CacheConfig;
    const custom = await openTab(browser, name, config);
    const stats = await custom.page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('lyrics' as never, 'k', 'la' as never);
      return cache.stats();
    });
    expect(stats.degraded).toBeNull();
    // The other tab's write after the upgrade, read by this page through a connection opened again.
    await custom.page.evaluate(() => window.tab.cache!.set('track_metadata', 'k', 'w'));
    expect(await plain.page.evaluate(() => window.tab.cache!.get('track_metadata', 'k'))).toBe('w');
    expect(plain.errors).toEqual([]);
  });
});

describe('site data cleared under open tabs', () => {
  it('no tab answers what was cleared, from its page or its worker, and writes land again without giving IndexedDB up', async () => {
    const name = uniqueName('cleared');
    const [a, b] = [await openTab(browser, name), await openTab(browser, name)];
    await a.page.evaluate(() => window.tab.cache!.setMany('track_metadata', Array.from({ length: 20 }, (_, index) => ({ key: `k${index}`, value: index }))));
    // Both tabs have read the entries (b's page on its own connection).
    for (const tab of [a, b]) expect(await tab.page.evaluate(() => window.tab.cache!.get('track_metadata', 'k3'))).toBe(3);
    const cdp = await browser.context.newCDPSession(a.page);
    // As "Clear site data" does: the database deleted, every connection to it closed by the browser.
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(a.page.url()).origin, storageTypes: 'indexeddb' });
    for (const tab of [a, b]) {
      const after = await tab.page.evaluate(async () => {
        const cache = window.tab.cache!;
        const gone = await cache.getMany('track_metadata', ['k3', 'k4']);
        const single = await cache.get('track_metadata', 'k5');
        await cache.set('track_metadata', 'new', 'written');
        return { gone, single, written: await cache.get('track_metadata', 'new'), stats: await cache.stats() };
      });
      expect(after.gone).toEqual([undefined, undefined]);
      expect(after.single).toBeUndefined();
      expect(after.written).toBe('written');
      expect(after.stats.degraded).toBeNull();
      expect(after.stats.types.track_metadata.storage).toBe('indexeddb');
    }
    // Each tab reads what the other wrote after: one database again.
    expect(await a.page.evaluate(() => window.tab.cache!.keys('track_metadata'))).toEqual(['new']);
    expect(await b.page.evaluate(() => window.tab.cache!.get('track_metadata', 'new'))).toBe('written');
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});
