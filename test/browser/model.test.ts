import { describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';

// From the dev server: the probe worker is a source module, which only it serves.
const browser = useBrowser({ devServer: true });

describe('the model in Chromium', () => {
  it('imports in a page and answers like in Node', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/reprise.html');
    await page.waitForFunction(() => 'Reprise' in window);
    const answer = await page.evaluate(async () => {
      const reprise = window.Reprise;
      const config = new reprise.SmartCacheConfig();
      let code: string | undefined;
      try {
        reprise.createCacheEvent({ eventType: 'track_removed' } as never);
      } catch (error) {
        code = reprise.isCacheError(error) ? error.code : 'not a CacheError';
      }
      return {
        policy: config.getPolicy('album_year'),
        formatted: config.formatTtl(reprise.INFINITE_TTL),
        albumKey: reprise.albumKey(' ＡＢＢＡ ', 'Gold') === reprise.albumKey('abba', 'GOLD'),
        fingerprint: await reprise.fingerprintTrack({ persistentId: 'p', location: 'l' }),
        code,
      };
    });
    expect(answer).toEqual({
      policy: expect.objectContaining({ contentType: 'album_year', invalidationStrategy: 'hybrid', maxSizeMb: 20 }),
      formatted: '∞ (infinite)',
      albumKey: true,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      code: 'invalid_event',
    });
    expect(errors).toEqual([]);
  });

  it('runs a module worker that writes and reads IndexedDB and hashes with Web Crypto', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/blank.html');
    const reply = await page.evaluate(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const worker = new Worker('/test/browser/pages/probeWorker.ts', { type: 'module' });
          worker.onmessage = (message) => resolve(message.data);
          worker.onerror = (event) => reject(new Error(event.message || 'worker failed to start'));
          worker.postMessage({ dbName: `probe-${Math.random()}` });
        }),
    );
    const inNode = await (await import('../../src/index')).fingerprintTrack({ persistentId: 'p', location: 'l' });
    expect(reply).toEqual({ stored: { at: 'worker' }, ttl: '1h', fingerprint: inNode });
    expect(errors).toEqual([]);
  });
});
