import type { EventType } from '../src/index';
import { element } from './element';
import type { LibraryTrack } from './Library';

/** What each button does; each returns when the cache has answered. */
export interface EventActions {
  modify(track: LibraryTrack): Promise<void>;
  changeFingerprint(track: LibraryTrack): Promise<void>;
  remove(track: LibraryTrack): Promise<void>;
  restore(track: LibraryTrack): Promise<void>;
  invalidateTrack(track: LibraryTrack): Promise<void>;
  sync(): Promise<void>;
  invalidateAll(): Promise<void>;
  cleanup(): Promise<void>;
  clear(): Promise<void>;
}

interface Control {
  button: HTMLButtonElement;
  /** Whether the button applies to the selected track (none: never). */
  enabled: (track: LibraryTrack | null) => boolean;
}

/**
 * A button for every event type (on the selected track, or on the whole library) and for the cache's
 * maintenance calls. Each shows the event it emits, or the call it makes.
 */
export class EventControls {
  readonly element: HTMLElement;
  readonly #controls: Control[] = [];
  #track: LibraryTrack | null = null;

  constructor(actions: EventActions, onError: (action: string, error: unknown) => void) {
    const onTrack = (label: string, event: EventType, run: (track: LibraryTrack) => Promise<void>, enabled: (track: LibraryTrack) => boolean) =>
      this.#button(label, event, () => run(this.#track!), (track) => track !== null && enabled(track), onError);
    const always = (label: string, name: string, run: () => Promise<void>) => this.#button(label, name, run, () => true, onError);
    const present = (track: LibraryTrack) => !track.removed;
    this.element = element(
      'div',
      { class: 'controls' },
      group(
        'Selected track',
        onTrack('Modify track', 'track_modified', actions.modify, present),
        onTrack('Change fingerprint', 'fingerprint_changed', actions.changeFingerprint, present),
        onTrack('Remove track', 'track_removed', actions.remove, present),
        onTrack('Restore track', 'track_added', actions.restore, (track) => track.removed),
        onTrack('Invalidate track', 'manual_invalidation', actions.invalidateTrack, () => true),
      ),
      group(
        'Whole library',
        always('Library sync', 'library_sync', actions.sync),
        always('Invalidate everything', 'manual_invalidation', actions.invalidateAll),
      ),
      group('Maintenance', always('Run cleanup', 'cleanup()', actions.cleanup), always('Clear cache', 'clear()', actions.clear)),
    );
    this.update(null);
  }

  /** Enables the buttons that apply to the selected track (or to no track). */
  update(track: LibraryTrack | null): void {
    this.#track = track;
    for (const { button, enabled } of this.#controls) button.disabled = !enabled(track);
  }

  #button(
    label: string,
    call: string,
    run: () => Promise<void>,
    enabled: (track: LibraryTrack | null) => boolean,
    onError: (action: string, error: unknown) => void,
  ): HTMLButtonElement {
    const button = element('button', { type: 'button', 'data-action': call }, element('span', {}, label), element('code', {}, call));
    button.addEventListener('click', async () => {
      // Kept enabled while busy (a disabled button drops keyboard focus); a second press waits for the first.
      if (button.getAttribute('aria-busy') === 'true') return;
      button.setAttribute('aria-busy', 'true');
      try {
        await run();
      } catch (error) {
        onError(label, error);
      } finally {
        button.removeAttribute('aria-busy');
        button.disabled = !enabled(this.#track);
      }
    });
    this.#controls.push({ button, enabled });
    return button;
  }
}

function group(title: string, ...buttons: HTMLButtonElement[]): HTMLElement {
  return element('fieldset', { class: 'control-group' }, element('legend', {}, title), ...buttons);
}
