// A seeded random run in real Chromium: three tabs of one origin make a few hundred calls while real faults
// hit them (a tab's worker terminated with calls in flight, a page reloaded, close() then a new cache, a tab's
// channel gated so it misses messages). Then every tab must read what the resolved calls left, and nothing of
// what rejected, and every cache's `on('*')` listener must have heard the events as README's Guarantees say.
// RANDOM_FAULT_SEEDS=N (or A-B) runs those seeds, 300 calls each, instead of the two fixed ones.
import { describe, expect, it } from 'vitest';
import type { CacheConfig } from '../../src/index';
import { uniqueName, useBrowser, type TestPage } from './chromium';
import { gateChannels, setGate, type Gate } from './gate';
import { random } from './pages/fuzzCalls';

const browser = useBrowser();

/** No budget, no expiry: what a key holds depends on its calls and its track's events alone. */
const CONFIG: CacheConfig = { caching: { policies: { track_metadata: { ttlSeconds: Infinity, maxSizeMb: null } } } };
const TABS = 3;
const TRACKS = ['t0', 't1', 't2', 't3', 't4', 't5'];
const SMALL_KEYS = 4;
/** Above a thousand entries a setMany is an import; above two thousand, several chunks of it. */
const BULK = 2100;
/** Per seed: 120 in `npm test` (two seeds, ~50 s in all here), 300 with RANDOM_FAULT_SEEDS (~20-50 s a seed). */
const CALLS = process.env['RANDOM_FAULT_SEEDS'] ? 300 : 120;
const IN_FLIGHT = 4;
const ABSENT = 'absent';

/** RANDOM_FAULT_SEEDS=N runs seeds 1..N, =A-B seeds A..B. */
const SEEDS = ((range) => {
  if (!range) return [1, 2];
  const [from, to] = range.includes('-') ? range.split('-').map(Number) : [1, Number(range)];
  return Array.from({ length: to! - from! + 1 }, (_, index) => from! + index);
})(process.env['RANDOM_FAULT_SEEDS']);

/** What a call in a page gave: its value, or its rejection as the page saw it; `lost` when its page was reloaded under it. */
type Outcome = { ok: true; value: unknown; calls?: number } | { ok: false; code: string | undefined; cacheError: boolean; message: string } | { lost: true };

type Op =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'setMany'; entries: { key: string; value: string }[] }
  | { kind: 'delete'; key: string }
  | { kind: 'deleteMany'; keys: string[] }
  | { kind: 'emit'; eventType: 'track_removed' | 'track_modified'; id: string }
  | { kind: 'getOrSet'; key: string; value: string; delay: number }
  | { kind: 'get'; key: string };

/** Runs one call in the page. Values travel as JSON text, so that the model compares strings. */
function runInPage(page: TestPage['page'], op: Op, track: string): Promise<Outcome> {
  return page.evaluate(
    async ({ op, track }) => {
      const cache = window.tab.cache!;
      let calls = 0;
      const call = async (): Promise<unknown> => {
        switch (op.kind) {
          case 'set':
            return cache.set('track_metadata', op.key, { v: op.value }, { trackId: track });
          case 'setMany':
            return cache.setMany(
              'track_metadata',
              op.entries.map(({ key, value }) => ({ key, value: { v: value }, trackId: track })),
            );
          case 'delete':
            return cache.delete('track_metadata', op.key);
          case 'deleteMany':
            return cache.deleteMany('track_metadata', op.keys);
          case 'emit':
            return (await cache.emit({ eventType: op.eventType, trackId: track, metadata: { id: op.id } })).invalidated.track_metadata ?? 0;
          case 'getOrSet': {
            const got = (await cache.getOrSet(
              'track_metadata',
              op.key,
              async () => {
                calls++;
                await new Promise((resolve) => setTimeout(resolve, op.delay));
                return { v: op.value };
              },
              { trackId: track },
            )) as { v: string };
            return got.v;
          }
          case 'get':
            return ((await cache.get('track_metadata', op.key)) as { v: string } | undefined)?.v;
        }
      };
      try {
        return { ok: true as const, value: (await call()) ?? null, calls };
      } catch (error) {
        return { ok: false as const, code: (error as { code?: string }).code, cacheError: error instanceof window.Reprise.CacheError, message: String((error as Error).message) };
      }
    },
    { op, track },
  );
}

/** Each key's possible readings: JSON-free value strings, or ABSENT. */
class Model {
  readonly possible = new Map<string, Set<string>>();
  readonly trackOf = new Map<string, string>();
  problems: string[] = [];

  /** Every key a call named, written or not: a key whose writes all rejected must read nothing. */
  touch(keys: string[], track: string) {
    for (const key of keys) this.trackOf.set(key, track);
  }
  of(key: string): Set<string> {
    return this.possible.get(key) ?? new Set([ABSENT]);
  }
  /** What a settled call left: `certain` when it resolved, one more possibility when whether it happened is unknown. */
  write(key: string, track: string, reading: string, certain: boolean) {
    this.trackOf.set(key, track);
    this.possible.set(key, certain ? new Set([reading]) : new Set([...this.of(key), reading]));
  }
  keysOfTrack(track: string): string[] {
    return [...this.trackOf].filter(([, of]) => of === track).map(([key]) => key);
  }
}

async function openTab(name: string, generation: number): Promise<TestPage> {
  // Installed before the page's scripts, on every load: workers that say whether their script has run.
  const tab = await browser.open('/test/browser/pages/reprise.html', () => {
    class Watched extends window.Worker {
      ran = false;
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', () => (this.ran = true), { once: true });
      }
    }
    Object.assign(window, { Worker: Watched });
    window.addEventListener('unhandledrejection', (event) => console.error(`unhandled rejection: ${String(event.reason)}`));
  });
  await startCache(tab, name, generation);
  return tab;
}

/** On a page just loaded: its BroadcastChannels gated (they drop what arrives while `gate.closed`), then its cache. */
async function startCache({ page }: TestPage, name: string, generation: number) {
  await page.waitForFunction(() => 'tab' in window);
  await page.evaluate(gateChannels, null);
  await page.evaluate(openCache, { name, config: CONFIG, generation, closing: false });
}

/** What a cache's `on('*')` listener heard: the emit's id (its metadata), and as whose. */
interface Heard {
  generation: number;
  id: unknown;
  source: 'local' | 'remote';
  /** Its `invalidated.track_metadata`. */
  removed: number | undefined;
}

/**
 * In the page: closes its cache if asked, opens one, and records in `window.heard` what its listener hears, under
 * `generation` (one number per cache of the run). Registered as `open` resolves: nothing can be told before it.
 */
async function openCache({ name, config, generation, closing }: { name: string; config: CacheConfig; generation: number; closing: boolean }) {
  const page = window as unknown as { heard?: Heard[] };
  const heard = (page.heard ??= []);
  if (closing) await window.tab.cache!.close();
  await window.tab.open({ name, config });
  window.tab.cache!.on('*', (event, { source, invalidated }) => void heard.push({ generation, id: event.metadata?.['id'], source, removed: invalidated.track_metadata }));
}

async function runSeed(seed: number) {
  const name = uniqueName(`randomFaults-${seed}`);
  /** The order in which the test saw things happen: a cache's opening resolve, a call start and settle. */
  let clock = 0;
  /** Each tab's cache now: its generation (one number per cache of the run) and when its opening resolved. */
  const caches: { generation: number; openedAt: number }[] = [];
  let generations = 0;
  const tabs: TestPage[] = [];
  for (let index = 0; index < TABS; index++) {
    tabs.push(await openTab(name, ++generations));
    caches.push({ generation: generations, openedAt: ++clock });
  }
  /** Every emit made, by its id: its tab's cache as it began, when it began and settled, and how. */
  const emits = new Map<string, { tab: number; generation: number; start: number; end?: number; outcome?: 'resolved' | 'rejected' | 'unknown'; removed?: number }>();
  const r = random(seed);
  const model = new Model();
  const down = new Set<number>();
  /** A tab's page reloads: its calls in flight are lost, not failed. */
  const reloading = new Set<number>();
  const busyTracks = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const tally: Record<string, number> = {};
  const count = (what: string) => void (tally[what] = (tally[what] ?? 0) + 1);
  const started = Date.now();
  /** Calls that took over 10 s: no invariant, but worth reading. */
  const slow: string[] = [];

  const smallKey = (tab: number, track: string) => `tab${tab}-${track}-k${r.below(SMALL_KEYS)}`;
  const fail = (problem: string) => void model.problems.push(`seed ${seed}: ${problem}`);

  /** Whether the call may have happened though it did not resolve: lost with its page, or rejected saying it cannot tell. */
  const unknown = (outcome: Outcome) => 'lost' in outcome || (!outcome.ok && /could not be learnt|unknown if the \w+ landed/.test(outcome.message));

  function settle(tab: number, track: string, op: Op, outcome: Outcome, step: number) {
    if (op.kind === 'emit')
      Object.assign(emits.get(op.id)!, 'ok' in outcome && outcome.ok ? { end: ++clock, outcome: 'resolved', removed: outcome.value } : { end: ++clock, outcome: unknown(outcome) ? 'unknown' : 'rejected' });
    if ('lost' in outcome) count('lost to a reload');
    else if (!outcome.ok) {
      count(`${op.kind} rejected ${outcome.code}`);
      if (!outcome.cacheError || !outcome.code) fail(`step ${step} ${op.kind} rejected with no CacheError code: ${outcome.message}`);
    } else count(`${op.kind} resolved`);
    model.touch('key' in op ? [op.key] : 'keys' in op ? op.keys : 'entries' in op ? op.entries.map(({ key }) => key) : [], track);
    const resolved = !('lost' in outcome) && outcome.ok;
    const maybe = unknown(outcome);
    const before = (key: string) => model.of(key);
    const describe = (key: string) => `${key} could read ${JSON.stringify([...before(key)])}`;
    switch (op.kind) {
      case 'set':
        if (resolved || maybe) model.write(op.key, track, op.value, resolved);
        break;
      case 'setMany':
        if (resolved || maybe) for (const { key, value } of op.entries) model.write(key, track, value, resolved);
        break;
      case 'delete':
        if (resolved) {
          const possible = before(op.key);
          const value = (outcome as { value: unknown }).value;
          const expected = !possible.has(ABSENT) ? true : possible.size === 1 ? false : undefined;
          if (expected !== undefined && value !== expected) fail(`step ${step} delete answered ${String(value)}, ${describe(op.key)}`);
        }
        if (resolved || maybe) model.write(op.key, track, ABSENT, resolved);
        break;
      case 'deleteMany':
        if (resolved) checkCount(op.keys, (outcome as { value: number }).value, step, 'deleteMany');
        if (resolved || maybe) for (const key of op.keys) model.write(key, track, ABSENT, resolved);
        break;
      case 'emit': {
        const keys = model.keysOfTrack(track);
        if (resolved) checkCount(keys, (outcome as { value: number }).value, step, 'emit');
        if (resolved || maybe) for (const key of keys) model.write(key, track, ABSENT, resolved);
        break;
      }
      case 'getOrSet': {
        if (resolved) {
          const { value, calls } = outcome as { value: string; calls: number };
          const possible = before(op.key);
          if (value === op.value ? calls !== 1 || !possible.has(ABSENT) : calls !== 0 || !possible.has(value))
            fail(`step ${step} getOrSet gave ${value} calling its fetcher ${calls} times, ${describe(op.key)}`);
          model.write(op.key, track, value, true);
        } else if (maybe) model.write(op.key, track, op.value, false);
        break;
      }
      case 'get':
        if (resolved) {
          const value = (outcome as { value: string | null }).value ?? ABSENT;
          if (!before(op.key).has(value)) fail(`step ${step} get in tab ${tab} read ${value}, ${describe(op.key)}`);
        }
        break;
    }
  }

  /** A count of removed entries lies between those surely there and those maybe there. */
  function checkCount(keys: string[], removed: number, step: number, what: string) {
    const unique = [...new Set(keys)];
    const surely = unique.filter((key) => !model.of(key).has(ABSENT)).length;
    const maybe = unique.filter((key) => [...model.of(key)].some((reading) => reading !== ABSENT)).length;
    if (removed < surely || removed > maybe) fail(`step ${step} ${what} removed ${removed}, expected ${surely}..${maybe}`);
  }

  /**
   * What a tab's listeners heard, against the emits (README, Guarantees: the fault simulation's listener check, for
   * tabs that all have IndexedDB): no event twice in a cache, none that was not emitted or whose emit rejected, a
   * cache's own as local and every other's as remote (another cache of the same page included), another cache's
   * events in the order it made them one after another; and the cache open at the end heard every event whose emit
   * began after it opened and resolved — its own, and another tab's through the log's catch-up where its message was
   * lost (a gated channel, a worker terminated: the final `stats()` replays the log). What README excuses cannot happen
   * here: no database deleted, no clock moved, no page frozen, a few dozen events (the log keeps 1,000), so no tab is
   * told it forgot. A cache closed, or its page reloaded, after the emit began is another cache: not required to hear it.
   */
  function checkHearing(tab: number, list: Heard[]): string[] {
    const problems: string[] = [];
    const byCache = new Map<number, string[]>();
    for (const { generation, id, source, removed } of list) {
      const emit = emits.get(String(id));
      const where = `tab ${tab} (cache ${generation})`;
      if (!emit) {
        problems.push(`${where} heard ${JSON.stringify(id)}, which nobody emitted`);
        continue;
      }
      const of = `${String(id)} of tab ${emit.tab} (cache ${emit.generation}, ${emit.outcome ?? 'pending'})`;
      if (emit.outcome === 'rejected') problems.push(`${where} heard ${of}, whose emit rejected`);
      const own = emit.tab === tab && emit.generation === generation;
      if (source !== (own ? 'local' : 'remote')) problems.push(`${where} heard ${of} as ${source}`);
      // What it removed is in the log: every tab is told the count its emit answered.
      if (emit.outcome === 'resolved' && removed !== emit.removed) problems.push(`${where} heard ${of} as removing ${String(removed)} entries, its emit ${String(emit.removed)}`);
      const ids = byCache.get(generation) ?? byCache.set(generation, []).get(generation)!;
      if (ids.includes(String(id))) problems.push(`${where} heard ${of} twice`);
      ids.push(String(id));
    }
    for (const [generation, ids] of byCache)
      ids.forEach((id, index) => {
        const later = emits.get(id)!;
        const earlier = ids.slice(index + 1).find((other) => {
          const emit = emits.get(other)!;
          return emit.tab === later.tab && emit.generation === later.generation && emit.end !== undefined && emit.end < later.start;
        });
        if (earlier) problems.push(`tab ${tab} (cache ${generation}) heard ${id} before ${earlier}, which tab ${later.tab} emitted earlier`);
      });
    const { generation, openedAt } = caches[tab]!;
    const ids = byCache.get(generation) ?? [];
    for (const [id, emit] of emits) {
      if (emit.outcome !== 'resolved' || emit.start < openedAt || ids.includes(id)) continue;
      const own = emit.tab === tab && emit.generation === generation;
      problems.push(`tab ${tab} (cache ${generation}, open since ${openedAt}) never heard ${own ? 'its own ' : ''}${id} of tab ${emit.tab} (cache ${emit.generation}, [${emit.start}, ${emit.end}])`);
    }
    return problems;
  }

  function choose(step: number): Op {
    const roll = r.next();
    const value = `s${seed}-${step}`;
    if (roll < 0.22) return { kind: 'set', key: '', value };
    if (roll < 0.3) return { kind: 'setMany', entries: [] };
    if (roll < 0.32) return { kind: 'setMany', entries: [{ key: 'bulk', value }] };
    if (roll < 0.42) return { kind: 'delete', key: '' };
    if (roll < 0.5) return { kind: 'deleteMany', keys: [] };
    if (roll < 0.6) return { kind: 'emit', eventType: r.pick(['track_removed', 'track_modified'] as const), id: `e${step}` };
    if (roll < 0.78) return { kind: 'getOrSet', key: '', value, delay: r.below(30) };
    return { kind: 'get', key: '' };
  }

  /** Fills in a chosen op's keys: the tab's own keys of the track. */
  function keyed(op: Op, tab: number, track: string, step: number): Op {
    const value = `s${seed}-${step}`;
    switch (op.kind) {
      case 'set':
      case 'delete':
      case 'get':
        return { ...op, key: smallKey(tab, track) };
      case 'getOrSet':
        return { ...op, key: smallKey(tab, track) };
      case 'setMany':
        return op.entries.length === 1
          ? { kind: 'setMany', entries: Array.from({ length: BULK }, (_, index) => ({ key: `tab${tab}-${track}-bulk${index}`, value: `${value}-${index}` })) }
          : { kind: 'setMany', entries: Array.from({ length: 2 + r.below(4) }, (_, index) => ({ key: smallKey(tab, track), value: `${value}-${index}` })) };
      case 'deleteMany':
        return { kind: 'deleteMany', keys: Array.from({ length: 1 + r.below(4) }, () => smallKey(tab, track)) };
      case 'emit':
        return op;
    }
  }

  for (let step = 0; step < CALLS; step++) {
    const roll = r.next();
    const tab = r.below(TABS);
    const { page } = tabs[tab]!;
    if (roll < 0.05) {
      // A fault. Terminating a worker is done in the page, a moment later, while calls run.
      const fault = r.pick(['terminate', 'terminate', 'reload', 'close', 'gate'] as const);
      if (down.has(tab)) continue;
      count(`fault ${fault}`);
      const faultStarted = Date.now();
      if (fault === 'terminate')
        // Only a worker whose script has run (it has posted a message): one terminated before that is the
        // page's own doing, which the page waits 60 s to tell from a slow load (connectWorker.ts).
        await page.evaluate((delay) => {
          const worker = window.tab.workers.at(-1) as (Worker & { ran?: boolean }) | undefined;
          if (worker?.ran) setTimeout(() => worker.terminate(), delay);
        }, r.below(40));
      else if (fault === 'gate')
        await page.evaluate((open) => {
          const gate = (window as unknown as { gate: Gate }).gate;
          gate.closed = true;
          setTimeout(() => (gate.closed = false), open);
        }, 50 + r.below(400));
      else if (fault === 'reload') {
        down.add(tab);
        reloading.add(tab);
        await page.reload();
        reloading.delete(tab);
        await startCache(tabs[tab]!, name, ++generations);
        caches[tab] = { generation: generations, openedAt: ++clock };
        down.delete(tab);
      } else {
        down.add(tab);
        await page.evaluate(openCache, { name, config: CONFIG, generation: ++generations, closing: true });
        caches[tab] = { generation: generations, openedAt: ++clock };
        down.delete(tab);
      }
      if (Date.now() - faultStarted > 10_000) slow.push(`step ${step} ${fault} of tab ${tab}: ${Date.now() - faultStarted} ms`);
      continue;
    }
    const chosen = choose(step);
    // One call at a time per track (its keys and its events), so that every key's history is a line.
    while (inFlight.size >= IN_FLIGHT || TRACKS.every((track) => busyTracks.has(track))) await Promise.race(inFlight);
    if (down.has(tab)) continue;
    const track = r.pick(TRACKS.filter((track) => !busyTracks.has(track)));
    const op = keyed(chosen, tab, track, step);
    busyTracks.add(track);
    if (op.kind === 'emit') emits.set(op.id, { tab, generation: caches[tab]!.generation, start: ++clock });
    const callStarted = Date.now();
    const running = runInPage(page, op, track)
      .catch((error: unknown): Outcome => {
        if (reloading.has(tab)) return { lost: true };
        throw error;
      })
      .then((outcome) => {
        const took = Date.now() - callStarted;
        if (took > 10_000) slow.push(`step ${step} ${op.kind} in tab ${tab}: ${took} ms, ${JSON.stringify('lost' in outcome ? 'lost' : outcome.ok ? 'resolved' : outcome.code)}`);
        settle(tab, track, op, outcome, step);
      })
      .finally(() => {
        busyTracks.delete(track);
        inFlight.delete(running);
      });
    inFlight.add(running);
  }
  await Promise.all(inFlight);

  // Everything settled: every tab reads every key, and counts its entries three ways.
  await Promise.all(tabs.map(({ page }) => setGate(page, false)));
  const keys = [...model.trackOf.keys()].sort();
  const reads = await Promise.all(
    tabs.map(({ page }) =>
      page.evaluate(
        async ({ keys, name }) => {
          const cache = window.tab.cache!;
          const values = (await cache.getMany('track_metadata', keys)) as ({ v: string } | undefined)[];
          const listed = await cache.keys('track_metadata');
          const stats = (await cache.stats()).types.track_metadata;
          const counted = (await window.recount(name))['track_metadata'];
          return { values: values.map((value) => value?.v ?? null), listed: listed.length, stats: [stats.entries, stats.bytes], counted: [counted?.entries, counted?.bytes] };
        },
        { keys, name },
      ),
    ),
  );
  let settled = 0;
  keys.forEach((key, index) => {
    const possible = model.of(key);
    if (possible.size === 1) settled++;
    reads.forEach(({ values }, tab) => {
      const reading = values[index] ?? ABSENT;
      if (!possible.has(reading)) model.problems.push(`seed ${seed}: at the end, tab ${tab} reads ${key} as ${reading}, which could read ${JSON.stringify([...possible])}`);
    });
  });
  // A second more for anything on its way, then what every cache's listener heard.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const heard = await Promise.all(tabs.map(({ page }) => page.evaluate(() => (window as unknown as { heard: Heard[] }).heard)));
  heard.forEach((list, tab) => checkHearing(tab, list).forEach(fail));
  const errors = tabs.flatMap(({ errors }, tab) => errors.filter((error) => !/worker died|worker stopped/.test(error)).map((error) => `tab ${tab}: ${error}`));
  console.log(
    `random faults, seed ${seed}: ${Date.now() - started} ms, ${keys.length} keys (${settled} with one possible reading), entries ${reads.map(({ listed }) => listed).join('/')}:`,
    JSON.stringify(tally),
    `heard ${heard.map((list) => list.length).join('/')} events of ${[...emits.values()].filter(({ outcome }) => outcome === 'resolved').length} resolved`,
    slow.length ? `slow: ${slow.join('; ')}` : '',
  );
  for (const { page } of tabs) await page.close();
  return { problems: model.problems, errors, counts: reads.map(({ listed, stats, counted }) => ({ listed, stats, counted })) };
}

describe('three tabs making random calls under real faults', () => {
  it.each(SEEDS)('seed %i: every tab reads what the resolved calls left, nothing a rejected call wrote; counts agree; every rejection a CacheError with a code; listeners heard once each event emitted while their cache was open', async (seed) => {
    const { problems, errors, counts } = await runSeed(seed);
    expect(problems).toEqual([]);
    for (const { listed, stats, counted } of counts) {
      expect(stats).toEqual(counted);
      expect(stats[0]).toBe(listed);
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
