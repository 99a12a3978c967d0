import { tellFailure } from './tellFailure';

/**
 * Makes `save` (at once) and settles without rejecting. TanStack saves without a catch, from a cache
 * subscription (`persistQueryClientSubscribe`) and from a callback a query's `persisterFn` schedules: a
 * rejection there is the app's unhandled one. A failure (a full disk, a value that cannot be cloned) is
 * told to the cache's logger instead (console for a cache not made by `createCache`), and the save
 * dropped, as TanStack's own persisters drop it; one refused because the app closed the cache is not
 * told, since TanStack goes on saving after that.
 */
export async function reportedSave(cache: object, message: string, save: () => Promise<unknown>): Promise<void> {
  try {
    await save();
  } catch (error) {
    tellFailure(cache, message, error);
  }
}
