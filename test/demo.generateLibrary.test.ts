import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../demo/generateLibrary';

describe('generateLibrary', () => {
  it('is deterministic: one seed, one library; another seed, another library', () => {
    const library = generateLibrary({ seed: 1, count: 2000 });
    expect(generateLibrary({ seed: 1, count: 2000 })).toEqual(library);
    expect(generateLibrary({ seed: 2, count: 2000 })[0]!.id).not.toBe(library[0]!.id);
  });

  it('makes exactly `count` tracks with unique 16-hex ids, grouped by album and numbered from 1', () => {
    const library = generateLibrary({ seed: 7, count: 2000 });
    expect(library).toHaveLength(2000);
    expect(new Set(library.map((track) => track.id)).size).toBe(2000);
    for (const track of library) expect(track.id).toMatch(/^[0-9A-F]{16}$/);
    expect(library[0]!.trackNumber).toBe(1);
    const albums = new Set(library.map((track) => `${track.artist}\n${track.album}`));
    expect(albums.size).toBeGreaterThan(100);
    expect(albums.size).toBeLessThan(400);
    expect(library.every((track) => track.durationSeconds >= 95 && track.durationSeconds <= 480)).toBe(true);
  });

  it('shares a prefix between sizes, so a smaller library is the start of a bigger one', () => {
    expect(generateLibrary({ seed: 3, count: 10 })).toEqual(generateLibrary({ seed: 3, count: 2000 }).slice(0, 10));
  });
});
