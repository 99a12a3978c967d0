// Another tab's channel whose outgoing messages a test holds back, records, delays or acts on.
import { checkedChannel } from '../../src/checkedChannel';
import type { ChannelLike, OpenTabChannel } from '../../src/TabChannel';

/**
 * A tab's checked channel on `name` whose posts go through `post`, given each message and `send` (the
 * BroadcastChannel's own post); what it hears arrives as on a plain channel.
 */
export function postingChannel(name: string, post: (message: unknown, send: (message: unknown) => void) => void): OpenTabChannel {
  return checkedChannel((): ChannelLike => {
    const channel = new BroadcastChannel(name);
    return {
      postMessage: (message) => post(message, (sent) => channel.postMessage(sent)),
      addEventListener: (type, listener) => channel.addEventListener(type, listener as (event: Event) => void),
      close: () => channel.close(),
    };
  });
}
