import type { CacheEvent } from '../src/cacheEvent';
import type { TypeName } from '../src/contentType';
import { targetMatches } from '../src/invalidationTarget';
import { invalidationTargets } from '../src/invalidationTargets';
import type { PolicyTable } from '../src/PolicyTable';
import type { StoredEntry } from './Store';

/** What every tab must apply, wherever it was made: a library event, or a `clear` of some types. */
export type Change = { kind: 'event'; event: CacheEvent } | { kind: 'clear'; types: TypeName[] };

/** Whether `change` removes `entry` under `config`. */
export function changeRemoves(config: PolicyTable, change: Change, entry: StoredEntry): boolean {
  if (change.kind === 'clear') return change.types.includes(entry.type);
  return invalidationTargets(config, change.event).some((target) => target.type === entry.type && targetMatches(target, entry));
}
