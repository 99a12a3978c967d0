import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheError, isCacheError } from '../src/index';
import { registerCacheErrorTransfer } from '../src/cacheErrorTransfer';

registerCacheErrorTransfer();

const ports: { close(): void }[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** What a call that throws `error` in the worker rejects with on the page, through Comlink over a real MessageChannel. */
async function thrownAcross(error: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  Comlink.expose({ fail: () => Promise.reject(error) }, port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<{ fail(): Promise<void> }>(port2 as unknown as Comlink.Endpoint);
  return remote.fail().then(
    () => expect.unreachable('the call resolved'),
    (rejected: unknown) => rejected,
  );
}

describe('a CacheError crossing the worker boundary', () => {
  it('keeps its code, issues and a cause that can be cloned (an Error), as in-process', async () => {
    const cause = new TypeError('The quota has been exceeded.');
    const error = await thrownAcross(new CacheError('quota_exceeded', 'Storage quota exceeded', { cause, issues: [{ path: 'a', message: 'b' }] }));
    expect(isCacheError(error, 'quota_exceeded')).toBe(true);
    expect((error as CacheError).issues).toEqual([{ path: 'a', message: 'b' }]);
    expect((error as CacheError).cause).toBeInstanceOf(Error);
    expect((error as CacheError).cause).toMatchObject({ message: 'The quota has been exceeded.' });
  });

  it('keeps a CacheError cause as a CacheError, with its code and its own cause (a retry after a full disk that failed again)', async () => {
    const refused = new CacheError('quota_exceeded', 'Storage quota exceeded while writing', { cause: new Error('The quota has been exceeded.') });
    const error = (await thrownAcross(new CacheError('quota_exceeded', 'Storage quota exceeded, even after evicting 3 entries', { cause: refused }))) as CacheError;
    expect(isCacheError(error, 'quota_exceeded')).toBe(true);
    expect(isCacheError(error.cause, 'quota_exceeded')).toBe(true);
    expect((error.cause as CacheError).message).toBe('Storage quota exceeded while writing');
    expect((error.cause as CacheError).cause).toMatchObject({ message: 'The quota has been exceeded.' });
  });

  it('drops a cause that cannot be cloned, and still arrives', async () => {
    const error = (await thrownAcross(new CacheError('storage_unavailable', 'Gone', { cause: { callback: () => 1 } }))) as CacheError;
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
    expect(error.cause).toBeUndefined();
  });
});
