import { describe, expect, it } from 'vitest';
import {
  CONTENT_TYPES,
  DAY,
  DEFAULT_NEGATIVE_RESULT_TTL,
  HOUR,
  INFINITE_TTL,
  INVALIDATION_STRATEGIES,
  MINUTE,
  MONTH,
  SmartCacheConfig,
  WEEK,
  isCacheError,
  type CacheConfig,
  type ContentType,
  type InvalidationStrategy,
} from '../src/index';

function configError(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isCacheError(error)) return error;
    throw error;
  }
  throw new Error('expected a CacheError');
}

describe('time constants', () => {
  it('are seconds', () => {
    expect([MINUTE, HOUR, DAY, WEEK, MONTH]).toEqual([60, 3600, 86_400, 604_800, 2_592_000]);
    expect(INFINITE_TTL).toBe(3650 * 86_400);
    expect(DEFAULT_NEGATIVE_RESULT_TTL).toBe(MONTH);
  });
});

describe('the default policy table', () => {
  const table: [ContentType, number, InvalidationStrategy, number, boolean][] = [
    ['track_metadata', INFINITE_TTL, 'event_driven', 100, true],
    ['successful_api_metadata', INFINITE_TTL, 'event_driven', 30, true],
    ['failed_api_lookup', HOUR, 'time_based', 5, false],
    ['album_year', MONTH, 'hybrid', 20, true],
    ['negative_result', MONTH, 'time_based', 10, false],
    ['generic', 5 * MINUTE, 'time_based', 30, false],
  ];
  const config = new SmartCacheConfig();

  it.each(table)('%s: ttl %i, %s, %i MB, persistent %s', (type, ttl, strategy, mb, persistent) => {
    expect(config.getPolicy(type)).toEqual({
      contentType: type,
      ttlSeconds: ttl,
      invalidationStrategy: strategy,
      maxSizeMb: mb,
      cleanupThreshold: 0.8,
      staleWhileRevalidateSeconds: 0,
      description: expect.stringMatching(/\w/),
    });
    expect(config.getTtl(type)).toBe(ttl);
    expect(config.getCleanupThreshold(type)).toBe(0.8);
    expect(SmartCacheConfig.isPersistentCache(type)).toBe(persistent);
  });

  it('covers exactly the six content types', () => {
    expect(CONTENT_TYPES).toEqual(table.map(([type]) => type));
    expect(Object.keys(config.getAllPolicies()).sort()).toEqual([...CONTENT_TYPES].sort());
  });

  it('has a cleanup interval of 300 seconds by default', () => {
    expect(config.cleanupIntervalSeconds).toBe(300);
  });
});

describe('should* methods', () => {
  // For every strategy, put it on every type and check both answers.
  const expected: Record<InvalidationStrategy, [fingerprint: boolean, events: boolean]> = {
    time_based: [false, false],
    event_driven: [false, true],
    fingerprint_based: [true, false],
    hybrid: [true, true],
  };
  for (const strategy of INVALIDATION_STRATEGIES) {
    it.each(CONTENT_TYPES)(`${strategy} on %s`, (type) => {
      const config = new SmartCacheConfig({ caching: { policies: { [type]: { invalidationStrategy: strategy } } } });
      expect(config.shouldUseFingerprintValidation(type)).toBe(expected[strategy][0]);
      expect(config.shouldUseEventInvalidation(type)).toBe(expected[strategy][1]);
    });
  }

  it.each([
    ['track_metadata', false, true],
    ['successful_api_metadata', false, true],
    ['failed_api_lookup', false, false],
    ['album_year', true, true],
    ['negative_result', false, false],
    ['generic', false, false],
  ] as const)('defaults for %s: fingerprint %s, events %s', (type, fingerprint, events) => {
    const config = new SmartCacheConfig();
    expect(config.shouldUseFingerprintValidation(type)).toBe(fingerprint);
    expect(config.shouldUseEventInvalidation(type)).toBe(events);
  });
});

describe('configuration', () => {
  it('takes negativeResultTtl for negative results only', () => {
    const config = new SmartCacheConfig({ caching: { negativeResultTtl: 2 * DAY } });
    expect(config.getTtl('negative_result')).toBe(2 * DAY);
    expect(config.getTtl('failed_api_lookup')).toBe(HOUR);
    expect(config.negativeResultTtl).toBe(2 * DAY);
  });

  it('lets a per-type ttlSeconds win over negativeResultTtl', () => {
    const config = new SmartCacheConfig({
      caching: { negativeResultTtl: 2 * DAY, policies: { negative_result: { ttlSeconds: 90 } } },
    });
    expect(config.getTtl('negative_result')).toBe(90);
  });

  it('overrides only the given fields', () => {
    const config = new SmartCacheConfig({
      caching: { cleanupIntervalSeconds: 60, policies: { generic: { maxSizeMb: null, cleanupThreshold: 1 } } },
    });
    expect(config.getPolicy('generic')).toMatchObject({ ttlSeconds: 300, maxSizeMb: null, cleanupThreshold: 1 });
    expect(config.cleanupIntervalSeconds).toBe(60);
  });

  it('rejects an invalid config naming every bad path', () => {
    const error = configError(
      () =>
        new SmartCacheConfig({
          caching: {
            negativeResultTtl: -1,
            cleanupIntervalSeconds: 'often',
            policies: {
              generic: { ttlSeconds: 0, cleanupThreshold: 1.5, invalidationStrategy: 'sometimes', colour: 'red' },
              album_year: { cleanupThreshold: 0, maxSizeMb: -3 },
              podcasts: {},
            },
          },
          extra: true,
        } as unknown as CacheConfig),
    );
    expect(error.code).toBe('invalid_config');
    const paths = error.issues.map((issue) => issue.path).sort();
    expect(paths).toEqual(
      [
        'caching.negativeResultTtl',
        'caching.cleanupIntervalSeconds',
        'caching.policies.generic.ttlSeconds',
        'caching.policies.generic.cleanupThreshold',
        'caching.policies.generic.invalidationStrategy',
        'caching.policies.generic.colour',
        'caching.policies.album_year.cleanupThreshold',
        'caching.policies.album_year.maxSizeMb',
        'caching.policies.podcasts',
        'extra',
      ].sort(),
    );
    for (const path of paths) expect(error.message).toContain(path);
  });

  it('accepts a cleanupThreshold of exactly 1 and rejects 0', () => {
    expect(new SmartCacheConfig({ caching: { policies: { generic: { cleanupThreshold: 1 } } } }).getCleanupThreshold('generic')).toBe(1);
    expect(configError(() => new SmartCacheConfig({ caching: { policies: { generic: { cleanupThreshold: 0 } } } })).code).toBe(
      'invalid_config',
    );
  });

  it('rejects an unknown content type in every method with unknown_content_type', () => {
    const config = new SmartCacheConfig();
    const bad = 'podcast' as ContentType;
    for (const run of [
      () => config.getPolicy(bad),
      () => config.getTtl(bad),
      () => config.getCleanupThreshold(bad),
      () => config.shouldUseEventInvalidation(bad),
      () => config.shouldUseFingerprintValidation(bad),
      () => config.updatePolicy(bad, {}),
      () => SmartCacheConfig.isPersistentCache(bad),
    ]) {
      const error = configError(run);
      expect(error.code).toBe('unknown_content_type');
      expect(error.message).toContain('"podcast"');
    }
  });
});

describe('updatePolicy', () => {
  it('changes the given fields and returns the new policy', () => {
    const config = new SmartCacheConfig();
    const policy = config.updatePolicy('generic', { ttlSeconds: 30, description: 'short' });
    expect(policy).toMatchObject({ contentType: 'generic', ttlSeconds: 30, description: 'short', maxSizeMb: 30 });
    expect(config.getTtl('generic')).toBe(30);
  });

  it('rejects an unknown field and leaves the policy as it was', () => {
    const config = new SmartCacheConfig();
    const before = config.getPolicy('generic');
    const error = configError(() => config.updatePolicy('generic', { ttlSeconds: 10, ttl: 5 } as never));
    expect(error.code).toBe('invalid_config');
    expect(error.issues).toEqual([{ path: 'ttl', message: 'unknown field' }]);
    expect(config.getPolicy('generic')).toEqual(before);
  });

  it('validates values like the config does', () => {
    const config = new SmartCacheConfig();
    const error = configError(() => config.updatePolicy('album_year', { cleanupThreshold: 2, ttlSeconds: -5 }));
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['cleanupThreshold', 'ttlSeconds']);
    expect(config.getPolicy('album_year').cleanupThreshold).toBe(0.8);
  });

  it('cannot change the content type a policy belongs to', () => {
    const config = new SmartCacheConfig();
    expect(configError(() => config.updatePolicy('generic', { contentType: 'album_year' } as never)).code).toBe('invalid_config');
  });
});

describe('copies', () => {
  it('getAllPolicies is a deep copy', () => {
    const config = new SmartCacheConfig();
    const all = config.getAllPolicies();
    all.generic.ttlSeconds = 1;
    all.track_metadata.maxSizeMb = 1;
    delete (all as Partial<typeof all>).album_year;
    expect(config.getTtl('generic')).toBe(300);
    expect(config.getPolicy('track_metadata').maxSizeMb).toBe(100);
    expect(config.getPolicy('album_year').ttlSeconds).toBe(MONTH);
  });

  it('getPolicy is a copy', () => {
    const config = new SmartCacheConfig();
    config.getPolicy('generic').ttlSeconds = 1;
    expect(config.getTtl('generic')).toBe(300);
  });

  it('toJSON rebuilds an equal config', () => {
    const config = new SmartCacheConfig({ caching: { negativeResultTtl: 99, policies: { generic: { maxSizeMb: null } } } });
    config.updatePolicy('album_year', { ttlSeconds: WEEK });
    const copy = new SmartCacheConfig(JSON.parse(JSON.stringify(config)) as CacheConfig);
    expect(copy.getAllPolicies()).toEqual(config.getAllPolicies());
    expect(copy.negativeResultTtl).toBe(99);
  });
});

describe('formatTtl', () => {
  const config = new SmartCacheConfig();
  it.each([
    [-1, 'expired'],
    [-0.001, 'expired'],
    [0, '0s'],
    [1, '1s'],
    [59, '59s'],
    [59.9, '59s'],
    [60, '1m'],
    [61, '1m'],
    [3599, '59m'],
    [3600, '1h'],
    [86_399, '23h'],
    [86_400, '1d'],
    [2 * DAY + 5 * HOUR, '2d'],
    [INFINITE_TTL - 1, '3649d'],
    [INFINITE_TTL, '∞ (infinite)'],
    [INFINITE_TTL + 1, '∞ (infinite)'],
  ])('%d → %s', (seconds, text) => {
    expect(config.formatTtl(seconds)).toBe(text);
  });
});
