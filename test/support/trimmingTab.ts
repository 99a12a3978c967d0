// A tab whose periodic cleanup trims the event log when a test says, as it does a day after: for the tabs
// that missed more changes than the log keeps.
import type { CacheConfig } from '../../src/configSchema';
import { engineTab } from './engineTab';

/** The event log keeps a day of changes and always the newest thousand (see Engine's LOG_KEEP). */
export const LOG_KEEP = 1000;

/**
 * A tab of the cache `name` whose periodic cleanup (every two seconds) runs when `trim` says, by a clock
 * it first moves two days on; `emitMany` logs that many events (manual invalidations of tracks no entry has).
 */
export async function trimmingTab(name: string, indexedDB: IDBFactory, config: CacheConfig = {}) {
  let ahead = 0;
  const runs: (() => void)[] = [];
  let scheduled = () => {};
  const schedule = (run: () => void, ms: number) => {
    if (ms !== 2000) return void setTimeout(run, ms);
    runs.push(run);
    scheduled();
  };
  // Once a run is scheduled: the cleanup schedules the next whatever its outcome, however long it took (on a loaded
  // machine, over a thousand events, longer than a wait with a fixed timeout allows).
  const next = () => (runs.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => (scheduled = resolve)));
  const { cache } = await engineTab({ name, indexedDB, config: { ...config, caching: { ...config.caching, cleanupIntervalSeconds: 2 } }, engine: { schedule, now: () => Date.now() + ahead } });
  return {
    cache,
    async emitMany(count: number) {
      for (let index = 0; index < count; index++) await cache.emit({ eventType: 'manual_invalidation', trackId: `unknown${index}` });
    },
    async trim() {
      ahead = 2 * 24 * 60 * 60 * 1000;
      await next();
      runs.shift()!();
      // Done once the next run is scheduled.
      await next();
    },
  };
}
