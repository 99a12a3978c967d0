// Puts the library on window, with a small harness, so browser tests can drive it with page.evaluate.
import * as Reprise from '../../../src/index';
import type { Cache, CacheEvent, CreateCacheOptions, EventContext } from '../../../src/index';
import { requestDone } from '../../../worker/idbRequests';
import { transactionDone } from '../../../worker/transactionDone';
import { fuzz, holdings } from './fuzzCalls';

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
  /** When each of `workers` was made (as SeenEvent's `at`). */
  workersMadeAt: number[];
  resumedAt: number | null;
  /** Opens a cache whose worker this harness keeps (so tests can terminate it) and records every event. */
  open(options?: CreateCacheOptions): Promise<void>;
}

declare global {
  interface Window {
    Reprise: typeof Reprise;
    tab: Tab;
    fuzz: typeof fuzz;
    holdings: typeof holdings;
    /** Entries and bytes per type, and the values of some keys, read straight from IndexedDB (no Reprise code). */
    recount(name: string, keys?: Record<string, string[]>): Promise<Record<string, { entries: number; bytes: number; usage: { entries: number; bytes: number }; values: unknown[] }>>;
  }
}

const now = () => performance.timeOrigin + performance.now();

const tab: Tab = {
  cache: null,
  events: [],
  workers: [],
  workersMadeAt: [],
  resumedAt: null,
  async open(options = {}) {
    tab.cache = await Reprise.createCache({
      worker: () => {
        const worker = new Worker(new URL('../../../worker/entry.ts', import.meta.url), { type: 'module' });
        tab.workers.push(worker);
        tab.workersMadeAt.push(now());
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
window.fuzz = fuzz;
window.holdings = holdings;
window.recount = async (name, keys = {}) => {
  const db = await requestDone(indexedDB.open(name));
  try {
    const types = [...db.objectStoreNames].filter((store) => Reprise.CONTENT_TYPES.includes(store as Reprise.ContentType));
    // Layout 3: in each type's store, entries under string keys, the usage record under 0 (and commit marks under arrays).
    const tx = db.transaction(types, 'readonly');
    const requests = types.map((type) => ({
      type,
      all: tx.objectStore(type).getAll(IDBKeyRange.bound('', [], false, true)),
      usage: tx.objectStore(type).get(0),
      found: (keys[type] ?? []).map((key) => tx.objectStore(type).get(key)),
    }));
    await transactionDone(tx);
    const result: Awaited<ReturnType<Window['recount']>> = {};
    for (const { type, all, usage, found } of requests) {
      const records = all.result as { bytes: number }[];
      const counted = (usage.result ?? { entries: 0, bytes: 0 }) as { entries: number; bytes: number };
      result[type] = {
        entries: records.length,
        // Usage counts each record's own entry, never a prior an import left in it (importBatch.ts).
        bytes: records.reduce((sum, record) => sum + record.bytes, 0),
        usage: { entries: counted.entries, bytes: counted.bytes },
        values: found.map((request) => (request.result as { value?: unknown } | undefined)?.value),
      };
    }
    return result;
  } finally {
    db.close();
  }
};
