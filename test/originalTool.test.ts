// The original tool's own test cases (barad1tos/GenreUpdater, tests/unit/services/cache/
// test_cache_config.py and test_fingerprint.py) translated to Reprise's API, and the edge cases of
// SPEC §2/§3 that such a suite would have. Expected hex values come from the original's algorithm,
// run in Python 3.11.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import {
  CONTENT_TYPES,
  DAY,
  DEFAULT_CLEANUP_THRESHOLD,
  DEFAULT_NEGATIVE_RESULT_TTL,
  EVENT_TYPES,
  EventDrivenCacheManager,
  HOUR,
  INFINITE_TTL,
  INVALIDATION_STRATEGIES,
  MINUTE,
  MONTH,
  SmartCacheConfig,
  WEEK,
  albumKey,
  createCache,
  createCacheEvent,
  fingerprintTrack,
  isCacheError,
  isFingerprint,
  type CacheEvent,
  type CacheEventInput,
  type ContentType,
  type EventType,
  type TrackIdentity,
} from '../src/index';

function thrown(fn: () => unknown): Error & { code?: string; issues?: { path: string; message: string }[] } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; issues?: { path: string; message: string }[] };
  }
  throw new Error('expected a throw');
}

async function rejected(promise: Promise<unknown>): Promise<Error & { code?: string; issues?: { path: string; message: string }[] }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; issues?: { path: string; message: string }[] };
  }
  throw new Error('expected a rejection');
}

function clock(start = Date.UTC(2026, 0, 1)) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

let names = 0;
async function open(config?: ConstructorParameters<typeof SmartCacheConfig>[0] | SmartCacheConfig) {
  const c = clock();
  const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  const cache = await createCache({
    worker: false,
    indexedDB: new IDBFactory(),
    name: `originalTool-${process.pid}-${++names}`,
    now: c.now,
    ...(config ? { config: config as SmartCacheConfig } : {}),
    logger,
  } as Parameters<typeof createCache>[0]);
  return { cache, clock: c, logger };
}

// ---------------------------------------------------------------------------------------------
// test_cache_config.py: TestSmartCacheConfig
// ---------------------------------------------------------------------------------------------
describe('original TestSmartCacheConfig', () => {
  const config = new SmartCacheConfig();

  it('test_default_policies_creation', () => {
    const policies = new SmartCacheConfig().getAllPolicies();
    const expectedTypes = ['track_metadata', 'successful_api_metadata', 'failed_api_lookup', 'album_year', 'negative_result', 'generic'] as const;
    expect(Object.keys(policies)).toHaveLength(expectedTypes.length);
    for (const type of expectedTypes) expect(policies[type]).toMatchObject({ contentType: type });
  });

  it('test_*_policy and test_get_ttl as written: against self.config.INFINITE_TTL', () => {
    expect(config.getPolicy('track_metadata').ttlSeconds).toBe(config.INFINITE_TTL);
    expect(config.getPolicy('successful_api_metadata').ttlSeconds).toBe(config.INFINITE_TTL);
    expect(config.getTtl('track_metadata')).toBe(config.INFINITE_TTL);
    expect(config.getTtl('successful_api_metadata')).toBe(config.INFINITE_TTL);
    expect(config.formatTtl(config.INFINITE_TTL)).toContain('∞');
  });

  it('test_update_policy', () => {
    const own = new SmartCacheConfig();
    const originalTtl = own.getTtl('generic');
    own.updatePolicy('generic', { ttlSeconds: 600 });
    expect(own.getTtl('generic')).toBe(600);
    expect(own.getTtl('generic')).not.toBe(originalTtl);
  });

  it('test_cleanup_threshold', () => {
    const threshold = config.getCleanupThreshold('track_metadata');
    expect(threshold).toBeGreaterThanOrEqual(0);
    expect(threshold).toBeLessThanOrEqual(1);
    expect(threshold).toBe(0.8);
  });

  it('test_track_metadata_policy', () => {
    const policy = config.getPolicy('track_metadata');
    expect(policy.ttlSeconds).toBe(INFINITE_TTL);
    expect(policy.invalidationStrategy).toBe('event_driven');
    expect(policy.maxSizeMb).toBe(100);
  });

  it('test_successful_api_metadata_policy', () => {
    const policy = config.getPolicy('successful_api_metadata');
    expect(policy.ttlSeconds).toBe(INFINITE_TTL);
    expect(policy.invalidationStrategy).toBe('event_driven');
    expect(policy.maxSizeMb).toBe(30);
  });

  it('test_failed_api_lookup_policy', () => {
    const policy = config.getPolicy('failed_api_lookup');
    expect(policy.ttlSeconds).toBe(60 * 60);
    expect(policy.invalidationStrategy).toBe('time_based');
    expect(policy.maxSizeMb).toBe(5);
  });

  it('test_negative_result_policy', () => {
    const policy = config.getPolicy('negative_result');
    expect(policy.ttlSeconds).toBe(30 * 24 * 60 * 60);
    expect(policy.invalidationStrategy).toBe('time_based');
  });

  it('test_get_ttl', () => {
    expect(config.getTtl('track_metadata')).toBe(INFINITE_TTL);
    expect(config.getTtl('successful_api_metadata')).toBe(INFINITE_TTL);
    expect(config.getTtl('failed_api_lookup')).toBe(60 * 60);
  });

  it('test_should_use_fingerprint_validation', () => {
    expect(config.shouldUseFingerprintValidation('track_metadata')).toBe(false);
    expect(config.shouldUseFingerprintValidation('album_year')).toBe(true);
    expect(config.shouldUseFingerprintValidation('successful_api_metadata')).toBe(false);
    expect(config.shouldUseFingerprintValidation('failed_api_lookup')).toBe(false);
  });

  it('test_should_use_event_invalidation', () => {
    expect(config.shouldUseEventInvalidation('track_metadata')).toBe(true);
    expect(config.shouldUseEventInvalidation('album_year')).toBe(true);
    expect(config.shouldUseEventInvalidation('successful_api_metadata')).toBe(true);
    expect(config.shouldUseEventInvalidation('failed_api_lookup')).toBe(false);
  });

  it('test_is_persistent_cache (static, as in the seed)', () => {
    expect(SmartCacheConfig.isPersistentCache('track_metadata')).toBe(true);
    expect(SmartCacheConfig.isPersistentCache('album_year')).toBe(true);
    expect(SmartCacheConfig.isPersistentCache('successful_api_metadata')).toBe(true);
    expect(SmartCacheConfig.isPersistentCache('failed_api_lookup')).toBe(false);
    expect(SmartCacheConfig.isPersistentCache('generic')).toBe(false);
    expect(SmartCacheConfig.isPersistentCache('negative_result')).toBe(false);
    // The instance answers the same for built-ins.
    for (const type of CONTENT_TYPES) expect(config.isPersistent(type)).toBe(SmartCacheConfig.isPersistentCache(type));
  });

  it('test_is_persistent_cache as the original calls it, on an instance (a Python staticmethod answers there too)', () => {
    const instance = config as unknown as { isPersistentCache(type: string): boolean };
    expect(instance.isPersistentCache('track_metadata')).toBe(true);
    expect(instance.isPersistentCache('album_year')).toBe(true);
    expect(instance.isPersistentCache('successful_api_metadata')).toBe(true);
    expect(instance.isPersistentCache('failed_api_lookup')).toBe(false);
    expect(instance.isPersistentCache('generic')).toBe(false);
  });

  it('test_ttl_formatting', () => {
    expect(config.formatTtl(INFINITE_TTL)).toContain('∞');
    expect(config.formatTtl(24 * 60 * 60)).toBe('1d');
    expect(config.formatTtl(60 * 60)).toBe('1h');
    expect(config.formatTtl(60)).toBe('1m');
    expect(config.formatTtl(30)).toBe('30s');
  });
});

// ---------------------------------------------------------------------------------------------
// test_cache_config.py: TestCacheEvent
// ---------------------------------------------------------------------------------------------
describe('original TestCacheEvent', () => {
  it('test_track_event_creation', () => {
    const event = createCacheEvent({ eventType: 'track_added', trackId: 'track123' });
    expect(event.eventType).toBe('track_added');
    expect(event.trackId).toBe('track123');
  });

  it('test_track_event_requires_track_id', () => {
    const error = thrown(() => createCacheEvent({ eventType: 'track_removed' } as CacheEventInput));
    expect(isCacheError(error, 'invalid_event')).toBe(true);
    expect(error.message).toMatch(/trackId required/);
    expect(error.message).toContain('trackId required for track_removed');
  });

  it('test_fingerprint_event_creation', () => {
    const event = createCacheEvent({ eventType: 'fingerprint_changed', fingerprint: 'abc123def456' });
    expect(event.eventType).toBe('fingerprint_changed');
    expect(event.fingerprint).toBe('abc123def456');
  });

  it('test_fingerprint_event_requires_fingerprint', () => {
    const error = thrown(() => createCacheEvent({ eventType: 'fingerprint_changed' } as CacheEventInput));
    expect(isCacheError(error, 'invalid_event')).toBe(true);
    expect(error.message).toMatch(/fingerprint required/);
  });

  it('test_library_sync_event', () => {
    const event = createCacheEvent({ eventType: 'library_sync' });
    expect(event.eventType).toBe('library_sync');
    expect(event.trackId ?? null).toBeNull();
    expect(event.fingerprint ?? null).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// test_cache_config.py: TestEventDrivenCacheManager
// ---------------------------------------------------------------------------------------------
describe('original TestEventDrivenCacheManager', () => {
  const config = new SmartCacheConfig();
  const manager = () => new EventDrivenCacheManager(config);

  it('test_event_handler_registration', () => {
    const m = manager();
    const calls: CacheEventInput[] = [];
    m.registerEventHandler('track_added', (event) => void calls.push(event));
    const event = createCacheEvent({ eventType: 'track_added', trackId: 'track123' });
    m.emitEvent(event);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(event);
  });

  it('test_multiple_handlers', () => {
    const m = manager();
    let count = 0;
    m.registerEventHandler('track_removed', () => void count++);
    m.registerEventHandler('track_removed', () => void count++);
    m.emitEvent(createCacheEvent({ eventType: 'track_removed', trackId: 'track456' }));
    expect(count).toBe(2);
  });

  it('test_should_invalidate_track_metadata', () => {
    const m = manager();
    expect(m.shouldInvalidateForEvent('track_metadata', createCacheEvent({ eventType: 'track_removed', trackId: 'track123' }))).toBe(true);
    expect(m.shouldInvalidateForEvent('track_metadata', createCacheEvent({ eventType: 'track_modified', trackId: 'track123' }))).toBe(true);
    expect(m.shouldInvalidateForEvent('track_metadata', createCacheEvent({ eventType: 'track_added', trackId: 'track123' }))).toBe(false);
  });

  it('test_should_not_invalidate_time_based_content', () => {
    const event = createCacheEvent({ eventType: 'track_removed', trackId: 'track123' });
    expect(manager().shouldInvalidateForEvent('failed_api_lookup', event)).toBe(false);
  });

  it('test_manual_invalidation_affects_all', () => {
    const m = manager();
    const event = createCacheEvent({ eventType: 'manual_invalidation' });
    for (const type of CONTENT_TYPES) {
      expect(m.shouldInvalidateForEvent(type, event)).toBe(config.shouldUseEventInvalidation(type));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// test_fingerprint.py
// ---------------------------------------------------------------------------------------------
const validTrack = {
  persistentId: 'ABC123DEF456',
  location: '/Users/user/Music/song.mp3',
  fileSize: 5242880,
  duration: 240.5,
  dateModified: '2025-09-11 10:30:00',
  dateAdded: '2025-09-10 15:00:00',
};

describe('original test_fingerprint.py', () => {
  it('test_generate_fingerprint_with_valid_data (and the original hex)', async () => {
    const fp = await fingerprintTrack(validTrack);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe('93fd76f64feeb91b9272b5225e737260a22edfcbd31f35b4260d137ade97f179');
  });

  it('test_fingerprint_deterministic', async () => {
    expect(await fingerprintTrack(validTrack)).toBe(await fingerprintTrack(validTrack));
  });

  it.each<[string, Partial<TrackIdentity>]>([
    ['file_size', { fileSize: 9999999 }],
    ['location', { location: '/different/path/song.mp3' }],
    ['persistent_id', { persistentId: 'DIFFERENT_ID' }],
  ])('test_fingerprint_changes_with %s', async (_, change) => {
    expect(await fingerprintTrack({ ...validTrack, ...change })).not.toBe(await fingerprintTrack(validTrack));
  });

  it('test_fingerprint_with_minimal_data', async () => {
    expect(await fingerprintTrack({ persistentId: 'MINIMAL123', location: '/path/to/file.mp3' })).toHaveLength(64);
  });

  it.each<[string, unknown]>([
    ['missing persistent_id', { location: '/path/to/file.mp3' }],
    ['missing location', { persistentId: 'ABC123' }],
    ['empty persistent_id', { persistentId: '', location: '/path/to/file.mp3' }],
    ['whitespace persistent_id', { persistentId: '   ', location: '/path/to/file.mp3' }],
    ['non-dict', 'not a dict'],
    ['None', null],
    ['undefined', undefined],
    ['an array', []],
  ])('test_* %s raises invalid_argument', async (_, input) => {
    const error = await rejected(Promise.resolve().then(() => fingerprintTrack(input as TrackIdentity)));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it('names the field at fault', async () => {
    const error = await rejected(fingerprintTrack({ persistentId: '  ', location: '' }));
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual(['location', 'persistentId']);
  });

  it('TestFingerprintValidateFormat (isFingerprint)', () => {
    expect(isFingerprint('a'.repeat(64))).toBe(true);
    expect(isFingerprint('0123456789abcdef'.repeat(4))).toBe(true);
    expect(isFingerprint('a'.repeat(63))).toBe(false);
    expect(isFingerprint('a'.repeat(65))).toBe(false);
    expect(isFingerprint('g'.repeat(64))).toBe(false);
    expect(isFingerprint(123)).toBe(false);
    expect(isFingerprint(null)).toBe(false);
    expect(isFingerprint([])).toBe(false);
    // SPEC: lowercase only (the original accepts upper case; the SPEC narrows it).
    expect(isFingerprint('A'.repeat(64))).toBe(false);
    expect(isFingerprint(` ${'a'.repeat(63)}`)).toBe(false);
    expect(isFingerprint(`${'a'.repeat(64)}\n`)).toBe(false);
  });

  it('TestNormalization, through the hash', async () => {
    const base = { persistentId: 'p', location: 'l' };
    const fp = (extra: Record<string, unknown>) => fingerprintTrack({ ...base, ...extra } as TrackIdentity);
    // _normalize_numeric_value: 100 == 100.0 == "100"; None == "" == absent == 0
    expect(await fp({ fileSize: 100 })).toBe(await fp({ fileSize: '100' }));
    expect(await fp({ fileSize: 100 })).toBe(await fp({ fileSize: 100.0 }));
    expect(await fp({ fileSize: 100.5 })).toBe(await fp({ fileSize: '100.5' }));
    expect(await fp({ fileSize: null })).toBe(await fp({}));
    expect(await fp({ fileSize: '' })).toBe(await fp({}));
    expect(await fp({ fileSize: 0 })).toBe(await fp({}));
    // _normalize_string_value
    expect(await fp({ dateAdded: '  hello  ' })).toBe(await fp({ dateAdded: 'hello' }));
    expect(await fp({ dateAdded: null })).toBe(await fp({}));
    expect(await fp({ dateAdded: 123 })).toBe(await fp({ dateAdded: '123' }));
  });

  it('TestEdgeCases', async () => {
    expect(await fingerprintTrack({ persistentId: 'TEST123', location: '/Users/音楽/файл.mp3' })).toBe(
      '162c37d1d74df50becfbab23f5201866debc0f8eaac7fd29aa3c30c915505f7a',
    );
    expect(await fingerprintTrack({ persistentId: 'TEST123', location: `/very/long/${'path/'.repeat(100)}file.mp3` })).toHaveLength(64);
    expect(await fingerprintTrack({ persistentId: 'TEST123', location: '/path/to/file with spaces & (special) [chars].mp3' })).toHaveLength(64);
    expect(await fingerprintTrack({ persistentId: 'TEST123', location: '/path/to/file.mp3', fileSize: 0, duration: 0 })).toHaveLength(64);
    expect(await fingerprintTrack({ persistentId: 'TEST123', location: '/path/to/file.mp3', fileSize: 10_000_000_000 })).toBe(
      '33fdcfa1ab38d383b4a2bdfab70f00e8a66f6e4cc2ea34c9310801a78963308b',
    );
  });

  it('test_key_order_consistent', async () => {
    const a = await fingerprintTrack({ persistentId: 'TEST', location: '/path', fileSize: 100, duration: 200 });
    const b = await fingerprintTrack({ duration: 200, fileSize: 100, location: '/path', persistentId: 'TEST' });
    expect(a).toBe(b);
  });
});

// ---------------------------------------------------------------------------------------------
// fingerprintTrack: SPEC §3 normalisation, every field kind
// ---------------------------------------------------------------------------------------------
describe('fingerprintTrack normalisation (SPEC §3)', () => {
  const base = { persistentId: 'p', location: 'l' };
  const fp = (extra: Record<string, unknown>) => fingerprintTrack({ ...base, ...extra } as TrackIdentity);
  const BASE_HEX = '7f272271a03e631396b31ec50bf95cd1c965b76e8cda7ee14f3b09a8f75e9ea7';

  it('the bare identity has the original hex', async () => {
    expect(await fp({})).toBe(BASE_HEX);
  });

  it('whitespace-only numeric strings hash like 0 (the original falls back to 0.0)', async () => {
    expect(await fp({ fileSize: '   ', duration: '\t\n' })).toBe(BASE_HEX);
  });

  it('numeric strings with surrounding spaces and exponents', async () => {
    expect(await fp({ fileSize: ' 1e3 ' })).toBe('98f76492ed252124b3a05c2427a3d896fd7aea16786abdd3097a955b055eaded');
    expect(await fp({ fileSize: '1E3' })).toBe(await fp({ fileSize: 1000 }));
    expect(await fp({ fileSize: '+1000' })).toBe(await fp({ fileSize: 1000 }));
    expect(await fp({ duration: '.5' })).toBe(await fp({ duration: 0.5 }));
    expect(await fp({ duration: '5.' })).toBe(await fp({ duration: 5 }));
    expect(await fp({ duration: 0.00001 })).toBe('e369838f97d6edfeb0880b0ea3d673206882705f169bc1590d6706d61cee3c96');
  });

  it.each<[string, unknown]>([
    ['hex', '0x10'],
    ['words', 'not a number'],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['an object', { n: 1 }],
    ['an array', [1]],
    ['two numbers', '1 2'],
    ['overflowing', '1e400'],
  ])('an unparsable number (%s) is invalid_argument', async (_, fileSize) => {
    const error = await rejected(fp({ fileSize }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
    expect(error.issues?.map((issue) => issue.path)).toEqual(['fileSize']);
  });

  it('nested null / non-string values in string fields are rejected or normalised, never hashed as [object Object]', async () => {
    const error = await rejected(fp({ dateAdded: { nested: null } }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it('"-0" as a numeric string hashes as the original does (float("-0") is -0.0)', async () => {
    expect(await fp({ fileSize: '-0' })).toBe('28cc8e3c968f5873b9aef08439204dae9582a878de6c09dcbc05c377199de02e');
    // a number -0 is falsy in Python: 0.0
    expect(await fp({ fileSize: -0 })).toBe(BASE_HEX);
  });

  it('trims what Python’s str.strip() trims: a trailing NEL or unit separator', async () => {
    expect(await fp({ location: 'l\u0085' })).toBe(BASE_HEX);
    expect(await fp({ location: 'l\u001f' })).toBe(BASE_HEX);
  });

  it('keeps what Python’s str.strip() keeps: a leading byte-order mark', async () => {
    expect(await fp({ location: '\ufeffl' })).toBe('4ce5a977537019faf55ff820bad7dd281f91e645a174eee4f487b30898148183');
  });

  it('numeric strings: what Python’s float() strips is stripped; a leading byte-order mark makes the string unparsable', async () => {
    expect(await fp({ fileSize: '1\u0085' })).toBe(await fp({ fileSize: 1 }));
    expect(await fp({ fileSize: '\u30001\u3000' })).toBe(await fp({ fileSize: 1 }));
    const error = await rejected(fp({ fileSize: '\ufeff1' }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it('a number in a string field is its decimal string', async () => {
    expect(await fp({ dateAdded: 1.5 })).toBe('c74b9e7371828aa30e94ed6732df3a520dc74a8e922e87bc3d7a320c468dc387');
    expect(await fp({ persistentId: 42 })).toBe(await fp({ persistentId: '42' }));
  });

  it('a number in a string field is written as Python’s str() writes it, exponent and all (1e-05), as the tool hashed it', async () => {
    // Expected hex from the tool's FingerprintGenerator, run in Python 3 on {"persistent_id": "p", "location": "l", "date_added": x}.
    expect(await fp({ dateAdded: 0.00001 })).toBe('a207f4d5dde51e4f37b3fbeadcda76cc3d762fee1a9dcf0740d7132b4f63572a');
    expect(await fp({ dateAdded: 1e-7 })).toBe('75c6158e5ff2d8c293b5148b30958263ebe2d2acac39df174a48eefcb9e4f14d');
    expect(await fp({ dateAdded: -2.5e-9 })).toBe('6944ca88f0c57963bb513fdc3ec1d05365854301f92a0764c2ccc9320ec8ebe5');
    expect(await fp({ dateAdded: 0.0001 })).toBe('85df948dcaca4887f3bf595a82092f9a20ca22891f895a7657d185f8cb5cf377');
  });

  it('every failure is a CacheError, even from a throwing getter', async () => {
    const track = {
      persistentId: 'p',
      get location(): string {
        throw new Error('boom');
      },
    };
    const error = await rejected(fingerprintTrack(track));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Time constants and formatTtl boundaries
// ---------------------------------------------------------------------------------------------
describe('time constants and formatTtl', () => {
  const config = new SmartCacheConfig();

  it('has the seed’s constants', () => {
    expect([MINUTE, HOUR, DAY, WEEK, MONTH]).toEqual([60, 3600, 86400, 604800, 2592000]);
    expect(INFINITE_TTL).toBe(315360000);
    expect(DEFAULT_NEGATIVE_RESULT_TTL).toBe(MONTH);
    expect(DEFAULT_CLEANUP_THRESHOLD).toBe(0.8);
    expect(INVALIDATION_STRATEGIES).toEqual(['time_based', 'event_driven', 'fingerprint_based', 'hybrid']);
    expect(CONTENT_TYPES).toEqual(['track_metadata', 'successful_api_metadata', 'failed_api_lookup', 'album_year', 'negative_result', 'generic']);
    expect(EVENT_TYPES).toEqual(['track_added', 'track_removed', 'track_modified', 'fingerprint_changed', 'library_sync', 'manual_invalidation']);
  });

  it.each<[number, string]>([
    [-1, 'expired'],
    [-0.5, 'expired'],
    [-Infinity, 'expired'],
    [0, '0s'],
    [59, '59s'],
    [60, '1m'],
    [119, '1m'],
    [3599, '59m'],
    [3600, '1h'],
    [86399, '23h'],
    [86400, '1d'],
    [WEEK, '7d'],
    [MONTH, '30d'],
    [INFINITE_TTL - 1, '3649d'],
    [INFINITE_TTL, '∞ (infinite)'],
    [INFINITE_TTL + 1, '∞ (infinite)'],
    [Infinity, '∞ (infinite)'],
    [90.9, '1m'],
  ])('formatTtl(%s) is %s', (seconds, text) => {
    expect(config.formatTtl(seconds)).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// Config validation, updatePolicy, getAllPolicies
// ---------------------------------------------------------------------------------------------
describe('SmartCacheConfig validation and updates', () => {
  it('the default table of SPEC §2', () => {
    const config = new SmartCacheConfig();
    const rows = CONTENT_TYPES.map((type) => {
      const { ttlSeconds, invalidationStrategy, maxSizeMb, cleanupThreshold, contentType } = config.getPolicy(type);
      return [contentType, ttlSeconds, invalidationStrategy, maxSizeMb, cleanupThreshold, SmartCacheConfig.isPersistentCache(type)];
    });
    expect(rows).toEqual([
      ['track_metadata', INFINITE_TTL, 'event_driven', 100, 0.8, true],
      ['successful_api_metadata', INFINITE_TTL, 'event_driven', 30, 0.8, true],
      ['failed_api_lookup', HOUR, 'time_based', 5, 0.8, false],
      ['album_year', MONTH, 'hybrid', 20, 0.8, true],
      ['negative_result', MONTH, 'time_based', 10, 0.8, false],
      ['generic', 5 * MINUTE, 'time_based', 30, 0.8, false],
    ]);
    for (const type of CONTENT_TYPES) {
      expect(config.getCleanupThreshold(type)).toBe(0.8);
      expect(typeof config.getPolicy(type).description).toBe('string');
    }
    expect(new SmartCacheConfig(undefined).getTtl('negative_result')).toBe(MONTH);
    expect(new SmartCacheConfig({}).getTtl('negative_result')).toBe(MONTH);
    expect(new SmartCacheConfig({ caching: {} }).getTtl('negative_result')).toBe(MONTH);
  });

  it('negativeResultTtl sets the negative_result TTL; a per-type ttlSeconds wins over it', () => {
    expect(new SmartCacheConfig({ caching: { negativeResultTtl: 3600 } }).getTtl('negative_result')).toBe(3600);
    expect(new SmartCacheConfig({ caching: { negativeResultTtl: 3600, policies: { negative_result: { ttlSeconds: 60 } } } }).getTtl('negative_result')).toBe(60);
    expect(new SmartCacheConfig({ caching: { policies: { negative_result: { ttlSeconds: 60 } }, negativeResultTtl: 3600 } }).getTtl('negative_result')).toBe(60);
    // negativeResultTtl touches no other type
    const config = new SmartCacheConfig({ caching: { negativeResultTtl: 7 } });
    expect(config.getTtl('failed_api_lookup')).toBe(HOUR);
    expect(config.getTtl('generic')).toBe(300);
    // A patch of another field of negative_result keeps negativeResultTtl's TTL
    expect(new SmartCacheConfig({ caching: { negativeResultTtl: 7, policies: { negative_result: { maxSizeMb: 1 } } } }).getTtl('negative_result')).toBe(7);
  });

  it('an invalid config throws invalid_config naming every bad path', () => {
    const error = thrown(
      () =>
        new SmartCacheConfig({
          caching: {
            negativeResultTtl: -5,
            cleanupIntervalSeconds: 0,
            policies: {
              generic: { ttlSeconds: 0, cleanupThreshold: 0 },
              album_year: { invalidationStrategy: 'sometimes' as never, maxSizeMb: -1 },
              track_metadata: { cleanupThreshold: 1.5, description: 5 as never },
            },
          },
        }),
    );
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual([
      'caching.cleanupIntervalSeconds',
      'caching.negativeResultTtl',
      'caching.policies.album_year.invalidationStrategy',
      'caching.policies.album_year.maxSizeMb',
      'caching.policies.generic.cleanupThreshold',
      'caching.policies.generic.ttlSeconds',
      'caching.policies.track_metadata.cleanupThreshold',
      'caching.policies.track_metadata.description',
    ]);
    for (const issue of error.issues ?? []) expect(error.message).toContain(issue.path);
  });

  it('names unknown keys at every level', () => {
    const error = thrown(
      () => new SmartCacheConfig({ cachng: {}, caching: { policies: { podcast: {}, generic: { ttl: 5 } }, extra: 1 } } as never),
    );
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    const paths = (error.issues ?? []).map((issue) => `${issue.path} ${issue.message}`).join('\n');
    expect(paths).toMatch(/cachng/);
    expect(paths).toMatch(/extra/);
    expect(paths).toMatch(/podcast/);
    expect(paths).toMatch(/ttl\b/);
  });

  it.each<[string, unknown]>([
    ['a string', 'x'],
    ['an array', []],
    ['a number', 5],
    ['caching: null', { caching: null }],
    ['a string TTL', { caching: { negativeResultTtl: '3600' } }],
    ['NaN', { caching: { negativeResultTtl: NaN } }],
  ])('rejects %s as invalid_config', (_, config) => {
    expect(isCacheError(thrown(() => new SmartCacheConfig(config as never)), 'invalid_config')).toBe(true);
  });

  it('accepts the boundary values', () => {
    const config = new SmartCacheConfig({
      caching: { policies: { generic: { cleanupThreshold: 1, maxSizeMb: null, ttlSeconds: INFINITE_TTL }, album_year: { ttlSeconds: 0.5 } } },
    });
    expect(config.getPolicy('generic')).toMatchObject({ cleanupThreshold: 1, maxSizeMb: null, ttlSeconds: INFINITE_TTL });
    expect(config.formatTtl(config.getTtl('generic'))).toBe('∞ (infinite)');
  });

  it('updatePolicy changes the fields it names and nothing else', () => {
    const config = new SmartCacheConfig();
    const before = config.getPolicy('generic');
    config.updatePolicy('generic', { ttlSeconds: 10 });
    expect(config.getPolicy('generic')).toEqual({ ...before, ttlSeconds: 10 });
    config.updatePolicy('generic', { invalidationStrategy: 'hybrid' });
    expect(config.shouldUseFingerprintValidation('generic')).toBe(true);
    expect(config.shouldUseEventInvalidation('generic')).toBe(true);
    config.updatePolicy('generic', {});
    expect(config.getPolicy('generic')).toEqual({ ...before, ttlSeconds: 10, invalidationStrategy: 'hybrid' });
  });

  it.each<[string, unknown]>([
    ['an unknown field', { ttl: 5 }],
    ['contentType', { contentType: 'album_year' }],
    ['a bad strategy', { invalidationStrategy: 'never' }],
    ['TTL 0', { ttlSeconds: 0 }],
    ['a negative TTL', { ttlSeconds: -1 }],
    ['a string TTL', { ttlSeconds: '10' }],
    ['cleanupThreshold 0', { cleanupThreshold: 0 }],
    ['cleanupThreshold above 1', { cleanupThreshold: 1.01 }],
    ['maxSizeMb 0', { maxSizeMb: 0 }],
    ['one good and one bad field', { ttlSeconds: 10, cleanupThreshold: 2 }],
    ['a good field and an unknown one', { ttlSeconds: 10, size: 1 }],
    ['null', null],
    ['a string', 'ttlSeconds=5'],
  ])('updatePolicy with %s throws and leaves the policy unchanged', (_, patch) => {
    const config = new SmartCacheConfig();
    const before = config.getAllPolicies();
    const error = thrown(() => config.updatePolicy('generic', patch as never));
    expect(isCacheError(error)).toBe(true);
    expect(error.code).toBe('invalid_config');
    expect(config.getAllPolicies()).toEqual(before);
  });

  it('updatePolicy of an unknown type is unknown_content_type', () => {
    const config = new SmartCacheConfig();
    expect(isCacheError(thrown(() => config.updatePolicy('podcast' as ContentType, { ttlSeconds: 5 })), 'unknown_content_type')).toBe(true);
  });

  it('getAllPolicies is a deep copy', () => {
    const config = new SmartCacheConfig();
    const all = config.getAllPolicies();
    expect(Object.keys(all)).toEqual([...CONTENT_TYPES]);
    all.generic.ttlSeconds = 1;
    all.generic.invalidationStrategy = 'event_driven';
    delete (all as Partial<typeof all>).album_year;
    expect(config.getTtl('generic')).toBe(300);
    expect(config.shouldUseEventInvalidation('generic')).toBe(false);
    expect(config.getPolicy('album_year').ttlSeconds).toBe(MONTH);
    // getPolicy too gives a copy
    const policy = config.getPolicy('track_metadata');
    policy.maxSizeMb = 1;
    expect(config.getPolicy('track_metadata').maxSizeMb).toBe(100);
  });

  it('getAllPolicies deep-copies custom types’ invalidatedBy', () => {
    const config = new SmartCacheConfig({
      caching: {
        customTypes: { lyrics: { persistent: true, ttlSeconds: DAY, invalidationStrategy: 'event_driven', maxSizeMb: 5, invalidatedBy: ['track_removed'] } },
      },
    });
    const all = config.getAllPolicies();
    all.lyrics.invalidatedBy?.push('library_sync');
    const manager = new EventDrivenCacheManager(config);
    expect(manager.shouldInvalidateForEvent('lyrics', { eventType: 'library_sync' })).toBe(false);
    expect(manager.shouldInvalidateForEvent('lyrics', { eventType: 'track_removed' })).toBe(true);
  });

  it('unknown types are unknown_content_type everywhere', () => {
    const config = new SmartCacheConfig();
    for (const call of [
      () => config.getPolicy('podcast' as ContentType),
      () => config.getTtl('podcast' as ContentType),
      () => config.getCleanupThreshold('podcast' as ContentType),
      () => config.shouldUseEventInvalidation('podcast' as ContentType),
      () => config.shouldUseFingerprintValidation('podcast' as ContentType),
      () => SmartCacheConfig.isPersistentCache('podcast' as ContentType),
      () => new EventDrivenCacheManager(config).shouldInvalidateForEvent('podcast' as ContentType, { eventType: 'library_sync' }),
    ]) {
      expect(isCacheError(thrown(call), 'unknown_content_type')).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// createCacheEvent and the manager
// ---------------------------------------------------------------------------------------------
describe('createCacheEvent validation', () => {
  it.each(['track_added', 'track_removed', 'track_modified'] as const)('%s requires trackId, named in the message', (eventType) => {
    for (const trackId of [undefined, '']) {
      const error = thrown(() => createCacheEvent({ eventType, ...(trackId === undefined ? {} : { trackId }) } as CacheEventInput));
      expect(isCacheError(error, 'invalid_event')).toBe(true);
      expect(error.message).toContain(`trackId required for ${eventType}`);
    }
  });

  it('fingerprint_changed requires fingerprint, and takes a trackId', () => {
    const error = thrown(() => createCacheEvent({ eventType: 'fingerprint_changed', trackId: 't' } as CacheEventInput));
    expect(isCacheError(error, 'invalid_event')).toBe(true);
    expect(error.message).toContain('fingerprint required for fingerprint_changed');
    expect(createCacheEvent({ eventType: 'fingerprint_changed', fingerprint: 'f', trackId: 't' })).toEqual({
      eventType: 'fingerprint_changed',
      fingerprint: 'f',
      trackId: 't',
    });
  });

  it('keeps metadata', () => {
    const event = createCacheEvent({ eventType: 'track_modified', trackId: 't', metadata: { artist: 'A', album: 'B', n: 1 } });
    expect(event.metadata).toEqual({ artist: 'A', album: 'B', n: 1 });
  });

  it.each<[string, unknown]>([
    ['an unknown event type', { eventType: 'track_deleted', trackId: 't' }],
    ['no event type', { trackId: 't' }],
    ['null', null],
    ['a string', 'track_removed'],
    ['a numeric trackId', { eventType: 'track_removed', trackId: 5 }],
    ['an unknown field', { eventType: 'library_sync', reason: 'x' }],
    ['metadata that is not an object', { eventType: 'library_sync', metadata: 'x' }],
    ['metadata that is an array', { eventType: 'library_sync', metadata: [] }],
  ])('rejects %s with invalid_event', (_, input) => {
    expect(isCacheError(thrown(() => createCacheEvent(input as CacheEventInput)), 'invalid_event')).toBe(true);
  });

  it('library_sync and manual_invalidation need nothing', () => {
    expect(createCacheEvent({ eventType: 'manual_invalidation' })).toEqual({ eventType: 'manual_invalidation' });
    expect(createCacheEvent({ eventType: 'library_sync' })).toEqual({ eventType: 'library_sync' });
  });
});

describe('EventDrivenCacheManager', () => {
  const config = new SmartCacheConfig();

  it('shouldInvalidateForEvent follows the seed’s table for every type and event', () => {
    const manager = new EventDrivenCacheManager(config);
    const table: Record<ContentType, EventType[]> = {
      track_metadata: ['track_removed', 'track_modified', 'fingerprint_changed', 'manual_invalidation'],
      successful_api_metadata: ['track_removed', 'track_modified', 'manual_invalidation'],
      failed_api_lookup: [],
      album_year: ['library_sync', 'manual_invalidation'],
      negative_result: [],
      generic: [],
    };
    for (const type of CONTENT_TYPES) {
      for (const eventType of EVENT_TYPES) {
        expect([type, eventType, manager.shouldInvalidateForEvent(type, { eventType })]).toEqual([type, eventType, table[type].includes(eventType)]);
      }
    }
  });

  it('follows updatePolicy: a time_based type ignores every event, a hybrid generic gets only manual_invalidation', () => {
    const own = new SmartCacheConfig();
    const manager = new EventDrivenCacheManager(own);
    own.updatePolicy('track_metadata', { invalidationStrategy: 'time_based' });
    for (const eventType of EVENT_TYPES) expect(manager.shouldInvalidateForEvent('track_metadata', { eventType })).toBe(false);
    own.updatePolicy('track_metadata', { invalidationStrategy: 'fingerprint_based' });
    for (const eventType of EVENT_TYPES) expect(manager.shouldInvalidateForEvent('track_metadata', { eventType })).toBe(false);
    own.updatePolicy('generic', { invalidationStrategy: 'hybrid' });
    expect(EVENT_TYPES.filter((eventType) => manager.shouldInvalidateForEvent('generic', { eventType }))).toEqual(['manual_invalidation']);
  });

  it('calls handlers of the event’s type only, in registration order', () => {
    const manager = new EventDrivenCacheManager(config);
    const calls: string[] = [];
    manager.registerEventHandler('track_removed', () => void calls.push('a'));
    manager.registerEventHandler('track_added', () => void calls.push('other'));
    manager.registerEventHandler('track_removed', () => void calls.push('b'));
    manager.registerEventHandler('track_removed', () => void calls.push('c'));
    manager.emitEvent({ eventType: 'track_removed', trackId: 't' });
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('a handler registered twice runs twice; its unregister function removes one registration, and is idempotent', () => {
    const manager = new EventDrivenCacheManager(config);
    const handler = vi.fn();
    const off1 = manager.registerEventHandler('library_sync', handler);
    manager.registerEventHandler('library_sync', handler);
    manager.emitEvent({ eventType: 'library_sync' });
    expect(handler).toHaveBeenCalledTimes(2);
    off1();
    off1();
    manager.emitEvent({ eventType: 'library_sync' });
    expect(handler).toHaveBeenCalledTimes(3);
  });

  it('a handler that throws is reported through logger.error and the others still run', () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const manager = new EventDrivenCacheManager(config, { logger });
    const calls: string[] = [];
    const failure = new Error('handler broke');
    manager.registerEventHandler('track_modified', () => void calls.push('a'));
    manager.registerEventHandler('track_modified', () => {
      throw failure;
    });
    manager.registerEventHandler('track_modified', () => void calls.push('c'));
    expect(() => manager.emitEvent({ eventType: 'track_modified', trackId: 't' })).not.toThrow();
    expect(calls).toEqual(['a', 'c']);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]).toContain(failure);
  });

  it('reports through console.error by default', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const manager = new EventDrivenCacheManager(config);
      manager.registerEventHandler('library_sync', () => {
        throw new Error('x');
      });
      manager.emitEvent({ eventType: 'library_sync' });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('a handler that unregisters itself during emit runs once; the others run', () => {
    const manager = new EventDrivenCacheManager(config);
    const calls: string[] = [];
    const off = manager.registerEventHandler('library_sync', () => {
      calls.push('a');
      off();
    });
    manager.registerEventHandler('library_sync', () => void calls.push('b'));
    manager.emitEvent({ eventType: 'library_sync' });
    manager.emitEvent({ eventType: 'library_sync' });
    expect(calls).toEqual(['a', 'b', 'b']);
  });

  it('validates the event it emits (invalid_event) and calls nothing', () => {
    const manager = new EventDrivenCacheManager(config);
    const handler = vi.fn();
    manager.registerEventHandler('track_removed', handler);
    expect(isCacheError(thrown(() => manager.emitEvent({ eventType: 'track_removed' } as CacheEventInput)), 'invalid_event')).toBe(true);
    expect(handler).not.toHaveBeenCalled();
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'track_removed'],
    ['an unknown event type', { eventType: 'track_deleted' }],
    ['no event type', { trackId: 't' }],
  ])('shouldInvalidateForEvent with %s for the event is invalid_event (every error is a CacheError)', (_, event) => {
    const manager = new EventDrivenCacheManager(config);
    expect(isCacheError(thrown(() => manager.shouldInvalidateForEvent('track_metadata', event as CacheEvent)), 'invalid_event')).toBe(true);
  });

  it('registering for an unknown event type is invalid_event', () => {
    const manager = new EventDrivenCacheManager(config);
    expect(isCacheError(thrown(() => manager.registerEventHandler('track_deleted' as EventType, () => {})), 'invalid_event')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// albumKey
// ---------------------------------------------------------------------------------------------
describe('albumKey', () => {
  it('trims, applies NFKC and case-folds', () => {
    expect(albumKey('  The Beatles ', 'Abbey Road')).toBe(albumKey('the beatles', 'ABBEY ROAD'));
    expect(albumKey('Ｂｅｃｋ', 'Ｏｄｅｌａｙ')).toBe(albumKey('beck', 'odelay'));
    expect(albumKey('Straße', 'x')).toBe(albumKey('STRASSE', 'X'));
    expect(albumKey('Café', 'x')).toBe(albumKey('Cafe\u0301', 'X'));
  });

  it('never collides for different pairs', () => {
    const pairs: [string, string][] = [
      ['a', 'b c'],
      ['a b', 'c'],
      ['a|b', 'c'],
      ['a', 'b|c'],
      ['', 'ab'],
      ['ab', ''],
      ['a"', 'b'],
      ['a', '"b'],
      ['a\\', 'b'],
      ['a', '\\b'],
      ['a\u0000', 'b'],
      ['a', '\u0000b'],
    ];
    const keys = new Set(pairs.map(([artist, album]) => albumKey(artist, album)));
    expect(keys.size).toBe(pairs.length);
  });

  it('rejects non-strings with invalid_argument', () => {
    expect(isCacheError(thrown(() => albumKey(null as never, 'x')), 'invalid_argument')).toBe(true);
    expect(isCacheError(thrown(() => albumKey('x', 5 as never)), 'invalid_argument')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The cache: TTL, fingerprints, events (in-process engine on fake-indexeddb)
// ---------------------------------------------------------------------------------------------
describe('cache TTL semantics', () => {
  it('uses each type’s policy TTL; an expired entry is never returned and is removed on read', async () => {
    const { cache, clock } = await open();
    try {
      await cache.set('generic', 'k', 1);
      await cache.set('failed_api_lookup', 'k', 2);
      clock.advance(300 * 1000 - 1);
      expect(await cache.get('generic', 'k')).toBe(1);
      clock.advance(1);
      expect(await cache.get('generic', 'k')).toBeUndefined();
      expect(await cache.has('generic', 'k')).toBe(false);
      expect(await cache.get('failed_api_lookup', 'k')).toBe(2);
      clock.advance(HOUR * 1000);
      expect(await cache.get('failed_api_lookup', 'k')).toBeUndefined();
      const stats = await cache.stats();
      expect(stats.types.generic.entries).toBe(0);
      expect(stats.types.generic.expirations).toBeGreaterThanOrEqual(1);
    } finally {
      await cache.close();
    }
  });

  it('a TTL at or above INFINITE_TTL never expires, on read and in the sweep; just below it does', async () => {
    const { cache, clock } = await open();
    try {
      await cache.set('generic', 'at', 'a', { ttlSeconds: INFINITE_TTL });
      await cache.set('generic', 'above', 'b', { ttlSeconds: INFINITE_TTL * 2 });
      await cache.set('generic', 'inf', 'c', { ttlSeconds: Infinity });
      await cache.set('generic', 'below', 'd', { ttlSeconds: INFINITE_TTL - 1 });
      await cache.set('track_metadata', 'policy', 'e');
      clock.advance(INFINITE_TTL * 1000 * 3);
      expect(await cache.cleanup()).toMatchObject({ expired: 1 });
      expect(await cache.get('generic', 'at')).toBe('a');
      expect(await cache.get('generic', 'above')).toBe('b');
      expect(await cache.get('generic', 'inf')).toBe('c');
      expect(await cache.get('generic', 'below')).toBeUndefined();
      expect(await cache.get('track_metadata', 'policy')).toBe('e');
    } finally {
      await cache.close();
    }
  });

  it('ttlSeconds on set overrides the policy, fractional included', async () => {
    const { cache, clock } = await open();
    try {
      await cache.set('track_metadata', 'short', 1, { ttlSeconds: 1.5 });
      clock.advance(1499);
      expect(await cache.get('track_metadata', 'short')).toBe(1);
      clock.advance(1);
      expect(await cache.get('track_metadata', 'short')).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it.each([0, -1, -0.5])('ttlSeconds %s writes the entry already expired, as the tool\'s ttl=0 and ttl=-1: it replaces what the key held, and no read returns it', async (ttlSeconds) => {
    const { cache } = await open();
    try {
      await cache.set('album_year', 'k', 1);
      await cache.set('album_year', 'k', 2, { ttlSeconds });
      expect([await cache.get('album_year', 'k'), await cache.has('album_year', 'k'), await cache.keys('album_year'), await cache.entries('album_year')]).toEqual([undefined, false, [], []]);
      expect((await cache.stats()).types.album_year).toMatchObject({ entries: 0, bytes: 0, expirations: 1 });
    } finally {
      await cache.close();
    }
  });

  it.each([NaN, '60', -Infinity, null])('rejects ttlSeconds %s with invalid_argument and writes nothing', async (ttlSeconds) => {
    const { cache } = await open();
    try {
      const error = await rejected(cache.set('generic', 'k', 1, { ttlSeconds: ttlSeconds as number }));
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
      expect(await cache.has('generic', 'k')).toBe(false);
    } finally {
      await cache.close();
    }
  });

  it('negativeResultTtl drives negative_result entries; a per-type ttlSeconds wins', async () => {
    const a = await open({ caching: { negativeResultTtl: 10 } });
    const b = await open({ caching: { negativeResultTtl: 10, policies: { negative_result: { ttlSeconds: 100 } } } });
    try {
      await a.cache.set('negative_result', 'k', 1);
      await b.cache.set('negative_result', 'k', 1);
      a.clock.advance(10_000);
      b.clock.advance(10_000);
      expect(await a.cache.get('negative_result', 'k')).toBeUndefined();
      expect(await b.cache.get('negative_result', 'k')).toBe(1);
    } finally {
      await a.cache.close();
      await b.cache.close();
    }
  });

  it('updatePolicy on the config a cache was made with applies to later writes', async () => {
    const config = new SmartCacheConfig();
    const { cache, clock } = await open(config);
    try {
      config.updatePolicy('generic', { ttlSeconds: 10 });
      await cache.set('generic', 'k', 1);
      clock.advance(10_000);
      expect(await cache.get('generic', 'k')).toBeUndefined();
    } finally {
      await cache.close();
    }
  });
});

describe('cache fingerprint validation', () => {
  it('album_year (hybrid): a different fingerprint is a miss that deletes; the same one or none is a hit', async () => {
    const { cache } = await open();
    try {
      await cache.set('album_year', 'k', 1999, { fingerprint: 'f1' });
      expect(await cache.get('album_year', 'k', { fingerprint: 'f1' })).toBe(1999);
      expect(await cache.get('album_year', 'k')).toBe(1999);
      expect(await cache.get('album_year', 'k', { fingerprint: 'f2' })).toBeUndefined();
      expect(await cache.get('album_year', 'k', { fingerprint: 'f1' })).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it('track_metadata (event_driven) does not validate fingerprints on get', async () => {
    const { cache } = await open();
    try {
      await cache.set('track_metadata', 'k', 'v', { fingerprint: 'f1' });
      expect(await cache.get('track_metadata', 'k', { fingerprint: 'f2' })).toBe('v');
    } finally {
      await cache.close();
    }
  });

  it('a type switched to fingerprint_based by updatePolicy validates them', async () => {
    const config = new SmartCacheConfig();
    config.updatePolicy('generic', { invalidationStrategy: 'fingerprint_based' });
    const { cache } = await open(config);
    try {
      await cache.set('generic', 'k', 'v', { fingerprint: 'f1' });
      expect(await cache.get('generic', 'k', { fingerprint: 'f2' })).toBeUndefined();
      expect(await cache.has('generic', 'k')).toBe(false);
    } finally {
      await cache.close();
    }
  });
});

describe('cache event invalidation', () => {
  async function seeded() {
    const opened = await open();
    const { cache } = opened;
    for (const type of CONTENT_TYPES) {
      await cache.set(type, 't1', `${type}-t1`, { trackId: 't1', fingerprint: 'fp1' });
      await cache.set(type, 't2', `${type}-t2`, { trackId: ['t2', 't3'], fingerprint: 'fp2' });
      await cache.set(type, 'none', `${type}-none`);
    }
    return opened;
  }
  const live = async (cache: Awaited<ReturnType<typeof open>>['cache']) =>
    Object.fromEntries(await Promise.all(CONTENT_TYPES.map(async (type) => [type, await cache.keys(type)] as const)));

  it('track_added invalidates nothing', async () => {
    const { cache } = await seeded();
    try {
      const report = await cache.emit({ eventType: 'track_added', trackId: 't1' });
      expect(report.eventType).toBe('track_added');
      expect(Object.values(report.invalidated).reduce<number>((a, b) => a + (b ?? 0), 0)).toBe(0);
      for (const keys of Object.values(await live(cache))) expect(keys).toEqual(['none', 't1', 't2']);
    } finally {
      await cache.close();
    }
  });

  it.each(['track_removed', 'track_modified'] as const)('%s removes that track’s entries of track_metadata and successful_api_metadata only', async (eventType) => {
    const { cache } = await seeded();
    try {
      const report = await cache.emit({ eventType, trackId: 't3' });
      expect(report.invalidated).toMatchObject({ track_metadata: 1, successful_api_metadata: 1 });
      expect(report.invalidated.album_year ?? 0).toBe(0);
      expect(report.invalidated.generic ?? 0).toBe(0);
      expect(await live(cache)).toEqual({
        track_metadata: ['none', 't1'],
        successful_api_metadata: ['none', 't1'],
        failed_api_lookup: ['none', 't1', 't2'],
        album_year: ['none', 't1', 't2'],
        negative_result: ['none', 't1', 't2'],
        generic: ['none', 't1', 't2'],
      });
    } finally {
      await cache.close();
    }
  });

  it('track_removed with metadata artist/album also removes successful_api_metadata of that album (by albumKey)', async () => {
    const { cache } = await open();
    try {
      await cache.set('successful_api_metadata', 'a', 1, { album: { artist: 'The Band', album: 'Stage Fright' } });
      await cache.set('successful_api_metadata', 'b', 2, { album: { artist: 'The Band', album: 'Cahoots' } });
      await cache.set('album_year', 'c', 3, { album: { artist: 'The Band', album: 'Stage Fright' } });
      const report = await cache.emit({ eventType: 'track_removed', trackId: 'zz', metadata: { artist: '  the band', album: 'STAGE  FRIGHT ' } });
      expect(report.invalidated.successful_api_metadata).toBe(1);
      expect(await cache.keys('successful_api_metadata')).toEqual(['b']);
      expect(await cache.keys('album_year')).toEqual(['c']);
    } finally {
      await cache.close();
    }
  });

  it('fingerprint_changed removes track_metadata entries with that fingerprint (only of trackId when given)', async () => {
    const { cache } = await seeded();
    try {
      await cache.set('track_metadata', 'other', 'x', { trackId: 't9', fingerprint: 'fp1' });
      let report = await cache.emit({ eventType: 'fingerprint_changed', fingerprint: 'fp1', trackId: 't9' });
      expect(report.invalidated.track_metadata).toBe(1);
      expect(await cache.keys('track_metadata')).toEqual(['none', 't1', 't2']);
      report = await cache.emit({ eventType: 'fingerprint_changed', fingerprint: 'fp1' });
      expect(report.invalidated.track_metadata).toBe(1);
      expect(await cache.keys('track_metadata')).toEqual(['none', 't2']);
      // album_year is hybrid but the seed gives it only library_sync
      expect(await cache.keys('album_year')).toEqual(['none', 't1', 't2']);
    } finally {
      await cache.close();
    }
  });

  it('library_sync removes every album_year entry and nothing else', async () => {
    const { cache } = await seeded();
    try {
      const report = await cache.emit({ eventType: 'library_sync' });
      expect(report.invalidated.album_year).toBe(3);
      const keys = await live(cache);
      expect(keys.album_year).toEqual([]);
      expect(keys.track_metadata).toEqual(['none', 't1', 't2']);
    } finally {
      await cache.close();
    }
  });

  it('manual_invalidation with a trackId removes that track’s entries of the event types; without one, every entry of them', async () => {
    const { cache } = await seeded();
    try {
      let report = await cache.emit({ eventType: 'manual_invalidation', trackId: 't1' });
      expect(report.invalidated).toMatchObject({ track_metadata: 1, successful_api_metadata: 1, album_year: 1 });
      report = await cache.emit({ eventType: 'manual_invalidation' });
      expect(report.invalidated).toMatchObject({ track_metadata: 2, successful_api_metadata: 2, album_year: 2 });
      expect(await live(cache)).toEqual({
        track_metadata: [],
        successful_api_metadata: [],
        failed_api_lookup: ['none', 't1', 't2'],
        album_year: [],
        negative_result: ['none', 't1', 't2'],
        generic: ['none', 't1', 't2'],
      });
    } finally {
      await cache.close();
    }
  });

  it('emit validates the event (invalid_event) and invalidates nothing', async () => {
    const { cache } = await seeded();
    try {
      expect(isCacheError(await rejected(cache.emit({ eventType: 'track_removed' } as CacheEventInput)), 'invalid_event')).toBe(true);
      expect(isCacheError(await rejected(cache.emit({ eventType: 'fingerprint_changed', trackId: 't1' } as CacheEventInput)), 'invalid_event')).toBe(true);
      for (const keys of Object.values(await live(cache))) expect(keys).toEqual(['none', 't1', 't2']);
    } finally {
      await cache.close();
    }
  });

  it('on handlers run after invalidation, in order; a throwing one does not stop the others', async () => {
    const { cache, logger } = await seeded();
    try {
      const calls: unknown[] = [];
      const present: boolean[] = [];
      cache.on('track_removed', (event, context) => {
        calls.push(['first', event.trackId, context.source, context.invalidated.track_metadata]);
        void cache.has('track_metadata', 't1').then((has) => present.push(has));
      });
      cache.on('*', () => {
        throw new Error('bad listener');
      });
      cache.on('*', (event) => void calls.push(['star', event.eventType]));
      await cache.emit({ eventType: 'track_removed', trackId: 't1' });
      await vi.waitFor(() => expect(calls).toHaveLength(2));
      expect(calls).toEqual([
        ['first', 't1', 'local', 1],
        ['star', 'track_removed'],
      ]);
      await vi.waitFor(() => expect(present).toEqual([false]));
      await vi.waitFor(() => expect(logger.error).toHaveBeenCalled());
    } finally {
      await cache.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Second batch: custom types in the config, budgets in stats, TTLs through every write path
// ---------------------------------------------------------------------------------------------
describe('config with custom types', () => {
  it('names every bad path, in policies and customTypes alike', () => {
    const error = thrown(
      () =>
        new SmartCacheConfig({
          caching: {
            policies: { generic: { ttlSeconds: -1 } },
            customTypes: {
              Lyrics: { persistent: true, ttlSeconds: 5, invalidationStrategy: 'event_driven', maxSizeMb: 1 },
              generic: { persistent: false, ttlSeconds: 5, invalidationStrategy: 'time_based', maxSizeMb: 1 },
              artwork: { persistent: 'yes', ttlSeconds: 0, invalidationStrategy: 'hybrid', maxSizeMb: 1, invalidatedBy: ['track_deleted'] },
            },
          },
        } as never),
    );
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    const paths = (error.issues ?? []).map((issue) => issue.path);
    expect(paths).toContain('caching.policies.generic.ttlSeconds');
    expect(paths.some((path) => path.startsWith('caching.customTypes') && /Lyrics/.test(path + (error.issues ?? []).map((i) => i.message).join()))).toBe(true);
    expect(paths).toContain('caching.customTypes.artwork.persistent');
    expect(paths).toContain('caching.customTypes.artwork.ttlSeconds');
    expect(paths.some((path) => path.startsWith('caching.customTypes.artwork.invalidatedBy'))).toBe(true);
    expect(error.message).toMatch(/generic/);
  });

  it('custom types follow the built-ins in getAllPolicies, and updatePolicy works on them', () => {
    const config = new SmartCacheConfig({
      caching: { customTypes: { lyrics: { persistent: false, ttlSeconds: Infinity, invalidationStrategy: 'time_based', maxSizeMb: null } } },
    });
    expect(Object.keys(config.getAllPolicies())).toEqual([...CONTENT_TYPES, 'lyrics']);
    expect(config.getTtl('lyrics')).toBe(INFINITE_TTL);
    expect(config.getCleanupThreshold('lyrics')).toBe(0.8);
    config.updatePolicy('lyrics', { ttlSeconds: 60, cleanupThreshold: 0.5 });
    expect(config.getPolicy('lyrics')).toMatchObject({ ttlSeconds: 60, cleanupThreshold: 0.5, maxSizeMb: null });
    expect(config.isPersistent('lyrics')).toBe(false);
    expect(isCacheError(thrown(() => SmartCacheConfig.isPersistentCache('lyrics')), 'unknown_content_type')).toBe(true);
  });
});

describe('cache budgets and TTL paths', () => {
  it('stats: maxBytes is maxSizeMb × 2²⁰, null without a budget; storage by persistence', async () => {
    const { cache } = await open({ caching: { policies: { generic: { maxSizeMb: null }, album_year: { maxSizeMb: 0.5 } } } });
    try {
      const stats = await cache.stats();
      expect(stats.types.track_metadata).toMatchObject({ maxBytes: 100 * 2 ** 20, storage: 'indexeddb' });
      expect(stats.types.album_year).toMatchObject({ maxBytes: 0.5 * 2 ** 20, storage: 'indexeddb' });
      expect(stats.types.generic).toMatchObject({ maxBytes: null, storage: 'memory' });
      expect(stats.types.failed_api_lookup.storage).toBe('memory');
      expect(stats.types.negative_result.storage).toBe('memory');
      expect(stats.types.successful_api_metadata.storage).toBe('indexeddb');
    } finally {
      await cache.close();
    }
  });

  it('a persistent type stored with ttlSeconds INFINITE_TTL survives the sweep; one below it does not', async () => {
    const { cache, clock } = await open();
    try {
      await cache.set('album_year', 'eternal', 1, { ttlSeconds: INFINITE_TTL });
      await cache.set('album_year', 'mortal', 2, { ttlSeconds: INFINITE_TTL - 1 });
      await cache.set('album_year', 'policy', 3);
      clock.advance(INFINITE_TTL * 1000 + 1);
      expect(await cache.cleanup()).toMatchObject({ expired: 2 });
      expect(await cache.keys('album_year')).toEqual(['eternal']);
    } finally {
      await cache.close();
    }
  });

  it('setMany and getOrSet take ttlSeconds like set', async () => {
    const { cache, clock } = await open();
    try {
      await cache.setMany('generic', [
        { key: 'a', value: 1, ttlSeconds: 1 },
        { key: 'b', value: 2, ttlSeconds: INFINITE_TTL },
        { key: 'c', value: 3 },
      ]);
      expect(await cache.getOrSet('generic', 'd', () => 4, { ttlSeconds: 2 })).toBe(4);
      clock.advance(1000);
      expect(await cache.keys('generic')).toEqual(['b', 'c', 'd']);
      clock.advance(1000);
      expect(await cache.keys('generic')).toEqual(['b', 'c']);
      clock.advance(300 * 1000);
      expect(await cache.keys('generic')).toEqual(['b']);
      // At 0 or below, written already expired (the tool's ttl=0 and ttl=-1): no read returns it, the sweep counts it.
      await cache.setMany('generic', [
        { key: 'e', value: 5, ttlSeconds: 0 },
        { key: 'f', value: 6, ttlSeconds: -1 },
      ]);
      expect(await cache.getOrSet('generic', 'g', () => 7, { ttlSeconds: 0 })).toBe(7);
      expect(await cache.getMany('generic', ['e', 'f', 'g'])).toEqual([undefined, undefined, undefined]);
      const error = await rejected(cache.setMany('generic', [{ key: 'e', value: 5, ttlSeconds: Number.NaN }]));
      expect(isCacheError(error, 'invalid_argument')).toBe(true);
    } finally {
      await cache.close();
    }
  });

  it('a policy TTL raised to INFINITE_TTL by updatePolicy makes later entries eternal', async () => {
    const config = new SmartCacheConfig();
    const { cache, clock } = await open(config);
    try {
      config.updatePolicy('failed_api_lookup', { ttlSeconds: INFINITE_TTL });
      await cache.set('failed_api_lookup', 'k', 'v');
      clock.advance(INFINITE_TTL * 2000);
      expect(await cache.get('failed_api_lookup', 'k')).toBe('v');
    } finally {
      await cache.close();
    }
  });

  it('getMany applies fingerprints per key on a fingerprint type', async () => {
    const { cache } = await open();
    try {
      await cache.set('album_year', 'a', 1, { fingerprint: 'f' });
      await cache.set('album_year', 'b', 2, { fingerprint: 'f' });
      expect(await cache.getMany('album_year', ['a', 'b', 'c'], { fingerprints: ['f', 'g', undefined] })).toEqual([1, undefined, undefined]);
      expect(await cache.has('album_year', 'b')).toBe(false);
    } finally {
      await cache.close();
    }
  });
});
