/**
 * A seeded PRNG for the simulation: sfc32, Chris Doty-Humphrey's "Small Fast Counting" generator from
 * PractRand (public domain; 128-bit state, shifts 9/3, rotation 21). Seeded as a = 0, b = seed, c = 0,
 * counter = 1, then 12 outputs discarded so that nearby seeds diverge. Never Math.random: a failing seed
 * must replay exactly.
 */
export class Random {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 1;

  /** `seed` is an integer, taken modulo 2^32. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.#b = seed >>> 0;
    this.#warmUp();
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#u32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n), for an integer 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) throw new RangeError(`int(n) needs an integer 1..2^32, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi], both included. */
  range(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) throw new RangeError(`range(lo, hi) needs integers lo <= hi, got ${lo}, ${hi}`);
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. Always draws, so changing p does not shift the rest of the stream. */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`chance(p) needs 0 <= p <= 1, got ${p}`);
    return this.next() < p;
  }

  pick<T>(array: readonly T[]): T {
    if (array.length === 0) throw new RangeError('pick() from an empty array');
    return array[this.int(array.length)] as T;
  }

  /** A shuffled copy (Fisher–Yates); the argument is left alone. */
  shuffle<T>(array: readonly T[]): T[] {
    const copy = [...array];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /**
   * An independent stream, seeded with 96 bits drawn from this one: give each component its own fork so
   * that one drawing more numbers does not shift what the others draw.
   */
  fork(): Random {
    const child = new Random(0);
    child.#a = this.#u32();
    child.#b = this.#u32();
    child.#c = this.#u32();
    child.#d = 1;
    child.#warmUp();
    return child;
  }

  #warmUp(): void {
    for (let i = 0; i < 12; i++) this.#u32();
  }

  #u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (((this.#c << 21) | (this.#c >>> 11)) + t) | 0;
    return t >>> 0;
  }
}
