import { describe, expect, test } from 'vitest';
import { RateMeter, etaSeconds } from './rate.ts';

describe('RateMeter', () => {
  test('steady 1 MB per 100 ms reads as 10 MB/s', () => {
    const m = new RateMeter(3000);
    for (let t = 0; t <= 5000; t += 100) m.add(1_000_000, t);
    expect(m.speed(5000)).toBeCloseTo(10_000_000 * (3100 / 3000), -5);
  });

  test('before any bytes the speed is 0; after a long stall it decays to 0', () => {
    const m = new RateMeter(3000);
    expect(m.speed(0)).toBe(0);
    m.add(1000, 0);
    m.add(1000, 500);
    expect(m.speed(500)).toBe(4000);
    expect(m.speed(10_000)).toBe(0);
  });

  test('a burst right at the start does not read as infinite speed', () => {
    const m = new RateMeter(3000);
    m.add(5_000_000, 1000);
    expect(Number.isFinite(m.speed(1000))).toBe(true);
    expect(m.speed(1000)).toBe(20_000_000);
  });
});

describe('etaSeconds', () => {
  test('remaining / speed; 0 when done; null when unknown', () => {
    expect(etaSeconds(10_000_000, 2_000_000)).toBe(5);
    expect(etaSeconds(0, 0)).toBe(0);
    expect(etaSeconds(100, 0)).toBeNull();
    expect(etaSeconds(null, 1000)).toBeNull();
  });
});
