import { afterEach, expect, it } from 'vitest';
import { z } from 'zod/mini';
import { parse } from '../src/parse';

const seconds = z.strictObject({ ttlSeconds: z.number().check(z.positive()) });
const failure = (input: unknown) => {
  try {
    parse(seconds, input, 'invalid_config', 'config');
  } catch (error) {
    return error as { code: string; message: string; issues: unknown };
  }
  throw new Error('expected a CacheError');
};

// zod/mini installs no messages of its own; this file imports no full zod, which would install English.
const { localeError } = z.config();
afterEach(() => void z.config({ localeError }));

it('says what was expected and what was given, with zod/mini and no locale configured', () => {
  expect(localeError).toBeUndefined();
  expect(failure({ ttlSeconds: 'x' })).toMatchObject({
    code: 'invalid_config',
    message: 'Invalid config: ttlSeconds: expected number, got "x"',
    issues: [{ path: 'ttlSeconds', message: 'expected number, got "x"' }],
  });
  expect(failure({ ttlSeconds: 0 }).message).toBe('Invalid config: ttlSeconds: expected number > 0, got 0');
  expect(failure({ ttlSeconds: Infinity }).message).toBe('Invalid config: ttlSeconds: expected number, got Infinity');
  expect(failure(null).message).toBe('Invalid config: expected object, got null');
  expect(failure({ ttlSeconds: 1, ttl: 1 }).issues).toEqual([{ path: 'ttl', message: 'unknown field' }]);
});

it('names the values allowed, and the bounds of lengths', () => {
  const strategy = z.strictObject({ strategy: z.enum(['time_based', 'hybrid']), tags: z.array(z.string()).check(z.maxLength(1)) });
  const error = (() => {
    try {
      parse(strategy, { strategy: 'often', tags: ['a', 'b'] }, 'invalid_config', 'policy');
    } catch (error) {
      return error as Error;
    }
    return undefined;
  })();
  expect(error?.message).toBe('Invalid policy: strategy: expected one of "time_based", "hybrid", got "often"; tags: expected array length <= 1, got ["a","b"]');
});

it("uses the messages an app configured with z.config, as full zod's schemas do", () => {
  z.config({ localeError: () => 'ungültig' });
  expect(failure({ ttlSeconds: 'x' }).message).toBe('Invalid config: ttlSeconds: ungültig');
});
