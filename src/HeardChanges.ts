import type { ToldChange } from './protocol';

/**
 * How many ids of changes heard are kept: a retry tells its change again soon after the dead worker did
 * (seconds: the next worker's start), and every write of this tab and the others carries one.
 */
const HEARD_IDS = 1000;

/**
 * The ids of the changes a page heard (see ToldChange), so that it hears each once: the last HEARD_IDS,
 * and always those of its own changes not settled yet, which the retry on a next worker may tell again
 * however many other tabs' changes came meanwhile (a bulk of them, kept for that worker as it started).
 */
export class HeardChanges {
  readonly #ids = new Set<string>();
  readonly #unsettled = new Set<string>();

  /** Those of `changes` not heard before, now heard. */
  fresh(changes: ToldChange[]): ToldChange[] {
    const ids = this.#ids;
    // One batch may tell several of one call.
    const fresh = changes.filter(({ id }) => !id || !ids.has(id));
    for (const { id } of fresh) if (id) ids.add(id);
    for (const id of ids) {
      if (ids.size <= HEARD_IDS) break;
      if (!this.#unsettled.has(id)) ids.delete(id);
    }
    return fresh;
  }

  /**
   * `change` is this page's, told under `id` until it settles — and as the newest heard then: its news
   * travels apart from its answer, and a retry's may come after it.
   */
  mine<T>(id: string, change: Promise<T>): Promise<T> {
    this.#unsettled.add(id);
    const settled = () => {
      this.#unsettled.delete(id);
      if (this.#ids.delete(id)) this.#ids.add(id);
    };
    change.then(settled, settled);
    return change;
  }
}
