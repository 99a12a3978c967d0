import { CacheError } from '../src/CacheError';
import type { EntryInput } from '../src/protocol';

/**
 * The entries of setMany calls too big for one message, sent in chunks (stage) and written at once
 * (commit). Kept by this engine only: a chunk staged in a worker that died since is not here, which
 * take() tells by the count, so that a batch is never written in part.
 */
export class StagedBatches {
  readonly #byBatch = new Map<string, EntryInput[]>();

  stage(batch: string, entries: EntryInput[]): void {
    const staged = this.#byBatch.get(batch);
    if (staged) staged.push(...entries);
    else this.#byBatch.set(batch, entries);
  }

  /** The batch's entries, forgotten here; throws `worker_failed` unless there are `count` of them. */
  take(batch: string, count: number): EntryInput[] {
    const entries = this.#byBatch.get(batch) ?? [];
    this.#byBatch.delete(batch);
    // The batch may have been staged partly in a worker that died since: then this one lacks entries.
    if (entries.length !== count) {
      throw new CacheError(
        'worker_failed',
        `The cache worker stopped while this setMany was being sent (${entries.length} of its ${count} entries reached the new one); nothing was written`,
      );
    }
    return entries;
  }

  discard(batch: string): void {
    this.#byBatch.delete(batch);
  }

  clear(): void {
    this.#byBatch.clear();
  }
}
