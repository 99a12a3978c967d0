import { CacheError } from '../src/CacheError';

/** The name of an Error or DOMException (they are not always Errors across realms). */
export function nameOf(error: unknown): string | undefined {
  return error instanceof Error || (typeof DOMException !== 'undefined' && error instanceof DOMException)
    ? (error as { name: string }).name
    : undefined;
}

/**
 * The connection is gone but a new one may work: the browser closed it (storage cleared, a crash of
 * its backend), or we closed it for another tab's upgrade while this call was starting. A transaction
 * the browser aborts without a request failing (its error an AbortError) went with its connection:
 * the spec's forced close (Firefox) says only that; Chromium says "connection" in an UnknownError.
 */
export function isConnectionLost(error: unknown): boolean {
  const name = nameOf(error);
  if (name === 'InvalidStateError' || name === 'AbortError') return true;
  return name === 'UnknownError' && /connection|backing store|lost/i.test((error as Error).message);
}

/** Maps what IndexedDB or structured cloning threw onto Reprise's codes, at the storage boundary (like Dexie's mapError). */
export function toCacheError(error: unknown, doing: string): CacheError {
  if (error instanceof CacheError) return error;
  const name = nameOf(error);
  const detail = error instanceof Error ? `${name}: ${error.message}` : String(error);
  switch (name) {
    case 'QuotaExceededError':
      return new CacheError('quota_exceeded', `Storage quota exceeded while ${doing} (${detail})`, { cause: error });
    // What structured cloning throws for a value nested deeper than it goes (its stack overflows).
    case 'RangeError':
    case 'DataCloneError':
      return new CacheError('not_cloneable', `Value cannot be stored while ${doing}: it is not structured-cloneable (${detail})`, {
        cause: error,
      });
    default:
      return new CacheError('storage_unavailable', `IndexedDB failed while ${doing} (${detail})`, { cause: error });
  }
}

/**
 * A dead worker's change that its next worker cannot tell happened or not, and `why`: also one sent again to a
 * database of its name other than the one it was made in (deleted since, site data cleared), which took what it did.
 */
export function unknownIfLanded(what: string, why = 'its database is gone'): CacheError {
  return new CacheError('worker_failed', `The cache worker stopped; unknown if the ${what} landed (${why})`);
}
