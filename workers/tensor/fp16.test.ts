import { describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from './fp16.ts';

const half = (v: number): number => toFloat16(Float32Array.of(v))[0]!;
const value = (bits: number): number => fromFloat16(Uint16Array.of(bits))[0]!;

/** Independent reference: the nearest finite half by exhaustive search, ties to the even bit pattern. */
function nearestHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Largest finite half is 65504; anything at or past 65520 (halfway to 2^16) rounds to Infinity.
  if (a >= 65520) return sign | 0x7c00;
  let best = 0;
  let bestErr = Infinity;
  for (let h = 0; h < 0x7c00; h++) {
    const err = Math.abs(value(h) - a);
    if (err < bestErr || (err === bestErr && (h & 1) === 0)) {
      best = h;
      bestErr = err;
    }
  }
  return sign | best;
}

describe('float16 conversion', () => {
  it('converts exact values both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800],
      [65504, 0x7bff], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -24 * 1023, 0x03ff],
      [0.333251953125, 0x3555],
    ];
    for (const [v, bits] of cases) {
      expect(half(v), `toFloat16(${v})`).toBe(bits);
      expect(Object.is(value(bits), v), `fromFloat16(0x${bits.toString(16)})`).toBe(true);
    }
  });

  it('handles infinities, overflow and NaN', () => {
    expect(half(Infinity)).toBe(0x7c00);
    expect(half(-Infinity)).toBe(0xfc00);
    expect(half(1e6)).toBe(0x7c00);
    expect(half(-70000)).toBe(0xfc00);
    expect(half(65519)).toBe(0x7bff); // below the halfway point to 2^16
    expect(half(65520)).toBe(0x7c00); // halfway: ties to even = Infinity
    const nan = half(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(value(0x7c00)).toBe(Infinity);
    expect(value(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(value(0x7e00))).toBe(true);
    expect(Number.isNaN(value(0xfc01))).toBe(true);
  });

  it('rounds subnormals to nearest even', () => {
    const tiny = 2 ** -24; // smallest subnormal half
    expect(half(tiny * 0.5)).toBe(0x0000); // tie between 0 and 1 ulp: even is 0
    expect(half(tiny * 0.50001)).toBe(0x0001);
    expect(half(tiny * 1.5)).toBe(0x0002); // tie between 1 and 2: even is 2
    expect(half(tiny * 2.5)).toBe(0x0002); // tie between 2 and 3: even is 2
    expect(half(-tiny * 3.49)).toBe(0x8003);
    expect(half(tiny * 0.25)).toBe(0x0000);
    expect(half(1e-30)).toBe(0x0000);
    expect(half(-1e-30)).toBe(0x8000);
    // The largest subnormal plus a bit more than half an ulp carries into the smallest normal.
    expect(half(tiny * 1023.6)).toBe(0x0400);
  });

  it('rounds normals to nearest even', () => {
    const ulpAt1 = 2 ** -10;
    expect(half(1 + ulpAt1 / 2)).toBe(0x3c00); // tie: even mantissa 0
    expect(half(1 + 1.5 * ulpAt1)).toBe(0x3c02); // tie: even mantissa 2
    expect(half(1 + ulpAt1 * 0.51)).toBe(0x3c01);
    expect(half(2047.5)).toBe(half(2048)); // 2048 has even mantissa
  });

  it('round-trips every half', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16(fromFloat16(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) expect(Number.isNaN(value(back[h]!))).toBe(true);
      else if (back[h] !== h) throw new Error(`0x${h.toString(16)} came back as 0x${back[h]!.toString(16)}`);
    }
  });

  it('matches an exhaustive nearest-half search on random float32 values', () => {
    let s = 12345;
    const rand = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const xs = new Float32Array(200);
    for (let i = 0; i < xs.length; i++) {
      const mag = 2 ** (rand() * 44 - 28); // spans subnormal halves to beyond the half range
      xs[i] = (rand() < 0.5 ? -1 : 1) * mag;
    }
    const got = toFloat16(xs);
    for (let i = 0; i < xs.length; i++) {
      expect(got[i], `value ${xs[i]}`).toBe(nearestHalf(xs[i]!));
    }
  });
});
