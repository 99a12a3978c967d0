// The packed library, installed by an app: build it, `npm pack`, install the tarball into the
// fixture app in a temporary folder, build the app with its own Vite, serve it and use it in Chromium.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Browser } from './chromium';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

let folder: string;
let close: () => Promise<void>;
let url: string;
let browser: Browser;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'reprise-consumer-'));
  // Built first, then packed without scripts: npm pack's --json output then holds nothing but JSON.
  await run('npm', ['run', 'build:lib'], { cwd: root });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', folder], { cwd: root });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const app = join(folder, 'app');
  await cp(new URL('../fixtures/consumer', import.meta.url).pathname, app, { recursive: true });
  const { devDependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
  manifest['dependencies'] = { reprise: `file:${join(folder, filename)}` };
  manifest['devDependencies'] = { vite: devDependencies['vite'] };
  await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  // Everything it needs is already in npm's cache from the project's own install.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
  await run(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app });
  const vite = (await import(join(app, 'node_modules/vite/dist/node/index.js'))) as typeof import('vite');
  const server = await vite.preview({ root: app, configFile: join(app, 'vite.config.js'), preview: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' });
  url = server.resolvedUrls?.local[0] ?? '';
  close = () => server.close();
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.dispose();
  await close?.();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('the packed tarball in an app', () => {
  it('installs with its worker, types and nothing else', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = files.map((file) => file.path);
    expect(paths).toContain('dist/lib/reprise.js');
    expect(paths.some((path) => /^dist\/lib\/assets\/entry-[\w-]+\.js$/.test(path))).toBe(true);
    expect(paths).toContain('dist/types/src/index.d.ts');
    expect(paths.filter((path) => path.startsWith('test/') || path.startsWith('dist/demo') || path.startsWith('dist/types/test'))).toEqual([]);
  });

  it('loads its worker, keeps values across a reload, and carries an event to another tab', async () => {
    const open = async () => {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.goto(url);
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready');
      return { page, errors };
    };
    const first = await open();
    const workers = first.page.workers();
    expect(workers.length).toBe(1);
    expect(workers[0]?.url()).toMatch(/\/assets\/entry-[\w-]+\.js$/);
    const stats = await first.page.evaluate(async () => {
      const { cache } = window.consumer;
      await cache.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' });
      return cache.stats();
    });
    expect(stats.degraded).toBeNull();
    expect(stats.types.track_metadata).toMatchObject({ entries: 1, storage: 'indexeddb' });

    await first.page.reload();
    await first.page.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready');
    expect(await first.page.evaluate(() => window.consumer.cache.get('track_metadata', 'song'))).toEqual({ title: 'Song' });

    const second = await open();
    await first.page.evaluate(() => window.consumer.cache.emit({ eventType: 'track_removed', trackId: 't1' }));
    await second.page.waitForFunction(() => window.consumer.events.length === 1);
    expect(await second.page.evaluate(() => window.consumer.events)).toEqual([{ eventType: 'track_removed', trackId: 't1', source: 'remote' }]);
    expect(await second.page.evaluate(() => window.consumer.cache.get('track_metadata', 'song'))).toBeUndefined();
    const code = await second.page.evaluate(async () => {
      try {
        await window.consumer.cache.get('podcast' as never, 'k');
        return 'resolved';
      } catch (error) {
        return window.consumer.isCacheError(error) ? error.code : 'not a CacheError';
      }
    });
    expect(code).toBe('unknown_content_type');
    expect([...first.errors, ...second.errors]).toEqual([]);
  });
});

declare global {
  interface Window {
    consumer: {
      cache: import('../../src/index').Cache;
      events: { eventType: string; trackId?: string; source: string }[];
      isCacheError: typeof import('../../src/index').isCacheError;
    };
  }
}
