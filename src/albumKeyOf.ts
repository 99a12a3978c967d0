/**
 * `albumKey` of two strings already validated (the engine's, from checked entries and events): apart
 * from `albumKey`, so that the worker ships no validator for it. The pair is encoded as a JSON array,
 * so no two different pairs collide, whatever characters they contain.
 */
export function albumKeyOf(artist: string, album: string): string {
  return JSON.stringify([fold(artist), fold(album)]);
}

/**
 * The keys entries of this album may be tagged with: its key and, where it differs, the key Reprise 0.1
 * gave it (its fold took ẞ to ß and ı to i), which entries stored by 0.1 keep: an event finds those too —
 * only those (see targetMatches), as 0.1's key of 'Sıla' is today's key of 'Sila'.
 */
export function albumKeysOf(artist: string, album: string): string[] {
  const key = albumKeyOf(artist, album);
  const before = JSON.stringify([foldOf01(artist), foldOf01(album)]);
  return before === key ? [key] : [key, before];
}

function foldOf01(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
}

/**
 * NFKC, then a case fold, then NFKC again: equal where Python's `casefold()` is. Lower, upper, lower folds
 * ß and ẞ to ss and final sigma to sigma (lower first: ẞ uppercases to itself). Case folding keeps the
 * dotless ı apart from i, which the round trip would merge, so the text is folded around it. Whitespace
 * is made single spaces before the fold: lowercasing Σ looks at its neighbours, and a byte-order mark
 * (whitespace here) would otherwise pass for part of the word.
 */
function fold(text: string): string {
  return text
    .normalize('NFKC')
    .trim()
    .replace(/\s+/gu, ' ')
    .split('ı')
    .map((part) => part.toLowerCase().toUpperCase().toLowerCase())
    .join('ı')
    .normalize('NFKC');
}
