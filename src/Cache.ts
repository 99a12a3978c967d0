import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { CacheEvent, CacheEventInput, EventOfType, EventType } from './cacheEvent';
import type { ContentType, TypeName } from './contentType';

/**
 * Optional schemas per content type (built-in or custom), any Standard Schema v1 validator (zod ≥ 3.24,
 * zod 4, valibot, arktype…): values are checked on write and on read, and typed by them.
 */
export type Schemas = { readonly [type: string]: StandardSchemaV1 | undefined };

/**
 * What `createCache` takes as schemas `S` for a cache whose custom types are named `N`: `Schemas`, or any
 * object type whose fields are schemas (an interface's too, which TypeScript never takes for an index
 * signature such as `Schemas`'), each named after a content type of the cache (a typo is refused, as at run
 * time). An app's function generic over its schemas constrains them so: `<S extends SchemasOf<S>>`.
 */
export type SchemasOf<S, N extends string = never> = { readonly [K in keyof S]?: (StandardSchemaV1 | undefined) & Named<K, N> };

/** Nothing for a name that is a content type of the cache (or any name: an index signature), `never` for another. */
type Named<K, N extends string> = string extends K ? unknown : number extends K ? unknown : K extends CacheType<N> ? unknown : never;

/** What a `Cache`'s schemas `S` may be: an object type whose fields are schemas, under any names. */
export type AnySchemas<S> = { readonly [K in keyof S]?: StandardSchemaV1 | undefined };

/**
 * The content types of a cache: the built-in ones and the custom names `N` of its config. From a config
 * whose type does not name them (a `CacheConfig` variable), `N` is `never`: the custom types still work,
 * named through a cast, and the cache stays a plain `Cache`.
 */
export type CacheType<N extends string = never> = ContentType | N;

/** What `get` returns for a type: the schema's output type, or `unknown` without a schema. */
export type ValueOf<S extends AnySchemas<S>, T extends string> = T extends keyof S
  ? S[T] extends StandardSchemaV1
    ? StandardSchemaV1.InferOutput<S[T]>
    : unknown
  : unknown;
/**
 * What `set` takes for a type: the schema's input type less undefined (`get`'s miss, which `set` rejects with
 * `invalid_value`: store null for "nothing"), or `unknown` without a schema.
 */
export type ValueIn<S extends AnySchemas<S>, T extends string> = T extends keyof S
  ? S[T] extends StandardSchemaV1
    ? Exclude<StandardSchemaV1.InferInput<S[T]>, undefined>
    : unknown
  : unknown;

export interface GetOptions {
  /** For fingerprint-validated types: a stored entry with another fingerprint is a miss, and is deleted. */
  fingerprint?: string | null | undefined;
}

export interface GetManyOptions extends GetOptions {
  /** One fingerprint per key (or `undefined` or null to skip the check for that key), instead of `fingerprint` for all. */
  fingerprints?: readonly (string | null | undefined)[] | null | undefined;
}

/** trackId, album and fingerprint given as null (the seed's None, JSON's null) are not given. */
export interface SetOptions {
  /** The track (or tracks) the entry belongs to: track events remove it. */
  trackId?: string | readonly string[] | null | undefined;
  /** The album the entry belongs to: track events that name the album remove it (successful_api_metadata). */
  album?: { artist: string; album: string } | null | undefined;
  /** The fingerprint the value was computed from: fingerprint_changed with it removes the entry. */
  fingerprint?: string | null | undefined;
  /** Overrides the type's TTL for this entry; at 0 or below it is written already expired (the original tool's ttl=0, ttl=-1). */
  ttlSeconds?: number | undefined;
}

export interface ResolveOptions extends SetOptions {
  /** Serve an entry this many seconds past its TTL at once (`source: 'stale'`) while it is refreshed; the policy's by default. */
  staleWhileRevalidateSeconds?: number | undefined;
  /** Skip the cache: fetch, store, return. A fetch of the key whose request may have gone when it is called (in any tab) does not answer it: it fetches. */
  forceFresh?: boolean | undefined;
  /** This caller stops waiting when it aborts: the call rejects with `aborted`. */
  signal?: AbortSignal | undefined;
}

/** What a fetcher is given. */
export interface FetcherContext<V = unknown> {
  /** Aborts when every caller waiting on this fetch has aborted, or the cache closes (its callers then reject with `closed`). */
  signal: AbortSignal;
  /** The expired value being refreshed, or undefined. */
  stale: V | undefined;
  /** Return the value to the callers without caching it. */
  skipStore(): void;
}

/** What `getOrSet` and `resolve` call: it may return the value, a Promise of it or any other thenable (awaited alike). */
export type Fetcher<In = unknown, Out = unknown> = (context: FetcherContext<Out>) => In | PromiseLike<In>;

/** Where `resolve`'s value came from. */
export type ResolveSource = 'cache' | 'stale' | 'fetch' | 'shared';

export interface Resolved<V = unknown> {
  value: V;
  /** 'cache': a live entry; 'stale': an expired one, served while it is refreshed; 'fetch': this call's fetcher; 'shared': another caller's fetch. */
  source: ResolveSource;
}

/** How a key changed. */
export type ChangeKind = 'set' | 'delete' | 'invalidate' | 'evict' | 'expire' | 'clear';

/** What `watch` listeners get: `keys: null` means any key of the type (a bulk write, a clear). */
export interface CacheChange {
  type: TypeName;
  keys: string[] | null;
  kind: ChangeKind;
  /** 'local': made by this tab; 'remote': by another tab. */
  source: 'local' | 'remote';
}

export type WatchListener = (change: CacheChange) => void;

export interface SetManyEntry<V = unknown> extends SetOptions {
  key: string;
  value: V;
}

export interface SetManyOptions {
  /** Called as entries are written: `done` of `total` (the entries passed, a key given twice counted twice), ending with `total, total`. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface EmitReport {
  eventType: EventType;
  /** Entries removed per content type the event applies to. */
  invalidated: Partial<Record<TypeName, number>>;
}

export interface EventContext {
  source: 'local' | 'remote';
  invalidated: Partial<Record<TypeName, number>>;
}

export type CacheEventListener<E extends CacheEvent = CacheEvent> = (event: E, context: EventContext) => unknown;

export interface TypeStats {
  entries: number;
  bytes: number;
  /** maxSizeMb × 2²⁰, or null without a budget. */
  maxBytes: number | null;
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  invalidations: number;
  corrupt: number;
  storage: 'indexeddb' | 'memory';
}

export interface CacheStats<N extends string = never> {
  /** Every type of the cache, built-in then custom. */
  types: Record<CacheType<N>, TypeStats>;
  /** Why persistent types are kept in memory instead of IndexedDB, or null when they are not. */
  degraded: string | null;
  /** Malformed messages from other tabs that were dropped. */
  droppedMessages: number;
}

export interface CleanupReport {
  expired: number;
  evicted: number;
}

/** A cache with schemas `S` and custom content types named `N` (from a config literal). */
export interface Cache<S extends AnySchemas<S> = Schemas, N extends string = never> {
  get<T extends CacheType<N>>(type: T, key: string, options?: GetOptions): Promise<ValueOf<S, T> | undefined>;
  getMany<T extends CacheType<N>>(type: T, keys: readonly string[], options?: GetManyOptions): Promise<(ValueOf<S, T> | undefined)[]>;
  set<T extends CacheType<N>>(type: T, key: string, value: ValueIn<S, T>, options?: SetOptions): Promise<void>;
  /** All or nothing: when one entry is rejected, none is written. */
  setMany<T extends CacheType<N>>(type: T, entries: readonly SetManyEntry<ValueIn<S, T>>[], options?: SetManyOptions): Promise<void>;
  /** Read-through: concurrent calls for one key share one fetcher call; a failing fetcher caches nothing. */
  getOrSet<T extends CacheType<N>>(type: T, key: string, fetcher: Fetcher<ValueIn<S, T>, ValueOf<S, T>>, options?: ResolveOptions): Promise<ValueOf<S, T>>;
  /** `getOrSet`, saying where the value came from. */
  resolve<T extends CacheType<N>>(
    type: T,
    key: string,
    fetcher: Fetcher<ValueIn<S, T>, ValueOf<S, T>>,
    options?: ResolveOptions,
  ): Promise<Resolved<ValueOf<S, T>>>;
  /** Whether a live (unexpired) entry exists, one whose value the type's schema refuses not (as for `get`); counts no hit or miss. */
  has(type: CacheType<N>, key: string): Promise<boolean>;
  /** Whether there was an entry. */
  delete(type: CacheType<N>, key: string): Promise<boolean>;
  /** Removes those entries in one transaction; returns how many there were. */
  deleteMany(type: CacheType<N>, keys: readonly string[]): Promise<number>;
  /** Live keys, sorted, optionally only those starting with `prefix`; with a schema for the type, those whose value it takes (values are read, as `entries` reads them). */
  keys(type: CacheType<N>, options?: ListOptions): Promise<string[]>;
  /** Live entries sorted by key, optionally only those whose key starts with `prefix`; values are checked by the type's schema like `get`'s. */
  entries<T extends CacheType<N>>(type: T, options?: ListOptions): Promise<[string, ValueOf<S, T>][]>;
  clear(type?: CacheType<N>): Promise<void>;
  /** Validates the event, removes the entries it makes stale here and in every other tab, and reports counts. */
  emit(event: CacheEventInput): Promise<EmitReport>;
  /**
   * Runs `listener` after any change of that key (or, with null, of any key of the type), in this tab or
   * another; returns the unsubscribe function. A change of a tab's memory tier reaches only its watchers.
   */
  watch(type: CacheType<N>, key: string | null, listener: WatchListener): () => void;
  /** Runs after invalidation, for local and remote events of that type (its variant: a track event's trackId is there); returns the unsubscribe function. */
  on<E extends EventType | '*'>(eventType: E, listener: CacheEventListener<EventOfType<E>>): () => void;
  stats(): Promise<CacheStats<N>>;
  cleanup(): Promise<CleanupReport>;
  /** Later calls reject with `closed`; a getOrSet or resolve whose fetcher has not answered too: close() does not wait for it. */
  close(): Promise<void>;
  /** `close()`, for `await using cache = await createCache()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

// `await using` (ES2026) as lib.esnext.disposable declares it (and @types/node), for apps whose TypeScript
// lib does not have it yet (Vite's app template: ES2023, DOM): without both interfaces, TS2318.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
    readonly asyncDispose: unique symbol;
  }
  interface Disposable {
    [Symbol.dispose](): void;
  }
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>;
  }
}

export interface ListOptions {
  /** Only keys that start with it. */
  prefix?: string | undefined;
}
