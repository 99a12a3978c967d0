// The number checks of src/numberChecks.ts stand in for zod's: what parse makes of a value, its message,
// issues and the zod issues of its cause, stays as it was with z.gt, z.positive, z.nonnegative and z.overwrite.
import * as z from 'zod/mini';
import { afterEach, expect, it } from 'vitest';
import { atLeast, greaterThan, overwrite } from '../src/numberChecks';
import { parse } from '../src/parse';

const values: unknown[] = [-1, 0, 1e-9, 1, Infinity, -Infinity, Number.NaN, '1', null, undefined];

/** What parse makes of each value, as a user sees it. */
function outcomes(checks: { above: z.core.$ZodCheck<number>; from: z.core.$ZodCheck<number>; named: z.core.$ZodCheck<number>; twice: z.core.$ZodCheck<number> }): unknown[] {
  const schema = z.strictObject({
    above: z.optional(z.number().check(checks.above)),
    from: z.optional(z.union([z.literal(Infinity), z.number()]).check(checks.from, checks.twice)),
    named: z.optional(z.number().check(checks.named)),
  });
  return values.flatMap((value) =>
    [{ above: value }, { from: value }, { named: value }].map((input) => {
      try {
        return { data: parse(schema, input, 'invalid_config', 'config') };
      } catch (error) {
        const { message, code, issues, cause } = error as { message: string; code: string; issues: unknown; cause?: { issues?: unknown } };
        return { message, code, issues, cause: JSON.stringify(cause?.issues) };
      }
    }),
  );
}

afterEach(() => void z.config({ localeError: undefined, customError: undefined }));

it.each([
  ['parse’s own messages', () => {}],
  ['an app’s zod locale', () => void z.config(z.locales.en())],
  ['an app’s own zod messages', () => void z.config({ customError: (issue) => `app: ${issue.code}` })],
])('numbers parse as with zod’s checks, under %s', (_, configure) => {
  configure();
  const twice = (value: number) => (value === Infinity ? 7 : value * 2);
  expect(outcomes({ above: greaterThan(0), from: atLeast(0), named: greaterThan(0, 'must be above 0'), twice: overwrite(twice) })).toEqual(
    outcomes({ above: z.positive(), from: z.nonnegative(), named: z.gt(0, { error: 'must be above 0' }), twice: z.overwrite(twice) }),
  );
});
