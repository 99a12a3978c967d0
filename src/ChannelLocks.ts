import * as z from 'zod/mini';
import type { FetchChannel } from './FetchLocks';
import { randomId } from './randomId';

/** How long a tab that asks for a free lock listens for a rival's earlier claim, or a holder's answer. */
const CLAIM_MS = 25;
/** How often a holder says it still holds (a tab that died says nothing more). */
const HEARTBEAT_MS = 1000;
/** A holder not heard from for this long is taken for gone (a closed or crashed tab). */
const LAPSE_MS = 3500;

/** What tabs tell each other about one lock, on the fetch channel (beside the fetch outcomes). */
const lockMessageSchema = z.strictObject({ kind: z.enum(['claim', 'held', 'released']), lock: z.string(), id: z.string(), at: z.number() });
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
 * never to guard data.
 */
export class ChannelLocks implements Locks {
  readonly #openChannel: () => FetchChannel;

  constructor(openChannel: () => FetchChannel) {
    this.#openChannel = openChannel;
  }

  async request<T>(lock: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (held: object | null) => Promise<T> | T): Promise<T> {
    const { signal, ifAvailable } = options;
    const id = randomId();
    const channel = this.#openChannel();
    const post = (kind: LockMessage['kind'], at = Date.now()) => channel.postMessage({ kind, lock, id, at } satisfies LockMessage);
    // The tab heard holding it, and when; this tab's claim, and whether an earlier rival one was heard.
    const state: { holder: { id: string; heard: number } | null; claim: { at: number; rival: boolean } | null; holding: boolean } = {
      holder: null,
      claim: null,
      holding: false,
    };
    let wake = () => {};
    channel.addEventListener('message', ({ data }) => {
      const parsed = lockMessageSchema.safeParse(data);
      if (!parsed.success || parsed.data.lock !== lock || parsed.data.id === id) return;
      const message = parsed.data;
      if (message.kind === 'claim') {
        const claim = state.claim;
        if (state.holding) post('held');
        else if (claim && (message.at < claim.at || (message.at === claim.at && message.id < id))) claim.rival = true;
        // A later claim, from a tab that opened its channel after this one claimed: it must hear of this one.
        else if (claim) post('claim', claim.at);
      } else if (message.kind === 'held') state.holder = { id: message.id, heard: Date.now() };
      else if (state.holder?.id === message.id) state.holder = null;
      if (message.kind !== 'claim') wake();
    });
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
        if (state.holder && Date.now() - state.holder.heard > LAPSE_MS) state.holder = null;
        if (!state.holder) {
          state.claim = { at: Date.now(), rival: false };
          post('claim', state.claim.at);
          await pause(CLAIM_MS);
          const won = !state.holder && !state.claim.rival;
          state.claim = null;
          if (won) break;
        }
        if (ifAvailable) return await callback(null);
        await pause(state.holder ? LAPSE_MS : CLAIM_MS * 4);
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
      channel.close();
    }
  }
}
