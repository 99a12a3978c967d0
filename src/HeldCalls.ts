import type { TypeName } from './contentType';
import { isPromiseLike } from './isPromiseLike';

/**
 * The page's calls of each type held back, so that its engine gets them in the order made: one whose
 * values are still being checked (an async schema, a setMany's validation sliced over several tasks), and
 * those of its type made after it, which wait for it. The engine keeps the order they arrive in (see
 * worker/ChangesInFlight.ts). While no call of a type is held, its calls are sent at once, as they are made.
 */
export class HeldCalls {
  /**
   * The last call held of each type: it is let go once those held before it are (a chain), so that a call
   * waits for one per type, not for every call held (thousands of sets made in one go against an async schema).
   */
  readonly #last = new Map<TypeName, Promise<void>>();

  /** Settles once every call of `types` held now has been sent (undefined when none is). */
  before(types: readonly TypeName[]): Promise<unknown> | undefined {
    const held = [...new Set(types.flatMap((type) => this.#last.get(type) ?? []))];
    return held.length > 1 ? Promise.all(held) : held[0];
  }

  /**
   * A call of `types` made now, given what it sends or a promise of it: sent at once when that is ready and no
   * call of them is held; else once it is and those held now have been sent, holding the calls of `types` made
   * meanwhile until it is sent (or rejected: a value refused sends nothing, and lets them go once those before it are sent).
   */
  send<V, T>(types: readonly TypeName[], prepared: V | PromiseLike<V>, send: (value: V) => T): Promise<Awaited<T>> {
    const earlier = this.before(types);
    try {
      if (!earlier && !isPromiseLike(prepared)) return Promise.resolve(send(prepared));
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = this.#hold(types);
    const ready = earlier ? Promise.all([prepared, earlier]).then(([value]) => value) : Promise.resolve(prepared);
    return ready.then(
      (value) => {
        try {
          return send(value) as Awaited<T>;
        } finally {
          sent();
        }
      },
      (error: unknown) => {
        // The calls after it wait for those before it through it.
        if (earlier) void earlier.then(sent);
        else sent();
        throw error;
      },
    );
  }

  /** Holds the calls of `types` made from now on until the function returned is called. */
  #hold(types: readonly TypeName[]): () => void {
    let sent!: () => void;
    const call = new Promise<void>((resolve) => (sent = resolve));
    for (const type of types) this.#last.set(type, call);
    return () => {
      sent();
      for (const type of types) if (this.#last.get(type) === call) this.#last.delete(type);
    };
  }
}
