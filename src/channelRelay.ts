import { KeptMessages } from './KeptMessages';
import type { RelayedMessage, RelayRequest } from './protocol';
import type { OpenTabChannel, TabChannel } from './TabChannel';
import { unref } from './unref';

/** How long a closed relay still passes on what its worker posted before (see ChannelRelay.close). */
const CLOSE_WAIT_MS = 1000;

/** The page's side of its worker's channels to the other tabs. */
export interface ChannelRelay {
  /** The worker's end, sent to it as it opens (`WorkerOpenOptions.relay`). */
  readonly port: MessagePort;
  /**
   * The page is being frozen or hidden: stop listening now. The worker closes its channels when its own
   * `suspend` reaches it, which a page entering the back/forward cache may no longer see happen.
   */
  pause(): void;
  /** The page runs again: while its worker has not asked for its first channel, listen for it again. */
  resume(): void;
  /**
   * The worker died, or the cache closed: stop listening now (the channel still listening, for the page's
   * next worker: see KeptMessages.listen). What the worker had posted before still goes out (a tab without
   * IndexedDB learns of a change only so), until each of its channels has said it closed, or CLOSE_WAIT_MS
   * have passed (a crashed worker says nothing).
   */
  close(): void;
}

/**
 * Joins each channel the worker opens (a MessagePort sent over `port`) to a channel of this page
 * opened with `openChannel` (a `checkedChannel`, which validates every message), until the worker
 * closes it: so the worker ships no validator, and worker and in-process engines share one validation
 * path. One BroadcastChannel per channel of the worker keeps TabSync's rules exact: the worker learns
 * it listens (`'listening'`) only once the BroadcastChannel is open, and nothing reaches a channel it
 * closed — it catches up from the log when it opens the next one.
 */
export function channelRelay(openChannel: OpenTabChannel, kept: KeptMessages = new KeptMessages()): ChannelRelay {
  const { port1: requests, port2: port } = new MessageChannel();
  const relayed = new Set<{ pause: (hand?: (channel: TabChannel) => unknown) => void; close: () => void }>();
  // Listening from the start, for the worker's first channel: the worker asks for it once its engine has
  // opened, and what another tab says meanwhile (after createCache resolved) is this tab's business too.
  // Kept until then, and told first (TabSync.start tells those logged before where it starts, in log order). `kept` is
  // the page's: what a worker that died before asking was kept, or what the page heard while it had no
  // worker, goes to the next one (which starts there). This relay listens for it from now on.
  let early: RelayedMessage[] | null = kept.messages;
  let tellFirst: ((message: RelayedMessage) => void) | undefined;
  /** Where what the channel still listening as the worker died hears goes from then on (see close). */
  let after: ((message: RelayedMessage) => void) | undefined;
  const hear = (message: RelayedMessage) => (after ? after(message) : tellFirst ? tellFirst(message) : kept.keep(message));
  let first: TabChannel | null = kept.stop(hear) ?? openChannel(hear);
  /** Set once closed: closes the ports, when the worker's channels have all closed or the wait is over. */
  let closing: (() => void) | null = null;
  requests.onmessage = ({ data: worker }: MessageEvent<MessagePort>) => {
    if (closing) return worker.close();
    const tell = (message: RelayedMessage) => (kept.told(message), worker.postMessage(message));
    early?.splice(0).forEach(tell);
    early = null;
    tellFirst ??= tell;
    let channel: TabChannel | null = first ?? openChannel((message) => (after ?? tell)(message));
    first = null;
    const relay = {
      pause(hand?: (channel: TabChannel) => unknown) {
        if (channel && !hand?.(channel)) channel.close();
        channel = null;
      },
      close() {
        relay.pause();
        worker.close();
        relayed.delete(relay);
        if (!relayed.size) closing?.();
      },
    };
    relayed.add(relay);
    worker.onmessage = ({ data }: MessageEvent<RelayRequest>) => {
      if (data === null) return relay.close();
      kept.posted(data);
      // Paused, while the worker's suspend is on its way: what it says still goes out, as it would have.
      const to = channel ?? openChannel(() => {});
      to.post(data);
      if (to !== channel) to.close();
    };
    tell('listening');
    unref(worker);
  };
  unref(requests);
  const pause = (hand?: (channel: TabChannel) => unknown) => {
    // What was heard stays for the worker; what comes while paused is missed, as by an open engine.
    if (first && !hand?.(first)) first.close();
    first = null;
    relayed.forEach((relay) => relay.pause(hand));
  };
  return {
    port,
    pause,
    resume() {
      // Not asked yet: what comes from now on is the worker's business, as before the pause.
      if (early && !first && !closing) first = openChannel(hear);
    },
    close() {
      if (closing) return;
      // Nothing hears from now on (see resume): what was kept stays in `kept`, for the next worker of this page (the malformed
      // ones too: this one never heard them, the next counts them). But the channel still listening (none while paused) listens
      // on, for `kept` and then the next worker's relay (see KeptMessages.stop), unless the cache closed: a message another tab
      // posted just before, not delivered yet, would reach no channel opened after it (a set the watchers would not hear).
      pause((channel) => !after && (kept.listen((hear) => ((after = hear), channel)), after));
      // And what the worker was told and did not answer: its relay of another tab's change may have waited on IndexedDB.
      kept.unanswered();
      closing = () => {
        closing = () => {};
        clearTimeout(timer);
        relayed.forEach((relay) => relay.close());
        requests.close();
      };
      const timer = setTimeout(closing, CLOSE_WAIT_MS);
      unref(timer);
      if (!relayed.size) closing();
    },
  };
}
