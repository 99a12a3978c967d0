import { CacheError } from '../CacheError';
import { describeValue } from '../describeValue';

/**
 * Throws `invalid_argument` at once unless `options` is nothing or an object of `known` names only, as the
 * cache checks its own options: a misspelt one (`trackID`), or one of TanStack's that another function takes
 * (`maxAge` and `buster` are persistQueryClient's), would otherwise be ignored without a word.
 */
export function checkOptions(options: unknown, known: readonly string[], caller: string): void {
  if (options === undefined || options === null) return;
  const takes = `it takes ${known.join(', ')}`;
  if (typeof options !== 'object') throw new CacheError('invalid_argument', `${caller}: options must be an object (${takes}), got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((name) => !known.includes(name));
  if (unknown.length) throw new CacheError('invalid_argument', `${caller}: ${unknown.map((name) => `options.${name}`).join(', ')} is no option of it (${takes})`);
}
