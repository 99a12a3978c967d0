import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { SmartCacheConfig, createCache, isCacheError, type CreateCacheOptions } from '../src/index';
import { rejection } from './support/openCache';

describe('createCache', () => {
  it('rejects an invalid config with invalid_config naming each bad path', async () => {
    const error = await rejection(
      createCache({ worker: false, config: { caching: { negativeResultTtl: 0, policies: { generic: { cleanupThreshold: 2 } } } } }),
    );
    expect(isCacheError(error, 'invalid_config')).toBe(true);
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual(['caching.negativeResultTtl', 'caching.policies.generic.cleanupThreshold']);
  });

  it.each<[string, unknown]>([
    ['an unknown option', { workers: 2 }],
    ['a blank name', { name: ' ' }],
    ['a bad worker option', { worker: 'always' }],
    ['a schema for an unknown type', { schemas: { podcast: {} } }],
    ['something that is not a schema', { schemas: { generic: { parse: () => 1 } } }],
    ['an indexedDB without open', { indexedDB: {} }],
    ['a clock that is not a function', { now: 5 }],
  ])('rejects %s with invalid_argument', async (_what, options) => {
    const error = await rejection(createCache({ worker: false, ...(options as CreateCacheOptions) }));
    expect(isCacheError(error, 'invalid_argument')).toBe(true);
  });

  it('uses a SmartCacheConfig instance as given', async () => {
    const config = new SmartCacheConfig();
    config.updatePolicy('generic', { maxSizeMb: 1 });
    const cache = await createCache({ worker: false, config });
    expect((await cache.stats()).types.generic.maxBytes).toBe(2 ** 20);
  });

  it('namespaces the database by name', async () => {
    const indexedDB = new IDBFactory();
    const a = await createCache({ worker: false, indexedDB, name: 'a' });
    const b = await createCache({ worker: false, indexedDB, name: 'b' });
    await a.set('track_metadata', 'k', 'from a');
    expect(await b.get('track_metadata', 'k')).toBeUndefined();
    expect((await indexedDB.databases()).map((db) => db.name).sort()).toEqual(['a', 'b']);
  });

  it('opens IndexedDB through the factory it is given, not a global one', async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    const indexedDB = new IDBFactory();
    const cache = await createCache({ worker: false, indexedDB, name: 'only-here' });
    await cache.set('album_year', 'k', 1);
    expect((await indexedDB.databases()).map((db) => db.name)).toEqual(['only-here']);
  });
});
