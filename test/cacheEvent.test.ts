import { describe, expect, it } from 'vitest';
import { CacheError, EVENT_TYPES, createCacheEvent, isCacheError, type CacheEventInput } from '../src/index';

function eventError(input: unknown) {
  try {
    createCacheEvent(input as CacheEventInput);
  } catch (error) {
    if (isCacheError(error, 'invalid_event')) return error;
    throw error;
  }
  throw new Error('expected invalid_event');
}

describe('createCacheEvent', () => {
  it('knows the six event types', () => {
    expect(EVENT_TYPES).toEqual([
      'track_added',
      'track_removed',
      'track_modified',
      'fingerprint_changed',
      'library_sync',
      'manual_invalidation',
    ]);
  });

  it.each(['track_added', 'track_removed', 'track_modified'] as const)('%s requires trackId', (eventType) => {
    expect(eventError({ eventType }).message).toBe(`Invalid event: trackId: trackId required for ${eventType}`);
    expect(eventError({ eventType, trackId: '   ' }).message).toContain(`trackId required for ${eventType}`);
    expect(eventError({ eventType, trackId: 42 }).issues).toEqual([
      { path: 'trackId', message: `trackId required for ${eventType}` },
    ]);
    expect(createCacheEvent({ eventType, trackId: 't1' })).toEqual({ eventType, trackId: 't1' });
  });

  it('fingerprint_changed requires fingerprint, trackId is optional', () => {
    expect(eventError({ eventType: 'fingerprint_changed', trackId: 't1' }).message).toContain(
      'fingerprint required for fingerprint_changed',
    );
    expect(createCacheEvent({ eventType: 'fingerprint_changed', fingerprint: 'abc' })).toEqual({
      eventType: 'fingerprint_changed',
      fingerprint: 'abc',
    });
  });

  it('library_sync and manual_invalidation need nothing else', () => {
    expect(createCacheEvent({ eventType: 'library_sync' })).toEqual({ eventType: 'library_sync' });
    expect(createCacheEvent({ eventType: 'manual_invalidation', trackId: 't9' })).toEqual({
      eventType: 'manual_invalidation',
      trackId: 't9',
    });
  });

  it('keeps metadata', () => {
    const event = createCacheEvent({ eventType: 'track_modified', trackId: 't1', metadata: { artist: 'A', album: 'B' } });
    expect(event.metadata).toEqual({ artist: 'A', album: 'B' });
  });

  it('names an unknown event type and the ones that exist', () => {
    const error = eventError({ eventType: 'track_played', trackId: 't1' });
    expect(error.message).toContain('unknown event type "track_played"');
    expect(error.message).toContain('manual_invalidation');
    expect(error.issues[0]?.path).toBe('eventType');
  });

  it('rejects what is not an event at all', () => {
    for (const input of [undefined, null, 'track_removed', 7, []]) {
      expect(eventError(input).issues).toEqual([{ path: '', message: 'expected an event object such as { eventType: "track_removed", trackId }' }]);
    }
  });

  it('names every problem of the event type given', () => {
    expect(eventError({ eventType: 'track_added', trackId: 1, fingerprint: 2, x: 1 }).issues).toEqual([
      { path: 'trackId', message: 'trackId required for track_added' },
      { path: 'fingerprint', message: 'fingerprint must be a non-blank string' },
      { path: 'x', message: 'unknown field' },
    ]);
    expect(eventError({ eventType: 'fingerprint_changed', trackId: 't1' }).issues).toEqual([
      { path: 'fingerprint', message: 'fingerprint required for fingerprint_changed' },
    ]);
  });

  it('rejects unknown fields and badly typed ones', () => {
    expect(eventError({ eventType: 'library_sync', trackID: 'x' }).issues).toEqual([{ path: 'trackID', message: 'unknown field' }]);
    expect(eventError({ eventType: 'library_sync', metadata: 'x' }).issues[0]?.path).toBe('metadata');
    // metadata is a record: a plain object, not a Map or a Date.
    for (const metadata of [new Map([['artist', 'A']]), new Date(0), ['A']]) {
      expect(eventError({ eventType: 'library_sync', metadata }).issues).toEqual([{ path: 'metadata', message: expect.stringContaining('expected a plain object') }]);
    }
    expect(createCacheEvent({ eventType: 'library_sync', metadata: Object.assign(Object.create(null), { artist: 'A' }) }).metadata).toEqual({ artist: 'A' });
    expect(eventError({ eventType: 'manual_invalidation', trackId: '' }).issues[0]?.path).toBe('trackId');
  });
});

// What a port of the original tool's own tests would check on top of the above.
describe('createCacheEvent, as the seed’s tests call it', () => {
  it('fails with a CacheError that is an Error, code invalid_event, name CacheError', () => {
    const error = eventError({ eventType: 'track_removed' });
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('invalid_event');
    expect(error.message).toContain('trackId required for track_removed');
  });

  it.each(EVENT_TYPES)('%s: an event with every field it may have comes back equal', (eventType) => {
    const event = { eventType, trackId: 't1', fingerprint: 'f'.repeat(64), metadata: { artist: 'A', album: 'B', year: 1999, nested: { ok: true } } };
    expect(createCacheEvent(event)).toEqual(event);
  });

  it('fingerprint_changed with a blank or non-string fingerprint says the fingerprint is required', () => {
    for (const fingerprint of ['', '   ', 7, null]) {
      expect(eventError({ eventType: 'fingerprint_changed', fingerprint }).issues).toEqual([
        { path: 'fingerprint', message: 'fingerprint required for fingerprint_changed' },
      ]);
    }
  });

  it('a track event with a null trackId says the trackId is required', () => {
    expect(eventError({ eventType: 'track_removed', trackId: null }).message).toContain('trackId required for track_removed');
  });

  it('names a missing, non-string or wrongly cased eventType', () => {
    for (const input of [{}, { trackId: 't' }, { eventType: 3 }, { eventType: 'TRACK_REMOVED', trackId: 't' }, { eventType: '' }]) {
      const error = eventError(input);
      expect(error.issues[0]?.path).toBe('eventType');
      expect(error.message).toContain('unknown event type');
    }
  });

  it('library events take an optional trackId and fingerprint, but not blank ones', () => {
    expect(createCacheEvent({ eventType: 'library_sync', trackId: 't', fingerprint: 'f' })).toEqual({ eventType: 'library_sync', trackId: 't', fingerprint: 'f' });
    expect(eventError({ eventType: 'library_sync', fingerprint: ' ' }).issues[0]?.path).toBe('fingerprint');
    expect(eventError({ eventType: 'manual_invalidation', trackId: 5 }).issues[0]?.path).toBe('trackId');
  });
});

// The seed's CacheEvent has Optional[...] = None fields: a port of its tests writes `trackId: null`.
describe('createCacheEvent: null for an optional field means the field is absent, as None does in the seed', () => {
  it.each(EVENT_TYPES)('%s: an optional field given as null is left out of the event', (eventType) => {
    const required = {
      track_added: { trackId: 't1' },
      track_removed: { trackId: 't1' },
      track_modified: { trackId: 't1' },
      fingerprint_changed: { fingerprint: 'f'.repeat(64) },
      library_sync: {},
      manual_invalidation: {},
    }[eventType];
    const event = createCacheEvent({ eventType, trackId: null, fingerprint: null, metadata: null, ...required } as CacheEventInput);
    expect(event).toStrictEqual({ eventType, ...required });
  });

  it('the caller’s object is not changed', () => {
    const input = { eventType: 'library_sync', trackId: null, metadata: null } as const;
    createCacheEvent(input);
    expect(input).toEqual({ eventType: 'library_sync', trackId: null, metadata: null });
  });

  it('a required field given as null fails as an absent one does', () => {
    for (const eventType of ['track_added', 'track_removed', 'track_modified'] as const) {
      expect(eventError({ eventType, trackId: null, fingerprint: null, metadata: null }).issues).toEqual(eventError({ eventType }).issues);
      expect(eventError({ eventType, trackId: null }).message).toBe(`Invalid event: trackId: trackId required for ${eventType}`);
    }
    expect(eventError({ eventType: 'fingerprint_changed', trackId: null, fingerprint: null }).issues).toEqual([
      { path: 'fingerprint', message: 'fingerprint required for fingerprint_changed' },
    ]);
  });

  it('null for an unknown field, or a blank optional field, is still refused', () => {
    expect(eventError({ eventType: 'library_sync', trackID: null }).issues).toEqual([{ path: 'trackID', message: 'unknown field' }]);
    expect(eventError({ eventType: 'library_sync', trackId: '', fingerprint: null }).issues).toEqual([{ path: 'trackId', message: 'trackId must be a non-blank string' }]);
  });
});
