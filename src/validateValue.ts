import type { StandardSchemaV1 } from '@standard-schema/spec';
import { invalidError, type CacheErrorIssue } from './CacheError';
import { describeValue, reasonOf } from './describeValue';
import { isPromiseLike } from './isPromiseLike';

export type ValueCheck = { ok: true; value: unknown } | { ok: false; issues: CacheErrorIssue[]; cause?: unknown };

/** True for a Standard Schema v1 validator: zod ≥ 3.24, zod 4 (classic or mini), valibot, arktype… */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: Partial<StandardSchemaV1.Props> } | null | undefined)?.['~standard'];
  return typeof props === 'object' && props !== null && props.version === 1 && typeof props.validate === 'function';
}

/**
 * Runs a Standard Schema validator. A sync validator answers synchronously, so a call validates and
 * reaches the engine in one go (no microtask between them, and no await per entry of a big batch); an
 * async one answers with a promise. A validator that throws is a failed check, with its error as cause.
 */
export function checkValue(schema: StandardSchemaV1, value: unknown): ValueCheck | Promise<ValueCheck> {
  try {
    const result = schema['~standard'].validate(value);
    // An answer that is no Standard Schema result fails in toCheck: a broken validator too, async as sync.
    return isPromiseLike(result) ? Promise.resolve(result).then(toCheck).catch(threw) : toCheck(result);
  } catch (error) {
    return threw(error);
  }
}

/** What the schema makes of `value` (a promise for an async validator); `invalid_value` naming every bad path if it does not pass. */
export function validateValue(schema: StandardSchemaV1, value: unknown, what: string): unknown {
  const check = checkValue(schema, value);
  return isPromiseLike(check) ? check.then((settled) => unwrap(settled, what)) : unwrap(check, what);
}

/**
 * Throws `invalid_value` naming every bad path unless `value` passes (a promise for an async validator).
 * What the schema makes of it is not looked at: a value that is itself a promise is not awaited.
 */
export function assertValid(schema: StandardSchemaV1, value: unknown, what: string): void | Promise<void> {
  const check = checkValue(schema, value);
  if (isPromiseLike(check)) return check.then((settled) => void unwrap(settled, what));
  unwrap(check, what);
}

function unwrap(check: ValueCheck, what: string): unknown {
  if (check.ok) return check.value;
  throw invalidError('invalid_value', what, check.issues, check.cause);
}

function toCheck(result: StandardSchemaV1.Result<unknown> | undefined): ValueCheck {
  if (result && !result.issues) return { ok: true, value: result.value };
  const issues = result?.issues;
  // A broken validator's answer (nothing, issues: [], issues not an array) fails the value, saying what it was.
  return { ok: false, issues: Array.isArray(issues) && issues.length ? issues.map(toIssue) : [{ path: '', message: `the schema's answer names no issue: ${describeValue(result)}` }] };
}

function threw(error: unknown): ValueCheck {
  const message = reasonOf(error);
  return { ok: false, issues: [{ path: '', message: `the schema threw: ${message}` }], cause: error };
}

function toIssue(issue: StandardSchemaV1.Issue): CacheErrorIssue {
  const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
  return { path, message: issue.message };
}
