import { describe, expect, it, vi } from 'vitest';
import { WebLocks } from '../worker/WebLocks';
import { refusingLocks } from './support/fakeLocks';

describe('WebLocks', () => {
  it('a refused request answers null without running its callback, and none is asked for after it', async () => {
    const locks = refusingLocks();
    const webLocks = new WebLocks(locks as unknown as LockManager);
    const callback = vi.fn();
    expect(await webLocks.request('a', {}, callback)).toBeNull();
    expect(await webLocks.held()).toBeUndefined();
    expect(callback).not.toHaveBeenCalled();
    expect([locks.request.mock.calls.length, locks.query.mock.calls.length]).toEqual([1, 0]);
  });

  it('a refused query answers undefined, as where there are no locks', async () => {
    const locks = refusingLocks();
    const webLocks = new WebLocks(locks as unknown as LockManager);
    expect(await webLocks.held()).toBeUndefined();
    expect(await webLocks.request('a', {}, () => 1)).toBeNull();
    expect(locks.request).not.toHaveBeenCalled();
  });

  it('a granted request answers its callback\'s value, and rejects with its callback\'s error', async () => {
    const request = vi.fn((_name: string, _options: LockOptions, callback: (lock: Lock | null) => unknown) => Promise.resolve().then(() => callback({ name: 'a', mode: 'exclusive' } as Lock)));
    const webLocks = new WebLocks({ request } as unknown as LockManager);
    expect(await webLocks.request('a', {}, () => 1)).toEqual({ value: 1 });
    const failure = new Error('its own');
    await expect(webLocks.request('a', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await webLocks.request('a', {}, () => 2)).toEqual({ value: 2 });
  });

  it('without locks, no request is made', async () => {
    const webLocks = new WebLocks(undefined);
    expect(await webLocks.request('a', {}, () => 1)).toBeNull();
    expect(await webLocks.held()).toBeUndefined();
  });
});
