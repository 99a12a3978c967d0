import { cacheInternals } from '../cacheInternals';
import { unref } from '../unref';

/** A save that coalesces, and what its persister does with a held one before reading or removing. */
export interface ThrottledSave<A> {
  (value: A): Promise<void>;
  /** Makes the held save now (before a read, which then sees it). */
  flush(): void;
  /** Forgets the held save: `instead` (a removal made after it) settles its callers. */
  drop(instead: Promise<void>): void;
}

/**
 * Saves the way TanStack's own persisters throttle them (`throttleTime`): the first at once, then, for
 * `ms` after each save made, the last value given is held and saved when the time is up. Each call
 * resolves once its value, or a later one that replaced it, is saved. A held save is made by the cache's
 * `close()` before it refuses calls, so it is stored, not lost; where the cache cannot say it closes (one
 * not made by `createCache`), or with `ms` 0, every save is made at once.
 */
export function throttledSave<A>(cache: object, ms: number, save: (value: A) => Promise<void>): ThrottledSave<A> {
  const closing = cacheInternals.get(cache)?.closing;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let held: { value: A; settle: (saved: Promise<void>) => void; saved: Promise<void> } | undefined;
  const release = () => {
    const holding = held;
    held = undefined;
    closing?.delete(flush);
    return holding;
  };
  const saveNow = (value: A): Promise<void> => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, ms);
    unref(timer);
    return save(value);
  };
  function flush(): void {
    const holding = release();
    holding?.settle(saveNow(holding.value));
  }
  const throttled = (value: A): Promise<void> => {
    if (!closing || ms <= 0) return save(value);
    if (timer === undefined) return saveNow(value);
    if (held) held.value = value;
    else {
      let settle!: (saved: Promise<void>) => void;
      const saved = new Promise<void>((resolve) => (settle = resolve));
      held = { value, settle, saved };
      closing.add(flush);
    }
    return held.saved;
  };
  return Object.assign(throttled, { flush, drop: (instead: Promise<void>) => release()?.settle(instead) });
}
