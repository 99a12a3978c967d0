import * as Comlink from 'comlink';
import { CALL_UNREADABLE } from '../src/protocol';

/**
 * Exposes `engine` on a port of its own, as Comlink.proxy does, and returns that port for the page (which
 * wraps it, see connectWorker). A call sent there that cannot be read (which Comlink ignores) is told
 * to the page, which would otherwise wait for its answer for ever.
 */
export function exposeEngine(engine: object): MessagePort {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(engine, port1);
  const unreadable = () => port1.postMessage(CALL_UNREADABLE);
  port1.addEventListener('messageerror', unreadable);
  // Chromium delivers a message it cannot rebuild (its stack overflows) as one of null data, which Comlink
  // ignores too: the page sends none such (each call is an object).
  port1.addEventListener('message', (event) => event.data == null && unreadable());
  return Comlink.transfer(port2, [port2]);
}
