/**
 * `albumKey` of two strings already validated (the engine's, from checked entries and events): apart
 * from `albumKey`, so that the worker ships no validator for it. The pair is encoded as a JSON array,
 * so no two different pairs collide, whatever characters they contain.
 */
export function albumKeyOf(artist: string, album: string): string {
  return JSON.stringify([fold(artist), fold(album)]);
}

/** NFKC, then a case fold (upper then lower folds ß to ss and final sigma to sigma), then NFKC again. */
function fold(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
}
