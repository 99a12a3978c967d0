// Type tests, checked by `npm run typecheck` (tsc): what users see of the API's types.
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { EventDrivenCacheManager, SmartCacheConfig, createCache, createCacheEvent, isCacheError, isFingerprint, type Cache, type CacheError, type CacheEvent, type CacheEventInput, type CacheConfig, type CacheStats, type CacheType, type EmitReport, type EventContext, type Resolved, type Schemas, type SchemasOf, type TypeStats } from '../src/index';

declare const schemas: { album_year: z.ZodObject<{ year: z.ZodNumber }>; generic: z.ZodString };
const typed = await createCache({ schemas });

// Values are typed by the schema of their content type; types without a schema are unknown.
expectTypeOf(typed.get('album_year', 'k')).resolves.toEqualTypeOf<{ year: number } | undefined>();
expectTypeOf(typed.getMany('generic', ['a'])).resolves.toEqualTypeOf<(string | undefined)[]>();
expectTypeOf(typed.get('track_metadata', 'k')).resolves.toEqualTypeOf<unknown>();
expectTypeOf(typed.getOrSet('album_year', 'k', () => ({ year: 1999 }))).resolves.toEqualTypeOf<{ year: number }>();

// Listing: keys are strings, entries are typed by the schema.
expectTypeOf(typed.keys('album_year', { prefix: 'a' })).resolves.toEqualTypeOf<string[]>();
expectTypeOf(typed.entries('album_year')).resolves.toEqualTypeOf<[string, { year: number }][]>();
expectTypeOf(typed.has('generic', 'k')).resolves.toEqualTypeOf<boolean>();
expectTypeOf(typed.deleteMany('generic', ['a', 'b'])).resolves.toEqualTypeOf<number>();
expectTypeOf(typed[Symbol.asyncDispose]()).resolves.toEqualTypeOf<void>();

// Writes take the schema's input type.
expectTypeOf(typed.set).toBeCallableWith('album_year', 'k', { year: 1999 });
// @ts-expect-error a string is not an album_year value
void typed.set('album_year', 'k', 'nineteen ninety-nine');
// @ts-expect-error not a content type
void typed.get('podcast', 'k');
// @ts-expect-error not an event type
typed.on('track_played', () => {});

// Without schemas, every value is unknown.
const untyped: Cache = await createCache();
expectTypeOf(untyped.get('album_year', 'k')).resolves.toEqualTypeOf<unknown>();

expectTypeOf(untyped.emit({ eventType: 'library_sync' })).resolves.toEqualTypeOf<EmitReport>();

// An event's optional fields take null (the seed's None) as absent; what comes out has no null; a required field takes no null.
expectTypeOf(untyped.emit({ eventType: 'library_sync', trackId: null, fingerprint: null, metadata: null })).resolves.toEqualTypeOf<EmitReport>();
expectTypeOf(createCacheEvent({ eventType: 'fingerprint_changed', trackId: null, fingerprint: 'f' })).toEqualTypeOf<CacheEvent>();
expectTypeOf<CacheEvent['trackId']>().toEqualTypeOf<string | undefined>();
expectTypeOf<CacheEvent['metadata']>().toEqualTypeOf<Record<string, unknown> | undefined>();
void ({ eventType: 'manual_invalidation', trackId: null, metadata: null } satisfies CacheEventInput);
// @ts-expect-error a track event's trackId is required
void untyped.emit({ eventType: 'track_removed', trackId: null });
// @ts-expect-error fingerprint_changed's fingerprint is required
void new EventDrivenCacheManager(new SmartCacheConfig()).emitEvent({ eventType: 'fingerprint_changed', fingerprint: null });
expectTypeOf(untyped.stats()).resolves.toEqualTypeOf<CacheStats>();
untyped.on('*', (event, context) => {
  expectTypeOf(event.eventType).toEqualTypeOf<'track_added' | 'track_removed' | 'track_modified' | 'fingerprint_changed' | 'library_sync' | 'manual_invalidation'>();
  expectTypeOf(context).toEqualTypeOf<EventContext>();
});

// Any Standard Schema v1 validator types its content type: zod 3, zod/mini, valibot, arktype.
{
  const zod3 = await import('zod/v3');
  const mini = await import('zod/mini');
  const v = await import('valibot');
  const { type } = await import('arktype');
  const cache = await createCache({
    schemas: {
      album_year: zod3.z.object({ year: zod3.z.string().transform(Number) }),
      generic: mini.z.object({ title: mini.z.string() }),
      track_metadata: v.object({ title: v.string(), seconds: v.pipe(v.string(), v.transform(Number)) }),
      negative_result: type({ reason: "'not_found' | 'error'" }),
    },
  });
  expectTypeOf(cache.get('album_year', 'k')).resolves.toEqualTypeOf<{ year: number } | undefined>();
  expectTypeOf(cache.set<'album_year'>).parameter(2).toEqualTypeOf<{ year: string }>();
  expectTypeOf(cache.get('generic', 'k')).resolves.toEqualTypeOf<{ title: string } | undefined>();
  expectTypeOf(cache.get('track_metadata', 'k')).resolves.toEqualTypeOf<{ title: string; seconds: number } | undefined>();
  expectTypeOf(cache.set<'track_metadata'>).parameter(2).toEqualTypeOf<{ title: string; seconds: string }>();
  expectTypeOf(cache.get('negative_result', 'k')).resolves.toEqualTypeOf<{ reason: 'not_found' | 'error' } | undefined>();
  // @ts-expect-error valibot's output type is not its input type
  void cache.set('track_metadata', 'k', { title: 'a', seconds: 5 });
  // @ts-expect-error arktype's union
  void cache.set('negative_result', 'k', { reason: 'gone' });
}

// Custom content types: the names of a config literal become content types, typed by their schemas.
{
  const v = await import('valibot');
  const cache = await createCache({
    config: {
      caching: {
        customTypes: {
          artwork: { persistent: true, ttlSeconds: 3600, invalidationStrategy: 'event_driven', maxSizeMb: 5, invalidatedBy: ['track_removed'] },
          lyrics: { persistent: false, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: null },
        },
      },
    },
    schemas: { artwork: z.instanceof(Blob), lyrics: v.object({ text: v.string() }) },
  });
  expectTypeOf(cache.get('artwork', 'k')).resolves.toEqualTypeOf<Blob | undefined>();
  expectTypeOf(cache.get('lyrics', 'k')).resolves.toEqualTypeOf<{ text: string } | undefined>();
  expectTypeOf(cache.resolve('artwork', 'k', () => new Blob())).resolves.toEqualTypeOf<Resolved<Blob>>();
  expectTypeOf(cache.get('album_year', 'k')).resolves.toEqualTypeOf<unknown>();
  expectTypeOf(cache.stats()).resolves.toHaveProperty('types').toHaveProperty('artwork').toEqualTypeOf<TypeStats>();
  cache.watch('lyrics', null, () => {});
  // @ts-expect-error a lyrics value is an object with text
  void cache.set('lyrics', 'k', 'la la');
  // @ts-expect-error not one of this cache's types
  void cache.get('podcast', 'k');
  // A cache with custom types is still a Cache of its schemas where only built-in types are used.
  const plain: Cache<typeof cache extends Cache<infer S, string> ? S : never> = cache;
  void plain;

  // From a SmartCacheConfig, the names come along too.
  const config = new SmartCacheConfig({ caching: { customTypes: { covers: { persistent: true, ttlSeconds: 60, invalidationStrategy: 'hybrid', maxSizeMb: 1 } } } });
  expectTypeOf(config.isPersistent).parameter(0).toEqualTypeOf<CacheType<'covers'>>();
  const fromClass = await createCache({ config });
  expectTypeOf(fromClass.keys).toBeCallableWith('covers');
  // @ts-expect-error not one of its types
  void fromClass.keys('cover');

  // A config typed only as CacheConfig names no custom type: the cache is a plain Cache.
  const loose: CacheConfig = {};
  const fromLoose: Cache = await createCache({ config: loose });
  // @ts-expect-error a custom name is unknown to the type of a loose config
  void fromLoose.get('artwork', 'k');
}

// A config written `as const` (its invalidatedBy a readonly tuple) is one the runtime takes: the types take it too.
{
  const config = {
    caching: {
      customTypes: { lyrics: { persistent: false, ttlSeconds: 60, invalidationStrategy: 'event_driven', maxSizeMb: null, invalidatedBy: ['track_removed', 'library_sync'] } },
    },
  } as const;
  const cache = await createCache({ config });
  expectTypeOf(cache.keys).toBeCallableWith('lyrics');
  expectTypeOf(new SmartCacheConfig(config).isPersistent).parameter(0).toEqualTypeOf<CacheType<'lyrics'>>();
}

// EventDrivenCacheManager hands its handlers, and emitEvent returns, the very event given, an optional field given as null still null.
{
  const manager = new EventDrivenCacheManager(new SmartCacheConfig());
  manager.registerEventHandler('library_sync', (event) => {
    expectTypeOf(event.trackId).toEqualTypeOf<string | null | undefined>();
    expectTypeOf(event.metadata).toEqualTypeOf<Record<string, unknown> | null | undefined>();
  });
  expectTypeOf(manager.emitEvent({ eventType: 'library_sync', trackId: null }).trackId).toEqualTypeOf<string | null | undefined>();
}

// Schemas typed by an interface of the app's, which has no index signature: the runtime takes them, and types the cache by them.
{
  interface AppSchemas {
    album_year: z.ZodObject<{ year: z.ZodNumber }>;
  }
  const appSchemas: AppSchemas = { album_year: z.object({ year: z.number() }) };
  const cache = await createCache({ schemas: appSchemas });
  expectTypeOf(cache.get('album_year', 'k')).resolves.toEqualTypeOf<{ year: number } | undefined>();
}

// SchemasOf<S> is what createCache takes: an app's own function, generic over its schemas, passes them on as it got them.
{
  const openWith = <S extends SchemasOf<S>>(schemas: S) => createCache({ schemas });
  expectTypeOf(openWith({ album_year: z.object({ year: z.number() }) })).resolves.toEqualTypeOf<Cache<{ album_year: z.ZodObject<{ year: z.ZodNumber }> }>>();
  const lyrics = { persistent: false, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: null } as const;
  const openWithLyrics = <S extends SchemasOf<S, 'lyrics'>>(schemas: S) => createCache({ config: { caching: { customTypes: { lyrics } } }, schemas });
  expectTypeOf(openWithLyrics({ lyrics: z.string() })).resolves.toEqualTypeOf<Cache<{ lyrics: z.ZodString }, 'lyrics'>>();
  // @ts-expect-error trak_metadata is no content type
  void openWith({ trak_metadata: z.string() });
  // A function taking a cache, generic over its schemas, constrains them alike.
  const yearOf = <S extends SchemasOf<S>>(cache: Cache<S>) => cache.get('album_year', 'k');
  expectTypeOf(yearOf(typed)).resolves.toEqualTypeOf<{ year: number } | undefined>();
  const lyricsOf = <S extends SchemasOf<S, 'lyrics'>>(cache: Cache<S, 'lyrics'>) => cache.get('lyrics', 'k');
  void lyricsOf;
}

// A fetcher may return any thenable (a query builder's, not a Promise): the runtime awaits it, as it awaits a Promise.
{
  const thenable = Promise.resolve({ year: 1999 }) as PromiseLike<{ year: number }>;
  expectTypeOf(typed.getOrSet('album_year', 'k', () => thenable)).resolves.toEqualTypeOf<{ year: number }>();
  // @ts-expect-error a thenable of what the schema refuses
  void typed.getOrSet('album_year', 'k', () => thenable as PromiseLike<{ year: string }>);
}

// isCacheError with a code: false says nothing of a CacheError of another code (still a CacheError), true narrows the code.
{
  const error: unknown = new Error();
  if (isCacheError(error)) {
    if (isCacheError(error, 'closed')) expectTypeOf(error.code).toEqualTypeOf<'closed'>();
    else expectTypeOf(error).toEqualTypeOf<CacheError>();
  }
}

// isFingerprint: false leaves a string that is not a fingerprint a string (not never); true gives a string.
{
  const text: string = 'abc';
  if (isFingerprint(text)) expectTypeOf(text).toExtend<string>();
  else expectTypeOf(text).toEqualTypeOf<string>();
  const given: unknown = 'abc';
  if (isFingerprint(given)) expectTypeOf(given).toExtend<string>();
}

// A schema under a name that is no content type of the cache (a typo) is refused at run time (invalid_argument): the types refuse it too.
{
  // @ts-expect-error trak_metadata is no content type
  void createCache({ schemas: { trak_metadata: z.string() } });
  const lyrics = { persistent: false, ttlSeconds: 60, invalidationStrategy: 'time_based', maxSizeMb: null } as const;
  // @ts-expect-error lyric is not the custom type's name
  void createCache({ config: { caching: { customTypes: { lyrics } } }, schemas: { lyric: z.string() } });
  expectTypeOf(createCache({ config: { caching: { customTypes: { lyrics } } }, schemas: { lyrics: z.string(), generic: z.number() } })).resolves.toHaveProperty('get').toBeFunction();
  // A config typed only as CacheConfig may name any custom type, and schemas typed as Schemas any type: both stay open.
  const loose: CacheConfig = {};
  void createCache({ config: loose, schemas: { lyrics: z.string() } });
  const anySchemas: Schemas = { generic: z.string() };
  void createCache({ schemas: anySchemas });
  // A variable typed as a bare SmartCacheConfig names no custom type (as with no config): its custom types' schemas are typed Schemas, or it SmartCacheConfig<'lyrics'>.
  const annotated: SmartCacheConfig = new SmartCacheConfig({ caching: { customTypes: { lyrics } } });
  // @ts-expect-error lyrics is not among the names of a bare SmartCacheConfig
  void createCache({ config: annotated, schemas: { lyrics: z.string() } });
  void createCache({ config: annotated, schemas: { lyrics: z.string() } as Schemas });
  void createCache({ config: annotated as SmartCacheConfig<'lyrics'>, schemas: { lyrics: z.string() } });
}

// undefined is no value to store (get's miss): set, setMany and a fetcher's undefined reject with invalid_value. A schema
// whose input takes undefined does not make it storable; without a schema the value is unknown, which takes undefined too
// (refusing it would refuse every unknown value, and a generic one: as TanStack's NonUndefinedGuard, only a type that names undefined loses it).
{
  const optional = await createCache({ schemas: { generic: z.string().optional(), album_year: z.number().or(z.undefined()) } });
  // @ts-expect-error undefined is refused at run time ("store null for nothing")
  void optional.set('generic', 'k', undefined);
  // @ts-expect-error an entry whose value is undefined
  void optional.setMany('album_year', [{ key: 'k', value: undefined }]);
  // @ts-expect-error a fetcher that may give undefined
  void optional.getOrSet('generic', 'k', async () => (Math.random() > 0.5 ? 'a' : undefined));
  expectTypeOf(optional.set<'generic'>).parameter(2).toEqualTypeOf<string>();
  expectTypeOf(optional.get('generic', 'k')).resolves.toEqualTypeOf<string | undefined>();
  const maybe = Math.random() > 0.5 ? 'a' : undefined;
  // @ts-expect-error a value that may be undefined
  void typed.set('generic', 'k', maybe);
  expectTypeOf(untyped.set).toBeCallableWith('generic', 'k', null);
}

// A listener of one event type hears only events of that type (local and remote): its event is that variant, whose required fields are there.
{
  untyped.on('track_removed', (event, context) => {
    expectTypeOf(event.eventType).toEqualTypeOf<'track_removed'>();
    expectTypeOf(event.trackId).toEqualTypeOf<string>();
    expectTypeOf(context).toEqualTypeOf<EventContext>();
  });
  untyped.on('fingerprint_changed', (event) => expectTypeOf(event.fingerprint).toEqualTypeOf<string>());
  untyped.on('*', (event) => expectTypeOf(event).toEqualTypeOf<CacheEvent>());
  const anyEvent = (event: CacheEvent) => void event;
  expectTypeOf(untyped.on).toBeCallableWith('track_added', anyEvent);
  new EventDrivenCacheManager(new SmartCacheConfig()).registerEventHandler('track_modified', (event) => expectTypeOf(event.trackId).toEqualTypeOf<string>());
}
