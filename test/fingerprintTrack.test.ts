import { describe, expect, it } from 'vitest';
import { fingerprintTrack, isCacheError, type TrackIdentity } from '../src/index';

const track = { persistentId: 'ABC123', location: 'file:///music/a.flac', fileSize: 1234, duration: 215.5, dateModified: '2024-01-01T00:00:00.000Z' };

async function rejection(input: unknown) {
  try {
    await fingerprintTrack(input as TrackIdentity);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('fingerprintTrack', () => {
  it('is a SHA-256 hex digest of canonical JSON', async () => {
    const expected = Array.from(
      new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('{"location":"l","persistentId":"p"}'))),
      (byte) => byte.toString(16).padStart(2, '0'),
    ).join('');
    expect(await fingerprintTrack({ persistentId: 'p', location: 'l' })).toBe(expected);
    expect(await fingerprintTrack(track)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic', async () => {
    expect(await fingerprintTrack(track)).toBe(await fingerprintTrack({ ...track }));
  });

  it('does not depend on key order', async () => {
    const reversed = Object.fromEntries(Object.entries(track).reverse()) as TrackIdentity;
    expect(await fingerprintTrack(reversed)).toBe(await fingerprintTrack(track));
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

  it('rejects blank or missing required fields with invalid_argument', async () => {
    for (const input of [
      { ...track, persistentId: '' },
      { ...track, persistentId: '   ' },
      { ...track, location: '' },
      { location: 'x' },
      { persistentId: 'x' },
      null,
    ]) {
      const error = await rejection(input);
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
    }
    const blank = await rejection({ ...track, location: ' ' });
    expect((blank as Error).message).toContain('location');
  });

  it('rejects instead of throwing synchronously', () => {
    expect(() => fingerprintTrack(null as never).catch(() => {})).not.toThrow();
  });
});
