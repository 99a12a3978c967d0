import { describe, expect, it } from 'vitest';
import { estimateBytes } from '../src/estimateBytes';

describe('estimateBytes', () => {
  it('counts strings at two bytes per UTF-16 unit and numbers at eight', () => {
    expect(estimateBytes('abcd')).toBe(8);
    expect(estimateBytes(3.5)).toBe(8);
    expect(estimateBytes(true)).toBe(4);
    expect(estimateBytes(null)).toBe(0);
  });

  it('adds keys and a container overhead for objects and arrays', () => {
    expect(estimateBytes({ ab: 'xy' })).toBe(16 + 4 + 4);
    expect(estimateBytes([1, 2])).toBe(16 + 16);
    expect(estimateBytes({ a: { b: 1 } })).toBe(16 + 2 + 16 + 2 + 8);
  });

  it('counts binary data by its byte length', () => {
    expect(estimateBytes(new Uint8Array(1000))).toBe(1000);
    expect(estimateBytes(new ArrayBuffer(64))).toBe(64);
    expect(estimateBytes(new Blob(['hello']))).toBe(5);
  });

  it('walks Maps, Sets and Dates', () => {
    expect(estimateBytes(new Map([['k', 1]]))).toBe(16 + 2 + 8);
    expect(estimateBytes(new Set(['ab']))).toBe(16 + 4);
    expect(estimateBytes(new Date())).toBe(8);
  });

  it('counts a shared or cyclic reference once', () => {
    const shared = { text: 'x'.repeat(100) };
    expect(estimateBytes([shared, shared])).toBe(16 + estimateBytes(shared));
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic['self'] = cyclic;
    expect(estimateBytes(cyclic)).toBe(16 + 8 + 2 + 8);
  });

  it('grows with the value', () => {
    expect(estimateBytes({ title: 'x'.repeat(1000) })).toBeGreaterThan(estimateBytes({ title: 'x'.repeat(10) }));
  });
});
