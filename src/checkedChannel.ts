import { channelMessageSchema } from './channelMessage';
import type { ChannelLike, OpenTabChannel } from './TabChannel';
import { unref } from './unref';

/**
 * The one place where messages from other tabs are validated: every message that `open()`'s channel
 * (a BroadcastChannel) receives is `safeParse`d, and a malformed one reaches the engine as `null`, to
 * be dropped and counted. It runs on the page (the worker gets the checked messages through
 * `channelRelay`), or in-process with the engine.
 */
export function checkedChannel(open: () => ChannelLike): OpenTabChannel {
  return (receive) => {
    const channel = open();
    channel.addEventListener('message', (event) => {
      const parsed = channelMessageSchema.safeParse(event.data);
      receive(parsed.success ? parsed.data : null);
    });
    unref(channel);
    return { post: (message) => channel.postMessage(message), ready: Promise.resolve(), close: () => channel.close() };
  };
}
