import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/index';
import { describeBatch } from '../demo/describeBatch';
import type { Source, TrackLookup } from '../demo/lookupTrack';

/** A lookup whose parts came from these sources (tags, API, album year, cover); the rest does not matter here. */
const lookup = (tags: Source, api: Source, year: Source, cover: Source) =>
  ({ tags: { from: tags }, api: { status: 'found', from: api }, albumYear: { year: 2001, from: year }, cover: { from: cover } }) as unknown as TrackLookup;

describe('describeBatch', () => {
  it('counts the lookups the cache answered alone, those that fetched, and those that only shared another lookup’s fetch', () => {
    const results = [lookup('cache', 'cache', 'cache', 'stale'), lookup('cache', 'fetch', 'shared', 'cache'), lookup('cache', 'shared', 'shared', 'cache')];
    expect(describeBatch(4, results, 12.4)).toBe('3 tracks in 12 ms: 1 from the cache alone, 1 fetched, 1 shared another lookup’s fetch, 1 failed');
  });

  it('says no more than it must: one track, nothing shared, nothing failed', () => {
    expect(describeBatch(1, [lookup('cache', 'cache', 'cache', 'cache')], 3)).toBe('1 track in 3 ms: 1 from the cache alone, 0 fetched');
  });

  it('says why lookups failed: the first failure, a CacheError with its code', () => {
    expect(describeBatch(2, [], 5, new CacheError('closed', 'This cache is closed'))).toBe('0 tracks in 5 ms: 0 from the cache alone, 0 fetched, 2 failed (closed: This cache is closed)');
  });
});
