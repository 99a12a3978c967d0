import type { CacheEvent, ContentType, EventContext } from '../src/index';
import { element } from './element';

/** Older lines are dropped beyond this many. */
const MAX_LINES = 200;

/**
 * The live log, newest first: every library event this tab's cache saw, marked local (emitted here)
 * or remote (emitted in another tab), with what it invalidated here; and this tab's maintenance
 * actions. Each line has `data-source` (local, remote) and `data-event` (the event type or action).
 */
export class EventLog {
  readonly element: HTMLOListElement;
  readonly #describeTrack: (trackId: string) => string | undefined;

  /** `describeTrack` names a track for people (its title), when the library knows it. */
  constructor(describeTrack: (trackId: string) => string | undefined) {
    this.#describeTrack = describeTrack;
    this.element = element('ol', {
      class: 'log',
      role: 'log',
      'aria-label': 'Event log',
      // Shown while the log is empty (see styles.css).
      'data-empty':
        'Nothing yet. Library events emitted here (the buttons above) or in another tab of this cache appear here, newest first, with what each removed; so do cleanup() and clear().',
    });
  }

  addEvent(event: CacheEvent, { source, invalidated }: EventContext): void {
    const subject: string[] = [];
    if (event.trackId !== undefined) {
      const title = this.#describeTrack(event.trackId);
      subject.push(title === undefined ? `track ${event.trackId}` : `“${title}”`);
    } else if (event.eventType !== 'fingerprint_changed') subject.push('every track');
    if (event.fingerprint !== undefined) subject.push(`fingerprint ${event.fingerprint.slice(0, 10)}…`);
    const counts = Object.entries(invalidated) as [ContentType, number][];
    this.#add(
      source,
      event.eventType,
      subject.join(', '),
      counts.length
        ? counts.map(([type, count]) => element('span', { class: count ? 'count' : 'count zero', 'data-invalidated': type, 'data-value': count }, `${type} −${count}`))
        : [element('span', { class: 'count zero' }, 'invalidates nothing')],
    );
  }

  /** A maintenance action (cleanup, clear) of this tab, or its failure; or another tab's clear, which is no event. */
  addAction(action: string, detail: string, source: EventContext['source'] = 'local'): void {
    this.#add(source, action, detail, []);
  }

  #add(source: EventContext['source'], name: string, subject: string, counts: Node[]): void {
    const time = new Date().toLocaleTimeString(undefined, { hour12: false });
    this.element.prepend(
      element(
        'li',
        { 'data-source': source, 'data-event': name },
        element('time', {}, time),
        element('span', { class: `source-badge source-badge-${source}` }, source),
        element('code', { class: 'event-name' }, name),
        element('span', { class: 'event-subject' }, subject),
        element('span', { class: 'event-counts' }, ...counts),
      ),
    );
    while (this.element.childElementCount > MAX_LINES) this.element.lastElementChild?.remove();
  }
}
