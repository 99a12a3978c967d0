import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { parse } from './parse';

const required = (field: string) => z.string({ error: `${field} required` }).regex(/\S/, { error: `${field} must not be blank` });
const moment = z.union([z.number().finite(), z.string(), z.date().transform((date) => date.toISOString())]);

/** What identifies a file's content; other fields of a track object are ignored. */
export const trackIdentitySchema = z.object({
  persistentId: required('persistentId'),
  location: required('location'),
  fileSize: z.number().finite().nonnegative().optional(),
  duration: z.number().finite().nonnegative().optional(),
  dateModified: moment.optional(),
  dateAdded: moment.optional(),
});

export type TrackIdentity = z.input<typeof trackIdentitySchema>;

/** SHA-256 (hex) of the identity's canonical JSON: sorted keys, absent fields left out. */
export async function fingerprintTrack(track: TrackIdentity): Promise<string> {
  const identity = parse(trackIdentitySchema, track, 'invalid_argument', 'track identity');
  const canonical = JSON.stringify(
    Object.fromEntries(
      Object.entries(identity)
        .filter(([, value]) => value !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  );
  // @noble/hashes rather than Web Crypto: `crypto.subtle` is missing on plain-http pages, and one
  // implementation gives the same hex everywhere.
  return bytesToHex(sha256(new TextEncoder().encode(canonical)));
}
