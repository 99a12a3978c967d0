import { describe, expect, it } from 'vitest';
import { inOrder } from '../src/inOrder';

/** A thing that becomes ready when `open` is called (or fails with `fail`). */
function later() {
  let value: string | undefined;
  let open!: (v: string) => void;
  let fail!: (error: Error) => void;
  const opened = new Promise<string>((resolve, reject) => {
    open = (v) => resolve((value = v));
    fail = reject;
  });
  opened.catch(() => {});
  return { ready: () => value, wait: () => opened, open, fail };
}

describe('inOrder', () => {
  it('makes a call at once, not after an await, when the thing is ready and nothing waits', async () => {
    const run = inOrder(() => 'engine', () => Promise.reject(new Error('not asked')));
    const seen: string[] = [];
    const call = run((engine) => void seen.push(engine));
    expect(seen).toEqual(['engine']);
    await call;
  });

  it('keeps the order made: a call made once ready, while earlier calls still wait, goes after them', async () => {
    const thing = later();
    const run = inOrder(thing.ready, thing.wait);
    const order: number[] = [];
    const first = run(() => void order.push(1));
    const second = run(() => void order.push(2));
    thing.open('engine');
    // Ready now, but the two calls before have not been made yet: this one waits its turn.
    const third = run(() => void order.push(3));
    expect(order).toEqual([]);
    await Promise.all([first, second, third]);
    expect(order).toEqual([1, 2, 3]);
    // Nobody waits any more: at once again.
    void run(() => void order.push(4));
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('runs onWait synchronously only for a call that waits', () => {
    const thing = later();
    const run = inOrder(thing.ready, thing.wait);
    const waited: string[] = [];
    void run(() => {}, () => waited.push('a'));
    expect(waited).toEqual(['a']);
    const ready = inOrder(() => 'ready', thing.wait);
    void ready(() => {}, () => waited.push('b'));
    expect(waited).toEqual(['a']);
  });

  it('gives every waiting call the failure of the wait, and later calls wait again', async () => {
    const failed = later();
    let wait = failed.wait;
    const run = inOrder(() => undefined, () => wait());
    const calls = [run(() => 1), run(() => 2)];
    failed.fail(new Error('no engine'));
    for (const call of calls) await expect(call).rejects.toThrow('no engine');
    const next = later();
    wait = next.wait;
    const call = run((engine) => engine);
    next.open('second');
    await expect(call).resolves.toBe('second');
  });

  it('turns a call, onWait or ready that throws into a rejection', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    await expect(inOrder(() => 'ready', later().wait)(boom)).rejects.toThrow('boom');
    await expect(inOrder(() => undefined, later().wait)(() => 1, boom)).rejects.toThrow('boom');
    await expect(inOrder(boom, later().wait)(() => 1)).rejects.toThrow('boom');
  });
});
