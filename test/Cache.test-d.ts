// Type tests, checked by `npm run typecheck` (tsc): what users see of the API's types.
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { createCache, type Cache, type CacheStats, type EmitReport, type EventContext } from '../src/index';

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
