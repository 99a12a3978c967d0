// Issue 13 in Chromium: a big setMany (an import) in tab A lets tab B's reads, events and writes
// through while it runs, and B never sees part of it. Order shown by when calls resolved (one clock:
// performance.timeOrigin + now, the same machine), not by timing thresholds.
import { describe, expect, it } from 'vitest';
import { useBrowser, uniqueName } from './chromium';
import { openTab } from './tabs';

const browser = useBrowser({ eachTest: true });

describe('an import of 30,000 entries in tab A, while tab B works', () => {
  it('B’s reads of the imported type see all of it or none of it, and B’s reads, events and writes of another type resolve while it runs', async () => {
    const name = uniqueName('imports');
    const { page: a } = await openTab(browser, name);
    const { page: b, errors } = await openTab(browser, name);
    const total = 30_000;
    const sample = Array.from({ length: 100 }, (_, index) => `k${index * 300}`);
    await a.evaluate(async () => {
      const old = Array.from({ length: 5000 }, (_, index) => ({ key: `k${index}`, value: `old${index}`, trackId: `t${index % 50}` }));
      await window.tab.cache!.setMany('track_metadata', old);
    });
    // B works in a loop until A's import is done: a read of the sample, an event that removes nothing, a write of another type.
    await b.evaluate((sample) => {
      const at = () => performance.timeOrigin + performance.now();
      const log: { what: string; at: number; seen?: (string | undefined)[] }[] = [];
      let stop = false;
      const loop = async () => {
        for (let round = 0; !stop; round++) {
          const seen = (await window.tab.cache!.getMany('track_metadata', sample)) as (string | undefined)[];
          log.push({ what: 'read', at: at(), seen });
          await window.tab.cache!.emit({ eventType: 'track_added', trackId: `new${round}` });
          log.push({ what: 'emit', at: at() });
          await window.tab.cache!.set('album_year', `y${round}`, round);
          log.push({ what: 'write', at: at() });
        }
      };
      const done = loop();
      Object.assign(window, { workLog: log, stopWork: () => ((stop = true), done) });
    }, sample);
    const imported = await a.evaluate(async (total) => {
      const at = () => performance.timeOrigin + performance.now();
      const entries = Array.from({ length: total }, (_, index) => ({ key: `k${index}`, value: `new${index}`, trackId: `t${index % 50}` }));
      let firstProgress = 0;
      await window.tab.cache!.setMany('track_metadata', entries, { onProgress: () => void (firstProgress ||= at()) });
      return { firstProgress, resolved: at() };
    }, total);
    const log = await b.evaluate(async () => {
      const { workLog, stopWork } = window as unknown as { workLog: { what: string; at: number; seen?: (string | undefined)[] }[]; stopWork: () => Promise<void> };
      await stopWork();
      return workLog;
    });
    const during = log.filter((item) => item.at > imported.firstProgress && item.at < imported.resolved);
    const count = (what: string) => during.filter((item) => item.what === what).length;
    console.log('while A imported 30,000 entries, B resolved:', JSON.stringify({ importMs: Math.round(imported.resolved - imported.firstProgress), reads: count('read'), emits: count('emit'), writes: count('write') }));
    const old = sample.map((key) => (Number(key.slice(1)) < 5000 ? `old${key.slice(1)}` : undefined));
    const all = sample.map((key) => `new${key.slice(1)}`);
    for (const item of log.filter((item) => item.what === 'read')) expect([old, all]).toContainEqual(item.seen);
    // Before the import resolved, B had read, emitted and written other types several times over.
    expect(count('read')).toBeGreaterThanOrEqual(3);
    expect(count('emit')).toBeGreaterThanOrEqual(3);
    expect(count('write')).toBeGreaterThanOrEqual(3);
    const after = await b.evaluate(async (name) => {
      const values = await window.tab.cache!.getMany('track_metadata', Array.from({ length: 30_000 }, (_, index) => `k${index}`));
      // The entries the import replaced are tidied away just after its commit: until then they count.
      for (;;) {
        const stats = (await window.tab.cache!.stats()).types.track_metadata;
        const counted = (await window.recount(name))['track_metadata'];
        const result = { present: values.filter((value) => value !== undefined).length, stats: [stats.entries, stats.bytes], usage: [counted?.usage.entries, counted?.usage.bytes], counted: [counted?.entries, counted?.bytes] };
        if (result.stats[1] === result.usage[1]) return result;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }, name);
    expect(after.present).toBe(total);
    expect(after.stats).toEqual(after.usage);
    expect(after.usage).toEqual(after.counted);
    expect(errors).toEqual([]);
  }, 120_000);

  it('an event B emits in the middle removes what it finds at once, and the import’s entries it finds when the import commits', async () => {
    const name = uniqueName('imports');
    const { page: a } = await openTab(browser, name);
    const { page: b } = await openTab(browser, name);
    await a.evaluate(() => {
      const entries = Array.from({ length: 40_000 }, (_, index) => ({ key: `k${index}`, value: `new${index}`, trackId: `t${index % 50}` }));
      Object.assign(window, { progress: 0, imported: window.tab.cache!.set('track_metadata', 'k1', 'old1', { trackId: 't1' }).then(() => window.tab.cache!.setMany('track_metadata', entries, { onProgress: (done) => Object.assign(window, { progress: done }) })) });
    });
    await a.waitForFunction(() => (window as unknown as { progress: number }).progress >= 2000, undefined, { polling: 5 });
    const { report, during } = await b.evaluate(async () => {
      const report = await window.tab.cache!.emit({ eventType: 'track_removed', trackId: 't1' });
      return { report: report.invalidated.track_metadata, during: await window.tab.cache!.get('track_metadata', 'k1') };
    });
    const progress = await a.evaluate(async () => {
      await (window as unknown as { imported: Promise<void> }).imported;
      return (window as unknown as { progress: number }).progress;
    });
    const after = await b.evaluate(async () => {
      const values = await window.tab.cache!.getMany('track_metadata', Array.from({ length: 40_000 }, (_, index) => `k${index}`));
      return { t1: values.filter((value, index) => index % 50 === 1 && value !== undefined).length, others: values.filter((value, index) => index % 50 !== 1 && value !== undefined).length };
    });
    console.log('event in the middle of an import:', JSON.stringify({ progressAtEvent: '≥ 2000', progressWhenDone: progress, invalidatedAtOnce: report, after }));
    // What reads saw of track t1 (the one old entry) went at once; the import's 400 entries of t1 at its commit.
    expect(report).toBe(1);
    expect(during).toBeUndefined();
    expect(after).toEqual({ t1: 0, others: 40_000 - 800 });
  });
});
