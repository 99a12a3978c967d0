/** A track-metadata record of about 300 bytes, the same for every library measured. */
export interface TrackRecord {
  key: string;
  trackId: string;
  title: string;
  artist: string;
  album: string;
  year: number;
  duration: number;
  genre: string;
  location: string;
  bitrate: number;
  playCount: number;
}

const GENRES = ['Rock', 'Jazz', 'Electronic', 'Classical', 'Hip-Hop', 'Folk'];

export function trackRecord(index: number): TrackRecord {
  const artist = `Artist ${index % 997}`;
  const album = `Album ${index % 4001} of ${artist}`;
  return {
    key: `track-${index}`,
    trackId: `t${index}`,
    title: `Song number ${index} from the generated benchmark library`,
    artist,
    album,
    year: 1960 + (index % 60),
    duration: 120 + (index % 300),
    genre: GENRES[index % GENRES.length]!,
    location: `file:///music/${artist}/${album}/${String(index).padStart(6, '0')}.flac`,
    bitrate: 320,
    playCount: index % 50,
  };
}

export function trackRecords(count: number, from = 0): TrackRecord[] {
  return Array.from({ length: count }, (_, offset) => trackRecord(from + offset));
}
