// The public types as an app with the strictest tsconfig meets them (exactOptionalPropertyTypes,
// noUncheckedIndexedAccess, verbatimModuleSyntax…): an optional field the runtime takes as absent when
// it is undefined (every options object is parsed with zod's optional) takes undefined in the types too,
// so that an app may pass `{ fingerprint: maybeString }` or an options object built by a condition.
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { CacheError, EventDrivenCacheManager, SmartCacheConfig, fingerprintTrack } from '../src/index';
import { createQueryStorage, createPersister } from '../src/tanstack-query/index';
import { openCache } from './support/openCache';
import { STRICTEST, typeErrors } from './support/readmeTypes';

/** An app's calls, each option given as a value that may be undefined. */
const APP = `
import { CacheError, EventDrivenCacheManager, SmartCacheConfig, createCache, fingerprintTrack, type CacheType, type CreateCacheOptions, type Logger } from 'reprise';
import { z } from 'zod';
import { createPersister, createQueryStorage } from 'reprise/tanstack-query';

declare const maybe: string | undefined;
declare const maybeNumber: number | undefined;
declare const maybeFlag: boolean | undefined;
declare const maybeSignal: AbortSignal | undefined;
declare const maybeLogger: Logger | undefined;
declare const maybeFactory: IDBFactory | undefined;
declare const type: CacheType;

const options: CreateCacheOptions = { name: maybe, config: undefined, schemas: undefined, worker: maybeFlag ? false : undefined, persist: maybeFlag, indexedDB: maybeFactory, now: undefined, logger: maybeLogger };
const cache = await createCache(options);
await createCache({ schemas: { generic: maybeFlag ? z.string() : undefined } });
await cache.get('track_metadata', 'k', { fingerprint: maybe });
await cache.getMany('track_metadata', ['k'], { fingerprint: maybe, fingerprints: maybeFlag ? [maybe] : undefined });
await cache.set('track_metadata', 'k', 1, { trackId: maybe, album: undefined, fingerprint: maybe, ttlSeconds: maybeNumber });
await cache.setMany('track_metadata', [{ key: 'k', value: 1, trackId: maybe, fingerprint: maybe, ttlSeconds: maybeNumber }], { onProgress: undefined });
await cache.getOrSet('track_metadata', 'k', () => 1, { fingerprint: maybe, staleWhileRevalidateSeconds: maybeNumber, forceFresh: maybeFlag, signal: maybeSignal });
await cache.resolve('track_metadata', 'k', () => 1, { trackId: maybe, ttlSeconds: maybeNumber });
await cache.keys('generic', { prefix: maybe });
await cache.entries('generic', { prefix: maybe });
const hits: number = (await cache.stats()).types[type].hits;
createPersister(cache, { type: 'track_metadata', key: maybe, throttleTime: maybeNumber, retry: undefined });
createQueryStorage(cache, 'album_year', { trackId: undefined });
await fingerprintTrack({ persistentId: 1, location: 'a', fileSize: maybeNumber, duration: maybeNumber, dateModified: maybe, dateAdded: maybe });
new EventDrivenCacheManager(new SmartCacheConfig(), { logger: maybeLogger });
new CacheError('closed', 'closed', { issues: undefined });
void hits;
`;

describe('an app with the strictest tsconfig', () => {
  it("passes options that may be undefined, which the runtime takes as absent (exactOptionalPropertyTypes)", () => {
    expect(typeErrors([{ lang: 'ts', line: 1, code: APP, section: '' }], 'ts', '', STRICTEST)).toEqual([]);
  }, 60_000);

  it("writes README's `await using cache = await createCache()` with the lib of Vite's app template (ES2023, DOM: no ESNext.Disposable) and no @types/node", () => {
    const block = `
import { createCache } from 'reprise';

export async function play(): Promise<void> {
  await using cache = await createCache({ name: 'my-player' });
  await cache.set('generic', 'k', 1);
}
`;
    expect(typeErrors([{ lang: 'ts', line: 1, code: block, section: '' }], 'ts', '', { lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'], types: [] })).toEqual([]);
  }, 60_000);

  it('the runtime takes each of those undefined options as absent', async () => {
    const { cache } = await openCache();
    const maybe = undefined;
    await expect(cache.set('track_metadata', 'k', 1, { trackId: maybe, album: maybe, fingerprint: maybe, ttlSeconds: maybe })).resolves.toBeUndefined();
    await expect(cache.setMany('track_metadata', [{ key: 'j', value: 2, trackId: maybe, fingerprint: maybe, ttlSeconds: maybe }], { onProgress: maybe })).resolves.toBeUndefined();
    await expect(cache.get('track_metadata', 'k', { fingerprint: maybe })).resolves.toBe(1);
    await expect(cache.getMany('track_metadata', ['k', 'j'], { fingerprint: maybe, fingerprints: maybe })).resolves.toEqual([1, 2]);
    await expect(cache.getOrSet('track_metadata', 'k', () => 3, { fingerprint: maybe, staleWhileRevalidateSeconds: maybe, forceFresh: maybe, signal: maybe })).resolves.toBe(1);
    await expect(cache.keys('track_metadata', { prefix: maybe })).resolves.toEqual(['j', 'k']);
    await expect(cache.entries('track_metadata', { prefix: maybe })).resolves.toEqual([['j', 2], ['k', 1]]);
    expect(() => createPersister(cache, { type: 'track_metadata', key: maybe, throttleTime: maybe, retry: maybe })).not.toThrow();
    expect(() => createQueryStorage(cache, 'album_year', { trackId: maybe })).not.toThrow();
    expect(await fingerprintTrack({ persistentId: 1, location: 'a', fileSize: maybe, duration: maybe, dateModified: maybe, dateAdded: maybe })).toBe(await fingerprintTrack({ persistentId: 1, location: 'a' }));
    expect(() => new EventDrivenCacheManager(new SmartCacheConfig(), { logger: maybe })).not.toThrow();
    expect(new CacheError('closed', 'closed', { issues: maybe }).issues).toEqual([]);
    await cache.close();
    const other = await openCache({ name: undefined, config: undefined, schemas: { generic: undefined }, persist: undefined, logger: undefined, now: undefined, indexedDB: new IDBFactory() });
    await expect(other.cache.stats()).resolves.toMatchObject({ degraded: null });
    await other.cache.close();
  });
});
