import type { ContentType } from './contentType';
import type { EventType } from './cacheEvent';
import type { PolicyTable } from './PolicyTable';

/** Which events make which types stale, for types that use event invalidation. */
const RULES: Partial<Record<ContentType, ReadonlySet<EventType>>> = {
  track_metadata: new Set(['track_removed', 'track_modified', 'fingerprint_changed']),
  successful_api_metadata: new Set(['track_removed', 'track_modified']),
  album_year: new Set(['library_sync']),
};

/** Whether an event of `eventType` invalidates entries of `type` under `config`. */
export function shouldInvalidateForEvent(config: PolicyTable, type: ContentType, eventType: EventType): boolean {
  if (!config.shouldUseEventInvalidation(type)) return false;
  if (eventType === 'manual_invalidation') return true;
  return RULES[type]?.has(eventType) ?? false;
}
