// The built demo as an offline PWA: built with the project's own config (`vite build`), served by
// `vite preview` on 127.0.0.1 (a secure context, so its service worker registers), then taken offline.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, useBrowser } from './chromium';
import { freePort } from './packedConsumers';

const root = new URL('../..', import.meta.url).pathname;
const configFile = join(root, 'vite.config.ts');

let outDir: string;
let server: PreviewServer;
let url: string;
const browser = useBrowser();

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'reprise-demo-'));
  await build({ root, configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = await preview({ root, configFile, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: await freePort(), strictPort: true } });
  url = server.resolvedUrls?.local[0] ?? '';
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(outDir, { recursive: true, force: true });
});

/** Chooses the track row at `index` and waits for its lookup; where each part came from. */
async function lookUp(page: Page, index: number) {
  const row = page.locator('[role="option"]').nth(index);
  const id = await row.getAttribute('data-track-id');
  await row.click();
  await page.waitForFunction((id) => {
    const details = document.querySelector<HTMLElement>('.details');
    return details?.dataset['trackId'] === id && details.dataset['state'] === 'done';
  }, id);
  return page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll<HTMLElement>('.details [data-part]')].map((part) => [part.dataset['part'], part.dataset['from']])),
  );
}

const ready = (page: Page) => page.waitForFunction(() => document.body.dataset['ready'] === 'true');

describe('the demo as an offline PWA', () => {
  it('has a web manifest with an icon, and a service worker that precaches the page, its scripts and the cache worker', async () => {
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.webmanifest'), 'utf8')) as { name: string; display: string; icons: { src: string }[] };
    expect(manifest).toMatchObject({ short_name: 'Reprise', display: 'standalone', start_url: '.' });
    expect(manifest.icons.map((icon) => icon.src)).toEqual(['reprise.svg']);
    const sw = await readFile(join(outDir, 'sw.js'), 'utf8');
    expect(sw).toContain('index.html');
    // The cache's module worker is an asset of its own: offline, it must come from the precache too.
    expect(sw).toMatch(/assets\/entry-[\w-]+\.js/);
  });

  it('loads offline after one visit, and the tracks looked up before answer from the cache with no API call', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const name = uniqueName('offline');
    await page.goto(`${url}?name=${name}&latency=0`);
    await ready(page);
    // The service worker takes the page over (clientsClaim) once it has precached everything.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    expect(await lookUp(page, 0)).toMatchObject({ tags: 'fetch', api: 'fetch', cover: 'fetch' });
    expect(await lookUp(page, 1)).toMatchObject({ tags: 'fetch' });
    expect(Number(await page.locator('#api-calls').textContent())).toBeGreaterThan(0);

    await browser.context.setOffline(true);
    try {
      await page.reload();
      await ready(page);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Reprise');
      const first = await lookUp(page, 0);
      const second = await lookUp(page, 1);
      for (const parts of [first, second]) {
        expect(Object.values(parts).every((from) => from === 'cache'), JSON.stringify(parts)).toBe(true);
      }
      await expect(page.locator('#api-calls').textContent()).resolves.toBe('0');
      // Really offline: the network is not there for the page.
      expect(await page.evaluate(() => fetch('/no-such-file.json').then(() => 'fetched', () => 'failed'))).toBe('failed');
    } finally {
      await browser.context.setOffline(false);
    }
    expect(errors).toEqual([]);
  });
});
