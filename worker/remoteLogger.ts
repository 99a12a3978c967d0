import { describeValue } from '../src/describeValue';
import type { Logger } from '../src/Logger';
import type { ClientCallbacks } from '../src/protocol';

/**
 * The engine's logger in a worker: every report goes to the page's `logger`. The detail goes as it is
 * when it can be cloned (Errors can; a CacheError has its own transfer handler), as text otherwise; if
 * the page cannot be reached, to this worker's console.
 */
export function remoteLogger(log: ClientCallbacks['log']): Logger {
  return {
    error(message, error) {
      const detail = cloneable(error) ? error : describeValue(error);
      Promise.resolve()
        .then(() => log(message, detail))
        .catch((failure: unknown) => console.error(message, error, failure));
    },
  };
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
