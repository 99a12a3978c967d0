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

  it('takes the revision an event carries: a library that missed an event agrees again at the next one', async () => {
    const [a, b] = [newLibrary(), newLibrary()];
    const id = a.tracks[5]!.id;
    // b subscribed late: it missed the first modification, and hears only the second.
    a.apply({ eventType: 'track_modified', trackId: id, metadata: { revision: 1 } });
    for (const library of [a, b]) library.apply({ eventType: 'fingerprint_changed', trackId: id, fingerprint: 'old', metadata: { revision: 2 } });
    expect(b.get(id)!.revision).toBe(2);
    expect(await fingerprintTrack(b.identity(b.get(id)!))).toBe(await fingerprintTrack(a.identity(a.get(id)!)));
    // An event from an older tab, without a revision, still counts one up; a revision never goes back.
    b.apply({ eventType: 'track_modified', trackId: id });
    b.apply({ eventType: 'track_modified', trackId: id, metadata: { revision: 1 } });
    expect(b.get(id)!.revision).toBe(3);
  });

  it('ignores library-wide events and unknown tracks', () => {
    const library = newLibrary();
    expect(library.apply({ eventType: 'library_sync' })).toBeUndefined();
    expect(library.apply({ eventType: 'track_removed', trackId: 'not in the library' })).toBeUndefined();
    expect(library.tracks.every((track) => !track.removed && track.revision === 0)).toBe(true);
  });

  it('keeps its changes in the storage it is given: a library made later (a second tab, a reload) starts from them', () => {
    const items = new Map<string, string>();
    const storage = { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
    const first = new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' });
    const [removed, modified] = [first.tracks[2]!.id, first.tracks[7]!.id];
    first.apply({ eventType: 'track_removed', trackId: removed });
    first.apply({ eventType: 'track_modified', trackId: modified });
    const second = new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' });
    expect(second.get(removed)).toMatchObject({ removed: true, revision: 0 });
    expect(second.get(modified)).toMatchObject({ removed: false, revision: 1 });
    // Both see the next event: both write the same, and neither loses the other's tracks.
    for (const library of [first, second]) library.apply({ eventType: 'track_added', trackId: removed });
    const third = new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' });
    expect(third.get(removed)).toMatchObject({ removed: false });
    expect(third.get(modified)).toMatchObject({ revision: 1 });
    // Another key (another cache or seed) starts from the library as generated; so does unreadable storage.
    expect(new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'other' }).get(modified)!.revision).toBe(0);
    items.set('library', 'not JSON');
    expect(new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' }).get(modified)!.revision).toBe(0);
  });

  it('rereads what the other tabs kept since it was made, without taking a revision back', () => {
    const items = new Map<string, string>();
    const storage = { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
    const here = new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' });
    const other = new Library(generateLibrary({ seed: 1, count: 20 }), { storage, key: 'library' });
    const [removed, modified] = [here.tracks[2]!.id, here.tracks[7]!.id];
    // The other tab keeps an event this one never hears; this one hears a later modification the other has not kept yet.
    other.apply({ eventType: 'track_removed', trackId: removed });
    here.apply({ eventType: 'track_modified', trackId: modified, metadata: { revision: 2 } });
    items.set('library', JSON.stringify({ ...JSON.parse(items.get('library')!), [modified]: { revision: 1, removed: false } }));
    expect(here.reread()).toBe(true);
    expect(here.get(removed)).toMatchObject({ removed: true });
    expect(here.get(modified)).toMatchObject({ revision: 2 });
    expect(here.reread()).toBe(false);
  });
});
