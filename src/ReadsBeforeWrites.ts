import type { TypeName } from './contentType';

/**
 * The page's reads with fingerprints under way, each with those of its keys the page wrote since it made
 * it. Such a read may reach the engine after a write made after it: one the page answers itself goes to
 * the worker when it meets an entry of another fingerprint, behind the writes sent meanwhile. The entry it
 * then finds may be that write's, which a fingerprint it does not match is no reason to remove — the write
 * came after the read, and resolved (see ReadThrough.written). The read answers a miss all the same.
 */
export class ReadsBeforeWrites {
  /** Each read's written keys, with its type and keys. */
  readonly #reads = new Map<Set<string>, [TypeName, readonly string[]]>();

  /** Runs a read of `keys` made now, given the set its keys are added to as they are written, until it settles. */
  during<T>(type: TypeName, keys: readonly string[], read: (written: ReadonlySet<string>) => Promise<T>): Promise<T> {
    const written = new Set<string>();
    this.#reads.set(written, [type, keys]);
    return read(written).finally(() => this.#reads.delete(written));
  }

  /** A write of `keys` sent now. */
  wrote(type: TypeName, keys: readonly string[]): void {
    if (!this.#reads.size) return;
    const now = new Set(keys);
    for (const [written, [of, read]] of this.#reads) if (of === type) for (const key of read) if (now.has(key)) written.add(key);
  }
}
