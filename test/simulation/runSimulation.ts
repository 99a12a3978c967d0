// A seeded run of several simulated tabs making random calls under browser-like faults, checked
// against the reference model after every call and at every settle. Deterministic for a seed: every
// source of order (fake-indexeddb, the channel, the locks, deferred work) runs on setImmediate turns.
import { IDBFactory } from 'fake-indexeddb';
import { CACHE_ERROR_CODES, isCacheError, type CacheErrorCode } from '../../src/CacheError';
import type { CacheConfig } from '../../src/configSchema';
import { CONTENT_TYPES, type ContentType, type TypeName } from '../../src/contentType';
import { entryStore } from '../../worker/databaseSchema';
import { SmartCacheConfig } from '../../src/SmartCacheConfig';
import { CHANNEL_VERSION } from '../../src/TabChannel';
import { INFINITE_TTL } from '../../src/time';
import { deleteUnderTabs, failCommit, fillDisk } from '../support/faultyIndexedDB';
import { Model, type Outcome, type ReadContext, type Reach, type Remover, type Tags, type WriteRecord } from './Model';
import { Random } from './random';
import { randomEvent } from './randomEvent';
import type { CacheEvent } from '../../src/cacheEvent';
import { SimLocks } from './SimLocks';
import { SimNetwork } from './SimNetwork';
import { afterTurns, drawsOf, SimTab, type SimWorld } from './SimTab';
import type { EntryRecord } from '../../worker/databaseSchema';
import { batchRecords, visibleOf, type BatchRecord } from '../../worker/importBatch';
import { requestDone } from '../../worker/idbRequests';
import type { PolicyTable } from '../../src/PolicyTable';
import { tableOf } from '../support/tableOf';

export interface SimulationOptions {
  seed: number;
  /** Calls and faults to make (default 150). */
  steps?: number;
}

export interface SimulationReport {
  seed: number;
  steps: number;
  calls: number;
  rejected: Partial<Record<CacheErrorCode | 'fetch', number>>;
  faults: Record<string, number>;
  settles: number;
}

export class SimulationFailure extends Error {
  override name = 'SimulationFailure';
}

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const TRACKS = ['t1', 't2', 't3', 't4'];
const FINGERPRINTS = ['F1', 'F2', 'F3'];
const ALBUMS = [
  { artist: 'Ann', album: 'One' },
  { artist: ' ann ', album: 'ONE' },
  { artist: 'Bo', album: 'Two' },
];
const EVENT_WORLD = { tracks: TRACKS, fingerprints: FINGERPRINTS, albums: ALBUMS };
/** A budget small enough that writes evict (about six entries of the largest values here). */
const TIGHT_MB = 0.004;

class FetchFailed extends Error {
  override name = 'FetchFailed';
}

/** The channel name of whoever posts MALFORMED messages. */
const STRANGER = 'stranger';
const validEvent = { v: CHANNEL_VERSION, kind: 'event', origin: STRANGER, id: 'x', epoch: null, seq: null, event: { eventType: 'library_sync' }, invalidated: {} };
/** What the channel may carry besides Reprise's messages: each must be dropped and counted, and change nothing. */
const MALFORMED: unknown[] = [
  'hello',
  null,
  42,
  { ...validEvent, v: CHANNEL_VERSION + 1 },
  { ...validEvent, event: { eventType: 'track_removed' } },
  { ...validEvent, id: '' },
  { ...validEvent, seq: -1 },
  { ...validEvent, invalidated: { generic: 0.5 } },
  { v: CHANNEL_VERSION, kind: 'clear', origin: STRANGER, id: 'y', epoch: null, seq: null, types: ['Not a type!'] },
  { v: CHANNEL_VERSION, kind: 'hello', origin: '', logs: true },
];

interface Fault {
  codes: readonly CacheErrorCode[];
  start: number;
  end: number | null;
}

interface Call {
  what: string;
  tab: SimTab;
  start: number;
  /** Faults from this time on may explain a rejection: a getOrSet that joined another's fetch shares its fate. */
  since: number;
  promise: Promise<unknown>;
}

/** The built-in types and the app's own (see the config below). */
export type SimType = ContentType | 'lyrics' | 'scratch';
const TYPES: readonly SimType[] = [...CONTENT_TYPES, 'lyrics', 'scratch'];

/** The replay command printed with every failure. */
export const replayCommand = (seed: number) => `${process.env['SIM_DRAWS'] === undefined ? '' : `SIM_DRAWS=${process.env['SIM_DRAWS']} `}SIM_SEED=${seed} npm run soak`;

export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  // The library draws Math.random too (an import's batch id): seeded here, on a stream of its own, so that
  // a failing seed replays exactly. SIM_DRAWS picks other streams for it and for setMany's slices (see
  // SimTab): the same calls and faults, another interleaving.
  const mathRandom = Math.random;
  const draws = new Random(drawsOf(options.seed));
  Math.random = () => draws.next();
  try {
    return await simulate(options);
  } finally {
    Math.random = mathRandom;
  }
}

async function simulate({ seed, steps = 150 }: SimulationOptions): Promise<SimulationReport> {
  const random = new Random(seed);
  const tight = new Set<SimType>(TYPES.filter(() => random.chance(0.25)));
  const config: CacheConfig = {
    caching: {
      // The periodic cleanup runs every few hundred turns (see SimTab), one tab at a time through Web Locks.
      cleanupIntervalSeconds: random.pick([5, 30, 300]),
      negativeResultTtl: random.pick([30, 600, 86_400]),
      // The app's own types: one kept in IndexedDB (its own object store), one in memory.
      customTypes: {
        lyrics: {
          persistent: true,
          ttlSeconds: random.pick([30, 600, INFINITE_TTL]),
          invalidationStrategy: random.pick(['hybrid', 'event_driven', 'fingerprint_based'] as const),
          maxSizeMb: tight.has('lyrics') ? TIGHT_MB : null,
          invalidatedBy: ['track_removed', 'track_modified', 'fingerprint_changed'],
        },
        scratch: {
          persistent: false,
          ttlSeconds: 600,
          invalidationStrategy: random.pick(['event_driven', 'time_based'] as const),
          maxSizeMb: tight.has('scratch') ? TIGHT_MB : null,
          invalidatedBy: ['library_sync'],
        },
      },
      policies: Object.fromEntries(
        CONTENT_TYPES.map((type) => [
          type,
          {
            ...(tight.has(type) ? { maxSizeMb: TIGHT_MB } : {}),
            // Memory types that events reach, in most runs: the path where messages are only hints.
            ...(type === 'generic' && random.chance(0.7) ? { invalidationStrategy: 'event_driven' as const } : {}),
            ...(type === 'failed_api_lookup' && random.chance(0.3) ? { invalidationStrategy: 'hybrid' as const } : {}),
          },
        ]),
      ),
    },
  };
  const smart = new SmartCacheConfig(config);
  // Asked as a PolicyTable: the model's records name their type as any TypeName.
  const table: PolicyTable = tableOf(smart);
  const isPersistentType = (type: TypeName) => table.isPersistent(type);
  let clock = Date.UTC(2026, 0, 1);
  /** How far the clock was set back and not caught up since (see the clock's steps). */
  let behind = 0;
  const model = new Model(smart, clock);
  const world: SimWorld = {
    seed,
    name: `sim-${seed}`,
    inner: new IDBFactory(),
    network: new SimNetwork(random.fork(), { maxDelayTicks: random.int(5), duplicate: random.pick([0, 0, 0.05]), reorder: random.chance(0.7) }),
    // The read-through's fetch channel (a BroadcastChannel of its own): seeded apart, so that the scenario's draws stay the seed's.
    fetchNetwork: new SimNetwork(new Random(~seed ^ 0xfe7c), { maxDelayTicks: 3 }),
    // Plain-http pages have no Web Locks.
    locks: random.chance(0.8) ? new SimLocks() : null,
    now: () => clock,
    random: random.fork(),
    config,
    logged: [],
  };
  const tabs: SimTab[] = [];
  const tabCount = 2 + random.int(3);
  const degradedTab = random.chance(0.25) ? random.int(tabCount) : -1;
  // Sometimes a second tab without IndexedDB (of three or more, one keeping it), so that two such tabs hear each other:
  // drawn from a stream of its own, so that the scenario's other draws stay those of the seed.
  const also = new Random(~seed);
  const secondDegraded = degradedTab >= 0 && tabCount > 2 && also.chance(0.4) ? (degradedTab + 1 + also.int(tabCount - 2)) % tabCount : -1;
  for (let index = 0; index < tabCount; index++) tabs.push(await SimTab.open(world, `tab${index}`, index === degradedTab || index === secondDegraded));
  /** Each emit, told apart by the `sim` its metadata carries: what the tabs' listeners hear is checked against them (see checkHearing). */
  const emits = new Map<string, EmitRecord>();
  /** When each page of each tab (SimTab.page) began listening, as far as the model knows: after createCache resolved. */
  const opened = new Map<SimTab, Map<number, { at: number; clock: number }>>(tabs.map((tab) => [tab, new Map([[tab.page, { at: 0, clock }]])]));
  /** Faults after which a tab may have been told it forgot without its watcher hearing it yet (the database deleted). */
  const recreated: number[] = [];
  /** Each deletion's start (as in `recreated`), how many messages had been posted by its end (epochs named in those are of databases deleted since) and the epoch of the database made after it, once a settle read it (see namedDeletedDatabase). */
  const deletions: { at: number; posted: number; after: string | null }[] = [];
  /** When each page of each tab first had a place in the event log (see SimTab.placed), as the model counts time. */
  const placedAt = new Map<SimTab, Map<number, number>>(tabs.map((tab) => [tab, new Map()]));
  for (const tab of tabs) {
    tab.onHeard = ({ event, source, page }) => history.push(`[${model.time}] ${tab.id} (page ${page}) hears ${simOf(event)} (${source})`);
    tab.onPlaced = (page) => placedAt.get(tab)!.set(page, model.time);
  }

  const report: SimulationReport = { seed, steps, calls: 0, rejected: {}, faults: {}, settles: 0 };
  const faults: Fault[] = [];
  const settles: number[] = [];
  const pending = new Set<Call>();
  const restores: (() => void)[] = [];
  /** The clock's moves forward (the tick of each), without Web Locks: see the clock's step. */
  const forward: { at: number; ms: number }[] = [];
  const batches: { name: string; writes: WriteRecord[] }[] = [];
  let step = 0;
  let fresh = 0;
  const history: string[] = [];

  let failure: SimulationFailure | undefined;
  const fail = (message: string): never => {
    // The first failure is the one reported, wherever it was found (often in a call's callback).
    failure ??= new SimulationFailure(
      [
        `Simulation seed ${seed} failed at step ${step}: ${message}`,
        `Replay: ${replayCommand(seed)}`,
        `Last calls:\n  ${history.slice(-(Number(process.env["SIM_HISTORY"] ?? 25))).join('\n  ')}`,
        world.logged.length ? `Logged by the library:\n  ${world.logged.slice(-10).join('\n  ')}` : '',
      ].join('\n'),
    );
    throw failure;
  };
  const count = (what: string) => (report.faults[what] = (report.faults[what] ?? 0) + 1);
  const openFault = (codes: CacheErrorCode[], what: string): Fault => {
    count(what);
    const fault = { codes, start: model.tick(), end: null };
    faults.push(fault);
    return fault;
  };
  /** Posts malformed messages on the channel (see MALFORMED). */
  let stranger: ReturnType<ReturnType<SimNetwork['opener']>> | undefined;
  /** When each tab lost its worker (killed, reloaded): what it had not sent yet is lost with it. */
  const deaths = new Map<SimTab, number[]>();
  /** What each frozen tab without IndexedDB may have forgotten since its freeze (see freeze). */
  const forgetting = new Map<SimTab, Remover>();
  /** How many deliveries the network had made as each tab last froze: a freeze forgets the database heard of (see namedNoDatabase). */
  const frozeAt = new Map<SimTab, number>();
  const died = (tab: SimTab) => deaths.set(tab, [...(deaths.get(tab) ?? []), model.tick()]);
  /** When each tab's page reloaded (as it began): a change of a tab without IndexedDB still unlogged goes with it. */
  const reloads = new Map<SimTab, number[]>();
  /** Whether a page of a tab with IndexedDB that is still open heard the change (one whose worker died first gives it to its next worker). */
  const heardByLogger = (carriesIt: (data: unknown) => boolean) =>
    world.network.deliveries.some(({ to, data }) => tabs.some((other) => !other.degraded && other.pageChannels.includes(to)) && carriesIt(data));
  /**
   * When each tab was frozen, from its freeze to its resume (null: still frozen), and how many deliveries the network had
   * made as it froze: a tab without IndexedDB hears nothing meanwhile.
   */
  const frozenSpans = new Map<SimTab, { from: number; to: number | null; at: number }[]>();
  const locOf = (tab: SimTab, type: SimType) => (tab.degraded || !isPersistentType(type) ? `mem:${tab.id}#${tab.generation}` : 'idb');
  const tabOfLoc = (loc: string) => (loc === 'idb' ? undefined : tabs.find((tab) => loc.startsWith(`mem:${tab.id}#`)));
  /** The first settle that started after `time`: from its end on, everything before it has reached every tab. */
  const settledAfter = (time: number): 'later' | number => {
    const settle = settles.find((at) => at > time);
    return settle === undefined ? 'later' : settle;
  };

  /**
   * When a change made by `origin` (removing `removes(write)`) is certainly applied in `loc`: at once in
   * IndexedDB and the origin's own memory, and in other tabs' memory when their reads check the log
   * (event-invalidated types, tabs with IndexedDB); otherwise once a settle has delivered everything.
   * `made`: the change as namedDeletedDatabase sees it, where its tab has no IndexedDB.
   */
  const changeReach =
    (origin: SimTab, originLoc: (type: TypeName) => string, remover: () => Remover, removes: (write: WriteRecord) => boolean, made?: () => [ChangeRecord, (data: unknown) => boolean]): Reach =>
    (loc, write) => {
      if (!removes(write)) return 'no';
      const { start, end, outcome } = remover();
      const reader = tabOfLoc(loc);
      // README, Tabs without IndexedDB: "one made after the database was deleted, before its tab heard of the new one, is not
      // logged when sent again if no tab logged it the first time": never in the shared data, nor in a memory tier the log
      // feeds (a tab with IndexedDB answers it `gone`); it may have been, until a settle delivered its first message (seed 5457).
      if (origin.degraded && !reader?.degraded && loc !== originLoc(write.type) && outcome === 'ok' && end !== null && made && namedDeletedDatabase(...made())) {
        const settled = settledAfter(end);
        return typeof settled === 'number' ? { maybeUntil: settled } : settled;
      }
      if ((origin.degraded || reader?.degraded) && loc !== originLoc(write.type) && outcome !== 'fail') {
        // Carried by messages: in effect at any time until a settle; certainly by then only if the change
        // was a success and its worker lived to send it. A change of a tab without IndexedDB, logged by
        // whichever tab relays it, is sent again until one does (so only a death after its end counts);
        // one of a tab with IndexedDB is sent once, as it commits, and a tab without IndexedDB cannot
        // replay the log: a death from its start on may lose it there for good.
        const settled = end === null ? 'later' : settledAfter(end);
        const since = origin.degraded ? end : start;
        const died = since !== null && (deaths.get(origin) ?? []).some((at) => at > since && (settled === 'later' || at < settled));
        // README, Limits: lost too "if its tab reloaded (its call resolved unlogged) before a tab logged it and every tab with
        // IndexedDB that heard of it reloaded too": the closing page waits for the call, then its worker goes (seed 124968: the
        // only such tab lost the message, the emit resolved after half a second, as its page reloaded).
        const reloaded = origin.degraded && !!made && (reloads.get(origin) ?? []).some((at) => at >= start && (end === null || at <= end)) && !heardByLogger(made()[1]);
        if (outcome !== 'ok' || died || reloaded) return typeof settled === 'number' ? { maybeUntil: settled } : settled;
      }
      if (outcome !== 'ok' || end === null) return 'maybe';
      if (loc === originLoc(write.type)) return end;
      if (origin.degraded) return settledAfter(end);
      if (loc === 'idb') return end;
      if (reader && !reader.degraded && smart.shouldUseEventInvalidation(write.type)) return end;
      return settledAfter(end);
    };

  const checkRejection = (call: Call, error: unknown, end: number): CacheErrorCode | 'fetch' => {
    // Another tab's failed fetch reaches the tabs waiting on it rebuilt from its name and message (see fetchOutcome.ts).
    if (error instanceof FetchFailed || (error instanceof Error && error.name === 'FetchFailed')) return 'fetch';
    if (!isCacheError(error) || !(CACHE_ERROR_CODES as readonly string[]).includes(error.code)) {
      return fail(`${call.what} rejected with something other than a CacheError: ${String(error)}`);
    }
    const explained = faults.some((fault) => fault.codes.includes(error.code) && fault.start <= end && (fault.end === null || fault.end >= call.since));
    if (!explained) fail(`${call.what} rejected with ${error.code}, which no fault explains: ${error.message}`);
    return error.code;
  };

  /** Starts a call; `settle` turns its result into the model's facts (and checks them). */
  const call = (
    tab: SimTab,
    what: string,
    run: () => Promise<unknown>,
    settle: (outcome: Outcome, value: unknown, start: number, end: number) => void,
    since?: number,
  ) => {
    const start = model.tick();
    const description = `${tab.id} ${what}`;
    history.push(`[${start}] ${description}`);
    report.calls++;
    const entry: Call = { what: description, tab, start, since: since ?? start, promise: Promise.resolve() };
    entry.promise = run().then(
      (value) => {
        const end = model.tick();
        history.push(`[${end}] ${description} -> ${summary(value)}`);
        settle('ok', value, start, end);
      },
      (error: unknown) => {
        const end = model.tick();
        history.push(`[${end}] ${description} rejected: ${String(error)}`);
        const code = checkRejection(entry, error, end);
        report.rejected[code] = (report.rejected[code] ?? 0) + 1;
        settle(code === 'worker_failed' ? 'maybe' : 'fail', undefined, start, end);
      },
    );
    // A failed check has been recorded in `failure`, and ends the run at the next step.
    entry.promise = entry.promise.catch(() => {});
    pending.add(entry);
    void entry.promise.finally(() => pending.delete(entry));
    return entry;
  };

  /** A read's facts; `loc` is where it was sent when it started (a worker may die, a page reload, meanwhile). */
  const readContext = (loc: string, type: SimType, key: string, start: number, end: number, fingerprint?: string): ReadContext => ({
    loc,
    type,
    key,
    start,
    end,
    fingerprint,
    evictionProne: tight.has(type),
  });

  const checkRead = (what: string, read: ReadContext, value: unknown, extra: readonly { w: number }[] = []) => {
    if (value === undefined) {
      const lost = model.mustFind(read);
      if (lost) fail(`${what}: missed ${read.type} "${read.key}", which write w${lost.id} (${lost.start}–${lost.end}) certainly left there${explain(read)}`);
      return;
    }
    const w = (value as { w?: unknown } | null)?.w;
    if (extra.some((token) => token.w === w)) return;
    const visible = visibleTo(read);
    if (!visible.some((write) => write.value.w === w)) {
      const known = model.writesOf(read.loc, read.type, read.key).find((write) => write.value.w === w);
      fail(
        `${what}: returned w${String(w)} for ${read.type} "${read.key}" in ${read.loc}, ${
          known ? `a value that was certainly replaced, removed or expired (written ${known.start}–${known.end}, ${known.outcome})` : 'a value never written there'
        }; visible: ${visible.map((write) => `w${write.id}`).join(', ') || 'none'}${explain(read)}`,
      );
    }
  };

  /** A read that only tells whether the key is there (has, keys): there could be a value, or there could be none. */
  const checkPresence = (what: string, read: ReadContext, present: boolean) => {
    if (!present) return checkRead(what, read, undefined);
    if (!visibleTo(read).length) fail(`${what}: listed ${read.type} "${read.key}" in ${read.loc}, where no write could be visible${explain(read)}`);
  };

  /**
   * README, Reading through: a tab waiting on another tab's fetch takes "the value it announces" and keeps "a memory
   * type's value taken so … with the TTL and tags the fetching tab stored it with" — a write of the waiting getOrSet, which
   * (as any call's) takes effect somewhere between its start and its end; its settle records it (see the getOrSet
   * action), and until then a read in that tab may find it: the write of each fetch of another tab's call that overlapped
   * the waiting one and began before the read ended, of the waiting call's fingerprint (a call with another does not take
   * it), kept where that settle would keep it.
   */
  const takes = (read: ReadContext): WriteRecord[] => {
    const runs = sharedRuns.get(`${read.type}|${read.key}`) ?? [];
    return runs.flatMap((run) =>
      run.end !== null || run.start >= read.end || !keepsIn(run, read.loc)
        ? []
        : runs.flatMap(({ tab, fetched, end }) =>
            tab === run.tab ||
            (end !== null && end < run.start) ||
            fetched === undefined ||
            fetched.outcome === 'fail' ||
            fetched.loc === read.loc ||
            fetched.start >= read.end ||
            (smart.shouldUseFingerprintValidation(read.type) && fetched.tags.fingerprint !== run.fingerprint)
              ? []
              : [{ ...fetched, loc: read.loc, end: null, outcome: 'pending' as const }],
          ),
    );
  };
  /** Where a getOrSet keeps what it takes: in the worker it was sent to, the first or one that replaced it. */
  const keepsIn = (run: SharedRun, at: string) => {
    if (at === run.loc) return true;
    const tab = tabOfLoc(at);
    return run.loc !== 'idb' && tab === run.tab && Number(at.slice(at.indexOf('#') + 1)) > run.generation;
  };
  const visibleTo = (read: ReadContext) => model.visible(read, takes(read));

  /** The model's view of a read's key: its writes, and the removals that may reach them. */
  const explain = (read: ReadContext) => {
    const writes = [...model.writesOf(read.loc, read.type, read.key), ...takes(read)];
    const lines = writes.map(
      (write) =>
        `w${write.id} ${write.start}–${write.end} ${write.outcome}${write.fetchStart === undefined ? '' : ` fetch@${write.fetchStart}`} expires ${write.expiresMin}..${write.expiresMax} ${JSON.stringify(write.tags)}; removals: ${
          model.removers
            .map((remover) => [remover, remover.reach(read.loc, write)] as const)
            .filter(([, reach]) => reach !== 'no')
            .map(([remover, reach]) => `${remover.what} ${remover.start}–${remover.end} ${remover.outcome} (${reach})`)
            .join('; ') || 'none'
        }`,
    );
    return `\nThe model's ${read.loc} ${read.type} "${read.key}" (read ${read.start}–${read.end}, clock ${Object.values(model.clockSpan(read.start, read.end)).join('–')}):\n  ${lines.join('\n  ')}`;
  };

  const randomTags = (): Tags => {
    const tags: { trackIds: string[]; album?: Tags['album']; fingerprint?: string } = { trackIds: [] };
    if (random.chance(0.7)) tags.trackIds = random.chance(0.2) ? [random.pick(TRACKS), random.pick(TRACKS)] : [random.pick(TRACKS)];
    if (random.chance(0.3)) tags.album = random.pick(ALBUMS);
    if (random.chance(0.4)) tags.fingerprint = random.pick(FINGERPRINTS);
    return tags;
  };
  const setOptions = (tags: Tags, ttlSeconds: number | undefined) => ({
    ...(tags.trackIds.length ? { trackId: tags.trackIds.length === 1 ? tags.trackIds[0]! : [...tags.trackIds] } : {}),
    ...(tags.album ? { album: tags.album } : {}),
    ...(tags.fingerprint ? { fingerprint: tags.fingerprint } : {}),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
  const ttlOf = (type: SimType, ttlSeconds: number | undefined) => ttlSeconds ?? smart.getTtl(type);
  const randomTtl = () => (random.chance(0.6) ? undefined : random.pick([2, 30, 600, INFINITE_TTL]));
  const valueOf = (token: { w: number }) => ({ w: token.w, pad: 'x'.repeat(random.pick([0, 10, 100, 300])) });

  /** A write in flight, from `start`: its expiry's lower bound is known now, its upper one when it ends. */
  const pendingWrite = (loc: string, type: SimType, key: string, token: { w: number }, tags: Tags, ttl: number | undefined, start: number, more: Partial<WriteRecord> = {}) => {
    const seconds = ttlOf(type, ttl);
    return model.write({
      loc,
      type,
      key,
      value: token,
      tags,
      expiresMin: seconds >= INFINITE_TTL ? Infinity : clock + seconds * 1000,
      expiresMax: Infinity,
      start,
      end: null,
      outcome: 'pending',
      ...more,
    });
  };

  /** Records writes when their call starts; their outcome and expiry bounds when it ends. */
  const recordWrites = (tab: SimTab, type: SimType, entries: { key: string; token: { w: number }; tags: Tags; ttl: number | undefined }[], batch?: string) => {
    const start = model.time + 1;
    const loc = locOf(tab, type);
    const last = new Map(entries.map((entry) => [entry.key, entry]));
    return [...last.values()].map(({ key, token, tags, ttl }) => pendingWrite(loc, type, key, token, tags, ttl, start, batch ? { batch } : {}));
  };
  /**
   * Records the outcome and expiry bounds of writes when their call ends. A memory-tier write whose tab
   * lost its worker meanwhile may have reached the next one (sent once its validation was done): if it
   * resolved, it may be there too.
   */
  const finishWrites = (tab: SimTab, writes: WriteRecord[], type: SimType, ttls: Map<string, number | undefined>, outcome: Outcome, end: number) => {
    const now = locOf(tab, type);
    for (const write of writes) {
      const seconds = ttlOf(type, ttls.get(write.key));
      write.end = end;
      write.outcome = outcome;
      if (seconds < INFINITE_TTL) {
        // The engine read the clock somewhere in the call, which may have been set back meanwhile.
        const { low, high } = model.clockSpan(write.start, end);
        [write.expiresMin, write.expiresMax] = [low + seconds * 1000, high + seconds * 1000];
      }
      if (outcome === 'ok' && write.loc !== now) {
        const { id: _id, ...moved } = write;
        model.write({ ...moved, loc: now, outcome: 'maybe' });
      }
    }
  };

  /** getOrSet calls per client and key: a call may return the fetch of any that overlapped it. */
  const sharedRuns = new Map<string, SharedRun[]>();
  /** The fetchers running, per type and key, with the page of the tab that called each: see the getOrSet action. */
  const fetching = new Map<string, { tab: SimTab; page: number; what: string }[]>();
  const pickTab = () => random.pick(tabs);
  /** A frozen page runs no script: calls come from the others. */
  const pickAwake = () => {
    const awake = tabs.filter((tab) => !tab.suspended);
    return awake.length ? random.pick(awake) : undefined;
  };
  const pickType = () => random.pick(TYPES);
  /** One value to write, by an awake tab: where, what, with which tags and TTL. */
  const draft = () => {
    const tab = pickAwake();
    return tab && { tab, type: pickType(), key: random.pick(KEYS), tags: randomTags(), ttl: randomTtl(), token: model.nextValue() };
  };

  /** A getOrSet of `tab`, its fetcher's delays and failures drawn from `r`. */
  const readThrough = (r: Random, tab: SimTab, type: SimType, key: string, tags: Tags, ttl: number | undefined, token: { w: number }) => {
    const loc = locOf(tab, type);
    // getOrSet reads with the fingerprint it will store: another one is a miss, and deletes the entry.
    const remover = smart.shouldUseFingerprintValidation(type) ? fingerprintRead(loc, type, key, tags.fingerprint) : undefined;
    const page = tab.page;
    const generation = tab.generation;
    const run: SharedRun = { token, start: model.time + 1, end: null, tab, page, loc, generation, fingerprint: tags.fingerprint };
    const fetcher = async () => {
      // The write is the model's from the moment the fetch starts; it may be skipped (no stale write-back).
      const fetchStart = model.tick();
      const what = `${tab.id} (page ${page}) fetch of ${type} ${key}: w${token.w}`;
      history.push(`[${fetchStart}] ${what} starts`);
      // Into the memory tier of the worker the fetch runs on: one that replaced a dead one since the call writes there (soak seed 52870).
      const fetched = (run.fetched = pendingWrite(locOf(tab, type), type, key, token, tags, ttl, fetchStart, { fetchStart }));
      // One fetch per key for all tabs (README, Using it: "a Web Lock per (cache, type, key) elects the tab that
      // fetches; the others wait"): no other tab's fetcher of the key runs now — unless that tab closed since
      // (its reload began: the page's cache closes first, rejecting its callers with `closed`), which "leaves the key
      // to the next waiting tab, which fetches for itself — at once, even if its fetcher ignores the signal" (as the
      // simulation's fetchers do). Without Web Locks, a claim heard late can let two tabs fetch: not checked.
      const running = fetching.get(`${type}|${key}`) ?? [];
      const other = running.find((fetch) => fetch.tab !== tab && fetch.page === fetch.tab.page && !fetch.tab.unloading);
      if (world.locks && other) fail(`${what} starts while ${other.what} runs`);
      const mine = { tab, page, what };
      fetching.set(`${type}|${key}`, [...running, mine]);
      try {
        await new Promise<void>((resolve) => afterTurns(r.int(8), resolve));
        if (r.chance(0.1)) {
          fetched.outcome = 'fail';
          throw new FetchFailed('the API is down');
        }
        return valueOf(token);
      } finally {
        fetching.set(`${type}|${key}`, fetching.get(`${type}|${key}`)!.filter((fetch) => fetch !== mine));
      }
    };
    // Concurrent calls for one key share one fetch, across tabs too: each reads for itself (with its own
    // fingerprint), and one that misses may return what another call's fetch got while it ran.
    const runId = `${type}|${key}`;
    const runs = sharedRuns.get(runId) ?? [];
    sharedRuns.set(runId, runs);
    const inFlight = runs.filter((run) => run.end === null);
    runs.push(run);
    if (runs.length > 20) runs.splice(0, runs.length - 20);
    call(
      tab,
      `getOrSet ${type} ${key} (w${token.w})${inFlight.length ? ` while w${inFlight.map((other) => other.token.w).join(', w')} fetch` : ''}`,
      () => tab.cache.getOrSet(type, key, fetcher, setOptions(tags, ttl)),
      (outcome, value, start, end) => {
        run.end = end;
        // Its read may have deleted the entry even if what came after failed.
        if (remover) Object.assign(remover, { end, outcome: 'maybe' });
        if (run.fetched && run.fetched.outcome === 'pending') finishWrites(tab, [run.fetched], type, new Map([[key, ttl]]), outcome, end);
        const overlapping = runs.filter((other) => other.start <= end && (other.end === null || other.end >= start));
        if (outcome !== 'ok') return;
        // Its reads after the first (under the lock, once another tab's fetch is done) go to the tab's worker of the
        // moment: one that replaced a dead one since (a memory tier "died with the dead worker: anything there was written
        // since", README) holds what this tab wrote to it meanwhile, which such a read finds as it would any value there.
        const read = readContext(loc, type, key, start, end, tags.fingerprint);
        const later = loc === 'idb' ? [] : Array.from({ length: tab.generation - generation }, (_, index) => `mem:${tab.id}#${generation + index + 1}`);
        const w = (value as { w?: unknown } | undefined)?.w;
        const foundLater = later.some((at) => visibleTo({ ...read, loc: at }).some((write) => write.value.w === w));
        // README, Reading through: "Calls made after it join its fetch in its tab", and a fetch's callers get its value, also
        // one this tab took from another tab's fetch past that fetch's time + TTL, which it does not keep (FetchLocks.test ›
        // *generic (a memory type): a tab that takes another tab's value 61000 ms after that tab fetched it…*): a call of the
        // page may return what a call of it that overlapped it returned from a fetch called after that call began (its fetch,
        // joined; not a value that call read from the store).
        const fetchedSince = (other: SharedRun) => runs.some((lead) => lead.token.w === other.returned && lead.fetched !== undefined && lead.fetched.start >= other.start);
        const joined = overlapping.filter((other) => other !== run && other.tab === tab && other.page === page && fetchedSince(other)).map((other) => ({ w: other.returned as number }));
        if (!foundLater) checkRead(`getOrSet ${type} ${key}`, read, value, [...overlapping.map((other) => other.token), ...joined]);
        run.returned = w;
        // The value another tab fetched and kept in its memory tier is kept in this one's too (see Resolver's receive),
        // in the worker it was sent to: the first, or one that replaced it.
        const lead = overlapping.find((other) => other !== run && other.token.w === w)?.fetched;
        for (const at of [loc, ...later]) {
          if (!lead || lead.loc === at) continue;
          const { id: _id, ...copied } = lead;
          model.write({ ...copied, loc: at, start, end, outcome: 'maybe' });
        }
      },
      inFlight.length ? Math.min(...inFlight.map((other) => other.start)) : undefined,
    );
  };

  const actions: [number, () => Promise<void> | void][] = [
    [
      22,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const type = pickType();
        const key = random.pick(KEYS);
        const fingerprint = smart.shouldUseFingerprintValidation(type) && random.chance(0.3) ? random.pick(FINGERPRINTS) : undefined;
        const loc = locOf(tab, type);
        const remover = fingerprintRead(loc, type, key, fingerprint);
        const run = () => tab.cache.get(type, key, fingerprint === undefined ? undefined : { fingerprint });
        call(tab, `get ${type} ${key}${fingerprint ? ` fp=${fingerprint}` : ''}`, run, (outcome, value, start, end) => {
          if (remover) Object.assign(remover, { end, outcome: outcome === 'ok' ? 'maybe' : outcome });
          if (outcome === 'ok') checkRead(`get ${type} ${key}`, readContext(loc, type, key, start, end, fingerprint), value);
        });
      },
    ],
    [
      8,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const type = pickType();
        const keys = Array.from({ length: 1 + random.int(4) }, () => random.pick(KEYS));
        const loc = locOf(tab, type);
        call(tab, `getMany ${type} ${keys.join(',')}`, () => tab.cache.getMany(type, keys), (outcome, value, start, end) => {
          if (outcome !== 'ok') return;
          const values = value as unknown[];
          keys.forEach((key, index) => checkRead(`getMany ${type} ${key}`, readContext(loc, type, key, start, end), values[index]));
        });
      },
    ],
    [
      14,
      () => {
        const drafted = draft();
        if (!drafted) return;
        const { tab, type, key, tags, ttl, token } = drafted;
        const [write] = recordWrites(tab, type, [{ key, token, tags, ttl }]);
        call(tab, `set ${type} ${key}=w${token.w} ${JSON.stringify(setOptions(tags, ttl))}`, () => tab.cache.set(type, key, valueOf(token), setOptions(tags, ttl)), (outcome, _value, _start, end) =>
          finishWrites(tab, [write!], type, new Map([[key, ttl]]), outcome, end),
        );
      },
    ],
    [
      6,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const type = pickType();
        // Repeated keys in one call: the last entry of a key wins.
        const entries = Array.from({ length: 1 + random.int(tight.has(type) ? 3 : 12) }, () => ({
          key: random.pick(KEYS),
          token: model.nextValue(),
          tags: randomTags(),
          ttl: randomTtl(),
        }));
        const writes = recordWrites(tab, type, entries);
        const ttls = new Map(entries.map((entry) => [entry.key, entry.ttl]));
        const input = entries.map((entry) => ({ key: entry.key, value: valueOf(entry.token), ...setOptions(entry.tags, entry.ttl) }));
        call(tab, `setMany ${type} ${entries.map((entry) => `${entry.key}=w${entry.token.w}`).join(',')}`, () => tab.cache.setMany(type, input), (outcome, _value, _start, end) =>
          finishWrites(tab, writes, type, ttls, outcome, end),
        );
      },
    ],
    [
      3,
      () => {
        // Fresh keys no other call writes, over several setMany steps and request batches: all or nothing.
        const tab = pickAwake();
        if (!tab) return;
        const roomy = TYPES.filter((candidate) => !tight.has(candidate));
        if (!roomy.length) return;
        const type = random.pick(roomy);
        const name = `b${++fresh}`;
        const entries = Array.from({ length: 9 + random.int(25) }, (_, index) => ({ key: `${name}-${index}`, token: model.nextValue(), tags: { trackIds: [] }, ttl: INFINITE_TTL }));
        const writes = recordWrites(tab, type, entries, name);
        batches.push({ name, writes });
        const ttls = new Map(entries.map((entry) => [entry.key, entry.ttl]));
        const input = entries.map((entry) => ({ key: entry.key, value: valueOf(entry.token), ttlSeconds: INFINITE_TTL }));
        call(tab, `setMany ${type} batch ${name} of ${entries.length}`, () => tab.cache.setMany(type, input), (outcome, _value, _start, end) =>
          finishWrites(tab, writes, type, ttls, outcome, end),
        );
      },
    ],
    [
      10,
      () => {
        const drafted = draft();
        if (!drafted) return;
        const { tab, type, key, tags, ttl, token } = drafted;
        readThrough(random, tab, type, key, tags, ttl, token);
        // Sometimes other tabs ask for the key at once (the same page code running in each): one fetch for all tabs.
        // Drawn from a stream of their own, so that the scenario's draws stay the seed's.
        if (!also.chance(0.3)) return;
        for (const other of tabs) if (other !== tab && !other.suspended && also.chance(0.7)) readThrough(also, other, type, key, tags, ttl, model.nextValue());
      },
    ],
    [
      5,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const type = pickType();
        // delete, or deleteMany of a few keys (repeats too): each key is removed once.
        const keys = random.chance(0.6) ? [random.pick(KEYS)] : Array.from({ length: 1 + random.int(4) }, () => random.pick(KEYS));
        const many = keys.length > 1 || random.chance(0.3);
        const loc = locOf(tab, type);
        const what = `${many ? 'deleteMany' : 'delete'} ${type} ${keys.join(',')}`;
        const remover = model.remove({ what, start: model.time + 1, end: null, outcome: 'pending', reach: () => 'no' });
        remover.reach = (at, write) => {
          if (at !== loc || write.type !== type || !keys.includes(write.key)) return 'no';
          return remover.outcome === 'ok' && remover.end !== null ? remover.end : 'maybe';
        };
        const run = () => (many ? tab.cache.deleteMany(type, keys) : tab.cache.delete(type, keys[0]!));
        call(tab, what, run, (outcome, value, _start, end) => {
          Object.assign(remover, { end, outcome });
          if (many && outcome === 'ok' && !(typeof value === 'number' && value >= 0 && value <= new Set(keys).size)) {
            fail(`${what}: reported ${String(value)} removed, of ${new Set(keys).size} keys`);
          }
        });
      },
    ],
    [
      6,
      () => {
        // has, or keys of the whole type: each key listed could be there, each key not listed could be missing.
        const tab = pickAwake();
        if (!tab) return;
        const type = pickType();
        const loc = locOf(tab, type);
        if (random.chance(0.5)) {
          const key = random.pick(KEYS);
          call(tab, `has ${type} ${key}`, () => tab.cache.has(type, key), (outcome, value, start, end) => {
            if (outcome === 'ok') checkPresence(`has ${type} ${key}`, readContext(loc, type, key, start, end), value === true);
          });
          return;
        }
        call(tab, `keys ${type}`, () => tab.cache.keys(type), (outcome, value, start, end) => {
          if (outcome !== 'ok') return;
          const listed = new Set(value as string[]);
          for (const key of new Set([...KEYS, ...listed])) checkPresence(`keys ${type}`, readContext(loc, type, key, start, end), listed.has(key));
        });
      },
    ],
    [
      9,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const event = tagged(randomEvent(random, EVENT_WORLD), `e${emits.size}`);
        const record: EmitRecord = { tab, page: tab.page, degraded: tab.degraded, start: model.time + 1, end: null, outcome: 'pending', unplaced: tabs.filter((other) => !other.placed) };
        // What its worker may have heard when it made the change: see namedNoDatabase.
        const channels = tab.pageChannels;
        const worker = channels.length - 1;
        Object.assign(record, { workers: channels.slice(worker), heardFrom: frozeAt.get(tab) ?? 0, heardBefore: world.network.deliveries.length });
        emits.set(simOf(event), record);
        const remover: Remover = model.remove({ what: `emit ${JSON.stringify(event)}`, start: model.time + 1, end: null, outcome: 'pending', event: true, reach: () => 'no' });
        // Where the change applies at once: the origin's stores as they are now (its memory dies with its worker).
        const originLocs = new Map(TYPES.map((type) => [type, locOf(tab, type)]));
        const origin = (type: TypeName) => originLocs.get(type as SimType)!;
        remover.reach = changeReach(tab, origin, () => remover, (write) => model.eventRemoves(event, write.type, write.tags), () => [record, (data) => carries(data, simOf(event))]);
        call(tab, `emit ${JSON.stringify(event)}`, () => tab.cache.emit(event), (outcome, _value, start, end) => {
          // The workers that may have made it: the one at the call's start, or a next one its call was sent to.
          record.workers = channels.slice(worker);
          Object.assign(remover, { end, outcome });
          Object.assign(record, { start, end, outcome });
        });
      },
    ],
    [
      1,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        const type = random.chance(0.5) ? pickType() : undefined;
        const types = type ? [type] : [...TYPES];
        const remover: Remover = model.remove({ what: `clear ${type ?? 'all'}`, start: model.time + 1, end: null, outcome: 'pending', reach: () => 'no' });
        // What its worker may have heard when it made the change, as for an emit; its messages are those of the clears its
        // workers posted over the call (its first, sent as it is made), which carry no tag of the simulation's.
        const channels = tab.pageChannels;
        const worker = channels.length - 1;
        const record: ChangeRecord = { tab, start: model.time + 1, workers: channels.slice(worker), heardFrom: frozeAt.get(tab) ?? 0, heardBefore: world.network.deliveries.length };
        const posted = { from: world.network.posts.length, to: Infinity };
        const ids = () =>
          new Set(world.network.posts.slice(posted.from, posted.to).flatMap(({ from, data }) => (record.workers!.includes(from) && (data as { kind?: unknown }).kind === 'clear' ? [(data as { id: unknown }).id] : [])));
        const clearOf = (data: unknown) => (data as { kind?: unknown } | null)?.kind === 'clear' && ids().has((data as { id: unknown }).id);
        // Where the change applies at once: the origin's stores as they are now (its memory dies with its worker).
        const originLocs = new Map(TYPES.map((type) => [type, locOf(tab, type)]));
        const origin = (type: TypeName) => originLocs.get(type as SimType)!;
        remover.reach = changeReach(tab, origin, () => remover, (write) => (types as readonly TypeName[]).includes(write.type), () => [record, clearOf]);
        call(tab, `clear ${type ?? 'all'}`, () => tab.cache.clear(type), (outcome, _value, _start, end) => {
          // The workers that may have made it: the one at the call's start, or a next one its call was sent to.
          record.workers = channels.slice(worker);
          posted.to = world.network.posts.length;
          Object.assign(remover, { end, outcome });
        });
      },
    ],
    [
      2,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        call(tab, 'cleanup', () => tab.cache.cleanup(), () => {});
      },
    ],
    [
      2,
      () => {
        const tab = pickAwake();
        if (!tab) return;
        call(tab, 'stats', () => tab.cache.stats(), (outcome, value) => {
          if (outcome !== 'ok') return;
          checkStats(value as Awaited<ReturnType<SimTab['cache']['stats']>>);
        });
      },
    ],
    // Faults, the way browsers produce them.
    [
      5,
      () => {
        // Sometimes set right after a set back (NTP's correction): it catches up on what it was behind too.
        const ms = random.pick([500, 1500, 5000, 31_000, 601_000, 3_600_000]) + (behind && random.chance(0.5) ? behind : 0);
        behind = Math.max(0, behind - ms);
        clock += ms;
        const at = model.clockMoved(clock);
        history.push(`[${at}] clock +${ms}, now ${clock}`);
        if (world.locks) return;
        // Without Web Locks, ten seconds of clock moved forward while an import writes no step (none is written
        // during a move) can have another tab roll it back: its setMany rejects with storage_unavailable (README, imports).
        forward.push({ at, ms });
        const oldest = Math.min(...[...pending].map((other) => other.since));
        if (forward.reduce((moved, move) => moved + (move.at >= oldest ? move.ms : 0), 0) < 10_000) return;
        const fault = openFault(['storage_unavailable'], 'clock forward');
        fault.end = fault.start;
      },
    ],
    [
      2,
      () => {
        // The system clock set back (NTP's step, a user fixing the date, one that ran ahead set right): by less than
        // the second within which uses go on from the time before it, by seconds, by more than a minute, by an hour.
        const ms = random.pick([400, 900, 2000, 15_000, 75_000, 3_600_000]);
        count('clock back');
        behind += ms;
        clock -= ms;
        history.push(`[${model.clockMoved(clock)}] clock -${ms}, now ${clock}`);
      },
    ],
    [
      2,
      () => {
        // A full disk as Chromium reports it: one of the next few transactions that put anything (an entry, a usage
        // record, a log record; any step of a batch) aborts at commit with QuotaExceededError; one that only deletes
        // or reads commits; no request fails (browser idbQuota.test). One time in four, every one of them does until
        // one that only deletes and removed a record has committed (fillDisk: deleting nothing frees nothing, as in Chromium), a new database's upgrade too (site data cleared meanwhile).
        openFault(['quota_exceeded'], 'quota');
        const nth = 1 + random.int(4);
        const fault = nth === 4 ? fillDisk() : failCommit({ nth });
        restores.push(fault);
        evictionWindow('quota fault');
        history.push('fault: quota');
      },
    ],
    [
      1,
      () => {
        openFault(['storage_unavailable'], 'abort at commit');
        restores.push(failCommit({ name: 'UnknownError' }));
        history.push('fault: abort at commit');
      },
    ],
    [
      2,
      () => {
        // A frozen tab's changes wait in its worker until it resumes; a worker that dies then takes them
        // along, and a tab without IndexedDB has no log to learn them from: a documented limit (README,
        // Guarantees), not simulated.
        const candidates = tabs.some((other) => other.degraded) ? tabs.filter((candidate) => !candidate.suspended) : tabs;
        if (!candidates.length) return;
        const tab = random.pick(candidates);
        const fault = openFault(['worker_failed'], 'dead worker');
        history.push(`fault: ${tab.id}'s worker dies`);
        tab.kill();
        died(tab);
        fault.end = model.tick();
      },
    ],
    [
      1,
      () => {
        const tab = pickTab();
        openFault(['storage_unavailable'], 'lost connection');
        history.push(`fault: ${tab.id} loses its connection`);
        tab.loseConnection();
      },
    ],
    [
      1,
      async () => {
        // Site data cleared under the tabs: the database is deleted (versionchange) and recreated by the next call.
        const fault = openFault(['storage_unavailable'], 'database deleted');
        history.push('fault: the database is deleted under the tabs');
        const remover = model.remove({ what: 'database deleted', start: fault.start, end: null, outcome: 'pending', reach: () => 'no' });
        remover.reach = (loc) => {
          if (loc === 'idb') return remover.end === null ? 'maybe' : remover.end;
          // Tabs that missed changes of the old database forget their memory tier.
          return 'maybe';
        };
        await deleteUnderTabs(world.inner, world.name).catch((error: unknown) => fail(`deleting the database did not finish: ${String(error)}`));
        remover.end = model.tick();
        remover.outcome = 'ok';
        recreated.push(fault.start);
        deletions.push({ at: fault.start, posted: world.network.posts.length, after: null });
        // Each tab forgets when it notices the new database, which may be as late as the next settle.
        evictionWindow('database recreated', (loc) => (loc !== 'idb' ? 'maybe' : 'no'), true);
      },
    ],
    [
      1,
      async () => {
        const tab = pickTab();
        // Calls in flight when the page goes away are closed, or lose their worker.
        const fault = openFault(['closed', 'worker_failed'], 'reload');
        history.push(`fault: ${tab.id} reloads`);
        died(tab);
        reloads.set(tab, [...(reloads.get(tab) ?? []), model.time]);
        // The clock the new page listens from (no clock step runs meanwhile).
        const listenedAt = clock;
        await tab.reload();
        fault.end = model.tick();
        for (const span of frozenSpans.get(tab) ?? []) span.to ??= fault.end;
        opened.get(tab)!.set(tab.page, { at: fault.end, clock: listenedAt });
      },
    ],
    [
      1,
      () => {
        // Messages lost with no lifecycle event: the tab's current worker drops some of what reaches it. (A
        // tab without IndexedDB has no log to recover from them: a documented limit, not simulated.)
        const healthy = tabs.filter((candidate) => !candidate.degraded);
        if (!healthy.length) return;
        const tab = random.pick(healthy);
        count('lossy');
        world.network.setLossy(tab.channelName, random.pick([0.3, 1]));
        history.push(`fault: ${tab.id} loses messages`);
      },
    ],
    [
      1,
      async () => {
        const tab = pickTab();
        count('freeze');
        history.push(`${tab.id} ${tab.suspended ? 'resumes' : 'freezes'}`);
        await (tab.suspended ? resume(tab) : freeze(tab)).catch(() => {});
      },
    ],
    [
      1,
      () => {
        // Something else on the channel (another script, a tab of another version): every tab it reaches
        // drops the message and counts it (checked at rest), and nothing else changes.
        const message = random.pick(MALFORMED);
        count('malformed message');
        history.push(`a stranger posts ${JSON.stringify(message)}`);
        (stranger ??= world.network.opener(STRANGER)()).postMessage(message);
      },
    ],
    [3, () => quiesce()],
    [2, () => settle()],
  ];

  /**
   * A tab without IndexedDB forgets its memory tier from the freeze on (README, Limits: "after a freeze it
   * forgets its memory tier instead"): at its first read of it while frozen, one in flight as it froze
   * included, or else as it resumes.
   */
  function freeze(tab: SimTab): Promise<void> {
    frozeAt.set(tab, world.network.deliveries.length);
    frozenSpans.set(tab, [...(frozenSpans.get(tab) ?? []), { from: model.time, to: null, at: world.network.deliveries.length }]);
    if (tab.degraded) {
      const loc = `mem:${tab.id}#${tab.generation}`;
      forgetting.set(tab, model.remove({ what: `${tab.id} forgets after its freeze`, start: model.tick(), end: null, outcome: 'pending', reach: (at) => (at === loc ? 'maybe' : 'no') }));
    }
    return tab.suspend();
  }

  /** A tab without IndexedDB has no log to replay what it missed while frozen: it forgets its memory tier. */
  async function resume(tab: SimTab): Promise<void> {
    const frozen = forgetting.get(tab);
    forgetting.delete(tab);
    const forgotten = tab.degraded ? (frozen ?? model.remove({ what: `${tab.id} forgets on resume`, start: model.tick(), end: null, outcome: 'pending', reach: () => 'no' })) : null;
    const loc = `mem:${tab.id}#${tab.generation}`;
    try {
      await tab.resume();
    } finally {
      for (const span of frozenSpans.get(tab) ?? []) span.to ??= model.tick();
      if (forgotten) {
        Object.assign(forgotten, { end: model.tick(), outcome: 'ok' });
        forgotten.reach = (at) => (at === loc ? forgotten.end! : 'no');
      }
    }
  }

  /** A read with a fingerprint deletes the entry it finds stored with another (or none), on types that check them. */
  function fingerprintRead(loc: string, type: SimType, key: string, fingerprint: string | undefined): Remover | undefined {
    if (fingerprint === undefined || !smart.shouldUseFingerprintValidation(type)) return undefined;
    return model.remove({
      what: 'fingerprint read',
      start: model.time + 1,
      end: null,
      outcome: 'pending',
      reach: (at, write) => (at === loc && write.type === type && write.key === key && write.tags.fingerprint !== fingerprint ? 'maybe' : 'no'),
    });
  }

  function evictionWindow(what: string, reach: Reach = (loc, write) => (loc === 'idb' && isPersistentType(write.type) ? 'maybe' : 'no'), untilSettled = false): void {
    model.remove({ what, start: model.tick(), end: null, outcome: 'maybe', reach, untilSettled });
  }

  function checkStats(stats: Awaited<ReturnType<SimTab['cache']['stats']>>): void {
    for (const type of TYPES) {
      const { entries, bytes, maxBytes } = stats.types[type]!;
      if (entries < 0 || bytes < 0 || (entries === 0) !== (bytes === 0)) fail(`stats of ${type} are impossible: ${entries} entries, ${bytes} bytes`);
      if (maxBytes !== null && bytes > maxBytes) fail(`${type} holds ${bytes} bytes, above its budget of ${maxBytes}`);
    }
  }

  /** Waits for every call in flight; ends the faults armed meanwhile. */
  async function quiesce(settled = false): Promise<void> {
    while (pending.size) await Promise.all([...pending].map((entry) => entry.promise));
    for (const restore of restores.splice(0)) restore();
    const at = model.tick();
    for (const fault of faults) if (fault.end === null) fault.end = at;
    model.closeWindows(at, settled);
  }

  /**
   * Lets everything reach every tab (no loss, every message delivered, every queue drained, changes of
   * tabs without IndexedDB relayed), then checks what only holds at rest: the byte counts every tab
   * reports equal a recount of the database, no type is above its budget, and every fresh batch is
   * all or nothing.
   */
  async function settle(): Promise<void> {
    await quiesce();
    const began = model.tick();
    report.settles++;
    for (const tab of tabs) {
      world.network.setLossy(tab.channelName, 0);
      if (tab.suspended) await resume(tab).catch(() => {});
    }
    for (let round = 0; round < 3; round++) {
      await world.network.drain();
      // A change nobody logged yet is sent again when a tab with IndexedDB is heard from.
      const healthy = tabs.find((tab) => !tab.degraded);
      if (healthy) {
        const event = tagged({ eventType: 'track_added', trackId: 'settle' }, `s${emits.size}`);
        const record: EmitRecord = { tab: healthy, page: healthy.page, degraded: false, start: model.tick(), end: null, outcome: 'pending', unplaced: tabs.filter((other) => !other.placed) };
        emits.set(simOf(event), record);
        // Rejected: its worker may have logged it (the calls' codes are not checked here).
        record.outcome = await healthy.cache.emit(event).then(() => 'ok' as const, () => 'maybe' as const);
        record.end = model.tick();
      }
      await world.network.drain();
      for (const tab of tabs) await tab.cache.stats().catch(() => {});
    }
    await quiesce(true);
    settles.push(model.tick());
    history.push(`[${model.time}] settled`);
    await checkAtRest();
    // The database made after the last deletion (see namedDeletedDatabase): the one at rest, none deleted since.
    const last = deletions.at(-1);
    if (last && last.after === null) last.after = await readEpoch(world.inner, world.name);
    checkHearing(began, await readStamps(world.inner, world.name));
  }

  /** Whether a record stamped `stamp` (undefined: not in the log) is later than the clock read at `placed` by more than the log's tolerance, that clock not behind `listenedAt`. */
  function stampedAhead(stamp: number | undefined, placed: number, listenedAt: number): boolean {
    const { low: clock } = model.clockSpan(placed, placed);
    return stamp !== undefined && clock >= listenedAt && stamp > clock + 1000;
  }

  /**
   * Whether a record logged after `sim`'s (an event's or a clear's) is stamped more than the log's tolerance behind
   * `listenedAt`: a walk of the log back by time stops there, before reaching `sim`'s (see EventLog.before).
   */
  function stampedBehindAfter(stamps: Map<string, number>, sim: string, listenedAt: number): boolean {
    const order = [...stamps];
    const index = order.findIndex(([name]) => name === sim);
    return index >= 0 && order.slice(index + 1).some(([, at]) => at < listenedAt - 1000);
  }

  /**
   * What each page's `on('*')` listener heard, at rest (SimTab.heard), against the emits (README, Watching and
   * Limits; SPEC §events): no event twice in a page (duplicated messages, a worker replaced: "heard once"), none
   * that did not happen (a rejected emit), its own as local and the others' as remote ("what the dead worker did
   * is this page's own"), in the order each page made them one after another; and every event emitted (resolved) after
   * a page opened reaches it by the settle — unless the page was told it forgot (then "its `on` listeners hear
   * nothing"): its own; another tab's, in a tab with IndexedDB through the log's catch-up if its message was lost
   * (one of a tab without IndexedDB once a tab relays and logs it: "it is sent again when one does"); in a tab
   * without IndexedDB through its message only (README, Tabs without IndexedDB: "such a tab hears the other tabs'
   * changes only through their messages"), with the losses README names (see below).
   */
  function checkHearing(began: number, stamps: Map<string, number>): void {
    for (const tab of tabs) {
      const seen = new Map<number, Map<string, number>>();
      tab.heard.forEach(({ event, source, page }, index) => {
        const sim = simOf(event);
        const emit = emits.get(sim);
        if (!emit) return fail(`${tab.id} (page ${page}) heard ${JSON.stringify(event)}, which nobody emitted`);
        if (emit.outcome === 'fail') fail(`${tab.id} (page ${page}) heard ${sim}, whose emit was rejected`);
        const own = emit.tab === tab && emit.page === page;
        if (source !== (own ? 'local' : 'remote')) fail(`${tab.id} (page ${page}) heard ${sim} of ${emit.tab.id} (page ${emit.page}) as ${source}`);
        const heard = seen.get(page) ?? seen.set(page, new Map()).get(page)!;
        // README, Tabs without IndexedDB: "A change whose tab had heard of no database when it made it is logged again
        // when sent again" — its tab frozen as another logged it, that database deleted since (site data cleared), and no
        // engine left that remembers its id: heard again (seed 1512).
        const relogged = emit.degraded && recreated.some((at) => at > emit.start) && namedNoDatabase(emit);
        if (heard.has(sim) && !relogged) fail(`${tab.id} (page ${page}) heard ${sim} of ${emit.tab.id} (page ${emit.page}${emit.degraded ? ', no IndexedDB' : ''}, ${emit.outcome} [${emit.start}, ${emit.end}]) twice, as ${tab.heard[heard.get(sim)!]!.source} then ${source}`);
        heard.set(sim, index);
      });
      for (const [page, heard] of seen) {
        // A tab without IndexedDB has its changes logged by whichever tab relays them, as their messages arrive
        // (README, Tabs without IndexedDB; "Another tab's changes arrive when their message does"): no order is kept.
        // A tab without IndexedDB hears the others' changes only through their messages, having no log to replay (README,
        // Tabs without IndexedDB): in the order those reached it. The simulated channel may reorder two messages of one tab,
        // which a browser's does not (seed 8722: tab0's e7 and s8, posted in that order, reached tab1 the other way round).
        const sims = [...heard.keys()];
        const reached = (sim: string) => world.network.deliveries.findIndex(({ to, data }) => to.startsWith(`${tab.id}/`) && carries(data, sim));
        const overtook = (later: string, earlier: string) => tab.degraded && reached(later) >= 0 && reached(later) < reached(earlier);
        const order = sims.map((sim) => emits.get(sim)!);
        order.forEach((later, index) => {
          const earlier = order.slice(index + 1).find((other, after) => !other.degraded && other.tab === later.tab && other.page === later.page && other.end !== null && later.start > other.end && !overtook(sims[index]!, sims[index + 1 + after]!));
          if (earlier) fail(`${tab.id} (page ${page}) heard ${sims[index]} before ${sims[order.indexOf(earlier)]}, emitted earlier by ${later.tab.id}`);
        });
      }
      if (tab.forgot.has(tab.page)) continue;
      const { at: since, clock: listenedAt } = opened.get(tab)!.get(tab.page)!;
      const heard = seen.get(tab.page);
      /** Whether `of` lost a worker (killed, reloaded) from `from` until the settle began. */
      const diedSince = (of: SimTab, from: number) => (deaths.get(of) ?? []).some((at) => at >= from && at <= began);
      for (const [sim, emit] of emits) {
        if (emit.outcome !== 'ok' || emit.end === null || emit.end >= began || emit.start <= since) continue;
        const own = emit.tab === tab && emit.page === tab.page;
        if (own) {
          // Its own, as local ("each tab's own as local"), told by the worker that made it or the next one it was sent to.
          if (!heard?.has(sim)) fail(`${tab.id} (page ${tab.page}) never heard its own ${sim} ([${emit.start}, ${emit.end}])`);
          continue;
        }
        if (tab.degraded) {
          // A tab without IndexedDB hears the others' changes only through their messages (README, Tabs without
          // IndexedDB; Limits): lost when it was frozen meanwhile (it forgets instead), when its worker died (what
          // reached the dead one), when the change's worker died before it broadcast it, or its tab reloaded
          // frozen ("a change whose message is lost with its tab … never reaches that tab").
          // The change's worker dying excuses it only if no message of it went out (what a worker posted before it died still goes out).
          if (diedSince(tab, emit.start) || (diedSince(emit.tab, emit.start) && !world.network.posts.some(({ data }) => carries(data, sim)))) continue;
          // A freeze loses it only if its message had not reached the page's channels before (a message heard is told) —
          // or the page had passed it on to its worker's channel, which the worker's suspend closed before it came: the
          // page's relay and the engine's calls are two ports, in no set order, and a closed channel drops what comes
          // (README, Limits: "a message it loses without any lifecycle event is lost for it (after a freeze it forgets
          // its memory tier instead)"; seed 60030: e6 reached tab3's page, which froze at the next delivery).
          const reached = () => world.network.deliveries.findIndex(({ to, data }) => tab.pageChannels.includes(to) && carries(data, sim));
          const spans = frozenSpans.get(tab) ?? [];
          // At that freeze (not a later one): open before it, closed by it, without having received the message.
          const overtaken = (at: number, until = Infinity) =>
            tab.workerChannels.some(({ openedAt, frozenAt, received }) => openedAt < at && frozenAt !== null && frozenAt >= at && frozenAt < until && !received.some((data) => carries(data, sim)));
          if (spans.some(({ from, to, at }, index) => from <= began && (to === null || to >= emit.start) && (!(reached() >= 0 && reached() < at) || overtaken(at, spans[index + 1]?.at)))) continue;
        } else {
          // A database deleted meanwhile: what the old one logged may be lost to a tab ("forgets": told at its next catch-up).
          if (recreated.some((at) => at >= emit.start - 1)) continue;
          if (emit.degraded) {
            // README, Tabs without IndexedDB: "one made just as the database was recreated, before its tab heard of the new
            // one, is not logged when sent again if no tab logged it the first time" (it names the database deleted, seeds 840, 1134).
            if (namedDeletedDatabase(emit, (data) => carries(data, sim))) continue;
            // Logged by the tab that relays it, when its message reaches one, by the settle at the latest ("it is sent
            // again when one does"); lost if its worker died once it resolved, before a tab logged it (README, Limits:
            // "a change it made is lost if its worker dies before any tab with IndexedDB heard of it").
            if (diedSince(emit.tab, emit.end)) continue;
            // So too when its page reloaded as it waited (seed 7647): the closing page's cache waits for the call, then its
            // worker goes, after the call resolved (the reload is stamped as it began) — unless a page of a tab with IndexedDB
            // heard of it and is still open: one whose worker died before logging it gives it to its next worker (seed 19098).
            if (emit.page !== emit.tab.page && !heardByLogger((data) => carries(data, sim))) continue;
            // Stamped by the relaying tab's clock, at any time until the settle: see below.
            if (model.clockSpan(emit.start, began).low < listenedAt) continue;
          }
          // Stamped before the page listened (the clock read behind that at some time in the call: seed 21145, set back 400 ms
          // as it waited on a lost connection, then an hour forward), and the page's workers had not told it yet where it stands
          // in the log: logged before it opened as far as the log's times tell, so heard only through its message, which a
          // freeze (or a lost message) may have lost (README, Watching: "the engine starts before every change logged since the
          // page began listening (the log's records carry their time…)"; Limits: "A page whose worker opened the log only after
          // the page began listening, the clock set back behind that meanwhile…", a set back of less than a second being "within
          // the log's tolerance", and more forgotten, its watchers told). A page that had a place goes on from there.
          else if (emit.unplaced.includes(tab) && model.clockSpan(emit.start, emit.end).low < listenedAt) continue;
          // Logged, then the clock set back more than a second (the log's tolerance), but not behind when the page listened,
          // before a worker of the page opened the log with no place yet: stamped, as the log holds it, more than a second
          // later than the clock read then, it counts as logged before the page listened (README, Limits: "With the clock set
          // back by more than a second, but not behind when the page listened, such a page takes a change stamped later than
          // its clock reads as logged before it listened…"; Watching: "a change logged between the page's listening and a set
          // back shorter than the time since reaches it through its message alone"), which may be lost. Seed 23033: stamped
          // T+611 s, set back 75 s after the call resolved, the page's first three workers dead before they told it a place,
          // the message gone with its frozen, then reloaded tab; seed 34175: stamped T+5 s, set back 2 s to T+3.5 s before
          // the call resolved, its tab frozen, then its worker dead before it posted the message.
          else if (emit.unplaced.includes(tab) && stampedAhead(stamps.get(sim), placedAt.get(tab)!.get(tab.page) ?? began, listenedAt)) continue;
          // Logged after the page listened, then the clock set back more than a second behind when it listened (before a
          // worker of the page had a place): the walk by time stops at what was logged during the set back, and the change
          // counts as logged before the page listened, its message alone telling it (README, Limits: "With the clock set back
          // more than a second behind when the page listened, and set right again before its worker reads the log, … a lost
          // message loses it"). Seed 125679: e19 stamped as tab3's page listened, set back 15 s, then 601 s on; its message
          // waited in tab2's frozen worker, which died with it, and never reached tab3's page.
          else if (
            emit.unplaced.includes(tab) &&
            model.clockSpan(emit.start, placedAt.get(tab)!.get(tab.page) ?? began).low < listenedAt - 1000 &&
            stampedBehindAfter(stamps, sim, listenedAt) &&
            !world.network.deliveries.some(({ to, data }) => tab.pageChannels.includes(to) && carries(data, sim))
          )
            continue;
        }
        if (!heard?.has(sim)) {
          fail(`${tab.id} (page ${tab.page}${tab.degraded ? ', no IndexedDB' : ''}, open since ${since}) never heard ${sim} of ${emit.tab.id} (page ${emit.page}${emit.degraded ? ', no IndexedDB' : ''}, [${emit.start}, ${emit.end}])`);
        }
      }
    }
  }

  /**
   * Whether a worker that may have made this change (of a tab without IndexedDB) had heard of no database when
   * it did, as far as the deliveries before the call tell: no other tab's message naming one reached it (a change
   * logged, a hint of shared data changed, or the greeting of a tab that logs). Later deliveries are not counted: one may reach the worker after it
   * made the change. A worker started during the call (the one before died, and the call was sent to it) had heard none before it.
   * Nor earlier ones than its tab's last freeze: a frozen tab forgets the database it heard of (README, Tabs without IndexedDB).
   */
  function namedNoDatabase({ tab, workers = [], heardFrom = 0, heardBefore = 0 }: EmitRecord): boolean {
    return workers.some(
      (channel) => !world.network.deliveries.slice(heardFrom, heardBefore).some(({ to, from, data }) => to === channel && from !== STRANGER && namesDatabase(data) && !String(data.origin).startsWith(`${tab.id}/`)),
    );
  }

  /**
   * Whether a change of a tab without IndexedDB was made after the database was deleted, while the last database
   * its worker had heard of (since its tab's last freeze) was one that existed before, and no tab logged it when first
   * sent: sent again, it names that database, and no tab logs it there (README, Tabs without IndexedDB). The database
   * last heard of is told by the last message delivered to its worker that names one (a greeting, a hint, a change
   * logged; an answer to one of its own changes too, which may not count: either way is allowed). Epochs named in a
   * message posted before the deletion ended are those of a database deleted, as one named late by an engine that
   * opened it before (its greeting); so is any named after it but the database made after it (as a settle reads it).
   */
  function namedDeletedDatabase({ tab, workers = [], heardFrom = 0, heardBefore = 0, start }: ChangeRecord, carriesIt: (data: unknown) => boolean): boolean {
    const deletion = deletions.findLast(({ at }) => at < start);
    if (!deletion) return false;
    if (world.network.posts.some(({ data }) => carriesIt(data) && (data as { seq?: unknown }).seq != null)) return false;
    const old = new Set(world.network.posts.slice(0, deletion.posted).flatMap(({ data }) => (namesDatabase(data) ? [data.epoch] : [])));
    // Any other named since its end, the database then (the one made after it) aside: one deleted by it, made just
    // before it by an open queued ahead of the deletion and named once the deletion ended (seed 4515).
    if (deletion.after !== null) for (const { data } of world.network.posts.slice(deletion.posted)) if (namesDatabase(data) && data.epoch !== deletion.after) old.add(data.epoch);
    return workers.some((channel) => {
      const heard = world.network.deliveries.slice(heardFrom, heardBefore).flatMap(({ to, from, data }) => (to === channel && from !== STRANGER && namesDatabase(data) ? [data] : []));
      const others = heard.filter(({ origin }) => !String(origin).startsWith(`${tab.id}/`));
      return [heard.at(-1), others.at(-1)].some((last) => last !== undefined && old.has(last.epoch));
    });
  }

  async function checkAtRest(): Promise<void> {
    // The usage records equal a recount, in one snapshot. What each tab reports equals it too, unless
    // background work (a periodic cleanup) changed the database in between: then look again, a few times.
    let stored = await readDatabase(world.inner, world.name);
    const checkUsage = () => {
      for (const [type, counted] of stored) {
        // No record: freed over the quota (deletes only), recounted when next needed.
        if (counted.usage && (counted.usage.entries !== counted.entries || counted.usage.bytes !== counted.bytes)) {
          fail(`the usage record of ${type} says ${counted.usage.entries} entries / ${counted.usage.bytes} bytes; the database holds ${counted.entries} / ${counted.bytes}`);
        }
      }
    };
    checkUsage();
    for (let attempt = 1; ; attempt++) {
      const mismatches: string[] = [];
      for (const tab of tabs) {
        const stats = await tab.cache.stats().catch((error: unknown) => fail(`stats failed at rest in ${tab.id}: ${String(error)}`));
        checkStats(stats);
        // The stranger's messages that reached the channel of the tab's current worker (the page's, for it):
        // all of them, unless it froze meanwhile (see SimTab.frozeSinceStart); plus what its page's dead
        // workers counted as of their last stats() (see RemoteEngine.stats) — never more than reached them all.
        const malformed = (to: string) => world.network.deliveries.filter((delivery) => delivery.from === STRANGER && delivery.to === to).length;
        const [current, all] = [malformed(tab.channelName), tab.pageChannels.reduce((sum, to) => sum + malformed(to), 0)];
        if (stats.droppedMessages > all || (!tab.frozeSinceStart && stats.droppedMessages < current)) fail(`${tab.id} counts ${stats.droppedMessages} dropped messages; ${current} malformed ones reached its worker, ${all} its page's`);
        if (tab.degraded) continue;
        for (const type of TYPES.filter(isPersistentType)) {
          const counted = stored.get(type) ?? { entries: 0, bytes: 0 };
          const { entries, bytes } = stats.types[type];
          if (entries !== counted.entries || bytes !== counted.bytes) {
            mismatches.push(
              `${tab.id} reports ${entries} entries / ${bytes} bytes of ${type} (in ${stats.types[type].storage}${stats.degraded ? `: ${stats.degraded}` : ''}); the database holds ${counted.entries} / ${counted.bytes}`,
            );
          }
        }
      }
      if (!mismatches.length) break;
      if (attempt === 5) fail(mismatches.join('; '));
      await new Promise<void>((resolve) => afterTurns(50, resolve));
      stored = await readDatabase(world.inner, world.name);
      checkUsage();
    }
    for (const { name, writes } of batches.splice(0)) {
      const [first] = writes;
      if (!first || first.loc !== 'idb') continue;
      const touched = writes.some((write) => model.mayRemove('idb', write, write.start, model.time));
      if (touched) continue;
      const present = writes.filter((write) => stored.get(write.type)?.values.get(write.key) === write.value.w).length;
      const expected = first.outcome === 'ok' ? [writes.length] : first.outcome === 'fail' ? [0] : [0, writes.length];
      if (!expected.includes(present)) fail(`batch ${name} (${first.outcome}) is partly stored: ${present} of ${writes.length} entries`);
    }
    // At rest, every tab with IndexedDB reads each stored entry as the database holds it (or not at all:
    // expired), most of them read by the page itself (src/DirectReads.ts), the rest by its worker.
    for (const tab of tabs) {
      if (tab.degraded) continue;
      for (const [type, { values }] of stored) {
        if (!isPersistentType(type) || !values.size) continue;
        const keys = [...values.keys()];
        const answers = await tab.cache.getMany(type as (typeof TYPES)[number], keys).catch((error: unknown) => fail(`getMany at rest failed in ${tab.id}: ${String(error)}`));
        answers.forEach((answer, index) => {
          const w = (answer as { w?: unknown } | undefined)?.w;
          if (answer !== undefined && w !== values.get(keys[index]!)) fail(`${tab.id} reads ${type} ${keys[index]} as w${String(w)} at rest; the database holds w${String(values.get(keys[index]!))}`);
        });
      }
    }
  }

  const total = actions.reduce((sum, [weight]) => sum + weight, 0);
  try {
    for (step = 1; step <= steps; step++) {
      let roll = random.int(total);
      const action = actions.find(([weight]) => (roll -= weight) < 0)![1];
      await action();
      await new Promise<void>((resolve) => afterTurns(random.int(6), resolve));
      if (failure) throw failure;
    }
    await settle();
    if (failure) throw failure;
  } finally {
    for (const restore of restores.splice(0)) restore();
    await Promise.allSettled([...pending].map((entry) => entry.promise));
    for (const tab of tabs) await tab.close();
  }
  return report;
}

/** What the database holds, read directly (no Reprise code): per type, entries, bytes and each key's value token. */
interface Stored {
  entries: number;
  bytes: number;
  values: Map<string, unknown>;
  /** The type's usage record, read in the same transaction (null: none). */
  usage: { entries: number; bytes: number } | null;
}

/** When each simulated event (its `metadata.sim`) was stamped in the event log of the database of this name, as it holds them now. */
async function readStamps(factory: IDBFactory, name: string): Promise<Map<string, number>> {
  const stamps = new Map<string, number>();
  // Opening a database that does not exist would create an empty one, which the tabs would then use.
  if (!(await factory.databases()).some((database) => database.name === name)) return stamps;
  const db = await requestDone(factory.open(name));
  try {
    if (!db.objectStoreNames.contains('events')) return stamps;
    const records: unknown = await requestDone(db.transaction('events', 'readonly').objectStore('events').getAll());
    // In log order; a record no sim names (a clear) under its sequence number, for stampedBehindAfter.
    for (const record of records as { seq?: unknown; at?: unknown; event?: { metadata?: { sim?: unknown } } }[]) {
      const sim = record.event?.metadata?.sim;
      if (typeof record.at === 'number') stamps.set(typeof sim === 'string' ? sim : `#${String(record.seq)}`, record.at);
    }
    return stamps;
  } finally {
    db.close();
  }
}

/**
 * The epoch of the database of this name, if it exists and has one: the name of its `epoch:` store, else its `meta`
 * record (a database made before that store). One made on a full disk has the store alone until an open writes the
 * record, refused too while the disk is full (seed 55898: read as none, the database made after a deletion was not
 * known, so an event naming the deleted one, not logged when sent again as README says, was taken for one lost).
 */
async function readEpoch(factory: IDBFactory, name: string): Promise<string | null> {
  // Opening a database that does not exist would create an empty one, which the tabs would then use.
  if (!(await factory.databases()).some((database) => database.name === name)) return null;
  const db = await requestDone(factory.open(name));
  try {
    const named = Array.from(db.objectStoreNames).find((store) => store.startsWith('epoch:'));
    if (named !== undefined) return named.slice('epoch:'.length);
    if (!db.objectStoreNames.contains('meta')) return null;
    const epoch: unknown = await requestDone(db.transaction('meta', 'readonly').objectStore('meta').get('epoch'));
    return typeof epoch === 'string' ? epoch : null;
  } finally {
    db.close();
  }
}

async function readDatabase(factory: IDBFactory, name: string): Promise<Map<TypeName, Stored>> {
  // Opening a database that does not exist would create an empty one, which the tabs would then use.
  if (!(await factory.databases()).some((database) => database.name === name)) return new Map();
  const db = await requestDone(factory.open(name));
  try {
    const result = new Map<TypeName, Stored>();
    const types = TYPES.filter((type) => db.objectStoreNames.contains(entryStore(type)));
    if (!types.length) return result;
    // Layout 3: in each type's store, entries under string keys, the usage record under 0 (and commit marks and imports' records under arrays).
    const tx = db.transaction(types.map(entryStore), 'readonly');
    await Promise.all(
      types.map(
        (type) =>
          new Promise<void>((resolve, reject) => {
            const store = tx.objectStore(entryStore(type));
            const all = store.getAll(IDBKeyRange.bound('', [], false, true));
            const batches = store.getAll(batchRecords());
            const usage = store.get(0);
            usage.onsuccess = () => {
              const records = all.result as EntryRecord[];
              const record = usage.result as { entries: number; bytes: number } | undefined;
              // An import not yet committed holds records whose entry is not what reads see (importBatch.ts).
              const pending = new Map((batches.result as BatchRecord[]).map((batch) => [batch.key[1], batch]));
              const visible = records.flatMap((record) => visibleOf(record, pending) ?? []);
              result.set(type, {
                entries: records.length,
                bytes: records.reduce((sum, record) => sum + record.bytes, 0),
                values: new Map(visible.map((record) => [record.key, (record.value as { w?: unknown } | undefined)?.w])),
                usage: record ? { entries: record.entries, bytes: record.bytes } : null,
              });
              resolve();
            };
            usage.onerror = () => reject(usage.error);
          }),
      ),
    );
    return result;
  } finally {
    db.close();
  }
}

function summary(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' && item.length > 12 ? `${item.slice(0, 3)}…` : item));
  return text && text.length > 160 ? `${text.slice(0, 160)}…` : String(text);
}

/** A change a tab made (an emit, a clear), as namedNoDatabase and namedDeletedDatabase see it. */
interface ChangeRecord {
  tab: SimTab;
  start: number;
  /** The channels of the workers that may have made it (a tab without IndexedDB's; see namedNoDatabase). */
  workers?: string[];
  /** How many deliveries the network had made when the call started. */
  heardBefore?: number;
  /** How many deliveries the network had made as its tab last froze before it (none counted before that). */
  heardFrom?: number;
}

interface EmitRecord extends ChangeRecord {
  page: number;
  degraded: boolean;
  end: number | null;
  outcome: Outcome;
  /** The tabs whose page had no place in the event log as the call began (see SimTab.placed). */
  unplaced: SimTab[];
}

/** An event told apart from every other of its run by its metadata's `sim` (which no invalidation reads). */
function tagged<T extends CacheEvent>(event: T, sim: string): T {
  return { ...event, metadata: { ...event.metadata, sim } };
}

/** Whether a message on the channel names the database its tab logs in: a change logged there, a hint of shared data changed, or the greeting of a tab that logs. */
function namesDatabase(data: unknown): data is { epoch: string; origin?: unknown } {
  const message = data as { kind?: unknown; epoch?: unknown; seq?: unknown } | null;
  return typeof message === 'object' && message !== null && typeof message.epoch === 'string' && (message.kind === 'changed' || message.kind === 'hello' || (message.seq !== null && message.seq !== undefined));
}

/** Whether a message on the channel tells of the event tagged `sim`. */
function carries(data: unknown, sim: string): boolean {
  const message = data as { kind?: unknown; event?: CacheEvent } | null;
  return typeof message === 'object' && message?.kind === 'event' && !!message.event && simOf(message.event) === sim;
}

function simOf(event: CacheEvent): string {
  return String(event.metadata?.['sim']);
}

interface SharedRun {
  token: { w: number };
  /** Its fetcher's write, once it was called. */
  fetched?: WriteRecord;
  start: number;
  end: number | null;
  /** The tab and page that called it, and what it returned (see the getOrSet action: a call of that page that joined its fetch gets it too). */
  tab: SimTab;
  page: number;
  returned?: unknown;
  /** Where its tab keeps what it takes from another tab's fetch (see takes): this location, or a later worker's memory tier. */
  loc: string;
  generation: number;
  fingerprint: string | undefined;
}
