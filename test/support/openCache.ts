import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';
import { createCache, type CreateCacheOptions } from '../../src/createCache';
import type { Schemas, SchemasOf } from '../../src/Cache';

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

let caches = 0;

/** A name no other test uses: caches of one name talk to each other over Node's BroadcastChannel. */
export function uniqueName(): string {
  return `test-${process.pid}-${++caches}`;
}

/**
 * An in-process cache on its own fake IndexedDB, with a hand-moved clock and a logger that records.
 * Pass `name` and `indexedDB` of another to open a second tab of the same cache.
 */
export async function openCache<S extends SchemasOf<S, N> = Schemas, N extends string = never>(
  options: CreateCacheOptions<S, N> & { clock?: ReturnType<typeof fakeClock> } = {},
) {
  const { clock = fakeClock(), ...rest } = options;
  const indexedDB = rest.indexedDB ?? new IDBFactory();
  const name = rest.name ?? uniqueName();
  const logger = { error: vi.fn() };
  const cache = await createCache<S, N>({ worker: false, now: clock.now, logger, ...rest, indexedDB, name });
  return { cache, clock, indexedDB, logger, name };
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
