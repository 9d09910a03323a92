/**
 * Gaussian noise for the diffusion loops: a seeded generator that gives the same numbers on every
 * JavaScript engine, and a replay of recorded draws for parity with the reference.
 */
import { numel } from './tensor.ts';

/** Where a pipeline gets its N(0,1) draws; one call per tensor, in the reference's order. */
export interface NoiseSource {
  next(dims: readonly number[]): Float32Array;
}

/** SplitMix32-style integer hash, used only to spread a 32-bit seed over the generator state. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021): 32-bit words. */
class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(seed: number) {
    let x = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      words.push(mix32(x));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

const LN2_HI = 6.93147180369123816490e-1; // fdlibm's split of ln 2: hi has trailing zero bits,
const LN2_LO = 1.90821492927058770002e-10; // so e * LN2_HI is exact
const logView = new DataView(new ArrayBuffer(8));

/**
 * Natural log of a positive normal double using only + - * / (exactly specified in IEEE 754), so
 * it agrees bit for bit on every engine, unlike Math.log whose accuracy ECMAScript leaves open.
 * ln x = e ln 2 + 2 atanh((m - 1) / (m + 1)) with x = m 2^e, m in [sqrt(1/2), sqrt(2)). Exported for tests.
 */
export function portableLog(x: number): number {
  logView.setFloat64(0, x, true);
  const hiWord = logView.getUint32(4, true);
  let e = ((hiWord >>> 20) & 0x7ff) - 1023;
  logView.setUint32(4, (hiWord & 0x800fffff) | (1023 << 20), true); // same mantissa, exponent 0
  let m = logView.getFloat64(0, true);
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  const f = (m - 1) / (m + 1); // |f| < 0.1716
  const f2 = f * f;
  // atanh series; f^23 < 1e-17 so 12 terms reach double precision.
  let sum = 0;
  for (let k = 23; k >= 1; k -= 2) sum = sum * f2 + 1 / k;
  return e * LN2_HI + (2 * f * sum + e * LN2_LO);
}

/**
 * Deterministic standard normal draws: xoshiro128** uniforms and the Marsaglia polar form of
 * Box–Muller, in float64 with a portable log, rounded to float32. Same seed, same numbers everywhere.
 */
export function seededNoise(seed: number): NoiseSource {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(`noise seed must be an integer in [0, 2^32); got ${seed}`);
  }
  const rng = new Xoshiro128(seed);
  let spare: number | null = null;
  const gaussian = (): number => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.nextDouble() - 1;
      v = 2 * rng.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * portableLog(s)) / s); // sqrt is correctly rounded by IEEE 754
    spare = v * factor;
    return u * factor;
  };
  return {
    next(dims) {
      const out = new Float32Array(numel(dims));
      for (let i = 0; i < out.length; i++) out[i] = gaussian();
      return out;
    },
  };
}

/** Replays recorded draws (golden files) in order; throws if a draw's size differs or they run out. */
export function recordedNoise(draws: readonly Float32Array[]): NoiseSource {
  let index = 0;
  return {
    next(dims) {
      const draw = draws[index];
      if (draw === undefined) {
        throw new Error(
          `recorded noise: draw ${index + 1} of shape [${dims.join(', ')}] was requested but only ${draws.length} were recorded; the pipeline draws more noise than the reference`,
        );
      }
      const n = numel(dims);
      if (draw.length !== n) {
        throw new Error(
          `recorded noise: draw ${index + 1} has ${draw.length} values but shape [${dims.join(', ')}] needs ${n}; the pipeline draws in a different order or shape than the reference`,
        );
      }
      index += 1;
      return draw.slice();
    },
  };
}
