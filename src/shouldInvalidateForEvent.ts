import type { TypeName } from './contentType';
import type { EventType } from './cacheEvent';
import type { PolicyTable } from './PolicyTable';

/** Which events make which types stale, for types that use event invalidation. */
const RULES: Partial<Record<TypeName, readonly EventType[]>> = {
  track_metadata: ['track_removed', 'track_modified', 'fingerprint_changed'],
  successful_api_metadata: ['track_removed', 'track_modified'],
  album_year: ['library_sync'],
};

/**
 * Whether an event of `eventType` invalidates entries of `type` under `config`: with event invalidation,
 * manual_invalidation always does; other events as the built-in rules say, or, for a custom type, as
 * its `invalidatedBy` lists.
 */
export function shouldInvalidateForEvent(config: PolicyTable, type: TypeName, eventType: EventType): boolean {
  if (!config.shouldUseEventInvalidation(type)) return false;
  if (eventType === 'manual_invalidation') return true;
  return (config.invalidatedBy(type) ?? RULES[type])?.includes(eventType) ?? false;
}
