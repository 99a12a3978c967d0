// What an app ships for Reprise, next to what it ships for Dexie, measured the same way: the library
// is built with the project's own config (`vite build --mode lib`), installed as a package into a
// scratch app's node_modules beside its dependencies and Dexie, and two minimal apps (`import {
// createCache } from 'reprise'`, `import Dexie from 'dexie'`) are built by Vite with its defaults, as a
// user would.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { build, type Rolldown } from 'vite';

export interface Size {
  /** Bundled, not minified. */
  raw: number;
  /** Minified by the app's production build. */
  min: number;
  /** The minified files, each compressed on its own (as a server sends them). */
  gzip: number;
  brotli: number;
}

export interface AppSizes {
  /** What the page loads at start: the entry chunk and the chunks it imports statically. */
  main: Size;
  /** Chunks loaded on demand only (Reprise: the in-process engine, for platforms without Worker). */
  lazy: Size;
  /** The worker's script. */
  worker: Size;
  /** What a browser loads: main + worker. */
  total: Size;
}

export interface ShippedSizes {
  reprise: AppSizes;
  dexie: AppSizes;
}

export interface MeasureOptions {
  /** A library built already (`dist/lib` after `npm run build:lib`); built from the sources when absent. */
  library?: string;
}

const root = new URL('../..', import.meta.url).pathname;

/** The two apps: the least code that opens a store and uses it. */
const APPS = {
  reprise: `import { createCache } from 'reprise';
const cache = await createCache({ name: 'app' });
await cache.set('generic', 'key', { value: 1 });
console.log(await cache.get('generic', 'key'));
`,
  dexie: `import Dexie from 'dexie';
const db = new Dexie('app');
db.version(1).stores({ items: 'key' });
await db.open();
await db.table('items').put({ key: 'key', value: 1 });
console.log(await db.table('items').get('key'));
`,
} as const;

export async function measureShippedSizes(options: MeasureOptions = {}): Promise<ShippedSizes> {
  return inScratchApps(options, async (scratch) => {
    const [reprise, dexie] = await Promise.all([measureApp(scratch, 'reprise'), measureApp(scratch, 'dexie')]);
    return { reprise, dexie };
  });
}

/**
 * Runs `use` with a scratch folder, outside the project (whose package.json Vite would take for
 * 'reprise' itself), where apps can import 'reprise' as a package built from the sources, its
 * dependencies and Dexie; removes it afterwards.
 */
export async function inScratchApps<T>(options: MeasureOptions, use: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = await mkdtemp(join(tmpdir(), 'reprise-apps-'));
  try {
    const pkg = join(scratch, 'node_modules/reprise');
    await mkdir(pkg, { recursive: true });
    await cp(join(root, 'package.json'), join(pkg, 'package.json'));
    // The package's dependencies and Dexie, as installed for the project.
    const { dependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of [...Object.keys(dependencies), 'dexie']) {
      await mkdir(dirname(join(scratch, 'node_modules', name)), { recursive: true });
      await symlink(join(root, 'node_modules', name), join(scratch, 'node_modules', name), 'dir');
    }
    const library = join(pkg, 'dist/lib');
    if (options.library) await cp(options.library, library, { recursive: true });
    else await build({ root, configFile: join(root, 'vite.config.ts'), mode: 'lib', logLevel: 'silent', build: { outDir: library } });
    return await use(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function measureApp(scratch: string, app: keyof typeof APPS): Promise<AppSizes> {
  const folder = join(scratch, app);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'main.js'), APPS[app]);
  const [raw, min] = [await bundle(folder, false), await bundle(folder, true)];
  const size = (part: keyof Omit<AppSizes, 'total'>): Size => {
    const minified = min[part];
    return {
      raw: sum(raw[part].map((code) => code.length)),
      min: sum(minified.map((code) => code.length)),
      gzip: sum(minified.map((code) => gzipSync(code, { level: 9 }).length)),
      brotli: sum(minified.map((code) => brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length)),
    };
  };
  const [main, lazy, worker] = [size('main'), size('lazy'), size('worker')];
  const total = { raw: main.raw + worker.raw, min: main.min + worker.min, gzip: main.gzip + worker.gzip, brotli: main.brotli + worker.brotli };
  return { main, lazy, worker, total };
}

/** A production build with Vite's defaults (minified or not), its JavaScript sorted by when the page loads it. */
async function bundle(folder: string, minify: boolean): Promise<Record<'main' | 'lazy' | 'worker', Buffer[]>> {
  const result = await build({
    root: folder,
    configFile: false,
    logLevel: 'silent',
    build: { write: false, minify, rollupOptions: { input: join(folder, 'main.js') } },
  });
  const output = (Array.isArray(result) ? result : [result as Rolldown.RolldownOutput]).flatMap((entry) => entry.output);
  const chunks = new Map(output.flatMap((file) => (file.type === 'chunk' ? [[file.fileName, file] as const] : [])));
  const main = new Set<string>();
  const visit = (fileName: string) => {
    if (main.has(fileName)) return;
    main.add(fileName);
    chunks.get(fileName)?.imports.forEach(visit);
  };
  for (const chunk of chunks.values()) if (chunk.isEntry) visit(chunk.fileName);
  const code = (text: string | Uint8Array) => Buffer.from(text);
  return {
    main: [...chunks.values()].filter((chunk) => main.has(chunk.fileName)).map((chunk) => code(chunk.code)),
    lazy: [...chunks.values()].filter((chunk) => !main.has(chunk.fileName)).map((chunk) => code(chunk.code)),
    // A worker is emitted as an asset of the page's build.
    worker: output.flatMap((file) => (file.type === 'asset' && file.fileName.endsWith('.js') ? [code(file.source)] : [])),
  };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/** The sizes as a Markdown table, in kB (1,000 bytes). */
export function sizeTable({ reprise, dexie }: ShippedSizes): string[] {
  const line = (what: string, size: Size) => `| ${what} | ${kB(size.raw)} | ${kB(size.min)} | ${kB(size.gzip)} | ${kB(size.brotli)} |`;
  return [
    '| shipped JavaScript (Vite production build) | raw | min | min + gzip | min + brotli |',
    '|---|---|---|---|---|',
    line('Reprise main thread (first load)', reprise.main),
    line('Reprise worker', reprise.worker),
    line('**Reprise total (main + worker)**', reprise.total),
    line('Reprise in-process engine (lazy; only without Worker)', reprise.lazy),
    line('**Dexie** (import Dexie, open a database)', dexie.total),
    `| Reprise ÷ Dexie | ${ratio(reprise.total.raw, dexie.total.raw)} | ${ratio(reprise.total.min, dexie.total.min)} | ${ratio(reprise.total.gzip, dexie.total.gzip)} | ${ratio(reprise.total.brotli, dexie.total.brotli)} |`,
  ];
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
