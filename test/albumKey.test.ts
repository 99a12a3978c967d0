import { describe, expect, it } from 'vitest';
import { CacheError, albumKey, isCacheError } from '../src/index';

describe('albumKey', () => {
  it('is equal under surrounding and repeated whitespace', () => {
    expect(albumKey('  Pink Floyd ', '\tThe Wall\n')).toBe(albumKey('Pink Floyd', 'The Wall'));
    expect(albumKey('Pink   Floyd', 'The  Wall')).toBe(albumKey('Pink Floyd', 'The Wall'));
  });

  it('is equal under whitespace of any kind inside a name, beside a final sigma too', () => {
    // A byte-order mark is whitespace to the trim and the collapse, so it must not count as a letter's
    // neighbour when the case is folded: 'ΟΔΟΣ\uFEFFΕΝΑ' reads as 'ΟΔΟΣ ΕΝΑ', whose Σ ends a word.
    expect(albumKey('x', 'ΟΔΟΣ\uFEFFΕΝΑ')).toBe(albumKey('x', 'Οδος ενα'));
    expect(albumKey('ΑΡΗΣ\uFEFFΠ', 'x')).toBe(albumKey('ΑΡΗΣ Π', 'x'));
  });

  it('is equal under case differences, including full case folding', () => {
    expect(albumKey('PINK FLOYD', 'the wall')).toBe(albumKey('Pink Floyd', 'The Wall'));
    expect(albumKey('Die Ärzte', 'STRASSE')).toBe(albumKey('DIE ÄRZTE', 'straße'));
    expect(albumKey('ΣΟΦΟΣ', 'x')).toBe(albumKey('σοφος', 'x'));
  });

  it('is equal under Unicode compatibility (NFKC) differences', () => {
    // Decomposed vs precomposed, a ligature, full-width letters.
    expect(albumKey('Bjo\u0308rk', 'Homogenic')).toBe(albumKey('Bj\u00f6rk', 'Homogenic'));
    expect(albumKey('Ofﬁce', 'x')).toBe(albumKey('Office', 'x'));
    expect(albumKey('ＡＢＢＡ', 'Ｇｏｌｄ')).toBe(albumKey('ABBA', 'Gold'));
  });

  it('never collides for different pairs, whatever they contain', () => {
    expect(albumKey('foo|bar', 'baz')).not.toBe(albumKey('foo', 'bar|baz'));
    expect(albumKey('a","b', 'c')).not.toBe(albumKey('a', 'b","c'));
    expect(albumKey('', 'ab')).not.toBe(albumKey('a', 'b'));
    expect(albumKey('Artist', 'Album')).not.toBe(albumKey('Album', 'Artist'));
  });

  it('rejects what is not a string', () => {
    let caught: unknown;
    try {
      albumKey(undefined as never, 'x');
    } catch (error) {
      caught = error;
    }
    expect(isCacheError(caught, 'invalid_argument')).toBe(true);
  });
});

// What a port of the original tool's own tests would check on top of the above.
describe('albumKey, as the seed’s tests call it', () => {
  it('is a string, the same for the same pair every time', () => {
    expect(typeof albumKey('Artist', 'Album')).toBe('string');
    expect(albumKey('Artist', 'Album')).toBe(albumKey('Artist', 'Album'));
    expect(typeof albumKey('', '')).toBe('string');
  });

  it('trims Unicode spaces too (no-break, ideographic, thin)', () => {
    expect(albumKey('\u00a0Björk\u3000', '\u2009Post\u00a0')).toBe(albumKey('Björk', 'Post'));
  });

  it('folds case like Unicode case folding: ẞ and ß are ss, final sigma is sigma, case of the album too', () => {
    expect(albumKey('x', 'STRAẞE')).toBe(albumKey('x', 'strasse'));
    expect(albumKey('x', 'STRAẞE')).toBe(albumKey('x', 'straße'));
    expect(albumKey('ẞ', 'x')).toBe(albumKey('ss', 'x'));
    expect(albumKey('x', 'ΣΟΦΟΣ')).toBe(albumKey('x', 'σοφοσ'));
    expect(albumKey('x', 'ΣΟΦΟΣ')).toBe(albumKey('x', 'σοφος'));
    expect(albumKey('The Beatles', 'ABBEY ROAD')).toBe(albumKey('THE BEATLES', 'abbey road'));
  });

  it('keeps apart what case folding keeps apart: dotless ı is not i', () => {
    expect(albumKey('Kırmızı', 'x')).not.toBe(albumKey('Kirmizi', 'x'));
    expect(albumKey('ı', 'x')).not.toBe(albumKey('I', 'x'));
    expect(albumKey('I', 'x')).toBe(albumKey('i', 'x'));
  });

  it('applies NFKC: circled digits, roman numerals, superscripts and compatibility ligatures', () => {
    expect(albumKey('Artist', 'Ⅳ')).toBe(albumKey('artist', 'iv'));
    expect(albumKey('①', 'x²')).toBe(albumKey('1', 'x2'));
    expect(albumKey('ﬂac', 'x')).toBe(albumKey('FLAC', 'x'));
    expect(albumKey('Amélie', 'x')).toBe(albumKey('AME\u0301LIE', 'x'));
  });

  it('never collides for different pairs', () => {
    const pairs: [string, string][] = [
      ['a', ''],
      ['', 'a'],
      ['a b', 'c'],
      ['a', 'b c'],
      ['a\u0000', 'b'],
      ['a', '\u0000b'],
      ['[', ']'],
      ['"', '"'],
      ['\\', ''],
      ['', '\\'],
      ['a - b', 'c'],
      ['a', 'b - c'],
      ['a,b', 'c'],
      ['a', 'b,c'],
      ['a|', 'b'],
      ['a', '|b'],
    ];
    const keys = new Set(pairs.map(([artist, album]) => albumKey(artist, album)));
    expect(keys.size).toBe(pairs.length);
  });

  it('rejects a non-string artist or album with a CacheError (an Error) of code invalid_argument', () => {
    for (const [artist, album] of [
      ['a', undefined],
      [null, 'b'],
      [1, 'b'],
      ['a', { album: 'b' }],
    ]) {
      let caught: unknown;
      try {
        albumKey(artist as never, album as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CacheError);
      expect(caught).toBeInstanceOf(Error);
      expect((caught as CacheError).code).toBe('invalid_argument');
    }
  });
});
