import * as z from 'zod/mini';
import { albumKeyOf } from './albumKeyOf';
import { parse } from './parse';

const albumArgs = z.strictObject({ artist: z.string({ error: 'artist must be a string' }), album: z.string({ error: 'album must be a string' }) });

/**
 * One key per album, equal for spellings that differ only in surrounding or repeated whitespace, case
 * or Unicode compatibility form. The pair is encoded as a JSON array, so no two different pairs
 * collide, whatever characters they contain.
 */
export function albumKey(artist: string, album: string): string {
  const args = parse(albumArgs, { artist, album }, 'invalid_argument', 'albumKey arguments');
  return albumKeyOf(args.artist, args.album);
}
