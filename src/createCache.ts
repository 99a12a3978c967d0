import { z } from 'zod';
import { Engine } from '../worker/Engine';
import type { Cache, Schemas } from './Cache';
import { CacheClient } from './CacheClient';
import type { CacheConfig } from './configSchema';
import { contentTypeSchema } from './contentType';
import type { Logger } from './Handlers';
import { parse } from './parse';
import { SmartCacheConfig } from './SmartCacheConfig';

export interface CreateCacheOptions<S extends Schemas = Schemas> {
  /** Namespaces the IndexedDB database and the BroadcastChannel; 'reprise' by default. */
  name?: string;
  config?: CacheConfig | SmartCacheConfig;
  /** zod schemas per content type: values are validated on write and read, and typed by them. */
  schemas?: S;
  /** 'auto' (default): a module Worker where the platform has one; false: in-process; or a factory for your own Worker. */
  worker?: 'auto' | false | (() => Worker);
  /** Ask the browser to keep this origin's storage under pressure (navigator.storage.persist). */
  persist?: boolean;
  /** For the in-process engine: the IndexedDB factory to use (the global one by default). */
  indexedDB?: IDBFactory;
  /** For the in-process engine: the clock, in epoch milliseconds like Date.now. */
  now?: () => number;
  /** Where failures that cannot be thrown (a listener that threw) are reported; console by default. */
  logger?: Logger;
}

const isFunction = (value: unknown) => typeof value === 'function';

const optionsSchema = z.strictObject({
  name: z.string().regex(/\S/, { error: 'name must be a non-blank string' }).optional(),
  config: z.unknown().optional(),
  schemas: z
    .partialRecord(
      contentTypeSchema,
      z.custom<z.core.$ZodType>((value) => value instanceof z.core.$ZodType, { error: 'expected a zod schema' }),
    )
    .optional(),
  worker: z
    .union([z.literal('auto'), z.literal(false), z.custom<() => Worker>(isFunction)], {
      error: "worker must be 'auto', false or a function that returns a Worker",
    })
    .optional(),
  persist: z.boolean().optional(),
  indexedDB: z
    .custom<IDBFactory>((value) => typeof (value as IDBFactory | null)?.open === 'function', { error: 'expected an IDBFactory' })
    .optional(),
  now: z.custom<() => number>(isFunction, { error: 'now must be a function returning epoch milliseconds' }).optional(),
  logger: z.custom<Logger>((value) => typeof (value as Logger | null)?.error === 'function', { error: 'logger needs an error method' }).optional(),
});

/** Opens a cache: in a module Worker by default in browsers, in-process with `worker: false` or where there is no Worker. */
export async function createCache<S extends Schemas = Schemas>(options: CreateCacheOptions<S> = {}): Promise<Cache<S>> {
  const parsed = parse(optionsSchema, options, 'invalid_argument', 'createCache options');
  const config = options.config instanceof SmartCacheConfig ? options.config : new SmartCacheConfig(options.config);
  const name = parsed.name ?? 'reprise';
  const engine = await Engine.create({
    name,
    config,
    indexedDB: options.indexedDB ?? globalThis.indexedDB,
    now: options.now,
    cloneValues: true,
    logger: options.logger,
  });
  return new CacheClient<S>(engine, { schemas: options.schemas, logger: options.logger });
}
