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
