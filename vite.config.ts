import { defineConfig } from 'vitest/config';

// One config for the demo (dev and static build), the library build and both test suites.
export default defineConfig({
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  // Pre-bundled up front: discovering them on a test page's first load would make Vite reload it mid-test.
  optimizeDeps: { include: ['idb', 'comlink', 'zod'] },
  build: { outDir: 'dist/demo', target: 'es2022' },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/bench/**'],
          setupFiles: ['test/setup/idbClasses.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/serve.ts'],
          // Every file drives its own Chromium; two cores cannot run several at once reliably.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
