// The packed tarball in apps served as static files: a webpack 5 production build (and the
// development build `webpack serve` compiles), and a page with
// no bundler at all (an import map to the installed files). Each on 127.0.0.1 and on a plain-http
// origin (http://reprise.test: no Web Locks, no crypto.subtle), in Chromium. And an esbuild bundle,
// which emits no worker: createCache names the fix, and with it the app works.
import { copyFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Configuration, Stats } from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';
import { STARTED, useConsumerApp } from './consumerApp';
import { apps, freePort } from './packedConsumers';
import { PLAIN_HTTP_HOST } from './serve';

let folder: string;
/** What each webpack build wrote, in webpack/dist-<mode>/. */
let emitted: Record<WebpackMode, string[]>;
let esbuilt: { plain: string; copied: string };
let origin: string;
let close: () => Promise<void>;

beforeAll(async () => {
  folder = await apps();
  emitted = { production: await buildWithWebpack(join(folder, 'webpack'), 'production'), development: await buildWithWebpack(join(folder, 'webpack'), 'development') };
  esbuilt = await buildWithEsbuild(join(folder, 'esbuild'));
  // A plain static server over the apps folder (Vite's preview: files as they are, 404 for what is missing).
  const { preview } = await import('vite');
  const server = await preview({
    root: folder,
    configFile: false,
    appType: 'mpa',
    build: { outDir: folder },
    // cors: the sandboxed frame's origin is opaque, and it fetches the module files with CORS.
    preview: { host: '127.0.0.1', port: await freePort(), strictPort: true, allowedHosts: [PLAIN_HTTP_HOST], cors: true },
    logLevel: 'warn',
  });
  origin = (server.resolvedUrls?.local[0] ?? '').replace(/\/$/, '');
  close = () => server.close();
}, 240_000);

afterAll(async () => {
  await close?.();
});

type WebpackMode = 'production' | 'development';

/**
 * `webpack` with the app's webpack.config.js, as `npx webpack` would, or in development mode as
 * `webpack serve --mode development` compiles it (eval'd modules, no minifier), in dist-<mode>/; the
 * names of the files it wrote.
 */
async function buildWithWebpack(app: string, mode: WebpackMode): Promise<string[]> {
  const webpack = createRequire(join(folder, 'package.json'))('webpack') as (config: Configuration, done: (error: Error | null, stats?: Stats) => void) => void;
  const config = ((await import(join(app, 'webpack.config.js'))) as { default: Configuration }).default;
  const dist = join(app, `dist-${mode}`);
  const stats = await new Promise<Stats>((resolve, reject) =>
    webpack({ ...config, mode, output: { ...config.output, path: dist } }, (error, result) => (error || !result ? reject(error) : resolve(result))),
  );
  if (stats.hasErrors()) throw new Error(stats.toString('errors-only'));
  // webpack writes no HTML of its own: the page that loads its bundle.
  await copyFile(join(app, 'webpack.html'), join(dist, 'index.html'));
  return (await readdir(dist)).sort();
}

/**
 * The app bundled by esbuild (`--bundle --format=esm`, with and without `--splitting`), which leaves
 * `new Worker(new URL(…, import.meta.url))` as it is and emits no worker: as it is (main.js, in
 * dist/), and with the fix worker_failed names (copiedWorker.js, in dist-copied/: `reprise/worker`
 * copied beside the bundle as reprise-worker.js). The pages' paths under the apps folder.
 */
async function buildWithEsbuild(app: string): Promise<{ plain: string; copied: string }> {
  const require = createRequire(join(folder, 'package.json'));
  const esbuild = require('esbuild') as typeof import('esbuild');
  const build = async (entry: string, out: string, splitting: boolean) => {
    const outdir = join(app, out);
    await esbuild.build({ entryPoints: { main: join(app, entry) }, bundle: true, format: 'esm', splitting, outdir, logLevel: 'warning' });
    await copyFile(join(app, 'index.html'), join(outdir, 'index.html'));
    return outdir;
  };
  await build('main.js', 'dist', false);
  await copyFile(require.resolve('reprise/worker'), join(await build('copiedWorker.js', 'dist-copied', true), 'reprise-worker.js'));
  return { plain: '/esbuild/dist/index.html', copied: '/esbuild/dist-copied/index.html' };
}

describe.each([
  ['127.0.0.1', false],
  [`${PLAIN_HTTP_HOST} (plain http)`, true],
] as const)('served as static files from %s', (_, plainHttp) => {
  const browser = useBrowser({ plainHttp });
  const at = (path: string) => (plainHttp ? origin.replace('127.0.0.1', PLAIN_HTTP_HOST) : origin) + path;

  it.each([
    ['production', 'npx webpack'],
    ['development', 'what webpack serve compiles'],
  ] as const)(
    'webpack 5, %s build (%s): the worker is its own chunk, reprise-worker.js; values survive a reload, events reach another tab',
    async (mode, _command) => {
      console.log(`webpack (${mode}) wrote`, emitted[mode]);
      const seen = await useConsumerApp(browser.context, at(`/webpack/dist-${mode}/index.html`));
      console.log(at(`/webpack/dist-${mode}/`), JSON.stringify(seen));
      expect(seen).toMatchObject({ started: true, secureContext: !plainHttp, ...STARTED });
      expect(seen.started && seen.workers).toEqual([`/webpack/dist-${mode}/reprise-worker.js`]);
      // Only the app's chunks: nothing else of the package (its types, its maps) came along.
      expect(emitted[mode].filter((file) => !/\.js(\.LICENSE\.txt)?$/.test(file) && file !== 'index.html')).toEqual([]);
    },
  );

  it('no bundler: a <script type="module"> page with an import map to the installed files', async () => {
    const seen = await useConsumerApp(browser.context, at('/nobundler/index.html'));
    console.log(at('/nobundler/'), JSON.stringify(seen));
    expect(seen).toMatchObject({ started: true, secureContext: !plainHttp, ...STARTED });
    expect(seen.started && seen.workers).toEqual(['/node_modules/reprise/dist/lib/assets/reprise-worker.js']);
  });
});

describe('a sandboxed iframe (no allow-same-origin: an opaque origin)', () => {
  const browser = useBrowser();

  it('createCache rejects with worker_failed; with worker: false the cache works in memory, getOrSet too (Web Locks refuse every request there); nothing is left unhandled', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/nobundler/sandboxed.html`);
      const seen = await page.waitForFunction(() => (window as unknown as { sandboxed?: unknown }).sandboxed, null, { timeout: 30_000 }).then((handle) => handle.jsonValue());
      console.log(JSON.stringify(seen));
      expect(seen).toEqual({ origin: 'null', unhandled: [], auto: 'worker_failed', get: 1, fetched: 1999, again: 1999, storage: 'memory', logged: 1 });
    } finally {
      await page.close();
    }
  });
});

describe('esbuild, which emits no worker', () => {
  const browser = useBrowser();

  it('as it is: createCache rejects with worker_failed naming the fix (copy reprise/worker, pass worker), and nothing is left unhandled', async () => {
    const seen = await useConsumerApp(browser.context, origin + esbuilt.plain);
    console.log(origin + esbuilt.plain, JSON.stringify(seen));
    expect(seen).toMatchObject({ started: false, error: { code: 'worker_failed' }, errors: [] });
    expect(!seen.started && seen.error.message).toContain('copy the file `reprise/worker`');
    expect(!seen.started && seen.error.message).toContain("`worker: () => new Worker('/reprise-worker.js', { type: 'module' })` with the URL of that copy");
  });

  it('with the fix the error names: the worker loads, values survive a reload, events reach another tab', async () => {
    const seen = await useConsumerApp(browser.context, origin + esbuilt.copied);
    console.log(origin + esbuilt.copied, JSON.stringify(seen));
    expect(seen).toMatchObject({ started: true, ...STARTED });
    expect(seen.started && seen.workers).toEqual(['/esbuild/dist-copied/reprise-worker.js']);
  });
});
