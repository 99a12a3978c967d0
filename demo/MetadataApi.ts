import type { ApiMetadata } from './demoSchemas';
import type { Latency } from './demoOptions';
import type { Track } from './generateLibrary';
import { seededRandom } from './seededRandom';

/** What the API answers for a track: always the same for one seed and track. */
export type ApiOutcome = 'found' | 'not_found' | 'error';

/** The API answered 404 (`not_found`) or failed (`error`: its message starts with the status, `503 Service Unavailable`). */
export class ApiLookupError extends Error {
  override readonly name = 'ApiLookupError';

  constructor(
    readonly kind: Exclude<ApiOutcome, 'found'>,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /**
   * The API's answer in `error`, if it is one: thrown here, or by the fetch of another tab that this tab's
   * `resolve` shared, which rethrows it as an Error with the name and message only.
   */
  static from(error: unknown): ApiLookupError | undefined {
    if (error instanceof ApiLookupError) return error;
    if (!(error instanceof Error) || error.name !== 'ApiLookupError') return undefined;
    const status = /^(\d{3}) /.exec(error.message)?.[1];
    return status ? new ApiLookupError('error', Number(status), error.message) : new ApiLookupError('not_found', 404, error.message);
  }
}

const ERRORS = [
  [503, 'Service Unavailable'],
  [502, 'Bad Gateway'],
  [429, 'Too Many Requests'],
  [500, 'Internal Server Error'],
] as const;
const GENRES = ['Indie Rock', 'Dream Pop', 'Jazz', 'Electronic', 'Folk', 'Soul', 'Ambient', 'Post-Punk', 'Bossa Nova', 'Hip-Hop', 'Shoegaze', 'Synthwave'];
const KEYS = ['C major', 'A minor', 'G major', 'E minor', 'D major', 'B minor', 'F major', 'D minor', 'E♭ major', 'C minor'];
const LABELS = ['Nightjar Records', 'Tidal Basin', 'Low Orbit', 'Paper Moon Music', 'Glasshouse', 'Northern Spur'];
const MOODS = ['warm', 'melancholic', 'driving', 'dreamy', 'uplifting', 'nocturnal', 'playful', 'tense', 'hazy', 'euphoric'];
const PRAISE = ['a patient build and a chorus that lands late', 'close-miked vocals over tape-saturated drums', 'a bass line that carries the whole song', 'strings arranged in a single afternoon', 'the band playing live in one room'];

/**
 * A simulated metadata web service: 50–300 ms per call by default, and for each track always the
 * same answer (78% found, 12% not found, 10% an error). Deterministic given the seed, so tests can
 * know in advance what a track will get; `calls` counts requests, to show what the cache saves.
 */
export class MetadataApi {
  calls = 0;
  readonly #seed: number;
  readonly #latency: Latency;

  constructor({ seed, latency }: { seed: number; latency: Latency }) {
    this.#seed = seed;
    this.#latency = latency;
  }

  outcome(trackId: string): ApiOutcome {
    const roll = seededRandom(`${this.#seed}:outcome:${trackId}`)();
    return roll < 0.1 ? 'error' : roll < 0.22 ? 'not_found' : 'found';
  }

  /** The track's metadata; rejects with an `ApiLookupError` for tracks the API does not know or fails on. */
  async lookup(track: Track): Promise<ApiMetadata> {
    await this.#respond(`track:${track.id}`);
    const outcome = this.outcome(track.id);
    const random = seededRandom(`${this.#seed}:metadata:${track.id}`);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    if (outcome === 'not_found') throw new ApiLookupError('not_found', 404, `No recording matches “${track.title}” by ${track.artist}`);
    if (outcome === 'error') {
      const [status, text] = pick(ERRORS);
      throw new ApiLookupError('error', status, `${status} ${text}`);
    }
    const moods = [...new Set([pick(MOODS), pick(MOODS), pick(MOODS)])];
    return {
      trackId: track.id,
      genre: pick(GENRES),
      bpm: 70 + Math.floor(random() * 110),
      key: pick(KEYS),
      label: pick(LABELS),
      moods,
      listeners: Math.floor(random() ** 3 * 2_000_000),
      summary:
        `“${track.title}” is track ${track.trackNumber} of ${track.artist}’s “${track.album}”: ${pick(PRAISE)}. ` +
        `Listeners describe it as ${moods.join(', ')}; it is most often played next to ${pick(PRAISE)}.`,
    };
  }

  /** The album's release year (the API knows every album). */
  async albumYear(artist: string, album: string): Promise<number> {
    await this.#respond(`album:${artist}:${album}`);
    return 1965 + Math.floor(seededRandom(`${this.#seed}:year:${artist}:${album}`)() * 60);
  }

  /** Counts the call and waits the request's latency: its own, within the range, for each track or album. */
  async #respond(request: string): Promise<void> {
    this.calls++;
    const { min, max } = this.#latency;
    const delay = min + Math.round(seededRandom(`${this.#seed}:latency:${request}`)() * (max - min));
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
