import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Methods of the worker's own classes, and functions its classes take as options, that only the worker's
 * script calls: their names shortened in it (vite.config.ts, `compressed`: the minifiers keep property
 * names; 0.24 kB min + gzip). A function is what no message and no IndexedDB record can hold: its name
 * crosses no boundary unless the page calls it, through Comlink, by name. Never a field that holds data:
 * renamed in the worker only, a record an older build wrote, a message or an answer would no longer match.
 */
const METHODS = [
  ...['afterImports', 'backWithin', 'roomAfterImport', 'shrinkInSteps', 'sweepImports', 'writeUnderImports'], // Imports
  ...['liveKeys', 'trimCommitMarks', 'writeReadTimes', 'shrink'], // IdbStore, MemoryStore
  ...['byStore', 'cannotTell', 'degradeOrThrow', 'invalidateMemory', 'persistentTypes', 'toldMemory', 'withStore'], // Stores
  ...['afterReading', 'transact', 'ensureEpoch', 'epochOf', 'headIn', 'readChanges', 'readEpoch', 'tail'], // Database, EventLog
  ...['announce', 'applyShared', 'lostLog', 'publish', 'writeInto'], // TabSync, CrossTabChanges, ReadTimes
  ...['deliver', 'intervalSeconds', 'placed', 'schedule'], // options of ChangeFeed, PeriodicCleanup, TabSync, IdbStore…
];

/** The names the worker's script renames, once checked: the build fails if a file in `root`'s src/ (the page's code and the protocol's types) names one. */
export async function workerMethods(root: string): Promise<string[]> {
  const files = (folder: string) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(root, folder, name));
  for (const file of files('src')) {
    const named = METHODS.find((method) => new RegExp(`\\b${method}\\b`).test(readFileSync(file, 'utf8')));
    if (named) throw new Error(`${file} names ${named}, which the worker's script renames (build/workerMethods.ts)`);
  }
  return METHODS;
}
