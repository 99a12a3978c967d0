import { describe, expect, it } from 'vitest';
import { accessClock } from '../worker/accessClock';

describe('accessClock', () => {
  it('gives the clock’s time, and within one millisecond times that still increase', () => {
    let now = Date.UTC(2026, 0, 1);
    const usedAt = accessClock(() => now);
    const first = usedAt();
    expect(first).toBe(now);
    const second = usedAt();
    const third = usedAt();
    expect(second).toBeGreaterThan(first);
    expect(third).toBeGreaterThan(second);
    expect(third).toBeLessThan(now + 1);
    now += 5;
    expect(usedAt()).toBe(now);
  });

  it('follows a clock set back by more than a second, as other tabs and later sessions do; by less, still goes forward', () => {
    let now = Date.UTC(2026, 0, 1);
    const usedAt = accessClock(() => now);
    const before = usedAt();
    now -= 500;
    const slewed = usedAt();
    expect(slewed).toBeGreaterThan(before);
    now -= 60_000;
    expect(usedAt()).toBe(now);
    expect(usedAt()).toBeGreaterThan(now);
  });

  it('uses run ahead of the clock by more than a second (each entry of a setMany of millions its own time) are no set back: the next use is after them all', () => {
    let now = Date.UTC(2026, 0, 1);
    const usedAt = accessClock(() => now);
    let last = -Infinity;
    let backwards = 0;
    for (let use = 0; use < 1_500_000; use++) {
      const time = usedAt();
      if (time <= last) backwards++;
      last = time;
    }
    expect(backwards).toBe(0);
    now += 1;
    expect(usedAt()).toBeGreaterThan(last);
  });

  it('a thousand uses in one millisecond stay apart, on today’s epoch milliseconds and on a clock at 0', () => {
    for (const start of [Date.UTC(2026, 0, 1), Date.UTC(2100, 0, 1), 0]) {
      const usedAt = accessClock(() => start);
      const times = Array.from({ length: 1000 }, () => usedAt());
      expect(new Set(times).size).toBe(1000);
      expect(times.at(-1)).toBeLessThan(start + 1);
    }
  });

  it('gives a use told late (a read the page answered, told up to a second after) the time it was made, yet after every use given a time before it, and never ahead of the clock', () => {
    let now = Date.UTC(2026, 0, 1);
    const usedAt = accessClock(() => now);
    const written = usedAt();
    now += 1000;
    expect(usedAt(now - 600)).toBe(now - 600);
    // Made before the last use given a time (which it came after, as it was told after it): just after that one.
    const told = usedAt(written);
    expect(told).toBeGreaterThan(now - 600);
    expect(told).toBeLessThan(now - 599);
    // Made "later" than the clock reads (set back since): the clock's time.
    expect(usedAt(now + 5000)).toBe(now);
  });
});
