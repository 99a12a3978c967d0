/**
 * Web Locks as this context lets the worker side use them. A document no longer fully active (a
 * detached iframe) has `navigator.locks`, yet every request rejects (InvalidStateError), as in an
 * opaque origin (SecurityError) that src/locksHere.ts could not tell: a request that fails before its
 * callback ran was refused (as src/FetchLocks.ts tells it), and from then on this works as where there
 * are none, rather than let a raw DOMException out of a call.
 */
export class WebLocks {
  #locks: LockManager | undefined;

  constructor(locks: LockManager | undefined) {
    this.#locks = locks;
  }

  /** The callback's answer once granted; null, the callback never run, where there are none (or the request was refused). */
  async request<T>(name: string, options: LockOptions, callback: (lock: Lock | null) => T | PromiseLike<T>): Promise<{ value: T } | null> {
    const locks = this.#locks;
    if (!locks) return null;
    let granted = false;
    try {
      return { value: await locks.request(name, options, (lock) => ((granted = true), callback(lock))) };
    } catch (error) {
      if (granted) throw error;
      this.#locks = undefined;
      return null;
    }
  }

  /** The names of the locks held now; undefined where there are none (or the query was refused). */
  async held(): Promise<Set<string | undefined> | undefined> {
    const locks = this.#locks;
    if (!locks) return undefined;
    try {
      return new Set((await locks.query()).held?.map((lock) => lock.name));
    } catch {
      this.#locks = undefined;
      return undefined;
    }
  }
}
