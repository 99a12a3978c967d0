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

it('says what was expected, in English, with zod/mini and no locale configured', () => {
  expect(localeError).toBeUndefined();
  expect(failure({ ttlSeconds: 'x' })).toMatchObject({
    code: 'invalid_config',
    message: 'Invalid config: ttlSeconds: Invalid input: expected number, received string',
    issues: [{ path: 'ttlSeconds', message: 'Invalid input: expected number, received string' }],
  });
  expect(failure({ ttlSeconds: 0 }).message).toBe('Invalid config: ttlSeconds: Too small: expected number to be >0');
  expect(failure({ ttlSeconds: 1, ttl: 1 }).issues).toEqual([{ path: 'ttl', message: 'unknown field' }]);
});

it("uses the messages an app configured with z.config, as full zod's schemas do", () => {
  z.config({ localeError: () => 'ungültig' });
  expect(failure({ ttlSeconds: 'x' }).message).toBe('Invalid config: ttlSeconds: ungültig');
});
