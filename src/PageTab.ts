import type { CacheClient } from './CacheClient';
import type { DirectReads } from './DirectReads';
import { goneEpochOf, type ClientCallbacks, type LogPlace, type ToldChange, type WorkerOpenOptions } from './protocol';
import { randomId } from './randomId';
import { trimOldest } from './trimOldest';
import { epochNow } from './time';

/** How many ids of the other tabs' events heard a page keeps (see PageTab's told): as many as the event log keeps at least. */
const HEARD_EVENTS = 1000;

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
   * The ids of the last HEARD_EVENTS other tabs' events a worker told the listeners: a next worker that tells one
   * again is not heard. It goes on from where the page heard the dead one stood, which may say less than it told
   * (an event told with no place in the log: a tab without IndexedDB made it, and no tab had logged it); and such an
   * event, logged by the dead one, may be logged again in the database made since site data was cleared, by a worker
   * that opened that one and heard the event's first message late (it names no database; see TabSync.test ›
   * *…logs it again in the database made since…*) and where it was logged later still (else it is not: see TabSync's loggedIn).
   */
  readonly #told = new Set<string>();
  /**
   * Names what its workers keep the persistent types in, as the last word heard from one says: a memory tier (a new name at
   * each: a worker's dies with it), or the database and its name there (see ClientCallbacks.storage). A next worker that
   * finds no such database tells its loss (see goneId): a page whose workers gave a database up, then opened it again, may lose it again.
   */
  #kept: string | null | undefined;
  /** Names the memory tier of the worker the page last heard say where it keeps things (a new name at each word): the next one tells its loss. */
  #tier: string | undefined;
  /** The databases the page read persistent entries from itself (see DirectReads): see readsFrom. */
  #reads: ReadonlySet<string> | undefined;
  /** Those it had opened when a worker first said where it keeps the types: in memory, the page reads IndexedDB no more. */
  #readBefore: string[] | undefined;

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
   * The page reads persistent types from IndexedDB itself (see DirectReads), also while its first worker opens, which was
   * sent its open before the page read anything, and so knows no database the page read (a next one does: see open). That
   * worker asks (ClientCallbacks.readFrom), and tells the loss of those it does not keep the types in.
   */
  readsFrom(direct: Pick<DirectReads, 'epochs'>): void {
    this.#reads = direct.epochs;
  }

  /**
   * What this page's workers call: the page's client, built after its engine (so none until then),
   * is told the changes, and this tab where they are in the log.
   */
  callbacks(client: () => Pick<CacheClient, 'remoteEvent' | 'progress' | 'changed' | 'forgot'> | undefined, log: ClientCallbacks['log']): ClientCallbacks {
    const changed = (changes: ToldChange[]) => {
      for (const { id } of changes) {
        const epoch = goneEpochOf(id);
        if (epoch !== undefined) this.#gone.add(epoch);
      }
      client()?.changed(changes);
    };
    return {
      remoteEvent: (event, invalidated, logged, id) => {
        if (logged) this.heard(logged);
        if (id && this.#told.has(id)) return;
        if (id) trimOldest(this.#told.add(id), HEARD_EVENTS);
        client()?.remoteEvent(event, invalidated);
      },
      listening: (from) => this.heard(from),
      progress: (batch, done, total) => client()?.progress(batch, done, total),
      log,
      changed,
      forgot: () => client()?.forgot(),
      storage: (where, name) => {
        this.#readBefore ??= [...(this.#reads ?? [])];
        this.#tier = randomId();
        this.#kept = where === 'memory' ? randomId() : name;
      },
      // Those opened before a worker first said where it keeps the types (or all so far), but those whose loss it heard.
      readFrom: () => (this.#readBefore ?? [...(this.#reads ?? [])]).filter((epoch) => !this.#gone.has(epoch)),
    };
  }

  /** What the next worker is told. */
  get open(): WorkerOpenOptions['tab'] {
    return { id: this.id, since: this.#since, listenedAt: this.#heardUnlogged ? undefined : this.listenedAt, gone: [...this.#gone], kept: this.#kept, tier: this.#tier };
  }
}
