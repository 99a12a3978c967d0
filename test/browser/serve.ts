import type { TestProject } from 'vitest/node';
import { createServer, type Plugin } from 'vite';

/** A host name mapped to 127.0.0.1 for pages that must not be a secure context. */
export const PLAIN_HTTP_HOST = 'reprise.test';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

/** One Vite dev server on 127.0.0.1 for the whole browser suite; test pages live under test/browser/pages. */
export default async function serve(project: TestProject) {
  const server = await createServer({
    configFile: new URL('../../vite.config.ts', import.meta.url).pathname,
    // reprise.test: the same server as a plain-http (not secure) origin, through Chromium's host resolver rules.
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, allowedHosts: [PLAIN_HTTP_HOST] },
    logLevel: 'warn',
    // The benchmark's pages are cross-origin isolated, so that performance.now() counts in microseconds
    // (Chromium rounds it to 0.1 ms otherwise, as coarse as a point get itself). Tests run as apps do.
    plugins: project.name === 'bench' ? [crossOriginIsolation()] : [],
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('Vite did not report a local URL');
  project.provide('baseUrl', url.replace(/\/$/, ''));
  return () => server.close();
}

function crossOriginIsolation(): Plugin {
  return {
    name: 'cross-origin-isolation',
    configureServer(server) {
      server.middlewares.use((_, response, next) => {
        response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        next();
      });
    },
  };
}
