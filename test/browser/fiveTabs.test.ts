// Five tabs making 1,000 random calls in turn — every public call, all six event types — checked
// against a reference model after each: no stale read, no lost write, and every tab's counts right.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, isPersistentType, type ContentType } from '../../src/contentType';
import { SmartCacheConfig } from '../../src/SmartCacheConfig';
import { Model, type Tags } from '../simulation/Model';
import { Random } from '../simulation/random';
import { randomEvent } from '../simulation/randomEvent';
import { uniqueName, useBrowser } from './chromium';
import { openTab, TAB_CONFIG } from './tabs';

const browser = useBrowser({ eachTest: true });

const SEED = 20261201;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const TRACKS = ['t1', 't2', 't3'];
const FINGERPRINTS = ['F1', 'F2'];
const ALBUMS = [
  { artist: 'Ann', album: 'One' },
  { artist: 'Bo', album: 'Two' },
];
const EVENT_WORLD = { tracks: TRACKS, fingerprints: FINGERPRINTS, albums: ALBUMS };

interface Stored {
  value: number;
  tags: Tags;
}

describe('five tabs', () => {
  it(`1,000 random calls (seed ${SEED}) agree with a reference model in every tab`, async () => {
    const random = new Random(SEED);
    const config = new SmartCacheConfig(TAB_CONFIG);
    const model = new Model(config);
    const name = uniqueName('five');
    const tabs: Page[] = [];
    for (let index = 0; index < 5; index++) tabs.push((await openTab(browser, name)).page);
    // Where each entry is: IndexedDB for persistent types, each tab's memory for the others.
    const shared = new Map<string, Stored>();
    const memory = tabs.map(() => new Map<string, Stored>());
    const location = (tab: number, type: ContentType) => (isPersistentType(type) ? shared : memory[tab]!);
    const slot = (type: ContentType, key: string) => `${type}/${key}`;
    const tally = { calls: {} as Record<string, number>, reads: 0, stale: [] as string[], lost: [] as string[] };
    let value = 0;

    const check = (what: string, tab: number, type: ContentType, key: string, got: unknown) => {
      tally.reads++;
      const expected = location(tab, type).get(slot(type, key))?.value;
      if (got === expected) return;
      (got === undefined ? tally.lost : tally.stale).push(`${what} in tab ${tab}: ${type}/${key} gave ${String(got)}, expected ${String(expected)}`);
    };
    const randomTags = (): Tags => ({
      trackIds: random.chance(0.8) ? [random.pick(TRACKS)] : [],
      ...(random.chance(0.3) ? { album: random.pick(ALBUMS) } : {}),
      ...(random.chance(0.4) ? { fingerprint: random.pick(FINGERPRINTS) } : {}),
    });
    const options = (tags: Tags) => ({
      ...(tags.trackIds.length ? { trackId: tags.trackIds[0] } : {}),
      ...(tags.album ? { album: tags.album } : {}),
      ...(tags.fingerprint ? { fingerprint: tags.fingerprint } : {}),
    });
    const removeWhere = (removes: (type: ContentType, stored: Stored) => boolean) => {
      for (const place of [shared, ...memory]) {
        for (const [at, stored] of place) if (removes(at.split('/')[0] as ContentType, stored)) place.delete(at);
      }
    };

    for (let step = 0; step < 1000; step++) {
      const tab = random.int(tabs.length);
      const page = tabs[tab]!;
      const type = random.pick(CONTENT_TYPES);
      const key = random.pick(KEYS);
      const roll = random.int(100);
      const call = roll < 25 ? 'get' : roll < 35 ? 'getMany' : roll < 55 ? 'set' : roll < 62 ? 'setMany' : roll < 72 ? 'getOrSet' : roll < 78 ? 'delete' : roll < 92 ? 'emit' : roll < 95 ? 'clear' : roll < 98 ? 'stats' : 'cleanup';
      tally.calls[call] = (tally.calls[call] ?? 0) + 1;
      if (call === 'get') {
        check('get', tab, type, key, await page.evaluate(([type, key]) => window.tab.cache!.get(type, key), [type, key] as const));
      } else if (call === 'getMany') {
        const keys = [key, random.pick(KEYS), random.pick(KEYS)];
        const got = await page.evaluate(([type, keys]) => window.tab.cache!.getMany(type, keys), [type, keys] as const);
        keys.forEach((one, index) => check('getMany', tab, type, one, got[index]));
      } else if (call === 'set') {
        const tags = randomTags();
        const stored = { value: ++value, tags };
        await page.evaluate(([type, key, value, options]) => window.tab.cache!.set(type, key, value, options), [type, key, stored.value, options(tags)] as const);
        location(tab, type).set(slot(type, key), stored);
      } else if (call === 'setMany') {
        const entries = [key, random.pick(KEYS), random.pick(KEYS)].map((one) => ({ key: one, stored: { value: ++value, tags: randomTags() } }));
        await page.evaluate(
          ([type, entries]) => window.tab.cache!.setMany(type, entries),
          [type, entries.map(({ key, stored }) => ({ key, value: stored.value, ...options(stored.tags) }))] as const,
        );
        for (const { key: one, stored } of entries) location(tab, type).set(slot(type, one), stored);
      } else if (call === 'getOrSet') {
        const tags = randomTags();
        const fetched = ++value;
        const got = await page.evaluate(([type, key, fetched, options]) => window.tab.cache!.getOrSet(type, key, () => fetched, options), [type, key, fetched, options(tags)] as const);
        const held = location(tab, type).get(slot(type, key));
        // A fingerprint-validated type with another fingerprint is a miss (the entry goes, the fetch is stored).
        const mismatch = held && tags.fingerprint !== undefined && config.shouldUseFingerprintValidation(type) && held.tags.fingerprint !== tags.fingerprint;
        if (held && !mismatch) check('getOrSet', tab, type, key, got);
        else {
          if (got !== fetched) tally.stale.push(`getOrSet in tab ${tab}: ${type}/${key} gave ${String(got)}, expected the fetch ${fetched}`);
          location(tab, type).set(slot(type, key), { value: fetched, tags });
        }
      } else if (call === 'delete') {
        const existed = await page.evaluate(([type, key]) => window.tab.cache!.delete(type, key), [type, key] as const);
        if (existed !== location(tab, type).has(slot(type, key))) tally.stale.push(`delete in tab ${tab}: ${type}/${key} said ${existed}`);
        location(tab, type).delete(slot(type, key));
      } else if (call === 'emit') {
        const event = randomEvent(random, EVENT_WORLD);
        await page.evaluate((event) => window.tab.cache!.emit(event), event);
        removeWhere((type, stored) => model.eventRemoves(event, type, stored.tags));
      } else if (call === 'clear') {
        const cleared = random.chance(0.5) ? type : undefined;
        await page.evaluate((type) => window.tab.cache!.clear(type), cleared);
        removeWhere((type) => cleared === undefined || type === cleared);
        // A clear reaches other tabs' time-based memory types by message: let it arrive before checking them.
        await settle(tabs, memory);
      } else if (call === 'stats') {
        await page.evaluate(() => window.tab.cache!.stats());
      } else {
        expect(await page.evaluate(() => window.tab.cache!.cleanup())).toEqual({ expired: 0, evicted: 0 });
      }
    }
    // Counts: every tab agrees on the shared types, and each on its own memory tier.
    const counts = await Promise.all(tabs.map((page) => page.evaluate(async () => Object.fromEntries(Object.entries((await window.tab.cache!.stats()).types).map(([type, stats]) => [type, stats.entries])))));
    const expectedCounts = tabs.map((_, tab) =>
      Object.fromEntries(CONTENT_TYPES.map((type) => [type, [...location(tab, type).keys()].filter((at) => at.startsWith(`${type}/`)).length])),
    );
    console.log(`five tabs, seed ${SEED}:`, JSON.stringify({ calls: tally.calls, reads: tally.reads, stale: tally.stale.length, lost: tally.lost.length }));
    expect(tally.stale).toEqual([]);
    expect(tally.lost).toEqual([]);
    expect(counts).toEqual(expectedCounts);
  });
});

/**
 * Waits until every tab's memory tier holds what the model says (a clear travels by message to time-based types).
 * Polled from here: waitForFunction takes the promise an async predicate returns for a truthy answer.
 */
async function settle(tabs: Page[], memory: Map<string, Stored>[]): Promise<void> {
  for (const [tab, page] of tabs.entries()) {
    const expected = Object.fromEntries(
      CONTENT_TYPES.filter((type) => !isPersistentType(type)).map((type) => [type, [...memory[tab]!.keys()].filter((at) => at.startsWith(`${type}/`)).length]),
    );
    const held = () =>
      page.evaluate(async (expected) => {
        const { types } = await window.tab.cache!.stats();
        return Object.entries(expected).every(([type, count]) => types[type as 'generic'].entries === count);
      }, expected);
    await expect.poll(held, { timeout: 5000 }).toBe(true);
  }
}
