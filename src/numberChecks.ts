import * as z from 'zod/mini';

// zod's bound and overwrite checks as checks of Reprise's own: z.gt, z.positive and z.nonnegative would ship
// their check class to the page, and z.overwrite another, for these few uses. They do what zod's do: a bound
// reports zod's issue (too_small, with its minimum and whether it is inclusive), which parse's messages, a
// check's own error and an app's locale word alike.

/** `z.gt(minimum)`, or `z.gte(minimum)` when inclusive. */
function bound(minimum: number, inclusive: boolean, error?: string): z.core.$ZodCheck<number> {
  const check = z.check<number>(
    (payload) => {
      if (inclusive ? payload.value >= minimum : payload.value > minimum) return;
      payload.issues.push({ origin: 'number', code: 'too_small', minimum, input: payload.value, inclusive, inst: check, continue: true });
    },
    { error },
  );
  return check;
}

/** `z.gt(minimum)`; `z.positive()` is `greaterThan(0)`. */
export const greaterThan = (minimum: number, error?: string) => bound(minimum, false, error);

/** `z.gte(minimum)`; `z.nonnegative()` is `atLeast(0)`. */
export const atLeast = (minimum: number, error?: string) => bound(minimum, true, error);

/** `z.overwrite(replace)`: the value replaced by what `replace` makes of it, its type unchanged. */
export const overwrite = <T>(replace: (value: T) => T) =>
  z.check<T>((payload) => {
    payload.value = replace(payload.value);
  });
