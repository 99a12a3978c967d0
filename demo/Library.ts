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

/** Where a library keeps what happened to its tracks: `localStorage` in the page. */
export interface LibraryStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** What happened to one track, as kept: its revision and whether it is removed. */
type Changes = Record<string, { revision: number; removed: boolean }>;

/**
 * The player's library in this tab. It changes only through library events (local or from another
 * tab), so every tab that saw the same events agrees on every track and its fingerprint. With a
 * `storage`, the changes are kept under `key` (shared by the tabs of one origin), so that a tab opened
 * later, or this one reloaded, starts from them rather than from the library as generated.
 */
export class Library {
  readonly tracks: readonly LibraryTrack[];
  readonly #byId: ReadonlyMap<string, LibraryTrack>;
  readonly #store: { storage: LibraryStorage; key: string } | undefined;

  constructor(tracks: readonly Track[], store?: { storage: LibraryStorage; key: string }) {
    this.#store = store;
    this.tracks = tracks.map((track) => ({ ...track, revision: 0, removed: false }));
    this.#byId = new Map(this.tracks.map((track) => [track.id, track]));
    this.reread();
  }

  /**
   * Takes what the tabs kept: at the start, and again once this tab's cache tells it every event (from
   * its first answer on). An event another tab had logged before that, but kept only after this tab
   * read, reaches it no other way. Returns whether a track changed.
   */
  reread(): boolean {
    const kept = this.#read();
    let changed = false;
    for (const track of this.tracks) {
      const changes = kept[track.id];
      if (!changes) continue;
      // A record missing a field (written by hand, or by another version) leaves that field as generated.
      const { revision: keptRevision = 0, removed = false } = changes;
      // A revision only grows (see apply): an event this tab heard since may have raised it further.
      const revision = Math.max(track.revision, keptRevision);
      if (revision === track.revision && removed === track.removed) continue;
      track.revision = revision;
      track.removed = removed;
      changed = true;
    }
    return changed;
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

  /** The metadata a modifying event carries: the revision the file is at after it. */
  nextRevision(track: LibraryTrack): { revision: number } {
    return { revision: track.revision + 1 };
  }

  /** Follows an event; returns the track it changed, if any. */
  apply(event: CacheEvent): LibraryTrack | undefined {
    const track = event.trackId === undefined ? undefined : this.#byId.get(event.trackId);
    if (!track) return undefined;
    switch (event.eventType) {
      case 'track_removed':
        track.removed = true;
        break;
      case 'track_added':
        track.removed = false;
        break;
      case 'track_modified':
      case 'fingerprint_changed': {
        // The emitting tab says which revision the file is now at, so a tab that missed an event (opened
        // meanwhile) agrees again; an older tab's event says none, and counts one up.
        const given = event.metadata?.['revision'];
        track.revision = Math.max(track.revision, typeof given === 'number' ? given : track.revision + 1);
        break;
      }
      default:
        return undefined;
    }
    this.#keep(track);
    return track;
  }

  #read(): Changes {
    try {
      const text = this.#store?.storage.getItem(this.#store.key);
      const kept: unknown = text ? JSON.parse(text) : {};
      return typeof kept === 'object' && kept !== null ? (kept as Changes) : {};
    } catch {
      return {};
    }
  }

  /** Every tab that sees the event writes the same for the track; the others' tracks are read afresh, not overwritten. */
  #keep(track: LibraryTrack): void {
    if (!this.#store) return;
    const kept = this.#read();
    kept[track.id] = { revision: track.revision, removed: track.removed };
    try {
      this.#store.storage.setItem(this.#store.key, JSON.stringify(kept));
    } catch {
      // Storage full or refused: this tab keeps its changes in memory only.
    }
  }
}
