import { describe, expect, it } from 'vitest';
import { albumKeyOf } from '../src/albumKeyOf';
import { PendingChanges, type PendingChange } from '../src/PendingChanges';

/** A change held on its way until `done()`. */
function sent(pending: PendingChanges, change: PendingChange) {
  let done = () => {};
  const answered = pending.during(change, new Promise<void>((resolve) => (done = resolve)));
  return async () => {
    done();
    await answered;
  };
}

describe('PendingChanges', () => {
  it('with nothing on its way, nothing is altered', () => {
    const alters = new PendingChanges().alters('track_metadata');
    expect(alters?.('k', undefined)).toBe(false);
    expect(alters?.('k', { trackIds: ['t'] })).toBe(false);
  });

  it('a write or delete alters its keys of its type, records or not, and nothing else', () => {
    const pending = new PendingChanges();
    sent(pending, { type: 'album_year', keys: new Set(['a', 'b']) });
    const alters = pending.alters('album_year')!;
    expect([alters('a', undefined), alters('b', { trackIds: [] }), alters('c', undefined)]).toEqual([true, true, false]);
    expect(pending.alters('track_metadata')!('a', undefined)).toBe(false);
  });

  it('an import’s commit or a clear takes its type whole; a clear of all, every type', () => {
    const pending = new PendingChanges();
    sent(pending, { type: 'album_year' });
    expect(pending.alters('album_year')).toBeNull();
    expect(pending.alters('track_metadata')).not.toBeNull();
    sent(pending, { type: null });
    expect(pending.alters('track_metadata')).toBeNull();
  });

  it('an event alters the entries it may remove, judged by their tags, and makes no entry', () => {
    const pending = new PendingChanges();
    sent(pending, { event: { eventType: 'track_modified', trackId: 't', metadata: { artist: 'A', album: 'B' } } });
    sent(pending, { event: { eventType: 'fingerprint_changed', fingerprint: 'f1' } });
    const tracks = pending.alters('track_metadata')!;
    expect(tracks('k', { trackIds: ['x', 't'] })).toBe(true);
    expect(tracks('k', { fingerprint: 'f1' })).toBe(true);
    expect(tracks('k', { trackIds: ['x'], fingerprint: 'f2' })).toBe(false);
    expect(tracks('k', undefined)).toBe(false);
    // Albums tag successful_api_metadata entries (the album key of the event's artist and album).
    const api = pending.alters('successful_api_metadata')!;
    expect(api('k', { albumKey: albumKeyOf('A', 'B') })).toBe(true);
    expect(api('k', { albumKey: 'other' })).toBe(false);
  });

  it('an event that removes every entry of a type takes it whole', () => {
    const pending = new PendingChanges();
    sent(pending, { event: { eventType: 'manual_invalidation' } });
    expect(pending.alters('generic')).toBeNull();
  });

  it('what was on its way when asked counts, even once answered; what was sent after does not', async () => {
    const pending = new PendingChanges();
    const answer = sent(pending, { type: 'album_year', keys: new Set(['a']) });
    const alters = pending.alters('album_year')!;
    sent(pending, { type: 'album_year', keys: new Set(['b']) });
    await answer();
    expect(alters('a', undefined)).toBe(true);
    expect(alters('b', undefined)).toBe(false);
    expect(pending.alters('album_year')!('a', undefined)).toBe(false);
  });
});
