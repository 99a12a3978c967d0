import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/CacheError';
import { isWorkerDeath, workerDeath } from '../src/workerDeath';

describe('workerDeath', () => {
  it('tells the worker_failed the page made as it saw a worker die from one a live worker sent', () => {
    expect(isWorkerDeath(workerDeath(new CacheError('worker_failed', 'The cache worker was terminated')))).toBe(true);
    expect(isWorkerDeath(new CacheError('worker_failed', 'The cache worker stopped; unknown if the delete landed'))).toBe(false);
  });

  it('is false for a dead worker’s other errors (its open refused the config) and for what is not an error', () => {
    expect(isWorkerDeath(workerDeath(new CacheError('invalid_config', 'Invalid config')))).toBe(false);
    expect(isWorkerDeath(undefined)).toBe(false);
    expect(isWorkerDeath('worker_failed')).toBe(false);
  });
});
