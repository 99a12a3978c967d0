import { isCacheError } from './CacheError';
import type { TypeName } from './contentType';
import type { Found } from './protocol';

/** Keys per batch at most: past it, a new batch starts (the engine reads them in one transaction each). */
const MAX_BATCH = 1000;

type Reader = (keys: string[], fingerprints: (string | undefined)[] | undefined) => Promise<(Found | undefined)[]>;

/**
 * Runs `reads` — a batch's read, and its gets' reads again alone if it failed — with a reader of the type: one span
 * for all of them, so that the reads again know the writes made since the batch was (see CacheClient).
 */
type Read = (type: TypeName, keys: string[], fingerprints: (string | undefined)[] | undefined, reads: (read: Reader) => Promise<unknown>) => unknown;

interface Batch {
  keys: string[];
  fingerprints: (string | undefined)[];
  settle: { resolve: (found: Found | undefined) => void; reject: (error: unknown) => void }[];
}

/**
 * Gets of one type issued in the same task go to the engine as one getMany: one round trip to the
 * worker and one transaction, as a list rendering its rows would ask. Each caller gets its own key's
 * answer; a failure of the read reaches each of them — but a storage failure, which may be one key's: each reads again alone.
 */
export class ReadBatcher {
  readonly #read: Read;
  readonly #open = new Map<TypeName, Batch>();

  constructor(read: Read) {
    this.#read = read;
  }

  read(type: TypeName, key: string, fingerprint: string | undefined): Promise<Found | undefined> {
    let batch = this.#open.get(type);
    if (!batch) {
      const started: Batch = (batch = { keys: [], fingerprints: [], settle: [] });
      this.#open.set(type, started);
      // After the current task's synchronous code: every get it issues joins.
      queueMicrotask(() => this.#flush(type, started));
    }
    const joined = batch;
    const answer = new Promise<Found | undefined>((resolve, reject) => joined.settle.push({ resolve, reject }));
    joined.keys.push(key);
    joined.fingerprints.push(fingerprint);
    if (joined.keys.length >= MAX_BATCH) this.#flush(type, joined);
    return answer;
  }

  /**
   * Sends the gets of `type` gathered so far if one checks a fingerprint (a mismatch removes the entry): a write
   * made now goes after them. Gets without one stay gathered: sent after it, they only see it.
   */
  flush(type: TypeName): void {
    const batch = this.#open.get(type);
    if (batch?.fingerprints.some((fingerprint) => fingerprint !== undefined)) this.#flush(type, batch);
  }

  #flush(type: TypeName, batch: Batch): void {
    if (this.#open.get(type) === batch) this.#open.delete(type);
    // A full batch is flushed at once, and then again (with nothing left) at its microtask.
    const settle = batch.settle.splice(0);
    if (!settle.length) return;
    const { keys } = batch;
    const fingerprints = batch.fingerprints.some((fingerprint) => fingerprint !== undefined) ? batch.fingerprints : undefined;
    batch.keys = [];
    batch.fingerprints = [];
    this.#read(type, keys, fingerprints, (read) =>
      read(keys, fingerprints).then(
        (found) => settle.forEach(({ resolve }, index) => resolve(found[index])),
        (error: unknown) =>
          Promise.all(
            settle.map(({ resolve, reject }, index) =>
              // A request that fails aborts its transaction: one record that cannot be read (its file lost) fails only its own gets.
              settle.length > 1 && isCacheError(error, 'storage_unavailable')
                ? read([keys[index]!], fingerprints && [fingerprints[index]]).then(([found]) => resolve(found), reject)
                : reject(error),
            ),
          ),
      ),
    );
  }
}
