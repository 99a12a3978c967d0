import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_OPTIONS, describeLatency, readDemoOptions } from '../demo/demoOptions';

describe('readDemoOptions', () => {
  it('gives the defaults without parameters', () => {
    expect(readDemoOptions('')).toEqual({ name: 'reprise-demo', seed: 1, tracks: 2000, latency: { min: 50, max: 300 } });
    expect(readDemoOptions('')).toEqual(DEFAULT_DEMO_OPTIONS);
  });

  it('reads name, seed, tracks and a fixed or ranged latency', () => {
    expect(readDemoOptions('?name=test-1&seed=42&tracks=500&latency=0')).toEqual({ name: 'test-1', seed: 42, tracks: 500, latency: { min: 0, max: 0 } });
    expect(readDemoOptions('?latency=10-20').latency).toEqual({ min: 10, max: 20 });
  });

  it.each(['?seed=-1', '?seed=1.5', '?tracks=0', '?tracks=100001', '?latency=20-10', '?latency=fast', '?name=%20%20'])(
    'keeps the default for a malformed parameter: %s',
    (search) => {
      expect(readDemoOptions(search)).toEqual(DEFAULT_DEMO_OPTIONS);
    },
  );
});

describe('describeLatency', () => {
  it('states the latency the URL asked for, as the page says it', () => {
    expect(describeLatency(DEFAULT_DEMO_OPTIONS.latency)).toBe('50–300 ms');
    expect(describeLatency(readDemoOptions('?latency=1000-1200').latency)).toBe('1000–1200 ms');
    expect(describeLatency(readDemoOptions('?latency=5').latency)).toBe('5 ms');
    expect(describeLatency(readDemoOptions('?latency=0').latency)).toBe('no delay');
  });
});
