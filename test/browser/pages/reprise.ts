// Puts the library on window, with a small harness, so browser tests can drive it with page.evaluate.
import * as Reprise from '../../../src/index';
import type { Cache, CacheEvent, CreateCacheOptions, EventContext } from '../../../src/index';

export interface SeenEvent {
  event: CacheEvent;
  context: EventContext;
  /** performance.timeOrigin + performance.now(): comparable across pages. */
  at: number;
}

export interface Tab {
  cache: Cache | null;
  events: SeenEvent[];
  workers: Worker[];
  resumedAt: number | null;
  /** Opens a cache whose worker this harness keeps (so tests can terminate it) and records every event. */
  open(options?: CreateCacheOptions): Promise<void>;
}

declare global {
  interface Window {
    Reprise: typeof Reprise;
    tab: Tab;
  }
}

const now = () => performance.timeOrigin + performance.now();

const tab: Tab = {
  cache: null,
  events: [],
  workers: [],
  resumedAt: null,
  async open(options = {}) {
    tab.cache = await Reprise.createCache({
      worker: () => {
        const worker = new Worker(new URL('../../../worker/entry.ts', import.meta.url), { type: 'module' });
        tab.workers.push(worker);
        return worker;
      },
      ...options,
    });
    tab.cache.on('*', (event, context) => void tab.events.push({ event, context, at: now() }));
  },
};

document.addEventListener('resume', () => (tab.resumedAt = now()));

window.Reprise = Reprise;
window.tab = tab;
