import type { CacheClient } from './CacheClient';
import { goneEpochOf, type ClientCallbacks, type LogPlace, type WorkerOpenOptions } from './protocol';
import { randomId } from './randomId';
import { trimOldest } from './trimOldest';
import { epochNow } from './time';

/**
 * This page as the other tabs know it, whichever of its workers serves it (a change a dead worker made
 * is the page's own for the next one), and how far in the event log its workers have applied the
 * other tabs' changes: a worker replacing a dead one goes on from there (see TabSync.start).
 */
export class PageTab {
  readonly id: string;
  /**
   * When the page began listening for its workers (epoch ms, the clock tabs log changes by): what another
   * tab logged since is its business, even if the page missed the message (see TabSync.start).
   */
  readonly listenedAt: number;
  #since: LogPlace | null = null;
  /** Whether a worker told the listeners a change with no place in the log (see heard). */
  #heardUnlogged = false;
  /**
   * The epochs of the databases whose loss a worker told the page (see goneId): the page forgets the ids
   * it heard once they are old (see HeardChanges), and the next worker, which knows the database by `since`, would tell it again.
   */
  readonly #gone = new Set<string>();
  /**
   * The ids of other tabs' events a worker told with no place in the log (a tab without IndexedDB made them, and
   * no tab had logged them: the worker's relay failed, or it has no log): a next worker that logs one, sent again,
   * does not know the page heard it.
   */
  readonly #unlogged = new Set<string>();

  constructor(id: string = randomId(), now: () => number = epochNow) {
    this.id = id;
    this.listenedAt = now();
  }

  /**
   * A worker applied the log up to `place` (it started there, or applied that change): only ever forward.
   * Null: a worker tells the page's listeners a change with no place in the log (it has no log): the next
   * worker cannot tell what it told, and must not replay what was logged since `listenedAt`.
   */
  heard(place: LogPlace | null): void {
    if (!place) {
      this.#heardUnlogged = true;
      return;
    }
    const since = this.#since;
    if (!since || since.epoch !== place.epoch || since.seq < place.seq) this.#since = { ...place };
  }

  /**
   * What this page's workers call: the page's client, built after its engine (so none until then),
   * is told the changes, and this tab where they are in the log.
   */
  callbacks(client: () => Pick<CacheClient, 'remoteEvent' | 'progress' | 'changed' | 'forgot'> | undefined, log: ClientCallbacks['log']): ClientCallbacks {
    return {
      remoteEvent: (event, invalidated, logged, id) => {
        if (logged) this.heard(logged);
        if (id && this.#unlogged.has(id)) return;
        if (id && !logged) {
          trimOldest(this.#unlogged.add(id), 1000);
        }
        client()?.remoteEvent(event, invalidated);
      },
      listening: (from) => this.heard(from),
      progress: (batch, done, total) => client()?.progress(batch, done, total),
      log,
      changed: (changes) => {
        for (const { id } of changes) {
          const epoch = goneEpochOf(id);
          if (epoch !== undefined) this.#gone.add(epoch);
        }
        client()?.changed(changes);
      },
      forgot: () => client()?.forgot(),
    };
  }

  /** What the next worker is told. */
  get open(): WorkerOpenOptions['tab'] {
    return { id: this.id, since: this.#since, listenedAt: this.#heardUnlogged ? undefined : this.listenedAt, gone: [...this.#gone] };
  }
}
