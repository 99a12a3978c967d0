import { cacheInternals } from '../cacheInternals';
import { unref } from '../unref';

/** A save that coalesces, and what its persister does with a held one before reading or removing. */
export interface ThrottledSave<A> {
  (value: A): Promise<void>;
  /** Makes the held save now (before a read, which then sees it). */
  flush(): void;
  /** Forgets the held save: its callers resolve once `instead` (a removal made after it) settles, whether it fails or not. */
  drop(instead: Promise<void>): void;
  /** Takes the held save out (undefined: none), nothing making it meanwhile: the function returned makes it (true) or drops it. */
  aside(): ((keep: boolean) => void) | undefined;
}

/**
 * Saves the way TanStack's own persisters throttle them (`throttleTime`): the first at once, then, for
 * `ms` after each save made, the last value given is held and saved when the time is up. Each call
 * resolves once its value, or a later one that replaced it, is saved or failed (`save` reports its
 * failures: it never rejects, as TanStack catches nothing). The cache's `close()` makes a held save
 * before it refuses calls, so it is stored, not lost (and leaves no timer); where the cache cannot say
 * it closes (one not made by `createCache`), once it is closed, or with `ms` 0, every save is made at once. While it holds a
 * save it is in `holders`, where the others saving the same thing find it.
 */
export function throttledSave<A>(cache: object, ms: number, save: (value: A) => Promise<void>, holders?: Set<ThrottledSave<A>>): ThrottledSave<A> {
  const internals = cacheInternals.get(cache);
  const closing = internals?.closing;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let held: { value: A; settle: (saved: Promise<void>) => void; saved: Promise<void> } | undefined;
  const take = () => {
    const holding = held;
    held = undefined;
    hidden(false);
    holders?.delete(throttledSaved);
    return holding;
  };
  const flush = () => {
    const holding = take();
    holding?.settle(save(holding.value));
  };
  // A page being left (a reload, a tab switched away, a phone locked) may never run the timer: what is
  // held is saved when it is hidden (browsers say so before unload too), as a page saves its state then.
  // A tab already hidden hears no visibilitychange again: its being closed or navigated away is said by
  // pagehide, its being frozen (then perhaps discarded, its timers never run) by freeze.
  // At unload this is best effort: the worker may be stopped before the write commits.
  const onHidden = () => void (document.visibilityState === 'hidden' && flush());
  const hidden = (listen: boolean) => {
    const method = listen ? 'addEventListener' : 'removeEventListener';
    if (typeof document !== 'undefined') {
      document[method]('visibilitychange', onHidden);
      document[method]('freeze', flush);
    }
    if (typeof window !== 'undefined') window[method]('pagehide', flush);
  };
  // The cache closes: the held save is made now, which close() then settles.
  const onClose = () => {
    clearTimeout(timer);
    timer = undefined;
    closing?.delete(onClose);
    flush();
  };
  const saveNow = (value: A): Promise<void> => {
    timer = setTimeout(() => {
      timer = undefined;
      closing?.delete(onClose);
      const holding = take();
      holding?.settle(saveNow(holding.value));
    }, ms);
    unref(timer);
    closing?.add(onClose);
    return save(value);
  };
  const throttled = (value: A): Promise<void> => {
    if (!closing || ms <= 0 || internals.closed()) return save(value);
    if (timer === undefined) return saveNow(value);
    if (held) held.value = value;
    else {
      let settle!: (saved: Promise<void>) => void;
      const saved = new Promise<void>((resolve) => (settle = resolve));
      held = { value, settle, saved };
      hidden(true);
      holders?.add(throttledSaved);
    }
    return held.saved;
  };
  const aside = () => {
    const holding = take();
    return holding && ((keep: boolean) => holding.settle(keep ? save(holding.value) : Promise.resolve()));
  };
  const throttledSaved: ThrottledSave<A> = Object.assign(throttled, { flush, drop: (instead: Promise<void>) => take()?.settle(instead.catch(() => {})), aside });
  return throttledSaved;
}
