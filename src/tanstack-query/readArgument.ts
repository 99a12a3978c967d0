import { CacheError } from '../CacheError';
import { reasonOf } from '../describeValue';

/**
 * What `read` makes of an app's argument, as parse reads the cache's: reading one may throw (a getter, a
 * Proxy's trap, any touch of a revoked Proxy), which is bad input too, `invalid_argument` naming the argument
 * with the error as cause. A CacheError of the check's own goes through as it is.
 */
export function readArgument<T>(subject: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof CacheError ? error : new CacheError('invalid_argument', `Invalid ${subject}: reading it threw (${reasonOf(error)})`, { cause: error });
  }
}
