// The worker: only wiring. It exposes one `open` that builds the engine with this thread's IndexedDB
// and Web Locks and the page's relay of the channel to the other tabs, and hands it back to the main
// thread as a Comlink proxy.
import * as Comlink from 'comlink';
import { registerCacheErrorTransfer } from '../src/cacheErrorTransfer';
import { WORKER_LOADED, type ClientCallbacks, type WorkerHost } from '../src/protocol';
import { indexedDBHere } from '../src/indexedDBHere';
import { locksHere } from '../src/locksHere';
import { Engine } from './Engine';
import { exposeEngine } from './exposeEngine';
import { relayedChannel } from './relayedChannel';
import { remoteLogger } from './remoteLogger';
import { WebLocks } from './WebLocks';

// Says it loaded at once: the page goes on while the engine opens (see src/connectWorker.ts).
postMessage(WORKER_LOADED);
registerCacheErrorTransfer();

/**
 * Takes the lock and keeps it until this worker dies, which is when the main thread's request for it is
 * granted. A request the browser refuses (see WebLocks) holds nothing, and the worker goes on as one
 * without Web Locks: the page's own request is refused as well, and its pings watch this worker.
 */
function holdUntilDeath(locks: LockManager, lock: string): Promise<void> {
  return new Promise((held) => {
    void new WebLocks(locks)
      .request(lock, {}, () => {
        held();
        return new Promise<never>(() => {});
      })
      .then(() => held());
  });
}

const locks = locksHere();

const host: WorkerHost = {
  async open({ name, config, lock, relay, tab }, remoteClient) {
    if (lock && locks) await holdUntilDeath(locks, lock);
    // Each of Comlink's proxies made once and kept (see src/connectWorker.ts): no release message later.
    const client: ClientCallbacks = {
      remoteEvent: remoteClient.remoteEvent,
      listening: remoteClient.listening,
      progress: remoteClient.progress,
      log: remoteClient.log,
      changed: remoteClient.changed,
      forgot: remoteClient.forgot,
      storage: remoteClient.storage,
      readFrom: remoteClient.readFrom,
    };
    const engine = await Engine.create({
      name,
      config,
      indexedDB: indexedDBHere(),
      // Values reach the worker through postMessage, which has already copied them.
      cloneValues: false,
      client,
      logger: remoteLogger(client.log),
      // Through the page, which checks every message (see src/channelRelay.ts).
      openChannel: relay ? relayedChannel(relay) : undefined,
      locks,
      tab,
    });
    return exposeEngine(engine);
  },
  async ping() {},
};

Comlink.expose(host);
