import { describe, expect, it } from 'vitest';
import { ChangesInFlight } from '../worker/ChangesInFlight';

/** A change that settles when the test says. */
function change() {
  let settle!: (ok: boolean) => void;
  const promise = new Promise<string>((resolve, reject) => (settle = (ok) => (ok ? resolve('done') : reject(new Error('failed')))));
  promise.catch(() => {});
  return { promise, settle };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('ChangesInFlight', () => {
  it('a read waits for the changes of its type on their way when it arrives, failed ones too, and for no later one', async () => {
    const inFlight = new ChangesInFlight();
    const [first, second, later, other] = [change(), change(), change(), change()];
    inFlight.track(['a'], first.promise);
    inFlight.track(['a', 'b'], second.promise);
    inFlight.track(['c'], other.promise);
    let waited = false;
    void inFlight.before('a')!.then(() => (waited = true));
    inFlight.track(['a'], later.promise);
    first.settle(true);
    await flushed();
    expect(waited).toBe(false);
    second.settle(false);
    await flushed();
    expect(waited).toBe(true);
    expect(inFlight.before('b')).toBeUndefined();
    expect(inFlight.before('a')).toBeDefined();
    later.settle(true);
    await flushed();
    expect(inFlight.before('a')).toBeUndefined();
    expect(inFlight.before('c')).toBeDefined();
  });

  it('one reads need not wait for (a read with a fingerprint): a read does not, a change does', async () => {
    const inFlight = new ChangesInFlight();
    const checking = change();
    inFlight.track(['a'], checking.promise, false);
    expect(inFlight.before('a')).toBeUndefined();
    let started = false;
    void inFlight.inTurn(['a'], async () => void (started = true));
    await flushed();
    expect(started).toBe(false);
    checking.settle(true);
    await flushed();
    expect(started).toBe(true);
  });

  it('returns the change it tracks, as it settles', async () => {
    const inFlight = new ChangesInFlight();
    const one = change();
    const tracked = inFlight.track(['a'], one.promise);
    one.settle(false);
    await expect(tracked).rejects.toThrow('failed');
  });
});
