import type { TypeName } from '../src/index';
import { describeError } from './describeError';
import { element } from './element';
import { formatDuration } from './formatDuration';
import type { LibraryTrack } from './Library';
import { answeredByCache, fetchedAny, type Source, type TrackLookup } from './lookupTrack';

type State = 'idle' | 'loading' | 'done' | 'removed' | 'failed';

/**
 * The selected track and where each part of it came from, as `resolve` says: the cache (fresh or
 * stale), this lookup's fetch from the file or the API, or another lookup's fetch. `data-state`,
 * `data-part`, `data-from` and `data-status` say the same for tests and styles.
 */
export class TrackDetails {
  readonly element: HTMLElement;
  readonly #onLookUp: () => void;
  /** The object URL of the cover shown, revoked when the next render replaces it; and the one about to be shown. */
  #coverUrl: string | null = null;
  #nextCoverUrl: string | null = null;
  /** Why the lookup under way may show what the cache no longer has: noted when its result is shown. */
  #staleDuringLookup: string | null = null;

  constructor(onLookUp: () => void) {
    this.#onLookUp = onLookUp;
    this.element = element('section', { class: 'details', 'aria-label': 'Selected track', 'aria-live': 'polite' });
    this.#render('idle', null, element('p', { class: 'hint' }, 'No track selected yet. Choose one in the list to look it up.'));
  }

  showLoading(track: LibraryTrack): void {
    this.#render('loading', track, element('p', { class: 'hint' }, 'Looking it up…'));
  }

  /** A track that can be looked up (again), with a line saying why it is not shown. */
  showPrompt(track: LibraryTrack, text: string): void {
    this.#render('idle', track, element('p', { class: 'hint' }, text));
  }

  showRemoved(track: LibraryTrack): void {
    this.#render('removed', track, element('p', { class: 'hint' }, 'This track was removed from the library: nothing is looked up for it. “Restore track” adds it back.'));
  }

  showFailure(track: LibraryTrack, error: unknown): void {
    this.#render('failed', track, element('p', { class: 'error' }, `The lookup failed: ${describeError(error)}`));
  }

  show(lookup: TrackLookup): void {
    const { track, tags, api, albumYear, cover } = lookup;
    const apiPart =
      api.status === 'found'
        ? part('api', 'API metadata', 'successful_api_metadata', api.from, [
            `${api.metadata.genre} · ${api.metadata.bpm} bpm · ${api.metadata.key}`,
            element('span', { class: 'summary' }, `${api.metadata.label}. ${api.metadata.summary}`),
          ])
        : part('api', api.status === 'not_found' ? 'API: not found' : 'API: error', api.status === 'not_found' ? 'negative_result' : 'failed_api_lookup', api.from, [
            // negative_result and failed_api_lookup are memory types: one tab's, gone at a reload.
            api.status === 'not_found'
              ? 'The API has no match for this track; this tab remembers the answer until it expires (or the page reloads).'
              : `${api.message}: this tab remembers it until it expires (or the page reloads), then asks again.`,
          ]);
    apiPart.dataset['status'] = api.status;
    const parts = [
      part('tags', 'File tags', 'track_metadata', tags.from, [`${tags.value.format} · ${tags.value.bitrateKbps} kbps · revision ${tags.value.revision}`]),
      apiPart,
      albumYear && part('year', 'Album year', 'album_year', albumYear.from, [String(albumYear.year)]),
      part('cover', 'Album cover', 'artwork', cover.from, [this.#cover(cover.image, track)]),
    ];
    const staleDuringLookup = this.#staleDuringLookup;
    const fromCache = answeredByCache(lookup);
    // Every part the cache's or another lookup's (in this tab or another): this one fetched nothing itself.
    const waited = !fromCache && !fetchedAny(lookup);
    const ms = Math.max(0, Math.round(lookup.elapsedMs));
    this.#render(
      'done',
      track,
      element('dl', { class: 'parts' }, ...parts),
      element(
        'p',
        { class: `timing ${fromCache ? 'timing-hit' : 'timing-miss'}` },
        fromCache
          ? `Answered by the cache alone in ${ms} ms.`
          : waited
            ? `Took ${ms} ms: waited for what another lookup was already fetching.`
            : `Took ${ms} ms: the cache asked the file or the API.`,
      ),
      element('p', { class: 'fingerprint' }, `Fingerprint ${lookup.fingerprint.slice(0, 16)}…`),
    );
    if (staleDuringLookup) this.markStale(staleDuringLookup);
  }

  /** An event removed cache entries of this track (or of every track): the parts shown (or about to be) may be gone. */
  markStale(what: string): void {
    if (this.element.dataset['state'] === 'loading') this.#staleDuringLookup = what;
    if (this.element.dataset['state'] !== 'done') return;
    this.element.querySelector('.stale')?.remove();
    // Under the track's title, above the parts it doubts: the panel scrolls, and its end is often out of view.
    const note = element('p', { class: 'stale' }, `${what} — look it up again to see what the cache still has.`);
    const meta = this.element.querySelector('.meta');
    if (meta) meta.after(note);
    else this.element.append(note);
  }

  #cover(image: Blob, track: LibraryTrack): HTMLElement {
    const url = URL.createObjectURL(image);
    const img = element('img', { class: 'cover', src: url, width: 96, height: 96, alt: `Cover of ${track.album}` });
    img.dataset['bytes'] = String(image.size);
    this.#nextCoverUrl = url;
    return element('span', {}, img, ` ${image.type}, ${image.size.toLocaleString('en')} bytes`);
  }

  #render(state: State, track: LibraryTrack | null, ...body: Node[]): void {
    this.#staleDuringLookup = null;
    if (this.#coverUrl) URL.revokeObjectURL(this.#coverUrl);
    this.#coverUrl = this.#nextCoverUrl;
    this.#nextCoverUrl = null;
    this.element.dataset['state'] = state;
    if (track) this.element.dataset['trackId'] = track.id;
    else delete this.element.dataset['trackId'];
    const again = element('button', { type: 'button', class: 'secondary' }, 'Look up again');
    again.addEventListener('click', this.#onLookUp);
    this.element.replaceChildren(
      ...(track
        ? [
            element('div', { class: 'details-head' }, element('h3', {}, track.title), state === 'loading' || state === 'removed' ? '' : again),
            element('p', { class: 'meta' }, `${track.artist} — ${track.album} · track ${track.trackNumber} · ${formatDuration(track.durationSeconds)}`),
          ]
        : []),
      ...body,
    );
  }
}

function part(name: string, title: string, type: TypeName, from: Source, body: (string | Node)[]): HTMLElement {
  const origin = name === 'tags' ? 'read from file' : name === 'cover' ? 'drawn' : 'from API';
  const source = { cache: 'cache hit', stale: 'stale, refreshing', shared: `shared (${origin} by another lookup)`, fetch: origin }[from];
  return element(
    'div',
    { class: 'part', 'data-part': name, 'data-from': from },
    element('dt', {}, `${title} `, element('code', {}, type)),
    element('dd', {}, element('span', { class: `source source-${from}` }, source), ...body.map((item) => (typeof item === 'string' ? element('span', {}, item) : item))),
  );
}
