import { describe, expect, it } from 'vitest';
import { fingerprintTrack } from '../src/index';
import { generateLibrary } from '../demo/generateLibrary';
import { Library } from '../demo/Library';

const newLibrary = () => new Library(generateLibrary({ seed: 1, count: 20 }));

describe('Library', () => {
  it('follows track events: removed, added back, modified (a new fingerprint)', async () => {
    const library = newLibrary();
    const track = library.tracks[3]!;
    const before = await fingerprintTrack(library.identity(track));
    expect(library.apply({ eventType: 'track_removed', trackId: track.id })).toBe(track);
    expect(track.removed).toBe(true);
    library.apply({ eventType: 'track_added', trackId: track.id });
    expect(track.removed).toBe(false);
    library.apply({ eventType: 'track_modified', trackId: track.id });
    expect(track.revision).toBe(1);
    expect(library.readTags(track).revision).toBe(1);
    expect(await fingerprintTrack(library.identity(track))).not.toBe(before);
  });

  it('gives two libraries that saw the same events the same fingerprints', async () => {
    const [a, b] = [newLibrary(), newLibrary()];
    const id = a.tracks[5]!.id;
    for (const library of [a, b]) library.apply({ eventType: 'fingerprint_changed', trackId: id, fingerprint: 'old' });
    expect(await fingerprintTrack(a.identity(a.get(id)!))).toBe(await fingerprintTrack(b.identity(b.get(id)!)));
  });

  it('ignores library-wide events and unknown tracks', () => {
    const library = newLibrary();
    expect(library.apply({ eventType: 'library_sync' })).toBeUndefined();
    expect(library.apply({ eventType: 'track_removed', trackId: 'not in the library' })).toBeUndefined();
    expect(library.tracks.every((track) => !track.removed && track.revision === 0)).toBe(true);
  });
});
