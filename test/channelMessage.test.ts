import { describe, expect, it } from 'vitest';
import { channelMessageSchema } from '../src/channelMessage';
import { CHANNEL_VERSION } from '../src/TabChannel';

const event = { v: CHANNEL_VERSION, kind: 'event', origin: 'tab', id: 'c1', epoch: 'e1', seq: 3, event: { eventType: 'track_removed', trackId: 't1' }, invalidated: { track_metadata: 2 } };
const clear = { v: CHANNEL_VERSION, kind: 'clear', origin: 'tab', id: 'c2', epoch: null, seq: null, types: ['generic'] };
const hello = { v: CHANNEL_VERSION, kind: 'hello', origin: 'tab', logs: true };
const accepts = (message: unknown) => channelMessageSchema.safeParse(message).success;

describe('channelMessageSchema', () => {
  it('accepts the three kinds of message, as sent', () => {
    for (const message of [event, clear, hello, { ...hello, epoch: 'e1' }, { ...clear, epoch: 'e1', gone: true }, { ...event, epoch: null, seq: null, invalidated: {} }, { ...event, removed: { track_metadata: ['a', 'b'] } }]) {
      expect(channelMessageSchema.safeParse(message)).toEqual({ success: true, data: message });
    }
  });

  it("accepts another tab's custom types, which this tab may not have (its engine ignores them)", () => {
    expect(accepts({ ...event, invalidated: { artwork: 3, track_metadata: 0 } })).toBe(true);
    expect(accepts({ ...clear, types: ['lyrics'] })).toBe(true);
  });

  it('takes a message of a later build of the same version, a field added, as it would without that field', () => {
    const changed = { v: CHANNEL_VERSION, kind: 'changed', origin: 'tab', epoch: 'e1', changes: [{ type: 'generic', kind: 'set', keys: ['a'], id: 'c3' }] };
    const added = { ...changed, addedLater: 1, changes: [{ ...changed.changes[0], addedLater: 'x' }] };
    for (const [message, as] of [[{ ...clear, extra: 1 }, clear], [{ ...hello, types: ['generic'] }, hello], [added, changed]] as const) {
      expect(channelMessageSchema.safeParse(message)).toEqual({ success: true, data: as });
    }
  });

  it.each<[string, unknown]>([
    ['another version', { ...hello, v: CHANNEL_VERSION + 1 }],
    ['an unknown kind', { ...hello, kind: 'bye' }],
    ['a malformed event', { ...event, event: { eventType: 'track_removed' } }],
    ['a sequence number that is not a positive integer', { ...event, seq: 1.5 }],
    ['a sequence number beyond the safe integers', { ...event, seq: 2 ** 53 }],
    ['a count of an ill-formed type name', { ...event, invalidated: { 'Pod cast': 1 } }],
    ['a clear of an ill-formed type name', { ...clear, types: ['generic', '__proto__x!'] }],
    ['a negative count', { ...event, invalidated: { generic: -1 } }],
    ['a count that is not an integer', { ...event, invalidated: { generic: 0.5 } }],
    ['a count left undefined', { ...event, invalidated: { generic: undefined } }],
    ['counts that are not a plain object', { ...event, invalidated: new Date(0) }],
    ['removed keys that are not strings', { ...event, removed: { track_metadata: [1] } }],
    ['removed keys of an ill-formed type name', { ...event, removed: { 'Pod cast': ['a'] } }],
    ['more removed keys than a change names', { ...event, removed: { generic: Array.from({ length: 101 }, (_, index) => `k${index}`) } }],
    ['a clear of no type', { ...clear, types: [] }],
    ['an empty origin', { ...hello, origin: '' }],
    ['no message at all', null],
  ])('rejects %s', (_what, message) => {
    expect(accepts(message)).toBe(false);
  });
});
