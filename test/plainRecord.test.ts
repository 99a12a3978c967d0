import { runInNewContext } from 'node:vm';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { countsByType, keysByType, plainRecord } from '../src/plainRecord';

const accepts = (value: unknown) => z.safeParse(plainRecord(), value).success;

describe('plainRecord', () => {
  it.each<[string, unknown]>([
    ['a literal', { a: 1 }],
    ['an empty literal', {}],
    ['an object with no prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ["another realm's literal (an iframe's)", runInNewContext('({ a: 1 })')],
    ['a structured clone', structuredClone({ a: [1] })],
  ])('takes %s', (_, value) => expect(accepts(value)).toBe(true));

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [1]],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new (class Thing {})()],
    ['an object made from another', Object.create({ inherited: 1 })],
    ['a function', () => {}],
    ['a string', 'a'],
  ])('refuses %s', (_, value) => expect(accepts(value)).toBe(false));
});

describe('countsByType and keysByType', () => {
  it('take plain objects of well-formed type names only', () => {
    expect(z.safeParse(countsByType(), { track_metadata: 2 }).success).toBe(true);
    expect(z.safeParse(countsByType(), new (class Counts {})()).success).toBe(false);
    expect(z.safeParse(keysByType(), { track_metadata: ['a'] }).success).toBe(true);
    expect(z.safeParse(keysByType(), Object.assign(new Map(), { track_metadata: ['a'] })).success).toBe(false);
  });
});
