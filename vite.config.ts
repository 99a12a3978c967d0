import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BuildEnvironmentOptions, Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';
import { workerMethods } from './build/workerMethods.ts';

/**
 * In the library build Vite writes the worker's URL in a shape meant to be left alone
 * (`new URL(new URL("../assets/…", import.meta.url).href, "" + import.meta.url)`). An app's bundler must
 * process it, to emit the worker: write the plain `new URL("../assets/…", import.meta.url)` (relative
 * to the module) that Vite, webpack and Parcel recognise.
 */
const workerUrlForApps: Plugin = {
  name: 'reprise:worker-url-for-apps',
  apply: 'build',
  renderChunk(code) {
    const pattern =
      /new URL\(\s*(?:\/\*\s*@vite-ignore\s*\*\/\s*)?new URL\("(?:\.\/)?((?:\.\.\/)*assets\/[^"]+\.js)", import\.meta\.url\)\.href,\s*"" \+ import\.meta\.url\s*\)/g;
    const relative = (path: string) => (path.startsWith('../') ? path : `./${path}`);
    return pattern.test(code) ? { code: code.replace(pattern, (_, path: string) => `new URL("${relative(path)}", import.meta.url)`), map: null } : null;
  },
  // Another Vite writes another shape (Vite 6 as `"" + new URL(…).href`), which webpack takes for a
  // folder of possible workers and so bundles every file beside the library: fail the build instead.
  // (The worker_failed hint, src/connectWorker.ts, shows a `new Worker('/reprise-worker.js', …)` of the app's, in a
  // string; src/viteDepsWorker.ts starts one from a URL it makes at run time, for Vite 5–7's dev server only.)
  generateBundle(_, bundle) {
    for (const chunk of Object.values(bundle)) {
      const others = chunk.type === 'chunk' && chunk.code.replaceAll("new Worker('/reprise-worker.js'", '').replace(/new Worker\([\w$]+,/g, '');
      if (!others || !others.includes('new Worker(')) continue;
      if (!/new Worker\(new URL\("(?:\.\/|(?:\.\.\/)+)assets\/[^"]+\.js", import\.meta\.url\)/.test(chunk.code)) {
        this.error(`${chunk.fileName}: the worker's URL is not in the plain new URL("../assets/…", import.meta.url) shape that apps' bundlers recognise`);
      }
    }
  },
};

/**
 * The types of `reprise/worker` (the worker's file, which apps whose bundler emits no worker copy): a
 * script that exports nothing. Without them, tools that check a package's exports (attw) say "no types".
 */
const workerTypes: Plugin = {
  name: 'reprise:worker-types',
  apply: 'build',
  generateBundle() {
    this.emitFile({
      type: 'asset',
      fileName: 'worker.d.ts',
      source: "// reprise/worker: Reprise's worker script, to run in a module Worker (createCache's `worker` option). It exports nothing.\nexport {};\n",
    });
  },
};

/**
 * Terser's compressor after Vite's minifier: it inlines and folds what Vite's leaves, which an app's
 * bundler keeps (what an app ships, min + gzip: 0.24 kB less in the worker, 0.15 kB on the page). Getters
 * are taken as having effects, as the code expects of values it is given; names are Vite's. The worker's
 * script is final (nothing imports it): two passes, its names Terser's, its own methods' too (build/workerMethods.ts). The library's modules keep their annotations and
 * lines for an app's bundler and readers (a second pass gains nothing there); the one that starts the
 * worker from its URL is left as it is, for bundlers to find it (see workerUrlForApps).
 */
const compressed = (name: string, worker: boolean): Plugin => ({
  name: `reprise:compressed-${name}`,
  apply: 'build',
  async generateBundle(_, bundle) {
    const { minify } = await import('terser');
    const [passes, format] = worker ? [2, {}] : [1, { beautify: true, preserve_annotations: true }];
    const mangle = worker && { properties: { regex: new RegExp(`^(?:${(await workerMethods(fileURLToPath(new URL('.', import.meta.url)))).join('|')})$`) } };
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk' || (!worker && chunk.code.includes('new Worker(new URL('))) continue;
      const { code } = await minify(chunk.code, { module: true, ecma: 2020, compress: { passes, pure_getters: false }, mangle, format });
      if (code) chunk.code = code;
    }
  },
});

/** `vite build --mode lib`: the library as ESM, its dependencies left to the app, the worker as an asset of its own. */
const library: BuildEnvironmentOptions = {
  outDir: 'dist/lib',
  target: 'es2022',
  emptyOutDir: true,
  // The published code is readable ESM, one file per module; maps would be most of the tarball.
  sourcemap: false,
  // Two entries: the library, and its TanStack Query adapter (`reprise/tanstack-query`), which the main entry never imports.
  lib: {
    entry: ['src/index.ts', 'src/tanstack-query/index.ts'],
    formats: ['es'],
    fileName: (_, name) => ({ 'src/index': 'reprise.js', 'src/tanstack-query/index': 'tanstack-query.js' })[name] ?? `${name}.js`,
  },
  rollupOptions: {
    // zod's entry points (zod, zod/mini) are the app's dependency, like idb and comlink.
    // @tanstack/query-core is the adapter's optional peer (it imports only its types).
    external: ['idb', 'comlink', /^zod(\/|$)/, /^@noble\/hashes\//, /^@tanstack\//],
    // One file per module: with `sideEffects: false` an app's bundler drops every module it does not
    // use (fingerprintTrack and its hashing, the model classes), which it cannot do inside one file.
    output: { preserveModules: true, preserveModulesRoot: '.' },
  },
};

/** `vite build`: the demo as static files. */
const demo: BuildEnvironmentOptions = { outDir: 'dist/demo', target: 'es2022', emptyOutDir: true };

/**
 * The built demo is an installable PWA that works offline: a web manifest, and a Workbox service
 * worker (vite-plugin-pwa) that precaches the page, its scripts (the cache's worker included) and
 * styles, and answers every navigation with the page. Only for `vite build`: the dev server and the
 * test pages (built in mode `pages`: test/browser/serve.ts) have none.
 */
const offlineDemo = () =>
  VitePWA({
    registerType: 'autoUpdate',
    includeAssets: ['reprise.svg'],
    manifest: {
      name: 'Reprise — a cache for web music players',
      short_name: 'Reprise',
      description: 'A music library read through a Reprise cache, with a live inspector; works offline.',
      start_url: '.',
      scope: '.',
      display: 'standalone',
      background_color: '#0e1116',
      theme_color: '#0e1116',
      icons: [{ src: 'reprise.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
    },
    workbox: {
      globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
      navigateFallback: 'index.html',
      // The first visit's page is controlled at once, so it works offline without a second visit.
      clientsClaim: true,
      skipWaiting: true,
    },
  });

// One config for the demo (dev and static build), the library build and both test suites.
export default defineConfig(({ command, mode }) => ({
  // Relative, so that the library finds its worker next to itself wherever it is installed.
  base: mode === 'lib' ? './' : '/',
  plugins: mode === 'lib' ? [compressed('modules', false), workerUrlForApps, workerTypes] : command === 'build' && mode !== 'pages' ? [offlineDemo()] : [],
  // public/ holds the demo's icon: nothing of it goes into the library.
  publicDir: mode === 'lib' ? false : 'public',
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  // In the library, the worker's file has a fixed name, which the package exports (`reprise/worker`): an
  // app whose bundler emits no worker (esbuild, Rollup) copies it from there. An app's bundler hashes its own copy.
  worker: mode === 'lib' ? { format: 'es', plugins: () => [compressed('worker', true)], rolldownOptions: { output: { entryFileNames: 'assets/reprise-worker.js' } } } : { format: 'es' },
  // Pre-bundled up front: discovering them on a test page's first load would make Vite reload it mid-test.
  // The scan covers our own pages only: the consumer fixture imports the packed 'reprise', installed elsewhere.
  optimizeDeps: {
    include: ['idb', 'comlink', 'zod'],
    entries: ['index.html', 'test/browser/pages/*.html', 'test/bench/*.html'],
  },
  build: mode === 'lib' ? library : demo,
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/bench/**'],
          setupFiles: ['test/setup/idbClasses.ts', 'test/setup/waitFor.ts'],
          // A timeout here only catches a hang (no test asserts time): heavy tests (2,000 random operations,
          // quota faults over 2,500 entries, chunked imports) took over the default 5 s on a loaded 2-core machine.
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Vitest leaves a core to its own process, which mostly waits while Node tests run: on two
          // cores that ran one file at a time (351 s for the suite; 207 s with two).
          maxWorkers: Math.max(availableParallelism() - 1, 2),
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/serve.ts', 'test/browser/packedConsumers.ts'],
          // Every file drives its own Chromium, which keeps both cores busy (vmstat: 92 % on two cores
          // for one file): two files at once took 644 s against 746 s (pages then from the dev server), and timed trials missed their mark.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // `npm run soak` only (`--mode soak`): the simulation over many seeds; never part of `npm test`.
      ...(mode === 'soak'
        ? [
            {
              extends: true as const,
              test: {
                name: 'soak',
                environment: 'node',
                include: ['test/simulation/soak.ts'],
                setupFiles: ['test/setup/idbClasses.ts'],
                testTimeout: 6 * 60 * 60_000,
              },
            },
          ]
        : []),
      // `npm run size` only (`--mode size`): prints what an app ships; the Node suite checks it against Dexie.
      ...(mode === 'size'
        ? [{ extends: true as const, test: { name: 'size', environment: 'node', include: ['test/bench/size.ts'], testTimeout: 120_000 } }]
        : []),
      // `npm run bench` only (`--mode bench`): measurements, not tests; never part of `npm test`.
      ...(mode === 'bench'
        ? [
            {
              extends: true as const,
              test: {
                name: 'bench',
                environment: 'node',
                include: ['test/bench/benchmarks.ts'],
                globalSetup: ['test/browser/serve.ts'],
                testTimeout: 30 * 60_000,
                hookTimeout: 60_000,
              },
            },
          ]
        : []),
    ],
  },
}));
