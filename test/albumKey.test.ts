import { describe, expect, it } from 'vitest';
import { albumKey, isCacheError } from '../src/index';

describe('albumKey', () => {
  it('is equal under surrounding and repeated whitespace', () => {
    expect(albumKey('  Pink Floyd ', '\tThe Wall\n')).toBe(albumKey('Pink Floyd', 'The Wall'));
    expect(albumKey('Pink   Floyd', 'The  Wall')).toBe(albumKey('Pink Floyd', 'The Wall'));
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
