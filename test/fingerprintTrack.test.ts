import { describe, expect, it } from 'vitest';
import { fingerprintTrack, isCacheError, isFingerprint, type TrackIdentity } from '../src/index';
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
