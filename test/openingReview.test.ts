import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { DirectReads } from '../src/DirectReads';
import { RemoteEngine } from '../src/RemoteEngine';
import { SmartCacheConfig } from '../src/SmartCacheConfig';
import { typesOf } from '../src/typesOf';
import { Engine } from '../worker/Engine';
import { inProcessWorkers } from './support/inProcessWorkers';
import { openCache } from './support/openCache';

const callbacks = { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} };
const settled = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then((value) => ({ value })), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);

describe('while the worker’s engine opens', () => {
  it('a read the page takes on does not hang once the worker, blocked from upgrading by an older connection, gives up and keeps its types in memory', async () => {
    const indexedDB = new IDBFactory();
    const { cache: writer, name } = await openCache({ indexedDB });
    await writer.set('track_metadata', 'k', 'stored');
    await writer.close();
    // Another tab's connection that does not close for an upgrade (an older app, a tool).
    const blocker = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    // This page's config has a new persistent custom type: its worker must add a store (an upgrade).
    const config = new SmartCacheConfig({
      caching: { customTypes: { lyrics: { ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: 1, persistent: true } } },
    } as never).toJSON();
    // The worker gives up on a blocked upgrade quickly here (3 s in a browser).
    const schedule = (run: () => void, ms: number) => {
      const timer = setTimeout(run, Math.min(ms, 300));
      return () => clearTimeout(timer);
    };
    const { connect } = inProcessWorkers((client) =>
      Engine.create({ name, config, indexedDB, cloneValues: false, client, schedule, logger: { error() {} } }),
    );
    const remote = await RemoteEngine.start({
      connect: connect(callbacks),
      logger: { error: vi.fn() },
      direct: new DirectReads({ name, indexedDB, types: typesOf(config) }),
    });
    // The worker's upgrade waits on the blocker (the page's own connection closed for it).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const read = remote.getMany('track_metadata', ['k']);
    // The worker has long answered where it keeps its types (memory) and would answer the read.
    await vi.waitFor(async () => expect((await remote.stats()).degraded).toMatch(/blocked/), { timeout: 2000 });
    expect(await settled(read, 1000)).not.toBe('hung');
    blocker.close();
    await remote.close();
  });
});
