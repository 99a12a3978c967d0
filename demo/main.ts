// The demo page: a music library read through a Reprise cache, and an inspector of that cache.
// Wiring only; each part lives in its own module. URL parameters: see readDemoOptions.
import './styles.css';
import { albumKey, createCache, fingerprintTrack, SmartCacheConfig, type CacheEvent, type CacheEventInput, type CacheStats } from '../src/index';
import { CacheInspector } from './CacheInspector';
import { DEMO_CONFIG } from './demoConfig';
import { describeLatency, readDemoOptions } from './demoOptions';
import { DEMO_SCHEMAS } from './demoSchemas';
import { describeBatch, tracksText } from './describeBatch';
import { describeError } from './describeError';
import { EventControls, type EventActions } from './EventControls';
import { EventLog } from './EventLog';
import { generateLibrary } from './generateLibrary';
import { HitRateChart } from './HitRateChart';
import { Library, type LibraryTrack } from './Library';
import { lookupTrack, type DemoCache } from './lookupTrack';
import { MetadataApi } from './MetadataApi';
import { renderTrackRow } from './renderTrackRow';
import { TrackDetails } from './TrackDetails';
import { VirtualList } from './VirtualList';

declare global {
  interface Window {
    /** For the DevTools console: `await demo.cache.stats()`. */
    demo: { cache: DemoCache; library: Library; api: MetadataApi; config: SmartCacheConfig };
  }
}

/** How often the inspector polls `stats()` (and the chart takes a sample). */
const POLL_MS = 500;

const mount = (id: string): HTMLElement => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node;
};

const options = readDemoOptions(location.search);
const config = new SmartCacheConfig(DEMO_CONFIG);
// The library's changes (removed tracks, revisions) are kept per cache and seed, so that a second tab
// opened later, or a reload, shows the library the cache's entries were made for.
// Reading `localStorage` throws where the browser refuses site data: the library then lives in this tab only.
const storage = (() => {
  try {
    return localStorage;
  } catch {
    return undefined;
  }
})();
const library = new Library(
  generateLibrary({ seed: options.seed, count: options.tracks }),
  storage && { storage, key: `reprise-demo-library:${options.name}:${options.seed}` },
);
const api = new MetadataApi(options);
const status = mount('status');
const log = new EventLog((trackId) => library.get(trackId)?.title);

let cache: DemoCache;
try {
  // What Reprise reports rather than throws (a listener that threw, storage it fell back from) shows in the log, and in the console.
  const logger = {
    error(message: string, error: unknown) {
      console.error(message, error);
      log.addAction('report', error === undefined ? message : `${message}: ${describeError(error)}`);
    },
  };
  cache = await createCache({ name: options.name, config, schemas: DEMO_SCHEMAS, logger });
} catch (error) {
  status.textContent = `The cache could not start: ${describeError(error)}`;
  throw error;
}
window.demo = { cache, library, api, config };

let selected: LibraryTrack | null = null;
let lookups = 0;

const details = new TrackDetails(() => {
  if (selected) void lookUp(selected);
});
const list = new VirtualList<LibraryTrack>({
  label: 'Tracks',
  rowHeight: 44,
  rowId: (track) => `track-${track.id}`,
  renderRow: renderTrackRow,
  onChoose: (track) => {
    selected = track;
    controls.update(track);
    if (track.removed) {
      // Replaces the panel: a lookup of the track chosen before no longer shows its result.
      lookups++;
      details.showRemoved(track);
    } else void lookUp(track);
  },
});
const inspector = new CacheInspector(config);
const chart = new HitRateChart(POLL_MS);

const emit = async (event: CacheEventInput) => {
  await cache.emit(event);
  await refresh();
};
const actions: EventActions = {
  modify: (track) => emit({ eventType: 'track_modified', trackId: track.id, metadata: { artist: track.artist, album: track.album, ...library.nextRevision(track) } }),
  // The event carries the fingerprint the entries were stored with: the file's, before the change.
  changeFingerprint: async (track) => emit({ eventType: 'fingerprint_changed', trackId: track.id, fingerprint: await fingerprintTrack(library.identity(track)), metadata: library.nextRevision(track) }),
  remove: (track) => emit({ eventType: 'track_removed', trackId: track.id }),
  restore: (track) => emit({ eventType: 'track_added', trackId: track.id }),
  invalidateTrack: (track) => emit({ eventType: 'manual_invalidation', trackId: track.id }),
  sync: () => emit({ eventType: 'library_sync' }),
  invalidateAll: () => emit({ eventType: 'manual_invalidation' }),
  async cleanup() {
    const { expired, evicted } = await cache.cleanup();
    log.addAction('cleanup()', `${expired} expired and ${evicted} evicted entries removed`);
    await refresh();
  },
  async clear() {
    await cache.clear();
    log.addAction('clear()', 'every content type emptied: IndexedDB (shared by all tabs) and every tab’s memory');
    details.markStale('This tab cleared the cache');
    await refresh();
  },
};
const controls = new EventControls(actions, (action, error) => {
  log.addAction('error', `${action} failed: ${describeError(error)}`);
});

// Events change the library (in every tab alike), and may take the selected track's entries away.
cache.on('*', (event, context) => {
  const changed = library.apply(event);
  if (changed) list.refresh();
  log.addEvent(event, context);
  const who = context.source === 'remote' ? 'Another tab' : 'This tab';
  if (selected && (event.trackId === undefined || event.trackId === selected.id)) {
    // These replace the panel: a lookup under way no longer shows its result (a removed track's least of all).
    if (selected.removed) {
      lookups++;
      details.showRemoved(selected);
    } else if (event.eventType === 'track_added') {
      lookups++;
      details.showPrompt(selected, `${who} restored this track.`);
    } else details.markStale(`${who} emitted ${event.eventType}`);
  } else if (selected && albumOf(event) === albumKey(selected.artist, selected.album)) {
    // With the album in its metadata, a track event removes the album's API metadata (and cover) too.
    details.markStale(`${who} emitted ${event.eventType} for another track of this album`);
  }
  controls.update(selected);
  void refresh();
});

// Another tab's clear() is no event, but it empties the store this panel read (IndexedDB is shared by the
// tabs), and this tab's memory types: a watcher of one type hears it, once per clear(), and logs it. Site data
// cleared under the tabs (the database deleted) is told to it alike, and forgets the memory types too: the
// watcher cannot tell which, so neither does the page. This tab's own clear() is logged, and marks the panel, in `actions.clear`.
cache.watch('track_metadata', null, ({ kind, source }) => {
  if (kind !== 'clear' || source !== 'remote') return;
  log.addAction('clear()', 'emptied from outside this tab (another tab’s clear(), or site data cleared): IndexedDB and this tab’s memory', 'remote');
  details.markStale('Another tab’s clear(), or site data cleared, emptied the cache');
});

async function lookUp(track: LibraryTrack): Promise<void> {
  const lookup = ++lookups;
  details.showLoading(track);
  try {
    const result = await lookupTrack(cache, api, library, track);
    if (lookup === lookups) details.show(result);
  } catch (error) {
    if (lookup === lookups) details.showFailure(track, error);
  }
  await refresh();
}

const lookUpVisible = mount('lookup-visible') as HTMLButtonElement;
const batchStatus = mount('batch-status');
lookUpVisible.addEventListener('click', async () => {
  if (lookUpVisible.getAttribute('aria-busy') === 'true') return;
  const tracks = list.visibleItems().filter((track) => !track.removed);
  lookUpVisible.setAttribute('aria-busy', 'true');
  batchStatus.textContent = `Looking up ${tracksText(tracks.length)}…`;
  const started = performance.now();
  const settled = await Promise.allSettled(tracks.map((track) => lookupTrack(cache, api, library, track)));
  const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  batchStatus.textContent = describeBatch(tracks.length, results, performance.now() - started, failure?.reason);
  lookUpVisible.removeAttribute('aria-busy');
  await refresh();
});

// stats() answers may overtake one another: only the newest request's answer is shown. Never rejects:
// it runs after every action and on a timer, and a failure is shown in the status line instead.
let requested = 0;
let shown = 0;
async function refresh(sample = false): Promise<void> {
  const request = ++requested;
  let stats: CacheStats;
  try {
    stats = await cache.stats();
  } catch (error) {
    status.textContent = `stats() failed: ${describeError(error)}`;
    return;
  }
  if (request < shown) return;
  shown = request;
  inspector.update(stats);
  if (sample) chart.sample(totalsOf(stats));
  mount('api-calls').textContent = String(api.calls);
  status.textContent = stats.degraded
    ? `Cache “${options.name}” · module Worker · IndexedDB unusable, all in memory (${stats.degraded})`
    : `Cache “${options.name}” · module Worker · IndexedDB shared by your tabs`;
}

/** The album a track event names in its metadata (as `albumKey`), whose other tracks' entries it removes too. */
function albumOf({ eventType, metadata }: CacheEvent): string | undefined {
  if (eventType !== 'track_removed' && eventType !== 'track_modified') return undefined;
  const { artist, album } = metadata ?? {};
  return typeof artist === 'string' && typeof album === 'string' ? albumKey(artist, album) : undefined;
}

function totalsOf(stats: CacheStats) {
  const all = Object.values(stats.types);
  return { hits: all.reduce((sum, type) => sum + type.hits, 0), misses: all.reduce((sum, type) => sum + type.misses, 0) };
}

mount('tracks').replaceChildren(list.element);
mount('details').replaceChildren(details.element);
mount('inspector-table').replaceChildren(inspector.element);
mount('hit-rate').replaceChildren(chart.element);
mount('controls').replaceChildren(controls.element);
mount('log').replaceChildren(log.element);
mount('library-count').textContent = `${tracksText(library.tracks.length)}, virtualised`;
mount('api-latency').textContent = describeLatency(options.latency);
list.setItems(library.tracks);

await refresh(true);
// The cache tells this tab every event from its first answer on; what another tab did before is in what it kept.
if (library.reread()) {
  list.refresh();
  controls.update(selected);
}
setInterval(() => void refresh(true), POLL_MS);
document.body.dataset['ready'] = 'true';
