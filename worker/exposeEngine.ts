import * as Comlink from 'comlink';
import { inParts } from '../src/answerParts';

/**
 * Exposes `engine` on a port of its own, as Comlink.proxy does, and returns that port for the page (which
 * wraps it, see connectWorker). A call sent there that this thread cannot rebuild (a value nested deeper
 * than its stack lets it, which the page's could copy) comes as a messageerror, or in Chromium as a
 * message of null data (the page sends none such); Comlink ignores both, and the page would wait for its
 * answer for ever: it is told with a null. A big answer goes in parts (see answerParts).
 */
export function exposeEngine(engine: object): MessagePort {
  const { port1, port2 } = new MessageChannel();
  // The page calls methods only: each on the engine itself (its private fields are its own), its answer in parts if big.
  const exposed = new Proxy(engine as Record<string | symbol, (...args: unknown[]) => unknown>, {
    get: (target, method) => async (...args: unknown[]) => inParts(await target[method]!(...args)),
  });
  Comlink.expose(exposed, port1);
  const unreadable = () => port1.postMessage(null);
  port1.addEventListener('messageerror', unreadable);
  port1.addEventListener('message', ({ data }) => data == null && unreadable());
  return Comlink.transfer(port2, [port2]);
}
