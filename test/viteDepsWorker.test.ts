import { afterEach, describe, expect, it, vi } from 'vitest';
import { viteDepsWorker } from '../src/viteDepsWorker';

/** The URL of the Worker the factory `viteDepsWorker(moduleUrl)` returns would start, or undefined for none. */
function workerUrl(moduleUrl: string): string | undefined {
  const made: string[] = [];
  vi.stubGlobal('Worker', class {
    constructor(url: string | URL, options: WorkerOptions) {
      made.push(String(url));
      expect(options).toEqual({ type: 'module', name: 'reprise-worker' });
    }
  });
  const start = viteDepsWorker(moduleUrl);
  start?.();
  return start && made[0];
}

afterEach(() => vi.unstubAllGlobals());

describe("viteDepsWorker: the worker's place when Vite 5–7's dev server runs Reprise from its deps folder", () => {
  it.each([
    ['http://127.0.0.1:5173/node_modules/.vite/deps/reprise.js?v=3f2a9c1b', 'http://127.0.0.1:5173/node_modules/reprise/dist/lib/assets/reprise-worker.js'],
    ['http://localhost:5173/app/node_modules/.vite/deps/chunk-XGM4GKIC.js?v=3f2a9c1b', 'http://localhost:5173/app/node_modules/reprise/dist/lib/assets/reprise-worker.js'],
    // A cache folder outside the root, served through /@fs/, in a node_modules of its own name.
    ['http://127.0.0.1:5173/@fs/tmp/apps/node_modules/.vite-dev/deps/reprise.js?v=1', 'http://127.0.0.1:5173/@fs/tmp/apps/node_modules/reprise/dist/lib/assets/reprise-worker.js'],
    ['http://127.0.0.1:5173/node_modules/.vite/deps_temp_5e1c2f/reprise.js', 'http://127.0.0.1:5173/node_modules/reprise/dist/lib/assets/reprise-worker.js'],
  ])('%s: the package beside the deps folder', (moduleUrl, expected) => {
    expect(workerUrl(moduleUrl)).toBe(expected);
  });

  it.each([
    // The package itself (Vite 8, `optimizeDeps.exclude`, webpack's file URL), an app's bundle, a cache folder outside node_modules.
    'http://127.0.0.1:5173/node_modules/reprise/dist/lib/src/createCache.js',
    'file:///home/app/node_modules/reprise/dist/lib/src/createCache.js',
    'https://example.com/assets/index-4f3c2a1b.js',
    'http://127.0.0.1:5173/.vite/deps/reprise.js?v=1',
    // No URL at all (a bundler that leaves import.meta.url undefined).
    undefined as unknown as string,
  ])('%s: none', (moduleUrl) => {
    expect(workerUrl(moduleUrl)).toBeUndefined();
  });
});
