import * as z from 'zod/mini';
import type { FetchChannel } from './FetchLocks';
import { randomId } from './randomId';

/** How long a tab that asks for a free lock listens for a rival's earlier claim, or a holder's answer. */
const CLAIM_MS = 25;
/**
 * A claim older than this is void: its tab's timers are late (a hidden tab's run about once a second),
 * and the others do not wait for it to decide.
 */
const STALE_CLAIM_MS = 4 * CLAIM_MS;
/** How often a holder says it still holds (a tab that died says nothing more). */
const HEARTBEAT_MS = 1000;
/** A holder not heard from for this long is taken for gone (a closed or crashed tab). */
const LAPSE_MS = 3500;

/** What tabs tell each other about one lock. */
const lockMessageSchema = z.strictObject({ kind: z.literal(['claim', 'held', 'released']), lock: z.string(), id: z.string(), at: z.number() });
type LockMessage = z.output<typeof lockMessageSchema>;

/** As much of `navigator.locks` as FetchLocks uses: exclusive locks, with `ifAvailable` and `signal`. */
export interface Locks {
  request<T>(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: object | null) => Promise<T> | T): Promise<T>;
}

/**
 * Exclusive locks between tabs over a BroadcastChannel, for pages without Web Locks (plain http, Node):
 * a tab claims a lock, and holds it unless it hears within CLAIM_MS an earlier claim or a holder; it
 * says when it lets go, and says it still holds every HEARTBEAT_MS, so a tab that died without a word
 * is waited for at most LAPSE_MS. Channel messages can be late, so two tabs may both hold a lock: good
 * enough to fetch a key once for all tabs (the worst case is a fetch per tab, as with no lock at all),
 * never to guard data. One channel serves every request of this tab, open while any is.
 */
export class ChannelLocks implements Locks {
  readonly #openChannel: () => FetchChannel;
  #channel: FetchChannel | null = null;
  /** The requests under way, by lock: each hears the messages about its lock. */
  readonly #requests = new Map<string, Set<(message: LockMessage) => void>>();
  #open = 0;

  constructor(openChannel: () => FetchChannel) {
    this.#openChannel = openChannel;
  }

  async request<T>(lock: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (held: object | null) => Promise<T> | T): Promise<T> {
    const { signal, ifAvailable } = options;
    const id = randomId();
    const channel = this.#listen();
    const post = (kind: LockMessage['kind'], at = Date.now()) => {
      const message: LockMessage = { kind, lock, id, at };
      channel.postMessage(message);
      // This tab's other requests hear it too (a channel does not hear itself).
      queueMicrotask(() => this.#hear(message));
    };
    // The tab heard holding it, and when (by this tab's performance.now: the system clock may be set back
    // or jump, and a holder that died would be waited for as long); this tab's claim, and whether an earlier rival one was heard.
    const state: { holder: { id: string; heard: number } | null; claim: { at: number; rival: boolean } | null; holding: boolean } = {
      holder: null,
      claim: null,
      holding: false,
    };
    let wake = () => {};
    const hear = (message: LockMessage) => {
      if (message.id === id) return;
      if (message.kind === 'claim') {
        const { claim } = state;
        const now = Date.now();
        if (state.holding) post('held');
        else if (!claim || now - message.at > STALE_CLAIM_MS) return;
        else if (message.at < claim.at || (message.at === claim.at && message.id < id)) claim.rival = true;
        // A later claim, from a tab that listened only after this one claimed: it must hear of this one.
        else if (now - claim.at <= STALE_CLAIM_MS) post('claim', claim.at);
        return;
      }
      if (message.kind === 'held') state.holder = { id: message.id, heard: performance.now() };
      else if (state.holder?.id === message.id) state.holder = null;
      wake();
    };
    const heard = this.#requests.get(lock) ?? new Set();
    this.#requests.set(lock, heard.add(hear));
    // Resolves after `ms`, or sooner when a holder speaks (while claiming: once one is heard at all);
    // rejects once the caller aborts, as a Web Lock request does.
    const pause = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const settle = (error?: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          wake = () => {};
          if (error) reject(error);
          else resolve();
        };
        const abort = () => settle(signal!.reason instanceof Error ? signal!.reason : new DOMException('The lock request was aborted', 'AbortError'));
        const timer = setTimeout(() => settle(), ms);
        wake = () => (state.claim && !state.holder ? undefined : settle());
        if (signal?.aborted) abort();
        else signal?.addEventListener('abort', abort);
      });
    try {
      for (;;) {
        if (state.holder && performance.now() - state.holder.heard > LAPSE_MS) state.holder = null;
        if (!state.holder) {
          state.claim = { at: Date.now(), rival: false };
          post('claim', state.claim.at);
          await pause(CLAIM_MS);
          const won = !state.holder && !state.claim.rival;
          state.claim = null;
          if (won) break;
        }
        if (ifAvailable) return await callback(null);
        // Until the holder speaks again or lapses; with none heard yet, until the rival that won has.
        const { holder } = state;
        await pause(holder ? holder.heard + LAPSE_MS + 1 - performance.now() : STALE_CLAIM_MS);
      }
      state.holding = true;
      post('held');
      const heartbeat = setInterval(() => post('held'), HEARTBEAT_MS);
      try {
        return await callback({});
      } finally {
        clearInterval(heartbeat);
        state.holding = false;
        post('released');
      }
    } finally {
      heard.delete(hear);
      if (!heard.size) this.#requests.delete(lock);
      this.#unlisten();
    }
  }

  #listen(): FetchChannel {
    this.#open++;
    if (this.#channel) return this.#channel;
    const channel = this.#openChannel();
    channel.addEventListener('message', ({ data }) => {
      const parsed = lockMessageSchema.safeParse(data);
      if (parsed.success) this.#hear(parsed.data);
    });
    this.#channel = channel;
    return channel;
  }

  #hear(message: LockMessage): void {
    this.#requests.get(message.lock)?.forEach((hear) => hear(message));
  }

  #unlisten(): void {
    if (--this.#open || !this.#channel) return;
    this.#channel.close();
    this.#channel = null;
  }
}
