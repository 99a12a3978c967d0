import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { PLAIN_HTTP_HOST } from './serve';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  userDataDir: string;
  /** Opens a test page (see serve.ts) and records what it logs as an error; `init` runs in the page before its scripts. */
  open(path: string, init?: () => void): Promise<TestPage>;
  /** Closes Chromium; the profile stays, so `launch({ userDataDir })` restarts the same browser. */
  close(): Promise<void>;
  /** Closes Chromium and deletes the profile. */
  dispose(): Promise<void>;
}

export interface TestPage {
  page: Page;
  errors: string[];
}

export interface LaunchOptions {
  /** A profile to reuse (a browser restart); a fresh one by default. */
  userDataDir?: string;
  /** Serve the pages from http://reprise.test:…, which is not a secure context (no Web Locks, no crypto.subtle). */
  plainHttp?: boolean;
  /** Let the back/forward cache work (Playwright turns it off by default). */
  backForwardCache?: boolean;
  /** Open pages from Vite's dev server (source modules, as `npm run dev` serves them) instead of the build (see serve.ts). */
  devServer?: boolean;
}

/** Debian's Chromium with the flags this machine needs, on a fresh (or the given) profile. */
export async function launch(options: LaunchOptions = {}): Promise<Browser> {
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), 'reprise-chromium-')));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: options.plainHttp ? [...CHROMIUM_FLAGS, `--host-resolver-rules=MAP ${PLAIN_HTTP_HOST} 127.0.0.1`] : CHROMIUM_FLAGS,
    ...(options.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
  const served = inject(options.devServer ? 'devUrl' : 'baseUrl');
  const baseUrl = options.plainHttp ? served.replace('127.0.0.1', PLAIN_HTTP_HOST) : served;
  const browser: Browser = {
    context,
    userDataDir,
    async open(path, init) {
      const page = await context.newPage();
      if (init) await page.addInitScript(init);
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('response', (response) => {
        if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${baseUrl}${path}`);
      return { page, errors };
    },
    close: () => context.close(),
    async dispose() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
  return browser;
}

/** The browser `useBrowser` keeps: whichever Chromium runs now, across restarts. */
export interface TestBrowser extends Browser {
  /** Closes Chromium (a no-op if it is closed already) and launches it again on the same profile. */
  restart(): Promise<void>;
}

/**
 * A browser for the tests of this file, or of the describe it is called in: launched before them and
 * disposed after. With `eachTest`, every test gets one of its own.
 */
export function useBrowser({ eachTest = false, ...options }: LaunchOptions & { eachTest?: boolean } = {}): TestBrowser {
  let current: Browser | undefined;
  const running = () => {
    if (!current) throw new Error('useBrowser: no browser here; it runs only in the tests it was set up for');
    return current;
  };
  const [before, after] = eachTest ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    current = await launch(options);
  });
  after(async () => {
    await current?.dispose();
    current = undefined;
  });
  return {
    get context() {
      return running().context;
    },
    get userDataDir() {
      return running().userDataDir;
    },
    open: (path, init) => running().open(path, init),
    close: () => running().close(),
    dispose: () => running().dispose(),
    async restart() {
      const closing = running();
      await closing.close();
      current = await launch({ ...options, userDataDir: closing.userDataDir });
    },
  };
}

let names = 0;

/** A name no other test of this run uses (a cache's, so its database is fresh). */
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now()}-${++names}`;
