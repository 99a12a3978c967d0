// `npm run bench`: Reprise against raw IndexedDB in a worker (the floor), Dexie and idb-keyval, in one
// run of headless Chromium. Prints a table of figures and ratios with the targets, and writes the raw
// figures as JSON to test-results/. It asserts nothing about speed: a missed target is a finding.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { CHROMIUM, launch } from '../browser/chromium';
import { IMPORT_STEP_MS } from '../../worker/importBatch';
import type { Library, Percentiles, Probed, Timing } from './page';
import { measureColdStart } from './coldStart';
import { measureShippedSizes, sizeTable } from './shippedSizes';

const LIBRARIES: Library[] = ['reprise', 'raw', 'dexie', 'idb-keyval'];
const RUNS = { 10_000: 5, 100_000: 3 } as const;
/** `BENCH=2,3 npm run bench` runs only those measures (while profiling); the report needs them all. */
const MEASURES = 13;
const ONLY = new Set((process.env['BENCH'] ?? Array.from({ length: MEASURES }, (_, index) => index + 1).join(',')).split(',').map(Number));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

interface Row {
  measure: string;
  reprise: string;
  peers: string;
  value: number;
  target: string;
  met: boolean;
}

it('measures Reprise against the peers', async () => {
  const started = new Date();
  const browser = await launch();
  const raw: Record<string, unknown> = {};
  const rows: Row[] = [];
  const row = (measure: string, reprise: string, peers: string, value: number, target: number, unit = '×') =>
    rows.push({ measure, reprise, peers, value, target: `≤ ${target}${unit === '×' ? '×' : ` ${unit}`}`, met: value <= target });
  try {
    const { page } = await browser.open('/test/bench/page.html');
    // Fine timers (see test/browser/serve.ts): without them, row 3 compares multiples of 0.1 ms.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.waitForFunction(() => 'bench' in window);
    const log = (line: string) => console.log(`[bench] ${line}`);

    // 5. Cross-tab latency, three tabs: measured first, in a quiet browser. After the rows that write and
    // delete databases of 100k entries, the browser's own work on them (in its storage backend, for tens
    // of seconds) reaches this row's tail: p95 8–10 ms alone, 36 ms right after row 4 (see README).
    if (ONLY.has(5)) {
    const name = `bench-tabs-${Date.now()}`;
    const listeners = [await browser.open('/test/bench/page.html'), await browser.open('/test/bench/page.html')];
    for (const { page: listener } of listeners) {
      await listener.waitForFunction(() => 'bench' in window);
      await listener.evaluate((name) => window.bench.listen(name), name);
    }
    const started = await page.evaluate(({ name }) => window.bench.emitMany(name, 200, 2), { name });
    const latencies: number[] = [];
    for (const { page: listener } of listeners) {
      const arrivals = await listener.evaluate(() => window.bench.arrivals());
      arrivals.forEach((at, index) => latencies.push(at - started[index]!));
      await listener.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const crossTab = { p50: sorted[Math.floor(sorted.length / 2)]!, p95: sorted[Math.floor(sorted.length * 0.95)]!, samples: sorted.length };
    raw['crossTab'] = { ...crossTab, latencies };
    log(`cross-tab: p50 ${fixed(crossTab.p50, 2)} ms, p95 ${fixed(crossTab.p95, 2)} ms over ${crossTab.samples}`);
    row('5. emit → remote listener p95 (3 tabs)', `${fixed(crossTab.p95, 2)} ms (p50 ${fixed(crossTab.p50, 2)})`, '', crossTab.p95, 20, 'ms');
    }

    // 1 and 6. Bulk writes, round-robin over the libraries so that noise spreads evenly.
    const writes: Record<string, Record<string, Timing[]>> = {};
    for (const count of ONLY.has(1) || ONLY.has(6) ? ([10_000, 100_000] as const) : []) {
      writes[count] = Object.fromEntries(LIBRARIES.map((library) => [library, [] as Timing[]]));
      for (let run = 0; run < RUNS[count]; run++) {
        for (const library of LIBRARIES) {
          const timing = await page.evaluate(({ library, count }) => window.bench.bulkWrite(library, count), { library, count });
          writes[count]![library]!.push(timing);
          log(`bulk write ${count} ${library}: ${fixed(timing.ms)} ms, longest task ${fixed(timing.longestTask)} ms`);
        }
      }
    }
    raw['bulkWrite'] = writes;
    const writeMs = (count: number, library: Library) => median(writes[count]![library]!.map((timing) => timing.ms));
    for (const count of ONLY.has(1) ? [10_000, 100_000] : []) {
      const [reprise, floor, dexie, keyval] = LIBRARIES.map((library) => writeMs(count, library)) as [number, number, number, number];
      const peers = `floor ${fixed(floor)} ms · Dexie ${fixed(dexie)} ms · idb-keyval ${fixed(keyval)} ms`;
      // Issue 13's targets for 100k; 10k keeps 0.1's.
      row(`1. setMany ${count / 1000}k, ÷ floor`, `${fixed(reprise)} ms`, peers, reprise / floor, count === 100_000 ? 1.15 : 1.3);
      row(`1. setMany ${count / 1000}k, ÷ Dexie`, `${fixed(reprise)} ms`, `Dexie ${fixed(dexie)} ms`, reprise / dexie, count === 100_000 ? 0.95 : 1.0);
    }

    // 2. getMany of 1,000 random keys from 10,000.
    const reads: Record<string, number[]> = {};
    if (ONLY.has(2)) {
    for (const library of LIBRARIES) {
      reads[library] = await page.evaluate(({ library }) => window.bench.getMany(library, 10_000, 1000, 15), { library });
      log(`getMany 1000 ${library}: median ${fixed(median(reads[library]!))} ms`);
    }
    raw['getMany'] = reads;
    const [readReprise, readFloor, readDexie, readKeyval] = LIBRARIES.map((library) => median(reads[library]!)) as [number, number, number, number];
    row('2. getMany 1,000 of 10k, ÷ floor', `${fixed(readReprise, 2)} ms`, `floor ${fixed(readFloor, 2)} ms · Dexie ${fixed(readDexie, 2)} ms · idb-keyval ${fixed(readKeyval, 2)} ms`, readReprise / readFloor, 1.5);
    }

    // 3. Point gets.
    const gets: Record<string, Percentiles> = {};
    if (ONLY.has(3)) {
    const [reprise, keyval] = await page.evaluate(() => window.bench.pointGets(['reprise', 'idb-keyval'], 10_000, 1000));
    Object.assign(gets, { reprise: reprise!, 'idb-keyval': keyval! });
    gets['reprise-memory'] = await page.evaluate(() => window.bench.memoryGets(10_000, 1000));
    for (const [library, { p50, p95 }] of Object.entries(gets)) log(`point get ${library}: p50 ${fixed(p50, 3)} ms, p95 ${fixed(p95, 3)} ms`);
    raw['pointGet'] = gets;
    const keyvalGet = `idb-keyval p50 ${fixed(gets['idb-keyval']!.p50, 3)} · p95 ${fixed(gets['idb-keyval']!.p95, 3)} ms`;
    row('3. get p50, persistent type, ÷ idb-keyval p50', `${fixed(gets['reprise']!.p50, 3)} ms (p95 ${fixed(gets['reprise']!.p95, 3)})`, keyvalGet, gets['reprise']!.p50 / gets['idb-keyval']!.p50, 1);
    row('3. get p50, memory type', `${fixed(gets['reprise-memory']!.p50, 3)} ms (p95 ${fixed(gets['reprise-memory']!.p95, 3)})`, keyvalGet, gets['reprise-memory']!.p50, 0.25, 'ms');
    }

    // 4. One track_removed removing 10 entries, with 10k and 100k stored.
    if (ONLY.has(4)) {
      const { reprise: [small, large], raw: floor } = await page.evaluate(() => window.bench.eventCosts([10_000, 100_000], 60));
      raw['event'] = { small, large, floor };
      log(`event among 10k: p50 ${fixed(small!.p50, 2)} ms, among 100k: p50 ${fixed(large!.p50, 2)} ms, removed ${small!.removed} and ${large!.removed}; raw floor p50 ${fixed(floor.p50, 2)} ms, removed ${floor.removed}`);
      row('4. track_removed (10 entries) among 100k', `${fixed(large!.p50, 2)} ms (10k: ${fixed(small!.p50, 2)} ms)`, `raw IndexedDB, the same 10 deleted through one index: ${fixed(floor.p50, 2)} ms`, large!.p50, 3, 'ms');
      row('4. same, ratio 100k ÷ 10k', fixed(large!.p50 / small!.p50, 2), '', large!.p50 / small!.p50, 1.5);
    }

    // 6. Longest main-thread task during the 100k bulk write.
    const longest = (library: Library) => Math.max(...writes[100_000]![library]!.map((timing) => timing.longestTask));
    const gap = (library: Library) => Math.max(...writes[100_000]![library]!.map((timing) => timing.longestGap));
    if (ONLY.has(6)) row('6. longest main-thread task, setMany 100k', `${fixed(longest('reprise'))} ms (gap ${fixed(gap('reprise'))})`, `Dexie ${fixed(longest('dexie'))} ms (gap ${fixed(gap('dexie'))})`, longest('reprise'), 50, 'ms');

    // 7. Writing twice the byte budget against the same writes under budget.
    const budget: Record<string, { ms: number; entries: number; bytes: number; evictions: number }[]> = { evicting: [], under: [] };
    for (let run = 0; run < (ONLY.has(7) ? 5 : 0); run++) {
      for (const evicting of [true, false]) {
        const result = await page.evaluate(({ evicting }) => window.bench.budgetWrite(4, evicting), { evicting });
        budget[evicting ? 'evicting' : 'under']!.push(result);
        log(`budget ${evicting ? 'evicting' : 'under'}: ${fixed(result.ms)} ms, ${result.evictions} evictions`);
      }
    }
    raw['budget'] = budget;
    const [evicting, under] = [median(budget['evicting']!.map((run) => run.ms)), median(budget['under']!.map((run) => run.ms))];
    if (ONLY.has(7)) row('7. write 2× budget ÷ under budget', `${fixed(evicting)} ms`, `under budget ${fixed(under)} ms`, evicting / under, 1.3);
    expect(budget['evicting']!.every((run) => run.evictions > 0 && run.bytes <= 4 * 2 ** 20)).toBe(true);

    // 8. What an app ships (main thread + worker, min + gzip), against Dexie, both built by Vite here.
    const sizes = ONLY.has(8) ? await measureShippedSizes() : undefined;
    if (sizes) {
      raw['shippedSizes'] = sizes;
      const kB = (bytes: number) => `${fixed(bytes / 1000)} kB`;
      const { reprise, dexie } = sizes;
      rows.push({
        measure: '8. shipped JS, min + gzip, ÷ Dexie',
        reprise: `${kB(reprise.total.gzip)} (main ${kB(reprise.main.gzip)} + worker ${kB(reprise.worker.gzip)})`,
        peers: `Dexie ${kB(dexie.total.gzip)}`,
        value: reprise.total.gzip / dexie.total.gzip,
        target: '< 1×',
        met: reprise.total.gzip < dexie.total.gzip,
      });
    }

    // 9. A list rendering 50 rows: 50 concurrent gets against one getMany of the same 50 keys.
    if (ONLY.has(9)) {
      const list = await page.evaluate(() => window.bench.listRender(10_000, 50, 40));
      raw['listRender'] = list;
      const [gets, getMany] = [median(list.gets), median(list.getMany)];
      log(`list render: 50 gets ${fixed(gets, 2)} ms, getMany ${fixed(getMany, 2)} ms`);
      row('9. 50 concurrent get ÷ one getMany of 50', `${fixed(gets, 2)} ms`, `getMany ${fixed(getMany, 2)} ms`, gets / getMany, 1.2);
    }

    // 10. While tab A imports 100k track records in one call, tab B reads, emits and writes another type.
    // The floor: raw IndexedDB importing in steps as long as Reprise's, B's calls one transaction each.
    if (ONLY.has(10)) {
      type Kind = 'get' | 'emit' | 'write';
      const figuresOf: Partial<Record<Probed, Record<Kind | `${Kind}Max`, number>>> = {};
      const probes: Record<string, unknown> = {};
      for (const library of ['reprise', 'raw', 'dexie'] as const) {
        const name = `bench-import-${library}-${Date.now()}`;
        const [a, b] = [await browser.open('/test/bench/page.html'), await browser.open('/test/bench/page.html')];
        try {
          for (const tab of [a, b]) await tab.page.waitForFunction(() => 'bench' in window);
          const probing = b.page.evaluate(({ library, name }) => window.bench.probe(library, name), { library, name });
          await b.page.waitForFunction(() => (window as { probing?: boolean }).probing === true);
          const imported = await a.page.evaluate(({ library, name }) => window.bench.importAll(library, name, 100_000), { library, name });
          await b.page.evaluate(() => ((window as { stopProbe?: boolean }).stopProbe = true));
          const samples = await probing;
          const during = (kind: Kind) =>
            samples[kind].filter(({ at }) => at >= imported.startedAt && at <= imported.endedAt).map(({ ms }) => ms);
          // Weighted by the time each sample spans (the call, then the loop's 20 ms pause): what a call made
          // at a random moment of the import waits. A loop stuck in one long call takes one sample only.
          const p95 = (values: number[]) => {
            const sorted = [...values].sort((x, y) => x - y);
            const total = sorted.reduce((sum, value) => sum + value + 20, 0);
            let seen = 0;
            for (const value of sorted) if ((seen += value + 20) >= 0.95 * total) return value;
            return NaN;
          };
          const max = (values: number[]) => Math.max(...values);
          const figures = {
            importMs: imported.endedAt - imported.startedAt,
            get: p95(during('get')),
            emit: p95(during('emit')),
            write: p95(during('write')),
            getMax: max(during('get')),
            emitMax: max(during('emit')),
            writeMax: max(during('write')),
            samples: Math.min(during('get').length, during('emit').length, during('write').length),
          };
          figuresOf[library] = figures;
          probes[library] = { ...figures, probes: samples };
          log(
            `during a 100k import (${library}, ${fixed(figures.importMs)} ms${imported.steps ? ` in ${imported.steps} steps` : ''}): tab B get p95 ${fixed(figures.get)} (max ${fixed(figures.getMax)}) ms, ` +
              `emit p95 ${fixed(figures.emit)} (max ${fixed(figures.emitMax)}) ms, other-type write p95 ${fixed(figures.write)} (max ${fixed(figures.writeMax)}) ms (at least ${figures.samples} samples of each)`,
          );
        } finally {
          await a.page.close();
          await b.page.close();
        }
      }
      raw['importProbe'] = probes;
      const { reprise, raw: floor, dexie } = figuresOf as Required<typeof figuresOf>;
      const shown = (figures: typeof reprise, kind: Kind) => `p95 ${fixed(figures[kind])} ms (max ${fixed(figures[`${kind}Max`])})`;
      for (const [kind, what, target] of [['get', 'get', 20], ['emit', 'emit', 50], ['write', 'other-type write', 50]] as const) {
        const peers = `floor (raw, ${IMPORT_STEP_MS} ms steps) ${shown(floor, kind)} · Dexie (bulkPut running) ${shown(dexie, kind)}`;
        row(`10. tab B ${what} p95 (time-weighted) while tab A imports 100k`, `${fixed(reprise[kind])} ms (max ${fixed(reprise[`${kind}Max`])})`, peers, reprise[kind], target, 'ms');
      }
    }

    // 11. Cold start, in production builds: createCache → first get, against Dexie's open → first get.
    if (ONLY.has(11)) {
      const cold = await measureColdStart(browser, 5);
      log(`cold start (ms): ${JSON.stringify(cold)}`);
      raw['coldStart'] = cold;
      const [reprise, dexie] = [median(cold.reprise), median(cold.dexie)];
      row('11. cold start: createCache → first get (production build)', `${fixed(reprise)} ms`, `Dexie open → first get ${fixed(dexie)} ms`, reprise / dexie, 1);
    }

    // 12. Longest main-thread task while big answers arrive from the worker (SPEC §5: interactive).
    if (ONLY.has(12)) {
      const answers = await page.evaluate(() => window.bench.bigAnswers(100_000, 30_000));
      raw['bigAnswers'] = answers;
      const { entries, getMany, getManyAll, deleteMany } = answers;
      const figures = [entries, getMany, getManyAll, deleteMany];
      log(`big answers: ${JSON.stringify(answers)}`);
      row(
        '12. longest main-thread task, entries 100k · getMany 30k · getMany 100k · deleteMany 100k',
        `${figures.map((timing) => fixed(timing.longestTask)).join(' · ')} ms (gaps ${figures.map((timing) => fixed(timing.longestGap)).join(' · ')})`,
        '',
        Math.max(...figures.map((timing) => timing.longestTask)),
        50,
        'ms',
      );
    }

    // 13. An app caching each answer as it arrives: 1,000 concurrent sets, against Dexie's concurrent puts.
    if (ONLY.has(13)) {
      const writes = await page.evaluate(() => window.bench.concurrentSets(1000, 7));
      raw['concurrentSets'] = writes;
      const [sets, setMany, dexie, keyval] = [median(writes.sets), median(writes.setMany), median(writes.dexie), median(writes['idb-keyval'])];
      log(`concurrent sets (ms): ${JSON.stringify(writes)}`);
      row(
        "13. 1,000 concurrent set ÷ Dexie's 1,000 concurrent put",
        `${fixed(sets)} ms (÷ its setMany of 1,000, ${fixed(setMany)} ms: ${fixed(sets / setMany, 2)})`,
        `Dexie ${fixed(dexie)} ms · idb-keyval ${fixed(keyval)} ms`,
        sets / dexie,
        1,
      );
    }

    // The report.
    const { stdout: chromium } = await promisify(execFile)(CHROMIUM, ['--version']);
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      `Benchmark ${date} · ${chromium.trim()} (headless) · ${machine} · Node ${process.version}`,
      '',
      '| measure | Reprise | peers in the same run | value | target | met |',
      '|---|---|---|---|---|---|',
      // In the order of the measures, whatever order they ran in.
      ...[...rows].sort((a, b) => parseInt(a.measure) - parseInt(b.measure)).map((entry) => `| ${entry.measure} | ${entry.reprise} | ${entry.peers} | ${fixed(entry.value, 2)} | ${entry.target} | ${entry.met ? 'yes' : '**no**'} |`),
      ...(sizes ? ['', ...sizeTable(sizes)] : []),
    ];
    console.log(`\n${lines.join('\n')}\n`);
    await mkdir('test-results', { recursive: true });
    if (ONLY.size < MEASURES) return;
    const report = { date, chromium: chromium.trim(), machine, node: process.version, rows, raw };
    // One file per full run (its start time in the name): the spread below reads the last three.
    await writeFile(`test-results/bench-${started.toISOString().replace(/[:.]/g, '-')}.json`, JSON.stringify(report, null, 2));
    await writeFile('test-results/bench-latest.json', JSON.stringify(report, null, 2));
    const spread = await spreadTable();
    if (spread.length) console.log(`\n${spread.join('\n')}\n`);
    await writeFile('test-results/bench-latest.md', `${[...lines, ...(spread.length ? ['', ...spread] : [])].join('\n')}\n`);
  } finally {
    await browser.dispose();
  }
}, 30 * 60_000);

/**
 * The spread of every row over the last three full runs in test-results/ (this one last): how far one
 * run can be trusted on this shared machine. Empty before there are three.
 */
async function spreadTable(): Promise<string[]> {
  const files = (await readdir('test-results')).filter((file) => /^bench-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.test(file)).sort().slice(-3);
  if (files.length < 3) return [];
  const runs = await Promise.all(files.map(async (file) => JSON.parse(await readFile(`test-results/${file}`, 'utf8')) as { rows: Row[] }));
  const measures = [...new Set(runs.flatMap((run) => run.rows.map((entry) => entry.measure)))].sort((a, b) => parseInt(a) - parseInt(b));
  return [
    `Spread over the last three full runs (${files.map((file) => file.slice(6, 22)).join(', ')}; each cell run 1 / 2 / 3):`,
    '',
    '| measure | three runs | target | met in |',
    '|---|---|---|---|',
    ...measures.map((measure) => {
      const entries = runs.map((run) => run.rows.find((entry) => entry.measure === measure));
      const target = entries.find(Boolean)?.target ?? '';
      const met = entries.filter((entry) => entry?.met).length;
      return `| ${measure} | ${entries.map((entry) => (entry ? fixed(entry.value, 2) : '–')).join(' / ')} | ${target} | ${met} of 3 |`;
    }),
  ];
}
