import type { TypeName } from './contentType';
import { isPromiseLike } from './isPromiseLike';

/**
 * The page's calls of each type held back, so that its engine gets them in the order made: one whose
 * values are still being checked (an async schema, a setMany's validation sliced over several tasks), and
 * those of its type made after it, which wait for it. The engine keeps the order they arrive in (see
 * worker/ChangesInFlight.ts). While no call of a type is held, its calls are sent at once, as they are made.
 */
export class HeldCalls {
  readonly #byType = new Map<TypeName, Set<Promise<void>>>();

  /** Settles once every call of `types` held now has been sent (undefined when none is). */
  before(types: readonly TypeName[]): Promise<unknown> | undefined {
    const held = types.flatMap((type) => [...(this.#byType.get(type) ?? [])]);
    return held.length ? Promise.all(held) : undefined;
  }

  /**
   * A call of `types` made now, given what it sends or a promise of it: sent at once when that is ready and no
   * call of them is held; else once it is and those held now have been sent, holding the calls of `types` made
   * meanwhile until it is sent (or rejected: a value refused sends nothing).
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
        sent();
        throw error;
      },
    );
  }

  /** Holds the calls of `types` made from now on until the function returned is called. */
  #hold(types: readonly TypeName[]): () => void {
    let sent!: () => void;
    const call = new Promise<void>((resolve) => (sent = resolve));
    const sets = types.map((type) => {
      let held = this.#byType.get(type);
      if (!held) this.#byType.set(type, (held = new Set()));
      held.add(call);
      return [type, held] as const;
    });
    return () => {
      sent();
      for (const [type, held] of sets) {
        held.delete(call);
        if (!held.size && this.#byType.get(type) === held) this.#byType.delete(type);
      }
    };
  }
}
