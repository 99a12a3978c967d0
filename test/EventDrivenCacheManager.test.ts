import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import {
  CacheError,
  EVENT_TYPES,
  EventDrivenCacheManager,
  SmartCacheConfig,
  createCacheEvent,
  isCacheError,
  type CacheEventInput,
  type EventType,
  type InvalidationStrategy,
} from '../src/index';

function setup() {
  const logger = { error: vi.fn() };
  const manager = new EventDrivenCacheManager(new SmartCacheConfig(), { logger });
  return { manager, logger };
}

describe('EventDrivenCacheManager', () => {
  it('calls every handler of the event type, in registration order, with the validated event', () => {
    const { manager } = setup();
    const calls: string[] = [];
    manager.registerEventHandler('track_removed', (event) => calls.push(`a:${event.trackId}`));
    manager.registerEventHandler('track_removed', (event) => calls.push(`b:${event.trackId}`));
    manager.registerEventHandler('track_added', () => calls.push('other'));
    const event = manager.emitEvent({ eventType: 'track_removed', trackId: 't1' });
    expect(calls).toEqual(['a:t1', 'b:t1']);
    expect(event).toEqual({ eventType: 'track_removed', trackId: 't1' });
  });

  it('hands each handler the very event emitted, as the seed’s handler(event) does', () => {
    const { manager } = setup();
    const seen = new Set<CacheEventInput>();
    manager.registerEventHandler('track_added', (event) => void seen.add(event));
    manager.registerEventHandler('track_added', (event) => void seen.add(event));
    const event = createCacheEvent({ eventType: 'track_added', trackId: 'track123', metadata: { artist: 'A' } });
    expect(manager.emitEvent(event)).toBe(event);
    expect([...seen]).toEqual([event]);
    expect(seen.has(event)).toBe(true);
  });

  it('reports a throwing handler and still runs the others', () => {
    const { manager, logger } = setup();
    const seen: CacheEventInput[] = [];
    const boom = new Error('boom');
    manager.registerEventHandler('library_sync', () => {
      throw boom;
    });
    manager.registerEventHandler('library_sync', (event) => seen.push(event));
    expect(() => manager.emitEvent({ eventType: 'library_sync' })).not.toThrow();
    expect(seen).toHaveLength(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('library_sync'), boom);
  });

  it('reports a handler whose promise rejects', async () => {
    const { manager, logger } = setup();
    const failure = new Error('later');
    manager.registerEventHandler('library_sync', async () => {
      throw failure;
    });
    manager.emitEvent({ eventType: 'library_sync' });
    await vi.waitFor(() => expect(logger.error).toHaveBeenCalledWith(expect.any(String), failure));
  });

  it('reports a handler of another realm (an iframe’s) whose promise rejects, leaving no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { manager, logger } = setup();
      // An async function of another global scope returns that scope's Promise, which is no instance of this one's.
      const handler = runInNewContext('(async () => { throw new Error("in a frame"); })') as () => Promise<never>;
      manager.registerEventHandler('library_sync', handler);
      manager.emitEvent({ eventType: 'library_sync' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(logger.error).toHaveBeenCalledWith('Reprise: a handler for library_sync failed', expect.objectContaining({ message: 'in a frame' }));
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('reports to console by default', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const manager = new EventDrivenCacheManager(new SmartCacheConfig());
    manager.registerEventHandler('library_sync', () => {
      throw new Error('x');
    });
    manager.emitEvent({ eventType: 'library_sync' });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('unregister stops a handler, once and for all, without touching the others', () => {
    const { manager } = setup();
    const a = vi.fn();
    const b = vi.fn();
    const offA = manager.registerEventHandler('track_added', a);
    manager.registerEventHandler('track_added', b);
    offA();
    offA();
    manager.emitEvent({ eventType: 'track_added', trackId: 't' });
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });

  it('a handler that unregisters another while running does not skip the rest of this emit', () => {
    const { manager } = setup();
    const order: string[] = [];
    let offB = () => {};
    manager.registerEventHandler('library_sync', () => {
      order.push('a');
      offB();
    });
    offB = manager.registerEventHandler('library_sync', () => order.push('b'));
    manager.registerEventHandler('library_sync', () => order.push('c'));
    manager.emitEvent({ eventType: 'library_sync' });
    manager.emitEvent({ eventType: 'library_sync' });
    expect(order).toEqual(['a', 'b', 'c', 'a', 'c']);
  });

  it('validates events before any handler runs', () => {
    const { manager } = setup();
    const handler = vi.fn();
    manager.registerEventHandler('track_removed', handler);
    let caught: unknown;
    try {
      manager.emitEvent({ eventType: 'track_removed' } as never);
    } catch (error) {
      caught = error;
    }
    expect(isCacheError(caught, 'invalid_event')).toBe(true);
    expect((caught as Error).message).toContain('trackId required for track_removed');
    expect(handler).not.toHaveBeenCalled();
  });

  it('rejects registering for an unknown event type', () => {
    const { manager } = setup();
    expect(() => manager.registerEventHandler('track_played' as never, () => {})).toThrow(/unknown event type "track_played"/);
  });

  it.each([undefined, null, 'handler', {}])('rejects registering %o as a handler with invalid_argument, at once, as Cache.on does', (handler) => {
    const { manager, logger } = setup();
    expect(() => manager.registerEventHandler('library_sync', handler as never)).toThrow(expect.objectContaining({ name: 'CacheError', code: 'invalid_argument' }));
    manager.emitEvent({ eventType: 'library_sync' });
    expect(logger.error).not.toHaveBeenCalled();
  });
});

// What a port of the original tool's own tests would check on top of the above.
describe('EventDrivenCacheManager, as the seed’s tests call it', () => {
  it('keeps the config it was given', () => {
    const config = new SmartCacheConfig();
    expect(new EventDrivenCacheManager(config).config).toBe(config);
  });

  // The seed's manager takes a SmartCacheConfig; a port may pass the config's plain data, or nothing.
  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['null', null],
    ['{}', {}],
    ['a plain config', { caching: {} }],
    ['a SmartCacheConfig’s toJSON()', new SmartCacheConfig().toJSON()],
  ])('refuses %s as its config at once, with invalid_argument', (_what, config) => {
    expect(() => new EventDrivenCacheManager(config as never)).toThrow(
      expect.objectContaining({ name: 'CacheError', code: 'invalid_argument', message: expect.stringContaining('SmartCacheConfig') }),
    );
  });

  it.each([null, 'console', { logger: {} }, { logger: { error: 'log' } }])('refuses the options %o at once, with invalid_argument, as createCache does', (options) => {
    expect(() => new EventDrivenCacheManager(new SmartCacheConfig(), options as never)).toThrow(
      expect.objectContaining({ name: 'CacheError', code: 'invalid_argument' }),
    );
  });

  it('emitting an event nobody listens to is fine and returns the event', () => {
    const { manager, logger } = setup();
    manager.registerEventHandler('track_added', () => {
      throw new Error('never called');
    });
    for (const event of [
      { eventType: 'track_removed', trackId: 't' },
      { eventType: 'track_modified', trackId: 't', metadata: { artist: 'A', album: 'B' } },
      { eventType: 'fingerprint_changed', fingerprint: 'f', trackId: 't' },
      { eventType: 'library_sync' },
      { eventType: 'manual_invalidation' },
    ] as const) {
      expect(manager.emitEvent(event)).toEqual(event);
    }
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('gives each handler the event of its own type only, for every event type', () => {
    const { manager } = setup();
    const seen: string[] = [];
    for (const eventType of EVENT_TYPES) manager.registerEventHandler(eventType, (event) => seen.push(`${eventType}<-${event.eventType}`));
    manager.emitEvent({ eventType: 'manual_invalidation' });
    manager.emitEvent({ eventType: 'fingerprint_changed', fingerprint: 'f' });
    manager.emitEvent({ eventType: 'track_added', trackId: 't' });
    expect(seen).toEqual(['manual_invalidation<-manual_invalidation', 'fingerprint_changed<-fingerprint_changed', 'track_added<-track_added']);
  });

  it('calls a handler registered twice twice; unregistering one registration leaves the other', () => {
    const { manager } = setup();
    const handler = vi.fn();
    const first = manager.registerEventHandler('library_sync', handler);
    manager.registerEventHandler('library_sync', handler);
    manager.emitEvent({ eventType: 'library_sync' });
    expect(handler).toHaveBeenCalledTimes(2);
    first();
    manager.emitEvent({ eventType: 'library_sync' });
    expect(handler).toHaveBeenCalledTimes(3);
  });

  it('keeps the order across event types and after unregistering one in the middle', () => {
    const { manager } = setup();
    const order: number[] = [];
    manager.registerEventHandler('track_removed', () => order.push(1));
    const off = manager.registerEventHandler('track_removed', () => order.push(2));
    manager.registerEventHandler('track_modified', () => order.push(99));
    manager.registerEventHandler('track_removed', () => order.push(3));
    off();
    manager.registerEventHandler('track_removed', () => order.push(4));
    manager.emitEvent({ eventType: 'track_removed', trackId: 't' });
    expect(order).toEqual([1, 3, 4]);
  });

  it('reports each throwing handler, in order, with what it threw, and runs every other one', () => {
    const { manager, logger } = setup();
    const ran: string[] = [];
    const first = new TypeError('first');
    manager.registerEventHandler('track_modified', () => {
      throw first;
    });
    manager.registerEventHandler('track_modified', () => ran.push('b'));
    manager.registerEventHandler('track_modified', () => {
      throw 'a string';
    });
    manager.registerEventHandler('track_modified', () => ran.push('d'));
    expect(manager.emitEvent({ eventType: 'track_modified', trackId: 't' })).toEqual({ eventType: 'track_modified', trackId: 't' });
    expect(ran).toEqual(['b', 'd']);
    expect(logger.error.mock.calls.map(([message, error]) => [typeof message, error])).toEqual([
      ['string', first],
      ['string', 'a string'],
    ]);
    // The next emit runs them all again.
    manager.emitEvent({ eventType: 'track_modified', trackId: 't' });
    expect(ran).toEqual(['b', 'd', 'b', 'd']);
    expect(logger.error).toHaveBeenCalledTimes(4);
  });

  it('a logger that throws while reporting a handler does not stop the other handlers or the emit', () => {
    const logger = {
      error: vi.fn(() => {
        throw new Error('logger broke');
      }),
    };
    const manager = new EventDrivenCacheManager(new SmartCacheConfig(), { logger });
    const ran: string[] = [];
    manager.registerEventHandler('library_sync', () => {
      throw new Error('handler broke');
    });
    manager.registerEventHandler('library_sync', () => ran.push('second'));
    expect(manager.emitEvent({ eventType: 'library_sync' })).toEqual({ eventType: 'library_sync' });
    expect(ran).toEqual(['second']);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('rejects an invalid event with a CacheError (an Error) of code invalid_event', () => {
    const { manager } = setup();
    for (const [input, message] of [
      [{ eventType: 'track_removed' }, 'trackId required for track_removed'],
      [{ eventType: 'track_added' }, 'trackId required for track_added'],
      [{ eventType: 'track_modified', trackId: '' }, 'trackId required for track_modified'],
      [{ eventType: 'fingerprint_changed', trackId: 't' }, 'fingerprint required for fingerprint_changed'],
      [{ eventType: 'no_such_event' }, 'unknown event type "no_such_event"'],
    ] as const) {
      let caught: unknown;
      try {
        manager.emitEvent(input as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CacheError);
      expect(caught).toBeInstanceOf(Error);
      expect((caught as CacheError).code).toBe('invalid_event');
      expect((caught as CacheError).message).toContain(message);
    }
  });

  it('rejecting an unknown event type at registration is a CacheError of code invalid_event', () => {
    const { manager } = setup();
    expect(() => manager.registerEventHandler('track_played' as never, () => {})).toThrow(expect.objectContaining({ name: 'CacheError', code: 'invalid_event' }));
  });
});

// The seed's events have Optional[...] = None fields: a port of its tests passes `trackId: null`.
describe('EventDrivenCacheManager.emitEvent with null for an optional field', () => {
  it('takes it as absent, and still hands each handler the very event given, as the seed does', () => {
    const { manager } = setup();
    const seen: unknown[] = [];
    manager.registerEventHandler('library_sync', (event) => void seen.push(event));
    manager.registerEventHandler('fingerprint_changed', (event) => void seen.push(event));
    const sync = { eventType: 'library_sync', trackId: null, fingerprint: null, metadata: null } as const;
    const changed = { eventType: 'fingerprint_changed', trackId: null, fingerprint: 'f'.repeat(64), metadata: null } as const;
    expect(manager.emitEvent(sync)).toBe(sync);
    expect(manager.emitEvent(changed)).toBe(changed);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(sync);
    expect(seen[1]).toBe(changed);
    expect(sync).toEqual({ eventType: 'library_sync', trackId: null, fingerprint: null, metadata: null });
  });

  it('a required field given as null is invalid_event, as an absent one, and no handler runs', () => {
    const { manager } = setup();
    const handler = vi.fn();
    manager.registerEventHandler('track_removed', handler);
    manager.registerEventHandler('fingerprint_changed', handler);
    expect(() => manager.emitEvent({ eventType: 'track_removed', trackId: null, metadata: null } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_event', message: 'Invalid event: trackId: trackId required for track_removed' }),
    );
    expect(() => manager.emitEvent({ eventType: 'fingerprint_changed', trackId: null, fingerprint: null } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_event', message: 'Invalid event: fingerprint: fingerprint required for fingerprint_changed' }),
    );
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('EventDrivenCacheManager.shouldInvalidateForEvent, custom types and config changes', () => {
  const custom = (invalidationStrategy: InvalidationStrategy, invalidatedBy?: EventType[]) => ({
    persistent: false,
    ttlSeconds: 60,
    invalidationStrategy,
    maxSizeMb: 1,
    ...(invalidatedBy ? { invalidatedBy } : {}),
  });

  it('answers from invalidatedBy for a custom type with event invalidation, manual_invalidation always', () => {
    const config = new SmartCacheConfig({
      caching: {
        customTypes: {
          artwork: custom('event_driven', ['track_removed', 'library_sync']),
          lyrics: custom('hybrid', ['fingerprint_changed']),
          plain: custom('event_driven'),
        },
      },
    });
    const manager = new EventDrivenCacheManager(config);
    const invalidating = (type: string) => EVENT_TYPES.filter((eventType) => manager.shouldInvalidateForEvent(type, { eventType }));
    expect(invalidating('artwork')).toEqual(['track_removed', 'library_sync', 'manual_invalidation']);
    expect(invalidating('lyrics')).toEqual(['fingerprint_changed', 'manual_invalidation']);
    expect(invalidating('plain')).toEqual(['manual_invalidation']);
  });

  it('a custom type without event invalidation is invalidated by nothing, whatever invalidatedBy lists', () => {
    const config = new SmartCacheConfig({
      caching: { customTypes: { timed: custom('time_based', [...EVENT_TYPES]), printed: custom('fingerprint_based', [...EVENT_TYPES]) } },
    });
    const manager = new EventDrivenCacheManager(config);
    for (const eventType of EVENT_TYPES) {
      expect(manager.shouldInvalidateForEvent('timed', { eventType })).toBe(false);
      expect(manager.shouldInvalidateForEvent('printed', { eventType })).toBe(false);
    }
  });

  it('takes a whole event, as createCacheEvent makes it', () => {
    const { manager } = setup();
    expect(manager.shouldInvalidateForEvent('track_metadata', createCacheEvent({ eventType: 'fingerprint_changed', fingerprint: 'f', trackId: 't' }))).toBe(true);
    expect(manager.shouldInvalidateForEvent('successful_api_metadata', createCacheEvent({ eventType: 'fingerprint_changed', fingerprint: 'f' }))).toBe(false);
    expect(manager.shouldInvalidateForEvent('album_year', createCacheEvent({ eventType: 'track_removed', trackId: 't' }))).toBe(false);
  });

  it('follows updatePolicy on the config it was given', () => {
    const config = new SmartCacheConfig();
    const manager = new EventDrivenCacheManager(config);
    expect(manager.shouldInvalidateForEvent('generic', { eventType: 'manual_invalidation' })).toBe(false);
    config.updatePolicy('generic', { invalidationStrategy: 'hybrid' });
    expect(manager.shouldInvalidateForEvent('generic', { eventType: 'manual_invalidation' })).toBe(true);
    expect(manager.shouldInvalidateForEvent('generic', { eventType: 'track_removed' })).toBe(false);
    config.updatePolicy('track_metadata', { invalidationStrategy: 'time_based' });
    expect(manager.shouldInvalidateForEvent('track_metadata', { eventType: 'track_removed' })).toBe(false);
    expect(manager.shouldInvalidateForEvent('track_metadata', { eventType: 'manual_invalidation' })).toBe(false);
  });

  it('rejects an unknown content type with unknown_content_type', () => {
    const { manager } = setup();
    expect(() => manager.shouldInvalidateForEvent('podcast', { eventType: 'manual_invalidation' })).toThrow(expect.objectContaining({ code: 'unknown_content_type' }));
  });
});
