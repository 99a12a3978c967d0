import { describe, expect, it } from 'vitest';
import { CACHE_ERROR_CODES, CacheError, isCacheError } from '../src/index';
import { openCache, rejection } from './support/openCache';

describe('CacheError', () => {
  it('carries a code, issues and a cause', () => {
    const cause = new Error('inner');
    const error = new CacheError('invalid_value', 'bad', { cause, issues: [{ path: 'a', message: 'b' }] });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('invalid_value');
    expect(error.cause).toBe(cause);
    expect(error.issues).toEqual([{ path: 'a', message: 'b' }]);
  });

  it("names the first ten bad paths in its message, and how many more: every one is in issues (100,000 bad keys made a message of megabytes)", async () => {
    const { cache } = await openCache();
    const error = await rejection(cache.deleteMany('generic', Array.from({ length: 100_000 }, () => '')));
    expect(error).toMatchObject({ code: 'invalid_argument' });
    expect(error.message).toMatch(/; and 99990 more$/);
    expect(error.message.length).toBeLessThan(1000);
    expect(error.issues).toHaveLength(100_000);
  });

  it('has the eleven codes of the spec (aborted new in 0.2)', () => {
    expect([...CACHE_ERROR_CODES].sort()).toEqual(
      [
        'invalid_config',
        'invalid_event',
        'invalid_argument',
        'unknown_content_type',
        'invalid_value',
        'not_cloneable',
        'quota_exceeded',
        'storage_unavailable',
        'closed',
        'worker_failed',
        'aborted',
      ].sort(),
    );
  });

  it('isCacheError recognises one from another realm by shape, and checks the code', () => {
    const foreign = Object.assign(new Error('x'), { name: 'CacheError', code: 'closed' });
    expect(isCacheError(foreign)).toBe(true);
    expect(isCacheError(foreign, 'closed')).toBe(true);
    expect(isCacheError(foreign, 'quota_exceeded')).toBe(false);
    expect(isCacheError(Object.assign(new Error('x'), { name: 'CacheError', code: 'nope' }))).toBe(false);
    expect(isCacheError(new Error('x'))).toBe(false);
    expect(isCacheError({ name: 'CacheError', code: 'closed' })).toBe(false);
  });
});
