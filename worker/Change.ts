import type { CacheEvent } from '../src/cacheEvent';
import type { TypeName } from '../src/contentType';
import { targetMatches, type InvalidationTarget } from '../src/invalidationTarget';
import { invalidationTargets } from '../src/invalidationTargets';
import type { PolicyTable } from '../src/PolicyTable';
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
  return invalidationTargets(config, change.event).some((target) => target.type === entry.type && targetMatches(target, entry));
}
