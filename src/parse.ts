import { z } from 'zod/mini';
import { CacheError, type CacheErrorCode, type CacheErrorIssue } from './CacheError';

/**
 * zod/mini loads no locale, so its own messages would all read "Invalid input": fall back to zod's
 * English ones (what full zod installs), unless the app configured its own with `z.config`. Given per
 * parse, because `z.config` would change every zod schema of the app.
 */
const english = z.locales.en().localeError;
const messages: z.core.$ZodErrorMap = (issue) => {
  const { customError, localeError } = z.config();
  return customError || localeError ? undefined : english(issue);
};

/**
 * Validates `input` at a trust boundary (with any zod schema, classic or mini); on failure throws one
 * CacheError naming every bad path.
 */
export function parse<S extends z.core.$ZodType>(schema: S, input: unknown, code: CacheErrorCode, subject: string): z.output<S> {
  const result = z.safeParse(schema, input, { error: messages });
  if (result.success) return result.data;
  const issues = toIssues(result.error.issues);
  const listed = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  throw new CacheError(code, `Invalid ${subject}: ${listed.join('; ')}`, { issues, cause: result.error });
}

function toIssues(zodIssues: readonly z.core.$ZodIssue[]): CacheErrorIssue[] {
  return zodIssues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    // zod reports unknown keys once for their parent; name each of them as its own bad path.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: 'unknown field' }));
    }
    return [{ path, message: issue.message }];
  });
}
