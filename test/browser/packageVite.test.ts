// The packed tarball in a Vite app, with no configuration for Reprise: Vite 6, 7 and 8, each as a
// dev server and as a production build served by `vite preview`, in Chromium. And the README's Vite
// section as written: its main.ts (a top-level await) built by each.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';
import { STARTED, useConsumerApp } from './consumerApp';
import { apps, freePort, type Bundler } from './packedConsumers';
import { readmeBlocks } from '../support/readmeBlocks';

type Vite = typeof import('vite');
type ViteBundler = Extract<Bundler, `vite${number}`>;

let folder: string;
const browser = useBrowser();

beforeAll(async () => {
  folder = await apps();
}, 240_000);

/** The app's own Vite, its own vite.config.js (where to listen, nothing else). */
async function vite(bundler: ViteBundler, root = join(folder, bundler)) {
  const api = (await import(join(folder, 'node_modules', bundler, 'dist/node/index.js'))) as Vite;
  // The apps share one node_modules: each Vite keeps its pre-bundled dependencies apart.
  const config = { root, configFile: join(root, 'vite.config.js'), cacheDir: join(root, '.vite'), logLevel: 'warn' as const };
  return { api, config };
}

async function devServer(bundler: ViteBundler, extra: { optimizeDeps?: { exclude: string[] }; cacheDir?: string } = {}) {
  const { api, config } = await vite(bundler);
  const server = await api.createServer({ ...config, ...extra, server: { port: await freePort(), strictPort: true } });
  await server.listen();
  return { url: server.resolvedUrls?.local[0] ?? '', close: () => server.close() };
}

/**
 * A dev server in the usual layout: the root holds node_modules and Vite's cache folder is in it (by
 * default `node_modules/.vite`; one per Vite here, as they share it). The app is `/<bundler>/`.
 */
async function devServerAtRoot(bundler: ViteBundler) {
  const { api, config } = await vite(bundler);
  const server = await api.createServer({ ...config, root: folder, cacheDir: join(folder, 'node_modules', `.${bundler}-dev`), server: { port: await freePort(), strictPort: true } });
  await server.listen();
  return { url: `${server.resolvedUrls?.local[0] ?? ''}${bundler}/`, close: () => server.close() };
}

async function buildAndPreview(bundler: ViteBundler, root?: string) {
  const { api, config } = await vite(bundler, root);
  await api.build(config);
  const server = await api.preview({ ...config, preview: { host: '127.0.0.1', port: await freePort(), strictPort: true } });
  return { url: server.resolvedUrls?.local[0] ?? '', close: () => server.close() };
}

async function useApp(server: { url: string; close: () => Promise<void> }) {
  try {
    const seen = await useConsumerApp(browser.context, server.url);
    console.log(server.url, JSON.stringify(seen));
    return seen;
  } finally {
    await server.close();
  }
}

describe.each(['vite6', 'vite7', 'vite8'] as const)('the packed tarball in a %s app', (bundler) => {
  it('built and previewed: the worker loads, values survive a reload, events reach another tab, nothing goes unhandled', async () => {
    const seen = await useApp(await buildAndPreview(bundler));
    expect(seen).toMatchObject({ started: true, ...STARTED });
    expect(seen.started && seen.workers).toEqual([expect.stringMatching(/\/assets\/reprise-worker-[\w-]+\.js$/)]);
  });
});

describe('the packed tarball on a Vite dev server', () => {
  it('Vite 8: works with no configuration', async () => {
    const seen = await useApp(await devServer('vite8'));
    expect(seen).toMatchObject({ started: true, ...STARTED });
    // Vite 8 pre-bundles Reprise and points the worker's URL back into the package.
    expect(seen.started && seen.workers).toEqual([expect.stringMatching(/\/node_modules\/reprise\/dist\/lib\/assets\/reprise-worker\.js$/)]);
  });

  it.each(['vite6', 'vite7'] as const)(
    "%s: works with no configuration where Reprise is in the node_modules that holds Vite's cache folder (esbuild's pre-bundling moves Reprise away from its worker; Reprise finds the package's)",
    async (bundler) => {
      const seen = await useApp(await devServerAtRoot(bundler));
      expect(seen).toMatchObject({ started: true, ...STARTED });
      expect(seen.started && seen.workers).toEqual(['/node_modules/reprise/dist/lib/assets/reprise-worker.js']);
    },
  );

  it.each(['vite6', 'vite7'] as const)(
    "%s: where it is not (a monorepo's layout: the app's node_modules holds Vite's cache, Reprise is in the parent's), createCache rejects with worker_failed naming the one-line fix, and nothing is left unhandled",
    async (bundler) => {
      const seen = await useApp(await devServer(bundler, { cacheDir: join(folder, bundler, 'node_modules', '.vite') }));
      expect(seen).toMatchObject({ started: false, error: { code: 'worker_failed' }, errors: [] });
      expect(!seen.started && seen.error.message).toContain("add `optimizeDeps: { exclude: ['reprise'] }` to its vite.config");
    },
  );

  it.each(['vite6', 'vite7'] as const)('%s: with the fix the error names, it works', async (bundler) => {
    const seen = await useApp(await devServer(bundler, { optimizeDeps: { exclude: ['reprise'] } }));
    expect(seen).toMatchObject({ started: true, ...STARTED });
  });
});

describe("the README's Vite section, as written", () => {
  const blocks = readmeBlocks().filter((block) => block.section === 'First use');
  const mainTs = blocks.find((block) => block.code.startsWith('// main.ts'))!;
  /** The vite.config.js the section gives for `vite build` of Vite 5 and 6 (7 and 8 need none). */
  const buildConfig = blocks.find((block) => block.code.startsWith('// vite.config.js') && block.code.includes('build:'));

  it.each([
    ['vite6', buildConfig?.code],
    ['vite7', undefined],
    ['vite8', undefined],
  ] as const)('%s: `vite build` of its main.ts (a top-level await), with the vite.config.js it gives that version: the cache starts in its worker', async (bundler, viteConfig) => {
    const root = join(folder, `${bundler}-readme`);
    await mkdir(root, { recursive: true });
    await copyFile(join(folder, 'app/index.html'), join(root, 'index.html'));
    // The section's main.ts, then one line that shows the page's cache to the test.
    await writeFile(join(root, 'main.js'), `${mainTs.code}\nObject.assign(window, { readmeStats: await cache.stats() });\n`);
    await writeFile(join(root, 'vite.config.js'), viteConfig ?? 'export default {};');
    const server = await buildAndPreview(bundler, root);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`uncaught: ${String(error)}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    try {
      await page.goto(server.url);
      const stats = await page.waitForFunction(() => (window as { readmeStats?: unknown }).readmeStats).then((handle) => handle.jsonValue());
      expect({ stats, workers: page.workers().length, errors }).toMatchObject({ stats: { types: { track_metadata: { storage: 'indexeddb' } } }, workers: 1, errors: [] });
    } finally {
      await page.close();
      await server.close();
    }
  });
});
