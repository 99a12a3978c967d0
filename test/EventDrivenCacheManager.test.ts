import { describe, expect, it, vi } from 'vitest';
import { EventDrivenCacheManager, SmartCacheConfig, isCacheError, type CacheEvent } from '../src/index';

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

  it('reports a throwing handler and still runs the others', () => {
    const { manager, logger } = setup();
    const seen: CacheEvent[] = [];
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
});
