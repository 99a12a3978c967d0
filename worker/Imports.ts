import type { TypeName } from '../src/contentType';
import { CacheError } from '../src/CacheError';
import { targetMatches } from '../src/invalidationTarget';
import type { Database } from './Database';
import { changeOf, commitKey, entryStore, forgetMarks, toRecord, type CommitMark, type EntryRecord, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { loggedTargets } from './Change';
import { noneRemoved, shrinkType } from './evictionPlan';
import { findRecords } from './findRecords';
import { requestDone, requestsDone } from './idbRequests';
import { walkCursor } from './walkCursor';
import { allKeyChunks, batchKey, batchLockName, findableThrough, IMPORT_STEPS, keyChunkKey, keyChunksOf, newBatchId, nextStepSize, pendingBatches, plainOf, visibleOf, type BatchId, type BatchRecord, type BatchStates, type KeyChunk } from './importBatch';
import { lastOfEachKey } from './lastOfEachKey';
import type { ReadTimes } from './ReadTimes';
import { later, type Schedule } from './schedule';
import { addRemoved, cutoffOf, type Budget, type ExpiredBy, type Removed, type Spared, type StoredEntry, type Usage, type WriteOptions } from './Store';
import { forget, averageBytes } from './usage';
import { liveKeysOf } from './isExpired';
import { putUsage, readUsage } from './usageRecord';
import { WebLocks } from './WebLocks';
import { epochNow } from '../src/time';
import { IMPORT_CHUNK } from '../src/protocol';

/** How often an import looks whether another one of its type, in another tab, is done (without Web Locks). */
const IMPORT_WAIT_MS = 250;
/** Without Web Locks, an import that wrote no step while another waited this many times (ten seconds) is taken for dead. */
const STALE_POLLS = 40;
/** The silence after which a sweep (without Web Locks) takes an import for dead, however often it runs. */
export const IMPORT_SILENCE_MS = STALE_POLLS * IMPORT_WAIT_MS;

/** What a tab saw of an import's progress: its step count, and how many looks in a row saw no new step. */
interface Silence {
  beat: number;
  polls: number;
}

export interface ImportOptions {
  /** The database's name: it names the imports' Web Locks. */
  name: string;
  /** For the looks at another tab's import without Web Locks (setTimeout by default). */
  schedule?: Schedule | undefined;
  /** Imports above this many entries, in steps of exactly this many (IMPORT_CHUNK; then steps follow IMPORT_STEP_MS). */
  importChunk?: number | undefined;
  /** Web Locks: an import holds one while it is open, so that other tabs know it is alive. */
  locks?: LockManager | undefined;
  /** Entries removed outside what a call reports (room made after a failed import): to count them. */
  removed?: ((type: TypeName, removed: Removed) => void) | undefined;
  /** Epoch ms, like Date.now: when a step is written (see BatchRecord.at). */
  now?: (() => number) | undefined;
}

/** What the store frees on a full disk (IdbStore.free): room made after an import falls back to it. */
type Free = (types: readonly TypeName[], bytes: number, expiredBy: ExpiredBy, spare?: Spared) => Promise<Partial<Record<TypeName, Removed>>>;

/**
 * The imports of a database's types (see importBatch.ts): written in steps yet all or nothing, writes
 * made under them, rolled back when their tab is gone, tidied once committed.
 */
export class Imports {
  readonly #db: Database;
  readonly #readTimes: ReadTimes;
  readonly #batches: BatchStates;
  readonly #free: Free;
  readonly #options: ImportOptions;
  readonly #schedule: Schedule;
  readonly #importChunk: number;
  readonly #locks: WebLocks;
  readonly #now: () => number;
  /** Imports of other tabs seen by the sweeps, without Web Locks (see #deadAmong), by type. */
  readonly #silence = new Map<TypeName, Map<BatchId, Silence>>();
  /** This store's imports under way: alive, whatever the clock says (it may have been set forward). */
  readonly #running = new Set<BatchId>();
  /** This store's imports that failed and could not be marked so (a full disk): dead, whatever their beat. */
  readonly #abandoned = new Set<BatchId>();

  constructor(db: Database, options: ImportOptions, readTimes: ReadTimes, batches: BatchStates, free: Free) {
    this.#db = db;
    this.#readTimes = readTimes;
    this.#batches = batches;
    this.#free = free;
    this.#options = options;
    this.#schedule = options.schedule ?? later;
    this.#importChunk = options.importChunk ?? IMPORT_CHUNK;
    this.#locks = new WebLocks(options.locks);
    this.#now = options.now ?? epochNow;
  }

  /** Whether a write of `count` entries (each key once) is an import: a big one (short transactions); a guarded one is small (getOrSet's). */
  static imports(count: number, guarded: boolean, importChunk = IMPORT_CHUNK): boolean {
    return !guarded && count > importChunk;
  }

  /**
   * Writes a big setMany as an import: in steps, one short transaction each (sized by nextStepSize, or
   * `importChunk` entries when given), which other calls interleave with, yet all or nothing (see importBatch.ts). Resolves once it has committed; an import
   * an event or clear since its start made (partly) stale leaves those entries out, as a guarded write does.
   */
  async import(type: TypeName, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, options: WriteOptions = {}): Promise<Removed> {
    const { onProgress, commit, from, landed } = options;
    entries = lastOfEachKey(entries);
    const id = newBatchId();
    const release = await this.#holdBatchLock(id);
    this.#running.add(id);
    try {
      // The read times its first transaction forgot: remembered again if it is rolled back (its entries' priors show again).
      const forgotten = await this.#begin(type, id, entries, budget, expiredBy, release !== null, from);
      try {
        const removed = noneRemoved();
        const written = new Set<string>();
        const steps: Promise<void>[] = [];
        // A step that failed (at its commit: one whose request fails stops the loop at once) stops it too.
        let failed = false;
        try {
          // Steps of exactly importChunk entries when it is given (see ImportOptions).
          let size = this.#options.importChunk ?? IMPORT_STEPS.first;
          for (let start = 0, end = 0, step = 0; start < entries.length && !failed; start = end, step++) {
            const chunk = entries.slice(start, start + size);
            end = start + chunk.length;
            for (const entry of chunk) written.add(entry.key);
            let requestsDone!: () => void;
            const ready = new Promise<void>((resolve) => (requestsDone = resolve));
            const done = this.#db
              .transact(`importing ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
                const began = performance.now();
                await this.#importStep(tx, type, id, step, chunk);
                size = this.#options.importChunk ?? nextStepSize(chunk.length, performance.now() - began);
                requestsDone();
              })
              .then(() => onProgress?.(end));
            done.catch(() => void (failed = true));
            steps.push(done);
            // The next step's transaction is made once this one's requests are done: it starts the moment
            // this one commits (no round trip in between), and what other tabs asked for meanwhile goes first.
            await Promise.race([ready, done]);
          }
          await Promise.all(steps);
        } finally {
          // None may still be running when the import is rolled back.
          await Promise.allSettled(steps);
        }
        const { outcome, cleared, removed: invalidated, held, bytes } = await this.#db.transact(`committing an import of ${type}`, [entryStore(type)], 'readwrite', (tx) =>
          this.#commitImport(tx, type, id, commit, written.size),
        );
        if (invalidated) removed.invalidated = invalidated;
        if (outcome === 'rolled back') {
          await this.#rollBack(type, id);
          this.#readTimes.keep(type, forgotten);
          // Writes made under it since the clear show again (counted as its entries until now): as after any rollback.
          addRemoved(removed, await this.backWithin(type, budget, expiredBy));
          // Cleared since it reached the engine: none of it is there, nor told as set (as a guarded write's left out).
          if (cleared) removed.stale = [...written];
          // An event since removed every entry: its entries too, as if it came just after it (see #commitImport).
          else removed.invalidated = written.size;
        } else {
          // Told as it lands: a change made after its commit (another tab's, heard while room is made) is told after it.
          landed?.(removed);
          void this.#normalize(type, id).catch(() => {
            // Left for the next sweep: priors only cost room meanwhile.
          });
          // Room is made once it has landed (a failed import must not have evicted anything): the other
          // entries go first, never below what the import holds (it fits the budget on its own).
          if (budget && bytes > budget.lowWater) {
            // Its entries already expired as written (a ttlSeconds of 0 or below) go first, as any expired entry.
            const live = liveKeysOf(entries, cutoffOf(expiredBy, type));
            const dead = entries.reduce((bytes, entry) => bytes + (live.has(entry.key) ? 0 : entry.bytes), 0);
            addRemoved(removed, await this.roomAfterImport(type, budget, Math.max(0, held - dead), expiredBy, live));
          }
        }
        return removed;
      } catch (error) {
        // Nothing of it may show: if rolling it back fails too, it stays pending (invisible) until the next
        // sweep, or this store's next import of the type, which need not wait to see it is dead.
        await this.#abort(type, id, budget, expiredBy).catch(() => this.#abandoned.add(id));
        this.#readTimes.keep(type, forgotten);
        throw error;
      }
    } finally {
      this.#running.delete(id);
      release?.();
    }
  }

  /**
   * Brings the type back within its budget once an import of `held` bytes has committed: the others go
   * first, never below what the import holds (it fits the budget on its own). It happened, so this never
   * rejects: if making room fails (a full disk refuses the puts that record read times and usage), it is
   * made with deletes only, as when freeing space (see #shrink). `spare`: the import's keys, which stay (another
   * tab's entries written during it are used after its own, and go first).
   */
  roomAfterImport(type: TypeName, budget: Budget, held: number, expiredBy: ExpiredBy, spare?: ReadonlySet<string>): Promise<Removed> {
    return this.#shrink(type, budget.lowWater, Math.max(budget.lowWater, held), expiredBy, spare);
  }

  /**
   * roomAfterImport for an import of `keys` a dead worker committed: those of its entries expired (written so: a ttlSeconds
   * of 0 or below) are not spared, as in its own worker's (see import). The type's expired keys are read through the expiry
   * index (keys only: the values stay on disk). The import's live entries, spared, hold what they hold whatever the target:
   * it is the budget's mark. It happened, so this never rejects: a read that fails spares every key, as before.
   */
  async roomAfterDeadImport(type: TypeName, budget: Budget, expiredBy: ExpiredBy, keys: ReadonlySet<string>): Promise<Removed> {
    const { by } = cutoffOf(expiredBy, type);
    const expired = await this.#db
      .transact('reading expired keys', [entryStore(type)], 'readonly', (tx) => requestDone(tx.objectStore(entryStore(type)).index('expiry').getAllKeys(IDBKeyRange.upperBound(by))))
      .catch(() => []);
    const dead = new Set(expired);
    return this.roomAfterImport(type, budget, 0, expiredBy, new Set([...keys].filter((key) => !dead.has(key))));
  }

  /**
   * shrinkInSteps, which never rejects: a full disk refuses the puts of usage and read times, and then what is
   * still above `target` once the steps that committed have (counted all the same) goes with deletes only.
   * Left above it when that fails too, until the next write or cleanup of the type.
   */
  async #shrink(type: TypeName, above: number, target: number, expiredBy: ExpiredBy, spare?: ReadonlySet<string>): Promise<Removed> {
    const removed = noneRemoved();
    try {
      await this.shrinkInSteps(type, above, target, expiredBy, spare, removed).catch(async () => {
        const { bytes } = await this.#db.transact(`making room in ${type}`, [entryStore(type)], 'readonly', (tx) => readUsage(tx, type));
        addRemoved(removed, (await this.#free([type], bytes - target, expiredBy, spare && [type, [...spare]]))[type]);
      });
    } catch {
      // What went is counted all the same.
    }
    return removed;
  }

  /** One step of an import: its entries, each with the entry it replaces as its prior, and the keys it wrote. */
  async #importStep(
    tx: IDBTransaction,
    type: TypeName,
    id: BatchId,
    step: number,
    chunk: readonly StoredEntry[],
  ): Promise<void> {
    const store = tx.objectStore(entryStore(type));
    const batchRead = store.get(batchKey(id)) as IDBRequest<BatchRecord | undefined>;
    const usage = await readUsage(tx, type);
    const batch = batchRead.result;
    if (batch?.state !== 'open') throw rolledBack(type);
    // When every record of the type is one this import created (none of which can have gone: nothing
    // but an event or a clear, which the batch would list, removes a pending record), nothing is replaced.
    const olds = batch.targets.length === 0 && usage.entries === batch.created ? [] : chunk.map((entry) => store.get(entry.key) as IDBRequest<EntryRecord | undefined>);
    await requestsDone(olds);
    let priors = 0;
    let created = 0;
    let held = 0;
    const retagged: string[] = [];
    for (const [index, entry] of chunk.entries()) {
      const old = olds[index]?.result;
      const record: EntryRecord = toRecord(entry);
      record.batch = id;
      // No other import of the type is pending (see #begin): a replaced record is plain, or of a committed import.
      if (old) {
        record.prior = plainOf(old);
        record.priorAfter = batch.targets.length;
        priors++;
        if (!findableThrough(old, record)) retagged.push(entry.key);
      } else {
        usage.entries++;
        created++;
      }
      held += record.bytes;
      usage.bytes += record.bytes - (old ? old.bytes : 0);
      store.put(record);
    }
    store.put({ key: keyChunkKey(id, step), keys: chunk.map((entry) => entry.key), priors, ...(retagged.length && { retagged }) } satisfies KeyChunk);
    const next: BatchRecord = { ...batch, beat: batch.beat + 1, at: this.#now(), created: batch.created + created, held: batch.held + held };
    if (retagged.length) next.retagged = (batch.retagged ?? 0) + retagged.length;
    store.put(next);
    // No room is made here: an import that fails must not have evicted anything (see import).
    // Done once every request is (the next step starts then: see import).
    await requestDone(putUsage(tx, type, usage));
  }

  /**
   * The commit of an import: its batch record goes, so its entries are what reads see — less those an
   * event since its start removes, which go in the same transaction, with what they replaced (as if the
   * event came just after the import; one transaction, so that no read sees part of it); after a
   * clear, or an event that removes every entry, the whole batch is rolled back instead. Says what its
   * entries hold, and the type. `count`: how many entries it wrote.
   */
  async #commitImport(
    tx: IDBTransaction,
    type: TypeName,
    id: BatchId,
    commit: WriteOptions['commit'],
    count: number,
  ): Promise<{ outcome: 'committed' | 'rolled back'; cleared?: boolean; removed: number; held: number; bytes: number }> {
    const store = tx.objectStore(entryStore(type));
    const batchRead = store.get(batchKey(id)) as IDBRequest<BatchRecord | undefined>;
    const markRead = commit && (store.get(commitKey(commit.id)) as IDBRequest<CommitMark | undefined>);
    await requestsDone(markRead ? [batchRead, markRead] : [batchRead]);
    const batch = batchRead.result;
    const landed = markRead?.result;
    // Landed already, by a first try of this transaction whose answer was lost with its connection: its mark says how (another
    // tab may have tidied its key chunks since, or found it rolled back by a clear and rolled it back).
    if (landed) return landed.held === undefined ? { outcome: 'rolled back', cleared: landed.written !== undefined, removed: 0, held: 0, bytes: Infinity } : { outcome: 'committed', removed: landed.invalidated ?? 0, held: landed.held, bytes: Infinity };
    if (!batch) {
      // Committed already by such a first try of a call without a mark (its key chunks are still there), or rolled back by another tab.
      if (!commit && (await requestDone(store.getKey(keyChunksOf(id)))) !== undefined) return { outcome: 'committed', removed: 0, held: 0, bytes: Infinity };
      throw rolledBack(type);
    }
    if (batch.state !== 'open') throw rolledBack(type);
    const usage = await readUsage(tx, type);
    const outcome = batch.targets.some((target) => target.by === 'all') ? 'rolled back' : 'committed';
    let removed = 0;
    let { held } = batch;
    for (let index = batch.applied ?? 0; outcome === 'committed' && index < batch.targets.length; index++) {
      const target = batch.targets[index]!;
      if (target.by === 'all') break;
      for (const record of await requestDone(findRecords(store, target))) {
        if (record.batch !== id || !targetMatches(target, record)) continue;
        removed++;
        held -= record.bytes;
        // Not its prior back: the import replaced that (a resolved setMany happened), then the event removed it.
        store.delete(record.key);
        forget(usage, record);
      }
    }
    if (outcome === 'rolled back') store.put({ ...batch, state: 'aborted' } satisfies BatchRecord);
    else store.delete(batchKey(id));
    // The call happened either way: a client that lost the answer may ask, and the next worker tells it as `import` does
    // and makes the room it would have made (see Engine.committed). Rolled back by a clear, it set nothing; by an event
    // that removes every entry, its `count` entries were set, then invalidated.
    const outcomeMark = outcome === 'committed' ? { held, ...(removed && { invalidated: removed }) } : batch.cleared ? { written: [] } : { invalidated: count };
    if (commit) store.put({ key: commitKey(commit.id), at: this.#now(), ...outcomeMark } satisfies CommitMark);
    forgetMarks(store, commit?.answered);
    putUsage(tx, type, usage);
    return { outcome, cleared: batch.cleared, removed, held, bytes: usage.bytes };
  }

  /**
   * Brings `type` down to `target` bytes if it holds more than `above`, in steps of at most an import
   * step's worth of removals (short transactions, which other calls interleave with); `spare` stays.
   * `removed` counts what each step removed as it commits: a step that fails leaves the earlier ones counted there.
   */
  async shrinkInSteps(type: TypeName, above: number, target: number, expiredBy: ExpiredBy, spare?: ReadonlySet<string>, removed = noneRemoved()): Promise<Removed> {
    for (let limit = above; ; limit = target) {
      const step = await this.#db.transact(`making room in ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
        const usage = await readUsage(tx, type);
        if (usage.bytes <= limit) return null;
        const stepTarget = Math.max(target, usage.bytes - this.#importChunk * averageBytes(usage));
        // The clock as each step begins (see ExpiredBy): steps apart, others write.
        const more = await shrinkType(tx, type, usage, stepTarget, cutoffOf(expiredBy, type), [], this.#readTimes, spare);
        putUsage(tx, type, usage);
        return more;
      });
      if (!step || step.expired + step.evicted === 0) return removed;
      addRemoved(removed, step);
    }
  }

  /**
   * Marks an import that failed (or whose tab is gone) as rolled back, then rolls it back. Writes made
   * under it while it was pending (their bytes counted as its) are visible again: a type they put above
   * its whole budget loses its least recently used entries, as few as that takes. `beat`: the step count
   * it was found silent at (see #deadAmong); one that wrote a step since, when this transaction reads it,
   * is alive and stays.
   */
  async #abort(type: TypeName, id: BatchId, budget: Budget | null, expiredBy: ExpiredBy, beat?: number): Promise<void> {
    const pending = await this.#db.transact(`abandoning an import of ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
      const store = tx.objectStore(entryStore(type));
      const batch = (await requestDone(store.get(batchKey(id)))) as BatchRecord | undefined;
      if (batch?.state === 'open') {
        if (beat !== undefined && batch.beat !== beat) return false;
        store.put({ ...batch, state: 'aborted' } satisfies BatchRecord);
      }
      return batch !== undefined;
    });
    this.#abandoned.delete(id);
    if (!pending) return;
    await this.#rollBack(type, id);
    this.#options.removed?.(type, await this.backWithin(type, budget, expiredBy));
  }

  /**
   * After a rollback: the writes made under the import show again, in place of its entries (which were counted for
   * them), and may put the type above its whole budget; its least recently used entries go, as few as that takes.
   * Also by the next worker of a page whose worker died before it (see Engine.committed). Never rejects.
   */
  async backWithin(type: TypeName, budget: Budget | null, expiredBy: ExpiredBy): Promise<Removed> {
    return budget ? this.#shrink(type, budget.maxBytes, budget.maxBytes, expiredBy) : noneRemoved();
  }

  /**
   * Starts an import: writes its batch record, once no other import of the type is pending (an import
   * of it in another tab is waited for; one whose tab is gone is rolled back first). `locked`: whether
   * it holds its Web Lock (see #holdBatchLock).
   */
  async #begin(type: TypeName, id: BatchId, entries: readonly StoredEntry[], budget: Budget | null, expiredBy: ExpiredBy, locked: boolean, from?: WriteOptions['from']): Promise<Map<string, number>> {
    // Read before the transaction (awaiting anything else in it would let it commit).
    const place = from && (await from.place);
    let forgotten = new Map<string, number>();
    await this.afterImports(
      type,
      budget,
      expiredBy,
      `starting an import of ${type}`,
      async (tx, store) => {
        // The changes logged since it reached the engine, read in the transaction that begins it: each one either
        // is among them or finds its batch record. A log that no longer tells them (of a database deleted and
        // recreated since, or trimmed past its place) leaves it unwritten, as it leaves a guarded write's entries.
        const tail = place && (await EventLog.tail(tx, place.seq));
        if (tail && (tail.trimmedThrough > place.seq || (place.epoch !== null && tail.epoch !== place.epoch))) throw rolledBack(type, 'the changes logged before it began are gone');
        const targets = (tail?.changes ?? []).flatMap((change) => loggedTargets(change, from!.targets(changeOf(change)))).filter((target) => target.type === type);
        const cleared = tail?.changes.some((change) => change.cleared?.includes(type));
        // It is the later use of what it writes (see IdbStore.write).
        forgotten = this.#readTimes.forget(tx, type, entries.map((entry) => entry.key));
        store.put({ key: batchKey(id), state: 'open', beat: 0, at: this.#now(), created: 0, held: 0, targets, unlocked: !locked, maxBytes: budget?.maxBytes ?? Infinity, ...(cleared && { cleared }) } satisfies BatchRecord);
      },
      place ? ['events', 'meta'] : [],
    );
    return forgotten;
  }

  /**
   * Waits until no import of `type` is pending (one whose tab is gone is rolled back); `then` runs in
   * the transaction that found none (with `also` in its scope). Resolves with the largest budget of those
   * it looked again at, having no Web Lock of them to wait for (gone, they may still be making room to it:
   * see IdbStore.write); 0 for one of an earlier build, undefined if none.
   */
  async afterImports(
    type: TypeName,
    budget: Budget | null,
    expiredBy: ExpiredBy,
    doing: string,
    then?: (tx: IDBTransaction, store: IDBObjectStore) => Promise<void>,
    also: StoreName[] = [],
  ): Promise<number | undefined> {
    const silence = new Map<BatchId, Silence>();
    for (let polled: number | undefined; ; ) {
      const others = await this.#db.transact(doing, [entryStore(type), ...also], 'readwrite', async (tx) => {
        const store = tx.objectStore(entryStore(type));
        const pending = await pendingBatches(store);
        if (!pending.size) await then?.(tx, store);
        return pending;
      });
      if (!others.size) return polled;
      const dead = await this.#deadAmong(others, silence, STALE_POLLS);
      for (const [other, beat] of dead) await this.#abort(type, other, budget, expiredBy, beat);
      const live = [...others.keys()].find((other) => !dead.has(other));
      if (live === undefined) continue;
      // Its lock is free once it is done; one that holds none is looked at again later.
      const batch = others.get(live)!;
      const waited = !batch.unlocked && (await this.#locks.request(batchLockName(this.#options.name, live), {}, async () => {}));
      if (!waited) await new Promise((resolve) => this.#schedule(() => resolve((polled = Math.max(polled ?? 0, batch.maxBytes ?? 0))), IMPORT_WAIT_MS));
    }
  }

  /**
   * The batches among these whose tab is gone: with Web Locks, those whose lock nobody holds (each
   * import holds its lock from before its batch record is written, and these were read before asking);
   * without (or for a batch begun without its lock), those that wrote no step while `silence` watched
   * them, `patience` looks in a row, or for ten seconds by their time (BatchRecord.at): with the step count they were silent at, for #abort to check that
   * they still are (undefined for the others: dead whatever they wrote).
   */
  async #deadAmong(batches: ReadonlyMap<BatchId, BatchRecord>, silence: Map<BatchId, Silence>, patience: number): Promise<Map<BatchId, number | undefined>> {
    const dead = new Map<BatchId, number | undefined>();
    if (!batches.size) return (silence.clear(), dead);
    const held = await this.#locks.held();
    for (const [id, batch] of batches) {
      if (batch.state === 'aborted' || this.#abandoned.has(id)) dead.set(id, undefined);
      else if (this.#running.has(id)) continue;
      else if (held && !batch.unlocked) {
        if (!held.has(batchLockName(this.#options.name, id))) dead.set(id, undefined);
      } else {
        const seen = silence.get(id);
        const polls = seen?.beat === batch.beat ? seen.polls + 1 : 0;
        silence.set(id, { beat: batch.beat, polls });
        // Or by its time, at one look (a tab that never watched it: another's stats, a new worker's first sweep).
        if (polls >= patience || (batch.at !== undefined && this.#now() - batch.at >= IMPORT_SILENCE_MS)) dead.set(id, batch.beat);
      }
    }
    for (const id of silence.keys()) if (!batches.has(id)) silence.delete(id);
    return dead;
  }

  /** Takes the lock that tells other tabs an import is alive; resolves with its release, or null where there is none to take. */
  #holdBatchLock(id: BatchId): Promise<(() => void) | null> {
    return new Promise((resolve, reject) => {
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      this.#locks.request(batchLockName(this.#options.name, id), {}, () => (resolve(release), released)).then((held) => held ?? resolve(null), reject);
    });
  }

  /** Gives each entry an import wrote its prior back, a step at a time; the batch record goes last. */
  #rollBack(type: TypeName, id: BatchId): Promise<void> {
    let pending = new Map<BatchId, BatchRecord>();
    return this.#byKeyChunk(
      'rolling back an import of',
      type,
      id,
      async (store) => {
        const batchRead = store.get(batchKey(id)) as IDBRequest<BatchRecord | undefined>;
        const chunkRead = store.get(keyChunksOf(id)) as IDBRequest<KeyChunk | undefined>;
        await requestsDone([batchRead, chunkRead]);
        // No batch record: it committed (its chunks are normalized instead), or is rolled back already.
        if (!batchRead.result) return undefined;
        if (!chunkRead.result) store.delete(batchKey(id));
        pending = new Map([[id, batchRead.result]]);
        return chunkRead.result;
      },
      async (tx, store, records) => {
        const usage = await readUsage(tx, type);
        for (const record of records) restorePrior(store, usage, record, pending);
        putUsage(tx, type, usage);
      },
    );
  }

  /** Drops the priors a committed import left in its records, a step at a time. */
  #normalize(type: TypeName, id: BatchId): Promise<void> {
    return this.#byKeyChunk(
      'tidying an import of',
      type,
      id,
      async (store) => {
        if ((await requestDone(store.getKey(batchKey(id)))) !== undefined) return undefined;
        // Chunks that replaced nothing only go; the first that did is tidied in this transaction.
        let chunk: KeyChunk | undefined;
        await walkCursor(store.openCursor(keyChunksOf(id)), (cursor) => {
          const value = cursor.value as KeyChunk;
          if (value.priors > 0) chunk = value;
          else cursor.delete();
          return chunk === undefined;
        });
        return chunk;
      },
      async (_tx, store, records) => {
        // Priors are not counted: usage stays as it is.
        for (const record of records) if (record.prior) store.put(plainOf(record));
      },
    );
  }

  /**
   * Works through an import's key chunks, one transaction each, until `next` finds none left to handle:
   * `handle` gets the chunk's records that are still the import's, then the chunk goes.
   */
  async #byKeyChunk(
    doing: string,
    type: TypeName,
    id: BatchId,
    next: (store: IDBObjectStore) => Promise<KeyChunk | undefined>,
    handle: (tx: IDBTransaction, store: IDBObjectStore, records: EntryRecord[]) => Promise<void>,
  ): Promise<void> {
    for (;;) {
      const done = await this.#db.transact(`${doing} ${type}`, [entryStore(type)], 'readwrite', async (tx) => {
        const store = tx.objectStore(entryStore(type));
        const chunk = await next(store);
        if (!chunk) return true;
        const reads = chunk.keys.map((key) => store.get(key) as IDBRequest<EntryRecord | undefined>);
        await requestsDone(reads);
        await handle(tx, store, reads.flatMap((read) => (read.result?.batch === id ? [read.result] : [])));
        store.delete(chunk.key);
        return false;
      });
      if (done) return;
    }
  }

  /**
   * Finishes what imports left in these types: rolls back those whose tab is gone (a crash, a dead
   * worker) and tidies those committed. On open, and with the periodic cleanup; without `everyMs`, before
   * stats and a cleanup count the types: rolls back only those it can tell are dead at one look (their
   * Web Lock free; without, ten seconds without a step), which no read sees and nothing should count.
   */
  async sweepImports(budgets: ReadonlyMap<TypeName, Budget | null>, expiredBy: ExpiredBy, everyMs?: number): Promise<void> {
    const types = [...budgets.keys()];
    const tidy = everyMs !== undefined;
    const found = await this.#db.transact('finding unfinished imports', types.map(entryStore), 'readonly', (tx) =>
      Promise.all(
        types.map(async (type) => {
          const store = tx.objectStore(entryStore(type));
          const [batches, chunks] = await Promise.all([pendingBatches(store), tidy ? (requestDone(store.getAllKeys(allKeyChunks())) as Promise<KeyChunk['key'][]>) : []]);
          return { type, batches, chunked: new Set(chunks.map((key) => key[1])) };
        }),
      ),
    );
    for (const { type, batches, chunked } of found) {
      // Without Web Locks, a batch is dead once it wrote nothing for ten seconds of sweeps (`everyMs` apart: by default minutes), or by its time.
      const silence = tidy ? (this.#silence.get(type) ?? this.#silence.set(type, new Map()).get(type)!) : new Map<BatchId, Silence>();
      const patience = tidy ? Math.max(1, Math.ceil(IMPORT_SILENCE_MS / everyMs)) : Infinity;
      for (const [id, beat] of await this.#deadAmong(batches, silence, patience)) await this.#abort(type, id, budgets.get(type) ?? null, expiredBy, beat);
      for (const id of chunked) if (!batches.has(id)) await this.#normalize(type, id);
    }
  }

  /**
   * A write over an import's entry not yet committed writes under it: its prior becomes the new entry
   * (what reads see until the import commits, after which the import's entry wins).
   */
  async writeUnderImports(store: IDBObjectStore, replaced: readonly EntryRecord[], entries: readonly StoredEntry[], usage: Usage): Promise<void> {
    if (!replaced.length) return;
    const pending = await this.#batches.pendingAmong(store, replaced);
    if (!pending.size) return;
    const written = new Map(entries.map((entry) => [entry.key, entry]));
    for (const old of replaced) {
      const entry = written.get(old.key);
      const batch = old.batch === undefined ? undefined : pending.get(old.batch);
      if (!entry || !batch) continue;
      const prior = toRecord(entry);
      store.put({ ...plainOf(old), batch: old.batch, prior, priorAfter: batch.targets.length } satisfies EntryRecord);
      // The write counted its entry in place of the import's; the import's entry stays, and usage counts it (not priors).
      usage.bytes += old.bytes - entry.bytes;
      // A record the import created showed nothing; it shows this write now (see BatchRecord.created).
      if (!old.prior) batch.created--;
      // Tagged otherwise than the import's entry, which is all the tag indexes find: listed for events (see KeyChunk.retagged).
      const retagged = !findableThrough(prior, old);
      if (retagged) batch.retagged = (batch.retagged ?? 0) + 1;
      // Such a key, or one the import created (whose step's chunk may have replaced nothing, which tidying skips), in a
      // chunk of its own, for a rollback or a commit's tidying to find its prior: named by the key, so that one written
      // again is listed once (and no chunk an earlier version numbered is written over).
      if (retagged || !old.prior) store.put({ key: keyChunkKey(old.batch!, old.key), keys: [old.key], priors: 1, ...(retagged && { retagged: [old.key] }) } satisfies KeyChunk);
    }
    for (const batch of pending.values()) store.put(batch);
  }
}

/** An import's record reads as its prior again (or goes, if it has none, or an event since removed it). */
function restorePrior(store: IDBObjectStore, usage: Usage, record: EntryRecord, pending: ReadonlyMap<BatchId, BatchRecord>): void {
  const visible = visibleOf(record, pending);
  if (visible) {
    store.put(visible);
    usage.bytes += visible.bytes - record.bytes;
  } else {
    store.delete(record.key);
    forget(usage, record);
  }
}

function rolledBack(type: TypeName, why = 'another tab took it for abandoned, or cleared it'): CacheError {
  return new CacheError('storage_unavailable', `This setMany of ${type} was rolled back before it committed (${why}); nothing of it was written`);
}
