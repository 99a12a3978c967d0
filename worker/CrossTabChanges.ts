import type { CacheChange } from '../src/Cache';
import type { CacheEvent } from '../src/cacheEvent';
import { CacheError } from '../src/CacheError';
import type { TypeName } from '../src/contentType';
import { targetsIn, type InvalidationTarget } from '../src/invalidationTarget';
import type { Logger } from '../src/Logger';
import type { PolicyTable } from '../src/PolicyTable';
import { forgotId, type ClientCallbacks, type LogPlace, type Once } from '../src/protocol';
import { randomId } from '../src/randomId';
import type { OpenTabChannel } from '../src/TabChannel';
import { changeTargets, type Change } from './Change';
import type { ChangeFeed } from './ChangeFeed';
import type { LoggedChange } from './databaseSchema';
import { nothingRemoved, overlaid } from './RemovedKeyList';
import { roomOnFullDisk } from './roomOnFullDisk';
import type { Schedule } from './schedule';
import type { Counts, ExpiredBy, Invalidated, Removed, RemovedKeys } from './Store';
import type { Stores } from './Stores';
import { unknownIfLanded } from './storageError';
import { TabSync, type SharedChange } from './TabSync';
import type { TypeCounters } from './TypeCounters';

export interface CrossTabChangesOptions {
  tabId: string;
  openChannel: OpenTabChannel | undefined;
  schedule: Schedule;
  logger: Logger;
  config: PolicyTable;
  stores: Stores;
  now: () => number;
  feed: ChangeFeed;
  counters: TypeCounters;
  client: ClientCallbacks | undefined;
  /** Whether the engine is closed: other tabs' changes are no longer applied. */
  closed: () => boolean;
  /** Calls back into the client, reporting a failure (the engine's #notify). */
  notify: (call: () => unknown) => Promise<void>;
  /** Before when each type's entries are gone for good (the engine's #expiredBy). */
  expiredBy: () => ExpiredBy;
  /** What freeing room on a full disk removed of a type: counted, and told (the engine's #countRemoved). */
  removed: (type: TypeName, removed: Removed) => void;
  /** Tells watchers that entries of these types were invalidated (the engine's #invalidated), under `id` (see ToldChange). */
  invalidated: (counts: Counts, keys: RemovedKeys, source: CacheChange['source'], id?: string) => void;
  /** The counts for every type the event applies to (the engine's #report). */
  report: (event: CacheEvent, counts: Counts) => Counts;
  /**
   * The database the page's dead worker used, as far as the page knew as this engine started (its loss told or
   * not: the dead worker may have made the change before it saw the deletion): a change of it sent again
   * (Once.retry) to another database of its name is not applied there again (see applyShared, IdbStore.remove).
   */
  madeIn: string | null | undefined;
}

/**
 * What this tab shares with the others, through TabSync: its events and clears applied to IndexedDB
 * and logged there (a tab without IndexedDB has them logged by one that has it: the relay); the other
 * tabs' changes replayed from the log and applied to this tab's memory tier, and told to its page.
 */
export class CrossTabChanges {
  readonly #options: CrossTabChangesOptions;
  readonly #config: PolicyTable;
  readonly #stores: Stores;
  readonly #feed: ChangeFeed;
  readonly #notify: (call: () => unknown) => Promise<void>;
  readonly sync: TabSync;
  /** Whether the page was told that this engine tells its listeners changes with no place in the log (see #toldUnlogged). */
  #saidUnlogged = false;
  /** The client's answer to the last other tab's event told to it. */
  #heard: Promise<void> = Promise.resolve();

  constructor(options: CrossTabChangesOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#stores = options.stores;
    this.#feed = options.feed;
    this.#notify = options.notify;
    this.sync = new TabSync({
      tabId: options.tabId,
      openChannel: options.openChannel,
      log: () => this.#stores.idb?.log ?? null,
      apply: (change, invalidated, logged, memory, id) => this.#applyRemote(change, invalidated, logged, memory, id),
      relay: (shared) => this.#relay(shared),
      schedule: options.schedule,
      now: options.now,
      forgetUnseen: (through, shared) => this.#forgetUnseen(through, shared),
      changed: (changes) => {
        // Of the types this tab keeps in IndexedDB only: another deploy's custom type there is not what this tab's reads see.
        for (const { type, kind, keys, id } of changes) if (this.#keeps(type)) this.#feed.add(type, kind, keys, 'remote', false, id);
      },
      placed: (place) => this.#placed(place),
      unlogged: (id, epoch) => this.#notify(() => options.client?.listening(null, { id, epoch })),
      logger: options.logger,
    });
  }

  /** The client's answer to the last other tab's event told to it. */
  get heard(): Promise<void> {
    return this.#heard;
  }

  /** Runs a change with a promise that settles once it has answered (see TabSync.before). */
  async answering<T>(change: (answered: Promise<void>) => Promise<T>): Promise<T> {
    let answer!: () => void;
    try {
      return await change(new Promise<void>((resolve) => (answer = resolve)));
    } finally {
      answer();
    }
  }

  /** Applies what other tabs logged before this tab's change logged at `shared` (see TabSync.before). */
  before({ epoch, seq }: SharedChange, answered: Promise<void>): Promise<void> | undefined {
    return seq === null ? undefined : this.sync.before({ epoch, seq }, answered);
  }

  /**
   * Applies a change made here to IndexedDB (the targets of its persistent types) and logs it, in one
   * transaction; without IndexedDB, it stays unlogged until a tab that has it hears of it. A retry
   * (`once`) that the log has already is answered from the log, and not applied again; one that the dead
   * worker made in a database deleted since is not applied, nor logged: `worker_failed`.
   */
  async applyShared(change: Change, targets: InvalidationTarget[], once?: Once, affected?: TypeName[]): Promise<{ shared: SharedChange; removed: Invalidated }> {
    const { tabId } = this.#options;
    const shared: SharedChange = { change, id: once?.id ?? randomId(), origin: tabId, epoch: null, seq: null, invalidated: {} };
    // Unlogged here: the tab that logs it removes what this tab's rules said as the call arrived (see relay), an event's `affected`.
    const unlogged = () => ((shared.affected = affected), { shared, removed: nothingRemoved() });
    const idb = this.#stores.idb;
    if (!idb) {
      await this.#stores.toldMemory();
      return unlogged();
    }
    try {
      const persistent = targets.filter((target) => this.#stores.of(target.type) === idb);
      const entry = { ...logged(change), id: shared.id, origin: tabId };
      // On a full disk (its log record is a write), as a write: a clear's room from the types it clears first (their entries go anyway).
      const { record, epoch } = await roomOnFullDisk(
        () => idb.invalidateAndLog(persistent, entry, once?.retry ?? false, once?.retry ? this.#options.madeIn : undefined),
        { store: idb, types: this.#stores.persistentTypes(change.kind === 'clear' ? change.types : []), bytes: 0, expiredBy: this.#options.expiredBy() },
        (count) => `Storage quota exceeded logging a ${change.kind}, even after evicting ${count} entries; nothing was invalidated`,
        this.#options.removed,
      );
      // Made in a database deleted since, which took what the dead worker did of it (and the other tabs' news of it): unknown,
      // and not done here again, over newer entries (nor in the other tabs: their catch-up finds the database recreated).
      if (!record.seq) throw unknownIfLanded(change.kind);
      Object.assign(shared, { epoch, seq: record.seq, invalidated: record.invalidated, removed: record.removed });
      return { shared, removed: { counts: record.invalidated, keys: record.removed ?? {} } };
    } catch (error) {
      await this.#stores.degradeOrThrow(idb, error);
      return unlogged();
    }
  }

  /** Logs another tab's change that it could not (it has no IndexedDB), applying it to IndexedDB — once, whoever relays it. */
  #relay(shared: SharedChange): Promise<{ record: LoggedChange; epoch: string | null }> {
    const { change, affected } = shared;
    // By the rules of the tab that made it, where it says them (an earlier build does not): this tab's may spare what that tab's remove.
    const targets = change.kind === 'event' && affected ? affected.flatMap((type) => targetsIn(type, change.event)) : changeTargets(this.#config, change);
    const idb = this.#stores.idb;
    if (!idb) throw new CacheError('storage_unavailable', 'IndexedDB is no longer usable in this tab');
    const persistent = targets.filter((target) => this.#stores.of(target.type) === idb);
    return idb.invalidateAndLog(persistent, { ...logged(change), id: shared.id, origin: shared.origin }, true, shared.epoch);
  }

  /**
   * Before reading or guarding a memory-tier type that events invalidate: apply what other tabs logged
   * (their message may be lost). Not for the others: a read-only transaction before each read cost 8×
   * on a memory get (bench row 3); a clear whose message was lost reaches them with the next replay —
   * but for every memory type while the tab is suspended, when no message reaches it at all, and for a
   * read-through's mark and write (`guard`): a tab waiting on this one's fetch takes what it stores, and
   * may have cleared the type since the fetch began (FetchLocks.test › *…after its own clear()…*). A log
   * that cannot be read then fails no read-through of such a type: its messages tell, as before.
   */
  async current(type: TypeName, guard = false): Promise<void> {
    if (this.#replaysFor(type)) await this.replay();
    else if (guard && this.#stores.of(type) === this.#stores.memory) await this.replay().catch(() => {});
  }

  /** Whether reads of `type` replay the log first (see current). */
  #replaysFor(type: TypeName): boolean {
    return this.#stores.of(type) === this.#stores.memory && (this.#config.shouldUseEventInvalidation(type) || this.sync.suspended);
  }

  /**
   * Applies what other tabs logged and this tab has not heard of: before a call that reports on the
   * memory tier (stats, cleanup), and so that its listeners have heard of what came before.
   */
  async replay(): Promise<void> {
    const idb = this.#stores.idb;
    try {
      await this.sync.current();
    } catch (error) {
      // IndexedDB gone for good: no log to check, as in any tab without IndexedDB.
      await this.#stores.degradeOrThrow(idb, error);
    }
  }

  /**
   * Of what a change removed from IndexedDB, what it removed of the types this tab keeps there: not of
   * custom types another deploy keeps there (see IdbStore's elsewhere), which are not this tab's to tell.
   */
  kept({ counts, keys }: Invalidated): Invalidated {
    const mine = <T>(of: Partial<Record<TypeName, T>>) => Object.fromEntries(Object.entries(of).filter(([type]) => this.#keeps(type)));
    return { counts: mine(counts), keys: mine(keys) };
  }

  /** Whether this tab's config keeps the type in IndexedDB (so the shared entries are the ones its reads see). */
  #keeps(type: TypeName): boolean {
    return this.#config.has(type) && this.#config.isPersistent(type);
  }

  /**
   * Another tab's change: IndexedDB is already done (shared), so apply it to this tab's memory tier
   * (unless `memory` is false, see TabSync's apply) and tell the client. What its watchers hear of IndexedDB
   * goes under the change's id where it is logged: a worker that dies before the page hears where leaves
   * the next one to replay it, which the page hears once so (a clear is heard as one, whatever it emptied).
   * Not what an event removes from the memory tier, which is this worker's own (a next one's, empty as it
   * replays, has nothing to tell; one written since is news), nor a change applied unlogged (its relay
   * failed): logged later, what it removes then is news.
   */
  async #applyRemote(change: Change, persistent: Invalidated, logged: LogPlace | null, memory: boolean, id: string | undefined): Promise<void> {
    if (this.#options.closed()) return;
    if (!logged) this.#toldUnlogged();
    const told = logged ? id : undefined;
    if (change.kind === 'clear') {
      // Another tab's custom types that this one does not have are not its business.
      const types = change.types.filter((type) => this.#config.has(type));
      if (memory) await this.#stores.memory.clear(types.filter((type) => this.#stores.of(type) === this.#stores.memory));
      for (const type of types) this.#feed.add(type, 'clear', null, 'remote', false, told);
      // Its watchers' share goes now, and then where it is logged: a worker replacing this one, should it
      // die, replays it only if the page was not told of it (see PageTab).
      this.#feed.flush();
      if (logged) this.#placed(logged);
      return;
    }
    const { event } = change;
    const local = memory ? await this.#stores.invalidateMemory(event) : nothingRemoved();
    this.#options.counters.invalidated(local.counts);
    const shared = this.kept(persistent);
    const { counts, keys } = overlaid(shared, local);
    if (told === undefined) this.#options.invalidated(counts, keys, 'remote');
    else {
      this.#options.invalidated(shared.counts, shared.keys, 'remote', told);
      this.#options.invalidated(local.counts, local.keys, 'remote');
    }
    const invalidated = this.#options.report(event, counts);
    const { client } = this.#options;
    // Its watchers' share first, in the same turn: `logged` tells the page it has all of it (see the clear's above).
    this.#feed.flush();
    if (client) this.#heard = this.#notify(() => client.remoteEvent(event, invalidated, logged, id));
  }

  /**
   * Changes this tab missed cannot be replayed (the log was trimmed or recreated, or there is no log):
   * any of them may have removed anything the memory tier holds (a clear reaches every type), so it is
   * all forgotten, counted as invalidations. Any key of every type may have changed, of the shared data
   * too (unless `shared` is false: see TabSync's forgetUnseen): its watchers hear so, once per type (not the
   * keys forgotten), under an id that names the forgetting (see forgotId), and the page where this tab goes
   * on from, `through`: its next worker, should this one die, does not tell it again. A tab without the log
   * (`through` null), which forgets at every resume not knowing whether it missed anything, tells only the
   * types it held entries of: nothing else of it can have changed (it has no shared data), and a resume
   * that finds nothing to forget (a call made before it forgot already) tells no watcher. Its page's adapters
   * of `on` hear it all the same, once, at the resume (`shared`), not at a call made while suspended (which
   * may precede the freeze): an event it missed may have made stale what they hold (a query whose entry a
   * clear had emptied), and no listener heard it.
   */
  async #forgetUnseen(through: LogPlace | null, shared: boolean): Promise<void> {
    const memory = this.#config.types.filter((type) => this.#stores.of(type) === this.#stores.memory);
    const { counts } = await this.#stores.memory.invalidate(memory.map((type) => ({ type, by: 'all' })));
    this.#options.counters.invalidated(counts);
    const forgetting = through ? `${through.epoch}:${through.seq}` : randomId();
    const told = !through ? memory.filter((type) => counts[type]) : shared ? this.#config.types : memory;
    // Not a forgetting the page's adapters act on (see forgotId): a call's while suspended, without the log.
    const id = (type: TypeName) => (through || shared ? forgotId(forgetting, type) : undefined);
    for (const type of told) this.#feed.add(type, 'invalidate', null, 'remote', false, id(type));
    this.#feed.flush();
    if (through) this.#placed(through);
    // Told with a type's watchers otherwise (see forgotId).
    else if (shared && !told.length) this.#forgot();
  }

  #forgot(): void {
    const { client } = this.#options;
    if (client?.forgot) this.#notify(() => client.forgot!());
  }

  /** Tells the page where in the log this tab stands, all before it told: its next worker goes on from there (see PageTab). */
  #placed(place: LogPlace): void {
    const { client } = this.#options;
    if (client) this.#notify(() => client.listening(place));
  }

  /**
   * This engine tells the page's listeners and watchers of a change it has no place in the log for (it
   * has no log): said once, before the change itself, so that the page's next worker does not replay
   * from when the page began listening what this one told (see PageTab).
   */
  #toldUnlogged(): void {
    const { client } = this.#options;
    if (this.#saidUnlogged || !client) return;
    this.#saidUnlogged = true;
    this.#notify(() => client.listening(null));
  }
}

/** The fields of a log record that say what the change was. */
function logged(change: Change): Pick<LoggedChange, 'event' | 'cleared'> {
  return change.kind === 'event' ? { event: change.event } : { cleared: change.types };
}
