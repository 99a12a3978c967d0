// recordOf (src/recordOf.ts) stands in for zod's record in the config's schema: what parse makes of a
// config, its message, issues and the zod issues of its cause, stays as it was with z.record.
import * as z from 'zod/mini';
import { afterEach, expect, it } from 'vitest';
import { customTypeSchema } from '../src/configSchema';
import { parse } from '../src/parse';
import { recordOf } from '../src/recordOf';

const art = { persistent: true, ttlSeconds: Infinity, invalidationStrategy: 'time_based', maxSizeMb: Infinity };
const symbol = Symbol('art');

const customTypes: unknown[] = [
  undefined,
  null,
  5,
  [art],
  new Date(0),
  new Map(),
  new (class Art {
    art = art;
  })(),
  Object.assign(Object.create(null) as object, { art, bad: { persistent: 1 } }),
  { art, bad: { ...art, ttlSeconds: -1 } },
  { art: { ...art, extra: 1 }, five: 5, none: null },
  { [symbol]: art, art },
  JSON.parse('{"__proto__": {"persistent": 1}, "art": {"persistent": true}}'),
  { constructor: art },
  { constructor() {} },
  { 1: art, b: art, 0: { ...art, maxSizeMb: 0 } },
  Object.defineProperty({ art }, 'hidden', { value: { bad: 1 }, enumerable: false }),
  new Proxy({}, { ownKeys: () => { throw new Error('unreadable'); } }),
  { art: { ...art, invalidatedBy: ['track_played'], cleanupThreshold: 2, staleWhileRevalidateSeconds: -2 } },
];

/** What parse makes of each config, as a user sees it. */
function outcomes(record: z.ZodMiniType): unknown[] {
  const schema = z.strictObject({ caching: z.optional(z.strictObject({ negativeResultTtl: z.optional(z.number()), customTypes: z.optional(record) })) });
  return customTypes.flatMap((types) =>
    [{ caching: { customTypes: types } }, { caching: { negativeResultTtl: 'x', customTypes: types, unknown: 1 }, other: 1 }].map((config) => {
      try {
        return { data: parse(schema, config, 'invalid_config', 'config') };
      } catch (error) {
        const { message, code, issues, cause } = error as { message: string; code: string; issues: unknown; cause?: { issues?: unknown } };
        return { message, code, issues, cause: JSON.stringify(cause?.issues, (_, value: unknown) => (typeof value === 'symbol' ? String(value) : value)) };
      }
    }),
  );
}

afterEach(() => void z.config({ localeError: undefined, customError: undefined }));

it.each([
  ['parse’s own messages', () => {}],
  ['an app’s zod locale', () => void z.config(z.locales.en())],
  ['an app’s own zod messages', () => void z.config({ customError: (issue) => `app: ${issue.code}` })],
])('a config parses as with zod’s record, under %s', (_, configure) => {
  configure();
  expect(outcomes(recordOf(customTypeSchema) as z.ZodMiniType)).toEqual(outcomes(z.record(z.string(), customTypeSchema) as z.ZodMiniType));
});
