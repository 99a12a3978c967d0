import type { RelayedMessage, RelayRequest } from '../src/protocol';
import type { OpenTabChannel } from '../src/TabChannel';
import { unref } from '../src/unref';

/**
 * The worker's channels to the other tabs, through the page (see src/channelRelay.ts): each one is a
 * MessageChannel whose other end is sent over `relay`, and is ready once the page says it listens.
 * Nothing reaches a channel once it is closed.
 */
export function relayedChannel(relay: MessagePort): OpenTabChannel {
  return (receive) => {
    const { port1: port, port2 } = new MessageChannel();
    let open = true;
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    port.onmessage = ({ data }: MessageEvent<RelayedMessage>) => {
      if (!open) return;
      if (data === 'listening') listening();
      else receive(data);
    };
    unref(port);
    relay.postMessage(port2, [port2]);
    const request = (message: RelayRequest) => port.postMessage(message);
    return {
      post: request,
      ready,
      close() {
        if (!open) return;
        open = false;
        listening();
        // The page closes the port when it reads this.
        request(null);
      },
    };
  };
}
