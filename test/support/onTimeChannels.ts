// Channels between tabs simulated in one Node process that deliver on time, for tests of what ChannelLocks
// decides when its messages arrive within its claim window.
import type { FetchChannel } from '../../src/FetchLocks';

/**
 * Opens channels of one name whose messages reach the others a microtask after they are posted: asynchronous as
 * a browser's, but on time. (On Node's BroadcastChannel a thread stalled past ChannelLocks' 25 ms claim window, as
 * on a loaded machine, runs the expired claim timers before it dispatches the messages that arrived meanwhile:
 * late, and two tabs may then both hold a lock, which ChannelLocks allows for late messages.)
 */
export function onTimeChannels(): () => FetchChannel {
  const open = new Set<((event: MessageEvent) => void)[]>();
  return () => {
    const listeners: ((event: MessageEvent) => void)[] = [];
    open.add(listeners);
    return {
      // As a BroadcastChannel's: a copy, to every other channel open when it is posted, never to itself.
      postMessage: (message) => {
        for (const other of open) {
          if (other === listeners) continue;
          const event = new MessageEvent('message', { data: structuredClone(message) });
          queueMicrotask(() => open.has(other) && other.forEach((listener) => listener(event)));
        }
      },
      addEventListener: (_, listener) => void listeners.push(listener),
      close: () => void open.delete(listeners),
    };
  };
}
