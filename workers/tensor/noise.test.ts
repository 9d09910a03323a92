import { describe, expect, it } from 'vitest';
import { portableLog, recordedNoise, seededNoise } from './noise.ts';

describe('seededNoise', () => {
  it('gives the same values for the same seed, also across calls of different shapes', () => {
    const a = seededNoise(1234);
    const b = seededNoise(1234);
    const a1 = a.next([2, 3]);
    const a2 = a.next([5]);
    const b1 = b.next([2, 3]);
    const b2 = b.next([5]);
    expect(Array.from(a1)).toEqual(Array.from(b1));
    expect(Array.from(a2)).toEqual(Array.from(b2));
    // The stream is continuous: one draw of 11 equals draws of 6 then 5.
    expect(Array.from(seededNoise(1234).next([11]))).toEqual([...a1, ...a2]);
  });

  it('pins the first values of seed 42 (engine-independent arithmetic must not drift)', () => {
    const v = seededNoise(42).next([6]);
    const pinned = [0.733737587928772, -1.8901814222335815, -0.4091060161590576,
      0.8627554178237915, 0.0044184960424900055, -0.7124728560447693];
    expect(Array.from(v)).toEqual(pinned);
  });

  it('differs between seeds', () => {
    const a = seededNoise(0).next([64]);
    const b = seededNoise(1).next([64]);
    const c = seededNoise(2 ** 32 - 1).next([64]);
    let same = 0;
    for (let i = 0; i < 64; i++) if (a[i] === b[i] || a[i] === c[i] || b[i] === c[i]) same++;
    expect(same).toBe(0);
  });

  it('is standard normal over 1e5 samples', () => {
    const n = 100_000;
    const x = seededNoise(7).next([n]);
    let mean = 0;
    for (const v of x) mean += v;
    mean /= n;
    let variance = 0;
    let beyond2 = 0;
    let maxAbs = 0;
    for (const v of x) {
      variance += (v - mean) ** 2;
      if (Math.abs(v) > 2) beyond2++;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const std = Math.sqrt(variance / n);
    // Standard errors: mean 1/sqrt(n) = 0.0032, std 0.0022; bounds are about 5 of them.
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(std - 1)).toBeLessThan(0.012);
    // P(|z| > 2) = 0.0455; its standard error over 1e5 samples is 0.00066.
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.004);
    expect(maxAbs).toBeGreaterThan(3.5);
    expect(maxAbs).toBeLessThan(7);
  });

  it('rejects seeds outside [0, 2^32)', () => {
    expect(() => seededNoise(-1)).toThrow(/seed/);
    expect(() => seededNoise(1.5)).toThrow(/seed/);
    expect(() => seededNoise(2 ** 32)).toThrow(/seed/);
    expect(() => seededNoise(Number.NaN)).toThrow(/seed/);
  });
});

describe('portableLog', () => {
  it('agrees with Math.log to about one ulp', () => {
    const xs = [1, 0.5, 2, Math.E, 1e-300, 1e-30, 0.999999999, 1.000000001, 0.7071, 1.4142, 123456.789, 3e300];
    for (let i = 1; i < 2000; i++) xs.push(i / 2000);
    for (const x of xs) {
      const want = Math.log(x);
      const got = portableLog(x);
      expect(Math.abs(got - want), `log(${x})`).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(want)));
    }
    expect(portableLog(1)).toBe(0);
  });
});

describe('recordedNoise', () => {
  it('returns the draws in order, as copies', () => {
    const d0 = Float32Array.of(1, 2, 3, 4);
    const d1 = Float32Array.of(5, 6);
    const src = recordedNoise([d0, d1]);
    const first = src.next([2, 2]);
    expect(Array.from(first)).toEqual([1, 2, 3, 4]);
    first[0] = 99;
    expect(d0[0]).toBe(1);
    expect(Array.from(src.next([1, 2]))).toEqual([5, 6]);
  });

  it('throws when a draw has the wrong size', () => {
    const src = recordedNoise([Float32Array.of(1, 2, 3)]);
    expect(() => src.next([2, 2])).toThrow(/draw 1 has 3 values but shape \[2, 2\] needs 4/);
  });

  it('throws when the draws run out', () => {
    const src = recordedNoise([Float32Array.of(1)]);
    src.next([1]);
    expect(() => src.next([1])).toThrow(/draw 2 .* only 1 were recorded/);
  });
});
