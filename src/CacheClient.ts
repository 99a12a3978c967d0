import { z } from 'zod/mini';
import type {
  Cache,
  CacheEventListener,
  CacheStats,
  CleanupReport,
  EmitReport,
  EventContext,
  GetManyOptions,
  GetOptions,
  Schemas,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
  ValueIn,
  ValueOf,
} from './Cache';
import {
  entrySchema,
  fetcherSchema,
  getManyArgsSchema,
  getOptionsSchema,
  keySchema,
  listenerSchema,
  setManyOptionsSchema,
  setOptionsSchema,
} from './cacheArgs';
import { createCacheEvent, eventTypeSchema, type CacheEvent, type CacheEventInput, type EventType } from './cacheEvent';
import { CacheError } from './CacheError';
import type { ContentType } from './contentType';
import { parseContentType } from './contentTypeSchema';
import { Handlers } from './Handlers';
import type { Logger } from './Logger';
import { parse } from './parse';
import type { ClientCallbacks, EngineApi, EntryInput } from './protocol';
import { isPromiseLike } from './isPromiseLike';
import { checkValue, validateValue } from './validateValue';
import { yieldToEventLoop } from './yieldToEventLoop';

/** Entries validated (and sent, with a worker) per step of a big setMany, so no step holds the main thread for long. */
export const SET_MANY_CHUNK = 2000;

export interface CacheClientOptions {
  schemas?: Schemas | undefined;
  logger?: Logger | undefined;
  /** Runs after the engine closed (terminates a worker). */
  onClose?: () => void;
  /** Entries per step of a big setMany (SET_MANY_CHUNK); smaller in simulations, to cross chunks cheaply. */
  setManyChunk?: number;
}

/**
 * The public `Cache`: validates every argument, applies value schemas, shares concurrent `getOrSet`
 * fetches and runs `on` listeners, over an engine that is either in-process or behind a worker.
 */
export class CacheClient<S extends Schemas = Schemas> implements Cache<S>, Pick<ClientCallbacks, 'remoteEvent' | 'progress'> {
  readonly #engine: EngineApi;
  readonly #schemas: Schemas;
  readonly #listeners: Handlers<EventType | '*', [CacheEvent, EventContext]>;
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #onClose: (() => void) | undefined;
  readonly #logger: Logger;
  readonly #progress = new Map<string, { report: (done: number, total: number) => void; done: number }>();
  readonly #chunk: number;
  #closed = false;
  #batches = 0;

  constructor(engine: EngineApi, options: CacheClientOptions = {}) {
    this.#engine = engine;
    this.#schemas = options.schemas ?? {};
    this.#logger = options.logger ?? console;
    this.#listeners = new Handlers(this.#logger);
    this.#onClose = options.onClose;
    this.#chunk = options.setManyChunk ?? SET_MANY_CHUNK;
  }

  async get<T extends ContentType>(type: T, key: string, options?: GetOptions): Promise<ValueOf<S, T> | undefined> {
    this.#checkOpen();
    parseContentType(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    const { fingerprint } = parse(getOptionsSchema, options ?? {}, 'invalid_argument', 'get options');
    const [value] = await this.#read(type, [key], fingerprint === undefined ? undefined : [fingerprint]);
    return value;
  }

  async getMany<T extends ContentType>(type: T, keys: readonly string[], options?: GetManyOptions): Promise<(ValueOf<S, T> | undefined)[]> {
    this.#checkOpen();
    parseContentType(type);
    const args = parse(getManyArgsSchema, { keys, options }, 'invalid_argument', 'getMany arguments');
    const fingerprints = args.options?.fingerprints;
    if (fingerprints && fingerprints.length !== keys.length) {
      throw new CacheError('invalid_argument', `getMany: ${fingerprints.length} fingerprints for ${keys.length} keys`);
    }
    return this.#read(type, args.keys, fingerprints);
  }

  async set<T extends ContentType>(type: T, key: string, value: ValueIn<S, T>, options?: SetOptions): Promise<void> {
    this.#checkOpen();
    parseContentType(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    const parsed = parse(setOptionsSchema, options ?? {}, 'invalid_argument', 'set options');
    const input = this.#toInput(type, { ...parsed, key, value }, 'value');
    await this.#engine.setMany(type, [isPromiseLike(input) ? await input : input]);
  }

  async setMany<T extends ContentType>(
    type: T,
    entries: readonly SetManyEntry<ValueIn<S, T>>[],
    options?: SetManyOptions,
  ): Promise<void> {
    this.#checkOpen();
    parseContentType(type);
    const { onProgress } = parse(setManyOptionsSchema, options ?? {}, 'invalid_argument', 'setMany options');
    if (!Array.isArray(entries)) throw new CacheError('invalid_argument', 'setMany entries must be an array');
    // The distinct keys, for the last progress report: counted chunk by chunk, like the validation.
    const keys = new Set<string>();
    // Synchronous while the validators are: an await per entry would cost a microtask each.
    const inputs = (from: number): EntryInput[] | Promise<EntryInput[]> => {
      const chunk: EntryInput[] = [];
      const end = Math.min(from + this.#chunk, entries.length);
      const add = (input: EntryInput) => {
        keys.add(input.key);
        chunk.push(input);
      };
      const fill = (start: number): EntryInput[] | Promise<EntryInput[]> => {
        for (let index = start; index < end; index++) {
          const input = this.#toInput(type, parse(entrySchema, entries[index], 'invalid_argument', `entry ${index}`), `entry ${index}`);
          if (isPromiseLike(input)) return input.then((settled) => (add(settled), fill(index + 1)));
          add(input);
        }
        return chunk;
      };
      return fill(from);
    };
    const batch = `batch-${++this.#batches}`;
    if (onProgress) this.#progress.set(batch, { report: onProgress, done: 0 });
    try {
      if (entries.length <= this.#chunk) {
        const all = inputs(0);
        await this.#engine.setMany(type, isPromiseLike(all) ? await all : all, { batch: onProgress && batch });
      } else {
        // Validate and hand over in chunks, yielding between them; the engine writes everything in one transaction.
        try {
          for (let from = 0; from < entries.length; from += this.#chunk) {
            const chunk = inputs(from);
            await this.#engine.stage(batch, isPromiseLike(chunk) ? await chunk : chunk);
            await yieldToEventLoop();
          }
          await this.#engine.commit(batch, type, entries.length);
        } catch (error) {
          await this.#engine.discard(batch).catch(() => {});
          throw error;
        }
      }
      // The last report comes from here: the engine's may arrive after its answer, on another port.
      this.progress(batch, keys.size, keys.size);
    } finally {
      this.#progress.delete(batch);
    }
  }

  async getOrSet<T extends ContentType>(
    type: T,
    key: string,
    fetcher: () => ValueIn<S, T> | Promise<ValueIn<S, T>>,
    options?: SetOptions,
  ): Promise<ValueOf<S, T>> {
    this.#checkOpen();
    parseContentType(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    parse(fetcherSchema, fetcher, 'invalid_argument', 'fetcher');
    const parsed = parse(setOptionsSchema, options ?? {}, 'invalid_argument', 'getOrSet options');
    // Concurrent calls for one key share one fetch (the first caller's fetcher and options).
    const id = JSON.stringify([type, key]);
    const pending = this.#inflight.get(id);
    if (pending) return pending as Promise<ValueOf<S, T>>;
    const run = (async () => {
      const cached = await this.get(type, key, parsed.fingerprint === undefined ? {} : { fingerprint: parsed.fingerprint });
      if (cached !== undefined) return cached;
      // Taken before the fetch: a value an event made stale while it was fetched is returned, not stored.
      const since = await this.#engine.mark(type);
      const checked = this.#toInput(type, { ...parsed, key, value: await fetcher() }, 'fetched value');
      const input = isPromiseLike(checked) ? await checked : checked;
      this.#checkOpen();
      await this.#engine.setMany(type, [input], { since });
      return (await this.#output(type, input.value)) as ValueOf<S, T>;
    })();
    this.#inflight.set(id, run);
    const settle = () => this.#inflight.delete(id);
    run.then(settle, settle);
    return run;
  }

  async delete(type: ContentType, key: string): Promise<boolean> {
    this.#checkOpen();
    parseContentType(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    return this.#engine.delete(type, key);
  }

  async clear(type?: ContentType): Promise<void> {
    this.#checkOpen();
    if (type !== undefined) parseContentType(type);
    await this.#engine.clear(type);
  }

  async emit(input: CacheEventInput): Promise<EmitReport> {
    this.#checkOpen();
    const event = createCacheEvent(input);
    const report = await this.#engine.emit(event);
    this.#listeners.run([event.eventType, '*'], event, { source: 'local', invalidated: report.invalidated });
    return report;
  }

  on(eventType: EventType | '*', listener: CacheEventListener): () => void {
    this.#checkOpen();
    if (eventType !== '*') parse(eventTypeSchema, eventType, 'invalid_event', 'event type');
    parse(listenerSchema, listener, 'invalid_argument', 'listener');
    return this.#listeners.add(eventType, listener);
  }

  /** Runs the listeners for an event another tab emitted (the engine calls this). */
  remoteEvent(event: CacheEvent, invalidated: EmitReport['invalidated']): void {
    if (!this.#closed) this.#listeners.run([event.eventType, '*'], event, { source: 'remote', invalidated });
  }

  /** Reports a batch's progress to its onProgress (the engine calls this), once per step and always forward. */
  progress(batch: string, done: number, total: number): void {
    const progress = this.#progress.get(batch);
    if (!progress || done <= progress.done) return;
    progress.done = done;
    try {
      progress.report(done, total);
    } catch (error) {
      this.#logger.error('Reprise: onProgress failed', error);
    }
  }

  async stats(): Promise<CacheStats> {
    this.#checkOpen();
    return this.#engine.stats();
  }

  async cleanup(): Promise<CleanupReport> {
    this.#checkOpen();
    return this.#engine.cleanup();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#engine.close();
    } finally {
      this.#onClose?.();
    }
  }

  /** Reads values and checks them against the type's schema: one that no longer parses is a miss, deleted and counted as corrupt. */
  async #read<T extends ContentType>(type: T, keys: string[], fingerprints?: (string | undefined)[]): Promise<(ValueOf<S, T> | undefined)[]> {
    const found = await this.#engine.getMany(type, keys, fingerprints);
    const schema = this.#schemas[type];
    if (!schema) return found.map((item) => item?.value as ValueOf<S, T> | undefined);
    const corrupt: { key: string; revision: number | undefined }[] = [];
    const checked: (ValueOf<S, T> | undefined)[] = [];
    for (const [index, item] of found.entries()) {
      const pending = item && checkValue(schema, item.value);
      const check = isPromiseLike(pending) ? await pending : pending;
      if (check?.ok) checked.push(check.value as ValueOf<S, T>);
      else {
        checked.push(undefined);
        if (item) corrupt.push({ key: keys[index]!, revision: item.revision });
      }
    }
    if (corrupt.length) await this.#engine.discardCorrupt(type, corrupt);
    return checked;
  }

  /**
   * Normalises one entry and checks its value: defined, and valid for the type's schema. The value is
   * stored as given, not as the schema's output: every read parses it again, so a schema with a
   * transform round-trips (its output need not be valid input, nor even cloneable).
   */
  #toInput(type: ContentType, entry: z.output<typeof entrySchema>, what: string): EntryInput | Promise<EntryInput> {
    const { key, value, trackId, album, fingerprint, ttlSeconds } = entry;
    if (value === undefined) throw new CacheError('invalid_value', `${what} for ${type} "${key}" is undefined; store null for "nothing"`);
    const input: EntryInput = { key, value };
    const checked = this.#output(type, value, `${what} for ${type} "${key}"`);
    if (trackId !== undefined) input.trackIds = typeof trackId === 'string' ? [trackId] : [...new Set(trackId)];
    if (album) input.album = album;
    if (fingerprint !== undefined) input.fingerprint = fingerprint;
    if (ttlSeconds !== undefined) input.ttlSeconds = ttlSeconds;
    return isPromiseLike(checked) ? Promise.resolve(checked).then(() => input) : input;
  }

  /** What the type's schema makes of a value (the value itself without a schema): a promise for an async schema; `invalid_value` if it does not pass. */
  #output(type: ContentType, value: unknown, what = `value for ${type}`): unknown {
    const schema = this.#schemas[type];
    return schema ? validateValue(schema, value, what) : value;
  }

  #checkOpen(): void {
    if (this.#closed) throw new CacheError('closed', 'This cache is closed');
  }
}
