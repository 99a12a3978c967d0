// `schemas` take any Standard Schema v1 validator: the same behaviour whichever library made it.
import { IDBFactory } from 'fake-indexeddb';
import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as mini } from 'zod/mini';
import { z as zod3 } from 'zod/v3';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { isCacheError, type Schemas } from '../src/index';
import { openRemoteCache } from './support/inProcessWorkers';
import { openCache, rejection, uniqueName } from './support/openCache';

interface Library {
  /** `{ year: integer }` */
  year: StandardSchemaV1;
  /** `{ year: numeric string }` → `{ year: number }` */
  parsed: StandardSchemaV1;
}

const libraries: [string, Library][] = [
  ['zod 4', { year: z.object({ year: z.number().int() }), parsed: z.object({ year: z.string().regex(/^\d+$/).transform(Number) }) }],
  [
    'zod/mini',
    {
      year: mini.object({ year: mini.int() }),
      parsed: mini.object({ year: mini.pipe(mini.string().check(mini.regex(/^\d+$/)), mini.transform(Number)) }),
    },
  ],
  ['zod 3', { year: zod3.object({ year: zod3.number().int() }), parsed: zod3.object({ year: zod3.string().regex(/^\d+$/).transform(Number) }) }],
  [
    'valibot',
    {
      year: v.object({ year: v.pipe(v.number(), v.integer()) }),
      parsed: v.object({ year: v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number)) }),
    },
  ],
  ['arktype', { year: type({ year: 'number.integer' }), parsed: type({ year: 'string.integer.parse' }) }],
];

describe.each(libraries)('schemas from %s', (_library, { year, parsed }) => {
  it('a valid value is stored and read back; an invalid one is invalid_value naming its path, and nothing is written', async () => {
    const { cache } = await openCache({ schemas: { album_year: year } });
    await cache.set('album_year', 'good', { year: 1999 } as never);
    expect(await cache.get('album_year', 'good')).toEqual({ year: 1999 });
    for (const bad of [{ year: 'nineteen' }, { year: 1999.5 }, null, 'x']) {
      const error = await rejection(cache.set('album_year', 'bad', bad as never));
      expect(isCacheError(error, 'invalid_value')).toBe(true);
      expect(error.message).toContain('album_year "bad"');
    }
    const error = await rejection(cache.set('album_year', 'bad', { year: 'nineteen' } as never));
    expect(error.issues?.map((issue) => issue.path)).toEqual(['year']);
    const batch = await rejection(
      cache.setMany('album_year', [
        { key: 'a', value: { year: 1 } as never },
        { key: 'b', value: { year: 'two' } as never },
        { key: 'c', value: { year: 3 } as never },
      ]),
    );
    expect(isCacheError(batch, 'invalid_value')).toBe(true);
    expect(batch.message).toContain('entry 1');
    expect(await cache.getMany('album_year', ['bad', 'a', 'b', 'c'])).toEqual([undefined, undefined, undefined, undefined]);
    expect((await cache.stats()).types.album_year.entries).toBe(1);
  });

  it('a stored value the schema no longer accepts is a miss, deleted and counted as corrupt', async () => {
    const indexedDB = new IDBFactory();
    const name = uniqueName();
    const { cache: before, clock } = await openCache({ indexedDB, name });
    await before.set('album_year', 'old', { released: '1999' });
    await before.set('album_year', 'new', { year: 2001 });
    const { cache } = await openCache({ indexedDB, name, clock, schemas: { album_year: year } });
    expect(await cache.getMany('album_year', ['old', 'new'])).toEqual([undefined, { year: 2001 }]);
    expect((await cache.stats()).types.album_year).toMatchObject({ corrupt: 1, entries: 1 });
  });

  it('a schema with a transform round-trips: get after set returns what the schema made of the value', async () => {
    const { cache } = await openCache({ schemas: { album_year: parsed } });
    await cache.set('album_year', 'k', { year: '1999' } as never);
    expect(await cache.get('album_year', 'k')).toEqual({ year: 1999 });
    expect(await cache.getOrSet('album_year', 'f', () => ({ year: '2001' }) as never)).toEqual({ year: 2001 });
    expect(await cache.get('album_year', 'f')).toEqual({ year: 2001 });
  });

  it('works the same with the engine behind a worker', async () => {
    const { cache } = await openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory(), schemas: { album_year: parsed } });
    await cache.set('album_year', 'k', { year: '7' } as never);
    expect(await cache.get('album_year', 'k')).toEqual({ year: 7 });
    expect(isCacheError(await rejection(cache.set('album_year', 'x', { year: 7 } as never)), 'invalid_value')).toBe(true);
  });
});

describe('asynchronous and failing validators', () => {
  it('an async validator (zod refine, valibot pipeAsync) is awaited on write and on read', async () => {
    const known = new Set(['Song']);
    const schemas = {
      generic: z.string().refine(async (title) => known.has(title), { error: 'unknown title' }),
      album_year: v.pipeAsync(
        v.number(),
        v.checkAsync(async (year) => year > 1900, 'too early'),
      ),
    } satisfies Schemas;
    const { cache } = await openCache({ schemas });
    await cache.set('generic', 'a', 'Song');
    await cache.setMany('album_year', [{ key: 'y', value: 1999 }]);
    expect(await cache.get('generic', 'a')).toBe('Song');
    expect(await cache.get('album_year', 'y')).toBe(1999);
    const error = await rejection(cache.set('generic', 'b', 'Other'));
    expect(isCacheError(error, 'invalid_value')).toBe(true);
    expect(error.message).toContain('unknown title');
    expect((await rejection(cache.set('album_year', 'z', 1800))).message).toContain('too early');
    known.delete('Song');
    expect(await cache.get('generic', 'a')).toBeUndefined();
    expect((await cache.stats()).types.generic.corrupt).toBe(1);
  });

  it('a validator that throws: invalid_value with the error as cause, nothing written', async () => {
    const thrown = new Error('validator bug');
    const broken: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'handmade',
        validate: () => {
          throw thrown;
        },
      },
    };
    const { cache } = await openCache({ schemas: { generic: broken } });
    const error = await rejection(cache.set('generic', 'k', 1));
    expect(isCacheError(error, 'invalid_value')).toBe(true);
    expect(error.message).toContain('the schema threw: validator bug');
    expect(error.cause).toBe(thrown);
    expect((await cache.stats()).types.generic.entries).toBe(0);
  });

  it.each(['getOrSet', 'resolve'] as const)(
    '%s asks the schema once about a fetched value: a check that fails when asked again (a lookup whose service went down) neither rejects a value it stored nor is paid twice',
    async (method) => {
      let lookups = 0;
      // A title checked against a service: the first answer passes, any later one fails.
      const lookedUp: StandardSchemaV1<string> = {
        '~standard': { version: 1, vendor: 'handmade', validate: async (value) => (++lookups === 1 ? { value: value as string } : { issues: [{ message: 'lookup failed' }] }) },
      };
      const { cache } = await openCache({ schemas: { generic: lookedUp } });
      const answer = await cache[method]('generic', 'k', () => 'Song').then(
        (answer) => (typeof answer === 'string' ? answer : answer.value),
        (error: { code?: string }) => error.code,
      );
      // Asked once: the entries stats() counts, without a read that would ask it again.
      expect([answer, lookups, (await cache.stats()).types.generic.entries]).toEqual(['Song', 1, 1]);
    },
  );

  it.each([
    ['issues: []', { issues: [] }, '{"issues":[]}'],
    ['nothing', undefined, 'undefined'],
    ['issues that are not an array', { issues: 'bad' }, '{"issues":"bad"}'],
  ])('a validator that answers %s fails the value saying what it answered (not an empty reason, not "the schema threw")', async (_, answer, shown) => {
    const handmade = { '~standard': { version: 1, vendor: 'handmade', validate: () => answer } } as unknown as StandardSchemaV1;
    const { cache } = await openCache({ schemas: { generic: handmade } });
    const error = await rejection(cache.set('generic', 'k', 1));
    expect([error.code, error.message]).toEqual(['invalid_value', `Invalid value for generic "k": the schema's answer names no issue: ${shown}`]);
  });

  it.each([
    ['nothing', undefined],
    ['issues that are not an array', { issues: 'bad' }],
  ])('a validator that answers %s (no Standard Schema result): invalid_value on write and a miss on read, async as sync', async (_, answer) => {
    const handmade = (validate: () => unknown) => ({ '~standard': { version: 1, vendor: 'handmade', validate } }) as unknown as StandardSchemaV1;
    const { cache, indexedDB, name } = await openCache();
    const seen: unknown[] = [];
    for (const schema of [handmade(() => answer), handmade(async () => answer)]) {
      // Stored without the schema: the read below checks it (and, refused, deletes it).
      await cache.set('track_metadata', 'k', 1);
      const { cache: checked } = await openCache({ indexedDB, name, schemas: { track_metadata: schema } });
      const written = await rejection(checked.set('track_metadata', 'w', 1));
      const read = await checked.get('track_metadata', 'k').catch((error: Error) => error);
      seen.push([isCacheError(written) ? written.code : written.name, read instanceof Error ? read.name : read]);
      await checked.close();
    }
    expect(seen).toEqual([
      ['invalid_value', undefined],
      ['invalid_value', undefined],
    ]);
  });
});
