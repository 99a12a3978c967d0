import { albumKeyOf } from '../src/albumKeyOf';
import type { CachePolicy } from '../src/cachePolicy';
import type { TypeName } from '../src/contentType';
import { valueBytes } from '../src/estimateBytes';
import { INFINITE_TTL } from '../src/time';
import type { EntryInput } from '../src/protocol';
import type { StoredEntry } from './Store';

/** Bookkeeping stored with every entry (type, times, key paths), on top of its value and tags. */
const ENTRY_OVERHEAD = 64;

/** The entry to store for an input at `now`: TTL from the input or the policy, tags, and its estimated size; used at `usedAt` (see accessClock). */
export function toEntry(type: TypeName, input: EntryInput, policy: CachePolicy, now: number, usedAt: number): StoredEntry {
  const ttlSeconds = input.ttlSeconds ?? policy.ttlSeconds;
  const entry: StoredEntry = {
    type,
    key: input.key,
    value: input.value,
    bytes: 0,
    expiresAt: Math.min(input.at ?? now, now) + ttlSeconds * 1000,
    expires: ttlSeconds < INFINITE_TTL,
    revision: Math.floor(Math.random() * 2 ** 53),
    lastAccess: usedAt,
  };
  let tags = 0;
  if (input.trackIds?.length) {
    entry.trackIds = input.trackIds;
    for (const trackId of input.trackIds) tags += 2 * trackId.length;
  }
  if (input.album) {
    entry.albumKey = albumKeyOf(input.album.artist, input.album.album);
    tags += 2 * entry.albumKey.length;
  }
  if (input.fingerprint !== undefined) {
    entry.fingerprint = input.fingerprint;
    tags += 2 * input.fingerprint.length;
  }
  entry.bytes = ENTRY_OVERHEAD + 2 * input.key.length + tags + valueBytes(input);
  return entry;
}
