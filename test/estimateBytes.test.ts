import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { estimateBytes } from '../src/estimateBytes';
import { openRemoteCache } from './support/inProcessWorkers';
import { openCache, rejection, uniqueName } from './support/openCache';

describe('estimateBytes', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

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
    // Shared memory (a cross-origin isolated page's, or a worker's), and a view of it.
    expect(estimateBytes(new SharedArrayBuffer(64))).toBe(64);
    expect(estimateBytes(new Uint8Array(new SharedArrayBuffer(1000)))).toBe(1000);
  });

  it('counts the whole buffer behind a view, as structured cloning stores it, once however many views share it', async () => {
    // Artwork sliced out of a whole file's bytes: storing the slice stores the file.
    const file = new ArrayBuffer(2 * 2 ** 20);
    const artwork = new Uint8Array(file, 1000, 100);
    expect(structuredClone(artwork).buffer.byteLength).toBe(file.byteLength);
    const { cache } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: 1 }, generic: { maxSizeMb: 1 } } } } });
    for (const type of ['track_metadata', 'generic'] as const) {
      expect(await rejection(cache.set(type, 'art', { artwork }))).toMatchObject({ code: 'invalid_value' });
      expect((await cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0 });
    }
    const small = new ArrayBuffer(100_000);
    await cache.set('generic', 'two views', [new Uint8Array(small, 0, 10), new DataView(small, 10, 10), small]);
    const { bytes } = (await cache.stats()).types.generic;
    expect(bytes).toBeGreaterThanOrEqual(100_000);
    expect(bytes).toBeLessThan(101_000);
  });

  it('counts what structured cloning keeps of an Error: its message, stack and cause', async () => {
    const error = new TypeError('lookup failed: 503', { cause: { status: 503, body: 'x'.repeat(500) } });
    const kept = structuredClone(error);
    expect([kept.message, kept.stack, kept.cause]).toEqual([error.message, error.stack, error.cause]);
    const { cache } = await openCache();
    await cache.set('failed_api_lookup', 'k', error);
    const { bytes } = (await cache.stats()).types.failed_api_lookup;
    expect(bytes).toBeGreaterThanOrEqual(2 * (error.message.length + error.stack!.length + 500));
  });

  it("counts an array's own named properties, which structured cloning keeps (a match result's whole input)", async () => {
    const annotated = Object.assign([1, 2], { note: 'x'.repeat(2 ** 20) });
    const text = `${'la '.repeat(2 ** 19)}needle`;
    const match = text.match(/needle/)!;
    expect([structuredClone(annotated).note, structuredClone(match).input]).toEqual([annotated.note, text]);
    const { cache } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: 1 }, generic: { maxSizeMb: 1 } } } } });
    for (const type of ['track_metadata', 'generic'] as const) {
      for (const value of [annotated, match]) expect(await rejection(cache.set(type, 'big', value))).toMatchObject({ code: 'invalid_value' });
      await cache.set(type, 'small', Object.assign(['a'], { note: 'xy' }));
      // The entry's overhead and key, then the array, its element, the name and its value.
      expect((await cache.stats()).types[type]).toMatchObject({ entries: 1, bytes: 64 + 2 * 5 + 16 + 2 + 2 * 4 + 4 });
    }
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

  it('walks the elements a sparse array has, not every index below its length (ids as indexes: byId[trackNumber] = …)', () => {
    const byId: unknown[] = [];
    byId[7] = 'ab';
    byId[999_999] = 1.5;
    // Structured cloning stores only those two elements; the estimate must not visit the million indexes either
    // (at length 2³² − 2 that is minutes in which the engine answers nothing).
    let visits = 0;
    const counted = new Proxy(byId, {
      get: (target, key, receiver) => (visits++, Reflect.get(target, key, receiver)),
      has: (target, key) => (visits++, Reflect.has(target, key)),
    });
    expect(estimateBytes(counted)).toBe(16 + 4 + 8);
    expect(visits).toBeLessThan(5_000);
    expect(estimateBytes(byId)).toBe(16 + 4 + 8);
  });

  it('walks an array of a thousand numbers by index, listing none of its keys (a waveform, a row of a grid)', () => {
    // A listing makes a string of each index: 12–15× the walk's time, which on the page adds to every
    // value sent to the worker (a chunk of 2,000 entries of 1,000 numbers each: 74 ms against 5 in Node).
    const peaks = Array.from({ length: 1000 }, (_, index) => index % 256);
    let listed = 0;
    const counted = new Proxy(peaks, {
      ownKeys: (target) => (listed++, Reflect.ownKeys(target)),
      getOwnPropertyDescriptor: (target, key) => (listed++, Reflect.getOwnPropertyDescriptor(target, key)),
    });
    expect(estimateBytes(counted)).toBe(16 + 1000 * 8);
    expect(listed).toBe(0);
  });

  it('sizes an array alike however sparse it is: holes count nothing, elements count what they hold', () => {
    const dense = [1, 'xy', { a: 1 }, undefined, null];
    expect(estimateBytes(dense)).toBe(16 + 8 + 4 + (16 + 2 + 8) + 0 + 0);
    const holey: unknown[] = [];
    for (let index = 0; index < 3000; index += 3) holey[index] = 'x';
    holey[2_000_000] = 'yy';
    expect(estimateBytes(holey)).toBe(16 + 1000 * 2 + 4);
  });

  // Chromium stores (set, then get) arrays nested about 1,050 levels deep, objects 1,260 and Maps or Sets
  // 2,620, in IndexedDB as in the worker's memory: deeper, the worker cannot read the value or send it back.
  const nested = (kind: string, levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let level = 0; level < levels; level++) {
      value = kind === 'array' ? [value] : kind === 'object' ? { a: value } : kind === 'Map' ? new Map([['a', value]]) : new Set([value]);
    }
    return value;
  };

  it.each([
    ['in process', () => openCache()],
    ['from a worker', () => openRemoteCache({ name: uniqueName(), indexedDB: new IDBFactory() })],
  ] as const)('%s: a value nested deeper than 500 levels is not_cloneable, naming the limit, in every call, and nothing is written', async (_, open) => {
    const { cache } = await open();
    for (const type of ['track_metadata', 'generic'] as const) {
      const stored: string[] = [];
      for (const kind of ['array', 'object', 'Map', 'Set']) {
        const deep = nested(kind, 501);
        const calls = [
          () => cache.set(type, 'deep', deep),
          () => cache.setMany(type, [{ key: 'flat', value: 1 }, { key: 'deep', value: deep }]),
          () => cache.getOrSet(type, 'deep', () => deep),
          () => cache.resolve(type, 'deep', async () => deep),
        ];
        for (const call of calls) {
          const error = await rejection(call());
          expect(error).toMatchObject({ code: 'not_cloneable' });
          expect(error.message).toContain('500 levels');
        }
        expect((await cache.keys(type)).sort()).toEqual(stored.sort());
        // One at the limit is stored, and read back.
        await cache.set(type, kind, nested(kind, 500));
        stored.push(kind);
        expect(await cache.get(type, kind)).toEqual(nested(kind, 500));
      }
    }
    expect((await cache.stats()).degraded).toBeNull();
  });

  it('sizes a value nested 500 levels deep, whatever the stack below the call', async () => {
    const { cache } = await openCache();
    for (const type of ['track_metadata', 'generic'] as const) {
      await cache.set(type, 'deep', nested('array', 500));
      // The entry's overhead and key, then 16 per level and the leaf.
      expect((await cache.stats()).types[type]).toMatchObject({ entries: 1, bytes: 64 + 2 * 4 + 500 * 16 + 2 * 4 });
    }
    // Levels, not containers: many siblings, each nested, are as deep as one of them.
    expect(estimateBytes(Array.from({ length: 1000 }, () => nested('object', 499)))).toBe(16 + 1000 * (499 * 18 + 8));
  });

  it('refuses a value nested deeper than structured cloning goes as not_cloneable, in memory and in IndexedDB', async () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 20_000; level++) deep = [deep];
    expect(() => structuredClone(deep)).toThrow(RangeError);
    const { cache } = await openCache();
    for (const type of ['track_metadata', 'generic'] as const) {
      expect(await rejection(cache.set(type, 'deep', deep))).toMatchObject({ code: 'not_cloneable' });
      expect((await cache.stats()).types[type]).toMatchObject({ entries: 0, bytes: 0 });
    }
    expect((await cache.stats()).degraded).toBeNull();
  });

  it('counts a boxed string as its string: structured cloning stores the text, not an object of its indexes', async () => {
    const lyrics = new String('la '.repeat(2 ** 17));
    expect(structuredClone(lyrics).valueOf()).toBe(lyrics.valueOf());
    const { cache } = await openCache({ config: { caching: { policies: { track_metadata: { maxSizeMb: 1 }, generic: { maxSizeMb: 1 } } } } });
    for (const type of ['track_metadata', 'generic'] as const) {
      await cache.set(type, 'lyrics', lyrics);
      expect((await cache.stats()).types[type]).toMatchObject({ entries: 1, bytes: 64 + 2 * 6 + 2 * lyrics.length });
    }
    expect(estimateBytes([new String('ab'), new Number(1)])).toBe(16 + 4 + 16);
  });

  it('counts the pixels of an ImageData, which sit behind accessors (no own property shows them)', async () => {
    // As browsers (and workers) define it: width, height and data are getters of its prototype.
    class ImageData {
      readonly #data: Uint8ClampedArray;
      readonly #width: number;
      constructor(width: number, height: number) {
        this.#data = new Uint8ClampedArray(4 * width * height);
        this.#width = width;
      }
      get data() {
        return this.#data;
      }
      get width() {
        return this.#width;
      }
    }
    vi.stubGlobal('ImageData', ImageData);
    const artwork = new ImageData(600, 600);
    expect(Object.keys(artwork)).toEqual([]);
    const { cache } = await openCache({ config: { caching: { policies: { generic: { maxSizeMb: 1 } } } } });
    expect(await rejection(cache.set('generic', 'art', artwork))).toMatchObject({ code: 'invalid_value' });
    await cache.set('generic', 'thumb', new ImageData(100, 100));
    expect((await cache.stats()).types.generic).toMatchObject({ entries: 1, bytes: 64 + 2 * 5 + 4 * 100 * 100 });
  });

  it('counts the pixels of an ImageBitmap (four bytes each), which nothing of the object shows', async () => {
    // As browsers (and workers) define it: a handle to decoded pixels, with width and height getters on its prototype.
    class ImageBitmap {
      readonly #size: number;
      constructor(size: number) {
        this.#size = size;
      }
      get width() {
        return this.#size;
      }
      get height() {
        return this.#size;
      }
    }
    vi.stubGlobal('ImageBitmap', ImageBitmap);
    const { cache } = await openCache({ config: { caching: { policies: { generic: { maxSizeMb: 1 } } } } });
    expect(await rejection(cache.set('generic', 'art', new ImageBitmap(600)))).toMatchObject({ code: 'invalid_value' });
    await cache.set('generic', 'thumb', { bitmap: new ImageBitmap(100) });
    expect((await cache.stats()).types.generic).toMatchObject({ entries: 1, bytes: 64 + 2 * 5 + 16 + 2 * 6 + 4 * 100 * 100 });
  });

  it('grows with the value', () => {
    expect(estimateBytes({ title: 'x'.repeat(1000) })).toBeGreaterThan(estimateBytes({ title: 'x'.repeat(10) }));
  });
});
