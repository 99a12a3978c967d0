import { roomOf, type ToldChange } from './protocol';

/** How many ids of changes heard are kept at least, however old. */
const HEARD_IDS = 1000;

/**
 * How long an id heard is kept at least, however many come after it: a retry tells its change again once
 * the next worker has started and opened (its script loads within a minute, or it counts as dead), which
 * a bulk of other changes may fill with thousands more.
 */
const HEARD_FOR_MS = 120_000;

/**
 * The ids of the changes a page heard (see ToldChange), so that it hears each once, whichever worker
 * tells it: those heard in the last two minutes or among the last HEARD_IDS, and always those of its own
 * changes not settled yet (a retry of one may be slower still: a worker that takes a minute to start, then dies).
 */
export class HeardChanges {
  /** Each id with when it was heard, oldest first. */
  readonly #ids = new Map<string, number>();
  readonly #unsettled = new Set<string>();

  /** Those of `changes` not heard before, now heard. */
  fresh(changes: ToldChange[]): ToldChange[] {
    const ids = this.#ids;
    const now = performance.now();
    // One batch may tell several of one call.
    const fresh = changes.filter(({ id }) => !id || !ids.has(id));
    for (const { id } of fresh) if (id) ids.set(id, now);
    for (const [id, at] of ids) {
      if (ids.size <= HEARD_IDS || now - at < HEARD_FOR_MS) break;
      if (!this.#unsettled.has(id)) ids.delete(id);
    }
    return fresh;
  }

  /**
   * `change` is this page's, told under `id` (and the room a write made under roomOf(id)) until it settles —
   * and heard anew then: its news travels apart from its answer, and a retry's may come after it.
   */
  mine<T>(id: string, change: Promise<T>): Promise<T> {
    // What its write's worker told of the room it made too.
    const ids = [id, roomOf(id)];
    for (const one of ids) this.#unsettled.add(one);
    const settled = () => {
      const now = performance.now();
      for (const one of ids) {
        this.#unsettled.delete(one);
        if (this.#ids.delete(one)) this.#ids.set(one, now);
      }
    };
    change.then(settled, settled);
    return change;
  }
}
