import type { TestProject } from 'vitest/node';
import { createServer } from 'vite';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

/** One Vite dev server on 127.0.0.1 for the whole browser suite; test pages live under test/browser/pages. */
export default async function serve(project: TestProject) {
  const server = await createServer({
    configFile: new URL('../../vite.config.ts', import.meta.url).pathname,
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false },
    logLevel: 'warn',
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('Vite did not report a local URL');
  project.provide('baseUrl', url.replace(/\/$/, ''));
  return () => server.close();
}
