import type { CacheEvent } from '../src/cacheEvent';
import { CHANNEL_VERSION, channelMessageSchema, type ChannelMessage } from '../src/channelMessage';
import type { Logger } from '../src/Logger';
import type { EventLog } from './EventLog';
import type { Counts } from './Store';

/** The part of BroadcastChannel Reprise uses (Node has one too, so tabs can be simulated in tests). */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface TabSyncOptions {
  tabId: string;
  /** Opens this cache's channel; undefined where there is no BroadcastChannel. */
  openChannel: (() => ChannelLike) | undefined;
  /** The log, while IndexedDB is usable. */
  log: () => Pick<EventLog, 'after' | 'head'> | null;
  /** Applies another tab's event to this tab (its memory tier, its listeners). */
  apply: (event: CacheEvent, invalidated: Counts) => Promise<void>;
  /** Events this tab missed were trimmed from the log: forget whatever they might have invalidated. */
  forgetUnseen: () => Promise<void>;
  logger: Logger;
}

/**
 * Keeps this tab in step with the others. Emitted events are logged in IndexedDB (by the engine) and
 * broadcast here; received ones are validated, applied in log order, and a gap in that order — or a
 * resume after a freeze — replays the log from the last event this tab saw.
 */
export class TabSync {
  readonly #options: TabSyncOptions;
  #channel: ChannelLike | null = null;
  #lastSeen = 0;
  #queue: Promise<void> = Promise.resolve();
  droppedMessages = 0;

  constructor(options: TabSyncOptions) {
    this.#options = options;
  }

  /** Starts listening. A new tab's memory tier is empty, so the events logged before it opened are not its business. */
  async start(): Promise<void> {
    this.#lastSeen = (await this.#options.log()?.head()) ?? 0;
    this.#listen();
  }

  /** Settles once every event received so far is applied: calls wait for it, so a tab never answers from a stale memory tier. */
  get settled(): Promise<void> {
    return this.#queue;
  }

  /** Tells the other tabs about an event this tab emitted and applied (logged as `seq`). */
  publish(event: CacheEvent, seq: number | null, invalidated: Counts): void {
    const message: ChannelMessage = { v: CHANNEL_VERSION, kind: 'event', origin: this.#options.tabId, seq, event, invalidated };
    try {
      this.#channel?.postMessage(message);
    } catch (error) {
      // The other tabs will replay it from the log when they notice the gap.
      this.#options.logger.error('Reprise: could not broadcast an event', error);
    }
    if (seq !== null) {
      this.#enqueue(async () => {
        if (seq === this.#lastSeen + 1) this.#lastSeen = seq;
        else await this.#catchUp();
      });
    }
  }

  /** The page is being frozen: stop listening; `resume` replays what was missed. */
  suspend(): void {
    this.#channel?.close();
    this.#channel = null;
  }

  resume(): Promise<void> {
    this.#listen();
    this.#enqueue(() => this.#catchUp());
    return this.settled;
  }

  close(): void {
    this.suspend();
  }

  #listen(): void {
    if (this.#channel || !this.#options.openChannel) return;
    const channel = this.#options.openChannel();
    channel.addEventListener('message', (event) => this.#receive(event.data));
    // In Node, an open channel would keep the process alive.
    (channel as { unref?: () => void }).unref?.();
    this.#channel = channel;
  }

  #receive(data: unknown): void {
    const parsed = channelMessageSchema.safeParse(data);
    if (!parsed.success) {
      this.droppedMessages++;
      return;
    }
    const { origin, seq, event, invalidated } = parsed.data;
    if (origin === this.#options.tabId) return;
    this.#enqueue(async () => {
      if (seq === null || !this.#options.log()) return this.#options.apply(event, invalidated);
      if (seq <= this.#lastSeen) return; // Already replayed from the log.
      if (seq !== this.#lastSeen + 1) return this.#catchUp();
      this.#lastSeen = seq;
      return this.#options.apply(event, invalidated);
    });
  }

  async #catchUp(): Promise<void> {
    const log = this.#options.log();
    if (!log) return;
    const { events, trimmedThrough } = await log.after(this.#lastSeen);
    if (trimmedThrough > this.#lastSeen) await this.#options.forgetUnseen();
    for (const logged of events) {
      this.#lastSeen = logged.seq;
      if (logged.origin !== this.#options.tabId) await this.#options.apply(logged.event, logged.invalidated);
    }
    this.#lastSeen = Math.max(this.#lastSeen, trimmedThrough);
  }

  /** Remote work runs one step at a time, in arrival order. */
  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error: unknown) => {
      this.#options.logger.error('Reprise: applying an event from another tab failed', error);
    });
  }
}
