import { describe, expect, it, vi } from 'vitest';
import { CacheError, fingerprintTrack, isCacheError, isFingerprint, type TrackIdentity } from '../src/index';
import cases from './fixtures/fingerprints/cases.json';
import expected from './fixtures/fingerprints/expected.json';

const track = { persistentId: 'ABC123', location: 'file:///music/a.flac', fileSize: 1234, duration: 215.5, dateModified: '2024-01-01T00:00:00.000Z' };

async function rejection(input: unknown) {
  try {
    await fingerprintTrack(input as TrackIdentity);
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection for ${JSON.stringify(input)}`);
}

describe('fingerprintTrack', () => {
  // test/fixtures/fingerprints/make.py computed each hex with the original tool's rules, in Python.
  it.each(cases.map((entry, index) => [entry.name, entry.track, expected[index]?.hex] as const))(
    'gives the original tool’s hex: %s',
    async (_, input, hex) => {
      expect(await fingerprintTrack(input as TrackIdentity)).toBe(hex);
    },
  );

  it('is a SHA-256 of the canonical text, the same with Web Crypto', async () => {
    const canonical = expected[0]?.canonical ?? '';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
    const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
    expect(await fingerprintTrack(cases[0]?.track as TrackIdentity)).toBe(hex);
  });

  it('hashes trimmed strings, numeric strings, null, "" and absent fields by the original rules', async () => {
    const base = await fingerprintTrack({ persistentId: 'p', location: 'l' });
    for (const same of [
      { persistentId: ' p ', location: '\tl\n' },
      { persistentId: 'p', location: 'l', fileSize: 0, duration: 0 },
      { persistentId: 'p', location: 'l', fileSize: null, duration: '' },
      { persistentId: 'p', location: 'l', fileSize: '0', duration: ' 0.0 ' },
      { persistentId: 'p', location: 'l', dateModified: null, dateAdded: '' },
      { persistentId: 'p', location: 'l', dateModified: '   ', dateAdded: undefined },
    ]) {
      expect(await fingerprintTrack(same)).toBe(base);
    }
    expect(await fingerprintTrack({ persistentId: 'p', location: 'l', fileSize: '100' })).toBe(
      await fingerprintTrack({ persistentId: 'p', location: 'l', fileSize: 100 }),
    );
    expect(await fingerprintTrack({ persistentId: 12, location: 'l', dateAdded: 7 })).toBe(
      await fingerprintTrack({ persistentId: '12', location: 'l', dateAdded: '7' }),
    );
  });

  it('is deterministic and does not depend on key order', async () => {
    const reversed = Object.fromEntries(Object.entries(track).reverse()) as unknown as TrackIdentity;
    expect(await fingerprintTrack(reversed)).toBe(await fingerprintTrack({ ...track }));
  });

  it('changes with location, persistentId and the optional file facts', async () => {
    const base = await fingerprintTrack(track);
    for (const change of [
      { location: 'file:///music/b.flac' },
      { persistentId: 'ABC124' },
      { fileSize: 1235 },
      { duration: 215 },
      { dateModified: '2024-01-02T00:00:00.000Z' },
      { dateAdded: 0 },
    ]) {
      expect(await fingerprintTrack({ ...track, ...change })).not.toBe(base);
    }
  });

  it('ignores fields that are not part of the identity', async () => {
    expect(await fingerprintTrack({ ...track, title: 'Song' } as TrackIdentity)).toBe(await fingerprintTrack(track));
  });

  it('treats a Date like its ISO string', async () => {
    const when = new Date('2024-01-01T00:00:00.000Z');
    expect(await fingerprintTrack({ ...track, dateModified: when })).toBe(await fingerprintTrack(track));
  });

  it('rejects blank or missing required fields with invalid_argument, naming the field', async () => {
    for (const [input, field] of [
      [{ ...track, persistentId: '' }, 'persistentId'],
      [{ ...track, persistentId: '   ' }, 'persistentId'],
      [{ ...track, persistentId: null }, 'persistentId'],
      [{ ...track, location: '' }, 'location'],
      [{ ...track, location: ' \n' }, 'location'],
      [{ location: 'x' }, 'persistentId'],
      [{ persistentId: 'x' }, 'location'],
    ] as const) {
      const error = await rejection(input);
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
      expect((error as Error).message).toContain(field);
    }
  });

  it('rejects an unparsable number with invalid_argument instead of hashing it as 0', async () => {
    for (const [fileSize, shown] of [
      ['abc', '"abc"'],
      ['12 MB', '"12 MB"'],
      ['0x10', '"0x10"'],
      ['Infinity', '"Infinity"'],
      ['1e999', '"1e999"'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [true, 'true'],
      [{}, '{}'],
      [[1], '[1]'],
      [10n, '10n'],
    ] as const) {
      const error = await rejection({ ...track, fileSize });
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
      expect((error as Error).message).toContain(`fileSize: expected a finite number or a numeric string, got ${shown}`);
    }
  });

  it('rejects what cannot be a string field, and names every bad field at once', async () => {
    const error = await rejection({ persistentId: Symbol('id'), location: 'l', duration: 'long', dateAdded: new Date(Number.NaN) });
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((issue) => issue.path)).toEqual(['persistentId', 'duration', 'dateAdded']);
  });

  it('turns every failure into a CacheError: not an object, a getter that throws', async () => {
    for (const input of [null, undefined, 'track', 42]) {
      expect(isCacheError(await rejection(input), 'invalid_argument')).toBe(true);
    }
    const hostile = {
      persistentId: 'p',
      get location(): string {
        throw new TypeError('no access');
      },
    };
    const error = await rejection(hostile);
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect((error as Error).message).toContain('location: could not be read (no access)');
  });

  it('rejects instead of throwing synchronously', () => {
    expect(() => fingerprintTrack(null as never).catch(() => {})).not.toThrow();
  });

  it('returns what isFingerprint accepts', async () => {
    expect(isFingerprint(await fingerprintTrack(track))).toBe(true);
  });
});

describe('isFingerprint', () => {
  it('is true for 64 lowercase hex characters only', () => {
    expect(isFingerprint('0'.repeat(64))).toBe(true);
    expect(isFingerprint(expected[0]?.hex)).toBe(true);
    for (const value of ['A'.repeat(64), 'g'.repeat(64), '0'.repeat(63), '0'.repeat(65), ` ${'0'.repeat(63)}`, `${'0'.repeat(64)}\n`, '', 42, null, undefined, {}, ['0'.repeat(64)]]) {
      expect(isFingerprint(value)).toBe(false);
    }
  });
});

// What a port of the original tool's own tests would check on top of the above.
describe('fingerprintTrack, as the seed’s tests call it', () => {
  const base = { persistentId: 'p', location: 'l' };
  const same = async (a: TrackIdentity, b: TrackIdentity) => expect(await fingerprintTrack(a)).toBe(await fingerprintTrack(b));

  it('gives every fixture’s hex without Web Crypto’s subtle too', async () => {
    const withSubtle = await Promise.all(cases.map((entry) => fingerprintTrack(entry.track as TrackIdentity)));
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    try {
      expect((globalThis.crypto as Partial<Crypto>).subtle).toBeUndefined();
      const withoutSubtle = await Promise.all(cases.map((entry) => fingerprintTrack(entry.track as TrackIdentity)));
      expect(withoutSubtle).toEqual(withSubtle);
      expect(withoutSubtle).toEqual(expected.map((entry) => entry.hex));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('reads numeric strings as the numbers they spell', async () => {
    for (const [text, number] of [
      ['100', 100],
      [' 100 ', 100],
      ['100.0', 100],
      ['1e3', 1000],
      ['1E3', 1000],
      ['+5', 5],
      ['-5', -5],
      ['.5', 0.5],
      ['5.', 5],
      ['240.50', 240.5],
      ['0', 0],
    ] as const) {
      await same({ ...base, fileSize: text, duration: text }, { ...base, fileSize: number, duration: number });
    }
  });

  it('reads numeric strings as Python’s float() does: underscores between digits, decimal digits of any script', async () => {
    for (const [text, number] of [
      ['1_000', 1000],
      ['0_1.2_5e1_0', 1.25e10],
      ['\u0661\u0660\u0660', 100],
      ['\uff11e\uff13', 1000],
      ['\u{1d7cf}\u{1d7ce}\u{1d7ce}', 100],
      ['\u0966.\u0967\u0969', 0.13],
    ] as const) {
      await same({ ...base, fileSize: text, duration: text }, { ...base, fileSize: number, duration: number });
    }
    // What float() refuses stays refused: misplaced underscores, other scripts' signs and points, other numerals.
    for (const text of ['1__0', '_1', '1_', '1_.5', '1._5', '1_e5', '1e_5', '\uff11\uff12\uff13\uff0e\uff15', '\u0665\u066b5', '1 000', '\u00b2', '\u2460']) {
      expect(isCacheError(await rejection({ ...base, fileSize: text }), 'invalid_argument')).toBe(true);
    }
  });

  it('hashes an absent, null, "" or 0 size and duration alike, and a non-zero one differently', async () => {
    const zero = await fingerprintTrack(base);
    for (const value of [undefined, null, '', 0, '0', '0.0']) {
      expect(await fingerprintTrack({ ...base, fileSize: value, duration: value })).toBe(zero);
    }
    expect(await fingerprintTrack({ ...base, fileSize: 1 })).not.toBe(zero);
    expect(await fingerprintTrack({ ...base, duration: 0.001 })).not.toBe(zero);
    // Size and duration are separate fields.
    expect(await fingerprintTrack({ ...base, fileSize: 5 })).not.toBe(await fingerprintTrack({ ...base, duration: 5 }));
  });

  it('hashes an absent, null or "" date alike, and a date of 0 as "0"', async () => {
    const none = await fingerprintTrack(base);
    for (const value of [undefined, null, '', ' \t']) {
      expect(await fingerprintTrack({ ...base, dateModified: value, dateAdded: value })).toBe(none);
    }
    await same({ ...base, dateAdded: 0 }, { ...base, dateAdded: '0' });
    expect(await fingerprintTrack({ ...base, dateAdded: 0 })).not.toBe(none);
    // dateModified and dateAdded are separate fields.
    expect(await fingerprintTrack({ ...base, dateModified: 'x' })).not.toBe(await fingerprintTrack({ ...base, dateAdded: 'x' }));
  });

  it('takes a number for a string field as its decimal string', async () => {
    for (const [number, text] of [
      [0, '0'],
      [7, '7'],
      [-3, '-3'],
      [1.5, '1.5'],
      [123456789, '123456789'],
      [2 ** 53, '9007199254740992'],
      [1e21, '1000000000000000000000'],
    ] as const) {
      await same({ persistentId: number, location: number, dateModified: number, dateAdded: number }, { persistentId: text, location: text, dateModified: text, dateAdded: text });
    }
  });

  it('trims every string field, inner spaces kept', async () => {
    await same(
      { persistentId: '\n p \t', location: '  /Music/A  B.mp3 ', dateModified: ' 2025-01-01 10:00:00 ', dateAdded: '\t2024 ' },
      { persistentId: 'p', location: '/Music/A  B.mp3', dateModified: '2025-01-01 10:00:00', dateAdded: '2024' },
    );
    expect(await fingerprintTrack({ ...base, location: 'A  B' })).not.toBe(await fingerprintTrack({ ...base, location: 'A B' }));
  });

  it('rejects an unparsable number in either numeric field with a CacheError of code invalid_argument', async () => {
    for (const input of [
      { ...base, duration: 'three minutes' },
      { ...base, duration: '1,5' },
      { ...base, fileSize: '1.2.3' },
      { ...base, fileSize: 'NaN' },
      { ...base, fileSize: '-' },
      { ...base, fileSize: 'e5' },
    ]) {
      const error = await rejection(input);
      expect(error).toBeInstanceOf(CacheError);
      expect(error).toBeInstanceOf(Error);
      expect((error as CacheError).code).toBe('invalid_argument');
      expect((error as CacheError).issues.map((issue) => issue.path)).toEqual([Object.keys(input).find((key) => key === 'duration' || key === 'fileSize')]);
    }
  });

  it('rejects a blank, null or missing persistentId or location with a CacheError of code invalid_argument naming both', async () => {
    for (const input of [{}, { persistentId: ' ', location: '' }, { persistentId: null, location: null }, { persistentId: '\t\n', location: undefined }]) {
      const error = await rejection(input);
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('invalid_argument');
      expect((error as CacheError).issues.map((issue) => issue.path)).toEqual(['persistentId', 'location']);
      expect((error as Error).message).toContain('persistentId');
      expect((error as Error).message).toContain('location');
    }
  });

  it('takes a persistentId of 0 (not blank)', async () => {
    await same({ persistentId: 0, location: 'l' }, { persistentId: '0', location: 'l' });
  });

  it('gives different hexes for different tracks of one file facts', async () => {
    const hexes = new Set<string>();
    for (let index = 0; index < 50; index++) hexes.add(await fingerprintTrack({ ...base, persistentId: `id-${index}` }));
    expect(hexes.size).toBe(50);
  });
});

describe('fingerprintTrack on long fields', () => {
  // Input from JSON may hold anything: a long inner run of blanks or digits must not freeze the page.
  // The default timeout would let a minute pass; this one fails a hang.
  it('trims and parses in time that grows with the field, not with its square', async () => {
    const blanks = ' '.repeat(50_000);
    expect(await fingerprintTrack({ persistentId: 'p', location: `a${blanks}b` })).toBe(await fingerprintTrack({ persistentId: 'p', location: ` a${blanks}b\u0085` }));
    expect(await rejection({ persistentId: 'p', location: 'l', fileSize: `1${blanks}2` })).toMatchObject({ code: 'invalid_argument' });
    expect(await rejection({ persistentId: 'p', location: 'l', duration: `${'1'.repeat(50_000)}x` })).toMatchObject({ code: 'invalid_argument' });
  }, 3_000);
});

describe('isFingerprint, as the seed’s tests call it', () => {
  it('is false for near misses and non-strings', () => {
    const hex = 'a'.repeat(64);
    expect(isFingerprint(hex)).toBe(true);
    expect(isFingerprint('0123456789abcdef'.repeat(4))).toBe(true);
    for (const value of [`${'a'.repeat(63)}A`, `${'a'.repeat(63)}z`, `${'a'.repeat(32)} ${'a'.repeat(31)}`, `0x${'a'.repeat(62)}`, new String(hex), 0, 1n, true, Symbol('x')]) {
      expect(isFingerprint(value)).toBe(false);
    }
  });
});
