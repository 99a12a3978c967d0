import { element } from './element';
import { formatDuration } from './formatDuration';
import type { LibraryTrack } from './Library';

/** Fills a row of the track list: number, title, artist and album, length, and what happened to the track. */
export function renderTrackRow(row: HTMLElement, track: LibraryTrack, index: number): void {
  row.dataset['trackId'] = track.id;
  row.classList.toggle('removed', track.removed);
  row.replaceChildren(
    element('span', { class: 'row-number' }, index + 1),
    element(
      'span',
      { class: 'row-main' },
      element('span', { class: 'row-title' }, track.title),
      element('span', { class: 'row-sub' }, `${track.artist} — ${track.album}`),
    ),
    track.removed
      ? element('span', { class: 'badge badge-removed' }, 'removed')
      : track.revision > 0
        ? element('span', { class: 'badge badge-edited' }, `edited ×${track.revision}`)
        : '',
    element('span', { class: 'row-duration' }, formatDuration(track.durationSeconds)),
  );
}
