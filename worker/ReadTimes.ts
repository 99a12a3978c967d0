import type { TypeName } from '../src/contentType';
import { recordReads } from './recordReads';
import { usedAhead } from './isExpired';

/**
 * Reads remembered, not written: a read stays a read-only transaction, and its time is written to the
 * entry (for least-recently-used eviction) later, in bulk.
 */
export class ReadTimes {
  readonly #times = new Map<TypeName, Map<string, number>>();
  #pending = 0;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** How many entries have a read time not yet written. */
  get pending(): number {
    return this.#pending;
  }

  get types(): TypeName[] {
    return [...this.#times.keys()];
  }

  touch(type: TypeName, key: string, at: number): void {
    let times = this.#times.get(type);
    if (!times) this.#times.set(type, (times = new Map()));
    if (!times.has(key)) this.#pending++;
    times.set(key, at);
  }

  /** Whether the entry was read since its read time was last written. */
  has(type: TypeName, key: string): boolean {
    return this.#times.get(type)?.has(key) ?? false;
  }

  /** Up to 64 of the type's entries read since their read times were last written, not in `skip`: the least recently read first. */
  oldest(type: TypeName, skip: ReadonlySet<string>): { key: string; pass: 'evicted' }[] {
    return [...(this.#times.get(type) ?? [])]
      .filter(([key]) => !skip.has(key))
      .sort((a, b) => a[1] - b[1])
      .slice(0, 64)
      .map(([key]) => ({ key, pass: 'evicted' }));
  }

  /** Forgets the type's read times (its entries are gone), returning them. */
  drop(type: TypeName): Map<string, number> | undefined {
    const times = this.#times.get(type);
    this.#times.delete(type);
    this.#pending -= times?.size ?? 0;
    return times;
  }

  /**
   * Forgets the read times of the type's `keys` that `tx` writes: the write is their later use (written after it, a read's
   * time would win over the write's once the clock was set back in between). Kept if `tx` aborts; returns them (see keep).
   */
  forget(tx: IDBTransaction, type: TypeName, keys: readonly string[]): Map<string, number> {
    const times = this.#times.get(type);
    const taken = new Map<string, number>();
    for (const key of keys) {
      const at = times?.get(key);
      if (at === undefined) continue;
      times!.delete(key);
      this.#pending--;
      taken.set(key, at);
    }
    if (times && !times.size) this.#times.delete(type);
    this.#keptIfAborted(tx, type, taken);
    return taken;
  }

  /** Writes the type's read times into its entries, inside `tx` (read-write on the type's store); kept if `tx` aborts. */
  async writeInto(tx: IDBTransaction, type: TypeName): Promise<void> {
    const times = this.drop(type);
    if (!times?.size) return;
    this.#keptIfAborted(tx, type, times);
    // A read made while the clock ran ahead, written once it was set right, was made a moment ago (times wait about a
    // second): not at a time of unknown use, which would undo a write or another tab's read made since.
    const now = this.#now();
    await recordReads(tx, type, new Map([...times].map(([key, at]) => [key, usedAhead({ lastAccess: at }, now) ? now : at])));
  }

  /** Remembered again if `tx` does not commit (a full disk at its commit): not lost. */
  #keptIfAborted(tx: IDBTransaction, type: TypeName, times: ReadonlyMap<string, number>): void {
    if (times.size) tx.addEventListener('abort', () => this.keep(type, times));
  }

  /** Remembers again read times forgotten for a write that did not happen after all (an import rolled back), where not read since. */
  keep(type: TypeName, times: ReadonlyMap<string, number>): void {
    for (const [key, at] of times) {
      const since = this.#times.get(type)?.get(key);
      if (since === undefined || at > since) this.touch(type, key, at);
    }
  }
}
