// `SOAK_SEEDS=N npm run soak`: N seeds (1,000 by default) from SOAK_FROM (1); `SIM_SEED=s npm run soak`
// replays one seed (SIM_DRAWS=d as well, if the soak ran with it: see runSimulation). Never part of `npm test`, which runs a fixed set (simulation.test.ts).
import { describe, expect, it } from 'vitest';
import { runSimulation, SimulationFailure, type SimulationReport } from './runSimulation';

const only = process.env['SIM_SEED'];
const from = Number(process.env['SOAK_FROM'] ?? 1);
const count = Number(process.env['SOAK_SEEDS'] ?? 1000);
const steps = process.env['SIM_STEPS'] === undefined ? undefined : Number(process.env['SIM_STEPS']);
const seeds = only === undefined ? Array.from({ length: count }, (_, index) => from + index) : [Number(only)];

describe('the simulation, soaked', () => {
  it(`holds for ${seeds.length} seeds`, async () => {
    const started = Date.now();
    const failures: string[] = [];
    let ran = 0;
    const totals: Omit<SimulationReport, 'seed'> = { steps: 0, calls: 0, rejected: {}, faults: {}, settles: 0 };
    for (const seed of seeds) {
      ran++;
      try {
        const report = await runSimulation({ seed, ...(steps === undefined ? {} : { steps }) });
        totals.steps += report.steps;
        totals.calls += report.calls;
        totals.settles += report.settles;
        for (const [code, n] of Object.entries(report.rejected)) totals.rejected[code as keyof typeof totals.rejected] = (totals.rejected[code as keyof typeof totals.rejected] ?? 0) + n;
        for (const [fault, n] of Object.entries(report.faults)) totals.faults[fault] = (totals.faults[fault] ?? 0) + n;
      } catch (error) {
        failures.push(error instanceof SimulationFailure ? error.message : `Simulation seed ${seed} threw: ${error instanceof Error ? error.stack : String(error)}`);
        if (only !== undefined || failures.length >= 5) break;
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // The totals are the passing seeds' (a failing one's report is its failure): say so rather than print its steps as none.
    const passed = ran - failures.length;
    const of = ran < seeds.length ? ` (stopped after ${ran} of ${seeds.length})` : '';
    console.log(`${ran} seeds in ${seconds} s${of}, ${passed} passed; totals of those that passed: ${JSON.stringify(totals)}`);
    if (failures.length) console.log(failures.join('\n\n'));
    expect(failures.map((failure) => failure.split('\n')[0])).toEqual([]);
  });
});
