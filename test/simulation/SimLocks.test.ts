import { describe, expect, test } from 'vitest';
import { SimLocks } from './SimLocks';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await turn();
};

/** A promise settled from outside, to hold a lock for as long as a test wants. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('SimLocks', () => {
  test('grants asynchronously and resolves with the callback result', async () => {
    const locks = new SimLocks();
    let called = false;
    const result = locks.manager('a').request('l', (lock) => {
      called = true;
      expect(lock).toMatchObject({ name: 'l', mode: 'exclusive' });
      return Promise.resolve(42);
    });
    expect(called).toBe(false);
    expect(await result).toBe(42);
  });

  test('grants in FIFO order per name, across tabs, one exclusive holder at a time', async () => {
    const locks = new SimLocks();
    const order: string[] = [];
    let holders = 0;
    const hold = (tab: string) =>
      locks.manager(tab).request('l', async () => {
        holders++;
        expect(holders).toBe(1);
        order.push(tab);
        await turns(2);
        holders--;
      });
    await Promise.all(['a', 'b', 'c', 'a', 'd'].map(hold));
    expect(order).toEqual(['a', 'b', 'c', 'a', 'd']);
  });

  test('different names do not block each other', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const first = locks.manager('a').request('x', () => gate.promise);
    expect(await locks.manager('b').request('y', () => 'free')).toBe('free');
    gate.resolve();
    await first;
  });

  test('ifAvailable: the callback gets null when the lock cannot be granted at once', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const held = locks.manager('a').request('l', () => gate.promise);
    expect(await locks.manager('b').request('l', { ifAvailable: true }, (lock) => lock)).toBeNull();
    gate.resolve();
    await held;
    expect(await locks.manager('b').request('l', { ifAvailable: true }, (lock) => lock?.name)).toBe('l');
  });

  test('ifAvailable does not jump a queue that is waiting', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const held = locks.manager('a').request('l', { mode: 'shared' }, () => gate.promise);
    const waiting = locks.manager('b').request('l', () => 'exclusive');
    // Shared is compatible with the holder, but an exclusive request is queued ahead of it.
    expect(await locks.manager('c').request('l', { mode: 'shared', ifAvailable: true }, (lock) => lock)).toBeNull();
    gate.resolve();
    expect(await waiting).toBe('exclusive');
    await held;
  });

  test('shared locks are held together; exclusive waits for all of them, and blocks later shared ones', async () => {
    const locks = new SimLocks();
    const log: string[] = [];
    const s1 = deferred();
    const s2 = deferred();
    const shared1 = locks.manager('a').request('l', { mode: 'shared' }, () => (log.push('s1'), s1.promise));
    const shared2 = locks.manager('b').request('l', { mode: 'shared' }, () => (log.push('s2'), s2.promise));
    const exclusive = locks.manager('c').request('l', () => void log.push('x'));
    const shared3 = locks.manager('d').request('l', { mode: 'shared' }, () => void log.push('s3'));
    await turns();
    expect(log).toEqual(['s1', 's2']);
    expect(await locks.manager('a').query()).toEqual({
      held: [
        { name: 'l', mode: 'shared', clientId: 'a' },
        { name: 'l', mode: 'shared', clientId: 'b' },
      ],
      pending: [
        { name: 'l', mode: 'exclusive', clientId: 'c' },
        { name: 'l', mode: 'shared', clientId: 'd' },
      ],
    });
    s1.resolve();
    await turns();
    expect(log).toEqual(['s1', 's2']);
    s2.resolve();
    await Promise.all([shared1, shared2, exclusive, shared3]);
    expect(log).toEqual(['s1', 's2', 'x', 's3']);
    expect(await locks.manager('a').query()).toEqual({ held: [], pending: [] });
  });

  test('a lock is released when the callback promise rejects, and request rejects with the reason', async () => {
    const locks = new SimLocks();
    const boom = new Error('boom');
    const failing = locks.manager('a').request('l', () => Promise.reject(boom));
    const next = locks.manager('b').request('l', () => 'next');
    expect(await rejection(failing)).toBe(boom);
    expect(await next).toBe('next');
  });

  test('a callback that throws synchronously releases the lock too', async () => {
    const locks = new SimLocks();
    const failing = locks.manager('a').request('l', () => {
      throw new TypeError('sync');
    });
    const next = locks.manager('b').request('l', () => 'next');
    expect(await rejection(failing)).toBeInstanceOf(TypeError);
    expect(await next).toBe('next');
  });

  test('the lock is held until the callback promise settles, not until the callback returns', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    let second = false;
    const first = locks.manager('a').request('l', () => gate.promise);
    const next = locks.manager('b').request('l', () => {
      second = true;
    });
    await turns(10);
    expect(second).toBe(false);
    gate.resolve();
    await Promise.all([first, next]);
    expect(second).toBe(true);
  });

  test('kill releases the dead tab\'s locks to a waiter in another tab; its requests never settle', async () => {
    const locks = new SimLocks();
    const forever = deferred();
    const settled: string[] = [];
    const track = (label: string, promise: Promise<unknown>) =>
      promise.then(
        () => settled.push(`${label} resolved`),
        () => settled.push(`${label} rejected`),
      );
    track('held', locks.manager('worker').request('l', () => forever.promise));
    track('queued', locks.manager('worker').request('other', () => forever.promise));
    track('queued behind', locks.manager('worker').request('other', () => 'never'));
    const waiter = locks.manager('tab').request('l', (lock) => lock?.name);
    await turns();
    expect((await locks.manager('tab').query()).pending).toEqual([
      { name: 'other', mode: 'exclusive', clientId: 'worker' },
      { name: 'l', mode: 'exclusive', clientId: 'tab' },
    ]);

    locks.kill('worker');
    expect(await waiter).toBe('l');
    forever.resolve(); // the dead tab's callback settles: ignored
    track('after death', locks.manager('worker').request('late', () => 'zombie'));
    await turns();
    expect(settled).toEqual([]);
    expect(await locks.manager('tab').query()).toEqual({ held: [], pending: [] });
  });

  test('kill drops a queued request that blocked others behind it', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const held = locks.manager('a').request('l', { mode: 'shared' }, () => gate.promise);
    void locks.manager('dead').request('l', () => 'never');
    const shared = locks.manager('b').request('l', { mode: 'shared' }, () => 'shared');
    await turns();
    locks.kill('dead');
    expect(await shared).toBe('shared'); // granted alongside a's, which still holds
    gate.resolve();
    await held;
  });

  test('aborting the signal of a queued request rejects it with an AbortError and unblocks the queue', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const held = locks.manager('a').request('l', { mode: 'shared' }, () => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const aborted = locks.manager('b').request('l', { signal: controller.signal }, () => {
      ran = true;
    });
    const shared = locks.manager('c').request('l', { mode: 'shared' }, () => 'shared');
    await turns();
    controller.abort();
    const error = await rejection(aborted);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(await shared).toBe('shared');
    gate.resolve();
    await held;
    expect(ran).toBe(false);
  });

  test('an already aborted signal rejects at once; aborting after the grant changes nothing', async () => {
    const locks = new SimLocks();
    const manager = locks.manager('a');
    const error = await rejection(manager.request('l', { signal: AbortSignal.abort() }, () => 'never'));
    expect((error as DOMException).name).toBe('AbortError');

    const controller = new AbortController();
    const gate = deferred();
    const granted = manager.request('l', { signal: controller.signal }, () => gate.promise.then(() => 'kept'));
    await turns();
    controller.abort();
    gate.resolve();
    expect(await granted).toBe('kept');
  });

  test('steal takes the lock from its holder, whose request rejects with an AbortError', async () => {
    const locks = new SimLocks();
    const gate = deferred();
    const victim = locks.manager('a').request('l', () => gate.promise);
    await turns();
    const thief = locks.manager('b').request('l', { steal: true }, (lock) => lock?.name);
    expect(((await rejection(victim)) as DOMException).name).toBe('AbortError');
    expect(await thief).toBe('l');
    gate.resolve();
  });

  test('rejects option combinations the spec forbids', async () => {
    const manager = new SimLocks().manager('a');
    const names = await Promise.all([
      rejection(manager.request('l', { steal: true, ifAvailable: true }, () => 1)),
      rejection(manager.request('l', { steal: true, mode: 'shared' }, () => 1)),
      rejection(manager.request('l', { ifAvailable: true, signal: new AbortController().signal }, () => 1)),
      rejection(manager.request('-reserved', () => 1)),
    ]);
    expect(names.map((error) => (error as DOMException).name)).toEqual(Array(4).fill('NotSupportedError'));
  });
});
