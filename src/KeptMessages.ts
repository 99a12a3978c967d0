import type { RelayedMessage } from './protocol';
import { CHANNEL_VERSION, type OpenTabChannel, type TabChannel } from './TabChannel';

/** Messages kept for a worker that has not asked for them yet; past it, its log still has the events, and change hints are kept by type and kind only (see keep). */
export const MAX_KEPT = 10_000;

/**
 * What the page heard of the other tabs for its next worker, which is told it first as it asks for its
 * channel (see channelRelay) and starts where the dead one stopped (see TabSync.start): what came before
 * a worker that then died had asked, and what comes while the page waits to replace one that died soon
 * after the last (see RemoteEngine): the log has the events, not the other tabs' change hints, which
 * the page's watchers need. The page's own, across its workers.
 */
export class KeptMessages {
  readonly messages: RelayedMessage[] = [];
  readonly #openChannel: OpenTabChannel | undefined;
  #channel: TabChannel | null = null;
  /** Between two workers: listening, unless the page is paused. */
  #waiting = false;
  #paused = false;

  constructor(openChannel?: OpenTabChannel) {
    this.#openChannel = openChannel;
  }

  /** The page has no worker, and starts the next one later: listen for it meanwhile. */
  listen(): void {
    this.#waiting = true;
    if (this.#paused || this.#channel || !this.#openChannel) return;
    // The malformed ones too (null): the next worker counts them, as those its own channel hears.
    this.#channel = this.#openChannel((message) => this.keep(message));
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

  /** The page is being frozen or hidden: what comes meanwhile is missed (the log has the events), as by a worker. */
  pause(): void {
    this.#paused = true;
    this.#close();
  }

  resume(): void {
    this.#paused = false;
    if (this.#waiting) this.listen();
  }

  /** The next worker's relay listens from now on (and takes the messages), or the cache closed. */
  stop(): void {
    this.#waiting = false;
    this.#close();
  }

  #close(): void {
    this.#channel?.close();
    this.#channel = null;
  }
}
