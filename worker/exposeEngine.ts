import * as Comlink from 'comlink';
import { CALL_UNREADABLE } from '../src/protocol';

/**
 * Exposes `engine` on a port of its own, as Comlink.proxy does, and returns that port for the page (which
 * wraps it, see connectWorker). A call sent there that cannot be read (a `messageerror`, which Comlink
 * ignores) is told to the page, which would otherwise wait for its answer for ever.
 */
export function exposeEngine(engine: object): MessagePort {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(engine, port1);
  port1.addEventListener('messageerror', () => port1.postMessage(CALL_UNREADABLE));
  return Comlink.transfer(port2, [port2]);
}
