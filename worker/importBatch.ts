import { targetMatches, type InvalidationTarget, type Tags } from '../src/invalidationTarget';
import { BATCH, type BatchId } from './batchStates';
import type { EntryRecord, PlainRecord } from './databaseSchema';

export { BatchStates, batchRecords, byId, pendingBatches, type BatchId } from './batchStates';

/**
 * A big setMany (an import) is written in many short transactions, so that other calls interleave, and
 * stays all or nothing through a batch record in its type's store:
 *
 * - While the batch is *pending* (its record there, open or being rolled back), each entry it wrote
 *   carries `batch: id` and, if it replaced one, that entry as `prior`. Reads see the prior (or
 *   nothing): the import is invisible until it commits.
 * - Its commit is one small transaction that deletes the batch record: from then on the same records
 *   read as the import's entries. Priors left behind are dropped later (tidying), in small steps.
 * - A batch never committed (its tab crashed, its worker died, a write of it failed) is rolled back:
 *   each record it wrote gets its prior back, in small steps, and the batch record goes last.
 *
 * Counting: a type's usage counts each record's own entry, never a prior, so its bytes and entries are
 * what the type holds once its pending imports commit. An import's step counts its entries as it writes
 * them, in place of those they replace, and evicts nothing: an import that fails must leave the other
 * entries as they were. Once it has committed, the least recently used of the others make room, in
 * steps, before it resolves (an import that replaces entries evicts nothing for them); it fits the
 * budget on its own (setMany checks). Rolling back counts the priors again in place of the import's
 * entries (then a type that writes made under the import put above its budget is brought back).
 *
 * Events and clears during an import are appended to its batch record (`targets`): reads hide a prior
 * they remove, and the commit removes the import's entries they find, with what those replaced, in
 * the transaction that deletes the batch record, so that no read sees part of it (as if the event
 * came just after the import: its data may be stale, so it is not kept) — or, after an event that removes
 * every entry or a clear, rolls the whole batch back (the import resolves: it happened, then was
 * invalidated, counted as an event's removals are — or cleared, counted nowhere, as a clear is).
 */
export interface BatchRecord {
  key: [typeof BATCH, BatchId];
  state: 'open' | 'aborted';
  /** Steps written: without Web Locks, a batch whose count stays the same for a while is taken for dead. */
  beat: number;
  /** When it began or last wrote a step (epoch ms, by its tab's clock): without Web Locks, ten seconds before now is dead at one look (versions before 0.2's last have none). */
  at?: number;
  /**
   * Records it created (where there was none) that still show nothing to reads (a clear or library_sync
   * removes them all; a write under one shows), and the bytes of its entries (not their priors), as written.
   */
  created: number;
  held: number;
  /** What events and clears of the type removed while the batch was pending, in order. */
  targets: InvalidationTarget[];
  /** A clear of the type among them: the import then sets nothing (an event that removes every entry removes its entries, as it removes a track's). */
  cleared?: true;
  /** Begun without a Web Lock (none in its tab, or refused there): tabs with locks tell whether it is alive as tabs without do, by its beat. */
  unlocked?: boolean;
  /** How many of the targets a commit had applied (versions before 0.2's last spread a commit over several transactions). */
  applied?: number;
  /** How many times its steps and writes under it listed keys as re-tagged (see KeyChunk.retagged): an event reads its key chunks only then. */
  retagged?: number;
  /**
   * The importing tab's budget for the type (Infinity: none), which the room it makes after its commit keeps: a write
   * that leaves that room to it (see Imports.afterImports) makes its own where its budget is smaller (another deploy's
   * config). None from earlier builds.
   */
  maxBytes?: number;
}

/**
 * The keys one step of an import wrote (to roll back or normalize it), and how many replaced an entry; or, named
 * by its key (strings sort after the steps' numbers), a key written under the import (see Imports.writeUnderImports).
 */
export interface KeyChunk {
  key: [typeof KEYS, BatchId, number | string];
  keys: string[];
  priors: number;
  /**
   * Those whose prior the tag indexes do not find through the import's entry, tagged otherwise (a key of one
   * track imported as another's), or written under the import as another track's: an event during the import finds
   * them here, to remove (and count) what reads see.
   */
  retagged?: string[];
}

const KEYS = 'batchkeys';

export const newBatchId = (): BatchId => Math.floor(Math.random() * 2 ** 53);

export const batchKey = (id: BatchId): BatchRecord['key'] => [BATCH, id];
export const keyChunkKey = (id: BatchId, step: number | string): KeyChunk['key'] => [KEYS, id, step];

/** The key chunks of one batch. */
export const keyChunksOf = (id: BatchId): IDBKeyRange => IDBKeyRange.bound([KEYS, id], [KEYS, id, []]);
/** Every key chunk of a store. */
export const allKeyChunks = (): IDBKeyRange => IDBKeyRange.bound([KEYS], [KEYS, []]);

/**
 * How long each step of an import aims to take: short enough that other calls get through between two
 * of them, long enough that their overhead stays small. Steps are sized by what the last one took,
 * within IMPORT_STEPS (entries): a fast machine writes bigger steps than a slow one.
 */
export const IMPORT_STEP_MS = 50;
export const IMPORT_STEPS = { first: 500, min: 100, max: 5000 } as const;

/** The size of an import's next step, from the last one's (square root: halfway to the target, so one slow step does not swing it). */
export function nextStepSize(entries: number, ms: number): number {
  const scaled = Math.round(entries * Math.sqrt(IMPORT_STEP_MS / Math.max(ms, 1)));
  return Math.min(IMPORT_STEPS.max, Math.max(IMPORT_STEPS.min, scaled));
}

/**
 * The Web Lock an importing worker holds while its batch is open: when it is free, the batch is dead.
 * Prefixed, as every lock of Reprise's: Web Locks refuse a name starting with '-', which a cache's may.
 */
export const batchLockName = (database: string, id: BatchId): string => `reprise:${database}:import:${id}`;


export function isPending(record: EntryRecord, pending: ReadonlyMap<BatchId, BatchRecord>): boolean {
  return record.batch !== undefined && pending.has(record.batch);
}

/** The entry a record holds as reads see it: its prior while its batch is pending (unless an event since removed it). */
export function visibleOf(record: EntryRecord, pending: ReadonlyMap<BatchId, BatchRecord>): PlainRecord | undefined {
  const batch = record.batch === undefined ? undefined : pending.get(record.batch);
  if (!batch) return plainOf(record);
  const { prior } = record;
  if (!prior) return undefined;
  const since = batch.targets.slice(record.priorAfter ?? 0);
  return since.some((target) => targetMatches(target, prior)) ? undefined : prior;
}

/** Whether every index that finds `prior` (its tracks, album, fingerprint) finds `record` too (see KeyChunk.retagged). */
export function findableThrough(prior: Tags, record: Tags): boolean {
  return (
    (prior.trackIds ?? []).every((trackId) => record.trackIds?.includes(trackId)) &&
    (prior.albumKey === undefined || prior.albumKey === record.albumKey) &&
    (prior.fingerprint === undefined || prior.fingerprint === record.fingerprint)
  );
}

/** The entry without what an import added to its record. */
export function plainOf({ batch: _batch, prior: _prior, priorAfter: _after, ...entry }: EntryRecord): PlainRecord {
  return entry;
}

