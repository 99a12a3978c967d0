import type { TypeName } from '../src/contentType';
import type { InvalidationTarget } from '../src/invalidationTarget';
import { changeOf, entryStore, type StoreName } from './databaseSchema';
import { EventLog } from './EventLog';
import { requestDone, requestsDone } from './idbRequests';
import type { Change } from './Change';

/**
 * A custom type may be persistent in one deploy of an app and kept in memory (or not configured) in the
 * next, and back: its store stays in the database meanwhile, and the changes the tabs of that deploy log
 * (events, clears) are not applied to it. Each such change names the stores it skipped (`lapsed`), and
 * the first one marks each of them with the log's place before it (`lapsed:<store>` in meta). A tab that
 * keeps the type in IndexedDB replays, before it answers, what was logged since the mark and skipped its
 * store, under its own config, and removes the mark in the same transaction; the whole store goes when
 * the log no longer has those changes. A database with no marks costs one read of meta at open.
 */
export function lapseKey(store: StoreName): `lapsed:${string}` {
  return `lapsed:${store}`;
}

/** The custom types' stores of the database that a tab keeping `kept` in IndexedDB does not apply its changes to. */
export function lapsedStores(db: IDBDatabase, kept: readonly TypeName[]): StoreName[] {
  const mine = new Set<string>(kept.map(entryStore));
  return Array.from(db.objectStoreNames).filter((name): name is StoreName => name.startsWith('custom:') && !mine.has(name));
}

/** Inside `tx` (meta in scope): those of `types` whose stores are marked as lapsed. */
export async function markedTypes(tx: IDBTransaction, types: readonly TypeName[]): Promise<TypeName[]> {
  const meta = tx.objectStore('meta');
  const reads = types.map((type) => meta.get(lapseKey(entryStore(type))));
  await requestsDone(reads);
  return types.filter((_, index) => reads[index]!.result !== undefined);
}

/**
 * Inside `tx` (events, meta and the type's store in scope): what the changes logged since the type's mark
 * that skipped its store remove of it under this tab's config (`targetsOf`), or all of it where the log
 * was trimmed past the mark; the mark goes. None without a mark (another tab caught up first).
 */
export async function lapsedTargets(tx: IDBTransaction, type: TypeName, targetsOf: (change: Change) => InvalidationTarget[]): Promise<InvalidationTarget[]> {
  const meta = tx.objectStore('meta');
  const store = entryStore(type);
  const mark = (await requestDone(meta.get(lapseKey(store)))) as number | undefined;
  if (mark === undefined) return [];
  const { changes, trimmedThrough } = await EventLog.tail(tx, mark);
  meta.delete(lapseKey(store));
  const targets = changes.filter((record) => record.lapsed?.includes(store)).flatMap((record) => targetsOf(changeOf(record)).filter((target) => target.type === type));
  // Everything alone, where anything goes: the records another target finds were read before it went (and would be counted again).
  return trimmedThrough > mark || targets.some((target) => target.by === 'all') ? [{ type, by: 'all' }] : targets;
}
