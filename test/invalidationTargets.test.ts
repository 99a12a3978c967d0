import { describe, expect, it } from 'vitest';
import { SmartCacheConfig, albumKey, createCacheEvent } from '../src/index';
import { affectedTypes, invalidationTargets } from '../src/invalidationTargets';
import { tableOf } from './support/tableOf';

const config = new SmartCacheConfig();
const targets = (input: Parameters<typeof createCacheEvent>[0]) => invalidationTargets(tableOf(config), createCacheEvent(input));

describe('invalidationTargets', () => {
  it('track_removed: by track in both metadata types, by album only in successful_api_metadata', () => {
    expect(targets({ eventType: 'track_removed', trackId: 't', metadata: { artist: 'A', album: 'B' } })).toEqual([
      { type: 'track_metadata', by: 'track', trackId: 't' },
      { type: 'successful_api_metadata', by: 'track', trackId: 't' },
      { type: 'successful_api_metadata', by: 'album', albumKey: albumKey('A', 'B') },
    ]);
  });

  it('an album whose key Reprise 0.1 folded otherwise (ẞ, dotless ı) is found by both keys: entries stored by 0.1 keep theirs', () => {
    // 0.1's fold: upper then lower case, which took ẞ to ß and ı to i.
    const keyOf01 = (artist: string, album: string) => JSON.stringify([artist, album].map((text) => text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim()));
    const albums = (artist: string, album: string) =>
      targets({ eventType: 'track_removed', trackId: 't', metadata: { artist, album } }).flatMap((target) => (target.by === 'album' ? [target.albumKey] : []));
    expect(albums('Sıla', 'STRAẞE')).toEqual([albumKey('Sıla', 'STRAẞE'), keyOf01('Sıla', 'STRAẞE')]);
    expect(albumKey('Sıla', 'STRAẞE')).not.toBe(keyOf01('Sıla', 'STRAẞE'));
    // Where the folds agree, one key.
    expect(albums('Artist', 'Straße')).toEqual([albumKey('Artist', 'Straße')]);
  });

  it('ignores album metadata that is not a pair of strings', () => {
    expect(targets({ eventType: 'track_modified', trackId: 't', metadata: { artist: 'A' } })).toHaveLength(2);
    expect(targets({ eventType: 'track_modified', trackId: 't', metadata: { artist: 'A', album: 7 } })).toHaveLength(2);
  });

  it('fingerprint_changed: by fingerprint in track_metadata, narrowed to the track when given', () => {
    expect(targets({ eventType: 'fingerprint_changed', fingerprint: 'F' })).toEqual([{ type: 'track_metadata', by: 'fingerprint', fingerprint: 'F' }]);
    expect(targets({ eventType: 'fingerprint_changed', fingerprint: 'F', trackId: 't' })).toEqual([
      { type: 'track_metadata', by: 'fingerprint', fingerprint: 'F', trackId: 't' },
    ]);
  });

  it('library_sync: all of album_year; manual_invalidation: a track or everything of the event-invalidated types', () => {
    expect(targets({ eventType: 'library_sync' })).toEqual([{ type: 'album_year', by: 'all' }]);
    expect(targets({ eventType: 'manual_invalidation' })).toEqual([
      { type: 'track_metadata', by: 'all' },
      { type: 'successful_api_metadata', by: 'all' },
      { type: 'album_year', by: 'all' },
    ]);
    expect(targets({ eventType: 'manual_invalidation', trackId: 't' }).map((target) => target.by)).toEqual(['track', 'track', 'track']);
  });

  it('track_added: nothing of the built-in types; a custom type that lists it, by track (and album) as other track events', () => {
    expect(targets({ eventType: 'track_added', trackId: 't' })).toEqual([]);
    expect(affectedTypes(tableOf(config), { eventType: 'track_added' })).toEqual([]);
    const custom = new SmartCacheConfig({
      caching: { customTypes: { match: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'event_driven', maxSizeMb: 1, invalidatedBy: ['track_added'] } } },
    });
    expect(invalidationTargets(tableOf(custom), createCacheEvent({ eventType: 'track_added', trackId: 't', metadata: { artist: 'A', album: 'B' } }))).toEqual([
      { type: 'match', by: 'track', trackId: 't' },
      { type: 'match', by: 'album', albumKey: albumKey('A', 'B') },
    ]);
  });
});
