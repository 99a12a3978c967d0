interface Request {
  readonly tab: string;
  readonly name: string;
  readonly mode: LockMode;
  readonly callback: LockGrantedCallback<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  /** Detaches the abort listener, once the request leaves the queue. */
  detach: () => void;
}

interface Grant {
  readonly request: Request;
  readonly lock: Lock;
  released: boolean;
}

/**
 * Web Locks shared by simulated tabs, after the spec's lock request queue: FIFO per name, a request is
 * granted only when it is first in its queue and compatible with the held locks, callbacks run in a task
 * of their own (setImmediate), and a lock is held until the callback's promise settles.
 */
export class SimLocks {
  readonly #queues = new Map<string, Request[]>();
  readonly #held = new Map<string, Grant[]>();
  readonly #dead = new Set<string>();

  /** `tab`'s navigator.locks. */
  manager(tab: string): LockManager {
    const request = (name: string, optionsOrCallback: LockOptions | LockGrantedCallback<unknown>, maybeCallback?: LockGrantedCallback<unknown>) =>
      typeof optionsOrCallback === 'function'
        ? this.#request(tab, name, {}, optionsOrCallback)
        : this.#request(tab, name, optionsOrCallback, maybeCallback);
    return { request, query: () => this.#query() } as unknown as LockManager;
  }

  /**
   * The tab died: its held locks are released (its callbacks' promises are abandoned) and its queued
   * requests dropped, as for a terminated worker. Its requests, earlier or later, never settle.
   */
  kill(tab: string): void {
    this.#dead.add(tab);
    const names = new Set([...this.#queues.keys(), ...this.#held.keys()]);
    for (const name of names) {
      const queue = this.#queues.get(name) ?? [];
      for (const request of queue) if (request.tab === tab) request.detach();
      this.#setQueue(name, queue.filter((request) => request.tab !== tab));
      const held = this.#held.get(name) ?? [];
      for (const grant of held) if (grant.request.tab === tab) grant.released = true;
      this.#setHeld(name, held.filter((grant) => !grant.released));
    }
    for (const name of names) this.#process(name);
  }

  #request(tab: string, name: string, options: LockOptions, callback: LockGrantedCallback<unknown> | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Thrown here, these reject the returned promise, as the spec's checks do.
      if (typeof callback !== 'function') throw new TypeError('LockManager.request: callback is not a function');
      const { mode = 'exclusive', ifAvailable = false, steal = false, signal } = options;
      if (mode !== 'exclusive' && mode !== 'shared') throw new TypeError(`LockManager.request: bad mode ${String(mode)}`);
      if (name.startsWith('-')) throw new DOMException('Lock names starting with "-" are reserved', 'NotSupportedError');
      if (steal && (ifAvailable || mode === 'shared')) throw new DOMException('steal needs an exclusive lock without ifAvailable', 'NotSupportedError');
      if (signal && (steal || ifAvailable)) throw new DOMException('signal cannot be used with steal or ifAvailable', 'NotSupportedError');
      if (signal?.aborted) throw signal.reason;
      if (this.#dead.has(tab)) return;

      const request: Request = { tab, name, mode, callback, resolve, reject, detach: () => {} };
      const queue = this.#queues.get(name) ?? [];
      if (steal) {
        for (const grant of this.#held.get(name) ?? []) {
          grant.released = true;
          grant.request.reject(new DOMException('The lock was stolen', 'AbortError'));
        }
        this.#held.delete(name);
        this.#setQueue(name, [request, ...queue]);
      } else if (ifAvailable && !this.#grantable(request, queue)) {
        setImmediate(() => this.#runUngranted(request));
        return;
      } else {
        this.#setQueue(name, [...queue, request]);
        if (signal) {
          const onAbort = () => {
            const current = this.#queues.get(name) ?? [];
            if (!current.includes(request)) return; // granted or dropped already
            this.#setQueue(name, current.filter((other) => other !== request));
            reject(signal.reason);
            this.#process(name); // the aborted one may have blocked compatible requests behind it
          };
          signal.addEventListener('abort', onAbort, { once: true });
          request.detach = () => signal.removeEventListener('abort', onAbort);
        }
      }
      this.#process(name);
    });
  }

  /** The spec's "grantable": first in its queue (or the queue empty) and compatible with the held locks. */
  #grantable(request: Request, queue: readonly Request[]): boolean {
    if (queue.length > 0 && queue[0] !== request) return false;
    const held = this.#held.get(request.name) ?? [];
    return request.mode === 'exclusive' ? held.length === 0 : held.every((grant) => grant.lock.mode === 'shared');
  }

  #process(name: string): void {
    for (let queue = this.#queues.get(name) ?? []; queue[0] && this.#grantable(queue[0], queue); queue = this.#queues.get(name) ?? []) {
      const [request, ...rest] = queue as [Request, ...Request[]];
      this.#setQueue(name, rest);
      request.detach();
      const grant: Grant = { request, lock: Object.freeze({ name, mode: request.mode }), released: false };
      this.#setHeld(name, [...(this.#held.get(name) ?? []), grant]);
      setImmediate(() => this.#run(grant));
    }
  }

  #run(grant: Grant): void {
    const { request } = grant;
    if (this.#dead.has(request.tab)) return;
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(request.callback(grant.lock));
    } catch (error) {
      result = Promise.reject(error);
    }
    // A dead tab's callbacks are abandoned: kill already released the lock, and nobody awaits the result.
    result.then(
      (value) => {
        if (this.#dead.has(request.tab)) return;
        this.#release(grant);
        request.resolve(value);
      },
      (error: unknown) => {
        if (this.#dead.has(request.tab)) return;
        this.#release(grant);
        request.reject(error);
      },
    );
  }

  /** ifAvailable and not grantable at once: the callback gets null and no lock. */
  #runUngranted(request: Request): void {
    if (this.#dead.has(request.tab)) return;
    try {
      request.resolve(request.callback(null));
    } catch (error) {
      request.reject(error);
    }
  }

  /** Idempotent: a stolen or killed grant is released already. */
  #release(grant: Grant): void {
    if (grant.released) return;
    grant.released = true;
    const { name } = grant.lock;
    this.#setHeld(name, (this.#held.get(name) ?? []).filter((other) => other !== grant));
    this.#process(name);
  }

  #query(): Promise<LockManagerSnapshot> {
    const info = (tab: string, name: string, mode: LockMode): LockInfo => ({ name, mode, clientId: tab });
    const held = [...this.#held.values()].flat().map(({ request }) => info(request.tab, request.name, request.mode));
    const pending = [...this.#queues.values()].flat().map((request) => info(request.tab, request.name, request.mode));
    return Promise.resolve({ held, pending });
  }

  // Empty entries are deleted so that a long simulation over many lock names stays small.
  #setQueue(name: string, queue: Request[]): void {
    if (queue.length > 0) this.#queues.set(name, queue);
    else this.#queues.delete(name);
  }

  #setHeld(name: string, held: Grant[]): void {
    if (held.length > 0) this.#held.set(name, held);
    else this.#held.delete(name);
  }
}
