import type { CacheEvent } from './cacheEvent';
import type { TypeName } from './contentType';
import { targetsIn, type InvalidationTarget } from './invalidationTarget';
import { shouldInvalidateForEvent } from './shouldInvalidateForEvent';
import type { PolicyTable } from './PolicyTable';

/** The content types an event applies to under `config` (it may remove nothing from them). */
export function affectedTypes(config: PolicyTable, event: Pick<CacheEvent, 'eventType'>): TypeName[] {
  return config.types.filter((type) => shouldInvalidateForEvent(config, type, event.eventType));
}

/** What an event removes, as index lookups: pure, so every store and every tab applies the same rules. */
export function invalidationTargets(config: PolicyTable, event: CacheEvent): InvalidationTarget[] {
  return affectedTypes(config, event).flatMap((type) => targetsIn(type, event));
}
