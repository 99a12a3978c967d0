// A page served over plain http is not a secure context: no crypto.randomUUID, no crypto.subtle, no
// Web Locks (Node has none here either). Reprise must work there like anywhere else.
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fingerprintTrack } from '../src/index';
import { randomId } from '../src/randomId';
import { openCache } from './support/openCache';

beforeEach(() => {
  const { getRandomValues } = globalThis.crypto;
  vi.stubGlobal('crypto', { getRandomValues: getRandomValues.bind(globalThis.crypto) });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('on a plain-http page', () => {
  it('has neither crypto.randomUUID nor crypto.subtle (the premise of these tests)', () => {
    expect((crypto as Partial<Crypto>).randomUUID).toBeUndefined();
    expect((crypto as Partial<Crypto>).subtle).toBeUndefined();
  });

  it('fingerprintTrack gives the same SHA-256 hex as on a secure page', async () => {
    // What Python's hashlib gives for the original tool's canonical text of this track (fixtures/fingerprints).
    expect(await fingerprintTrack({ persistentId: 'p', location: 'l' })).toBe('7f272271a03e631396b31ec50bf95cd1c965b76e8cda7ee14f3b09a8f75e9ea7');
  });

  it('a cache opens, reads, writes and sends events to another tab', async () => {
    const indexedDB = new IDBFactory();
    const config = { caching: { policies: { generic: { invalidationStrategy: 'event_driven' as const } } } };
    const { cache: a, name, clock } = await openCache({ indexedDB, config });
    const { cache: b } = await openCache({ indexedDB, name, clock, config });
    await b.set('generic', 'k', 1, { trackId: 't1' });
    await a.set('track_metadata', 'k', 2, { trackId: 't1' });
    expect(await b.get('track_metadata', 'k')).toBe(2);
    await a.emit({ eventType: 'manual_invalidation', trackId: 't1' });
    await vi.waitFor(async () => expect(await b.get('generic', 'k')).toBeUndefined());
    expect(await b.get('track_metadata', 'k')).toBeUndefined();
    expect(await a.cleanup()).toEqual({ expired: 0, evicted: 0 });
  });

  it('randomId gives 32 hex digits, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});
