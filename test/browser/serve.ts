import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { build, createServer, preview, type Plugin } from 'vite';

/** A host name mapped to 127.0.0.1 for pages that must not be a secure context. */
export const PLAIN_HTTP_HOST = 'reprise.test';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test pages and the demo, built as an app ships them (the browser suite), or Vite's dev server (the benchmark). */
    baseUrl: string;
    /** Vite's dev server, as `npm run dev` serves the demo: the browser suite opens it where the build would not do. */
    devUrl: string;
  }
}

const configFile = new URL('../../vite.config.ts', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
// reprise.test: the same server as a plain-http (not secure) origin, through Chromium's host resolver rules.
const server = { host: '127.0.0.1', port: 0, strictPort: true, allowedHosts: [PLAIN_HTTP_HOST] };

/**
 * Global setup: servers on 127.0.0.1 for the browser pages (test/browser/pages, the demo). The browser suite
 * reads a production build of them, made at the start of the run: a page opens there in about a third
 * of the time it takes from the dev server, which serves each of the ~150 source modules on its own (the
 * worker's again, in each tab). The dev server runs too, for what only it shows (`npm run dev`'s demo).
 */
export default async function serve(project: TestProject) {
  if (project.name === 'bench') {
    // The benchmark's pages are cross-origin isolated, so that performance.now() counts in microseconds
    // (Chromium rounds it to 0.1 ms otherwise, as coarse as a point get itself). Tests run as apps do.
    const dev = await devServer([crossOriginIsolation()]);
    project.provide('baseUrl', dev.url);
    project.provide('devUrl', dev.url);
    return dev.close;
  }
  const [dev, built] = [await devServer([]), await builtPages()];
  // In watch mode (`vitest --project browser`), a rerun reads the code as it is now.
  project.onTestsRerun(built.build);
  project.provide('baseUrl', built.url);
  project.provide('devUrl', dev.url);
  return async () => {
    await Promise.all([dev.close(), built.close()]);
  };
}

interface Served {
  url: string;
  close(): Promise<void>;
}

async function devServer(plugins: Plugin[]): Promise<Served> {
  const dev = await createServer({ configFile, server: { ...server, hmr: false }, logLevel: 'warn', plugins });
  await dev.listen();
  return { url: urlOf(dev.resolvedUrls), close: () => dev.close() };
}

/** The demo and every test page, built (unminified: a failure's stack stays readable) into a folder of this run; `build` builds them again. */
async function builtPages(): Promise<Served & { build(): Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'reprise-pages-'));
  const pages = ['index.html', ...(await readdir(join(root, 'test/browser/pages'))).filter((name) => name.endsWith('.html')).map((name) => `test/browser/pages/${name}`)];
  const buildPages = async () => {
    await build({
      configFile,
      mode: 'pages',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, minify: false, rolldownOptions: { input: pages.map((page) => join(root, page)) } },
    });
  };
  await buildPages();
  // It reads the folder at each request (sirv in dev mode), so a build made since is what it serves.
  const built = await preview({ configFile, mode: 'pages', logLevel: 'warn', preview: server, build: { outDir } });
  return {
    build: buildPages,
    url: urlOf(built.resolvedUrls),
    async close() {
      await built.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

function urlOf(urls: { local: string[] } | null): string {
  const url = urls?.local[0];
  if (!url) throw new Error('Vite did not report a local URL');
  return url.replace(/\/$/, '');
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
