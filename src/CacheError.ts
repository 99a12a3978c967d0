/** Every way a Reprise call can fail. The strings are part of the API and survive the worker boundary. */
export const CACHE_ERROR_CODES = [
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
] as const;

export type CacheErrorCode = (typeof CACHE_ERROR_CODES)[number];

/** One problem found while validating input: where (a dotted path, '' for the root) and what. */
export interface CacheErrorIssue {
  readonly path: string;
  readonly message: string;
}

export interface CacheErrorOptions {
  cause?: unknown;
  issues?: readonly CacheErrorIssue[] | undefined;
}

export class CacheError extends Error {
  override readonly name = 'CacheError';
  readonly code: CacheErrorCode;
  readonly issues: readonly CacheErrorIssue[];

  constructor(code: CacheErrorCode, message: string, options: CacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
  }
}

/** A CacheError naming every bad path of `subject` in its issues, and the first in its message: "Invalid config: caching.negativeResultTtl: expected number, got "1h"; …". */
export function invalidError(code: CacheErrorCode, subject: string, issues: readonly CacheErrorIssue[], cause?: unknown): CacheError {
  // The first few in the message (100,000 bad keys made one of megabytes); every one in `issues`.
  const listed = issues.slice(0, LISTED).map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  const more = issues.length > LISTED ? `; and ${issues.length - LISTED} more` : '';
  return new CacheError(code, `Invalid ${subject}: ${listed.join('; ')}${more}`, { issues, cause });
}

/** How many bad paths an error's message names. */
const LISTED = 10;

const codes: ReadonlySet<string> = new Set(CACHE_ERROR_CODES);

/**
 * True for a CacheError from this or another copy of the library (another bundle, a worker realm):
 * the check is structural, like Comlink's, because `instanceof` fails across realms. With a code, true
 * says the error has that code, and false does not say it is no CacheError (it may have another code).
 */
export function isCacheError(value: unknown): value is CacheError;
export function isCacheError<C extends CacheErrorCode>(value: unknown, code: C | undefined): value is CacheError & { readonly code: C };
export function isCacheError(value: unknown, code?: CacheErrorCode): value is CacheError {
  if (!(value instanceof Error) || value.name !== 'CacheError') return false;
  const actual = (value as { code?: unknown }).code;
  return typeof actual === 'string' && codes.has(actual) && (code === undefined || actual === code);
}
