import { ENGINE_METHODS, type EngineApi } from './protocol';

/**
 * The engine calls a cache has made and that have not settled yet. `close()` waits for them, so that a
 * call made before it settles as it would have (a write in flight completes, and resolves) instead of
 * failing half-way because the engine closed under it.
 */
export class PendingCalls {
  readonly #pending = new Set<Promise<unknown>>();

  /** Counts `call` until it settles; returns it. */
  track<T>(call: Promise<T>): Promise<T> {
    this.#pending.add(call);
    const settled = () => this.#pending.delete(call);
    call.then(settled, settled);
    return call;
  }

  /** The engine, with every call counted. */
  engine(engine: EngineApi): EngineApi {
    const call = (method: keyof EngineApi) => (...args: unknown[]) => this.track((engine[method] as (...args: unknown[]) => Promise<unknown>).apply(engine, args));
    return Object.fromEntries(ENGINE_METHODS.map((method) => [method, call(method)])) as unknown as EngineApi;
  }

  /** Resolves once no call is pending (calls made while it waits included). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}
