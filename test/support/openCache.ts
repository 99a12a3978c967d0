import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';
import { createCache, type CreateCacheOptions } from '../../src/createCache';
import type { Schemas } from '../../src/Cache';

/** A clock tests move by hand; starts at a fixed date. */
export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

/** An in-process cache on its own fake IndexedDB, with a hand-moved clock and a logger that records. */
export async function openCache<S extends Schemas = Schemas>(options: CreateCacheOptions<S> = {}) {
  const clock = fakeClock();
  const indexedDB = options.indexedDB ?? new IDBFactory();
  const logger = { error: vi.fn() };
  const cache = await createCache<S>({ worker: false, indexedDB, now: clock.now, logger, ...options });
  return { cache, clock, indexedDB, logger };
}

/** The rejection of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; issues?: { path: string }[] }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}
