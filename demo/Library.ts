import type { CacheEvent, TrackIdentity } from '../src/index';
import type { TrackTags } from './demoSchemas';
import type { Track } from './generateLibrary';

/** A track and what has happened to it since the library was generated. */
export interface LibraryTrack extends Track {
  /** Bumped when the file is modified or replaced: changes its modification date, so its fingerprint. */
  revision: number;
  removed: boolean;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * The player's library in this tab. It changes only through library events (local or from another
 * tab), so every tab that saw the same events agrees on every track and its fingerprint.
 */
export class Library {
  readonly tracks: readonly LibraryTrack[];
  readonly #byId: ReadonlyMap<string, LibraryTrack>;

  constructor(tracks: readonly Track[]) {
    this.tracks = tracks.map((track) => ({ ...track, revision: 0, removed: false }));
    this.#byId = new Map(this.tracks.map((track) => [track.id, track]));
  }

  get(id: string): LibraryTrack | undefined {
    return this.#byId.get(id);
  }

  /** What identifies the file's content, for `fingerprintTrack`. */
  identity(track: LibraryTrack): TrackIdentity {
    return {
      persistentId: track.id,
      location: track.location,
      fileSize: track.fileSize,
      duration: track.durationSeconds,
      dateAdded: track.dateAdded,
      dateModified: track.dateAdded + track.revision * DAY,
    };
  }

  /** Reads the file's tags: what track_metadata caches. */
  readTags(track: LibraryTrack): TrackTags {
    return {
      title: track.title,
      artist: track.artist,
      album: track.album,
      trackNumber: track.trackNumber,
      durationSeconds: track.durationSeconds,
      format: 'FLAC',
      bitrateKbps: Math.round((track.fileSize * 8) / track.durationSeconds / 1000),
      revision: track.revision,
    };
  }

  /** Follows an event; returns the track it changed, if any. */
  apply(event: CacheEvent): LibraryTrack | undefined {
    const track = event.trackId === undefined ? undefined : this.#byId.get(event.trackId);
    if (!track) return undefined;
    switch (event.eventType) {
      case 'track_removed':
        track.removed = true;
        return track;
      case 'track_added':
        track.removed = false;
        return track;
      case 'track_modified':
      case 'fingerprint_changed':
        track.revision++;
        return track;
      default:
        return undefined;
    }
  }
}
