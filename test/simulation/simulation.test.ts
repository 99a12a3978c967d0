import { describe, expect, it } from 'vitest';
import { runSimulation } from './runSimulation';

// A fixed set of seeds, run by `npm test`; `SOAK_SEEDS=N npm run soak` runs many more.
const SEEDS = Array.from({ length: 150 }, (_, index) => index + 1);

describe('the simulation', () => {
  it.each(SEEDS)('seed %i: every invariant holds after every step', async (seed) => {
    const report = await runSimulation({ seed });
    expect(report.calls).toBeGreaterThan(0);
  });
});
