import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheError, isCacheError } from '../src/index';
import { registerCacheErrorTransfer } from '../src/cacheErrorTransfer';
import type { ClientCallbacks } from '../src/protocol';
import { remoteLogger } from '../worker/remoteLogger';

registerCacheErrorTransfer();

const ports: { close(): void }[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
  vi.restoreAllMocks();
});

/** The page's logger exposed over a real MessageChannel through Comlink, as the worker sees it. */
function pageLogger() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const received: [string, unknown][] = [];
  Comlink.expose({ log: (message: string, error: unknown) => void received.push([message, error]) }, port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<Pick<ClientCallbacks, 'log'>>(port2 as unknown as Comlink.Endpoint);
  return { received, log: remote.log as unknown as ClientCallbacks['log'] };
}

describe('remoteLogger', () => {
  it("carries the worker's reports to the page: a CacheError keeps its code, an Error its message", async () => {
    const { received, log } = pageLogger();
    const logger = remoteLogger(log);
    logger.error('Reprise: one', new CacheError('storage_unavailable', 'IndexedDB is gone', { issues: [{ path: 'a', message: 'b' }] }));
    logger.error('Reprise: two', new TypeError('bad'));
    logger.error('Reprise: three', undefined);
    await vi.waitFor(() => expect(received).toHaveLength(3));
    const [[first, cacheError], [second, typeError], [third, nothing]] = received as [string, unknown][] as [[string, CacheError], [string, Error], [string, unknown]];
    expect([first, second, third]).toEqual(['Reprise: one', 'Reprise: two', 'Reprise: three']);
    expect(isCacheError(cacheError, 'storage_unavailable')).toBe(true);
    expect(cacheError).toBeInstanceOf(CacheError);
    expect(cacheError.issues).toEqual([{ path: 'a', message: 'b' }]);
    expect(typeError.message).toBe('bad');
    expect(nothing).toBeUndefined();
  });

  it('sends a detail that cannot be cloned as text', async () => {
    const { received, log } = pageLogger();
    remoteLogger(log).error('Reprise: odd', { callback: () => 1, id: 7n });
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]).toEqual(['Reprise: odd', 'an object']);
  });

  it("falls back to the worker's console when the page cannot be reached", async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const gone = vi.fn(() => Promise.reject(new Error('port closed')));
    const detail = new Error('the detail');
    remoteLogger(gone as unknown as ClientCallbacks['log']).error('Reprise: lost', detail);
    await vi.waitFor(() => expect(consoleError).toHaveBeenCalledWith('Reprise: lost', detail, expect.any(Error)));
  });
});
