// Cold start (issue 13, bench row 11): from `createCache` to the first `get` answered, against Dexie's
// open to its first `get`, each in a production build of a minimal app (Vite's defaults, as a user
// builds it), served from 127.0.0.1; each measure in a page opened afresh on a database that holds
// the entry already (the first visit wrote it). The page times itself, from the call to the answer.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';
import type { Browser } from '../browser/chromium';
import { inScratchApps, type MeasureOptions } from './shippedSizes';

const APPS = {
  reprise: `import { createCache } from 'reprise';
const started = performance.now();
const cache = await createCache({ name: 'cold' });
const value = await cache.get('track_metadata', 'key');
window.coldStart = { ms: performance.now() - started, found: value !== undefined };
if (value === undefined) await cache.set('track_metadata', 'key', { value: 1 });
window.ready = true;
`,
  dexie: `import Dexie from 'dexie';
const started = performance.now();
const db = new Dexie('cold');
db.version(1).stores({ items: 'key' });
await db.open();
const value = await db.table('items').get('key');
window.coldStart = { ms: performance.now() - started, found: value !== undefined };
if (value === undefined) await db.table('items').put({ key: 'key', value: 1 });
window.ready = true;
`,
} as const;

export type ColdStarts = Record<keyof typeof APPS, number[]>;

/** `runs` timings per library (ms), each with the entry found. */
export async function measureColdStart(browser: Browser, runs: number, options: MeasureOptions = {}): Promise<ColdStarts> {
  return inScratchApps(options, async (scratch) => {
    const result = {} as ColdStarts;
    for (const app of Object.keys(APPS) as (keyof typeof APPS)[]) {
      const folder = join(scratch, app);
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, 'main.js'), APPS[app]);
      await writeFile(join(folder, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
      await build({ root: folder, configFile: false, logLevel: 'silent', build: { outDir: join(folder, 'dist') } });
      const server = await serve(join(folder, 'dist'));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const visit = async () => {
          const page = await browser.context.newPage();
          try {
            await page.goto(url);
            await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 });
            return await page.evaluate(() => (window as unknown as { coldStart: { ms: number; found: boolean } }).coldStart);
          } finally {
            await page.close();
          }
        };
        await visit();
        result[app] = [];
        for (let run = 0; run < runs; run++) {
          const { ms, found } = await visit();
          if (!found) throw new Error(`cold start of ${app}: the entry written by the first visit was not found`);
          result[app].push(ms);
        }
      } finally {
        server.close();
      }
    }
    return result;
  });
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Serves a folder's files on 127.0.0.1 (a free port). */
async function serve(folder: string) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname));
    const file = join(folder, path.endsWith('/') ? `${path}index.html` : path);
    readFile(file).then(
      (body) => {
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        response.end(body);
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
