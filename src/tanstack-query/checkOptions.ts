import { CacheError } from '../CacheError';
import { describeValue } from '../describeValue';
import { readArgument } from './readArgument';

/**
 * Throws `invalid_argument` at once unless `options` is nothing or an object of `known` names only, as the
 * cache checks its own options: a misspelt one (`trackID`), or one of TanStack's that another function takes
 * (`maxAge` and `buster` are persistQueryClient's), would otherwise be ignored without a word. Answers the
 * options read once, here: one that throws as it is read (a getter, a Proxy) is `invalid_argument` too.
 */
export function checkOptions<T extends object>(options: T | null | undefined, known: readonly (keyof T & string)[], caller: string): Partial<T> {
  return readArgument(`${caller} options`, () => {
    if (options === undefined || options === null) return {};
    const takes = `it takes ${known.join(', ')}`;
    if (typeof options !== 'object') throw new CacheError('invalid_argument', `${caller}: options must be an object (${takes}), got ${describeValue(options)}`);
    const unknown = Object.keys(options).filter((name) => !(known as readonly string[]).includes(name));
    if (unknown.length) throw new CacheError('invalid_argument', `${caller}: ${unknown.map((name) => `options.${name}`).join(', ')} is no option of it (${takes})`);
    return Object.fromEntries(known.map((name) => [name, options[name]])) as Partial<T>;
  });
}
