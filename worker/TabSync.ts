import type { ChannelMessage } from '../src/channelMessage';
import type { Logger } from '../src/Logger';
import { CHANNEL_VERSION, type OpenTabChannel, type TabChannel } from '../src/TabChannel';
import type { Change } from './Change';
import type { SharedCacheChange } from './ChangeFeed';
import { changeOf, type LoggedChange } from './databaseSchema';
import type { EventLog } from './EventLog';
import type { LogPlace } from '../src/protocol';
import { trimOldest } from '../src/trimOldest';
import type { Schedule } from './schedule';
import type { Counts, Invalidated, RemovedKeys } from './Store';

/** A change as tabs tell each other about it: who made it, its id, and where it is logged (`seq` null: nowhere yet). */
export interface SharedChange {
  change: Change;
  id: string;
  origin: string;
  epoch: string | null;
  seq: number | null;
  /** What it removed from IndexedDB. */
  invalidated: Counts;
  /** Which keys, where few (see RemovedKeys). */
  removed?: RemovedKeys | undefined;
  /**
   * An event its tab could not log (it has no IndexedDB): the types that tab's rules apply it to, which the tab that logs
   * it removes from (see CrossTabChanges' relay): each tab applies its own config's rules when it emits. None from an earlier build.
   */
  affected?: string[] | undefined;
}

export interface TabSyncOptions {
  tabId: string;
  /** Opens this cache's channel, whose messages are checked already (see src/checkedChannel.ts); undefined where there is no BroadcastChannel. */
  openChannel: OpenTabChannel | undefined;
  /** The log, while IndexedDB is usable. */
  log: () => Pick<EventLog, 'after' | 'head' | 'before' | 'epoch'> | null;
  /**
   * Applies another tab's change to this tab (its memory tier, its listeners); `logged`: where it is in
   * the log, if it is. `memory` false: only its listeners are told (the memory tier was empty then). `id`:
   * the change's, which the page's next worker tells it under too, should this one die before the page
   * learns where it is logged (records of versions before 0.2 have none).
   */
  apply: (change: Change, invalidated: Invalidated, logged: LogPlace | null, memory: boolean, id: string | undefined) => Promise<void>;
  /**
   * Applies to IndexedDB, and logs, a change made by a tab that has no IndexedDB — unless a tab already
   * logged it; returns it as logged.
   */
  relay: (change: SharedChange) => Promise<{ record: LoggedChange; epoch: string | null }>;
  /**
   * Changes this tab missed cannot be replayed: forget whatever they might have removed, and tell so. `through`:
   * where in the log this tab goes on from (null: it has no log); `shared`: whether they may have changed the
   * data tabs share too (false: only the memory tier's, the database they were logged in being gone, which is told as such);
   * without the log, whether this is the resume, where the page's adapters of `on` act on it (false: a call made while frozen).
   */
  forgetUnseen: (through: LogPlace | null, shared: boolean) => Promise<void>;
  /** Another tab changed entries of shared data (for `watch`). */
  changed: (changes: SharedCacheChange[]) => void;
  /**
   * This tab applied, and told, every change logged up to `place`, its own last: its page's next worker
   * goes on from there (see PageTab), not from the last change of another tab told, which the periodic
   * cleanup may have trimmed since (a page that missed nothing would hear it forgot).
   */
  placed: (place: LogPlace) => void;
  /**
   * This tab's relay of another tab's change failed (it applies it unlogged, once), and it logs it in the database of `epoch`
   * later: told to its page at each failure, whose next worker logs it there too, should this one die first (see src/KeptMessages.ts).
   */
  unlogged: (id: string, epoch: string) => void;
  schedule: Schedule;
  /** The clock changes are logged by (epoch ms). */
  now: () => number;
  logger: Logger;
}

/** Ids of changes applied, to apply each once; old ones are forgotten. */
const REMEMBERED_IDS = 10_000;
/** Changes of a tab without IndexedDB kept until a tab with IndexedDB logs them. */
const MAX_UNLOGGED = 1000;
/** How long a change of a tab without IndexedDB waits for a tab that has it to log it, before it resolves anyway. */
const RELAY_WAIT_MS = 500;

/**
 * Keeps this tab in step with the others. Messages are hints; the IndexedDB log is the truth. Changes
 * this tab makes are logged (by the engine) and broadcast here; received ones (checked by the channel)
 * are applied in log order, and a gap in that order, another database epoch, a resume after a freeze,
 * or a read of an event-invalidated memory type replays the log from this tab's position. A change made by a tab
 * without IndexedDB is logged by the first tab with IndexedDB that hears of it.
 */
/** Reads of the log's head at start before giving up on knowing where this tab starts. */
const START_READS = 3;

export class TabSync {
  readonly #options: TabSyncOptions;
  #channel: TabChannel | null = null;
  /** The last logged change applied here; null while unknown (the log could not be read at start). */
  #position: LogPlace | null = null;
  #queue: Promise<void> = Promise.resolve();
  /** Changes applied here, by id, with where each is logged (null: unknown here; seq 0: nowhere, made in a database deleted since, see #take). */
  readonly #applied = new Map<string, LogPlace | null>();
  /**
   * This tab's changes that no tab has logged yet (this tab has no IndexedDB), each with the database it was
   * made in as this tab last heard (`epoch`; sent again with it, see #resendUnlogged), and whether it was sent again.
   */
  readonly #unlogged = new Map<string, SharedChange & { resent: boolean }>();
  /** The database another tab last said it logs in, logged in or wrote to (see #unlogged). */
  #heardEpoch: string | null = null;
  /** What this tab had to say while suspended (a call that finished as the page froze): sent on resume. */
  #outbox: ChannelMessage[] = [];
  /** Changes of tabs without IndexedDB that this tab applied but could not log: it logs them once it logs again (see #relayAgain). */
  readonly #unloggedHere = new Map<string, SharedChange>();
  /**
   * Where other tabs said they logged changes, by id (the last REMEMBERED_IDS): a change of a tab without IndexedDB whose
   * first message (naming no database) this tab takes after hearing that (its page kept both as its engine opened) is
   * made in that database; deleted since (site data cleared), it is not logged again in the next one, over newer entries.
   */
  readonly #loggedIn = new Map<string, string | null>();
  /** Changes of this tab waiting for another tab to log them. */
  readonly #relayed = new Map<string, () => void>();
  /** Changes of this tab sent again, whose answer may yet come (for RELAY_WAIT_MS): see #resendUnlogged. */
  readonly #resentNow = new Set<string>();
  /** Cancels the timers that end those waits (see close). */
  readonly #resentWaits = new Set<() => void>();
  /** Whether a tab with IndexedDB has been heard from: only then is a change of this tab worth waiting for. */
  #loggerHeard = false;
  droppedMessages = 0;
  #closed = false;
  /** From suspend until a replay after resume has succeeded (see suspended). */
  #suspended = false;
  /** Whether this tab, without the log, forgot its memory tier since it was suspended (see current). */
  #forgotten = false;
  /** While this tab starts: the logged changes of other tabs it heard of, in the order heard (see start). */
  #early: SharedChange[] | undefined;
  /** Where the dead engine this one replaces had applied the log to (see start). */
  #since: LogPlace | null = null;
  /** When this tab began listening to the others (epoch ms, see start). */
  #startedAt = 0;
  /**
   * Other tabs' changes of shared data heard and not told yet (see #receive), each with the first logged
   * change heard after it: a catch-up tells it before that change, which was made after it; and how far in
   * the log its tab had applied (`seq`, see announce): what was logged up to there is older, and told first.
   */
  #hints: { changes: SharedCacheChange[]; before: SharedChange | null; epoch: string | undefined; seq: number | undefined }[] = [];

  constructor(options: TabSyncOptions) {
    this.#options = options;
  }

  /**
   * Starts listening. A new tab's memory tier is empty, so the changes logged before it listened are not
   * its business, but those it heard of are, for its listeners: where it listened before its engine
   * opened (a worker's page keeps what it hears for it, see src/channelRelay.ts), the changes it heard
   * may be older than the log's head (one heard only after the head was read is told to the listeners,
   * see #take). A tab that replaces a dead engine of the same tab starts after the last change that one
   * applied (`since`). Otherwise a page that listened from `listenedAt` (epoch ms) starts before what
   * was logged since then: it may have missed a message meanwhile (frozen before the engine opened, or a
   * message trailing its commit lost to a freeze after the head was read); without that time, before
   * the first logged change it heard. The changes it heard of that were logged before where it starts
   * are told first, in log order (see #tellEarly), then those logged from there to the head, before this
   * settles. Returns where in the log it then is (null where there is no log, or it could not be read).
   */
  async start(since: LogPlace | null = null, listenedAt?: number): Promise<LogPlace | null> {
    const log = this.#options.log();
    this.#early = [];
    this.#since = since;
    this.#startedAt = listenedAt ?? this.#options.now();
    // Listening first: a change logged after the head is read below is then heard of.
    const listening = this.#listen();
    this.#hello();
    let from: LogPlace | null = null;
    // The first step of the queue: what arrives meanwhile is taken once this tab knows where it starts.
    this.#enqueue(async () => {
      await listening;
      // A read that fails once (a connection closed under it aborts it) is tried again: without a position,
      // the first catch-up must forget the whole memory tier, writes made since the start included (see #catchUp).
      for (let attempt = 0; log && !this.#position && attempt < START_READS; attempt++) this.#position = await log.head().catch(() => null);
      const position = this.#position;
      const logged = !since && log && position && listenedAt !== undefined ? await log.before(listenedAt, this.#options.now()).catch(() => undefined) : undefined;
      // What is heard from now on is late (see #take).
      const early = (this.#early ?? []).filter(({ epoch }) => epoch === position?.epoch);
      this.#early = undefined;
      const first = early[0];
      // From when the page listened where that is known, not from before the first change heard: a message can
      // come late (its tab's worker died before sending it; the next sends it, after those of changes made since,
      // when its page sends the call again), and of what was logged between it and then, the page heard nothing.
      const places = since ? [since] : [logged, first && { epoch: first.epoch, seq: first.seq! - 1 }];
      const back = places.find((place) => place && place.epoch === position?.epoch);
      if (logged === null && position) {
        // The clock was set back behind when the page listened: what was logged since cannot be told by
        // time (see EventLog.before). Its memory tier is empty, but its listeners may have missed anything.
        await this.#options.forgetUnseen({ ...position }, true);
        await this.#tellEarly(early, position);
      } else if (back && position && back.seq < position.seq) {
        await this.#tellEarly(early, back);
        this.#position = { ...back };
        await this.#catchUp();
      } else if (since?.epoch && position?.epoch && since.epoch !== position.epoch) {
        // The database was recreated since the dead engine stopped (site data cleared): what was logged in
        // the one deleted after `since` went with it, untold, and is forgotten as a living engine forgets it
        // (see #catchUp); the page has heard nothing of this one, whose changes are all news to its listeners.
        this.#position = { ...since };
        await this.#catchUp();
      } else if (position) await this.#tellEarly(early, position);
      from = this.#position && { ...this.#position };
    });
    await this.settled;
    return from;
  }

  /** Settles once every message received so far is applied: calls wait for it. */
  get settled(): Promise<void> {
    return this.#queue;
  }

  /**
   * Tells the other tabs about a change this tab made and applied. One this tab could not log (it has no
   * IndexedDB) resolves, when a tab that has IndexedDB has been heard from, once such a tab has logged
   * it — so that it is in the shared data when the call resolves — or after RELAY_WAIT_MS when none
   * answers; it is sent again whenever one is heard from, until one logs it (not while an answer may yet come, see
   * #resendUnlogged). `again`: its page sends it again (its worker died), so a tab that logged it may answer from
   * memory, as to one sent again (see #unlogged).
   */
  async publish(shared: SharedChange, again = false): Promise<void> {
    this.#remember(shared.id);
    this.#post(toMessage(shared));
    const { epoch, seq } = shared;
    if (seq !== null) {
      this.#enqueue(async () => {
        if (this.#position && epoch === this.#position.epoch && seq === this.#position.seq + 1) this.#position.seq = seq;
        else await this.#catchUp();
        const position = this.#position;
        if (position && position.epoch === epoch && position.seq >= seq) this.#options.placed({ ...position });
        await this.#relayAgain();
      });
      return;
    }
    if (this.#unlogged.size >= MAX_UNLOGGED || !this.#options.openChannel) return;
    this.#unlogged.set(shared.id, { ...shared, epoch: this.#heardEpoch, resent: again });
    if (!this.#loggerHeard) return;
    let cancel: void | (() => void);
    const logged = await new Promise<boolean>((resolve) => {
      this.#relayed.set(shared.id, () => resolve(true));
      cancel = this.#options.schedule(() => resolve(false), RELAY_WAIT_MS);
    }).finally(() => {
      cancel?.();
      this.#relayed.delete(shared.id);
    });
    // Nobody logged it in time: the next changes do not wait, until a tab that logs is heard from again.
    if (!logged) this.#loggerHeard = false;
  }

  /**
   * Applies every change logged so far that this tab has not: before answering from the memory tier,
   * because a message may be lost without any lifecycle event to say so.
   */
  async current(): Promise<void> {
    const log = this.#options.log();
    if (!log) {
      // Suspended, a tab without the log hears nothing and cannot replay: it forgets, as its resume will —
      // once: what the page writes meanwhile (in the same task, before it freezes or resumes) is not lost.
      if (!this.#suspended || this.#forgotten) return;
      this.#forgotten = true;
      // The page acts on it at the resume (`shared` false): a call made as it froze precedes what it misses frozen.
      this.#enqueue(() => this.#options.forgetUnseen(null, false));
      return this.settled;
    }
    await this.settled;
    const head = await log.head();
    if (this.#position && head.epoch === this.#position.epoch && head.seq <= this.#position.seq) return this.#caughtUp();
    const replay: { failed?: { error: unknown } } = {};
    this.#enqueue(() => this.#catchUp().then(() => this.#caughtUp(), (error: unknown) => void (replay.failed = { error })));
    await this.settled;
    // Not replayed (the log could not be read): the read fails, as one whose read of the head fails,
    // rather than answer what a missed change may have removed; the next one replays from the same place.
    if (replay.failed) throw replay.failed.error;
  }

  /**
   * Applies the changes logged before `place` (where this tab just logged one of its own) that this tab
   * has not: they are older, so its listeners hear them first, and what they removed from the memory tier
   * is not this tab's change to count. Not later ones: those come after it, once `answered` settles (the
   * page then hears them after its own). A failed read leaves them to the catch-up that `publish` starts.
   */
  before({ epoch, seq }: LogPlace, answered: Promise<void>): Promise<void> {
    this.#enqueue(async () => {
      // Logged in a database this tab has not read yet (made again since it last did): its changes before it too.
      const position = this.#position;
      if (position && (position.epoch !== epoch || position.seq < seq - 1)) await this.#catchUp(seq - 1, epoch);
    });
    const caughtUp = this.settled;
    this.#enqueue(() => answered);
    return caughtUp;
  }

  /** The page is being frozen: stop listening; `resume` replays what was missed. */
  suspend(): void {
    this.#suspended = true;
    this.#forgotten = false;
    // Frozen, it hears nothing: the database may be deleted and made anew meanwhile (site data cleared), so a change it
    // makes once resumed, before it hears of one, names none (see #unlogged): not the old one, whose resend is not logged.
    this.#heardEpoch = null;
    this.#channel?.close();
    this.#channel = null;
  }

  /**
   * Whether this tab is suspended: it hears no other tab until `resume` reaches it, which a call may
   * precede (an app's `pageshow` or `resume` listener added before Reprise's runs first). It stays so
   * until it has replayed what it missed meanwhile, listening again (a resume whose replay fails leaves that to the next call).
   */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** Listens again and replays what was missed; a tab without the log cannot, and forgets instead. */
  resume(): Promise<void> {
    const listening = this.#listen();
    // Replayed once the channel listens: what was missed until then is in the log, what comes after arrives.
    this.#enqueue(async () => {
      await listening;
      await (this.#options.log() ? this.#catchUp() : this.#options.forgetUnseen(null, true));
      this.#caughtUp();
    });
    // A tab without IndexedDB that changed something meanwhile waits for a tab that logs: say so.
    this.#hello();
    return this.settled;
  }

  /**
   * IndexedDB became unusable here: this tab's changes now need another tab to log them. Other tabs with
   * IndexedDB may be listening (tabs that log do not greet each other): its next change waits for one,
   * and the hello makes any there is answer.
   */
  lostLog(): void {
    this.#loggerHeard = true;
    this.#hello();
  }

  close(): void {
    this.#closed = true;
    this.suspend();
    // Nothing to wait for any more (and no timer may hold a closed engine).
    for (const stop of [...this.#relayed.values(), ...this.#resentWaits]) stop();
  }

  /** Tells the other tabs which entries of shared data this tab changed; a hint for their watchers, never logged. */
  announce(changes: SharedCacheChange[]): void {
    // The database written to, which the connection knows: this tab's position may be in one deleted since.
    const epoch = this.#options.log()?.epoch;
    // What of that database's log this tab had applied: the changes are newer (see #receive).
    const seq = epoch && this.#position?.epoch === epoch && this.#position.seq > 0 ? this.#position.seq : undefined;
    // While suspended, kept with the changes for when it listens again (see #outbox): no other tab learns of it otherwise.
    this.#post({ v: CHANNEL_VERSION, kind: 'changed', origin: this.#options.tabId, ...(epoch && { epoch }), ...(seq && { seq }), changes });
  }

  /** Opens the channel (unless it is open); settles once it listens. */
  #listen(): Promise<void> | undefined {
    if (this.#channel || !this.#options.openChannel) return this.#channel?.ready;
    const channel: TabChannel = this.#options.openChannel((message) => this.#channel === channel && this.#receive(message));
    this.#channel = channel;
    for (const message of this.#outbox.splice(0)) this.#post(message);
    return channel.ready;
  }

  #post(message: ChannelMessage): void {
    if (!this.#channel) {
      if (this.#options.openChannel && !this.#closed && this.#outbox.length < MAX_UNLOGGED) this.#outbox.push(message);
      return;
    }
    try {
      this.#channel.post(message);
    } catch (error) {
      // The other tabs will replay it from the log when they notice the gap.
      this.#options.logger.error('Reprise: could not broadcast a change', error);
    }
  }

  /** A message from another tab, checked already: null if it was malformed. */
  #receive(message: ChannelMessage | null): void {
    if (!message) {
      this.droppedMessages++;
      return;
    }
    if (message.kind === 'changed') {
      // Told in the order heard among the events, which wait in the queue (for a catch-up, or while this tab
      // starts): a watcher hears last what was done last.
      if (message.origin !== this.#options.tabId) {
        const hint = { changes: message.changes, before: null, epoch: message.epoch, seq: message.seq };
        this.#heardEpoch = message.epoch ?? this.#heardEpoch;
        this.#hints.push(hint);
        this.#enqueue(async () => {
          try {
            // Another epoch: another database of this name, or this one recreated, which the catch-up learns — up to the
            // hint if it is this one's (as below; no seq: its tab had applied none of it); else all of it, as a hint of the
            // database deleted comes before it all.
            if (this.#elsewhere(hint.epoch)) {
              await this.#catchUp(hint.seq ?? 0, hint.epoch);
              if (this.#elsewhere(hint.epoch)) await this.#catchUp();
            }
            // Made after changes logged that this tab has not applied (their message lost, or late: another
            // tab's page was busy): those first, so that a watcher hears last what was done last. Only those:
            // one logged since may have removed what the hint tells of, and comes after it.
            else if (this.#behind(hint)) await this.#catchUp(hint.seq);
          } catch (error) {
            // It learned nothing (the log could not be read): told as a hint that names no database, not left
            // untold until the next one. The failure is logged as any step's.
            hint.epoch = undefined;
            throw error;
          } finally {
            this.#tellHints(this.#hints.indexOf(hint) + 1);
          }
        });
      }
      return;
    }
    if (message.kind === 'hello') {
      if (message.origin === this.#options.tabId) return;
      if (message.logs) {
        // It names the database it logs in: a change made after this, sent again, names that one, not none
        // (which is logged again wherever, though a tab logged it in a database deleted since).
        this.#heardEpoch = message.epoch ?? this.#heardEpoch;
        this.#heardLogger(true);
      }
      // A tab that logs and one that does not must know of each other; two of a kind need not.
      else if (this.#options.log()) this.#hello();
      return;
    }
    if (message.origin === this.#options.tabId) {
      // Another tab logged a change this tab could not: it is in the shared data now. Or it never will be (`gone`).
      if (message.seq !== null || message.gone) {
        // Logged in the database it names, which this tab's next changes, sent again, name (see #unlogged). Not where it
        // was sent again: a tab that logged it answers from memory (see #take), naming a database maybe deleted since.
        if (message.seq !== null && this.#unlogged.get(message.id)?.resent === false) this.#heardEpoch = message.epoch ?? this.#heardEpoch;
        this.#unlogged.delete(message.id);
        this.#relayed.get(message.id)?.();
      }
      // Its page's, made by its dead worker, which no tab had logged (see KeptMessages.posted): sent again when a tab that logs is heard.
      else this.#unlogged.set(message.id, { ...fromMessage(message), resent: true });
      return;
    }
    // Another tab's answer to the tab that made the change, which this tab heard (or ignored) when sent.
    if (message.gone) return;
    const shared = fromMessage(message);
    if (shared.seq !== null) {
      this.#heardEpoch = shared.epoch;
      trimOldest(this.#loggedIn.set(shared.id, shared.epoch), REMEMBERED_IDS);
    }
    // Heard after a hint, yet not made after it where the hint's tab had applied it (a late message): see #hints.
    if (shared.seq !== null) for (const hint of this.#hints) if (!(hint.epoch === shared.epoch && shared.seq <= (hint.seq ?? 0))) hint.before ??= shared;
    if (shared.seq !== null) this.#early?.push(shared);
    // Another tab's logged change: the disk takes writes again, maybe (see #relayAgain).
    this.#enqueue(async () => {
      // Heard where it was logged, before or after it (see #loggedIn).
      if (shared.seq === null) shared.epoch ??= this.#loggedIn.get(shared.id) ?? null;
      await this.#take(shared);
      if (shared.seq !== null) await this.#relayAgain();
    });
    if (message.seq !== null) this.#heardLogger(false);
  }

  /**
   * Tells the first `count` hints not told yet, but those of another database; before the change logged
   * at `record`, not those whose tab had applied it (see #hints): they wait for their turn, after it.
   */
  #tellHints(count: number, record?: LogPlace): void {
    const hints = this.#hints.splice(0, count);
    const after = record ? hints.filter(({ epoch, seq }) => epoch === record.epoch && (seq ?? 0) >= record.seq) : [];
    this.#hints.unshift(...after);
    for (const hint of hints) if (!after.includes(hint) && !this.#elsewhere(hint.epoch)) this.#options.changed(hint.changes);
  }

  /**
   * Whether a hint of changes in the database of `epoch` is about another database of this name than this
   * tab's, whose entries it does not read. Only where both know their epoch: a hint whose tab could not
   * read it names none, and a tab with no position in its log (no IndexedDB, or the log could not be read)
   * cannot tell; either way the hint is told, as before hints named their database. A tab that lost
   * IndexedDB keeps the place it had in the log it read, which says nothing of the database now.
   */
  #elsewhere(epoch: string | undefined): boolean {
    const here = this.#options.log() && this.#position?.epoch;
    return !!epoch && !!here && epoch !== here;
  }

  /** Whether a hint was made after changes logged in this tab's database that this tab has not applied. */
  #behind({ epoch, seq }: { epoch: string | undefined; seq: number | undefined }): boolean {
    const position = this.#options.log() && this.#position;
    return !!position && seq !== undefined && epoch === position.epoch && seq > position.seq;
  }

  #hello(): void {
    const log = this.#options.log();
    this.#post({ v: CHANNEL_VERSION, kind: 'hello', origin: this.#options.tabId, logs: log !== null, ...(log?.epoch && { epoch: log.epoch }) });
  }

  /**
   * A tab with IndexedDB is listening: it may log what nobody has yet, and this tab's next changes are worth waiting for.
   * `greeting`: it greeted this tab (it may have heard none of them), rather than logged a change.
   */
  #heardLogger(greeting: boolean): void {
    this.#loggerHeard = true;
    this.#resendUnlogged(greeting);
  }

  async #take(shared: SharedChange): Promise<void> {
    if (this.#applied.has(shared.id)) {
      // A change of a tab without IndexedDB sent again: that tab missed where it was logged (it was frozen
      // when the answer came), and would send it for ever, until a tab that never heard of it logs it again
      // where the log no longer has it (a database recreated since), removing what was written since.
      const place = this.#applied.get(shared.id);
      if (shared.seq === null && place) this.#post(place.seq ? toMessage({ ...shared, ...place }) : gone(shared));
      return;
    }
    if (!this.#options.log()) {
      this.#remember(shared.id);
      return this.#options.apply(shared.change, removedBy(shared), null, true, shared.id);
    }
    const { epoch, seq } = shared;
    if (seq === null) {
      // Made by a tab without IndexedDB: log it, so that it reaches the shared data (once, whoever logs it).
      let relayed: Awaited<ReturnType<TabSyncOptions['relay']>>;
      // Applied here already, its relay failed: logged in the database that relay failed in, as it would have been, not
      // in the one its tab names when it sends it again (the last it heard of: maybe deleted before it made the change).
      shared = this.#unloggedHere.get(shared.id) ?? shared;
      try {
        relayed = await this.#options.relay(shared);
      } catch (error) {
        // Cut short by close() (a step logging several goes on to the next): no failure to tell, see #enqueue.
        if (this.#closed) throw error;
        // Not logged (its tab sends it again when a tab that logs speaks): applied to this tab meanwhile, once.
        this.#options.logger.error('Reprise: logging a change from a tab without IndexedDB failed', error);
        const applied = this.#unloggedHere.has(shared.id);
        // Made in this tab's database at the latest: should it be deleted before this tab logs again, the change is not
        // logged in the next one, over what is written there since (its own deletion removed all it would remove).
        if (!applied) trimOldest(this.#unloggedHere.set(shared.id, (shared = { ...shared, epoch: epoch ?? this.#options.log()?.epoch ?? null })), MAX_UNLOGGED);
        // Told at each failure: maybe the one its relay reopened (site data cleared), which the page did not know of as it
        // told it the change, nor names in a copy told since (sent again, naming the one deleted).
        if (shared.epoch) this.#options.unlogged(shared.id, shared.epoch);
        if (applied) return;
        return this.#options.apply(shared.change, removedBy(shared), null, true, shared.id);
      }
      const { record, epoch: logged } = relayed;
      // Made in a database deleted since, whose deletion removed all it would remove (sent again by its tab,
      // frozen as another logged it, maybe by a tab whose engine is gone since): not logged again, over newer entries.
      // The catch-up finds the database recreated, and forgets the memory tier. Its tab is told, or it would send it
      // again at every change of a tab that logs it hears, for its worker's life; and again if it missed that answer.
      if (!record.seq) {
        // Remembered only where applied already: a tab that heard its first message (naming none) may log it yet, here too.
        if (this.#unloggedHere.delete(shared.id)) this.#remember(shared.id, { epoch: shared.epoch, seq: 0 });
        this.#post(gone(shared));
        return this.#catchUp();
      }
      const place = { epoch: logged, seq: record.seq };
      // Applied here already when a first try to log it failed: the catch-up below skips it.
      this.#appliedUnlogged(shared.id, place);
      this.#post(toMessage({ ...shared, epoch: logged, seq: record.seq, invalidated: record.invalidated, removed: record.removed }));
      await this.#catchUp();
      // Logged before this tab's position (before it opened: its tab sent it again), which the catch-up does
      // not apply: not this tab's to hear when a tab that applied it answers where it is logged, later.
      if (!this.#applied.has(shared.id)) this.#remember(shared.id, place);
      return;
    }
    const position = this.#position;
    // Not replayed (it would be in #applied), yet heard, so posted after this tab listened: logged before
    // it read where it starts, its message trailing the commit. Its listeners' business (see start), not
    // its memory tier's: empty then, what it holds now is newer than the change.
    const late = !!position && epoch === position.epoch && seq <= position.seq;
    if (!late) {
      if (!position || epoch !== position.epoch || seq !== position.seq + 1) return this.#catchUp();
      position.seq = seq;
    }
    const place = { epoch, seq };
    if (this.#appliedUnlogged(shared.id, place)) return;
    // The engine this one replaced told them already (however many it told after them).
    const since = this.#since;
    if (late && since && epoch === since.epoch && seq <= since.seq) return;
    this.#remember(shared.id, place);
    return this.#options.apply(shared.change, removedBy(shared), place, !late, shared.id);
  }

  /**
   * Tells the listeners, in log order, the changes this tab heard of as it started (`early`) that were logged
   * up to `place`, where it goes on from in the log: not in the order heard, where a message can come late
   * (see start). Only those: what was logged before `place` that it did not hear of is not its business.
   */
  async #tellEarly(early: SharedChange[], place: LogPlace): Promise<void> {
    const told = early.filter(({ seq }) => seq! <= place.seq).sort((a, b) => a.seq! - b.seq!);
    if (!told.length) return;
    // Where the page's next worker, should this one die meanwhile, goes on from: not from one of these, with
    // changes logged after it that the page did not hear of (it loses those not told yet, as it would had this one died before).
    this.#options.placed({ ...place });
    for (const shared of told) {
      const { epoch, seq } = shared as SharedChange & { seq: number };
      // Changes heard before this one's message was are older: told first (see #catchUp).
      this.#tellHints(this.#hints.findLastIndex(({ before }) => before?.epoch === epoch && before.seq! <= seq) + 1, { epoch, seq });
      // As a late message (this tab's position is still the head): not to the memory tier, empty then.
      await this.#take(shared);
    }
  }

  /**
   * Logs again the changes of tabs without IndexedDB whose relay here failed (an abort at commit, a full disk), now
   * that this tab has logged one of its own or heard of another tab's: their tab may be gone since (reloaded as its
   * call resolved unlogged, see publish), and would never send them again. Logged once whoever logs them (the log is
   * read for their id). Not by a tab that lost IndexedDB since: applied here already, once.
   */
  async #relayAgain(): Promise<void> {
    if (!this.#options.log()) return;
    // Live: one logged meanwhile (by the catch-up of another's success) is gone from it and skipped; one that fails again stays, not added again.
    for (const shared of this.#unloggedHere.values()) await this.#take(shared);
  }

  /** Whether this tab applied the change already without logging it (its relay failed); if so, it counts as applied from now on. */
  #appliedUnlogged(id: string | undefined, place: LogPlace): boolean {
    if (id === undefined || !this.#unloggedHere.delete(id)) return false;
    this.#remember(id, place);
    return true;
  }

  /**
   * Applies what was logged after this tab's position, up to `through` (everything by default): a place in the log of the
   * database of `at` (by default the one this tab stands in).
   */
  async #catchUp(through = Infinity, at = this.#position?.epoch): Promise<void> {
    const log = this.#options.log();
    if (!log) return;
    // Where this tab starts was not known (its reads of the log at start failed): where it would have started
    // (see start), from which it replays what it missed; its memory tier holds nothing older. Found by the
    // time it started: a change stamped later than the clock reads (logged before it was set back) counts,
    // replayed rather than missed; with the clock set back behind that time, what was logged since cannot
    // be told by it (see EventLog.before): forgotten, from the head. Found right where the log is trimmed:
    // what was trimmed may have been logged after that time.
    const placed = !this.#position && !this.#since;
    let lost = placed && this.#options.now() < this.#startedAt;
    // (Never null by a clock that is not behind `#startedAt`.)
    const position = this.#position ?? (this.#since ? { ...this.#since } : (await (lost ? log.head() : log.before(this.#startedAt, Infinity)))!);
    let tail = await log.after(position.seq);
    this.#position = position;
    if (placed && position.seq > 0 && tail.trimmedThrough === position.seq) position.seq--;
    // Until two reads find one database: site data cleared again before the next read makes it read yet another.
    while (tail.epoch !== position.epoch) {
      // The database was deleted and recreated: what this tab had not applied of the old one is lost (its
      // entries are gone, which the database's loss tells); so is what was trimmed of the new one's log (read
      // with the tail), which reaches the shared data: forgotten once for both.
      const found = { epoch: tail.epoch, seq: tail.trimmedThrough };
      await this.#options.forgetUnseen(found, found.seq > 0);
      Object.assign(position, found);
      tail = await log.after(found.seq);
      lost = false;
    }
    // A place in another database (the one deleted: this tab's own change's, a hint's) comes before all of this one's changes: none before it.
    if (tail.epoch !== at && through < Infinity) through = 0;
    if (tail.trimmedThrough > position.seq || lost) {
      const past = Math.max(tail.trimmedThrough, position.seq);
      await this.#options.forgetUnseen({ epoch: position.epoch, seq: past }, true);
      // Forgotten: past them, also when it replays only up to an earlier place (else the next replay forgets again, writes made since too).
      position.seq = past;
    }
    for (const record of tail.changes) {
      if (record.seq > through) return;
      const place = { epoch: position.epoch, seq: record.seq };
      // Changes heard before this one's message was are older: told first.
      this.#tellHints(this.#hints.findLastIndex(({ before }) => before?.epoch === position.epoch && before.seq! <= record.seq) + 1, place);
      position.seq = record.seq;
      if (record.origin === this.#options.tabId || (record.id !== undefined && this.#applied.has(record.id)) || this.#appliedUnlogged(record.id, place)) continue;
      if (record.id !== undefined) this.#remember(record.id, place);
      await this.#options.apply(changeOf(record), removedBy(record), place, true, record.id);
    }
  }

  /** A replay succeeded: once listening again (or where there is no channel to listen on), this tab is no longer suspended (see suspended). */
  #caughtUp(): void {
    if (this.#channel || !this.#options.openChannel) this.#suspended = false;
  }

  /**
   * Sent again, it names the database it was made in (sent first, it is logged wherever): a tab whose database is
   * another one, that one deleted since (site data cleared), does not log it (see IdbStore.invalidateAndLog).
   */
  #resendUnlogged(greeting: boolean): void {
    const sent: string[] = [];
    for (const shared of this.#unlogged.values()) {
      // Sent (again) to a tab that logs, whose answer may yet come: not again at another tab's logged change, among them
      // the answers to other tabs' changes, each of which would send it once more (a change sent again at each answer to
      // another tab's, whose answers send that tab's again...). A greeting's tab may never have heard it: sent to it.
      if (!greeting && (this.#relayed.has(shared.id) || this.#resentNow.has(shared.id))) continue;
      shared.resent = true;
      this.#post(toMessage(shared));
      this.#resentNow.add(shared.id);
      sent.push(shared.id);
    }
    if (!sent.length) return;
    const ends = () => {
      this.#resentWaits.delete(stop);
      for (const id of sent) this.#resentNow.delete(id);
    };
    const cancel = this.#options.schedule(ends, RELAY_WAIT_MS);
    const stop = () => (cancel?.(), ends());
    this.#resentWaits.add(stop);
  }

  #remember(id: string, place: LogPlace | null = null): void {
    trimOldest(this.#applied.set(id, place), REMEMBERED_IDS);
  }

  /**
   * Work from other tabs runs one step at a time, in arrival order; none once the cache is closed (its connection is, and no
   * watcher hears it: a change it would log, another tab does). One its close() cut short is no failure of a cache the app still has.
   */
  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(() => (this.#closed ? undefined : step())).catch((error: unknown) => {
      if (!this.#closed) this.#options.logger.error('Reprise: applying a change from another tab failed', error);
    });
  }
}

function toMessage({ change, id, origin, epoch, seq, invalidated, removed, affected }: SharedChange): ChangeMessage {
  const logged = { v: CHANNEL_VERSION, origin, id, epoch, seq } as const;
  if (change.kind === 'clear') return { ...logged, kind: 'clear', types: change.types };
  return { ...logged, kind: 'event', event: change.event, invalidated: invalidated as Record<string, number>, ...(removed && { removed: removed as Record<string, string[]> }), ...(affected && { affected }) };
}

type ChangeMessage = Extract<ChannelMessage, { kind: 'event' | 'clear' }>;

/** The answer to a change sent again that no tab logs, made in a database deleted since (see channelMessage's `gone`). */
function gone(shared: SharedChange): ChangeMessage {
  return { ...toMessage({ ...shared, seq: null }), gone: true };
}

/** What a change removed from IndexedDB, as the engine applies it (a record or message without keys: any key). */
function removedBy({ invalidated, removed }: Pick<SharedChange, 'invalidated' | 'removed'>): Invalidated {
  return { counts: invalidated, keys: removed ?? {} };
}

function fromMessage(message: ChangeMessage): SharedChange {
  const { origin, id, epoch, seq } = message;
  return message.kind === 'event'
    ? { change: { kind: 'event', event: message.event }, id, origin, epoch, seq, invalidated: message.invalidated, removed: message.removed, affected: message.affected }
    : { change: { kind: 'clear', types: message.types }, id, origin, epoch, seq, invalidated: {} };
}
