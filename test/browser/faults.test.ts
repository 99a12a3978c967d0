// Faults only a real browser shows, in Chromium: a worker terminated in the middle of a big setMany,
// and bad calls through the worker boundary. Each test prints what it saw, so its figures can be read.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launch, type Browser } from './chromium';
import { openTab } from './tabs';

let browser: Browser;
let names = 0;
const uniqueName = () => `faults-${Date.now()}-${++names}`;

beforeEach(async () => {
  browser = await launch();
});

afterEach(async () => {
  await browser.dispose();
});

describe('a worker terminated in the middle of a multi-chunk setMany', () => {
  it('rejects with worker_failed and none of its keys are readable, or resolves and all are; byte counts stay exact', async () => {
    const name = uniqueName();
    const { page, errors } = await openTab(browser, name);
    const trials = await page.evaluate(async (name) => {
      const results: { delay: number; outcome: string; present: number; progress: number }[] = [];
      // How long such a setMany takes here, uninterrupted; then terminate the worker at points across it.
      const started = performance.now();
      await window.tab.cache!.setMany('album_year', Array.from({ length: 8000 }, (_, index) => ({ key: `warm-${index}`, value: { index, text: 'x'.repeat(60) } })));
      const took = performance.now() - started;
      const delays = [0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.5].map((fraction) => Math.round(fraction * took));
      for (const delay of delays) {
        const prefix = `t${delay}-`;
        const entries = Array.from({ length: 8000 }, (_, index) => ({ key: `${prefix}${index}`, value: { index, text: 'x'.repeat(60) } }));
        let progress = 0;
        const call = window.tab
          .cache!.setMany('track_metadata', entries, { onProgress: (done) => (progress = done) })
          .then(
            () => 'resolved',
            (error: { code?: string }) => error.code ?? String(error),
          );
        setTimeout(() => window.tab.workers.at(-1)!.terminate(), delay);
        const outcome = await call;
        // A call made before the death is noticed fails too; the next one starts a new worker.
        const keys = entries.map((entry) => entry.key);
        const values = await window.tab.cache!.getMany('track_metadata', keys).catch((error: { code?: string }) => {
          if (error.code !== 'worker_failed') throw error;
          return window.tab.cache!.getMany('track_metadata', keys);
        });
        results.push({ delay, outcome, present: values.filter((value) => value !== undefined).length, progress });
      }
      const stats = await window.tab.cache!.stats();
      const counted = await window.recount(name);
      return { results, stats: stats.types.track_metadata, counted: counted['track_metadata'] };
    }, name);
    console.log('terminated mid-setMany (delay ms → outcome, entries readable, progress seen):', JSON.stringify(trials.results));
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
  });
});

describe('bad calls through the worker', () => {
  it('10,000 fuzzed bad calls each reject with a listed CacheError code, none throws or hangs, and they change nothing', async () => {
    const { page } = await openTab(browser, uniqueName());
    const outcome = await page.evaluate(async (reference) => {
      const other = await window.Reprise.createCache({ name: reference });
      const report = await window.fuzz(window.tab.cache!, other, 11, 10_000);
      const [mine, theirs] = [await window.holdings(window.tab.cache!), await window.holdings(other)];
      await other.close();
      return { report, same: JSON.stringify(mine) === JSON.stringify(theirs), mine: mine.usage, theirs: theirs.usage, codes: window.Reprise.CACHE_ERROR_CODES };
    }, uniqueName());
    console.log('10,000 bad calls, rejections per code:', JSON.stringify(outcome.report.codes), 'valid writes:', outcome.report.valid);
    expect(outcome.report.problems).toEqual([]);
    expect(Object.values(outcome.report.codes).reduce((sum, count) => sum + count, 0)).toBe(outcome.report.calls - outcome.report.valid);
    for (const code of Object.keys(outcome.report.codes)) expect(outcome.codes).toContain(code);
    expect(outcome.mine).toEqual(outcome.theirs);
    expect(outcome.same).toBe(true);
  });
});
