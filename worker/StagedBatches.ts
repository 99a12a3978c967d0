import { CacheError } from '../src/CacheError';
import type { EntryInput, LogPlace } from '../src/protocol';

/** A staged batch: its entries so far, and where the event log stood as its first chunk arrived. */
interface Staged {
  entries: EntryInput[];
  place: Promise<LogPlace | null>;
}

/**
 * The entries of setMany calls too big for one message, sent in chunks (stage) and written at once
 * (commit). Kept by this engine only: a chunk staged in a worker that died since is not here, which
 * take() tells by the count, so that a batch is never written in part.
 */
export class StagedBatches {
  readonly #byBatch = new Map<string, Staged>();

  /**
   * `place`: read as the batch's first chunk arrives (the page sends one, empty, before any call made after the
   * setMany). Only that chunk begins a batch: the others of one begun in a worker that died since are left out, so
   * that take() refuses it (its place, after changes made after the setMany, would spare its entries).
   */
  stage(batch: string, entries: EntryInput[], place: () => Promise<LogPlace | null>): void {
    const staged = this.#byBatch.get(batch);
    if (staged) staged.entries.push(...entries);
    else if (!entries.length) this.#byBatch.set(batch, { entries, place: place() });
  }

  /**
   * The batch's entries and where the log stood as it began, forgotten here; throws `worker_failed` unless
   * there are `count` entries.
   */
  take(batch: string, count: number): Staged {
    const staged = this.#byBatch.get(batch) ?? { entries: [], place: Promise.resolve(null) };
    this.#byBatch.delete(batch);
    // The batch may have been staged partly in a worker that died since: then this one lacks entries.
    if (staged.entries.length !== count) {
      throw new CacheError(
        'worker_failed',
        `The cache worker stopped while this setMany was being sent (${staged.entries.length} of its ${count} entries reached the new one); nothing was written`,
      );
    }
    return staged;
  }

  discard(batch: string): void {
    this.#byBatch.delete(batch);
  }

  clear(): void {
    this.#byBatch.clear();
  }
}
