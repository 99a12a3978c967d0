import * as Comlink from 'comlink';

/**
 * Exposes `engine` on a port of its own, as Comlink.proxy does, and returns that port for the page (which
 * wraps it, see connectWorker). A call sent there that this thread cannot rebuild (a value nested deeper
 * than its stack lets it, which the page's could copy) comes as a messageerror, or in Chromium as a
 * message of null data (the page sends none such); Comlink ignores both, and the page would wait for its
 * answer for ever: it is told with a null.
 */
export function exposeEngine(engine: object): MessagePort {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(engine, port1);
  const unreadable = () => port1.postMessage(null);
  port1.addEventListener('messageerror', unreadable);
  port1.addEventListener('message', ({ data }) => data == null && unreadable());
  return Comlink.transfer(port2, [port2]);
}
