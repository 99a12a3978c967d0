import { afterEach, describe, expect, it } from 'vitest';
import { connectWorker, WORKER_START_HINT } from '../src/connectWorker';
import { createCache } from '../src/index';
import { rejection } from './support/openCache';

/** A Worker whose script fails to load, as a worker URL that 404s does: an `error` event, no messages. */
class WorkerThatFailsToLoad extends EventTarget {
  terminated = false;
  constructor(message: string | undefined) {
    super();
    setTimeout(() => this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message })), 5);
  }
  postMessage(): void {}
  terminate(): void {
    this.terminated = true;
  }
}

const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', record);
  unhandled.length = 0;
});

describe('connectWorker', () => {
  it('a worker that dies while starting: createCache rejects with worker_failed, terminates it, and leaves nothing unhandled', async () => {
    process.on('unhandledRejection', record);
    const workers: WorkerThatFailsToLoad[] = [];
    const error = await rejection(
      createCache({
        worker: () => {
          const worker = new WorkerThatFailsToLoad('Failed to fetch a worker script');
          workers.push(worker);
          return worker as unknown as Worker;
        },
      }),
    );
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('Failed to fetch a worker script');
    // Rejections nobody handled are reported after the microtasks of a task: give them a few tasks.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
    expect(workers.map((worker) => worker.terminated)).toEqual([true]);
  });

  it("a worker whose script cannot be loaded (Chromium's error event has no message) names the start hint, the fix for Vite 6 and 7's dev server", async () => {
    process.on('unhandledRejection', record);
    const error = await rejection(
      connectWorker(() => new WorkerThatFailsToLoad(undefined) as unknown as Worker, { name: 'hint', config: {} }, { remoteEvent() {}, progress() {}, log() {}, changed() {} }, { startHint: WORKER_START_HINT }),
    );
    console.log('connectWorker rejected with:', error.message);
    expect(error).toMatchObject({ code: 'worker_failed' });
    expect(error.message).toContain('could not start (its script could not be loaded)');
    expect(error.message).toContain("add `optimizeDeps: { exclude: ['reprise'] }` to its vite.config");
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(unhandled).toEqual([]);
  });
});
