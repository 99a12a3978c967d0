import { isCacheError } from '../src/index';

/** An error as the page states it: a CacheError with its code (`closed: This cache is closed`), another by its message. */
export function describeError(error: unknown): string {
  if (isCacheError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
