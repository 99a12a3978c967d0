import type { ChannelMessage } from './channelMessage';
import type { LogPlace, RelayedMessage } from './protocol';
import { CHANNEL_VERSION, type OpenTabChannel, type TabChannel } from './TabChannel';
import { trimOldest } from './trimOldest';

/** Messages kept for a worker that has not asked for them yet; past it, its log still has the events, and change hints are kept by type and kind only (see keep). */
export const MAX_KEPT = 10_000;
/** Changes of tabs without IndexedDB told to a worker and not answered yet, kept for the next one at most (see told). */
const MAX_UNANSWERED = 300;

/**
 * What the page heard of the other tabs for its next worker, which is told it first as it asks for its
 * channel (see channelRelay) and starts where the dead one stopped (see TabSync.start): what came before
 * a worker that then died had asked, and what comes while the page waits to replace one that died soon
 * after the last (see RemoteEngine): the log has the events, not the other tabs' change hints, which
 * the page's watchers need; and the changes of tabs without IndexedDB that a worker which died was told and
 * had not logged (see told), which no tab may log otherwise. The page's own, across its workers.
 */
export class KeptMessages {
  readonly messages: RelayedMessage[] = [];
  /** None once the cache closed: nothing listens from then on (see stop). */
  #openChannel: OpenTabChannel | undefined;
  /** Ends the page's listening: gives its channel to the next worker's relay (what it hears goes `to` it from now on), or closes it. */
  #listening: ((to?: (message: RelayedMessage) => void) => TabChannel) | null = null;
  /** Between two workers: listening, unless the page is paused. */
  #waiting = false;
  #paused = false;
  /** Changes of tabs without IndexedDB told to the live worker that it has not answered as logged (or gone), by id (see told); and its own, made without IndexedDB, that no tab said it logged (see posted). */
  readonly #unanswered = new Map<string, Extract<ChannelMessage, { id: string }>>();
  /**
   * Other tabs' logged changes told to the live worker before it said where it stands (see listening): should it die first (its
   * engine still opening), they go to the next one, which tells those logged before where it starts. Not left to the log, where
   * it finds what was logged since the page listened by time: a clock set back behind that, then set right, hides some (soak seed 118684).
   * Their change hints too (under a key no id has), which no log has, in the order heard: until its engine has opened (see
   * opened), after which its queue tells them at once (a tab without IndexedDB never says where it stands).
   */
  #unplaced: Map<string, RelayedMessage> | null = new Map();
  #hints: number | null = 0;
  /** The database the page's workers last said they log in (their greeting, their hints of shared data changed, where they told the page they stand: see listening). */
  #epoch: string | null = null;

  constructor(openChannel?: OpenTabChannel) {
    this.#openChannel = openChannel;
  }

  /**
   * The page has no worker, and starts the next one later: listen for it meanwhile. `from`: the channel a dead
   * worker's relay listened on, which listens on (see channelRelay's close), unless this already does or is paused.
   */
  listen(from: ((receive: (message: RelayedMessage) => void) => TabChannel) | undefined = this.#openChannel): void {
    this.#waiting = true;
    if (this.#listening || this.#paused || !this.#openChannel) return;
    let hear = (message: RelayedMessage) => this.keep(message);
    // The malformed ones too (null): the next worker counts them, as those its own channel hears.
    const channel = from!((message) => hear(message));
    this.#listening = (to) => (to ? (hear = to) : channel.close(), (this.#listening = null), channel);
  }

  /**
   * Keeps a message for the next worker: up to MAX_KEPT. Past it, the log still has the events and clears,
   * not the change hints, which the page's watchers need: a hint is kept as its types and kinds, of any key
   * (as a bulk write is told), in one hint per tab and database after those kept, so that the watchers still
   * hear that something changed.
   */
  keep(message: RelayedMessage): void {
    const { messages } = this;
    if (messages.length < MAX_KEPT) return void messages.push(message);
    if (typeof message !== 'object' || message?.kind !== 'changed') return;
    const { origin, epoch } = message;
    let summary = messages.slice(MAX_KEPT).find((kept) => typeof kept === 'object' && kept?.kind === 'changed' && kept.origin === origin && kept.epoch === epoch) as typeof message | undefined;
    if (!summary) messages.push((summary = { v: CHANNEL_VERSION, kind: 'changed', origin, ...(epoch && { epoch }), changes: [] }));
    const { changes } = summary;
    for (const { type, kind } of message.changes) if (!changes.some((told) => told.type === type && told.kind === kind)) changes.push({ type, kind, keys: null });
  }

  /**
   * A message told to the live worker. A change of a tab without IndexedDB is kept until a tab says where it is
   * logged, or the worker that it never will (see posted): should the worker die first (its relay still waiting
   * on IndexedDB, or failed), the next one logs it (see unanswered), its tab maybe gone since (reloaded as its call
   * resolved unlogged). Naming the database the worker logs in, unless it names one: that one's deletion (site data
   * cleared) removed all it would, and no next worker logs it in the one made since (see IdbStore.invalidateAndLog);
   * or, its relay failed, the one the worker logs it in (see listening). Another tab's logged change is kept until the
   * worker says where it stands, a change hint until its engine has opened (see #unplaced).
   */
  told(message: RelayedMessage): void {
    if (typeof message !== 'object' || !message) return;
    if (!('id' in message)) {
      if (message.kind === 'changed' && this.#unplaced && this.#hints !== null) trimOldest(this.#unplaced.set(`hint ${++this.#hints}`, message), MAX_KEPT);
      return;
    }
    if (message.seq !== null) {
      this.#unanswered.delete(message.id);
      if (this.#unplaced) trimOldest(this.#unplaced.set(message.id, message), MAX_KEPT);
    } else if (!message.gone) trimOldest(this.#unanswered.set(message.id, { ...message, epoch: message.epoch ?? this.#epoch }), MAX_UNANSWERED);
  }

  /** A message the live worker sends the other tabs: where it logged such a change, that it never will, or the database it logs in. */
  posted(message: ChannelMessage): void {
    if (!('id' in message)) this.#epoch = message.epoch ?? this.#epoch;
    else if (message.seq !== null || message.gone) this.#unanswered.delete(message.id);
    // Its own change, which no tab logged yet: should the worker die first, the next one sends it again (see TabSync's #receive).
    else trimOldest(this.#unanswered.set(message.id, message), MAX_UNANSWERED);
  }

  /**
   * Where the live worker told the page it stands in the log (see PageTab.heard): the database it logs in, maybe one it
   * reopened (site data cleared) without a word to the other tabs; a change it is told next is made there at the latest.
   * `unlogged`: a change told whose relay failed (applied unlogged), and the database the worker logs it in, which its next
   * worker is told too: the one that relay failed in, maybe reopened for it, not the deleted one named as it was told (or sent again).
   */
  listening(from: LogPlace | null, unlogged?: { id: string; epoch: string }): void {
    this.#unplaced = null;
    this.#epoch = from?.epoch ?? this.#epoch;
    const kept = unlogged && this.#unanswered.get(unlogged.id);
    if (kept) kept.epoch = unlogged.epoch;
  }

  /** The live worker's engine has opened: the hints it was told are told (see #unplaced). */
  opened(): void {
    this.#hints = null;
    for (const key of this.#unplaced?.keys() ?? []) if (key.startsWith('hint ')) this.#unplaced!.delete(key);
  }

  /** The worker died (or the cache closed): what it did not answer goes to the next one, before what comes after. Logged once, whoever logs it (the log is read for its id). */
  unanswered(): void {
    this.#unplaced?.forEach((message) => this.keep(message));
    this.#unplaced = new Map();
    this.#hints = 0;
    this.#unanswered.forEach((message) => this.keep(message));
    this.#unanswered.clear();
  }

  /** The page is being frozen or hidden: what comes meanwhile is missed (the log has the events), as by a worker. */
  pause(): void {
    this.#paused = true;
    this.#listening?.();
  }

  resume(): void {
    this.#paused = false;
    if (this.#waiting) this.listen();
  }

  /**
   * The next worker's relay listens from now on (and takes the messages), or the cache closed (or never opened). A relay (`to`) takes
   * the channel still listening, if any: a message posted before the relay's own opened and not delivered yet would
   * reach neither (seed 48331: a tab without IndexedDB never heard another tab's event).
   */
  stop(to?: (message: RelayedMessage) => void): TabChannel | undefined {
    this.#waiting = false;
    if (!to) this.#openChannel = undefined;
    return this.#listening?.(to);
  }
}
