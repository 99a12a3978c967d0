import type { CacheEvent } from '../../src/cacheEvent';
import type { Random } from './random';

/** What a random event may name: a run's tracks, fingerprints and albums. */
export interface EventWorld {
  tracks: readonly string[];
  fingerprints: readonly string[];
  albums: readonly { artist: string; album: string }[];
}

/** One library event of the six kinds (manual invalidation with or without a track), drawn from `world`. */
export function randomEvent(random: Random, world: EventWorld): CacheEvent {
  const trackId = random.pick(world.tracks);
  switch (random.int(7)) {
    case 0:
      return { eventType: 'track_added', trackId };
    case 1:
      return { eventType: 'track_removed', trackId };
    case 2: {
      const album = random.pick(world.albums);
      return { eventType: 'track_modified', trackId, metadata: { artist: album.artist, album: album.album } };
    }
    case 3:
      return random.chance(0.5)
        ? { eventType: 'fingerprint_changed', fingerprint: random.pick(world.fingerprints) }
        : { eventType: 'fingerprint_changed', fingerprint: random.pick(world.fingerprints), trackId };
    case 4:
      return { eventType: 'library_sync' };
    case 5:
      return { eventType: 'manual_invalidation', trackId };
    default:
      return { eventType: 'manual_invalidation' };
  }
}
