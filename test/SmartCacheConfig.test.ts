import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_TYPES,
  CacheError,
  DAY,
  DEFAULT_CLEANUP_INTERVAL_SECONDS,
  DEFAULT_CLEANUP_THRESHOLD,
  DEFAULT_NEGATIVE_RESULT_TTL,
  HOUR,
  INFINITE_TTL,
  INVALIDATION_STRATEGIES,
  MINUTE,
  MONTH,
  SmartCacheConfig,
  WEEK,
  createCache,
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
    expect(config.toJSON().caching?.cleanupIntervalSeconds).toBe(300);
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
    expect(config.toJSON().caching?.negativeResultTtl).toBe(2 * DAY);
  });

  it('lets a per-type ttlSeconds win over negativeResultTtl', () => {
    const config = new SmartCacheConfig({
      caching: { negativeResultTtl: 2 * DAY, policies: { negative_result: { ttlSeconds: 90 } } },
    });
    expect(config.getTtl('negative_result')).toBe(90);
  });

  it('takes Infinity as a TTL (never expires) and keeps it as INFINITE_TTL, a number JSON keeps', () => {
    const config = new SmartCacheConfig({
      caching: {
        negativeResultTtl: Infinity,
        policies: { generic: { ttlSeconds: Infinity } },
        customTypes: { art: { persistent: false, ttlSeconds: Infinity, invalidationStrategy: 'time_based', maxSizeMb: 1 } },
      },
    });
    expect([config.getTtl('generic'), config.getTtl('negative_result'), config.getTtl('art')]).toEqual([INFINITE_TTL, INFINITE_TTL, INFINITE_TTL]);
    expect(config.formatTtl(config.getTtl('generic'))).toBe('∞ (infinite)');
    expect(config.updatePolicy('album_year', { ttlSeconds: Infinity }).ttlSeconds).toBe(INFINITE_TTL);
    expect(new SmartCacheConfig(JSON.parse(JSON.stringify(config))).getTtl('album_year')).toBe(INFINITE_TTL);
    expect(configError(() => new SmartCacheConfig({ caching: { policies: { generic: { ttlSeconds: -Infinity } } } })).issues).toEqual([
      { path: 'caching.policies.generic.ttlSeconds', message: 'expected a number of seconds above 0, or Infinity' },
    ]);
  });

  it('overrides only the given fields', () => {
    const config = new SmartCacheConfig({
      caching: { cleanupIntervalSeconds: 60, policies: { generic: { maxSizeMb: null, cleanupThreshold: 1 } } },
    });
    expect(config.getPolicy('generic')).toMatchObject({ ttlSeconds: 300, maxSizeMb: null, cleanupThreshold: 1 });
    expect(config.toJSON().caching?.cleanupIntervalSeconds).toBe(60);
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

  it('a type of the app’s own put under policies is refused with where custom types go', () => {
    const error = configError(() => new SmartCacheConfig({ caching: { policies: { artwork: { ttlSeconds: DAY } } } } as unknown as CacheConfig));
    expect(error.code).toBe('invalid_config');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe('caching.policies.artwork');
    expect(error.issues[0]?.message).toContain('caching.customTypes');
    expect(error.message).toContain('caching.customTypes');
  });

  it('a built-in type’s name misspelt under policies is refused naming the built-in types, the right spelling among them', () => {
    for (const typo of ['track_metdata', 'Track_Metadata', 'albumYear']) {
      const error = configError(() => new SmartCacheConfig({ caching: { policies: { [typo]: { ttlSeconds: DAY } } } } as unknown as CacheConfig));
      expect(error.issues).toEqual([{ path: `caching.policies.${typo}`, message: expect.stringContaining('not a built-in type') }]);
      for (const type of ['track_metadata', 'successful_api_metadata', 'failed_api_lookup', 'album_year', 'negative_result', 'generic']) expect(error.issues[0]?.message).toContain(type);
    }
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

  it('shows apps the methods of SPEC §2 and toJSON, nothing of the table the engine reads', () => {
    expect(Object.getOwnPropertyNames(SmartCacheConfig.prototype).sort()).toEqual([
      'DAY',
      'DEFAULT_NEGATIVE_RESULT_TTL',
      'HOUR',
      'INFINITE_TTL',
      'MINUTE',
      'MONTH',
      'WEEK',
      'constructor',
      'formatTtl',
      'getAllPolicies',
      'getCleanupThreshold',
      'getPolicy',
      'getTtl',
      'isPersistent',
      'isPersistentCache',
      'shouldUseEventInvalidation',
      'shouldUseFingerprintValidation',
      'toJSON',
      'updatePolicy',
    ]);
    expect(Object.keys(new SmartCacheConfig())).toEqual([]);
    expect(typeof SmartCacheConfig.isPersistentCache).toBe('function');
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
    expect(copy.toJSON().caching?.negativeResultTtl).toBe(99);
  });

  it('a SmartCacheConfig given to new SmartCacheConfig is copied, as createCache reads one (through its toJSON), not taken for an empty config', () => {
    const config = new SmartCacheConfig({ caching: { policies: { generic: { ttlSeconds: 7 } }, customTypes: { art: { persistent: true, ttlSeconds: DAY, invalidationStrategy: 'hybrid', maxSizeMb: 5 } } } });
    config.updatePolicy('album_year', { invalidationStrategy: 'time_based' });
    // Plain JavaScript, or a helper that takes either: TypeScript refuses the instance where a config literal goes.
    const copy = new SmartCacheConfig(config as never);
    expect(copy.getAllPolicies()).toEqual(config.getAllPolicies());
    copy.updatePolicy('generic', { ttlSeconds: 8 });
    expect(config.getTtl('generic')).toBe(7);
    // Its toJSON looked for, a config whose every read throws is still invalid_config, with what it threw as the cause.
    const thrown = new Error('every read throws');
    const everyRead: ProxyHandler<object> = {
      get: () => {
        throw thrown;
      },
    };
    const error = configError(() => new SmartCacheConfig(new Proxy({}, everyRead) as never));
    expect(error.code).toBe('invalid_config');
    expect(error.cause).toBe(thrown);
  });

  it('a SmartCacheConfig behind a Proxy (kept in a Vue reactive() or MobX observable store), whose toJSON cannot reach its private table: invalid_config saying why, in new SmartCacheConfig and createCache alike, not a default config nor a raw TypeError', async () => {
    const config = new SmartCacheConfig({ caching: { policies: { generic: { ttlSeconds: 5 } } } });
    // What such a store hands back for it: its methods run with the Proxy as `this`, which has no #table.
    const observed = new Proxy(config, {});
    let copied: unknown;
    try {
      copied = new SmartCacheConfig(observed as never).getTtl('generic');
    } catch (error) {
      copied = (error as { code?: string }).code;
    }
    const opened = await createCache({ worker: false, indexedDB: new IDBFactory(), config: observed }).then(
      async (cache) => (await cache.close(), 'opened'),
      (error: { name: string; code?: string }) => error.code ?? error.name,
    );
    expect([copied, opened]).toEqual(['invalid_config', 'invalid_config']);
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

  it.each([NaN, '60', undefined])('%s is not a number of seconds: invalid_argument (not "NaNs")', (seconds) => {
    expect(() => config.formatTtl(seconds as number)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it.each([
    [{ ttl: 60 }, '{"ttl":60}'],
    [Object.create(null), '{}'],
  ])('%s is named safely in the invalid_argument (not "[object Object]", and no TypeError from String())', (seconds, shown) => {
    expect(() => config.formatTtl(seconds as number)).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: `formatTtl: expected a number of seconds, got ${shown}` }),
    );
  });
});

// What a port of the original tool's own tests would check on top of the above.
describe('as the seed’s tests call it', () => {
  function policyOf(type: ContentType) {
    return new SmartCacheConfig().getPolicy(type);
  }

  it('builds with no config, undefined, null, {} or { caching: {} } alike', () => {
    const defaults = new SmartCacheConfig().getAllPolicies();
    for (const config of [undefined, null, {}, { caching: {} }, { caching: { policies: {} } }]) {
      expect(new SmartCacheConfig(config as CacheConfig).getAllPolicies()).toEqual(defaults);
    }
  });

  it('gives a policy with exactly the spec’s fields, a non-empty description, for every type', () => {
    for (const type of CONTENT_TYPES) {
      const policy = policyOf(type);
      expect(Object.keys(policy).sort()).toEqual(
        ['contentType', 'ttlSeconds', 'invalidationStrategy', 'maxSizeMb', 'cleanupThreshold', 'staleWhileRevalidateSeconds', 'description'].sort(),
      );
      expect(policy.contentType).toBe(type);
      expect(typeof policy.description).toBe('string');
      expect(policy.description.length).toBeGreaterThan(0);
    }
  });

  it('getAllPolicies is keyed by content type in the spec’s order, each value equal to getPolicy', () => {
    const config = new SmartCacheConfig({ caching: { negativeResultTtl: HOUR, policies: { generic: { maxSizeMb: null } } } });
    const all = config.getAllPolicies();
    expect(Object.keys(all)).toEqual([...CONTENT_TYPES]);
    for (const type of CONTENT_TYPES) expect(all[type]).toEqual(config.getPolicy(type));
    expect(all.negative_result.ttlSeconds).toBe(HOUR);
    expect(all.generic.maxSizeMb).toBeNull();
  });

  it('getAllPolicies returns a new copy each call, custom types’ invalidatedBy included', () => {
    const config = new SmartCacheConfig({
      caching: {
        customTypes: { artwork: { persistent: true, ttlSeconds: HOUR, invalidationStrategy: 'event_driven', maxSizeMb: 1, invalidatedBy: ['track_removed'] } },
      },
    });
    const first = config.getAllPolicies();
    first.artwork.invalidatedBy?.push('library_sync');
    first.artwork.ttlSeconds = 1;
    first.generic.invalidationStrategy = 'hybrid';
    const second = config.getAllPolicies();
    expect(second).not.toBe(first);
    expect(second.artwork.invalidatedBy).toEqual(['track_removed']);
    expect(second.artwork.ttlSeconds).toBe(HOUR);
    expect(config.shouldUseEventInvalidation('generic')).toBe(false);
  });

  it('the policy updatePolicy returns is a copy too', () => {
    const config = new SmartCacheConfig();
    const policy = config.updatePolicy('album_year', { ttlSeconds: WEEK });
    policy.ttlSeconds = 1;
    policy.invalidationStrategy = 'time_based';
    expect(config.getTtl('album_year')).toBe(WEEK);
    expect(config.shouldUseEventInvalidation('album_year')).toBe(true);
  });

  it('two configs share nothing: updating one leaves the other and new ones at the defaults', () => {
    const a = new SmartCacheConfig();
    const b = new SmartCacheConfig();
    a.updatePolicy('generic', { ttlSeconds: 1, maxSizeMb: null, cleanupThreshold: 0.5 });
    expect(b.getPolicy('generic')).toMatchObject({ ttlSeconds: 300, maxSizeMb: 30, cleanupThreshold: 0.8 });
    expect(new SmartCacheConfig().getPolicy('generic')).toMatchObject({ ttlSeconds: 300, maxSizeMb: 30, cleanupThreshold: 0.8 });
  });

  it('updatePolicy with an empty patch changes nothing and returns the policy', () => {
    const config = new SmartCacheConfig();
    const before = config.getPolicy('track_metadata');
    expect(config.updatePolicy('track_metadata', {})).toEqual(before);
    expect(config.getPolicy('track_metadata')).toEqual(before);
  });

  it('updatePolicy changes every field it is given, each visible through the getters', () => {
    const config = new SmartCacheConfig();
    config.updatePolicy('failed_api_lookup', {
      ttlSeconds: 2 * HOUR,
      invalidationStrategy: 'fingerprint_based',
      maxSizeMb: null,
      cleanupThreshold: 0.5,
      description: 'retry later',
    });
    expect(config.getPolicy('failed_api_lookup')).toEqual({
      contentType: 'failed_api_lookup',
      ttlSeconds: 2 * HOUR,
      invalidationStrategy: 'fingerprint_based',
      maxSizeMb: null,
      cleanupThreshold: 0.5,
      staleWhileRevalidateSeconds: 0,
      description: 'retry later',
    });
    expect(config.getTtl('failed_api_lookup')).toBe(2 * HOUR);
    expect(config.getCleanupThreshold('failed_api_lookup')).toBe(0.5);
    expect(config.shouldUseFingerprintValidation('failed_api_lookup')).toBe(true);
    expect(config.shouldUseEventInvalidation('failed_api_lookup')).toBe(false);
    expect(config.formatTtl(config.getTtl('failed_api_lookup'))).toBe('2h');
  });

  it('updatePolicy names every unknown field and changes nothing, even the valid fields of the patch', () => {
    const config = new SmartCacheConfig();
    const error = configError(() => config.updatePolicy('generic', { ttlSeconds: 10, ttl: 5, max_size_mb: 3 } as never));
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('invalid_config');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['max_size_mb', 'ttl']);
    expect(error.message).toContain('ttl');
    expect(error.message).toContain('max_size_mb');
    expect(config.getTtl('generic')).toBe(300);
  });

  it.each<[string, string, object, string]>([
    ['a custom type', 'artwork', { persistent: false }, 'persistent'],
    ['a custom type', 'artwork', { invalidatedBy: ['track_added'] }, 'invalidatedBy'],
    ['a custom type', 'artwork', { contentType: 'lyrics' }, 'contentType'],
    ['a built-in type', 'track_metadata', { persistent: false }, 'persistent'],
    ['a built-in type', 'album_year', { invalidatedBy: ['track_modified'] }, 'invalidatedBy'],
  ])('updatePolicy of %s (%s) says a field fixed when the config is made cannot be changed with it, not that it is unknown: %j', (_what, type, patch, field) => {
    const config = new SmartCacheConfig({
      caching: { customTypes: { artwork: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'event_driven', maxSizeMb: 1, invalidatedBy: ['track_modified'] } } },
    });
    const before = config.getPolicy(type);
    const error = configError(() => config.updatePolicy(type, { ttlSeconds: 30, ttl: 5, ...patch } as never));
    expect(error.code).toBe('invalid_config');
    expect(error.issues).toEqual([
      { path: 'ttl', message: 'unknown field' },
      { path: field, message: expect.stringContaining('cannot be changed with updatePolicy') },
    ]);
    expect(error.message).toContain(`${field}: cannot be changed with updatePolicy`);
    expect(config.getPolicy(type)).toEqual(before);
  });

  it.each<[string, unknown]>([
    ['ttlSeconds 0', { ttlSeconds: 0 }],
    ['a negative ttlSeconds', { ttlSeconds: -1 }],
    ['a string ttlSeconds', { ttlSeconds: '60' }],
    ['a NaN ttlSeconds', { ttlSeconds: Number.NaN }],
    ['an unknown strategy', { invalidationStrategy: 'lru' }],
    ['maxSizeMb 0', { maxSizeMb: 0 }],
    ['a negative maxSizeMb', { maxSizeMb: -1 }],
    ['cleanupThreshold 0', { cleanupThreshold: 0 }],
    ['a negative cleanupThreshold', { cleanupThreshold: -0.5 }],
    ['a cleanupThreshold above 1', { cleanupThreshold: 1.01 }],
    ['a NaN cleanupThreshold', { cleanupThreshold: Number.NaN }],
    ['a description that is not a string', { description: 42 }],
  ])('updatePolicy rejects %s with invalid_config naming the field', (_what, patch) => {
    const config = new SmartCacheConfig();
    const before = config.getPolicy('album_year');
    const error = configError(() => config.updatePolicy('album_year', patch as never));
    expect(error.code).toBe('invalid_config');
    const [field] = Object.keys(patch as object);
    expect(error.issues.map((issue) => issue.path)).toEqual([field]);
    expect(config.getPolicy('album_year')).toEqual(before);
  });

  it('updatePolicy rejects a patch that is not an object', () => {
    const config = new SmartCacheConfig();
    for (const patch of [null, 'ttl', 5, []]) {
      expect(configError(() => config.updatePolicy('generic', patch as never)).code).toBe('invalid_config');
    }
  });

  it.each([Number.MIN_VALUE, 0.0001, 0.5, 0.8, 1])('takes a cleanupThreshold of %d, in the config and in updatePolicy', (threshold) => {
    expect(new SmartCacheConfig({ caching: { policies: { album_year: { cleanupThreshold: threshold } } } }).getCleanupThreshold('album_year')).toBe(threshold);
    const config = new SmartCacheConfig();
    config.updatePolicy('album_year', { cleanupThreshold: threshold });
    expect(config.getCleanupThreshold('album_year')).toBe(threshold);
  });

  it.each([0, -0.1, 1.0000001, 2, Number.POSITIVE_INFINITY])('rejects a cleanupThreshold of %d in the config, naming its path', (threshold) => {
    const error = configError(() => new SmartCacheConfig({ caching: { policies: { track_metadata: { cleanupThreshold: threshold } } } }));
    expect(error.code).toBe('invalid_config');
    expect(error.issues.map((issue) => issue.path)).toEqual(['caching.policies.track_metadata.cleanupThreshold']);
  });

  it('takes maxSizeMb Infinity, a number, as no budget (kept as null, as JSON keeps it), in policies, customTypes and updatePolicy', () => {
    const config = new SmartCacheConfig({
      caching: {
        policies: { track_metadata: { maxSizeMb: Infinity } },
        customTypes: { art: { persistent: true, ttlSeconds: DAY, invalidationStrategy: 'hybrid', maxSizeMb: Number.POSITIVE_INFINITY } },
      },
    });
    expect(config.getPolicy('track_metadata').maxSizeMb).toBeNull();
    expect(config.getPolicy('art').maxSizeMb).toBeNull();
    expect(config.updatePolicy('generic', { maxSizeMb: Infinity }).maxSizeMb).toBeNull();
    expect(new SmartCacheConfig(JSON.parse(JSON.stringify(config.toJSON())) as CacheConfig).getAllPolicies()).toEqual(config.getAllPolicies());
    // Still above 0, and a number or null: what is refused says so.
    for (const maxSizeMb of [Number.NEGATIVE_INFINITY, 0, Number.NaN, '5']) {
      const error = configError(() => new SmartCacheConfig({ caching: { policies: { generic: { maxSizeMb: maxSizeMb as number } } } }));
      expect(error.issues).toEqual([{ path: 'caching.policies.generic.maxSizeMb', message: expect.stringMatching(/above 0.*null/) }]);
    }
  });

  it('takes maxSizeMb null (no budget) for any type, in the config and in updatePolicy', () => {
    const config = new SmartCacheConfig({ caching: { policies: { track_metadata: { maxSizeMb: null } } } });
    expect(config.getPolicy('track_metadata').maxSizeMb).toBeNull();
    config.updatePolicy('negative_result', { maxSizeMb: null });
    expect(config.getPolicy('negative_result').maxSizeMb).toBeNull();
    config.updatePolicy('negative_result', { maxSizeMb: 2.5 });
    expect(config.getPolicy('negative_result').maxSizeMb).toBe(2.5);
  });

  it('negativeResultTtl sets only the negative_result TTL, and a per-type ttlSeconds wins over it', () => {
    const onlyTtl = new SmartCacheConfig({ caching: { negativeResultTtl: 5 * MINUTE } });
    expect(onlyTtl.getPolicy('negative_result')).toMatchObject({ ttlSeconds: 5 * MINUTE, invalidationStrategy: 'time_based', maxSizeMb: 10 });
    for (const type of CONTENT_TYPES.filter((t) => t !== 'negative_result')) expect(onlyTtl.getTtl(type)).toBe(new SmartCacheConfig().getTtl(type));
    // Another field of negative_result set: the TTL still comes from negativeResultTtl.
    const otherField = new SmartCacheConfig({ caching: { negativeResultTtl: 5 * MINUTE, policies: { negative_result: { maxSizeMb: 1 } } } });
    expect(otherField.getTtl('negative_result')).toBe(5 * MINUTE);
    // Keys in the other order, and a per-type TTL longer than negativeResultTtl.
    const both = new SmartCacheConfig({ caching: { policies: { negative_result: { ttlSeconds: WEEK } }, negativeResultTtl: MINUTE } });
    expect(both.getTtl('negative_result')).toBe(WEEK);
    expect(both.toJSON().caching?.negativeResultTtl).toBe(MINUTE);
    // A per-type TTL without negativeResultTtl.
    expect(new SmartCacheConfig({ caching: { policies: { negative_result: { ttlSeconds: 42 } } } }).getTtl('negative_result')).toBe(42);
  });

  it('updatePolicy of negative_result’s TTL wins over negativeResultTtl too', () => {
    const config = new SmartCacheConfig({ caching: { negativeResultTtl: DAY } });
    config.updatePolicy('negative_result', { ttlSeconds: 7 });
    expect(config.getTtl('negative_result')).toBe(7);
  });

  it('cleanupIntervalSeconds takes Infinity (no periodic sweep), as a TTL does: kept as INFINITE_TTL, a number JSON keeps', () => {
    const config = new SmartCacheConfig({ caching: { cleanupIntervalSeconds: Infinity } });
    expect(config.toJSON().caching?.cleanupIntervalSeconds).toBe(INFINITE_TTL);
    expect(new SmartCacheConfig(JSON.parse(JSON.stringify(config.toJSON()))).toJSON().caching?.cleanupIntervalSeconds).toBe(INFINITE_TTL);
  });

  it('cleanupIntervalSeconds is above 0: a short one (a test that watches sweeps) is taken as given; 0, negatives and NaN are refused', () => {
    for (const bad of [0, -1, Number.NaN]) {
      const error = configError(() => new SmartCacheConfig({ caching: { cleanupIntervalSeconds: bad } }));
      expect(error.issues).toEqual([{ path: 'caching.cleanupIntervalSeconds', message: expect.stringContaining('above 0') }]);
    }
    for (const short of [0.05, 0.5, 1]) expect(new SmartCacheConfig({ caching: { cleanupIntervalSeconds: short } }).toJSON().caching?.cleanupIntervalSeconds).toBe(short);
  });

  it('defaults negativeResultTtl to DEFAULT_NEGATIVE_RESULT_TTL and cleanupIntervalSeconds to 300', () => {
    const config = new SmartCacheConfig();
    expect(config.toJSON().caching?.negativeResultTtl).toBe(DEFAULT_NEGATIVE_RESULT_TTL);
    expect(config.getTtl('negative_result')).toBe(DEFAULT_NEGATIVE_RESULT_TTL);
    expect(config.toJSON().caching?.cleanupIntervalSeconds).toBe(DEFAULT_CLEANUP_INTERVAL_SECONDS);
    expect(DEFAULT_CLEANUP_INTERVAL_SECONDS).toBe(300);
    expect(DEFAULT_CLEANUP_THRESHOLD).toBe(0.8);
  });

  it('an invalid config is a CacheError (an Error) with code invalid_config that names each bad path in its message', () => {
    const error = configError(
      () =>
        new SmartCacheConfig({
          caching: {
            negativeResultTtl: 0,
            policies: { track_metadata: { maxSizeMb: 0 }, failed_api_lookup: { description: 3 } },
            customTypes: { Lyrics: { persistent: true, ttlSeconds: 1, invalidationStrategy: 'time_based', maxSizeMb: 1 } },
          },
        } as unknown as CacheConfig),
    );
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('invalid_config');
    const paths = [
      'caching.negativeResultTtl',
      'caching.policies.track_metadata.maxSizeMb',
      'caching.policies.failed_api_lookup.description',
      'caching.customTypes.Lyrics',
    ];
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([...paths].sort());
    for (const path of paths) expect(error.message).toContain(path);
  });

  it('rejects a config that is not an object', () => {
    for (const config of ['config', 42, [], true, { caching: null }, { caching: { policies: [] } }]) {
      expect(configError(() => new SmartCacheConfig(config as never)).code).toBe('invalid_config');
    }
  });

  it('a config that throws as it is read is invalid_config, with what it threw as the cause', () => {
    const thrown = new Error('getter bug');
    const read = {
      get caching(): never {
        throw thrown;
      },
    };
    const error = configError(() => new SmartCacheConfig(read as never));
    expect(error.code).toBe('invalid_config');
    expect(error.cause).toBe(thrown);
  });

  it('has the time constants (and the default negative-result TTL) on the class and on a config, as the seed’s tests and code read them (self.config.INFINITE_TTL, self.DEFAULT_NEGATIVE_RESULT_TTL)', () => {
    const config = new SmartCacheConfig() as SmartCacheConfig & Record<string, unknown>;
    const constants = { MINUTE, HOUR, DAY, WEEK, MONTH, INFINITE_TTL, DEFAULT_NEGATIVE_RESULT_TTL };
    for (const [name, seconds] of Object.entries(constants)) {
      expect((SmartCacheConfig as unknown as Record<string, unknown>)[name]).toBe(seconds);
      expect(config[name]).toBe(seconds);
    }
    // test_track_metadata_policy, as written: policy.ttl_seconds == self.config.INFINITE_TTL
    expect(config.getPolicy('track_metadata').ttlSeconds).toBe(config.INFINITE_TTL);
    expect(config.formatTtl(config.INFINITE_TTL as number)).toContain('∞');
    // Read-only, and nothing a config's own keys or toJSON show.
    expect(() => ((config as Record<string, unknown>).INFINITE_TTL = 1)).toThrow(TypeError);
    expect(Object.keys(config)).toEqual([]);
    expect(JSON.stringify(config.toJSON())).not.toContain('INFINITE_TTL');
  });

  it('isPersistentCache is static and answers each built-in type', () => {
    expect(CONTENT_TYPES.filter((type) => SmartCacheConfig.isPersistentCache(type))).toEqual(['track_metadata', 'successful_api_metadata', 'album_year']);
    // It is the type’s nature, not its policy: a config changes nothing.
    new SmartCacheConfig({ caching: { policies: { generic: { ttlSeconds: INFINITE_TTL } } } });
    expect(SmartCacheConfig.isPersistentCache('generic')).toBe(false);
  });

  it('a configured TTL at or above INFINITE_TTL formats as infinite', () => {
    const config = new SmartCacheConfig({ caching: { policies: { generic: { ttlSeconds: INFINITE_TTL + 5 } } } });
    expect(config.formatTtl(config.getTtl('generic'))).toBe('∞ (infinite)');
    expect(config.formatTtl(config.getTtl('track_metadata'))).toBe('∞ (infinite)');
    expect(config.formatTtl(config.getTtl('album_year'))).toBe('30d');
    expect(config.formatTtl(config.getTtl('failed_api_lookup'))).toBe('1h');
    expect(config.formatTtl(config.getTtl('negative_result'))).toBe('30d');
  });

  it.each([
    [Number.NEGATIVE_INFINITY, 'expired'],
    [-DAY, 'expired'],
    [-0, '0s'],
    [0.5, '0s'],
    [30, '30s'],
    [59.999, '59s'],
    [60.5, '1m'],
    [119, '1m'],
    [120, '2m'],
    [3600.5, '1h'],
    [7199, '1h'],
    [7200, '2h'],
    [86_400.5, '1d'],
    [WEEK, '7d'],
    [MONTH, '30d'],
    [365 * DAY, '365d'],
    [INFINITE_TTL - 0.5, '3649d'],
    [INFINITE_TTL + 0.5, '∞ (infinite)'],
    [Number.MAX_SAFE_INTEGER, '∞ (infinite)'],
    [Number.POSITIVE_INFINITY, '∞ (infinite)'],
  ])('formatTtl(%d) → %s', (seconds, text) => {
    expect(new SmartCacheConfig().formatTtl(seconds)).toBe(text);
  });
});
