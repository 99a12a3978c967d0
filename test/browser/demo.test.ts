// The demo page (index.html + demo/) in Chromium, driven like a user would: clicks, keys, two tabs.
import { stat } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { albumKey, SmartCacheConfig, type TypeName } from '../../src/index';
import { DEMO_CONFIG } from '../../demo/demoConfig';
import { DEFAULT_DEMO_OPTIONS } from '../../demo/demoOptions';
import { generateLibrary } from '../../demo/generateLibrary';
import { MetadataApi, type ApiOutcome } from '../../demo/MetadataApi';
import { uniqueName, useBrowser, type TestPage } from './chromium';

// The page's defaults: the same library and API answers as the page generates.
const tracks = generateLibrary({ seed: DEFAULT_DEMO_OPTIONS.seed, count: DEFAULT_DEMO_OPTIONS.tracks });
const api = new MetadataApi({ seed: DEFAULT_DEMO_OPTIONS.seed, latency: { min: 0, max: 0 } });

/** The index of the `nth` of the library's tracks the API answers with `outcome`. */
const indexOf = (outcome: ApiOutcome, nth = 0): number => tracks.flatMap((track, index) => (api.outcome(track.id) === outcome ? [index] : []))[nth]!;
/** The first track the API finds on another album than track `index`. */
const onOtherAlbum = (index: number): number =>
  tracks.findIndex((track) => track.album !== tracks[index]!.album && api.outcome(track.id) === 'found');

// Tracks 0 and 1 are found and share an album; the others each answer differently.
const FOUND = indexOf('found');
const ALBUM_MATE = indexOf('found', 1);
const OTHER_ALBUM = onOtherAlbum(FOUND);
const NOT_FOUND = indexOf('not_found');
const FAILING = indexOf('error');

const browser = useBrowser();
let pages: Page[] = [];

beforeAll(() => {
  expect(tracks[ALBUM_MATE]!.album).toBe(tracks[FOUND]!.album);
});

afterEach(async () => {
  await Promise.all(pages.map((page) => page.close()));
  pages = [];
});

/** Opens the demo on a cache of its own (or the given name), with an API that answers at once. */
async function openDemo(name = uniqueName('demo'), more = '', latency = '0', init?: () => void): Promise<TestPage> {
  const tab = await browser.open(`/?name=${name}&latency=${latency}${more}`, init);
  pages.push(tab.page);
  await tab.page.setViewportSize({ width: 1280, height: 800 });
  await tab.page.waitForFunction(() => document.body.dataset['ready'] === 'true');
  return tab;
}

type Stat = 'entries' | 'bytes' | 'hits' | 'misses' | 'invalidations' | 'evictions' | 'expirations';
type Stats = Record<TypeName | 'total', Record<Stat, number>>;
type ExpectedStats = Partial<Record<TypeName | 'total', Partial<Record<Stat, number>>>>;

/** How many albums the tracks at these indexes are on: the demo draws one cover (artwork entry) per album. */
const albumsOf = (indexes: number[]) => new Set(indexes.map((index) => albumKey(tracks[index]!.artist, tracks[index]!.album))).size;

/** The inspector's numbers, as the page shows them (each cell's raw `data-value`). */
function readStats(page: Page): Promise<Stats> {
  return page.evaluate(
    () =>
      Object.fromEntries(
        [...document.querySelectorAll<HTMLElement>('tr[data-type]')].map((row) => [
          row.dataset['type'],
          Object.fromEntries([...row.querySelectorAll<HTMLElement>('[data-stat]')].map((cell) => [cell.dataset['stat'], Number(cell.dataset['value'])])),
        ]),
      ) as Stats,
  );
}

/** Waits until the inspector shows the expected numbers, then asserts them (a timeout shows the difference). */
async function expectStats(page: Page, expected: ExpectedStats): Promise<void> {
  await page
    .waitForFunction(
      (expected) =>
        Object.entries(expected).every(([type, stats]) =>
          Object.entries(stats ?? {}).every(
            ([stat, value]) => document.querySelector(`tr[data-type="${type}"] [data-stat="${stat}"]`)?.getAttribute('data-value') === String(value),
          ),
        ),
      expected,
      { timeout: 5_000 },
    )
    .catch(() => {});
  expect(await readStats(page)).toMatchObject(expected);
}

interface Shown {
  state: string | undefined;
  tags: string | undefined;
  api: string | undefined;
  apiStatus: string | undefined;
  year: string | undefined;
  cover: string | undefined;
  timing: string | undefined;
}

/** The list row of the track at `index` (rendered while in view or active). */
const rowOf = (page: Page, index: number) => page.locator(`[role="option"][data-track-id="${tracks[index]!.id}"]`);

/** Chooses the track at `index` (a click on its row, or ↓ from the top and Enter) and waits for its lookup. */
async function choose(page: Page, index: number, via: 'click' | 'keyboard' = 'click'): Promise<Shown> {
  const id = tracks[index]!.id;
  await page.bringToFront();
  if (via === 'click') await rowOf(page, index).click();
  else {
    await page.getByRole('listbox', { name: 'Tracks' }).focus();
    await page.keyboard.press('Home');
    for (let step = 0; step < index; step++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
  }
  await page.waitForFunction(
    (id) => {
      const details = document.querySelector<HTMLElement>('.details');
      return details?.dataset['trackId'] === id && details.dataset['state'] !== 'loading';
    },
    id,
    { timeout: 10_000 },
  );
  return shown(page);
}

/** What the selected track's panel shows: where each part came from. */
function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const details = document.querySelector<HTMLElement>('.details')!;
    const part = (name: string) => details.querySelector<HTMLElement>(`[data-part="${name}"]`)?.dataset;
    return {
      state: details.dataset['state'],
      tags: part('tags')?.['from'],
      api: part('api')?.['from'],
      apiStatus: part('api')?.['status'],
      year: part('year')?.['from'],
      cover: part('cover')?.['from'],
      timing: details.querySelector('.timing')?.textContent ?? undefined,
    };
  });
}

/** Presses an event or maintenance button by its visible name. */
async function press(page: Page, name: string): Promise<void> {
  // A page in the background gets few animation frames, and Playwright waits for some before clicking.
  await page.bringToFront();
  await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
}

interface LogLine {
  source: string | undefined;
  event: string | undefined;
  text: string;
  invalidated: Record<string, number>;
}

/** The event log's lines, newest first. */
function readLog(page: Page): Promise<LogLine[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[role="log"] li')].map((line) => ({
      source: line.dataset['source'],
      event: line.dataset['event'],
      text: line.textContent ?? '',
      invalidated: Object.fromEntries(
        [...line.querySelectorAll<HTMLElement>('[data-invalidated]')].map((count) => [count.dataset['invalidated'], Number(count.dataset['value'])]),
      ),
    })),
  );
}

/** Waits for a log line of `event` from `source`, and returns the newest one. */
async function logLine(page: Page, source: 'local' | 'remote', event: string): Promise<LogLine> {
  await page
    .waitForFunction(({ source, event }) => !!document.querySelector(`[role="log"] li[data-source="${source}"][data-event="${event}"]`), { source, event }, { timeout: 5_000 })
    .catch(() => {});
  const line = (await readLog(page)).find((candidate) => candidate.source === source && candidate.event === event);
  expect(line, `a ${source} ${event} line in ${JSON.stringify(await readLog(page))}`).toBeDefined();
  return line!;
}

describe('the demo page', () => {
  it('loads without console errors and shows the header, a virtualised list of 2,000 tracks and the inspector', async () => {
    const { page, errors } = await openDemo();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Reprise');
    const list = page.getByRole('listbox', { name: 'Tracks' });
    const options = list.getByRole('option');
    const rendered = await options.count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(40);
    await expect(options.first().getAttribute('aria-setsize')).resolves.toBe('2000');
    await expect(options.first().textContent()).resolves.toContain(tracks[0]!.title);

    // Scrolled to the end, it shows the last track and still only a few rows.
    await list.evaluate((element) => (element.scrollTop = element.scrollHeight));
    const last = tracks[tracks.length - 1]!;
    await page.locator(`[role="option"][data-track-id="${last.id}"]`).waitFor();
    expect(await options.count()).toBeLessThan(40);

    // TTL, stale window and strategy of every type come from the demo's SmartCacheConfig.
    const config = new SmartCacheConfig(DEMO_CONFIG);
    const policies = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('tbody tr[data-type]')].map((row) => ({
        type: row.dataset['type'],
        ttl: row.querySelector('[data-policy="ttl"]')?.textContent,
        stale: row.querySelector('[data-policy="stale"]')?.textContent ?? null,
        strategy: row.querySelector('[data-policy="strategy"]')?.textContent,
        budget: row.querySelector('[role="meter"]')?.getAttribute('aria-valuemax'),
      })),
    );
    expect(policies).toEqual(
      Object.keys(config.getAllPolicies()).map((type) => ({
        type,
        ttl: config.formatTtl(config.getTtl(type)),
        stale: config.getPolicy(type).staleWhileRevalidateSeconds > 0 ? `+${config.formatTtl(config.getPolicy(type).staleWhileRevalidateSeconds)} stale` : null,
        strategy: config.getPolicy(type).invalidationStrategy,
        budget: String(config.getPolicy(type).maxSizeMb! * 2 ** 20),
      })),
    );
    await expectStats(page, { total: { entries: 0, hits: 0, misses: 0 } });
    // What a new user reads before doing anything: where events will show, and why the budgets are small.
    const emptyLog = await page.evaluate(() => getComputedStyle(document.querySelector('[role="log"]')!, '::before').content);
    expect(emptyLog).toContain('Library events emitted here');
    await expect(page.locator('.inspector caption .budget-note').textContent()).resolves.toContain('deliberately small (KiB');
    expect(errors).toEqual([]);
  });

  it('asks the API on the first lookup of a track, and answers the second from the cache alone', async () => {
    const { page, errors } = await openDemo();
    expect(await choose(page, FOUND)).toMatchObject({ state: 'done', tags: 'fetch', api: 'fetch', apiStatus: 'found', year: 'fetch', cover: 'fetch' });
    await expectStats(page, {
      track_metadata: { entries: 1, hits: 0, misses: 1 },
      successful_api_metadata: { entries: 1, hits: 0, misses: 1 },
      album_year: { entries: 1, hits: 0, misses: 1 },
      artwork: { entries: 1, hits: 0, misses: 1 },
    });
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'cache', api: 'cache', year: 'cache', cover: 'cache', timing: expect.stringContaining('cache alone') });
    await expectStats(page, {
      track_metadata: { entries: 1, hits: 1, misses: 1 },
      successful_api_metadata: { entries: 1, hits: 1, misses: 1 },
      album_year: { entries: 1, hits: 1, misses: 1 },
    });
    await expect(page.locator('#api-calls').textContent()).resolves.toBe('2');

    // "Not found" goes to negative_result, and is remembered too.
    expect(await choose(page, NOT_FOUND)).toMatchObject({ api: 'fetch', apiStatus: 'not_found' });
    await expectStats(page, { negative_result: { entries: 1, hits: 0 }, successful_api_metadata: { entries: 1 } });
    expect(await choose(page, NOT_FOUND)).toMatchObject({ tags: 'cache', api: 'cache', apiStatus: 'not_found' });
    await expectStats(page, { negative_result: { entries: 1, hits: 1 } });
    await expect(page.locator('#api-calls').textContent()).resolves.toBe('3');

    // The hit-rate chart draws a line once there were reads.
    await page.waitForFunction(() => (document.querySelector('.chart-line')?.getAttribute('d') ?? '').startsWith('M'));
    expect(errors).toEqual([]);
  });

  it('looks up every visible track at once; the second time the cache answers them all', async () => {
    const { page, errors } = await openDemo();
    const status = page.locator('#batch-status');
    await page.getByRole('button', { name: 'Look up visible tracks' }).click();
    await page.waitForFunction(() => /ms:/.test(document.querySelector('#batch-status')?.textContent ?? ''));
    const first = (await status.textContent())!;
    const looked = Number(first.match(/^(\d+) tracks/)?.[1]);
    expect(looked).toBeGreaterThan(5);
    expect(first).toContain(`0 from the cache alone, ${looked} fetched`);
    await expectStats(page, { track_metadata: { entries: looked } });
    await page.getByRole('button', { name: 'Look up visible tracks' }).click();
    await page.waitForFunction((first) => (document.querySelector('#batch-status')?.textContent ?? first) !== first && /ms:/.test(document.querySelector('#batch-status')!.textContent!), first);
    await expect(status.textContent()).resolves.toContain(`${looked} tracks in`);
    await expect(status.textContent()).resolves.toContain(`${looked} from the cache alone, 0 fetched`);
    await expectStats(page, { track_metadata: { entries: looked, hits: looked, misses: looked } });
    expect(errors).toEqual([]);
  });

  it('works from the keyboard: Tab to the list, arrows and Enter choose a track, Enter and Space press buttons', async () => {
    const { page, errors } = await openDemo();
    await page.locator('#lookup-visible').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('listbox');
    // A track the API fails on: the error goes to failed_api_lookup.
    expect(await choose(page, FAILING, 'keyboard')).toMatchObject({ state: 'done', apiStatus: 'error', api: 'fetch' });
    const id = tracks[FAILING]!.id;
    await expect(page.getByRole('listbox').getAttribute('aria-activedescendant')).resolves.toBe(`track-${id}`);
    await expect(rowOf(page, FAILING).getAttribute('aria-selected')).resolves.toBe('true');
    await expectStats(page, { failed_api_lookup: { entries: 1 }, successful_api_metadata: { entries: 0 } });
    expect(await choose(page, FAILING, 'keyboard')).toMatchObject({ apiStatus: 'error', api: 'cache' });

    await page.getByRole('button', { name: /^Library sync/ }).focus();
    await page.keyboard.press('Enter');
    await logLine(page, 'local', 'library_sync');
    await page.getByRole('button', { name: /^Run cleanup/ }).focus();
    await page.keyboard.press('Space');
    await logLine(page, 'local', 'cleanup()');
    expect(errors).toEqual([]);
  });
});

// The other tests open the demo as built (test/browser/serve.ts); this is the page the README's first command serves.
describe('the demo from Vite’s dev server (npm run dev)', () => {
  const dev = useBrowser({ devServer: true });

  it('loads without console errors, answers a lookup from the API, then from the cache', async () => {
    const { page, errors } = await dev.open(`/?name=${uniqueName('demo')}&latency=0`);
    pages.push(page);
    await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
    expect(await choose(page, FOUND)).toMatchObject({ state: 'done', tags: 'fetch', api: 'fetch', apiStatus: 'found' });
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'cache', api: 'cache', year: 'cache', cover: 'cache' });
    await expectStats(page, { track_metadata: { entries: 1, hits: 1, misses: 1 } });
    expect(errors).toEqual([]);
  });
});

describe('URL parameters and screen sizes', () => {
  it('works where the browser refuses localStorage (site data blocked): the library is kept in the tab only', async () => {
    const refuse = () => Object.defineProperty(window, 'localStorage', { get: () => { throw new DOMException('The operation is insecure.', 'SecurityError'); } });
    const { page, errors } = await openDemo(uniqueName('demo'), '', '0', refuse);
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'fetch' });
    await press(page, 'Modify track');
    await expect(rowOf(page, FOUND).locator('.badge').textContent()).resolves.toBe('edited ×1');
    expect(errors).toEqual([]);
  });

  it('states the API latency the URL asks for, and says “1 track” of a library of one', async () => {
    const { page, errors } = await openDemo(uniqueName('demo'), '&tracks=1');
    await expect(page.locator('.hint').first().innerText()).resolves.toContain('simulated metadata API (no delay, with misses and errors)');
    await expect(page.locator('#library-count').textContent()).resolves.toBe('1 track, virtualised');
    await page.locator('#lookup-visible').click();
    await page.waitForFunction(() => /ms:/.test(document.getElementById('batch-status')?.textContent ?? ''));
    await expect(page.locator('#batch-status').textContent()).resolves.toMatch(/^1 track in \d+ ms/);
    const ranged = await openDemo(uniqueName('demo'), '', '1000-1200');
    await expect(ranged.page.locator('.hint').first().innerText()).resolves.toContain('simulated metadata API (1000–1200 ms,');
    expect([...errors, ...ranged.errors]).toEqual([]);
  });

  it('fits a 390 px wide phone screen: the page does not scroll sideways, the inspector’s caption is not cut off', async () => {
    const { page, errors } = await openDemo();
    await page.setViewportSize({ width: 390, height: 844 });
    await choose(page, FOUND);
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: document.documentElement.clientWidth }));
    expect(widths.page).toBe(widths.screen);
    // The inspector's table scrolls sideways; its caption is wrapped to what is in view, not cut off.
    const caption = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap')!.getBoundingClientRect();
      const caption = document.querySelector('.inspector caption')!.getBoundingClientRect();
      return { left: caption.left - wrap.left, right: wrap.right - caption.right };
    });
    expect(caption.left).toBeGreaterThanOrEqual(0);
    expect(caption.right).toBeGreaterThanOrEqual(0);
    expect(errors).toEqual([]);
  });

  it('fits 375 and 360 px wide phone screens: the library’s head (“Look up visible tracks”) stays inside its panel, the page does not scroll sideways', async () => {
    const { page, errors } = await openDemo();
    for (const width of [375, 360]) {
      await page.setViewportSize({ width, height: 812 });
      const fit = await page.evaluate(() => {
        const panel = document.querySelector('.library')!.getBoundingClientRect();
        const button = document.getElementById('lookup-visible')!.getBoundingClientRect();
        return { width: innerWidth, buttonPastPanel: Math.round(button.right - panel.right), pageScrollsBy: document.documentElement.scrollWidth - document.documentElement.clientWidth };
      });
      expect(fit).toEqual({ width, buttonPastPanel: expect.toSatisfy((past: number) => past <= 0), pageScrollsBy: 0 });
    }
    expect(errors).toEqual([]);
  });

  it('fits a short laptop window (1024 × 700): the chosen track’s panel stays inside the library’s, the page does not scroll', async () => {
    const { page, errors } = await openDemo();
    await page.setViewportSize({ width: 1024, height: 700 });
    await choose(page, FOUND);
    const fit = await page.evaluate(() => {
      const panel = document.querySelector('.library')!.getBoundingClientRect();
      const details = document.querySelector('.details')!.getBoundingClientRect();
      return { detailsPastPanel: Math.round(details.bottom - panel.bottom), pageScrollsBy: document.documentElement.scrollHeight - document.documentElement.clientHeight };
    });
    expect(fit).toEqual({ detailsPastPanel: expect.toSatisfy((past: number) => past <= 0), pageScrollsBy: 0 });
    // The list keeps room for a few rows.
    await expect(page.locator('.vlist').evaluate((list) => list.clientHeight)).resolves.toBeGreaterThanOrEqual(150);
    expect(errors).toEqual([]);
  });
});

describe('the demo’s own content type, artwork', () => {
  it('draws one cover per album, keeps it as a Blob in IndexedDB within its own budget, and still has it after a reload', async () => {
    const name = uniqueName('demo');
    const { page, errors } = await openDemo(name);
    expect(await choose(page, FOUND)).toMatchObject({ cover: 'fetch' });
    // Its album mate's cover is the same entry.
    expect(await choose(page, ALBUM_MATE)).toMatchObject({ cover: 'cache' });
    const cover = () =>
      page.evaluate(async () => {
        const img = document.querySelector<HTMLImageElement>('.details img.cover')!;
        await img.decode();
        return { width: img.naturalWidth, bytes: Number(img.dataset['bytes']), src: img.src.slice(0, 5) };
      });
    expect(await cover()).toMatchObject({ width: 96, src: 'blob:' });
    expect((await cover()).bytes).toBeGreaterThan(100);
    const row = page.locator('tr[data-type="artwork"]');
    await expect(row.locator('.storage').textContent()).resolves.toBe('IndexedDB');
    await expect(row.locator('.custom').textContent()).resolves.toBe('custom type');
    await expect(row.locator('[role="meter"]').getAttribute('aria-valuemax')).resolves.toBe(String(64 * 1024));
    await expectStats(page, { artwork: { entries: 1, hits: 1, misses: 1 } });
    expect((await readStats(page)).artwork!.bytes).toBeGreaterThan(100);

    await page.reload();
    await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
    expect(await choose(page, FOUND)).toMatchObject({ cover: 'cache' });
    expect(await cover()).toMatchObject({ width: 96 });
    expect(errors).toEqual([]);
  });
});

describe('each event button changes the inspector as the events say (SPEC §3)', () => {
  it('Modify track (track_modified) removes the track’s entries and its album’s API metadata', async () => {
    const { page, errors } = await openDemo();
    for (const index of [OTHER_ALBUM, ALBUM_MATE, FOUND]) await choose(page, index);
    await expectStats(page, { track_metadata: { entries: 3 }, successful_api_metadata: { entries: 3 }, album_year: { entries: 2 } });
    await press(page, 'Modify track');
    const line = await logLine(page, 'local', 'track_modified');
    // The demo's own artwork type lists track_modified: the album's cover goes with its metadata.
    expect(line.invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 2, artwork: 1 });
    await expectStats(page, {
      track_metadata: { entries: 2, invalidations: 1 },
      successful_api_metadata: { entries: 1, invalidations: 2 },
      album_year: { entries: 2, invalidations: 0 },
      artwork: { entries: 1, invalidations: 1 },
    });
    await expect(rowOf(page, FOUND).locator('.badge').textContent()).resolves.toBe('edited ×1');
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'fetch', api: 'fetch', year: 'cache', cover: 'fetch' });
    expect(errors).toEqual([]);
  });

  it('Remove track (track_removed) removes the track’s entries; Restore track (track_added) removes nothing', async () => {
    const { page, errors } = await openDemo();
    for (const index of [OTHER_ALBUM, FOUND]) await choose(page, index);
    await expectStats(page, { track_metadata: { entries: 2 }, successful_api_metadata: { entries: 2 }, album_year: { entries: 2 } });
    await press(page, 'Remove track');
    expect((await logLine(page, 'local', 'track_removed')).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 1 });
    await expectStats(page, { track_metadata: { entries: 1 }, successful_api_metadata: { entries: 1 }, album_year: { entries: 2 } });
    const row = rowOf(page, FOUND);
    await expect(row.getAttribute('class')).resolves.toContain('removed');
    expect((await shown(page)).state).toBe('removed');
    await expect(page.getByRole('button', { name: /^Remove track/ }).isDisabled()).resolves.toBe(true);

    await press(page, 'Restore track');
    const added = await logLine(page, 'local', 'track_added');
    expect(added.invalidated).toEqual({});
    expect(added.text).toContain('invalidates nothing');
    await expectStats(page, { track_metadata: { entries: 1, invalidations: 1 }, successful_api_metadata: { entries: 1, invalidations: 1 } });
    await expect(row.getAttribute('class')).resolves.not.toContain('removed');
    expect(errors).toEqual([]);
  });

  it('Change fingerprint (fingerprint_changed) removes the track_metadata stored with the old fingerprint, nothing else', async () => {
    const { page, errors } = await openDemo();
    for (const index of [OTHER_ALBUM, FOUND]) await choose(page, index);
    await expectStats(page, { track_metadata: { entries: 2 }, successful_api_metadata: { entries: 2 } });
    await press(page, 'Change fingerprint');
    expect((await logLine(page, 'local', 'fingerprint_changed')).invalidated).toEqual({ track_metadata: 1 });
    await expectStats(page, { track_metadata: { entries: 1, invalidations: 1 }, successful_api_metadata: { entries: 2, invalidations: 0 }, album_year: { entries: 2 } });
    // The tags are read again (under the new fingerprint); the API's answer is still cached.
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'fetch', api: 'cache', year: 'cache' });
    expect(errors).toEqual([]);
  });

  it('Library sync (library_sync) empties album_year and the demo’s artwork, nothing else', async () => {
    const { page, errors } = await openDemo();
    for (const index of [OTHER_ALBUM, FOUND]) await choose(page, index);
    await expectStats(page, { album_year: { entries: 2 } });
    await press(page, 'Library sync');
    expect((await logLine(page, 'local', 'library_sync')).invalidated).toEqual({ album_year: 2, artwork: 2 });
    await expectStats(page, { album_year: { entries: 0, invalidations: 2 }, track_metadata: { entries: 2 }, successful_api_metadata: { entries: 2 }, artwork: { entries: 0 } });
    expect(await choose(page, FOUND)).toMatchObject({ tags: 'cache', api: 'cache', year: 'fetch', cover: 'fetch' });
    expect(errors).toEqual([]);
  });

  it('Invalidate track and Invalidate everything (manual_invalidation) empty the event-driven types, for one track or all', async () => {
    const { page, errors } = await openDemo();
    for (const index of [NOT_FOUND, OTHER_ALBUM, FOUND]) await choose(page, index);
    await expectStats(page, { track_metadata: { entries: 3 }, successful_api_metadata: { entries: 2 }, album_year: { entries: 2 }, negative_result: { entries: 1 } });
    await press(page, 'Invalidate track');
    // Covers are tagged with their album, not a track: invalidating a track leaves them.
    expect((await logLine(page, 'local', 'manual_invalidation')).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 1, album_year: 0, artwork: 0 });
    await expectStats(page, { track_metadata: { entries: 2 }, successful_api_metadata: { entries: 1 }, album_year: { entries: 2 }, negative_result: { entries: 1 } });

    await press(page, 'Invalidate everything');
    await page.waitForFunction(() => document.querySelectorAll('[role="log"] li[data-event="manual_invalidation"]').length === 2);
    expect((await readLog(page))[0]).toMatchObject({
      event: 'manual_invalidation',
      invalidated: { track_metadata: 2, successful_api_metadata: 1, album_year: 2, artwork: albumsOf([NOT_FOUND, OTHER_ALBUM, FOUND]) },
    });
    // negative_result is time-based: events leave it alone.
    await expectStats(page, { track_metadata: { entries: 0 }, successful_api_metadata: { entries: 0 }, album_year: { entries: 0 }, negative_result: { entries: 1 } });
    expect(errors).toEqual([]);
  });

  it('Run cleanup reports what it removed; Clear cache empties every type', async () => {
    const { page, errors } = await openDemo();
    for (const index of [NOT_FOUND, FOUND]) await choose(page, index);
    const entries = 5 + albumsOf([NOT_FOUND, FOUND]);
    await expectStats(page, { total: { entries } });
    await press(page, 'Run cleanup');
    expect((await logLine(page, 'local', 'cleanup()')).text).toContain('0 expired and 0 evicted');
    await expectStats(page, { total: { entries } });
    await press(page, 'Clear cache');
    await logLine(page, 'local', 'clear()');
    // The selected track's panel no longer claims what the cache had.
    await expect(page.locator('.details .stale').textContent()).resolves.toContain('This tab cleared the cache');
    await expectStats(page, Object.fromEntries([...Object.keys(new SmartCacheConfig(DEMO_CONFIG).getAllPolicies()), 'total'].map((type) => [type, { entries: 0, bytes: 0 }])));
    expect(errors).toEqual([]);
  });
});

describe('two tabs', () => {
  it('show each other’s events live, marked remote, and the invalidated entries are gone in both', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    await choose(a.page, FOUND);
    // Persistent entries live in IndexedDB, shared: the other tab counts them, and reads them as hits.
    await expectStats(b.page, { track_metadata: { entries: 1 }, successful_api_metadata: { entries: 1 }, album_year: { entries: 1 } });
    expect(await choose(b.page, FOUND)).toMatchObject({ tags: 'cache', api: 'cache', year: 'cache' });

    await press(a.page, 'Modify track');
    expect((await logLine(a.page, 'local', 'track_modified')).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 1, artwork: 1 });
    const remote = await logLine(b.page, 'remote', 'track_modified');
    expect(remote.invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 1, artwork: 1 });
    expect(remote.text).toContain(tracks[FOUND]!.title);
    await expectStats(b.page, { track_metadata: { entries: 0 }, successful_api_metadata: { entries: 0 }, album_year: { entries: 1 } });
    // The other tab's library follows the event too, and its panel says the entries changed.
    await expect(rowOf(b.page, FOUND).locator('.badge').textContent()).resolves.toBe('edited ×1');
    await expect(b.page.locator('.details .stale').textContent()).resolves.toContain('Another tab emitted track_modified');

    await press(b.page, 'Library sync');
    expect((await logLine(a.page, 'remote', 'library_sync')).invalidated).toEqual({ album_year: 1, artwork: 0 });
    await expectStats(a.page, { album_year: { entries: 0 } });
    expect((await readLog(b.page)).map((line) => [line.source, line.event])).toEqual([
      ['local', 'library_sync'],
      ['remote', 'track_modified'],
    ]);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('an event’s removals from IndexedDB count in the emitting tab’s Inval. column; the other tab, whose log lists them, says why its own stays 0', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    await choose(a.page, FOUND);
    await press(a.page, 'Modify track');
    expect((await logLine(b.page, 'remote', 'track_modified')).invalidated).toMatchObject({ track_metadata: 1, successful_api_metadata: 1 });
    await expectStats(a.page, { track_metadata: { entries: 0, invalidations: 1 }, successful_api_metadata: { invalidations: 1 } });
    await expectStats(b.page, { track_metadata: { entries: 0, invalidations: 0 }, successful_api_metadata: { invalidations: 0 } });
    await expect(b.page.locator('.inspector caption').textContent()).resolves.toContain(
      'the counters are this tab’s own: an event’s removals from IndexedDB count in the tab that emitted it, though every tab’s log lists them',
    );
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('another tab’s Clear cache marks the panel stale: what it shows is gone from the shared store', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    await choose(b.page, FOUND);
    await press(a.page, 'Clear cache');
    await logLine(a.page, 'local', 'clear()');
    await expectStats(b.page, { track_metadata: { entries: 0 } });
    await expect(b.page.locator('.details .stale').textContent()).resolves.toContain('Another tab’s clear(), or site data cleared, emptied the cache');
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('another tab’s Clear cache is in the log, marked remote; it empties this tab’s memory types too, as the clearing tab’s line says', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    // A “not found” is kept in negative_result, a memory type: this tab's own.
    await choose(b.page, NOT_FOUND);
    await expectStats(b.page, { negative_result: { entries: 1 } });
    await press(a.page, 'Clear cache');
    expect((await logLine(a.page, 'local', 'clear()')).text).toContain('IndexedDB (shared by all tabs) and every tab’s memory');
    expect((await logLine(b.page, 'remote', 'clear()')).text).toContain('emptied from outside this tab (another tab’s clear(), or site data cleared): IndexedDB and this tab’s memory');
    await expectStats(b.page, { negative_result: { entries: 0 }, total: { entries: 0 } });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('site data cleared (DevTools’ “Clear site data”) with no other tab open: the log and the panel do not say another tab cleared the cache', async () => {
    const { page, errors } = await openDemo();
    await choose(page, FOUND);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(page.url()).origin, storageTypes: 'all' });
    // Heard by the watch at the tab's next call (the inspector's next stats()), as another tab's clear() is.
    const line = await logLine(page, 'remote', 'clear()');
    await expectStats(page, { total: { entries: 0 } });
    const stale = await page.locator('.details .stale').textContent();
    expect({ line: line.text, stale }).toEqual({ line: expect.stringContaining('site data cleared'), stale: expect.stringContaining('site data cleared') });
    expect(`${line.text} ${stale}`).not.toMatch(/another tab (emptied|cleared)/i);
    expect(errors).toEqual([]);
  });

  it('a lookup of a track another tab is already fetching shares that fetch, and says so', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name, '', '1500');
    const b = await openDemo(name, '', '1500');
    await a.page.bringToFront();
    await rowOf(a.page, FOUND).click();
    await a.page.waitForFunction(() => document.querySelector<HTMLElement>('.details')?.dataset['state'] === 'loading');
    const parts = await choose(b.page, FOUND);
    expect(parts).toMatchObject({ api: 'shared' });
    // The album year (an API call) and the cover (drawn) come once the API has answered, which both tabs
    // hear at once: for each, one tab fetches and the other shares it (or reads it, stored already) — either
    // tab. So this tab's API calls are its album year's, if it fetched that, and only a lookup that fetched
    // nothing itself says it waited.
    expect(['shared', 'cache', 'fetch']).toContain(parts.year);
    expect(['shared', 'cache', 'fetch']).toContain(parts.cover);
    const fetchedNothing = [parts.tags, parts.year, parts.cover].every((from) => from !== 'fetch');
    await expect(b.page.locator('.details .timing').textContent()).resolves.toMatch(
      fetchedNothing ? /waited for what another lookup was already fetching/ : /the cache asked the file or the API/,
    );
    await expect(b.page.locator('#api-calls').textContent()).resolves.toBe(parts.year === 'fetch' ? '1' : '0');
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('“Open a second tab” pressed while the cache still starts opens a tab of this cache, with this tab’s URL parameters', async () => {
    const page = await browser.context.newPage();
    pages.push(page);
    // The cache's worker script held back: the page says it is starting its worker.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/assets\/entry-[\w-]+\.js$/, async (route) => {
      await released;
      await route.continue();
    });
    const url = `${inject('baseUrl')}/?name=${uniqueName('demo')}&latency=0`;
    await page.goto(url);
    await expect(page.locator('#status').textContent()).resolves.toBe('Starting the cache worker…');
    const opened = browser.context.waitForEvent('page');
    await page.getByRole('link', { name: /Open a second tab/ }).click();
    const second = await opened;
    pages.push(second);
    await second.waitForLoadState();
    release();
    expect(second.url()).toBe(url);
  });

  it('a tab opened after some events (or one reloaded) shows the library as they left it, not as generated', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    await choose(a.page, FOUND);
    await press(a.page, 'Modify track');
    await logLine(a.page, 'local', 'track_modified');
    await choose(a.page, NOT_FOUND);
    await press(a.page, 'Remove track');
    await logLine(a.page, 'local', 'track_removed');
    const b = await openDemo(name);
    await expect(rowOf(b.page, FOUND).locator('.badge').textContent()).resolves.toBe('edited ×1');
    await expect(rowOf(b.page, NOT_FOUND).locator('.badge').textContent()).resolves.toBe('removed');
    expect(await choose(b.page, NOT_FOUND)).toMatchObject({ state: 'removed' });
    await a.page.reload();
    await a.page.waitForFunction(() => document.body.dataset['ready'] === 'true');
    await expect(rowOf(a.page, NOT_FOUND).locator('.badge').textContent()).resolves.toBe('removed');
    // Another cache name is another library: as generated.
    const c = await openDemo();
    await expect(rowOf(c.page, FOUND).locator('.badge').count()).resolves.toBe(0);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });
  it('a tab that starts while another’s event is on its way takes it: its library agrees with the other’s', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    await choose(a.page, FOUND);
    // The second tab's page stalls right after reading the library the first kept (a busy main thread:
    // here a synchronous request the test answers later), and only then starts its cache.
    const page = await browser.context.newPage();
    pages.push(page);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.addInitScript(() => {
      const getItem = Storage.prototype.getItem;
      let stalled = false;
      Storage.prototype.getItem = function (key) {
        const value = getItem.call(this, key);
        if (!stalled && key.startsWith('reprise-demo-library:')) {
          stalled = true;
          const request = new XMLHttpRequest();
          request.open('GET', '/stall-after-reading-the-library', false);
          request.send();
        }
        return value;
      };
    });
    let stalled!: () => void;
    const reading = new Promise<void>((resolve) => (stalled = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    await page.route('**/stall-after-reading-the-library', async (route) => {
      stalled();
      await resumed;
      await route.fulfill({ status: 204 });
    });
    const opened = page.goto(`${inject('baseUrl')}/?name=${name}&latency=0`);
    await reading;
    // Logged before the second tab's cache starts (so never told to it), kept by the first after the second read.
    await press(a.page, 'Remove track');
    await logLine(a.page, 'local', 'track_removed');
    resume();
    await opened;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
    await page.waitForFunction((id) => !!document.querySelector(`[role="option"][data-track-id="${id}"]`), tracks[FOUND]!.id);
    await expect(rowOf(page, FOUND).getAttribute('class')).resolves.toContain('removed');
    expect([...a.errors, ...errors]).toEqual([]);
  });
});

describe('the selected track’s panel follows the events that reach its entries', () => {
  /** Clicks the row of track `index` and waits until its lookup has started (not ended). */
  async function startLookup(page: Page, index: number): Promise<void> {
    await page.bringToFront();
    await rowOf(page, index).click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.details')?.dataset['state'] === 'loading');
  }

  it('says it is stale where it can be seen: in view at the top of the panel, not below the end it scrolls to', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    await choose(a.page, FOUND);
    await choose(b.page, FOUND);
    await press(a.page, 'Modify track');
    await b.page.waitForSelector('.details .stale', { state: 'attached' });
    const seen = await b.page.evaluate(() => {
      const details = document.querySelector('.details')!.getBoundingClientRect();
      const stale = document.querySelector('.details .stale')!.getBoundingClientRect();
      return { belowTop: stale.top >= details.top, aboveBottom: stale.bottom <= details.bottom, text: document.querySelector('.details .stale')!.textContent };
    });
    expect(seen).toEqual({ belowTop: true, aboveBottom: true, text: expect.stringContaining('Another tab emitted track_modified') });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('a track removed while its lookup runs is still shown removed once the lookup ends', async () => {
    const { page, errors } = await openDemo(uniqueName('demo'), '', '1500');
    await startLookup(page, NOT_FOUND);
    await press(page, 'Remove track');
    await logLine(page, 'local', 'track_removed');
    // The lookup (one API call of 1.5 s, then the cover) ends meanwhile.
    await page.waitForTimeout(3_000);
    expect(await shown(page)).toMatchObject({ state: 'removed' });
    await expect(page.getByRole('button', { name: /^Restore track/ }).isDisabled()).resolves.toBe(false);
    expect(errors).toEqual([]);
  });

  it('a removed track chosen while another track’s lookup runs is still shown, removed, once that lookup ends', async () => {
    const { page, errors } = await openDemo(uniqueName('demo'), '', '1500');
    await startLookup(page, NOT_FOUND);
    await press(page, 'Remove track');
    await logLine(page, 'local', 'track_removed');
    await startLookup(page, FOUND);
    await rowOf(page, NOT_FOUND).click();
    // The lookup of the track chosen before ends meanwhile: its API call, then its album year's (the third call), 1.5 s each, then its cover.
    await page.waitForFunction(() => window.demo.api.calls === 3, null, { timeout: 10_000 });
    await page.waitForTimeout(2_500);
    const details = await page.evaluate(() => ({ ...document.querySelector<HTMLElement>('.details')!.dataset }));
    expect(details).toMatchObject({ state: 'removed', trackId: tracks[NOT_FOUND]!.id });
    expect(errors).toEqual([]);
  });

  it('a track modified while its lookup runs is shown with what it read, marked stale', async () => {
    const { page, errors } = await openDemo(uniqueName('demo'), '', '1500');
    await startLookup(page, FOUND);
    await press(page, 'Modify track');
    await logLine(page, 'local', 'track_modified');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.details')?.dataset['state'] === 'done', null, { timeout: 10_000 });
    await expect(page.locator('.details .stale').count()).resolves.toBe(1);
    await expect(page.locator('.details .stale').textContent()).resolves.toContain('This tab emitted track_modified');
    expect(errors).toEqual([]);
  });

  it('another track of its album modified (in another tab) takes its API metadata and cover: the panel says so', async () => {
    const name = uniqueName('demo');
    const a = await openDemo(name);
    const b = await openDemo(name);
    expect(await choose(a.page, FOUND)).toMatchObject({ state: 'done', api: 'fetch', cover: 'fetch' });
    await choose(b.page, ALBUM_MATE);
    await press(b.page, 'Modify track');
    // The album's API metadata (of both tracks) and its cover are gone, in both tabs.
    expect((await logLine(a.page, 'remote', 'track_modified')).invalidated).toEqual({ track_metadata: 1, successful_api_metadata: 2, artwork: 1 });
    await expect(a.page.locator('.details .stale').count()).resolves.toBe(1);
    expect(await choose(a.page, FOUND)).toMatchObject({ tags: 'cache', api: 'fetch', cover: 'fetch' });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});

describe('errors', () => {
  it('a call that fails shows the CacheError’s code and message: in the log, the panel, the batch line and the status line', async () => {
    const { page, errors } = await openDemo();
    await choose(page, FOUND);
    // From the DevTools console (window.demo): every call after close() rejects with code closed.
    await page.evaluate(() => window.demo.cache.close());
    await press(page, 'Library sync');
    expect((await logLine(page, 'local', 'error')).text).toContain('Library sync failed: closed: This cache is closed');
    expect(await choose(page, OTHER_ALBUM)).toMatchObject({ state: 'failed' });
    await expect(page.locator('.details .error').textContent()).resolves.toBe('The lookup failed: closed: This cache is closed');
    await page.getByRole('button', { name: 'Look up visible tracks' }).click();
    await page.waitForFunction(() => /failed/.test(document.querySelector('#batch-status')?.textContent ?? ''));
    await expect(page.locator('#batch-status').textContent()).resolves.toMatch(/failed \(closed: This cache is closed\)$/);
    await page.waitForFunction(() => /^stats\(\) failed/.test(document.getElementById('status')?.textContent ?? ''));
    await expect(page.locator('#status').textContent()).resolves.toBe('stats() failed: closed: This cache is closed');
    expect(errors).toEqual([]);
  });

  it('what Reprise reports to its logger (here a listener that throws) shows in the log as a report, and in the console', async () => {
    const { page, errors } = await openDemo();
    // From the DevTools console (window.demo): a listener of the app that fails.
    await page.evaluate(() => {
      window.demo.cache.on('library_sync', () => {
        throw new Error('the app’s listener broke');
      });
    });
    await press(page, 'Library sync');
    expect((await logLine(page, 'local', 'report')).text).toContain('Reprise: a handler for library_sync failed: the app’s listener broke');
    expect((await logLine(page, 'local', 'library_sync')).event).toBe('library_sync');
    expect(errors).toEqual([expect.stringContaining('Reprise: a handler for library_sync failed')]);
  });
});

describe('a screenshot for people to look at', () => {
  it('saves test-results/demo.png of the page in use', async () => {
    const name = uniqueName('demo');
    const { page, errors } = await openDemo(name);
    const other = await openDemo(name);
    await page.bringToFront();
    await page.getByRole('button', { name: 'Look up visible tracks' }).click();
    await page.waitForFunction(() => /ms:/.test(document.querySelector('#batch-status')?.textContent ?? ''));
    await page.getByRole('button', { name: 'Look up visible tracks' }).click();
    await page.waitForFunction(() => /from the cache alone, 0 fetched/.test(document.querySelector('#batch-status')?.textContent ?? ''));
    await choose(page, ALBUM_MATE);
    await press(page, 'Modify track');
    await logLine(page, 'local', 'track_modified');
    await press(other.page, 'Library sync');
    await logLine(page, 'remote', 'library_sync');
    await choose(page, FOUND);
    await choose(page, FOUND);
    // A few samples of the hit-rate chart.
    await page.waitForTimeout(2_000);
    const path = 'test-results/demo.png';
    await page.screenshot({ path, fullPage: true });
    expect((await stat(path)).size).toBeGreaterThan(20_000);
    expect(errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });
});
