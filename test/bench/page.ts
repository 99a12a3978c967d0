// The benchmark, in the page: each function builds fresh databases, measures one thing for one
// library and cleans up. test/bench/benchmarks.ts drives it from Node and compares the figures.
import Dexie from 'dexie';
import * as keyval from 'idb-keyval';
import { createCache, type Cache, type CacheConfig, type SetManyEntry } from '../../src/index';
import { deleteTrack, openRawDatabase, transactionDone } from './rawDatabase';
import type { RawRequest } from './rawWorker';
import { trackRecord, trackRecords, type TrackRecord } from './records';

export type Library = 'reprise' | 'raw' | 'dexie' | 'idb-keyval';
/** The libraries of row 10 (idb-keyval has no index to delete a track's records by). */
export type Probed = Exclude<Library, 'idb-keyval'>;

export interface Timing {
  ms: number;
  /** The longest task the Long Tasks API saw on the main thread (0 if none reached 50 ms). */
  longestTask: number;
  /** The longest gap between ticks of a 10 ms interval on the main thread. */
  longestGap: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  samples: number;
}

let databases = 0;
const uniqueName = (what: string) => `bench-${what}-${Date.now()}-${++databases}`;
const now = () => performance.now();

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), samples: sorted.length };
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

/** Watches the main thread while `run` runs: Long Tasks API entries, and the gaps of a 10 ms ticker. */
async function watched(run: () => Promise<unknown>): Promise<Timing> {
  // Start in a task of its own: the task that prepared the input must not be charged to the library.
  await new Promise((resolve) => setTimeout(resolve, 50));
  let longestTask = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longestTask = Math.max(longestTask, entry.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  let last = now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const tick = now();
    longestGap = Math.max(longestGap, tick - last);
    last = tick;
  }, 10);
  const start = now();
  await run();
  const ms = now() - start;
  clearInterval(ticker);
  longestGap = Math.max(longestGap, now() - last);
  // Long task entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.takeRecords().forEach((entry) => (longestTask = Math.max(longestTask, entry.duration)));
  observer.disconnect();
  return { ms, longestTask, longestGap };
}

/** The floor's worker, behind a promise per request. */
class RawClient {
  readonly #worker = new Worker(new URL('./rawWorker.ts', import.meta.url), { type: 'module' });
  readonly #pending = new Map<number, (reply: { result?: unknown; error?: string }) => void>();
  #ids = 0;

  constructor() {
    this.#worker.onmessage = ({ data }: MessageEvent<{ id: number; result?: unknown; error?: string }>) => this.#pending.get(data.id)?.(data);
  }

  async call(request: RawRequest extends infer R ? (R extends RawRequest ? Omit<R, 'id'> : never) : never): Promise<unknown> {
    const id = ++this.#ids;
    const reply = await new Promise<{ result?: unknown; error?: string }>((resolve) => {
      this.#pending.set(id, resolve);
      this.#worker.postMessage({ ...request, id });
    });
    this.#pending.delete(id);
    if (reply.error) throw new Error(reply.error);
    return reply.result;
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** One library, opened on a fresh database, with the operations the benchmark needs. */
interface Subject {
  /** Turns records into what the library takes, outside the measured time (an app would store its own shape). */
  prepare(records: TrackRecord[]): unknown;
  write(prepared: unknown): Promise<unknown>;
  getMany(keys: string[]): Promise<unknown[]>;
  get(key: string): Promise<unknown>;
  close(): Promise<void>;
  /** Reprise's own cache (row 12 lists a type). */
  cache?: Cache;
}

async function openSubject(library: Library, config?: CacheConfig): Promise<Subject> {
  const name = uniqueName(library);
  switch (library) {
    case 'reprise': {
      const cache = await createCache({ name, ...(config ? { config } : {}) });
      return {
        prepare: (records) => records.map((record) => ({ key: record.key, value: record, trackId: record.trackId })),
        write: (entries) => cache.setMany('track_metadata', entries as SetManyEntry[]),
        getMany: (keys) => cache.getMany('track_metadata', keys),
        get: (key) => cache.get('track_metadata', key),
        close: async () => {
          await cache.close();
          await deleteDatabase(name);
        },
        cache,
      };
    }
    case 'raw': {
      const raw = new RawClient();
      await raw.call({ op: 'open', name, indexed: false });
      return {
        prepare: (records) => records,
        write: (records) => raw.call({ op: 'put', records: records as TrackRecord[] }),
        getMany: (keys) => raw.call({ op: 'getMany', keys }) as Promise<unknown[]>,
        get: async (key) => ((await raw.call({ op: 'getMany', keys: [key] })) as unknown[])[0],
        close: async () => {
          await raw.call({ op: 'close' });
          raw.terminate();
          await deleteDatabase(name);
        },
      };
    }
    case 'dexie': {
      const db = new Dexie(name);
      // The same lookup Reprise keeps for track events: an index on the track id.
      db.version(1).stores({ tracks: 'key, trackId' });
      await db.open();
      const table = db.table<TrackRecord, string>('tracks');
      return {
        prepare: (records) => records,
        write: (records) => table.bulkPut(records as TrackRecord[]),
        getMany: (keys) => table.bulkGet(keys),
        get: (key) => table.get(key),
        close: async () => {
          db.close();
          await deleteDatabase(name);
        },
      };
    }
    case 'idb-keyval': {
      const store = keyval.createStore(name, 'keyval');
      return {
        prepare: (records) => records.map((record): [string, TrackRecord] => [record.key, record]),
        write: (pairs) => keyval.setMany(pairs as [string, TrackRecord][], store),
        getMany: (keys) => keyval.getMany(keys, store),
        get: (key) => keyval.get(key, store),
        close: () => deleteDatabase(name),
      };
    }
  }
}

function randomKeys(stored: number, count: number, seed: number): string[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return `track-${state % stored}`;
  });
}

/** Writes in chunks, so that a big fill is not itself what is measured. */
async function fill(subject: Subject, count: number): Promise<void> {
  for (let from = 0; from < count; from += 20_000) await subject.write(subject.prepare(trackRecords(Math.min(20_000, count - from), from)));
}

const bench = {
  /** 1 and 6: one bulk write of `count` records into an empty store, with the main thread watched. */
  async bulkWrite(library: Library, count: number): Promise<Timing> {
    const subject = await openSubject(library);
    const prepared = subject.prepare(trackRecords(count));
    try {
      return await watched(() => subject.write(prepared));
    } finally {
      await subject.close();
    }
  },

  /** 2: getMany of `count` random keys from `stored` records; one figure per round. */
  async getMany(library: Library, stored: number, count: number, rounds: number): Promise<number[]> {
    const subject = await openSubject(library);
    try {
      await fill(subject, stored);
      await subject.getMany(randomKeys(stored, count, 1));
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const keys = randomKeys(stored, count, round + 2);
        const start = now();
        const values = await subject.getMany(keys);
        times.push(now() - start);
        if (values.length !== count || values.some((value) => value === undefined)) throw new Error(`${library} getMany missed keys`);
      }
      return times;
    } finally {
      await subject.close();
    }
  },

  /**
   * 9: a list rendering its rows: `count` concurrent gets (one per row) against one getMany of the same
   * keys, alternating, `rounds` times each; Reprise's persistent type. Milliseconds per round.
   */
  async listRender(stored: number, count: number, rounds: number): Promise<{ gets: number[]; getMany: number[] }> {
    const subject = await openSubject('reprise');
    try {
      await fill(subject, stored);
      const times = { gets: [] as number[], getMany: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const keys = randomKeys(stored, count, round + 100);
        for (const way of round % 2 ? (['getMany', 'gets'] as const) : (['gets', 'getMany'] as const)) {
          const start = now();
          const values = way === 'gets' ? await Promise.all(keys.map((key) => subject.get(key))) : await subject.getMany(keys);
          times[way].push(now() - start);
          if (values.some((value) => value === undefined)) throw new Error(`list render (${way}) missed keys`);
        }
      }
      return times;
    } finally {
      await subject.close();
    }
  },

  /**
   * 13: an app caching each answer as it arrives: `count` concurrent single writes of small records, each
   * library on a fresh database warmed by one write — Reprise's `set`s of a persistent type, the same records
   * as one `setMany`, Dexie's `table.put`s, idb-keyval's `set`s. The four take turns, in another order each
   * round, so that a noisy moment hits them alike. Milliseconds per round.
   */
  async concurrentSets(count: number, rounds: number): Promise<Record<ConcurrentWay, number[]>> {
    const times: Record<ConcurrentWay, number[]> = { sets: [], setMany: [], dexie: [], 'idb-keyval': [] };
    const ways = Object.keys(times) as ConcurrentWay[];
    for (let round = 0; round < rounds; round++) {
      for (const way of ways.map((_, index) => ways[(index + round) % ways.length]!)) {
        const records = trackRecords(count, 1);
        const subject = await openConcurrent(way);
        try {
          await subject.one(trackRecord(0));
          const start = now();
          await subject.write(records);
          times[way].push(now() - start);
          if ((await subject.count()) !== count + 1) throw new Error(`${way}: not every write landed`);
        } finally {
          await subject.close();
        }
      }
    }
    return times;
  },

  /**
   * 12: the main thread while big answers reach it: `entries` of a type of `stored` records, then a
   * getMany of `count` random keys of it, then of `stored` random keys (big arguments too), then a
   * deleteMany of every key (Reprise, a persistent type, through its worker).
   */
  async bigAnswers(stored: number, count: number): Promise<{ entries: Timing; getMany: Timing; getManyAll: Timing; deleteMany: Timing }> {
    const subject = await openSubject('reprise');
    const cache = subject.cache!;
    try {
      await fill(subject, stored);
      const entries = await watched(async () => {
        if ((await cache.entries('track_metadata')).length !== stored) throw new Error('entries missed records');
      });
      const keys = randomKeys(stored, count, 12);
      const getMany = await watched(async () => {
        if ((await cache.getMany('track_metadata', keys)).some((value) => value === undefined)) throw new Error('getMany missed keys');
      });
      const all = randomKeys(stored, stored, 13);
      const getManyAll = await watched(async () => {
        if ((await cache.getMany('track_metadata', all)).some((value) => value === undefined)) throw new Error('getMany missed keys');
      });
      const every = trackRecords(stored).map((record) => record.key);
      const deleteMany = await watched(async () => {
        if ((await cache.deleteMany('track_metadata', every)) !== stored) throw new Error('deleteMany missed keys');
      });
      return { entries, getMany, getManyAll, deleteMany };
    } finally {
      await subject.close();
    }
  },

  /**
   * 3: sequential point gets of random keys, the libraries taking turns key by key (a noisy moment of
   * this shared machine hits them alike: measured one after the other, the first measured right after
   * row 2's writes read slower).
   */
  async pointGets(libraries: Library[], stored: number, count: number): Promise<Percentiles[]> {
    const subjects: Subject[] = [];
    try {
      for (const library of libraries) {
        const subject = await openSubject(library);
        subjects.push(subject);
        await fill(subject, stored);
      }
      const keys = randomKeys(stored, count + 100, 9);
      for (const key of keys.slice(0, 100)) for (const subject of subjects) await subject.get(key);
      const times = subjects.map((): number[] => []);
      for (const key of keys.slice(100)) {
        for (const [index, subject] of subjects.entries()) {
          const start = now();
          const value = await subject.get(key);
          times[index]!.push(now() - start);
          if (value === undefined) throw new Error(`${libraries[index]} missed ${key}`);
        }
      }
      return times.map(percentiles);
    } finally {
      for (const subject of subjects) await subject.close();
    }
  },

  /** 3: the same for Reprise's in-memory type (generic). */
  async memoryGets(stored: number, count: number): Promise<Percentiles> {
    const name = uniqueName('memory');
    const cache = await createCache({ name });
    try {
      const records = trackRecords(stored);
      await cache.setMany('generic', records.map((record) => ({ key: record.key, value: record })));
      return await timeGets((key) => cache.get('generic', key), stored, count);
    } finally {
      await cache.close();
      await deleteDatabase(name);
    }
  },

  /**
   * 4: one track_removed per round, each for a track that has 10 entries, in caches holding each of
   * `sizes` entries; and the floor: raw IndexedDB holding the largest size, with only the index that
   * finds a track's entries, deleting them in one readwrite transaction. Rounds take turns between
   * them, so that a noisy moment hits them alike.
   */
  async eventCosts(sizes: number[], rounds: number): Promise<{ reprise: (Percentiles & { stored: number; removed: number })[]; raw: Percentiles & { removed: number } }> {
    const trackOf = (at: number, record: TrackRecord) => (at < rounds * 10 ? `hot${Math.floor(at / 10)}` : record.trackId);
    const caches = await Promise.all(sizes.map(async (stored) => ({ stored, name: uniqueName('events'), times: [] as number[], removed: 0 })));
    const opened = await Promise.all(caches.map(({ name }) => createCache({ name })));
    const floor = { name: uniqueName('events-raw'), times: [] as number[], removed: 0 };
    const db = await openRawDatabase(floor.name, true);
    try {
      for (const [index, { stored }] of caches.entries()) {
        for (let from = 0; from < stored; from += 20_000) {
          const records = trackRecords(Math.min(20_000, stored - from), from);
          await opened[index]!.setMany(
            'track_metadata',
            records.map((record, offset) => ({ key: record.key, value: record, trackId: trackOf(from + offset, record) })),
          );
        }
      }
      for (let from = 0; from < Math.max(...sizes); from += 20_000) {
        const tx = db.transaction('tracks', 'readwrite', { durability: 'relaxed' });
        trackRecords(Math.min(20_000, Math.max(...sizes) - from), from).forEach((record, offset) =>
          tx.objectStore('tracks').put({ key: record.key, value: record, trackId: trackOf(from + offset, record) }),
        );
        await transactionDone(tx);
      }
      for (let round = 0; round < rounds; round++) {
        for (const [index, cache] of opened.entries()) {
          const start = now();
          const report = await cache.emit({ eventType: 'track_removed', trackId: `hot${round}` });
          caches[index]!.times.push(now() - start);
          caches[index]!.removed += report.invalidated.track_metadata ?? 0;
        }
        const start = now();
        floor.removed += await deleteTrack(db, `hot${round}`);
        floor.times.push(now() - start);
      }
      return {
        reprise: caches.map(({ stored, times, removed }) => ({ ...percentiles(times), stored, removed })),
        raw: { ...percentiles(floor.times), removed: floor.removed },
      };
    } finally {
      db.close();
      await deleteDatabase(floor.name);
      for (const [index, cache] of opened.entries()) {
        await cache.close();
        await deleteDatabase(caches[index]!.name);
      }
    }
  },

  /** 7: writing twice the budget of track_metadata (eviction running) against the same writes under a big budget. */
  async budgetWrite(budgetMb: number, evicting: boolean): Promise<{ ms: number; entries: number; bytes: number; evictions: number }> {
    const name = uniqueName('budget');
    const cache = await createCache({ name, config: { caching: { policies: { track_metadata: { maxSizeMb: evicting ? budgetMb : 100 * budgetMb } } } } });
    try {
      const perEntry = 800;
      const total = Math.ceil((2 * budgetMb * 2 ** 20) / perEntry);
      const start = now();
      for (let from = 0; from < total; from += 1000) {
        const records = trackRecords(Math.min(1000, total - from), from);
        await cache.setMany('track_metadata', records.map((record) => ({ key: record.key, value: record, trackId: record.trackId })));
      }
      const ms = now() - start;
      const stats = (await cache.stats()).types.track_metadata;
      return { ms, entries: stats.entries, bytes: stats.bytes, evictions: stats.evictions };
    } finally {
      await cache.close();
      await deleteDatabase(name);
    }
  },

  /** 5, receiving side: a tab that records when each event reaches its listener, and acknowledges it. */
  async listen(name: string): Promise<void> {
    const cache = await createCache({ name });
    const acks = new BroadcastChannel(`${name}-acks`);
    const arrivals: number[] = [];
    cache.on('*', (event) => {
      arrivals.push(performance.timeOrigin + now());
      acks.postMessage(event.trackId);
    });
    receiving = { cache, arrivals };
  },

  arrivals(): number[] {
    return receiving?.arrivals ?? [];
  },

  /** 5, emitting side: emits one event at a time and waits for `listeners` acknowledgements before the next. */
  async emitMany(name: string, count: number, listeners: number): Promise<number[]> {
    const cache = await createCache({ name });
    const acks = new BroadcastChannel(`${name}-acks`);
    const started: number[] = [];
    try {
      for (let index = 0; index < count; index++) {
        const acked = new Promise<void>((resolve) => {
          let left = listeners;
          acks.onmessage = () => {
            if (--left === 0) resolve();
          };
        });
        started.push(performance.timeOrigin + now());
        await cache.emit({ eventType: 'track_modified', trackId: `t${index}` });
        await acked;
      }
      return started;
    } finally {
      acks.close();
      await cache.close();
    }
  },

  userAgent: () => navigator.userAgent,

  /**
   * 10, tab A: opens `name` (Reprise, or raw IndexedDB or Dexie with the same two stores as `probe`) and
   * imports `count` track records in one call (raw: in steps, from its worker). Returns when it started
   * and ended (comparable across pages), and for raw how many steps it took.
   */
  async importAll(library: Probed, name: string, count: number): Promise<{ startedAt: number; endedAt: number; steps?: number }> {
    const records = trackRecords(count);
    const store = await openProbed(library, name);
    try {
      const prepared = library === 'reprise' ? records.map((record) => ({ key: record.key, value: record, trackId: record.trackId })) : records;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const startedAt = performance.timeOrigin + now();
      const result = await store.importTracks(prepared);
      return { startedAt, endedAt: performance.timeOrigin + now(), ...(library === 'raw' ? { steps: result as number } : {}) };
    } finally {
      await store.close();
    }
  },

  /**
   * 10, tab B: while `window.stopProbe` is unset, three loops side by side, each a call then 20 ms: a
   * get of a track stored before, an event that removes nothing (Reprise: track_removed of an unknown
   * track; raw and Dexie: the same delete by index), a write of another type (album_year; raw and Dexie:
   * another store). Each sample: when it started (comparable across pages), how long it took.
   */
  async probe(library: Probed, name: string): Promise<Record<'get' | 'emit' | 'write', { at: number; ms: number }[]>> {
    const store = await openProbed(library, name);
    const samples = { get: [] as { at: number; ms: number }[], emit: [] as { at: number; ms: number }[], write: [] as { at: number; ms: number }[] };
    try {
      await store.prepare();
      (window as { probing?: boolean }).probing = true;
      // Three loops side by side: one call held back does not hold back the others' samples.
      await Promise.all(
        (['get', 'emit', 'write'] as const).map(async (kind) => {
          for (let round = 0; !(window as { stopProbe?: boolean }).stopProbe; round++) {
            const at = performance.timeOrigin + now();
            const value = await store[kind](round);
            samples[kind].push({ at, ms: performance.timeOrigin + now() - at });
            if (kind === 'get' && value === undefined) throw new Error(`${library}: probe entry missing`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      return samples;
    } finally {
      await store.close();
    }
  },
};

/** What measure 10 does to one library's database, from either tab. */
async function openProbed(library: Probed, name: string) {
  if (library === 'reprise') {
    const cache = await createCache({ name });
    return {
      importTracks: (entries: unknown) => cache.setMany('track_metadata', entries as SetManyEntry[]),
      prepare: () => cache.set('track_metadata', 'probe', { title: 'probe' }),
      get: () => cache.get('track_metadata', 'probe'),
      emit: (round: number) => cache.emit({ eventType: 'track_removed', trackId: `nobody-${round}` }),
      write: (round: number) => cache.set('album_year', `album-${round}`, 1990 + (round % 30)),
      close: () => cache.close(),
    };
  }
  if (library === 'raw') {
    // Tab A imports through the floor's worker; tab B probes from the page, each call one transaction.
    const db = await openRawDatabase(name, true);
    const worker = new RawClient();
    await worker.call({ op: 'open', name, indexed: true });
    const request = async <T>(store: 'tracks' | 'years', mode: IDBTransactionMode, make: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
      const tx = db.transaction(store, mode, { durability: 'relaxed' });
      const made = make(tx.objectStore(store));
      await transactionDone(tx);
      return made.result;
    };
    return {
      importTracks: (records: unknown) => worker.call({ op: 'import', records: records as TrackRecord[] }),
      prepare: () => request('tracks', 'readwrite', (tracks) => tracks.put({ ...trackRecords(1)[0]!, key: 'probe' })),
      get: () => request('tracks', 'readonly', (tracks) => tracks.get('probe')),
      emit: (round: number) => deleteTrack(db, `nobody-${round}`),
      write: (round: number) => request('years', 'readwrite', (years) => years.put({ key: `album-${round}`, year: 1990 + (round % 30) })),
      close: async () => {
        await worker.call({ op: 'close' });
        worker.terminate();
        db.close();
      },
    };
  }
  const db = new Dexie(name);
  db.version(1).stores({ tracks: 'key, trackId', years: 'key' });
  await db.open();
  const tracks = db.table<TrackRecord, string>('tracks');
  const years = db.table<{ key: string; year: number }, string>('years');
  return {
    importTracks: (records: unknown) => tracks.bulkPut(records as TrackRecord[]),
    prepare: () => tracks.put({ ...trackRecords(1)[0]!, key: 'probe' }),
    get: () => tracks.get('probe'),
    emit: (round: number) => tracks.where('trackId').equals(`nobody-${round}`).delete(),
    write: (round: number) => years.put({ key: `album-${round}`, year: 1990 + (round % 30) }),
    close: async () => db.close(),
  };
}

/** Row 13's ways of writing: Reprise's concurrent `set`s and its one `setMany`, Dexie's and idb-keyval's concurrent single writes. */
export type ConcurrentWay = 'sets' | 'setMany' | 'dexie' | 'idb-keyval';

/** One way of row 13 on a fresh database: one write (the warm-up), the records written its way, how many are stored. */
async function openConcurrent(way: ConcurrentWay) {
  const name = uniqueName(`concurrent-${way}`);
  if (way === 'sets' || way === 'setMany') {
    const cache = await createCache({ name });
    const set = (record: TrackRecord) => cache.set('track_metadata', record.key, record, { trackId: record.trackId });
    return {
      one: set,
      write: (records: TrackRecord[]) =>
        way === 'sets'
          ? Promise.all(records.map(set))
          : cache.setMany('track_metadata', records.map((record) => ({ key: record.key, value: record, trackId: record.trackId }))),
      count: async () => (await cache.keys('track_metadata')).length,
      close: async () => {
        await cache.close();
        await deleteDatabase(name);
      },
    };
  }
  if (way === 'dexie') {
    const db = new Dexie(name);
    db.version(1).stores({ tracks: 'key, trackId' });
    await db.open();
    const table = db.table<TrackRecord, string>('tracks');
    return {
      one: (record: TrackRecord) => table.put(record),
      write: (records: TrackRecord[]) => Promise.all(records.map((record) => table.put(record))),
      count: () => table.count(),
      close: async () => {
        db.close();
        await deleteDatabase(name);
      },
    };
  }
  const store = keyval.createStore(name, 'keyval');
  return {
    one: (record: TrackRecord) => keyval.set(record.key, record, store),
    write: (records: TrackRecord[]) => Promise.all(records.map((record) => keyval.set(record.key, record, store))),
    count: async () => (await keyval.keys(store)).length,
    close: () => deleteDatabase(name),
  };
}

let receiving: { cache: Cache; arrivals: number[] } | undefined;

async function timeGets(get: (key: string) => Promise<unknown>, stored: number, count: number): Promise<Percentiles> {
  const keys = randomKeys(stored, count + 100, 9);
  for (const key of keys.slice(0, 100)) await get(key);
  const times: number[] = [];
  for (const key of keys.slice(100)) {
    const start = now();
    const value = await get(key);
    times.push(now() - start);
    if (value === undefined) throw new Error(`missed ${key}`);
  }
  return percentiles(times);
}

declare global {
  interface Window {
    bench: typeof bench;
  }
}

window.bench = bench;
