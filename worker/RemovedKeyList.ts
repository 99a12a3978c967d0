import type { TypeName } from '../src/contentType';
import { MAX_CHANGE_KEYS } from '../src/TabChannel';
import type { Counts, Invalidated, RemovedKeys } from './Store';

/** Collects what an invalidation removes, as `Invalidated`: counts, and the keys of each type while few. */
export class RemovedKeyList {
  readonly #counts: Counts = {};
  readonly #keys = new Map<TypeName, Set<string> | null>();

  /** A target of the type runs: the type is counted, zero if nothing is removed. */
  target(type: TypeName): void {
    this.#counts[type] ??= 0;
  }

  add(type: TypeName, key: string): void {
    this.#counts[type] = (this.#counts[type] ?? 0) + 1;
    const keys = this.#keys.has(type) ? this.#keys.get(type)! : new Set<string>();
    keys?.add(key);
    this.#keys.set(type, keys && keys.size <= MAX_CHANGE_KEYS ? keys : null);
  }

  /** `count` entries of the type went, not named one by one (a whole type): "any key". */
  any(type: TypeName, count = 0): void {
    this.#counts[type] = (this.#counts[type] ?? 0) + count;
    this.#keys.set(type, null);
  }

  invalidated(): Invalidated {
    const keys: RemovedKeys = {};
    for (const [type, listed] of this.#keys) if (listed?.size) keys[type] = [...listed].sort();
    return { counts: { ...this.#counts }, keys };
  }
}

/**
 * What two tiers removed, as one: where `over` (the memory tier) counted a type, its count stands and so
 * do its keys — or "any key" where it named none, whatever `under` (IndexedDB, in this or another tab) named.
 */
export function overlaid(under: Invalidated, over: Invalidated): Invalidated {
  const keys: RemovedKeys = { ...under.keys };
  for (const type of Object.keys(over.counts) as TypeName[]) {
    const listed = over.keys[type];
    if (listed) keys[type] = listed;
    else delete keys[type];
  }
  return { counts: { ...under.counts, ...over.counts }, keys };
}

/** An invalidation that removed nothing (no IndexedDB, no target of the tier). */
export function nothingRemoved(): Invalidated {
  return { counts: {}, keys: {} };
}
