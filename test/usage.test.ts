// Each type's usage (entries and bytes: worker/usage.ts, kept in a record beside its entries) under random
// calls of three tabs of one cache, with faults as browsers make them: at rest, the record equals a recount
// of what is stored, every tab's stats() says so, and each type is within its budget once a write or
// cleanup made under that budget has resolved. Seeded: a failing seed replays the same calls.
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, it } from 'vitest';
import { entryStore, entryKeys, USAGE_KEY, type EntryRecord, type UsageRecord } from '../worker/databaseSchema';
import { batchRecords } from '../worker/importBatch';
import { requestDone, requestsDone } from '../worker/idbRequests';
import type { Schedule } from '../worker/schedule';
import { engineTab } from './support/engineTab';
import { fakeLocks, type FakeLockAgent } from './support/fakeLocks';
import { failCommit, tabFactory, type Fault, type Tab } from './support/faultyIndexedDB';
import { fakeClock } from './support/openCache';
import { Random } from './simulation/random';
import { afterTurns } from './simulation/SimTab';

const MIB = 2 ** 20;
/** 16 kB: a few of the values below fill it. */
const BUDGET_MB = 1 / 64;
const TYPES = ['track_metadata', 'generic'] as const;
type Type = (typeof TYPES)[number];

const closers: (() => Promise<void>)[] = [];
const faults: Fault[] = [];

afterEach(async () => {
  for (const fault of faults.splice(0)) fault();
  for (const close of closers.splice(0)) await close().catch(() => {});
});

/** Deferred work on event-loop turns (a turn per 50 ms asked), as fake-indexeddb's: the same seed, the same interleaving. */
const turns: Schedule = (run, ms) => afterTurns(Math.ceil(ms / 50), run);

/** A type's store read without Reprise: its usage record, a recount of its entries, and how many imports are pending. */
async function stored(indexedDB: IDBFactory, name: string, type: Type) {
  const db = await requestDone(indexedDB.open(name));
  try {
    const store = db.transaction(entryStore(type), 'readonly').objectStore(entryStore(type));
    const [records, usage, batches, chunks] = [store.getAll(entryKeys()), store.get(USAGE_KEY), store.getAllKeys(batchRecords()), store.getAllKeys(IDBKeyRange.bound(['batchkeys'], ['batchkeys', []]))];
    await requestsDone([records, usage, batches, chunks]);
    const entries = records.result as EntryRecord[];
    const record = usage.result as UsageRecord | undefined;
    return {
      counted: { entries: entries.length, bytes: entries.reduce((sum, entry) => sum + entry.bytes, 0) },
      // None: freed over the quota (deletes only), recounted when next needed.
      usage: record && { entries: record.entries, bytes: record.bytes },
      pending: batches.result.length,
      // What imports leave until they are rolled back or tidied: their key chunks, and the priors in their records.
      left: { chunks: chunks.result.length, priors: entries.filter((entry) => entry.prior !== undefined).length },
    };
  } finally {
    db.close();
  }
}

async function run(seed: number, steps: number): Promise<void> {
  const random = new Random(seed);
  const inner = new IDBFactory();
  const name = `usage-${seed}-${Date.now()}`;
  const locks = fakeLocks();
  const clock = fakeClock();
  // Sweeps every 30 s: every 600 turns (see turns).
  const config = { caching: { cleanupIntervalSeconds: 30, policies: { track_metadata: { maxSizeMb: BUDGET_MB, invalidationStrategy: 'hybrid' as const }, generic: { maxSizeMb: BUDGET_MB } } } };
  let policy = { maxSizeMb: BUDGET_MB, cleanupThreshold: 0.8 };
  const tabs: { cache: Awaited<ReturnType<typeof engineTab>>['cache']; engine: Awaited<ReturnType<typeof engineTab>>['engine']; browser: Tab; agent: FakeLockAgent; dead: boolean }[] = [];
  const open = async (index: number) => {
    const browser = tabFactory(inner);
    const agent = locks.agent();
    const { cache, engine } = await engineTab({ name, indexedDB: browser.factory, config, engine: { importChunk: random.range(2, 4), locks: agent.locks, now: clock.now, schedule: turns } });
    for (const type of TYPES) await engine.updatePolicy(type, policy);
    const tab = { cache, engine, browser, agent, dead: false };
    // A dead worker's page is not closed here: its calls in flight would keep close() waiting (see deaths).
    closers.push(() => (tab.dead ? Promise.resolve() : cache.close()));
    tabs[index] = tab;
  };
  for (let index = 0; index < 3; index++) await open(index);

  // Whether a type may be above its budget now: it was lowered, and no write or cleanup made since has resolved
  // (IndexedDB's for every tab, the memory tier's per tab). A write made under the budget before may leave it above.
  let lowered = 0;
  const above = { track_metadata: [false, false, false], generic: [false, false, false] };
  const landed = (type: Type, tab: number, madeAt: number) => {
    for (const index of type === 'track_metadata' ? [0, 1, 2] : [tab]) above[type][index] = madeAt < lowered;
  };
  const history: string[] = [];
  const key = () => `k${random.int(12)}`;
  const value = () => 'x'.repeat(random.pick([10, 200, 1000, 3000, 4000, 7000]));

  for (let step = 0; step < steps; step++) {
    const calls: Promise<unknown>[] = [];
    const dying: number[] = [];
    // A dead worker's calls never settle in it: its page fails them (worker_failed), as it fails them here.
    const deaths = tabs.map(() => {
      let die!: () => void;
      const died = new Promise<never>((_, reject) => (die = () => reject(new Error('worker_failed'))));
      died.catch(() => {});
      return { died, die };
    });
    for (let count = random.range(1, 6); count > 0; count--) {
      const index = random.int(3);
      const { cache, engine, browser, agent } = tabs[index]!;
      const type = random.pick(TYPES);
      const madeAt = lowered;
      const roll = random.int(100);
      let what: string;
      let call: Promise<unknown> = Promise.resolve();
      if (dying.includes(index)) continue;
      if (roll < 35) {
        const [k, v] = [key(), value()];
        what = `set ${type} ${k} (${v.length})`;
        call = cache.set(type, k, v, { trackId: `t${random.int(3)}`, ttlSeconds: random.pick([5, 60, 3600]) }).then(() => landed(type, index, madeAt));
      } else if (roll < 45) {
        const entries = Array.from({ length: random.range(1, 4) }, () => ({ key: key(), value: value(), trackId: `t${random.int(3)}` }));
        what = `setMany ${type} ${entries.map((entry) => `${entry.key} (${entry.value.length})`).join(', ')}`;
        call = cache.setMany(type, entries).then(() => landed(type, index, madeAt));
      } else if (roll < 52) {
        // More entries than an import step takes, keys named twice among them: an import, over existing keys.
        const entries = Array.from({ length: random.range(4, 12) }, () => ({ key: key(), value: 'y'.repeat(random.pick([10, 100, 300, 1000])), trackId: `t${random.int(3)}` }));
        what = `import ${type} ${entries.map((entry) => `${entry.key} (${entry.value.length})`).join(', ')}`;
        call = cache.setMany(type, entries).then(() => landed(type, index, madeAt));
      } else if (roll < 60) {
        const keys = Array.from({ length: random.range(1, 4) }, key);
        what = `deleteMany ${type} ${keys.join(', ')}`;
        call = cache.deleteMany(type, keys);
      } else if (roll < 66) {
        const event = random.pick([{ eventType: 'track_removed' as const, trackId: `t${random.int(3)}` }, { eventType: 'manual_invalidation' as const }, { eventType: 'library_sync' as const }]);
        what = `emit ${JSON.stringify(event)}`;
        call = cache.emit(event);
      } else if (roll < 69) {
        what = `clear ${type}`;
        call = cache.clear(type);
      } else if (roll < 75) {
        what = 'cleanup';
        call = cache.cleanup().then(() => TYPES.forEach((type) => landed(type, index, madeAt)));
      } else if (roll < 85) {
        const keys = Array.from({ length: random.range(1, 3) }, key);
        what = `getMany ${type} ${keys.join(', ')}`;
        call = cache.getMany(type, keys);
      } else if (roll < 90) {
        const ms = random.pick([1000, 10_000, 100_000]);
        what = `the clock moves ${ms} ms`;
        clock.advance(ms);
      } else if (roll < 93) {
        // In every tab at once (tabs with different budgets each evict to their own: README).
        policy = { maxSizeMb: random.pick([BUDGET_MB / 2, BUDGET_MB, BUDGET_MB * 2]), cleanupThreshold: random.pick([0.5, 0.8, 1]) };
        what = `updatePolicy ${JSON.stringify(policy)}`;
        lowered++;
        for (const type of TYPES) above[type].fill(true);
        call = Promise.all(tabs.flatMap((tab) => TYPES.map((type) => tab.engine.updatePolicy(type, policy))));
      } else if (roll < 96) {
        what = 'one of the next transactions that put aborts at commit (a full disk)';
        faults.push(failCommit({ nth: random.range(1, 5), database: name }));
      } else if (roll < 98) {
        what = 'a transaction aborts at commit (a full disk)';
        faults.push(failCommit({ database: name }));
      } else if (roll < 99) {
        what = `tab${index}'s worker dies`;
        dying.push(index);
        call = new Promise<void>((resolve) => afterTurns(random.int(4), resolve)).then(() => {
          browser.kill();
          agent.kill();
          void engine.close();
          deaths[index]!.die();
        });
      } else {
        what = `tab${index}'s connection is closed under it`;
        browser.loseConnection();
      }
      history.push(`${step}: tab${index} ${what}`);
      if (!what.endsWith('dies')) call = Promise.race([call, deaths[index]!.died]);
      calls.push(call.then(() => history.push(`  ${what}: done`), (error: unknown) => history.push(`  ${what}: ${String(error)}`)));
    }
    await Promise.all(calls);
    for (const fault of faults.splice(0)) fault();
    for (const index of dying) {
      tabs[index]!.dead = true;
      await open(index);
      above.generic[index] = false;
    }
    const fail = (message: string) => {
      throw new Error(`seed ${seed}, step ${step}: ${message}\n${history.slice(-30).join('\n')}`);
    };
    const budget = policy.maxSizeMb * MIB;
    const persistent = await stored(inner, name, 'track_metadata');
    const { usage, counted } = persistent;
    if (usage && (usage.entries !== counted.entries || usage.bytes !== counted.bytes)) fail(`the usage record says ${usage.entries} entries / ${usage.bytes} bytes; stored: ${counted.entries} / ${counted.bytes}`);
    if (!persistent.pending && !above.track_metadata[0] && counted.bytes > budget) fail(`track_metadata holds ${counted.bytes} bytes, above its budget of ${budget}`);
    for (const [index, { cache }] of tabs.entries()) {
      let stats = await cache.stats();
      // Read after the stats, which roll back a dead import first. A periodic sweep may remove entries in between: then once more, a little later.
      for (let attempt = 1; ; attempt++) {
        const now = await stored(inner, name, 'track_metadata');
        const { entries, bytes } = stats.types.track_metadata;
        if (now.pending || (entries === now.counted.entries && bytes === now.counted.bytes)) break;
        if (attempt === 3) fail(`tab${index}'s stats() say ${entries} entries / ${bytes} bytes of track_metadata; stored: ${now.counted.entries} / ${now.counted.bytes}`);
        await new Promise<void>((resolve) => afterTurns(50, resolve));
        stats = await cache.stats();
      }
      const memory = stats.types.generic;
      if (memory.bytes < 0 || (memory.entries === 0) !== (memory.bytes === 0)) fail(`tab${index}'s stats() of generic are impossible: ${memory.entries} entries, ${memory.bytes} bytes`);
      if (!above.generic[index] && memory.bytes > budget) fail(`tab${index}'s generic holds ${memory.bytes} bytes, above its budget of ${budget}`);
    }
  }
  // Every call settled: a tab that opens now rolls back the imports of dead workers and tidies those committed (its
  // sweep). Then nothing of any import is left, no prior among them (room that no usage counts), and the counts are exact.
  const last = await engineTab({ name, indexedDB: tabFactory(inner).factory, config, engine: { locks: locks.agent().locks, now: clock.now, schedule: turns } });
  closers.push(() => last.cache.close());
  const { pending, left, usage, counted } = await stored(inner, name, 'track_metadata');
  if (pending || left.chunks || left.priors || (usage && (usage.entries !== counted.entries || usage.bytes !== counted.bytes))) {
    throw new Error(`seed ${seed}, once settled: ${pending} imports pending, ${left.chunks} key chunks and ${left.priors} priors left; the usage record says ${usage?.entries} / ${usage?.bytes}, stored ${counted.entries} / ${counted.bytes}\n${history.slice(-30).join('\n')}`);
  }
}

describe('usage', () => {
  it.each((process.env['USAGE_SEEDS']?.split(',').map(Number)) ?? Array.from({ length: 10 }, (_, index) => index + 1))('seed %i: random calls of three tabs, with faults, keep every type’s count exact and within its budget', (seed) => run(seed, 150), 30_000);
});
