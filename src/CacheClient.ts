import * as z from 'zod/mini';
import type {
  CacheType,
  Cache,
  CacheEventListener,
  CacheStats,
  CleanupReport,
  EmitReport,
  EventContext,
  GetManyOptions,
  CacheChange,
  Fetcher,
  GetOptions,
  ListOptions,
  ResolveOptions,
  Resolved,
  Schemas,
  AnySchemas,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
  ValueIn,
  ValueOf,
  WatchListener,
} from './Cache';
import {
  entriesSchema,
  entrySchema,
  getManyArgsSchema,
  getOptionsSchema,
  keySchema,
  keysSchema,
  listOptionsSchema,
  listenerSchema,
  plainKeys,
  setManyOptionsSchema,
  setOptionsSchema,
} from './cacheArgs';
import { createCacheEvent, eventTypeSchema, type CacheEvent, type CacheEventInput, type EventOfType, type EventType } from './cacheEvent';
import { CacheError, isCacheError } from './CacheError';
import { cacheInternals } from './cacheInternals';
import { reasonOf } from './describeValue';
import { estimateBytes } from './estimateBytes';
import { acrossDeaths } from './acrossDeaths';
import { randomId } from './randomId';
import type { TypeName } from './contentType';
import { parseContentType } from './contentTypeSchema';
import { guarded } from './guarded';
import { Handlers } from './Handlers';
import { HeardChanges } from './HeardChanges';
import { HeldCalls } from './HeldCalls';
import type { Logger } from './Logger';
import { parse } from './parse';
import { forgettingOf, IMPORT_CHUNK, type ClientCallbacks, type Corrupt, type EngineApi, type EntryInput, type Found, type Mark, type Once, type SetManyOptions as EngineSetManyOptions, type ToldChange } from './protocol';
import type { CachePolicy } from './cachePolicy';
import { FetchLocks } from './FetchLocks';
import { isPromiseLike } from './isPromiseLike';
import { PendingCalls } from './PendingCalls';
import { AnsweredMarks } from './AnsweredMarks';
import { ReadBatcher } from './ReadBatcher';
import { ReadsBeforeWrites } from './ReadsBeforeWrites';
import { typesOf } from './typesOf';
import { Resolver } from './Resolver';
import { TimeSlices } from './TimeSlices';
import { assertValid, checkValue, validateValue, type ValueCheck } from './validateValue';

/** Where the platform has no Symbol.asyncDispose yet, the one TypeScript's and esbuild's `await using` fall back to. */
const asyncDispose: typeof Symbol.asyncDispose = (Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')) as typeof Symbol.asyncDispose;

/** Entries validated (and sent, with a worker) per step of a big setMany, so no step holds the main thread for long. */
export const SET_MANY_CHUNK = 2000;

export interface CacheClientOptions {
  schemas?: Schemas | undefined;
  /** Guarded already (see guardLogger): createCache guards the app's. */
  logger?: Logger | undefined;
  /** Runs after the engine closed (terminates a worker). */
  onClose?: () => void;
  /** Runs as close() is called, before the calls made before it have settled (watches a worker that may hang: see RemoteEngine.closing). */
  onClosing?: () => void;
  /** Entries per step of a big setMany (SET_MANY_CHUNK); smaller in simulations, to cross chunks cheaply. */
  setManyChunk?: number;
  /** Makes one fetch per key for all tabs; without it, one per tab. */
  fetchLocks?: FetchLocks;
  /** The cache's content types, each with whether it is persistent (see typesOf); the six built-in ones by default. */
  types?: ReadonlyMap<TypeName, boolean> | undefined;
  /** What the slices of a big batch's checks (setMany's, a read's) are timed by: performance.now by default; simulations inject theirs, to replay. */
  clock?: () => number;
  /**
   * The app's config when it may patch its policies (a SmartCacheConfig; an object read through its toJSON only has no
   * getPolicy): a setMany sent in chunks takes its type's policy as it is made, since its commit may reach the engine after
   * a patch (which, unlike the calls held, it does not hold back: see createCache).
   */
  config?: { getPolicy?(type: TypeName): CachePolicy } | undefined;
}

/**
 * The public `Cache`: validates every argument, applies value schemas, shares concurrent `getOrSet`
 * fetches and runs `on` listeners, over an engine that is either in-process or behind a worker.
 */
export class CacheClient<S extends AnySchemas<S> = Schemas, N extends string = never> implements Cache<S, N>, Pick<ClientCallbacks, 'remoteEvent' | 'progress' | 'changed'>, Required<Pick<ClientCallbacks, 'forgot'>> {
  readonly #engine: EngineApi;
  readonly #schemas: Schemas;
  readonly #listeners: Handlers<EventType | '*', [CacheEvent, EventContext]>;
  /** Watchers of a type under its name, and of one key under watchedKey: a change runs only those of its keys. */
  readonly #watchers: Handlers<string, [CacheChange]>;
  /** getOrSet and resolve. */
  readonly #resolver: Resolver;
  /** The ids of the changes heard, which a retry may tell again (see ToldChange). */
  readonly #heard = new HeardChanges();
  readonly #onClose: (() => void) | undefined;
  readonly #onClosing: (() => void) | undefined;
  readonly #clock: () => number;
  readonly #logger: Logger;
  /** Each batch's onProgress, what it last reported, and how many entries the call was given. */
  readonly #progress = new Map<string, { report: (done: number, total: number) => void; done: number; entries: number }>();
  readonly #chunk: number;
  readonly #config: CacheClientOptions['config'];
  readonly #types: ReadonlyMap<TypeName, boolean>;
  readonly #typeNames: readonly TypeName[];
  /** Concurrent gets of a type, read together. */
  readonly #reads: ReadBatcher;
  /** This page's reads with fingerprints, and the writes of their keys it made meanwhile (see ReadsBeforeWrites). */
  readonly #readsBefore = new ReadsBeforeWrites();
  /** Calls of a type held back while an earlier one of it is checked, so that the engine gets them in the order made. */
  readonly #held = new HeldCalls();
  /**
   * Calls not settled yet, which close() waits for: engine calls, and each call of the cache whose engine
   * calls come after an await (an async schema's check, a yield between two chunks, an earlier call of its type held: see HeldCalls) from the moment it is made.
   */
  readonly #calls = new PendingCalls();
  readonly #answered = new AnsweredMarks();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** An adapter's calls held back (a throttled save): made by close() before it takes no more (see cacheInternals). */
  readonly #beforeClose = new Set<() => void>();
  /** See CacheInternals.removing. */
  readonly #removing = new Set<(type: TypeName, keys: readonly string[] | null) => void>();
  /** What an adapter does when its tab forgot changes it could not replay (see cacheInternals). */
  readonly #forgot = new Set<() => unknown>();
  #batches = 0;
  /**
   * Per type, the last setMany sent in chunks: settles once its commit is sent (or it failed first) and the one's
   * before it has, so that the next one's commit follows them, and a later one of the type, staged faster, cannot land first.
   */
  readonly #chunkedTurns = new Map<TypeName, Promise<unknown>>();
  /** The app's policy patches held behind calls of their type (see createCache): each settles once sent. */
  readonly #patches = new Set<Promise<void>>();

  constructor(engine: EngineApi, options: CacheClientOptions = {}) {
    const counted = this.#calls.engine(engine);
    // A read with fingerprints made now (a get's as its batch is sent: see #sending), and what this page writes meanwhile.
    const getMany: EngineApi['getMany'] = (type, keys, fingerprints, readThrough) =>
      fingerprints
        ? this.#readsBefore.during(type, keys, (written) => counted.getMany(type, keys, fingerprints, { ...readThrough, written }))
        : counted.getMany(type, keys, fingerprints, readThrough);
    const held = this.#held;
    this.#engine = {
      ...counted,
      // Reads as they are called (a get's in #get): after the changes of their type made before them, which they see.
      getMany: (type, ...args) => held.send([type], null, () => getMany(type, ...args)),
      has: (type, key) => held.send([type], null, () => counted.has(type, key)),
      keys: (type, prefix) => held.send([type], null, () => counted.keys(type, prefix)),
      entries: (type, prefix) => held.send([type], null, () => counted.entries(type, prefix)),
      setMany: (type, entries, options) => (this.#sending(type, entries.map(({ key }) => key)), counted.setMany(type, entries, options)),
    };
    this.#schemas = options.schemas ?? {};
    this.#logger = options.logger ?? console;
    this.#listeners = new Handlers(this.#logger, { skipRemoved: true });
    this.#watchers = new Handlers(this.#logger, { skipRemoved: true });
    this.#onClose = options.onClose;
    this.#onClosing = options.onClosing;
    this.#clock = options.clock ?? (() => performance.now());
    this.#chunk = options.setManyChunk ?? SET_MANY_CHUNK;
    this.#config = options.config;
    this.#types = options.types ?? typesOf({});
    this.#typeNames = [...this.#types.keys()];
    // A call of a type sent after the page's calls of it held now (see HeldCalls), holding those made meanwhile.
    const inTurn = <T>(type: TypeName, send: () => T) => held.send([type], null, send);
    cacheInternals.set(this, {
      types: this.#types,
      closing: this.#beforeClose,
      removing: this.#removing,
      closed: () => this.#closed,
      forgot: this.#forgot,
      logger: this.#logger,
      // After the calls of its type still held (an event behind a value an async schema checks), which it would otherwise take for news.
      mark: (type) => this.#calls.track((async () => (this.#checkOpen(), this.#held.send([type], null, () => this.#engine.mark(type))))()),
      setSince: (type, key, value, options, since) => this.#calls.track(this.#set(type as CacheType<N>, key, value as ValueIn<S, CacheType<N>>, options, since)),
      patch: (type, send) => {
        let sent!: () => void;
        const sending = new Promise<void>((resolve) => (sent = resolve));
        this.#patches.add(sending);
        void sending.then(() => this.#patches.delete(sending));
        return inTurn(type, () => (sent(), send()));
      },
    });
    this.#resolver = new Resolver(this.#engine, {
      calls: this.#calls,
      fetchLocks: options.fetchLocks ?? new FetchLocks({ name: '', locks: undefined, openChannel: undefined }),
      // Once closed, a refresh close() cut short fails without a word.
      report: (message, error) => this.#closed || this.#logger.error(message, error),
      check: (type) => this.#known(type),
      checked: this.#checked.bind(this),
      // Its value checked once, by output.
      toInput: (type, entry, what) => this.#toInput(type, entry, what, true) as EntryInput,
      output: (type, key, value, what) => {
        const schema = this.#schemas[type];
        return schema ? validateValue(schema, value, `${what} for ${type} "${key}"`) : value;
      },
      answered: this.#answered,
      heard: this.#heard,
      inTurn,
      policy: (type) => this.#config?.getPolicy?.(type),
    });
    // A batch's gets read again after it failed know the writes made since the batch was: they remove no entry one of those made.
    this.#reads = new ReadBatcher((type, keys, fingerprints, reads) =>
      fingerprints
        ? this.#readsBefore.during(type, keys, (written) => reads((some, prints) => counted.getMany(type, some, prints, { written })))
        : reads((some, prints) => counted.getMany(type, some, prints)),
    );
  }

  get<T extends CacheType<N>>(type: T, key: string, options?: GetOptions): Promise<ValueOf<S, T> | undefined> {
    return this.#calls.track(this.#get(type, key, options));
  }

  async #get<T extends CacheType<N>>(type: T, key: string, options?: GetOptions): Promise<ValueOf<S, T> | undefined> {
    this.#known(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    const { fingerprint } = parse(getOptionsSchema, options ?? {}, 'invalid_argument', 'get options');
    const found = await this.#held.send([type], null, () => this.#reads.read(type, key, fingerprint ?? undefined));
    const [checked] = await this.#checked(type, [key], [found]);
    return checked?.value;
  }

  getMany<T extends CacheType<N>>(type: T, keys: readonly string[], options?: GetManyOptions): Promise<(ValueOf<S, T> | undefined)[]> {
    return this.#calls.track(this.#getMany(type, keys, options));
  }

  async #getMany<T extends CacheType<N>>(type: T, keys: readonly string[], options?: GetManyOptions): Promise<(ValueOf<S, T> | undefined)[]> {
    this.#known(type);
    const plain = plainKeys(keys);
    const args = parse(getManyArgsSchema, { keys: plain ? [] : keys, options: options ?? undefined }, 'invalid_argument', 'getMany arguments');
    const valid = plain ?? args.keys;
    const { fingerprint, fingerprints } = args.options ?? {};
    if (fingerprint != null && fingerprints) throw new CacheError('invalid_argument', 'getMany: fingerprint or fingerprints, not both');
    if (fingerprints && fingerprints.length !== keys.length) {
      throw new CacheError('invalid_argument', `getMany: ${fingerprints.length} fingerprints for ${keys.length} keys`);
    }
    // Nothing to read: no transaction, and no read to tell the worker of.
    if (!valid.length) return [];
    // `fingerprint`, as get takes it, checks every key.
    return this.#read(type, valid, fingerprints?.map((each) => each ?? undefined) ?? (fingerprint == null ? undefined : valid.map(() => fingerprint)));
  }

  set<T extends CacheType<N>>(type: T, key: string, value: ValueIn<S, T>, options?: SetOptions): Promise<void> {
    return this.#calls.track(this.#set(type, key, value, options));
  }

  /** `since`: the write of what a fetch started at that mark brought (see cacheInternals' setSince). */
  async #set<T extends CacheType<N>>(type: T, key: string, value: ValueIn<S, T>, options?: SetOptions, since?: Mark): Promise<void> {
    this.#known(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    const parsed = parse(setOptionsSchema, options ?? {}, 'invalid_argument', 'set options');
    const pending = this.#toInput(type, { ...parsed, key, value }, 'value');
    // As it is called: a getOrSet's write of the key issued after this comes after it (see Resolver.sawWrite), if it is sent.
    const write = this.#resolver.writing(type);
    write.saw([key]);
    try {
      await this.#held.send([type], pending, (input) => {
        write.end(true);
        return this.#happened(type, { since }, (options) => this.#engine.setMany(type, [input], options), new Set([key]));
      });
    } finally {
      write.end(false);
    }
  }

  setMany<T extends CacheType<N>>(type: T, entries: readonly SetManyEntry<ValueIn<S, T>>[], options?: SetManyOptions): Promise<void> {
    return this.#calls.track(this.#setMany(type, entries, options));
  }

  async #setMany<T extends CacheType<N>>(type: T, given: readonly SetManyEntry<ValueIn<S, T>>[], options?: SetManyOptions): Promise<void> {
    this.#known(type);
    const { onProgress } = parse(setManyOptionsSchema, options ?? {}, 'invalid_argument', 'setMany options');
    // Copied as the call is made, through parse (an item may throw as it is read); later chunks are read after awaits.
    const entries = parse(entriesSchema, given, 'invalid_argument', 'setMany entries') as typeof given;
    // The distinct keys (what a next worker tells of, see #happened): counted chunk by chunk, like the validation.
    const keys = new Set<string>();
    const write = this.#resolver.writing(type);
    // Validating a chunk is never one long task (see TimeSlices).
    const slices = new TimeSlices(this.#clock);
    const inputs = (from: number): EntryInput[] | Promise<EntryInput[]> => {
      const chunk: EntryInput[] = [];
      const add = (input: EntryInput) => {
        keys.add(input.key);
        // As it is checked (in the call while that takes no await), before it is sent: see set.
        write.saw([input.key]);
        chunk.push(input);
      };
      const validated = slices.run(from, Math.min(from + this.#chunk, entries.length), (index) => {
        const input = this.#toInput(type, parse(entrySchema, entries[index], 'invalid_argument', `entry ${index}`), `entry ${index}`);
        return isPromiseLike(input) ? input.then(add) : add(input);
      });
      return isPromiseLike(validated) ? validated.then(() => chunk) : chunk;
    };
    const batch = `batch-${++this.#batches}`;
    if (onProgress) this.#progress.set(batch, { report: onProgress, done: 0, entries: entries.length });
    try {
      // Sent whole unless big, or an import made while one of its type sent in chunks is sent: then in its turn, after
      // that one's commit (sent whole, it would begin first, its entries then replaced by the earlier one's).
      if (entries.length <= this.#chunk && !(entries.length > IMPORT_CHUNK && this.#chunkedTurns.has(type))) {
        // Held while its validation yields: the changes of its type made meanwhile reach the engine after it.
        await this.#held.send([type], inputs(0), (ready) => {
          write.end(true);
          return this.#happened(type, { batch: onProgress && batch }, (options) => this.#engine.setMany(type, ready, options), keys);
        });
      } else {
        // Validate and hand over in chunks, yielding between them; the engine writes it all or nothing (above
        // a thousand entries as an import, in short transactions: see worker/importBatch.ts). It holds back no
        // call made after it (the interactivity bar: an emit or a read of its type during a long import), but
        // commits after the calls of its type held before it.
        const held = this.#held.before([type]);
        // Its type's policy as it is made: its commit reaches the engine after an updatePolicy made meanwhile, which holds back no chunk.
        const policy = this.#config?.getPolicy?.(type);
        const earlier = this.#chunkedTurns.get(type);
        let handedOver!: () => void;
        // Over once its commit is handed over (or it failed) and the earlier one's turn is: a later one follows both.
        const turn = Promise.all([earlier, new Promise<void>((resolve) => (handedOver = resolve))]);
        this.#chunkedTurns.set(type, turn);
        // A first chunk, empty, sent after the calls of its type held before it and before any made after it (its
        // validation may yield): the engine reads there where the event log stands, so that an event or clear made
        // after it applies to it, though it reaches the engine before its commit (see Engine.stage).
        const begun = this.#held.send([type], [], (none: EntryInput[]) => this.#engine.stage(type, batch, none));
        try {
          for (let from = 0; from < entries.length; from += this.#chunk) {
            const chunk = inputs(from);
            const ready = isPromiseLike(chunk) ? await chunk : chunk;
            await begun;
            await this.#engine.stage(type, batch, ready);
            await slices.yield();
          }
          // Committed in the order made: after the commit of an earlier one of the type, which may take longer to send.
          await earlier;
          await held;
          write.end(true);
          const committing = this.#happened(type, { batch, policy }, (options) => (this.#sending(type, [...keys]), this.#engine.commit(type, entries.length, options)), keys);
          handedOver();
          await committing;
        } catch (error) {
          // After its first chunk, which waits for the calls held before it (not this rejection: one may never be sent).
          const discard = () => this.#engine.discard(batch).catch(() => {});
          const discarded = begun.then(discard, discard);
          if (!held) await discarded;
          throw error;
        } finally {
          handedOver();
          // Kept until the earlier one's turn is over too (this one failed first): a later one follows that.
          void turn.then(() => this.#chunkedTurns.get(type) === turn && this.#chunkedTurns.delete(type));
        }
      }
      // The last report comes from here, once it has committed (more than every key): the engine's may arrive after its answer, on another port.
      this.progress(batch, Infinity, 0);
    } finally {
      write.end(false);
      this.#progress.delete(batch);
    }
  }

  async getOrSet<T extends CacheType<N>>(
    type: T,
    key: string,
    fetcher: Fetcher<ValueIn<S, T>, ValueOf<S, T>>,
    options?: ResolveOptions,
  ): Promise<ValueOf<S, T>> {
    return (await this.#calls.track(this.#resolver.resolve(type, key, fetcher as Fetcher<unknown, unknown>, options, 'getOrSet'))).value as ValueOf<S, T>;
  }

  resolve<T extends CacheType<N>>(
    type: T,
    key: string,
    fetcher: Fetcher<ValueIn<S, T>, ValueOf<S, T>>,
    options?: ResolveOptions,
  ): Promise<Resolved<ValueOf<S, T>>> {
    return this.#calls.track(this.#resolver.resolve(type, key, fetcher as Fetcher<unknown, unknown>, options, 'resolve')) as Promise<Resolved<ValueOf<S, T>>>;
  }

  has(type: CacheType<N>, key: string): Promise<boolean> {
    return this.#calls.track(this.#has(type, key));
  }

  async #has(type: CacheType<N>, key: string): Promise<boolean> {
    this.#known(type);
    parse(keySchema, key, 'invalid_argument', 'key');
    if (!this.#schemas[type]) return this.#engine.has(type, key);
    // A value the type's schema refuses is no entry for get: none for has either (discarded as get discards it).
    const found = await this.#engine.getMany(type, [key], undefined, { again: true, peek: true });
    const [checked] = await this.#checked(type, [key], found, false);
    return checked !== undefined;
  }

  async delete(type: CacheType<N>, key: string): Promise<boolean> {
    return (await this.deleteMany(type, [key])) > 0;
  }

  deleteMany(type: CacheType<N>, keys: readonly string[]): Promise<number> {
    return this.#calls.track(this.#deleteMany(type, keys));
  }

  async #deleteMany(type: CacheType<N>, keys: readonly string[]): Promise<number> {
    this.#known(type);
    const valid = plainKeys(keys) ?? parse(keysSchema, keys, 'invalid_argument', 'keys');
    this.#resolver.sawWrite(type, valid);
    if (valid.length === 0) return 0;
    this.#removing.forEach((removing) => removing(type, valid));
    const schema = this.#schemas[type];
    const id = randomId();
    // With a schema, the values removed come back: one it refuses was no entry for get, has or keys.
    const values = schema && { values: true as const };
    const deleted = await this.#held.send([type], null, () =>
      this.#answered.carry(type, id, (answered) => this.#once((once) => this.#engine.deleteMany(type, valid, { ...once, answered, ...values }), id)),
    );
    if (typeof deleted === 'number') return deleted;
    let refused = 0;
    const count = (check: ValueCheck) => void (check.ok || refused++);
    // In slices, as a read's (see #checked).
    const ran = new TimeSlices(this.#clock).run(0, deleted.length, (index) => {
      const check = checkValue(schema!, deleted[index]);
      return isPromiseLike(check) ? check.then(count) : count(check);
    });
    if (isPromiseLike(ran)) await ran;
    // Counted as a read's discard counts one; the deletion happened whatever becomes of the count (a worker
    // dead since took it along, or never got it: what a dead worker counts is lost with it, never counted twice).
    if (refused) await this.#engine.deletedCorrupt(type, refused).catch(() => {});
    return deleted.length - refused;
  }

  keys(type: CacheType<N>, options?: ListOptions): Promise<string[]> {
    return this.#calls.track(this.#keys(type, options));
  }

  async #keys(type: CacheType<N>, options?: ListOptions): Promise<string[]> {
    this.#known(type);
    const { prefix } = parse(listOptionsSchema, options ?? {}, 'invalid_argument', 'keys options');
    if (!this.#schemas[type]) return this.#engine.keys(type, prefix);
    // With a schema the values are read: a key whose value it refuses is no entry, as for entries.
    return (await this.#listed(type, prefix)).map(([key]) => key);
  }

  entries<T extends CacheType<N>>(type: T, options?: ListOptions): Promise<[string, ValueOf<S, T>][]> {
    return this.#calls.track(this.#entries(type, options));
  }

  async #entries<T extends CacheType<N>>(type: T, options?: ListOptions): Promise<[string, ValueOf<S, T>][]> {
    this.#known(type);
    const { prefix } = parse(listOptionsSchema, options ?? {}, 'invalid_argument', 'entries options');
    return this.#listed(type, prefix);
  }

  /** The live entries, sorted by key, checked by the type's schema. */
  async #listed<T extends CacheType<N>>(type: T, prefix: string | undefined): Promise<[string, ValueOf<S, T>][]> {
    const listed = await this.#engine.entries(type, prefix);
    // Made into pairs in slices too, and in one pass without a schema: for 100,000 entries, passes over
    // the whole answer (and the garbage they leave) are a long task of the page.
    const slices = new TimeSlices(this.#clock);
    const checked = this.#schemas[type] ? await this.#checked(type, listed.map(({ key }) => key), listed, false, slices) : null;
    const entries: [string, ValueOf<S, T>][] = [];
    const ran = slices.run(0, listed.length, (index) => {
      const { key, value } = listed[index]!;
      if (!checked) return void entries.push([key, value as ValueOf<S, T>]);
      const entry = checked[index];
      if (entry) entries.push([key, entry.value]);
    });
    if (isPromiseLike(ran)) await ran;
    return entries;
  }

  async clear(type?: CacheType<N>): Promise<void> {
    this.#checkOpen();
    if (type !== undefined) this.#known(type);
    const types = type === undefined ? this.#typeNames : [type];
    for (const each of types) this.#removing.forEach((removing) => removing(each, null));
    await this.#calls.track(this.#held.send(types, null, () => this.#once((once) => this.#engine.clear(type, once))));
    this.#resolver.sawChange(types);
  }

  async emit(input: CacheEventInput): Promise<EmitReport> {
    this.#checkOpen();
    const event = createCacheEvent(input);
    // Copied for every other tab: one that cannot be is refused before anything is invalidated (a tab
    // without IndexedDB copies it only as it broadcasts, after). The copy is what the engine gets: the event as
    // emitted, whenever it reads it (held behind a call still checked, in process after an await, on a retry).
    let sent = event;
    try {
      if (event.metadata !== undefined) {
        // Depth first: the page's stack copies deeper than a worker's rebuilds (values have the same limit).
        estimateBytes(event.metadata);
        sent = { ...event, metadata: structuredClone(event.metadata) };
      }
    } catch (error) {
      throw new CacheError('not_cloneable', `The event's metadata cannot be sent to the other tabs: copying it threw (${reasonOf(error)})`, { cause: error });
    }
    // After every change of the tab's types made before it (which types it applies to is the engine's to say).
    const report = await this.#calls.track(this.#held.send(this.#typeNames, null, () => this.#once((once) => this.#engine.emit(sent, once))));
    this.#resolver.sawChange(Object.keys(report.invalidated));
    this.#listeners.run([event.eventType, '*'], event, { source: 'local', invalidated: report.invalidated });
    return report;
  }

  on<E extends EventType | '*'>(eventType: E, listener: CacheEventListener<EventOfType<E>>): () => void {
    this.#checkOpen();
    if (eventType !== '*') parse(eventTypeSchema, eventType, 'invalid_event', 'event type');
    parse(listenerSchema, listener, 'invalid_argument', 'listener');
    // Run only for events of its type (see emit and the channel's): the variant it is typed for. Each its own copy
    // of the event, its metadata (the emit's caller's object, cloned once already) and counts: one that rewrites
    // them changes them for no other, nor for the emit's caller.
    return this.#listeners.add(eventType, (event, { source, invalidated }) =>
      (listener as CacheEventListener)(event.metadata ? { ...event, metadata: structuredClone(event.metadata) } : { ...event }, { source, invalidated: { ...invalidated } }),
    );
  }

  watch(type: CacheType<N>, key: string | null, listener: WatchListener): () => void {
    this.#known(type);
    if (key !== null) parse(keySchema, key, 'invalid_argument', 'key');
    parse(listenerSchema, listener, 'invalid_argument', 'listener');
    // Each its own copy: one that consumes or rewrites what it is told (keys.shift()) hides the change from no other.
    return this.#watchers.add(key === null ? type : watchedKey(type, key), (change) => listener({ ...change, keys: change.keys && [...change.keys] }));
  }

  /** Runs the watchers of changed entries (the engine calls this, once per task). */
  changed(changes: ToldChange[]): void {
    // Each forgetting its tab told (a change of each type): acted on once, after its watchers have heard it.
    const forgettings = new Set<string>();
    // A change told again (see ToldChange) was heard before.
    for (const { id, ...change } of this.#heard.fresh(changes)) {
      const forgetting = forgettingOf(id);
      if (forgetting !== undefined) forgettings.add(forgetting);
      // As soon as watchers hear of it (of this tab's own, before the call resolves; of another tab's clear, only
      // so), a fetch started before a clear or an invalidation is not joined: a watcher may resolve the key again.
      if (change.kind === 'clear' || change.kind === 'invalidate') this.#resolver.sawChange([change.type]);
      // Another tab's write, as far as its hint tells (this tab's own counted as they were called).
      else if (change.source === 'remote' && (change.kind === 'set' || change.kind === 'delete')) this.#resolver.heardWrite(change.type, change.keys, change.kind === 'delete');
      // Once closed, still those of this tab's calls made before close(), which settle as they would have (as
      // their events reach the listeners); no more of the other tabs', nor of its periodic sweep (no call: see Engine's #cleanup).
      if (!this.#closed || (change.source === 'local' && !id?.startsWith('swept:'))) this.#tell(change);
    }
    for (const _ of forgettings) this.forgot();
  }

  /** Runs what the adapters do when the tab forgot changes it could not replay (see cacheInternals' forgot). */
  forgot(): void {
    if (this.#closed) return;
    for (const forgot of [...this.#forgot]) void guarded(forgot, (error) => this.#logger.error('Reprise: acting on changes this tab forgot failed', error));
  }

  /** Runs the watchers of the type and those of the keys changed: of every key for a change of any key (keys null). */
  #tell(change: CacheChange): void {
    const { type, keys } = change;
    if (keys === null) this.#watchers.runMatching(type, (watched) => watched === type || watched.startsWith(watchedKey(type, '')), change);
    else this.#watchers.run([type, ...keys.map((key) => watchedKey(type, key))], change);
  }

  /** Runs the listeners for an event another tab emitted (the engine calls this). */
  remoteEvent(event: CacheEvent, invalidated: EmitReport['invalidated']): void {
    this.#resolver.sawChange(Object.keys(invalidated));
    if (!this.#closed) this.#listeners.run([event.eventType, '*'], event, { source: 'remote', invalidated });
  }

  /**
   * Reports a batch's progress to its onProgress (the engine calls this), once per step and always forward.
   * The engine counts the keys it writes (of several entries with one key, the last); the caller hears of the
   * entries it passed, in proportion, and of all of them only from setMany once the call has committed (`written`
   * above `keys`): every key written (a full disk or an abort at commit, a worker's death may still undo it) is
   * all the entries but one.
   */
  progress(batch: string, written: number, keys: number): void {
    const progress = this.#progress.get(batch);
    if (!progress) return;
    const { entries } = progress;
    const done = written > keys ? entries : written === keys ? entries - 1 : Math.floor((written * entries) / keys);
    if (done <= progress.done) return;
    progress.done = done;
    // An async onProgress that throws rejects: reported as one that throws, not left unhandled.
    guarded(() => progress.report(done, entries), (error) => this.#logger.error('Reprise: onProgress failed', error));
  }

  async stats(): Promise<CacheStats<N>> {
    return (await this.#afterPatches(() => this.#engine.stats())) as unknown as CacheStats<N>;
  }

  async cleanup(): Promise<CleanupReport> {
    return this.#afterPatches(() => this.#engine.cleanup());
  }

  /**
   * Made once the policy patches made so far are sent: those held behind a call of their type (a value an async schema
   * checks) reach the engine before a stats() or cleanup() made after them, which close() waits for meanwhile.
   */
  async #afterPatches<T>(call: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    if (!this.#patches.size) return call();
    return this.#calls.track(Promise.all(this.#patches).then(call));
  }

  /** `await using cache = await createCache()` closes it at the end of the block. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * New calls reject with `closed` at once; those made before settle as they would have (but a getOrSet or
   * resolve whose fetcher has not answered: `closed`), then the engine closes. Every call gets the same promise.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#beforeClose.forEach((call) => call());
      // A fetcher may never answer: every fetch under way is cut short, its fetcher told through its signal,
      // its callers rejected with closed (those whose value is being stored settle as they would have).
      const closed = new CacheError('closed', 'This cache is closed');
      this.#resolver.abandon(closed);
      this.#onClosing?.();
    }
    this.#closed = true;
    return (this.#closing ??= this.#shutDown());
  }

  async #shutDown(): Promise<void> {
    try {
      await this.#calls.settled();
      await this.#engine.close();
    } finally {
      this.#onClose?.();
    }
  }

  /** Reads values and checks them against the type's schema: one that no longer parses is a miss, deleted and counted as corrupt. */
  async #read<T extends CacheType<N>>(type: T, keys: string[], fingerprints?: (string | undefined)[]): Promise<(ValueOf<S, T> | undefined)[]> {
    const found = await this.#engine.getMany(type, keys, fingerprints);
    // Without a schema, each value as read: one pass over a big answer, not two (row 12).
    if (!this.#schemas[type]) return found.map((item) => item?.value as ValueOf<S, T>);
    return (await this.#checked(type, keys, found)).map((checked) => checked?.value);
  }

  /** Each value as the type's schema makes it, or undefined for a miss and a value the schema refuses (deleted and counted as corrupt; `counted`: the read counted it as a hit). */
  async #checked<T extends CacheType<N>>(
    type: T,
    keys: readonly string[],
    found: readonly (Found | undefined)[],
    counted = true,
    slices = new TimeSlices(this.#clock),
  ): Promise<({ value: ValueOf<S, T> } | undefined)[]> {
    const schema = this.#schemas[type];
    if (!schema) return found.map((item) => item && { value: item.value as ValueOf<S, T> });
    const corrupt: Corrupt[] = [];
    const checked: ({ value: ValueOf<S, T> } | undefined)[] = [];
    const keep = (index: number, item: Found, check: ValueCheck) => {
      if (check.ok) return void checked.push({ value: check.value as ValueOf<S, T> });
      checked.push(undefined);
      corrupt.push({ key: keys[index]!, revision: item.revision, read: item });
    };
    // A big read's values are checked in slices, as setMany's are: never one long task of the page.
    const ran = slices.run(0, found.length, (index) => {
      const item = found[index];
      if (!item) return void checked.push(undefined);
      const check = checkValue(schema, item.value);
      return isPromiseLike(check) ? check.then((settled) => keep(index, item, settled)) : keep(index, item, check);
    });
    if (isPromiseLike(ran)) await ran;
    // Housekeeping, as the engine has it: the read has its answer, whatever becomes of the discard (a worker
    // dying meanwhile: the next read that meets the value discards it, and counts it).
    if (corrupt.length) await this.#engine.discardCorrupt(type, corrupt, counted).catch(() => {});
    return checked;
  }


  /**
   * Normalises one entry and checks its value: defined, and valid for the type's schema (unless `unchecked`:
   * a fetched value is checked once, for what the schema makes of it). The value is stored as given, not as
   * the schema's output: every read parses it again, so a schema with a transform round-trips (its output
   * need not be valid input, nor even cloneable).
   */
  #toInput(type: TypeName, entry: z.output<typeof entrySchema>, what: string, unchecked?: boolean): EntryInput | Promise<EntryInput> {
    const { key, value, trackId, album, fingerprint, ttlSeconds } = entry;
    if (value === undefined) throw new CacheError('invalid_value', `${what} for ${type} "${key}" is undefined; store null for "nothing"`);
    const input: EntryInput = { key, value };
    const schema = !unchecked && this.#schemas[type];
    // Whether it passes, not what the schema makes of it: a promise given as the value (an await forgotten) is not awaited, and fails as the worker copies it.
    const checked = schema && assertValid(schema, value, `${what} for ${type} "${key}"`);
    if (trackId != null) input.trackIds = typeof trackId === 'string' ? [trackId] : [...new Set(trackId)];
    if (album) input.album = album;
    if (fingerprint != null) input.fingerprint = fingerprint;
    if (ttlSeconds !== undefined) input.ttlSeconds = ttlSeconds;
    return isPromiseLike(checked) ? checked.then(() => input) : input;
  }

  /**
   * A change the engine applies at most once under an id (deleteMany, clear, emit): if the worker dies
   * before answering, the next one is asked to apply it, and answers as the first did if that one had
   * happened (a resolved call happened, a rejected one did nothing — but worker_failed: unknown).
   */
  #once<T>(change: (once: Once) => Promise<T>, id = randomId()): Promise<T> {
    return this.#calls.track(this.#heard.mine(id, acrossDeaths((retry) => change({ id, retry }))));
  }

  /**
   * Runs a write with its `options` under a new commit id, which the engine marks in IndexedDB with it (see
   * SetManyOptions.commitId). When its worker dies before answering, the write may have committed
   * all the same: the next worker says whether it did, tells the watchers (the dead one may not have), and
   * then the call resolves. `keys`: what it wrote, which the room the next worker makes after an import spares.
   */
  #happened<T, O extends EngineSetManyOptions>(type: TypeName, options: O, write: (options: O) => Promise<T>, keys?: ReadonlySet<string>): Promise<T | undefined> {
    const commitId = randomId();
    // One call for close(): it must not close the engine between the write's failure and the question.
    const written = this.#answered.carry(type, commitId, (answered) =>
      write({ ...options, commitId, answered }).catch(async (error: unknown) => {
        // A next worker that cannot tell (it cannot read IndexedDB, or it and those after it died too) rejects: that error, not one saying it did not happen.
        if (!isCacheError(error, 'worker_failed') || !(await acrossDeaths(() => this.#engine.committed(type, commitId, keys), true))) throw error;
        // It happened, but its answer is lost.
        return undefined;
      }),
    );
    return this.#calls.track(this.#heard.mine(commitId, written));
  }

  /**
   * A write of `keys` being sent: the gets gathered before it go first, and the reads with fingerprints
   * under way count it (see ReadsBeforeWrites), so that one made before it does not remove what it writes.
   */
  #sending(type: TypeName, keys: readonly string[]): void {
    this.#reads.flush(type);
    this.#readsBefore.wrote(type, keys);
  }

  /** Checks that the cache is open (`closed` otherwise) and the type is one of its own (`unknown_content_type` otherwise). */
  #known(type: unknown): void {
    this.#checkOpen();
    parseContentType(type, this.#typeNames);
  }

  #checkOpen(): void {
    if (this.#closed) throw new CacheError('closed', 'This cache is closed');
  }
}

/** What a watcher of one key is kept under: no type name has a colon (see CUSTOM_TYPE_NAME), so none is another type's. */
function watchedKey(type: TypeName, key: string): string {
  return `${type}:${key}`;
}
