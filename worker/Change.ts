import type { CacheEvent } from '../src/cacheEvent';
import type { TypeName } from '../src/contentType';
import { targetMatches, targetsIn, type InvalidationTarget } from '../src/invalidationTarget';
import { invalidationTargets } from '../src/invalidationTargets';
import type { PolicyTable } from '../src/PolicyTable';
import type { LoggedChange } from './databaseSchema';
import type { StoredEntry } from './Store';

/** What every tab must apply, wherever it was made: a library event, or a `clear` of some types. */
export type Change = { kind: 'event'; event: CacheEvent } | { kind: 'clear'; types: TypeName[] };

/** What `change` removes under `config`, in every type. */
export function changeTargets(config: PolicyTable, change: Change): InvalidationTarget[] {
  return change.kind === 'event' ? invalidationTargets(config, change.event) : change.types.map((type) => ({ type, by: 'all' }));
}

/** Whether `change` removes `entry` under `config`. */
export function changeRemoves(config: PolicyTable, change: Change, entry: StoredEntry): boolean {
  if (change.kind === 'clear') return change.types.includes(entry.type);
  return removedBy(invalidationTargets(config, change.event), entry);
}

/** Whether any of `targets` removes `entry` (a target of its type that matches it). */
export function removedBy(targets: readonly InvalidationTarget[], entry: StoredEntry): boolean {
  return targets.some((target) => target.type === entry.type && targetMatches(target, entry));
}

/**
 * What a logged change removed from the database by the rules of the tab that logged it, besides what `targets`
 * (this tab's rules) finds: its record counts every type it applied an event to, and another deploy's rules may
 * apply it to a type this tab's spare. A write that comes after it in the log's order (a value fetched before it,
 * an import begun after it) leaves out what it removed, else that deploy's reads would answer it.
 */
export function loggedTargets(record: LoggedChange, targets: readonly InvalidationTarget[]): InvalidationTarget[] {
  const { event, invalidated } = record;
  const judged = new Set(targets.map((target) => target.type));
  return [...targets, ...(event ? Object.keys(invalidated).filter((type) => !judged.has(type)).flatMap((type) => targetsIn(type, event)) : [])];
}
