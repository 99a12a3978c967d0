import { CacheError } from '../CacheError';
import { describeValue } from '../describeValue';
import { readArgument } from './readArgument';

/**
 * Throws `invalid_argument` at once unless `cache` has `method`, as a cache does: not nothing, nor the
 * promise `createCache()` returns (an `await` left out, which would otherwise fail later, as a TypeError),
 * nor an object that throws as it is read (a getter, a Proxy).
 */
export function checkCache(cache: unknown, method: 'get' | 'on', caller: string): void {
  readArgument(`${caller} cache`, () => {
    if (typeof (cache as Partial<Record<string, unknown>> | null | undefined)?.[method] === 'function') return;
    const given = typeof (cache as { then?: unknown } | null | undefined)?.then === 'function' ? 'a promise (await createCache() first)' : describeValue(cache);
    throw new CacheError('invalid_argument', `${caller}: cache must be a Reprise cache, got ${given}`);
  });
}
