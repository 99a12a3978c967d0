// worker/entry.ts as a worker runs it: its global scope's postMessage and message events joined to a
// MessageChannel in this thread, and its navigator's Web Locks as the browser gives them.
import * as Comlink from 'comlink';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/configSchema';
import { WORKER_LOADED, goneId, type ClientCallbacks, type EngineApi, type WorkerHost } from '../src/protocol';
import { uniqueName } from './support/openCache';
import { unhandledRejections } from './support/unhandledRejections';

/** Loads worker/entry.ts afresh in a worker scope whose navigator has `locks`; returns the page's end of it. */
async function startWorker(locks: unknown) {
  const { port1, port2 } = new MessageChannel();
  vi.stubGlobal('navigator', { locks });
  vi.stubGlobal('indexedDB', new IDBFactory());
  vi.stubGlobal('postMessage', (message: unknown, transfer: Transferable[] = []) => port2.postMessage(message, transfer as never));
  vi.stubGlobal('addEventListener', (type: string, listener: EventListener) => port2.addEventListener(type, listener));
  const loaded = new Promise((resolve) => port1.addEventListener('message', (event) => event.data === WORKER_LOADED && resolve(true)));
  port1.start();
  vi.resetModules();
  await import('../worker/entry');
  port2.start();
  await loaded;
  return { host: Comlink.wrap<WorkerHost>(port1), close: () => (port1.close(), port2.close()) };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const client: ClientCallbacks = { remoteEvent() {}, listening() {}, progress() {}, log() {}, changed() {} };

/** Opens an engine in a worker whose navigator has `locks`, and uses it: fails if the open does not answer within a second. */
async function expectStarts(locks: unknown): Promise<void> {
  const { host, close } = await startWorker(locks);
  let opened: Comlink.Remote<EngineApi> | undefined;
  const unhandled = await unhandledRejections(async () => {
    const options = { name: uniqueName(), config: parseConfig({}), lock: 'reprise:worker:death', relay: null, tab: { id: 'page', since: null } };
    const opening = host.open(options, Comlink.proxy(client)).then((port) => Comlink.wrap<EngineApi>(port));
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 1000));
    const engine = await Promise.race([opening, hung]);
    if (engine === 'hung') close();
    expect(engine).not.toBe('hung');
    opened = engine as Comlink.Remote<EngineApi>;
    await opened.setMany('generic', [{ key: 'k', value: 1 }]);
    expect((await opened.getMany('generic', ['k']))[0]).toMatchObject({ value: 1 });
  });
  expect(unhandled).toEqual([]);
  await opened?.close();
  close();
}

it("hands the engine every callback of the page's: a database the page read itself (readFrom) that is not the worker's is told lost", async () => {
  const { host, close } = await startWorker(undefined);
  const changes: unknown[] = [];
  const asked: ClientCallbacks = { ...client, changed: (told) => void changes.push(...told), readFrom: () => ['read-by-the-page'] };
  const options = { name: uniqueName(), config: parseConfig({}), lock: 'reprise:worker:death', relay: null, tab: { id: 'page', since: null } };
  const engine = Comlink.wrap<EngineApi>(await host.open(options, Comlink.proxy(asked)));
  await vi.waitFor(() => expect(changes).toContainEqual({ type: 'track_metadata', kind: 'clear', keys: null, source: 'remote', id: goneId('read-by-the-page', 'track_metadata') }));
  await engine.close();
  close();
});

it('a worker without Web Locks starts', async () => {
  await expectStarts(undefined);
});

describe.each([
  ['InvalidStateError', "Failed to execute 'request' on 'LockManager': The document is not fully active."],
  ['SecurityError', "Failed to execute 'request' on 'LockManager': Access to the Locks API is denied in this context."],
])('a worker whose Web Lock request is refused (%s)', (name, message) => {
  it('starts as where there are no Web Locks: its open answers, its engine works, and nothing is unhandled', async () => {
    const refuse = (..._request: unknown[]) => Promise.reject(new DOMException(message, name));
    const locks = { request: vi.fn(refuse), query: vi.fn(refuse) };
    await expectStarts(locks);
    expect(locks.request.mock.calls.map(([lock]) => lock)).toContain('reprise:worker:death');
  });
});

it("tells the page, on its engine's port, of a call it cannot read (a messageerror, which Comlink ignores): its answer would never come", async () => {
  const { host, close } = await startWorker(undefined);
  const options = { name: uniqueName(), config: parseConfig({}), lock: null, relay: null, tab: { id: 'page', since: null } };
  const port = await host.open(options, Comlink.proxy(client));
  const told = new Promise((resolve) => port.addEventListener('message', (event) => event.data === null && resolve(true)));
  const engine = Comlink.wrap<EngineApi>(port);
  // An object 2,000 levels deep: Node posts it, and cannot rebuild it.
  let deep: unknown = 'leaf';
  for (let level = 0; level < 2000; level++) deep = { a: deep };
  void engine.setMany('generic', [{ key: 'deep', value: deep }]);
  expect(await Promise.race([told, new Promise((resolve) => setTimeout(() => resolve('not told'), 1000))])).toBe(true);
  await engine.close();
  close();
});
