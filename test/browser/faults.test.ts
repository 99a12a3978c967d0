// Faults only a real browser shows, in Chromium: a worker terminated in the middle of a big setMany, a real
// quota (a first open on a full disk too), and bad calls through the worker boundary. Each test prints what it saw, so its figures can be read.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import { openTab } from './tabs';

/** SIGKILL every process of the Chromium that runs on this profile, as a crash or a power cut would. */
function killChromium(userDataDir: string): number {
  const pids = execFileSync('pgrep', ['-f', `user-data-dir=${userDataDir}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already: a child of one killed before it.
    }
  }
  return pids.length;
}

const browser = useBrowser({ eachTest: true });

describe('a worker terminated in the middle of a multi-chunk setMany', () => {
  it('rejects with worker_failed and none of its keys are readable, or resolves and all are; byte counts stay exact', async () => {
    const name = uniqueName('faults');
    const { page, errors } = await openTab(browser, name);
    const trials = await page.evaluate(async (name) => {
      const results: { delay: number; outcome: string; present: number; progress: number; ms: number }[] = [];
      const entriesOf = (prefix: string) => Array.from({ length: 8000 }, (_, index) => ({ key: `${prefix}${index}`, value: { index, text: 'x'.repeat(60) } }));
      // How long the trials' setMany takes here, uninterrupted (same type, same entries, its own keys); then terminate the worker at points across it.
      const started = performance.now();
      await window.tab.cache!.setMany('track_metadata', entriesOf('calibrate-'));
      const took = performance.now() - started;
      /** A setMany whose worker is terminated `delay` ms after the call (-1: just before it), or as it settles if that comes first. */
      const trial = async (delay: number) => {
        const entries = entriesOf(`t${results.length}-`);
        let progress = 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let gone = false;
        const terminate = () => {
          if (gone) return;
          gone = true;
          clearTimeout(timer);
          window.tab.workers.at(-1)!.terminate();
        };
        if (delay < 0) terminate();
        else timer = setTimeout(terminate, delay);
        const begun = performance.now();
        const outcome = await window.tab
          .cache!.setMany('track_metadata', entries, { onProgress: (done) => (progress = done) })
          .then(
            () => 'resolved',
            (error: { code?: string }) => error.code ?? String(error),
          );
        const ms = Math.round(performance.now() - begun);
        // Read only once the worker is gone: a termination landing in the reads (or in the final stats) would fail them instead.
        // A long delay so costs no more than the call, and a worker terminated just as its setMany resolved must have kept all of it.
        terminate();
        // A call made before the death is noticed fails too; the next one starts a new worker.
        const keys = entries.map((entry) => entry.key);
        const values = await window.tab.cache!.getMany('track_metadata', keys).catch((error: { code?: string }) => {
          if (error.code !== 'worker_failed') throw error;
          return window.tab.cache!.getMany('track_metadata', keys);
        });
        results.push({ delay, outcome, present: values.filter((value) => value !== undefined).length, progress, ms });
      };
      const seen = (outcome: string) => results.some((result) => result.outcome === outcome);
      for (const fraction of [0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.5]) await trial(Math.round(fraction * took));
      // On a loaded machine a trial can take far longer than the calibration did: double the delay until one resolves (four more at most).
      for (let more = 0, delay = 3 * took; more < 4 && !seen('resolved'); more++, delay *= 2) await trial(Math.round(delay));
      // On one so fast that even the 0 ms trial resolved: terminate just before the call (four more at most).
      for (let more = 0; more < 4 && !seen('worker_failed'); more++) await trial(-1);
      const stats = await window.tab.cache!.stats();
      const counted = await window.recount(name);
      return { took: Math.round(took), results, stats: stats.types.track_metadata, counted: counted['track_metadata'] };
    }, name);
    console.log(`terminated mid-setMany (calibrated ${trials.took} ms; delay ms → outcome, entries readable, progress seen, ms the call took):`, JSON.stringify(trials.results));
    for (const { outcome, present } of trials.results) {
      expect([
        ['resolved', 8000],
        ['worker_failed', 0],
      ]).toContainEqual([outcome, present]);
    }
    // The trials must have crossed the interesting moment both ways.
    expect(trials.results.some(({ outcome }) => outcome === 'worker_failed')).toBe(true);
    expect(trials.results.some(({ outcome }) => outcome === 'resolved')).toBe(true);
    expect([trials.stats.entries, trials.stats.bytes]).toEqual([trials.counted?.entries, trials.counted?.bytes]);
    expect([trials.counted?.usage.entries, trials.counted?.usage.bytes]).toEqual([trials.counted?.entries, trials.counted?.bytes]);
    expect(errors.filter((error) => !/worker died|worker stopped/.test(error))).toEqual([]);
    // ~36 s on a quiet machine; on a loaded one each trial is slower, and up to four more may run.
  }, 180_000);
});

describe('the browser killed in the middle of a write', () => {
  it('keeps all or none of a 20,000-entry setMany, byte counts exact, and works on after a restart', async () => {
    const name = uniqueName('faults');
    const { page } = await openTab(browser, name);
    await page.evaluate(() => {
      const entries = Array.from({ length: 20_000 }, (_, index) => ({ key: `k${index}`, value: { index, text: 'x'.repeat(100) }, trackId: `t${index % 50}` }));
      Object.assign(window, { progress: 0 });
      void window.tab.cache!.setMany('track_metadata', entries, { onProgress: (done) => Object.assign(window, { progress: done }) }).catch(() => {});
    });
    await page.waitForFunction(() => (window as unknown as { progress: number }).progress > 0, undefined, { polling: 5 });
    const progress = await page.evaluate(() => (window as unknown as { progress: number }).progress).catch(() => -1);
    const killed = killChromium(browser.userDataDir);
    // Chromium is dead: Playwright's close may fail, and restart then finds the context closed already.
    await browser.context.close().catch(() => {});
    await browser.restart();
    const { page: restarted, errors } = await openTab(browser, name);
    const after = await restarted.evaluate(async (name) => {
      const cache = window.tab.cache!;
      const keys = Array.from({ length: 20_000 }, (_, index) => `k${index}`);
      const present = (await cache.getMany('track_metadata', keys)).filter((value) => value !== undefined).length;
      const stats = (await cache.stats()).types.track_metadata;
      const counted = (await window.recount(name))['track_metadata'];
      await cache.set('track_metadata', 'later', 'written after the restart', { trackId: 't1' });
      const emitted = await cache.emit({ eventType: 'track_removed', trackId: 't1' });
      const cleaned = await cache.cleanup();
      const recounted = (await window.recount(name))['track_metadata'];
      const final = (await cache.stats()).types.track_metadata;
      return { present, stats: [stats.entries, stats.bytes], counted: [counted?.entries, counted?.bytes], emitted: emitted.invalidated, cleaned, later: await cache.get('track_metadata', 'later'), final: [final.entries, final.bytes], recounted: [recounted?.entries, recounted?.bytes] };
    }, name);
    console.log('browser killed mid-setMany:', JSON.stringify({ progressWhenKilled: progress, processesKilled: killed, ...after }));
    expect(killed).toBeGreaterThan(0);
    expect([0, 20_000]).toContain(after.present);
    expect(after.stats).toEqual(after.counted);
    expect(after.final).toEqual(after.recounted);
    expect(after.later).toBeUndefined();
    expect(after.emitted.track_metadata).toBe(after.present === 0 ? 1 : 1 + 400);
    expect(errors).toEqual([]);
  });
});

/** A page of the test app whose origin's quota is 4 MiB, set before any cache opens (IndexedDB takes the quota in force when its connection opens). */
async function underQuota() {
  const name = uniqueName('faults');
  const { page } = await browser.open('/test/browser/pages/reprise.html');
  const cdp = await browser.context.newCDPSession(page);
  const origin = new URL(page.url()).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 4 * 2 ** 20 });
  await page.waitForFunction(() => 'tab' in window);
  return { name, page, cdp, origin };
}

describe('a real quota', () => {
  it('a write that does not fit evicts or fails with quota_exceeded writing none of it; once room is made, writes work again', async () => {
    const { name, page, cdp, origin } = await underQuota();
    await page.evaluate((name) => window.tab.open({ name }), name);
    const full = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      const code = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (error: { code?: string }) => error.code ?? String(error),
        );
      // Random letters: IndexedDB compresses values, and a quota is about what is stored.
      const blob = (size: number) => {
        let text = '';
        for (let done = 0; done < size; done += 50_000) {
          const bytes = crypto.getRandomValues(new Uint8Array(Math.min(50_000, size - done)));
          text += String.fromCharCode(...bytes.map((byte) => 97 + (byte % 26)));
        }
        return text;
      };
      // Fill the persistent types until a write fails.
      let filled = 0;
      let firstFailure = '';
      for (let index = 0; index < 200 && !firstFailure; index++) {
        const result = await code(cache.set(index % 2 ? 'successful_api_metadata' : 'album_year', `fill-${index}`, blob(50_000)));
        if (result === 'resolved') filled++;
        else firstFailure = result;
      }
      const single = await code(cache.set('track_metadata', 'big', blob(1_500_000)));
      const singleStored = (await cache.get('track_metadata', 'big')) !== undefined;
      const batch = [
        { key: 'b0', value: 'small' },
        { key: 'b1', value: blob(1_500_000) },
        { key: 'b2', value: 'small' },
      ];
      const many = await code(cache.setMany('track_metadata', batch));
      const manyStored = (await cache.getMany('track_metadata', ['b0', 'b1', 'b2'])).map((value) => value !== undefined);
      const small = await code(cache.set('album_year', 'small-while-full', 1999));
      const smallStored = (await cache.get('album_year', 'small-while-full')) !== undefined;
      const { types, degraded } = await cache.stats();
      const evictions = types.album_year.evictions + types.successful_api_metadata.evictions + types.track_metadata.evictions;
      return { filled, firstFailure, single, singleStored, many, manyStored, small, smallStored, degraded, evictions };
    });
    // Room is made (the user frees disk): the same cache writes again, without a reload.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 64 * 2 ** 20 });
    const after = await page.evaluate(async (name) => {
      const cache = window.tab.cache!;
      await cache.set('album_year', 'small-after', 1999);
      await cache.setMany('track_metadata', [{ key: 'after-0', value: 'x'.repeat(100_000) }, { key: 'after-1', value: 1 }]);
      const read = [await cache.get('album_year', 'small-after'), ...(await cache.getMany('track_metadata', ['after-0', 'after-1']))].map((value) => value !== undefined);
      const stats = await cache.stats();
      const counted = await window.recount(name);
      const exact = ['track_metadata', 'successful_api_metadata', 'album_year'].every(
        (type) => stats.types[type as 'album_year'].entries === counted[type]?.entries && stats.types[type as 'album_year'].bytes === counted[type]?.bytes,
      );
      return { read, degraded: stats.degraded, exact };
    }, name);
    console.log('a 4 MiB quota:', JSON.stringify(full), 'then 64 MiB:', JSON.stringify(after));
    expect(full.filled).toBeGreaterThan(0);
    expect(full.firstFailure).toBe('quota_exceeded');
    expect(full.evictions).toBeGreaterThan(0);
    for (const [outcome, stored] of [
      [full.single, [full.singleStored]],
      [full.many, full.manyStored],
      [full.small, [full.smallStored]],
    ] as const) {
      expect(outcome === 'resolved' ? stored.every(Boolean) : outcome === 'quota_exceeded' && !stored.some(Boolean)).toBe(true);
    }
    expect(full.degraded).toBeNull();
    expect(after).toEqual({ read: [true, true, true], degraded: null, exact: true });
  });
});

describe('a first open on a full disk', () => {
  it('uses IndexedDB (its epoch a store’s name, the upgrade retried without the record the disk refused): a write fails with quota_exceeded; once room is made, writes land without a reload, read by a tab opened later', async () => {
    const { name, page, cdp, origin } = await underQuota();
    // Another database of the origin fills it (random letters: IndexedDB compresses values); then the quota is set just below what it uses.
    const fill = (values: number) =>
      page.evaluate(async (values) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open('filler', 1);
          request.onupgradeneeded = () => request.result.createObjectStore('s');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const tx = db.transaction('s', 'readwrite');
        for (let index = 0; index < values; index++) {
          const bytes = crypto.getRandomValues(new Uint8Array(50_000));
          tx.objectStore('s').put(String.fromCharCode(...bytes.map((byte) => 97 + (byte % 26))), `${values}-${index}`);
        }
        const ended = await new Promise<string>((resolve) => ((tx.oncomplete = () => resolve('complete')), (tx.onabort = () => resolve(`abort:${tx.error?.name}`))));
        db.close();
        return ended;
      }, values);
    expect(await fill(48)).toBe('complete');
    const { usage } = await cdp.send('Storage.getUsageAndQuota', { origin });
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage - 1024 });
    // Chromium approves writes out of the room it was last told of for up to 30 s (browser idbQuota.test): a write past that room asks again.
    expect(await fill(40)).toBe('abort:QuotaExceededError');
    await page.evaluate((name) => window.tab.open({ name }), name);
    const full = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      const set = await cache.set('album_year', 'k', 1999).then(
        () => 'resolved',
        (error: { code?: string }) => error.code ?? String(error),
      );
      return { degraded: (await cache.stats()).degraded, set, read: await cache.get('album_year', 'k') };
    });
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 64 * 2 ** 20 });
    const after = await page.evaluate(async () => {
      const cache = window.tab.cache!;
      await cache.set('album_year', 'k', 2000);
      return { degraded: (await cache.stats()).degraded, read: await cache.get('album_year', 'k') };
    });
    const other = await openTab(browser, name);
    const elsewhere = await other.page.evaluate(() => window.tab.cache!.get('album_year', 'k'));
    console.log(`a first open at quota ${usage - 1024} (usage ${usage}):`, JSON.stringify(full), 'then 64 MiB:', JSON.stringify(after), 'another tab reads', elsewhere);
    expect(full).toEqual({ degraded: null, set: 'quota_exceeded', read: undefined });
    expect(after).toEqual({ degraded: null, read: 2000 });
    expect(elsewhere).toBe(2000);
  });
});

describe('bad calls through the worker', () => {
  it('10,000 fuzzed bad calls each reject with a listed CacheError code, none throws or hangs, and they change nothing', async () => {
    const { page } = await openTab(browser, uniqueName('faults'));
    const outcome = await page.evaluate(async (reference) => {
      const other = await window.Reprise.createCache({ name: reference });
      const report = await window.fuzz(window.tab.cache!, other, 11, 10_000);
      const [mine, theirs] = [await window.holdings(window.tab.cache!), await window.holdings(other)];
      await other.close();
      return { report, same: JSON.stringify(mine) === JSON.stringify(theirs), mine: mine.usage, theirs: theirs.usage, codes: window.Reprise.CACHE_ERROR_CODES };
    }, uniqueName('faults'));
    console.log('10,000 bad calls, rejections per code:', JSON.stringify(outcome.report.codes), 'valid writes:', outcome.report.valid);
    expect(outcome.report.problems).toEqual([]);
    expect(Object.values(outcome.report.codes).reduce((sum, count) => sum + count, 0)).toBe(outcome.report.calls - outcome.report.valid);
    for (const code of Object.keys(outcome.report.codes)) expect(outcome.codes).toContain(code);
    expect(outcome.mine).toEqual(outcome.theirs);
    expect(outcome.same).toBe(true);
    // ~35 s on a quiet machine: a loaded one (CI beside other work) took over 60.
  }, 180_000);
});
