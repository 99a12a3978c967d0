import { describe, expect, it } from 'vitest';
import { ChangesInFlight } from '../worker/ChangesInFlight';
import { openCache } from './support/openCache';

/** A change that settles when the test says. */
function change() {
  let settle!: (ok: boolean) => void;
  const promise = new Promise<string>((resolve, reject) => (settle = (ok) => (ok ? resolve('done') : reject(new Error('failed')))));
  promise.catch(() => {});
  return { promise, settle };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

/** How many times a promise's `then` is called while `work` runs (Promise.all and its kin call it on each promise given): its steps, counted without a clock. */
async function thensOf(work: () => Promise<unknown>): Promise<number> {
  const then = Promise.prototype.then;
  let thens = 0;
  Promise.prototype.then = function (this: Promise<unknown>, ...args: Parameters<typeof then>) {
    thens++;
    return then.apply(this, args);
  } as typeof then;
  try {
    await work();
  } finally {
    Promise.prototype.then = then;
  }
  return thens;
}

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

  it('a change waits for the last change of its types and the reads with a fingerprint since; a read for the last change, until it has landed', async () => {
    const inFlight = new ChangesInFlight();
    const [first, checking, second, landed, third] = [change(), change(), change(), change(), change()];
    const started: string[] = [];
    const start = (name: string, settles: ReturnType<typeof change>) => () => (started.push(name), settles.promise);
    void inFlight.inTurn(['a'], start('first', first));
    inFlight.track(['a'], checking.promise, false);
    void inFlight.inTurn(['a', 'b'], start('second', second), landed.promise);
    void inFlight.inTurn(['b'], start('third', third));
    let read = false;
    void inFlight.before('a')!.then(() => (read = true));
    first.settle(false);
    await flushed();
    expect(started).toEqual(['first']);
    checking.settle(true);
    await flushed();
    expect(started).toEqual(['first', 'second']);
    expect(read).toBe(false);
    landed.settle(true);
    await flushed();
    expect(started).toEqual(['first', 'second', 'third']);
    expect(read).toBe(true);
    expect(inFlight.before('a')).toBeUndefined();
    third.settle(true);
    await flushed();
    expect(inFlight.before('b')).toBeUndefined();
  });

  it('seen moves for each change, read with a fingerprint and read’s wait of a type, and for no other type’s: a set may join the one before only while it stands', async () => {
    const inFlight = new ChangesInFlight();
    const steps: number[] = [inFlight.seen('track_metadata')];
    void inFlight.inTurn(['track_metadata'], () => change().promise);
    steps.push(inFlight.seen('track_metadata'));
    void inFlight.inTurn(['album_year'], () => change().promise);
    inFlight.before('album_year');
    steps.push(inFlight.seen('track_metadata'));
    inFlight.track(['track_metadata'], change().promise, false);
    steps.push(inFlight.seen('track_metadata'));
    inFlight.before('track_metadata');
    steps.push(inFlight.seen('track_metadata'));
    void inFlight.inTurn(['track_metadata', 'album_year'], () => change().promise);
    steps.push(inFlight.seen('track_metadata'));
    expect(steps).toEqual([0, 1, 1, 2, 3, 4]);
  });

  it('settled waits for the changes of every type (or none) on their way as it is asked, failed ones too, and for no later one', async () => {
    const inFlight = new ChangesInFlight();
    const [first, other, none, later] = [change(), change(), change(), change()];
    inFlight.track(['a'], first.promise);
    inFlight.track(['b'], other.promise);
    void inFlight.inTurn([], () => none.promise);
    let waited = false;
    void inFlight.settled().then(() => (waited = true));
    inFlight.track(['a'], later.promise);
    first.settle(false);
    other.settle(true);
    await flushed();
    expect(waited).toBe(false);
    none.settle(true);
    await flushed();
    expect(waited).toBe(true);
    later.settle(true);
  });

  it('returns the change it tracks, as it settles', async () => {
    const inFlight = new ChangesInFlight();
    const one = change();
    const tracked = inFlight.track(['a'], one.promise);
    one.settle(false);
    await expect(tracked).rejects.toThrow('failed');
  });

  it('changes of a type made in one go (a set per row, not awaited) each wait for the one before, not for all before it: 4 times as many take about 4 times the steps', async () => {
    // An app that writes a row at a time with Promise.all: when each change waited for every one before it,
    // 2,000 sets in one go took seconds of the worker's time, and every call waited behind them. A type in
    // memory, to be quick: one in IndexedDB takes its turn the same way.
    const steps = async (count: number) => {
      const { cache } = await openCache();
      const keys = Array.from({ length: count }, (_, index) => `k${index}`);
      return thensOf(async () => {
        await Promise.all(keys.map((key, index) => cache.set('generic', key, index)));
        await Promise.all(keys.map((key) => cache.delete('generic', key)));
        await cache.close();
      });
    };
    const few = await steps(250);
    const many = await steps(1_000);
    expect(many / few, `1,000 sets then 1,000 deletes took ${many} promise steps, ${(many / few).toFixed(1)} times the ${few} of 250 each`).toBeLessThan(6);
  });
});
