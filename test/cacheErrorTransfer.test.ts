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

describe('a CacheError inside an ordinary Error\'s cause, crossing the worker boundary', () => {
  it('thrown as the cause of a plain Error: the cause arrives as a CacheError with its code', async () => {
    const inner = new CacheError('quota_exceeded', 'Storage quota exceeded while writing');
    const error = (await thrownAcross(new Error('The write failed', { cause: inner }))) as Error;
    expect(error.message).toBe('The write failed');
    expect(isCacheError(error.cause, 'quota_exceeded')).toBe(true);
  });

  it('as the cause of a plain Error that is a CacheError\'s cause: both keep their codes', async () => {
    const inner = new CacheError('storage_unavailable', 'IndexedDB is gone');
    const error = (await thrownAcross(new CacheError('worker_failed', 'The worker stopped', { cause: new Error('Reopening failed', { cause: inner }) }))) as CacheError;
    expect(isCacheError(error, 'worker_failed')).toBe(true);
    expect((error.cause as Error).message).toBe('Reopening failed');
    expect(isCacheError((error.cause as Error).cause, 'storage_unavailable')).toBe(true);
  });

  it('a cause chain that loops back arrives, cut short, instead of failing the answer', async () => {
    const looped = new CacheError('storage_unavailable', 'Loops');
    (looped as { cause?: unknown }).cause = new CacheError('storage_unavailable', 'Around', { cause: looped });
    const error = await Promise.race([thrownAcross(looped), new Promise((resolve) => setTimeout(() => resolve('no answer'), 1000))]);
    expect(String(error)).toMatch(/^CacheError: Loops/);
    expect(isCacheError(error, 'storage_unavailable')).toBe(true);
  });
});
