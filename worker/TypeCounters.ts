import type { TypeStats } from '../src/Cache';
import type { TypeName } from '../src/contentType';
import type { Counts, Removed } from './Store';

/** What stats() reports of a type besides what its store holds. */
export type Counters = Omit<TypeStats, 'entries' | 'bytes' | 'maxBytes' | 'storage'>;

/**
 * The engine's counts per type (hits, misses, and removals by cause) for stats(): kept apart from the
 * stores, since they count what the calls saw whichever store answered, and outlive IndexedDB once lost.
 */
export class TypeCounters {
  /** Made on first use (a change from another tab may name a custom type this tab does not have). */
  readonly #byType = new Map<TypeName, Counters>();

  of(type: TypeName): Counters {
    let counters = this.#byType.get(type);
    if (!counters) this.#byType.set(type, (counters = { hits: 0, misses: 0, evictions: 0, expirations: 0, invalidations: 0, corrupt: 0 }));
    return counters;
  }

  /** What a store removed to keep within its budget or its TTLs. */
  removed(type: TypeName, removed: Removed | undefined): void {
    const counters = this.of(type);
    counters.expirations += removed?.expired ?? 0;
    counters.evictions += removed?.evicted ?? 0;
  }

  invalidated(counts: Counts): void {
    for (const [type, count] of Object.entries(counts) as [TypeName, number][]) this.of(type).invalidations += count;
  }
}
