/** A thenable: what an async validator returns. Sync results are used at once, without an `await` (see CacheClient). */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}
