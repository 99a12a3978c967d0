import * as z from 'zod/mini';
import { CacheError, invalidError, type CacheErrorCode, type CacheErrorIssue } from './CacheError';
import { describeValue, reasonOf } from './describeValue';

/**
 * zod/mini loads no locale, so its own messages would all read "Invalid input". Reprise's schemas give
 * their own for most checks; for the rest these say what was expected and what was given, in a few
 * lines where zod's English locale costs the page about 1 kB (min + gzip). An app's own messages
 * (`z.config`) win, as with full zod. Given per parse, because `z.config` would change every zod
 * schema of the app.
 */
export const issueMessages: z.core.$ZodErrorMap = (issue) => {
  // Ours whatever the app's locale: an unknown key is named as its own bad path (see toIssues), and updatePolicy looks for it.
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  const { customError, localeError } = z.config();
  if (customError || localeError) return undefined;
  const got = `, got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}${got}`;
    case 'invalid_value':
      return `expected ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map(describeValue).join(', ')}${got}`;
    case 'too_small':
    case 'too_big': {
      const [bound, than] = issue.code === 'too_small' ? [issue.minimum, '>'] : [issue.maximum, '<'];
      const length = issue.origin === 'number' || issue.origin === 'bigint' ? '' : ' length';
      return `expected ${issue.origin}${length} ${than}${issue.inclusive ? '=' : ''} ${bound}${got}`;
    }
    case 'invalid_key':
      // A record's key schema says why (a custom type's name): its first message, not a bare "invalid key".
      return issue.issues[0]?.message ?? `invalid key${got}`;
    default:
      return `invalid value${got}`;
  }
};

/**
 * Validates `input` at a trust boundary (with any zod schema, classic or mini); on failure throws one
 * CacheError naming every bad path (`more`: bad paths the schema cannot see).
 */
export function parse<S extends z.core.$ZodType>(schema: S, input: unknown, code: CacheErrorCode, subject: string, more: CacheErrorIssue[] = []): z.output<S> {
  let result: ReturnType<typeof z.safeParse<S>>;
  try {
    result = z.safeParse(schema, input, { error: issueMessages });
  } catch (error) {
    // Input that throws as it is read (a getter, a Proxy) is bad input too: the call's code, with the error as cause.
    throw new CacheError(code, `Invalid ${subject}: reading it threw (${reasonOf(error)})`, { cause: error });
  }
  if (result.success && !more.length) return result.data;
  const issues = [...toIssues(result.error?.issues ?? []), ...more];
  throw invalidError(code, subject, issues, result.error);
}

function toIssues(zodIssues: readonly z.core.$ZodIssue[]): CacheErrorIssue[] {
  return zodIssues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    // zod reports unknown keys once for their parent; name each of them as its own bad path (with the parent's message for them).
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: issue.message }));
    }
    return [{ path, message: issue.message }];
  });
}
