import { z } from 'zod/mini';
import { parse } from './parse';

const albumArgs = z.tuple([z.string({ error: 'artist must be a string' }), z.string({ error: 'album must be a string' })]);

/**
 * One key per album, equal for spellings that differ only in surrounding or repeated whitespace, case
 * or Unicode compatibility form. The pair is encoded as a JSON array, so no two different pairs
 * collide, whatever characters they contain.
 */
export function albumKey(artist: string, album: string): string {
  const [a, b] = parse(albumArgs, [artist, album], 'invalid_argument', 'albumKey arguments');
  return albumKeyOf(a, b);
}

/**
 * `albumKey` of two strings already validated (the engine's, from checked entries and events): without
 * the check, the worker ships no validator for it.
 */
export function albumKeyOf(artist: string, album: string): string {
  return JSON.stringify([fold(artist), fold(album)]);
}

/** NFKC, then a case fold (upper then lower folds ß to ss and final sigma to sigma), then NFKC again. */
function fold(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
}
