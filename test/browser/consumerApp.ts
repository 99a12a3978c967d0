// What a user of a consumer app (test/fixtures/consumer/app/main.js) sees in Chromium, whatever
// built and served it: the cache starts or fails, a value survives a reload, an event reaches a
// second tab, a bad call rejects with its code, and nothing goes unhandled.
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Cache, fingerprintTrack, isCacheError } from '../../src/index';

/** What the app showed when its cache started. */
export interface StartedApp {
  started: true;
  /** Whether the page was a secure context (plain-http pages are not: no Web Locks, no crypto.subtle). */
  secureContext: boolean;
  /** Paths of the page's workers: the cache's. */
  workers: string[];
  storage: string | undefined;
  degraded: string | null;
  /** The value set before the reload, read after it. */
  afterReload: unknown;
  /** What the second tab's listener got for the first tab's event. */
  remoteEvents: unknown[];
  /** The second tab's read of the value the event invalidated. */
  afterEvent: unknown;
  /** The code of `get` with a content type that does not exist. */
  badCallCode: string;
  /** `fingerprintTrack` of a track: SHA-256 from Web Crypto, or from @noble/hashes where a page has none (plain http). */
  fingerprint: string;
  /** Uncaught errors, unhandled rejections and console errors, of both tabs. */
  errors: string[];
}

/** What the app showed when `createCache` rejected. */
export interface FailedApp {
  started: false;
  error: { code: string; message: string };
  errors: string[];
}

/** Runs the app at `url` in two tabs of `context`. */
export async function useConsumerApp(context: BrowserContext, url: string): Promise<StartedApp | FailedApp> {
  const errors: string[] = [];
  const open = async () => {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(`uncaught: ${String(error)}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    await page.goto(url);
    return { page, status: await settled(page) };
  };
  const first = await open();
  try {
    if (first.status === 'failed') {
      // A rejection nobody handles is reported at the end of its task: let a few pass.
      await first.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
      const { error, unhandled } = await first.page.evaluate(() => ({ error: window.consumer.error!, unhandled: window.consumer.unhandled }));
      return { started: false, error, errors: [...errors, ...unhandled.map((reason) => `unhandled: ${reason}`)] };
    }
    const workers = first.page.workers().map((worker) => new URL(worker.url()).pathname);
    const secureContext = await first.page.evaluate(() => window.isSecureContext);
    const stats = await first.page.evaluate(async () => {
      const cache = window.consumer.cache!;
      await cache.set('track_metadata', 'song', { title: 'Song' }, { trackId: 't1' });
      return cache.stats();
    });
    await first.page.reload();
    if ((await settled(first.page)) !== 'ready') throw new Error(`after a reload: ${await first.page.textContent('#status')}`);
    const afterReload = await first.page.evaluate(() => window.consumer.cache!.get('track_metadata', 'song'));

    const second = await open();
    if (second.status !== 'ready') throw new Error('the second tab did not start');
    await first.page.evaluate(() => window.consumer.cache!.emit({ eventType: 'track_removed', trackId: 't1' }));
    await second.page.waitForFunction(() => window.consumer.events.length > 0);
    const remoteEvents = await second.page.evaluate(() => window.consumer.events);
    const afterEvent = await second.page.evaluate(() => window.consumer.cache!.get('track_metadata', 'song'));
    const badCallCode = await second.page.evaluate(async () => {
      try {
        await window.consumer.cache!.get('podcast' as never, 'key');
        return 'resolved';
      } catch (error) {
        return window.consumer.isCacheError(error) ? error.code : 'not a CacheError';
      }
    });
    const fingerprint = await second.page.evaluate(() => window.consumer.fingerprintTrack({ persistentId: 'A1', location: 'file:///a.flac' }));
    const unhandled = [first, second].map(({ page }) => page.evaluate(() => window.consumer.unhandled));
    for (const reasons of await Promise.all(unhandled)) errors.push(...reasons.map((reason) => `unhandled: ${reason}`));
    await second.page.close();
    return {
      started: true,
      secureContext,
      workers,
      storage: stats.types.track_metadata?.storage,
      degraded: stats.degraded,
      afterReload,
      remoteEvents,
      afterEvent,
      badCallCode,
      fingerprint,
      errors,
    };
  } finally {
    await first.page.close();
  }
}

/** What a started app shows, whatever serves it. */
export const STARTED = {
  storage: 'indexeddb',
  degraded: null,
  afterReload: { title: 'Song' },
  remoteEvents: [{ eventType: 'track_removed', trackId: 't1', source: 'remote' }],
  afterEvent: undefined,
  badCallCode: 'unknown_content_type',
  fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
  errors: [],
};

async function settled(page: Page): Promise<string | null> {
  await page.waitForFunction(() => document.querySelector('#status')?.textContent !== 'loading');
  return page.textContent('#status');
}

declare global {
  interface Window {
    consumer: {
      cache: Cache | undefined;
      error: { code: string; message: string } | undefined;
      events: { eventType: string; trackId?: string; source: string }[];
      unhandled: string[];
      isCacheError: typeof isCacheError;
      fingerprintTrack: typeof fingerprintTrack;
    };
  }
}
