// The size goal (SPEC §5): what an app ships for Reprise, main thread and worker, minified and
// gzipped, is smaller than what it ships for Dexie, both built by Vite in this run (no stored figure).
// The table is printed either way, and is the failure message.
import { expect, it } from 'vitest';
import { measureShippedSizes, sizeTable } from './bench/shippedSizes';

it('an app ships less JavaScript for Reprise (main thread + worker, min + gzip) than for Dexie', async () => {
  const sizes = await measureShippedSizes();
  const report = sizeTable(sizes).join('\n');
  console.log(report);
  expect(sizes.reprise.worker.gzip, report).toBeGreaterThan(0);
  expect(sizes.reprise.total.gzip, report).toBeLessThan(sizes.dexie.total.gzip);
}, 60_000);
