import { albumKeysOf } from './albumKeyOf';
import type { CacheEvent } from './cacheEvent';
import { isBuiltInType, type TypeName } from './contentType';

/** A set of entries an event removes, each found through one index. */
export type InvalidationTarget =
  | { type: TypeName; by: 'track'; trackId: string }
  /** `legacy`: the key Reprise 0.1 gave the album, which only its own entries (stored without a revision) still carry. */
  | { type: TypeName; by: 'album'; albumKey: string; legacy?: true }
  | { type: TypeName; by: 'fingerprint'; fingerprint: string; trackId?: string }
  | { type: TypeName; by: 'all' };

/** What an entry is tagged with, by which an event's targets find it. */
export interface Tags {
  trackIds?: readonly string[];
  albumKey?: string;
  fingerprint?: string;
  /** Absent on entries stored by Reprise 0.1 (see albumKeysOf). */
  revision?: number | undefined;
}

/** What an event removes from `type` if it applies to it (see affectedTypes). */
export function targetsIn(type: TypeName, event: CacheEvent): InvalidationTarget[] {
  switch (event.eventType) {
    // track_added invalidates no built-in type; a custom type that lists it loses the track's entries.
    case 'track_added':
    case 'track_removed':
    case 'track_modified': {
      const targets: InvalidationTarget[] = [{ type, by: 'track', trackId: event.trackId }];
      const albums = albumsOf(event.metadata);
      // Albums tag successful_api_metadata entries, and those of custom types (which may be tagged alike).
      if (type === 'successful_api_metadata' || !isBuiltInType(type)) {
        for (const [index, albumKey] of albums.entries()) targets.push(index ? { type, by: 'album', albumKey, legacy: true } : { type, by: 'album', albumKey });
      }
      return targets;
    }
    case 'fingerprint_changed':
      return [
        event.trackId === undefined
          ? { type, by: 'fingerprint', fingerprint: event.fingerprint }
          : { type, by: 'fingerprint', fingerprint: event.fingerprint, trackId: event.trackId },
      ];
    case 'manual_invalidation':
      return [event.trackId === undefined ? { type, by: 'all' } : { type, by: 'track', trackId: event.trackId }];
    case 'library_sync':
      return [{ type, by: 'all' }];
  }
}

/** Whether an entry with these tags is one the target removes (every entry of its type for `all`). */
export function targetMatches(target: InvalidationTarget, entry: Tags): boolean {
  switch (target.by) {
    case 'track':
      return entry.trackIds?.includes(target.trackId) ?? false;
    case 'album':
      // 0.1's key of this album may be today's key of another ('Sila' for 'Sıla'): only 0.1's entries are found by it.
      return entry.albumKey === target.albumKey && (!target.legacy || entry.revision === undefined);
    case 'fingerprint':
      return entry.fingerprint === target.fingerprint && (target.trackId === undefined || (entry.trackIds?.includes(target.trackId) ?? false));
    case 'all':
      return true;
  }
}

/** The album an event's metadata names: the tool's rule, an artist and an album each a non-empty string. */
function albumsOf(metadata: Record<string, unknown> | undefined): string[] {
  const artist = metadata?.['artist'];
  const album = metadata?.['album'];
  return typeof artist === 'string' && typeof album === 'string' && artist && album ? albumKeysOf(artist, album) : [];
}
