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
