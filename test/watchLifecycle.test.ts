// The page lifecycle as browsers say it (freeze and resume on the document, pagehide and pageshow on the
// window), with what Reprise does about it (src/watchLifecycle.ts).
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheChange } from '../src/Cache';
import { brokenFactory } from './support/faultyIndexedDB';
import { openCache, uniqueName } from './support/openCache';

/** Stubs the page's document and window (Node has neither): caches opened from now on follow their events. */
function page() {
  const document = Object.assign(new EventTarget(), { visibilityState: 'hidden' as DocumentVisibilityState });
  const window = new EventTarget();
  vi.stubGlobal('document', document);
  vi.stubGlobal('window', window);
  return { document, window };
}

/** As browsers dispatch it: a PageTransitionEvent (Node has none). */
const pagehide = (persisted: boolean) => Object.assign(new Event('pagehide'), { persisted });

afterEach(() => vi.unstubAllGlobals());

describe('watchLifecycle', () => {
  it("a page unloaded (pagehide, not persisted) still tells the other tabs what it changes after: another tab's watcher hears a set made by the app's own pagehide listener", async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    // The other tab, opened before the page's document is stubbed: it follows no lifecycle of this page.
    const { cache: other } = await openCache({ name, indexedDB });
    const seen: string[] = [];
    other.watch('track_metadata', 'k', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    const { window } = page();
    const { cache: here } = await openCache({ name, indexedDB });
    // The app's own listener, added after createCache's: it saves as the page goes away.
    let saved: Promise<void> | undefined;
    window.addEventListener('pagehide', () => void (saved = here.set('track_metadata', 'k', 'last words')));
    window.dispatchEvent(pagehide(false));
    await saved;
    await vi.waitFor(() => expect(seen).toEqual(['remote set']));
    expect(await other.get('track_metadata', 'k')).toBe('last words');
    await here.close();
    await other.close();
  });

  it('a page without IndexedDB unloaded (pagehide, not persisted) still gets out an event emitted after: it reaches the shared data and the other tabs', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    await other.set('track_metadata', 'k', 'old', { trackId: 't1' });
    const heard: string[] = [];
    other.on('*', (event, { source }) => void heard.push(`${source} ${event.eventType}`));
    const { window } = page();
    // Private mode, say: this tab keeps its types in memory, and needs another tab to log its events.
    const { cache: here } = await openCache({ name, indexedDB: brokenFactory() });
    let emitted: Promise<unknown> | undefined;
    window.addEventListener('pagehide', () => void (emitted = here.emit({ eventType: 'track_removed', trackId: 't1' })));
    window.dispatchEvent(pagehide(false));
    await emitted;
    await vi.waitFor(() => expect(heard).toEqual(['remote track_removed']));
    expect(await other.get('track_metadata', 'k')).toBeUndefined();
    await here.close();
    await other.close();
  });

  it('a page put in the back/forward cache (pagehide, persisted) is suspended: what it changes meanwhile reaches the other tabs once it is shown again (pageshow)', async () => {
    const name = uniqueName();
    const indexedDB = new IDBFactory();
    const { cache: other } = await openCache({ name, indexedDB });
    const seen: string[] = [];
    other.watch('track_metadata', 'k', ({ kind, source }: CacheChange) => void seen.push(`${source} ${kind}`));
    const { window } = page();
    const { cache: here } = await openCache({ name, indexedDB });
    let saved: Promise<void> | undefined;
    window.addEventListener('pagehide', () => void (saved = here.set('track_metadata', 'k', 'last words')));
    window.dispatchEvent(pagehide(true));
    await saved;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([]);
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    await vi.waitFor(() => expect(seen).toEqual(['remote set']));
    await here.close();
    await other.close();
  });
});
