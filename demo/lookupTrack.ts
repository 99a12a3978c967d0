import { albumKey, fingerprintTrack, type Cache, type ResolveSource } from '../src/index';
import type { DEMO_CONFIG } from './demoConfig';
import type { ApiMetadata, DEMO_SCHEMAS, TrackTags } from './demoSchemas';
import { drawCover } from './drawCover';
import type { Library, LibraryTrack } from './Library';
import { ApiLookupError, type MetadataApi } from './MetadataApi';

export type DemoCache = Cache<typeof DEMO_SCHEMAS, keyof (typeof DEMO_CONFIG)['caching']['customTypes']>;

/**
 * Where an answer came from, as `resolve` says: the cache, the cache past its TTL while it is refreshed
 * ('stale'), this lookup's own fetch from the origin (the file's tags, the API), or a fetch another lookup
 * (in this tab or another) was already making ('shared').
 */
export type Source = ResolveSource;

export type ApiAnswer =
  | { status: 'found'; metadata: ApiMetadata; from: Source }
  | { status: 'not_found' | 'error'; message: string; from: Source };

export interface TrackLookup {
  track: LibraryTrack;
  fingerprint: string;
  tags: { value: TrackTags; from: Source };
  api: ApiAnswer;
  /** Looked up for tracks the API found. */
  albumYear: { year: number; from: Source } | null;
  /** The album's cover (the demo's own `artwork` type), drawn once per album. */
  cover: { image: Blob; from: Source };
  /** How long the whole lookup took, in milliseconds. */
  elapsedMs: number;
}

/**
 * Everything the player shows for a track, read through the cache: the file's tags (track_metadata,
 * stored with the file's fingerprint), the API's metadata (successful_api_metadata, tagged with the
 * track and its album), and the album's year (album_year). An API answer of "not found" is cached
 * in negative_result and an error in failed_api_lookup, and both are checked before calling the API
 * again. The album's cover is the demo's own content type, `artwork`: a Blob, drawn once per album.
 * The second lookup of a track is answered by the cache alone.
 */
export async function lookupTrack(
  cache: DemoCache,
  api: MetadataApi,
  library: Library,
  track: LibraryTrack,
  /** Draws a cover (a canvas in the page; Node tests pass their own). */
  draw: (artist: string, album: string) => Promise<Blob> = drawCover,
): Promise<TrackLookup> {
  const started = performance.now();
  const fingerprint = await fingerprintTrack(library.identity(track));
  const tags = await cache.resolve('track_metadata', track.id, () => library.readTags(track), { trackId: track.id, fingerprint });
  const apiAnswer = await askApi(cache, api, track);
  let albumYear: TrackLookup['albumYear'] = null;
  if (apiAnswer.status === 'found') {
    const year = await cache.resolve('album_year', albumKey(track.artist, track.album), () => api.albumYear(track.artist, track.album));
    albumYear = { year: year.value, from: year.source };
  }
  const album = { artist: track.artist, album: track.album };
  const cover = await cache.resolve('artwork', albumKey(track.artist, track.album), () => draw(track.artist, track.album), { album });
  return {
    track,
    fingerprint,
    tags: { value: tags.value, from: tags.source },
    api: apiAnswer,
    albumYear,
    cover: { image: cover.value, from: cover.source },
    elapsedMs: performance.now() - started,
  };
}

/** Whether the cache answered every part of a lookup, without the file or the API. */
export function answeredByCache({ tags, api, albumYear, cover }: TrackLookup): boolean {
  const cached = (from: Source) => from === 'cache' || from === 'stale';
  return cached(tags.from) && cached(api.from) && (!albumYear || cached(albumYear.from)) && cached(cover.from);
}

/** Whether the lookup asked the file or the API itself for any part (not only waited for another's fetch). */
export function fetchedAny({ tags, api, albumYear, cover }: TrackLookup): boolean {
  return [tags.from, api.from, albumYear?.from, cover.from].includes('fetch');
}

/**
 * Thrown out of the fetcher for an answer already cached as not found or failed: getOrSet then caches nothing.
 * Another tab waiting on this fetch gets it as the API's answer (`ApiLookupError.from`), and remembers it.
 */
class CachedAnswer extends ApiLookupError {
  constructor(
    readonly answer: Exclude<ApiAnswer, { status: 'found' }>,
    status: number,
  ) {
    super(answer.status, status, answer.message);
  }
}

async function askApi(cache: DemoCache, api: MetadataApi, track: LibraryTrack): Promise<ApiAnswer> {
  try {
    const { value: metadata, source } = await cache.resolve(
      'successful_api_metadata',
      track.id,
      async () => {
        const notFound = await cache.get('negative_result', track.id);
        if (notFound) throw new CachedAnswer({ status: 'not_found', message: 'Not found (remembered)', from: 'cache' }, notFound.status);
        const failure = await cache.get('failed_api_lookup', track.id);
        if (failure) throw new CachedAnswer({ status: 'error', message: failure.message, from: 'cache' }, failure.status);
        return api.lookup(track);
      },
      { trackId: track.id, album: { artist: track.artist, album: track.album } },
    );
    return { status: 'found', metadata, from: source };
  } catch (error) {
    if (error instanceof CachedAnswer) return error.answer;
    const answer = ApiLookupError.from(error);
    if (!answer) throw error;
    // Rebuilt from another tab's fetch, which this lookup shared: memory types are each tab's, so this one remembers the answer too.
    const from: Source = answer === error ? 'fetch' : 'shared';
    const at = Date.now();
    if (answer.kind === 'not_found') await cache.set('negative_result', track.id, { status: 404, at }, { trackId: track.id });
    else await cache.set('failed_api_lookup', track.id, { status: answer.status, message: answer.message, at }, { trackId: track.id });
    return { status: answer.kind, message: answer.message, from };
  }
}
