// A tab's cache channel that silently loses messages, as a tab does that misses them with no lifecycle
// event to tell it (SPEC §5: catch-up tests must make a tab really miss messages).
import { checkedChannel } from '../../src/checkedChannel';
import type { ChannelLike } from '../../src/TabChannel';

/**
 * A channel that silently loses what arrives while `lose` is set, as a tab does that misses messages
 * with no lifecycle event to tell it.
 */
export function lossyChannel(name: string) {
  // `lost`: what it lost, so that a test can wait until a message it means to lose has come.
  const state = { lose: false, lost: [] as unknown[] };
  const open = checkedChannel((): ChannelLike => {
    const channel = new BroadcastChannel(name);
    return {
      postMessage: (message) => channel.postMessage(message),
      addEventListener: (type, listener) => channel.addEventListener(type, (event) => (state.lose ? state.lost.push((event as MessageEvent).data) : listener(event as MessageEvent))),
      close: () => channel.close(),
    };
  });
  return Object.assign(state, { open });
}
