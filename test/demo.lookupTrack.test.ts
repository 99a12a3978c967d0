import { describe, expect, it, vi } from 'vitest';
import { MINUTE, SmartCacheConfig } from '../src/index';
import { DEMO_CONFIG } from '../demo/demoConfig';
import { DEMO_SCHEMAS } from '../demo/demoSchemas';
import { generateLibrary } from '../demo/generateLibrary';
import { Library, type LibraryTrack } from '../demo/Library';
import { lookupTrack as lookupInPage, type DemoCache } from '../demo/lookupTrack';
import { MetadataApi, type ApiOutcome } from '../demo/MetadataApi';
import { openCache } from './support/openCache';

/** Node has no canvas: covers are a few bytes of PNG-typed Blob. */
const draw = async (artist: string, album: string) => new Blob([`${artist}/${album}`], { type: 'image/png' });
const lookupTrack = (cache: DemoCache, api: MetadataApi, library: Library, track: LibraryTrack) => lookupInPage(cache, api, library, track, draw);

async function setup() {
  const { cache, library, api, trackWith } = await setupWithClock();
  return { cache, library, api, trackWith };
}

async function setupWithClock() {
  const { cache, clock } = await openCache({ config: new SmartCacheConfig(DEMO_CONFIG), schemas: DEMO_SCHEMAS });
  const library = new Library(generateLibrary({ seed: 1, count: 200 }));
  const api = new MetadataApi({ seed: 1, latency: { min: 0, max: 0 } });
  const trackWith = (outcome: ApiOutcome) => library.tracks.find((track) => api.outcome(track.id) === outcome)!;
  return { cache, clock, library, api, trackWith };
}

describe('lookupTrack', () => {
  it('asks the file and the API the first time, and only the cache the second', async () => {
    const { cache, library, api, trackWith } = await setup();
    const track = trackWith('found');
    const first = await lookupTrack(cache, api, library, track);
    expect(first).toMatchObject({ tags: { from: 'fetch' }, api: { status: 'found', from: 'fetch' }, albumYear: { from: 'fetch' }, cover: { from: 'fetch' } });
    expect(first.cover.image).toBeInstanceOf(Blob);
    expect(api.calls).toBe(2);
    const second = await lookupTrack(cache, api, library, track);
    expect(second).toMatchObject({ tags: { from: 'cache' }, api: { status: 'found', from: 'cache' }, albumYear: { from: 'cache', year: first.albumYear!.year }, cover: { from: 'cache' } });
    expect(await second.cover.image.text()).toBe(`${track.artist}/${track.album}`);
    expect(api.calls).toBe(2);
    const { types } = await cache.stats();
    expect([types.track_metadata.entries, types.successful_api_metadata.entries, types.album_year.entries]).toEqual([1, 1, 1]);
    expect(types.successful_api_metadata).toMatchObject({ hits: 1, misses: 1 });
  });

  it('tags the entries so that track events, fingerprint changes and library syncs find them', async () => {
    const { cache, library, api, trackWith } = await setup();
    const track = trackWith('found');
    const { fingerprint } = await lookupTrack(cache, api, library, track);
    expect((await cache.emit({ eventType: 'fingerprint_changed', fingerprint })).invalidated).toEqual({ track_metadata: 1 });
    expect((await cache.emit({ eventType: 'library_sync' })).invalidated).toEqual({ album_year: 1, artwork: 1 });
    expect((await cache.emit({ eventType: 'track_removed', trackId: track.id })).invalidated).toEqual({ track_metadata: 0, successful_api_metadata: 1 });
  });

  it('remembers "not found" in negative_result and errors in failed_api_lookup, without asking the API again', async () => {
    const { cache, library, api, trackWith } = await setup();
    const missing = trackWith('not_found');
    const failing = trackWith('error');
    expect((await lookupTrack(cache, api, library, missing)).api).toMatchObject({ status: 'not_found', from: 'fetch' });
    expect((await lookupTrack(cache, api, library, failing)).api).toMatchObject({ status: 'error', from: 'fetch' });
    expect(api.calls).toBe(2);
    expect((await lookupTrack(cache, api, library, missing)).api).toMatchObject({ status: 'not_found', from: 'cache' });
    expect((await lookupTrack(cache, api, library, failing)).api).toMatchObject({ status: 'error', from: 'cache' });
    expect(api.calls).toBe(2);
    const { types } = await cache.stats();
    expect([types.negative_result.entries, types.failed_api_lookup.entries, types.successful_api_metadata.entries, types.album_year.entries]).toEqual([1, 1, 0, 0]);
  });
});

describe('lookupTrack past the demo’s TTLs (a tab left open, or the offline demo visited again later)', () => {
  it('a found track answers from the cache alone but for its album year: served stale past two minutes while the API is asked again, asked at once past seven', async () => {
    const { cache, clock, library, api, trackWith } = await setupWithClock();
    const track = trackWith('found');
    await lookupTrack(cache, api, library, track);
    expect(api.calls).toBe(2);
    clock.advance(3 * MINUTE * 1000);
    const stale = await lookupTrack(cache, api, library, track);
    expect(stale).toMatchObject({ tags: { from: 'cache' }, api: { from: 'cache' }, albumYear: { from: 'stale' }, cover: { from: 'cache' } });
    // The stale year's refresh is an API call, made behind the answer.
    await vi.waitFor(() => expect(api.calls).toBe(3));
    clock.advance(8 * MINUTE * 1000);
    const later = await lookupTrack(cache, api, library, track);
    expect(later).toMatchObject({ tags: { from: 'cache' }, api: { from: 'cache' }, albumYear: { from: 'fetch' }, cover: { from: 'cache' } });
    expect(api.calls).toBe(4);
  });
});

describe('lookupTrack in two tabs of one cache', () => {
  it.each<ApiOutcome>(['not_found', 'error'])('a track the API answers %s, looked up in both at once: the waiting tab shows that answer, shared, and remembers it', async (outcome) => {
    const first = await openCache({ config: new SmartCacheConfig(DEMO_CONFIG), schemas: DEMO_SCHEMAS });
    const { cache: other } = await openCache({ config: new SmartCacheConfig(DEMO_CONFIG), schemas: DEMO_SCHEMAS, name: first.name, indexedDB: first.indexedDB });
    const library = new Library(generateLibrary({ seed: 1, count: 200 }));
    // Each tab has its own page, so its own API client; the answer takes long enough for the other tab to ask meanwhile.
    const api = new MetadataApi({ seed: 1, latency: { min: 100, max: 100 } });
    const otherApi = new MetadataApi({ seed: 1, latency: { min: 100, max: 100 } });
    const track = library.tracks.find((candidate) => api.outcome(candidate.id) === outcome)!;
    const [here, there] = await Promise.all([lookupTrack(first.cache, api!, library, track), lookupTrack(other, otherApi!, library, track)]);
    const fetched = [here.api.from, there.api.from].sort();
    expect(fetched).toEqual(['fetch', 'shared']);
    expect([here.api.status, there.api.status]).toEqual([outcome, outcome]);
    expect(api.calls + otherApi.calls).toBe(1);
    // Memory types are each tab's own: the tab that shared the answer keeps it too, and does not ask the API again.
    for (const [cache, client] of [[first.cache, api], [other, otherApi]] as const) {
      expect((await lookupTrack(cache, client, library, track)).api).toMatchObject({ status: outcome, from: 'cache' });
    }
    expect(api.calls + otherApi.calls).toBe(1);
  });
});
