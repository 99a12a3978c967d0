/** The worker's file in the published package (its `reprise/worker` export). */
export const PACKAGE_WORKER = 'reprise/dist/lib/assets/reprise-worker.js';

/**
 * Where the worker is when Vite 5, 6 or 7's dev server runs the library from its deps folder: their
 * esbuild pre-bundling moves the library into `<cacheDir>/deps/`, away from its worker, and leaves its
 * `new URL('../assets/…', import.meta.url)` pointing there (Vite 8 points it back itself). With the
 * cache folder in node_modules (Vite's default, `node_modules/.vite`) the package is beside it, and the
 * dev server serves its worker file as it is (one script, nothing to resolve). Undefined anywhere else.
 */
export function viteDepsWorker(moduleUrl: string): (() => Worker) | undefined {
  const folder = /^(.*\/node_modules\/)\.vite[^/]*\/deps[^/]*\/[^/?#]*(?:[?#].*)?$/.exec(moduleUrl)?.[1];
  const url = folder && `${folder}${PACKAGE_WORKER}`;
  return url ? () => new Worker(url, { type: 'module', name: 'reprise-worker' }) : undefined;
}
