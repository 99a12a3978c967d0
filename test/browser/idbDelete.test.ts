// What Chromium does when a database is deleted under a connection that is writing, in plain IndexedDB (no
// Reprise): the fact test/support/faultyIndexedDB.ts's deleteUnderTabs must match (test/faultyIndexedDB.test.ts
// runs the same scenario against it). By the spec, a connection is closed only once close() was called AND
// every transaction made on it has finished; a delete waits until its connections are closed.
import { describe, expect, it } from 'vitest';
import { useBrowser } from './chromium';

const browser = useBrowser();

describe('IndexedDB deleted under a writing connection in Chromium', () => {
  it('the transaction under way when the connection closes on versionchange completes; the delete succeeds after it, unblocked, and an open queued behind the delete finds a new database', async () => {
    const { page, errors } = await browser.open('/test/browser/pages/idbDelete.html');
    await page.waitForFunction(() => 'deleteProbe' in window);
    const { log, blocked } = await page.evaluate(() => window.deleteProbe('delete-probe'));
    console.log(`Chromium: ${log.join(' | ')}; blocked: ${blocked}`);
    const closedAt = Number(/^versionchange after (\d+) puts$/.exec(log[0] ?? '')?.[1]);
    expect(closedAt).toBeGreaterThanOrEqual(1);
    expect(log).toEqual([`versionchange after ${closedAt} puts`, 'transaction after close(): InvalidStateError', `complete after ${closedAt + 3} puts`, 'deleted', 'reopened from version 0', 'reopened: stores []']);
    // A connection that called close() in its versionchange handler does not block the delete, even while it writes.
    expect(blocked).toBe(false);
    expect(errors).toEqual([]);
  });
});
