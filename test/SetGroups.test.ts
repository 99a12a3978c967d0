import { describe, expect, it } from 'vitest';
import type { CachePolicy } from '../src/cachePolicy';
import { ChangesInFlight } from '../worker/ChangesInFlight';
import { SetGroups, type SetCall } from '../worker/SetGroups';

const policy = { maxSizeMb: 10, cleanupThreshold: 0.8 } as CachePolicy;
const flushed = () => new Promise((resolve) => setImmediate(resolve));

/** A change of `type` on its way, which holds the turn until the test lets it go. */
function holding(inFlight: ChangesInFlight, type = 'track_metadata') {
  let release!: () => void;
  void inFlight.inTurn([type], () => new Promise<void>((resolve) => (release = resolve)));
  return () => release();
}

/** SetGroups over a write that records the keys of each transaction's calls, and fails those the test names (the calls handed back). */
function groups(failing: (keys: string[][]) => boolean = () => false) {
  const inFlight = new ChangesInFlight();
  const writes: string[][][] = [];
  const sets = new SetGroups({
    inFlight,
    importChunk: undefined,
    write: async (_type, calls: SetCall[], landed) => {
      const keys = calls.map((call) => call.inputs.map((input) => input.key));
      writes.push(keys);
      // A transaction takes a while: the calls made meanwhile come in during it.
      await flushed();
      if (calls.length > 1 && failing(keys)) return calls;
      landed?.();
      for (const call of calls) call.settle.resolve({ stale: [], shared: true });
      return [];
    },
  });
  const set = (key: string, budget = policy) => sets.join('track_metadata', { inputs: [{ key, value: key }], usedAt: [0], policy: budget, options: {} });
  return { inFlight, writes, set };
}

describe('SetGroups', () => {
  it('a set made when nothing of its type is on its way is written alone at once; those made while it waits for its turn, together after it', async () => {
    const { inFlight, writes, set } = groups();
    const release = holding(inFlight);
    const first = set('a');
    const more = ['b', 'c', 'd'].map((key) => set(key));
    await flushed();
    expect(writes).toEqual([]);
    release();
    await Promise.all([first, ...more]);
    expect(writes).toEqual([[['a'], ['b'], ['c'], ['d']]]);
    await set('e');
    expect(writes.at(-1)).toEqual([['e']]);
  });

  it('a read or another change of the type between two sets, or another budget, starts a new group; another type’s does not', async () => {
    const { inFlight, writes, set } = groups();
    const release = holding(inFlight);
    const calls = [set('a'), set('b')];
    void inFlight.before('track_metadata');
    calls.push(set('c'), set('d'));
    void inFlight.before('album_metadata');
    calls.push(set('e'), set('f', { ...policy, maxSizeMb: 5 }), set('g', { ...policy, maxSizeMb: 5 }));
    release();
    await Promise.all(calls);
    expect(writes).toEqual([[['a'], ['b']], [['c'], ['d'], ['e']], [['f'], ['g']]]);
  });

  it('holds at most 250 calls: the 251st starts the next group', async () => {
    const { inFlight, writes, set } = groups();
    const release = holding(inFlight);
    const calls = Array.from({ length: 251 }, (_, index) => set(`k${index}`));
    release();
    await Promise.all(calls);
    expect(writes.map((write) => write.length)).toEqual([250, 1]);
  });

  it('the calls a failed transaction hands back are written alone, in order; the sets after them wait for them', async () => {
    const { inFlight, writes, set } = groups(() => true);
    const release = holding(inFlight);
    const calls = [set('a'), set('b'), set('c')];
    release();
    await flushed();
    expect(writes).toEqual([[['a'], ['b'], ['c']]]);
    const later = set('d');
    await Promise.all([...calls, later]);
    expect(writes).toEqual([[['a'], ['b'], ['c']], [['a']], [['b']], [['c']], [['d']]]);
  });
});
