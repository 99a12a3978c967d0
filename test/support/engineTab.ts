import { vi } from 'vitest';
import type { Schemas } from '../../src/Cache';
import { CacheClient } from '../../src/CacheClient';
import { checkedChannel } from '../../src/checkedChannel';
import type { CacheConfig } from '../../src/configSchema';
import type { FetchLocks } from '../../src/FetchLocks';
import { SmartCacheConfig } from '../../src/SmartCacheConfig';
import type { OpenTabChannel } from '../../src/TabChannel';
import { Engine, type EngineOptions } from '../../worker/Engine';
import { tableOf } from './tableOf';
import { typesOf } from '../../src/typesOf';

export interface EngineTabOptions {
  name: string;
  indexedDB: IDBFactory;
  config?: CacheConfig;
  /** The channel to the other tabs: Node's BroadcastChannel named after the cache, checked, by default. */
  openChannel?: OpenTabChannel;
  fetchLocks?: FetchLocks;
  /** Value schemas, as createCache's. */
  schemas?: Schemas;
  /** More engine options (an injected clock, Web Locks, chunk sizes). */
  engine?: Partial<EngineOptions>;
}

/**
 * One tab as createCache wires it in-process: an engine on `indexedDB` that reports back to the
 * client built over it, and a logger that records. Tabs of one name talk over Node's BroadcastChannel.
 */
export async function engineTab({ name, indexedDB, config = {}, openChannel, fetchLocks, schemas, engine: more }: EngineTabOptions) {
  let cache: CacheClient | undefined;
  const logger = { error: vi.fn() };
  const engine = await Engine.create({
    name,
    config: tableOf(new SmartCacheConfig(config)),
    indexedDB,
    cloneValues: true,
    logger,
    client: {
      remoteEvent: (event, invalidated) => cache?.remoteEvent(event, invalidated),
      listening: () => {},
      progress: (batch, done, total) => cache?.progress(batch, done, total),
      log: logger.error,
      changed: (changes) => cache?.changed(changes),
    },
    openChannel: openChannel ?? checkedChannel(() => new BroadcastChannel(name)),
    ...more,
  });
  cache = new CacheClient(engine, { logger, fetchLocks, schemas, types: typesOf(config) });
  return { cache, engine, logger };
}
