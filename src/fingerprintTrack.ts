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
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
