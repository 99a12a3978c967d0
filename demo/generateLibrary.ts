import { seededRandom } from './seededRandom';

/** A file in the generated library, as a player's scan would find it. */
export interface Track {
  /** The persistent ID (16 hex digits, like a music app's): the key of the track's cache entries. */
  id: string;
  title: string;
  artist: string;
  album: string;
  trackNumber: number;
  durationSeconds: number;
  fileSize: number;
  location: string;
  /** Epoch milliseconds. */
  dateAdded: number;
}

const ADJECTIVES = ['Velvet', 'Silver', 'Hollow', 'Electric', 'Quiet', 'Golden', 'Paper', 'Neon', 'Wild', 'Midnight', 'Crystal', 'Northern', 'Broken', 'Distant', 'Lucky', 'Violet', 'Static', 'Burning', 'Gentle', 'Restless', 'Amber', 'Lonely', 'Cosmic', 'Frozen'];
const NOUNS = ['Harbor', 'Signal', 'Garden', 'River', 'Engine', 'Mirror', 'Lantern', 'Orbit', 'Meadow', 'Satellite', 'Canyon', 'Echo', 'Horizon', 'Tide', 'Motel', 'Comet', 'Highway', 'Window', 'Ember', 'Avenue', 'Island', 'Thunder', 'Compass', 'Parade'];
const PLURALS = ['Harbors', 'Signals', 'Foxes', 'Rivers', 'Engines', 'Mirrors', 'Lanterns', 'Wolves', 'Satellites', 'Echoes', 'Tides', 'Comets', 'Kites', 'Owls', 'Strangers', 'Daydreams'];
const FIRST = ['Mira', 'Jonah', 'Elena', 'Theo', 'Ada', 'Rafael', 'June', 'Oskar', 'Nina', 'Felix', 'Iris', 'Marco', 'Selma', 'Ravi', 'Lou', 'Hana'];
const LAST = ['Kestrel', 'Alder', 'Moreau', 'Lindqvist', 'Okafor', 'Navarro', 'Castell', 'Whitlow', 'Sato', 'Brandt', 'Quill', 'Varga', 'Ashby', 'Delacroix'];
const VERBS = ['Chasing', 'Waiting for', 'Dancing in', 'Leaving', 'Falling into', 'Dreaming of', 'Running from', 'Holding', 'Finding', 'Crossing'];
const PLACES = ['Lisbon', 'Kyoto', 'Reykjavik', 'Marseille', 'Tbilisi', 'Oaxaca', 'Glasgow', 'Tangier', 'Valparaíso', 'Trondheim'];

const YEAR = 365.25 * 24 * 60 * 60 * 1000;
const ADDED_FROM = Date.UTC(2012, 0, 1);

/**
 * A deterministic music library: artists with one to three albums of six to fourteen tracks each,
 * in that order, until `count` tracks. The same seed and count give the same library everywhere.
 */
export function generateLibrary({ seed, count }: { seed: number; count: number }): Track[] {
  const random = seededRandom(`library:${seed}`);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const hex = () => Math.floor(random() * 2 ** 32).toString(16).toUpperCase().padStart(8, '0');
  const artistName = () =>
    pick([
      () => `The ${pick(ADJECTIVES)} ${pick(PLURALS)}`,
      () => `${pick(FIRST)} ${pick(LAST)}`,
      () => `${pick(FIRST)} & the ${pick(PLURALS)}`,
      () => `${pick(NOUNS)} ${pick(NOUNS)}`,
    ])();
  const albumName = () =>
    pick([
      () => `${pick(ADJECTIVES)} ${pick(NOUNS)}`,
      () => `${pick(NOUNS)}s of ${pick(PLACES)}`,
      () => `The ${pick(NOUNS)} Sessions`,
      () => `Live in ${pick(PLACES)}`,
      () => pick(PLACES),
    ])();
  const trackTitle = () =>
    pick([
      () => `${pick(VERBS)} the ${pick(NOUNS)}`,
      () => `${pick(ADJECTIVES)} ${pick(NOUNS)}`,
      () => `Song for ${pick(FIRST)}`,
      () => `${pick(NOUNS)} (${pick(ADJECTIVES)} Mix)`,
      () => `${pick(PLACES)} at Night`,
    ])();

  const tracks: Track[] = [];
  const ids = new Set<string>();
  while (tracks.length < count) {
    const artist = artistName();
    const albums = between(1, 3);
    for (let albumIndex = 0; albumIndex < albums && tracks.length < count; albumIndex++) {
      const album = albumName();
      const size = between(6, 14);
      const added = ADDED_FROM + Math.floor(random() * 12 * YEAR);
      for (let trackNumber = 1; trackNumber <= size && tracks.length < count; trackNumber++) {
        let id = `${hex()}${hex()}`;
        while (ids.has(id)) id = `${hex()}${hex()}`;
        ids.add(id);
        const title = trackTitle();
        const durationSeconds = between(95, 480);
        tracks.push({
          id,
          title,
          artist,
          album,
          trackNumber,
          durationSeconds,
          fileSize: durationSeconds * between(90_000, 120_000),
          location: `file:///Music/${artist}/${album}/${String(trackNumber).padStart(2, '0')} ${title}.flac`,
          dateAdded: added,
        });
      }
    }
  }
  return tracks;
}
