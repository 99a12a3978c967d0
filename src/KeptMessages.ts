import type { RelayedMessage } from './protocol';
import type { OpenTabChannel, TabChannel } from './TabChannel';

/** Messages kept for a worker that has not asked for them yet; past it, its log still has the events (watch hints are lost). */
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
    // Not the malformed ones: each worker counts those its own channel heard.
    this.#channel = this.#openChannel((message) => void (message && this.messages.length < MAX_KEPT && this.messages.push(message)));
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
