import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, EVENT_TYPES, EventDrivenCacheManager, SmartCacheConfig, type ContentType, type EventType } from '../src/index';
import { shouldInvalidateForEvent } from '../src/shouldInvalidateForEvent';
import { tableOf } from './support/tableOf';

// The seed's table, written out cell by cell: 6 types × 6 events under the default policies.
const table: Record<ContentType, EventType[]> = {
  track_metadata: ['track_removed', 'track_modified', 'fingerprint_changed', 'manual_invalidation'],
  successful_api_metadata: ['track_removed', 'track_modified', 'manual_invalidation'],
  failed_api_lookup: [],
  album_year: ['library_sync', 'manual_invalidation'],
  negative_result: [],
  generic: [],
};

describe('shouldInvalidateForEvent with the default policies', () => {
  const config = new SmartCacheConfig();
  const manager = new EventDrivenCacheManager(config);
  for (const type of CONTENT_TYPES) {
    for (const eventType of EVENT_TYPES) {
      const expected = table[type].includes(eventType);
      it(`${eventType} ${expected ? 'invalidates' : 'leaves'} ${type}`, () => {
        expect(shouldInvalidateForEvent(tableOf(config), type, eventType)).toBe(expected);
        expect(manager.shouldInvalidateForEvent(type, { eventType })).toBe(expected);
      });
    }
  }
});

describe('shouldInvalidateForEvent follows the configured strategy', () => {
  it('a type switched to time_based is invalidated by nothing', () => {
    const config = new SmartCacheConfig({ caching: { policies: { track_metadata: { invalidationStrategy: 'time_based' } } } });
    for (const eventType of EVENT_TYPES) expect(shouldInvalidateForEvent(tableOf(config), 'track_metadata', eventType)).toBe(false);
  });

  it('a type switched to fingerprint_based is not event-invalidated, even manually', () => {
    const config = new SmartCacheConfig({ caching: { policies: { album_year: { invalidationStrategy: 'fingerprint_based' } } } });
    for (const eventType of EVENT_TYPES) expect(shouldInvalidateForEvent(tableOf(config), 'album_year', eventType)).toBe(false);
  });

  it('a type without rules switched to event_driven answers manual invalidation only', () => {
    const config = new SmartCacheConfig({ caching: { policies: { generic: { invalidationStrategy: 'event_driven' } } } });
    for (const eventType of EVENT_TYPES) {
      expect(shouldInvalidateForEvent(tableOf(config), 'generic', eventType)).toBe(eventType === 'manual_invalidation');
    }
  });

  it('updatePolicy takes effect at once', () => {
    const config = new SmartCacheConfig();
    config.updatePolicy('successful_api_metadata', { invalidationStrategy: 'hybrid' });
    expect(shouldInvalidateForEvent(tableOf(config), 'successful_api_metadata', 'track_removed')).toBe(true);
    config.updatePolicy('successful_api_metadata', { invalidationStrategy: 'time_based' });
    expect(shouldInvalidateForEvent(tableOf(config), 'successful_api_metadata', 'track_removed')).toBe(false);
  });
});
