import type { StandardSchemaV1 } from '@standard-schema/spec';
import { CacheError, type CacheErrorIssue } from './CacheError';
import { describeValue } from './describeValue';

export type ValueCheck = { ok: true; value: unknown } | { ok: false; issues: CacheErrorIssue[]; cause?: unknown };

/** True for a Standard Schema v1 validator: zod ≥ 3.24, zod 4 (classic or mini), valibot, arktype… */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: Partial<StandardSchemaV1.Props> } | null | undefined)?.['~standard'];
  return typeof props === 'object' && props !== null && props.version === 1 && typeof props.validate === 'function';
}

/** Runs a Standard Schema validator, sync or async; a validator that throws is a failed check, with its error as cause. */
export async function checkValue(schema: StandardSchemaV1, value: unknown): Promise<ValueCheck> {
  try {
    const result = await schema['~standard'].validate(value);
    if (!result.issues) return { ok: true, value: result.value };
    return { ok: false, issues: result.issues.map(toIssue) };
  } catch (error) {
    const message = error instanceof Error ? error.message : describeValue(error);
    return { ok: false, issues: [{ path: '', message: `the schema threw: ${message}` }], cause: error };
  }
}

/** What the schema makes of `value`; `invalid_value` naming every bad path if it does not pass. */
export async function validateValue(schema: StandardSchemaV1, value: unknown, what: string): Promise<unknown> {
  const check = await checkValue(schema, value);
  if (check.ok) return check.value;
  const listed = check.issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  throw new CacheError('invalid_value', `Invalid ${what}: ${listed.join('; ')}`, { issues: check.issues, cause: check.cause });
}

function toIssue(issue: StandardSchemaV1.Issue): CacheErrorIssue {
  const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
  return { path, message: issue.message };
}
