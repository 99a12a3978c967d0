// reprise/tanstack-query in a React 19 app (test/fixtures/react-query) that installed the packed
// tarball, built by Vite and served by `vite preview`, in Chromium. Every request to the app's API
// (/api/…) is answered and counted here, across all tabs: a "fetch" is one of those.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';
import { freePort, reactQueryApp } from './packedConsumers';

type Vite = typeof import('vite');

const TITLES: Record<string, string> = { '/api/album/a1': 'Blue', '/api/track/t1': 'River', '/api/lyrics/t1': 'Snow' };

const browser = useBrowser();
let url: string;
let closeServer: () => Promise<void>;
/** The API requests of every tab, in order. */
const requests: string[] = [];
const errors: string[] = [];
let first: Page;
let second: Page;

const fetches = (path: string) => requests.filter((request) => request === path).length;

beforeAll(async () => {
  const folder = await reactQueryApp();
  const vite = (await import(join(folder, 'node_modules/vite/dist/node/index.js'))) as Vite;
  // 'error': React Query's "use client" directives make the bundler warn, which says nothing here.
  const config = { root: folder, configFile: join(folder, 'vite.config.js'), cacheDir: join(folder, '.vite'), logLevel: 'error' as const };
  await vite.build(config);
  const server = await vite.preview({ ...config, preview: { port: await freePort(), strictPort: true } });
  url = server.resolvedUrls?.local[0] ?? '';
  closeServer = () => server.close();
  // The API: each answer carries how many times its path was asked, so a refetch shows as a new version.
  await browser.context.route('**/api/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    requests.push(path);
    return route.fulfill({ json: { title: TITLES[path] ?? 'unknown', version: fetches(path) } });
  });
}, 240_000);

afterAll(async () => {
  await closeServer?.();
});

async function open(): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => errors.push(`uncaught: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  await rendered(page);
  return page;
}

/** Waits for the app to restore its persisted client and show all three queries; what it shows. */
async function rendered(page: Page) {
  await page.waitForFunction(() => document.querySelector('#status')?.textContent !== 'loading' && !document.querySelector('#root')?.textContent?.includes('…'));
  return page.evaluate(() => ({
    status: document.querySelector('#status')?.textContent,
    album: document.querySelector('#album')?.textContent,
    track: document.querySelector('#track')?.textContent,
    lyrics: document.querySelector('#lyrics')?.textContent,
    queryFnCalls: window.app.queryFnCalls,
  }));
}

/**
 * Waits until the persister has saved the album and the track (createPersister's throttle holds a save up
 * to a second), and the lyrics are in their own entry. Polled from here: waitForFunction takes the
 * promise an async predicate returns for a truthy answer, and so waits for nothing.
 */
async function persisted(page: Page) {
  const saved = () =>
    page.evaluate(async () => {
      const cache = window.app.cache!;
      const client = (await cache.get('successful_api_metadata', 'tanstack-query')) as { clientState: { queries: { queryKey: unknown[] }[] } } | undefined;
      const keys = client?.clientState.queries.map((query) => query.queryKey[0]) ?? [];
      return keys.includes('album') && keys.includes('track') && (await cache.has('track_metadata', 'tanstack-query-["lyrics","t1"]'));
    });
  await expect.poll(saved, { timeout: 10_000 }).toBe(true);
}

describe('reprise/tanstack-query in a React app built from the packed tarball', () => {
  it('after a reload both queries come back from the persister with 0 fetches, and the lyrics from createQueryStorage with 0', async () => {
    first = await open();
    expect(await rendered(first)).toEqual({
      status: 'ready',
      album: 'Blue v1',
      track: 'River v1',
      lyrics: 'Snow v1',
      queryFnCalls: { album: 1, track: 1, lyrics: 1 },
    });
    expect([...requests].sort()).toEqual(['/api/album/a1', '/api/lyrics/t1', '/api/track/t1']);
    await persisted(first);

    await first.reload();
    expect(await rendered(first)).toEqual({
      status: 'ready',
      album: 'Blue v1',
      track: 'River v1',
      lyrics: 'Snow v1',
      queryFnCalls: { album: 0, track: 0, lyrics: 0 },
    });
    expect(requests).toHaveLength(3);
  });

  it('createQueryStorage keeps each query of experimental_createQueryPersister as an entry of its type, as an object', async () => {
    const stored = await first.evaluate(async () => {
      const cache = window.app.cache!;
      return { keys: await cache.keys('track_metadata'), lyrics: await cache.get('track_metadata', 'tanstack-query-["lyrics","t1"]') };
    });
    expect(stored.keys).toEqual(['tanstack-query-["lyrics","t1"]', 'track:t1']);
    expect(stored.lyrics).toMatchObject({ queryKey: ['lyrics', 't1'], state: { status: 'success', data: { title: 'Snow', version: 1 } } });
    // Gone from the storage, the lyrics are fetched again on the next load.
    await first.evaluate(() => window.app.cache!.delete('track_metadata', 'tanstack-query-["lyrics","t1"]'));
    await first.reload();
    expect(await rendered(first)).toMatchObject({ lyrics: 'Snow v2', queryFnCalls: { album: 0, track: 0, lyrics: 1 } });
    expect(fetches('/api/lyrics/t1')).toBe(2);
    await persisted(first);
  });

  it('an event in tab A refetches the mapped query in both tabs, with 1 fetch in total', async () => {
    second = await open();
    expect(await rendered(second)).toMatchObject({ album: 'Blue v1', track: 'River v1', queryFnCalls: { album: 0, track: 0, lyrics: 0 } });
    const before = requests.length;

    await first.evaluate(() => window.app.cache!.emit({ eventType: 'track_modified', trackId: 't1' }));
    // Until each tab shows a refetched track (v2 if one fetch served both): a tab that fetched again
    // shows v3, and says so below rather than as a timeout.
    const refetched = (page: Page) => page.waitForFunction(() => !['River v1', '…'].includes(document.querySelector('#track')?.textContent ?? '…'), undefined, { timeout: 20_000 });
    try {
      await Promise.all([refetched(first), refetched(second)]);
    } catch (error) {
      // A tab that never refetched: what each shows, and where each keeps its entries.
      const state = (page: Page) =>
        page.evaluate(async () => {
          const { types, degraded } = await window.app.cache!.stats();
          return { track: document.querySelector('#track')?.textContent, calls: window.app.queryFnCalls, track_metadata: types.track_metadata, degraded };
        });
      console.log('not refetched in both tabs:', JSON.stringify({ tabs: await Promise.all([state(first), state(second)]), requests: requests.slice(before), errors }));
      throw error;
    }
    // Late requests would show here.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requests.slice(before)).toEqual(['/api/track/t1']);
    for (const page of [first, second]) {
      expect(await rendered(page)).toMatchObject({ album: 'Blue v1', track: 'River v2', queryFnCalls: { album: 0, track: 1 } });
    }
  });

  it('nothing went unhandled or logged as an error', async () => {
    const unhandled = await Promise.all([first, second].map((page) => page.evaluate(() => window.app.unhandled)));
    expect({ errors, unhandled }).toEqual({ errors: [], unhandled: [[], []] });
  });
});

declare global {
  interface Window {
    app: {
      cache: import('../../src/index').Cache | undefined;
      queryFnCalls: { album: number; track: number; lyrics: number };
      unhandled: string[];
    };
  }
}
