// Bad calls through the public API (test/browser/pages/fuzzCalls.ts, also run in Chromium), here in
// worker mode with an in-process worker: each rejects with a CacheError, nothing throws or hangs, and
// the cache holds exactly what the valid calls wrote.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { CACHE_ERROR_CODES } from '../src/index';
import { fuzz, holdings } from './browser/pages/fuzzCalls';
import { openRemoteCache } from './support/inProcessWorkers';
import { fakeClock, uniqueName } from './support/openCache';

describe('bad calls', () => {
  it('10,000 of them (a valid write in ten mixed in) reject with listed codes, and change nothing else', async () => {
    const clock = fakeClock();
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: clock.now });
    const { cache: reference } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), now: clock.now });
    const report = await fuzz(cache, reference, 7, 10_000);
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(1000);
    const rejected = Object.values(report.codes).reduce((sum, count) => sum + count, 0);
    expect(rejected).toBe(9000);
    for (const code of Object.keys(report.codes)) expect(CACHE_ERROR_CODES).toContain(code);
    expect(await holdings(cache)).toEqual(await holdings(reference));
  }, 60_000);
});
