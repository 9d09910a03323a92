import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import {
  ConfigReader, addNoiseAt, betasFromConfig, checkSchedule, cosineBetas, linspaceF32, noiseTables, roundHalfEven,
  spacedTimesteps, trailingTimesteps, validateSteps,
} from './common.ts';
import { gaussian, maxAbsDiff } from './test-support.ts';

const f32 = Math.fround;

describe('roundHalfEven (numpy round)', () => {
  it('sends halves to the even neighbour and everything else to the nearest integer', () => {
    expect([0.5, 1.5, 2.5, 3.5, 166.5, 499.5, 832.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 166, 500, 832]);
    expect([0.49, 0.51, 2.4999, 7, 1e6 + 0.5].map(roundHalfEven)).toEqual([0, 1, 2, 7, 1e6]);
    expect(roundHalfEven(-2.5)).toBe(-2);
    expect(roundHalfEven(-3.5)).toBe(-4);
  });
});

describe('beta schedules', () => {
  it('linear betas run from beta_start to beta_end in float32', () => {
    const b = linspaceF32(0.00085, 0.012, 1000);
    expect(b[0]).toBe(f32(0.00085));
    expect(b[999]).toBe(f32(0.012));
    const step = (0.012 - 0.00085) / 999;
    for (let i = 1; i < 1000; i++) expect(b[i]! - b[i - 1]!).toBeCloseTo(step, 8);
  });

  it('linear 0.00085..0.012: alphas_cumprod endpoints match an independent sum of logs', () => {
    const { alphasCumprod } = noiseTables(linspaceF32(0.00085, 0.012, 1000));
    expect(alphasCumprod[0]).toBe(f32(1 - f32(0.00085)));
    let logSum = 0;
    for (let i = 0; i < 1000; i++) logSum += Math.log1p(-(0.00085 + (i * (0.012 - 0.00085)) / 999));
    expect(alphasCumprod[999]! / Math.exp(logSum)).toBeCloseTo(1, 5);
    expect(alphasCumprod[999]).toBeCloseTo(0.0015790, 6);
  });

  it('scaled_linear 0.00085..0.012 (Stable Diffusion) ends at sqrt(ᾱ_T) = 0.068265 (Lin et al. 2023, §3.1)', () => {
    const reader = new ConfigReader('Test', { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
    const betas = betasFromConfig(reader, 1000, { betaStart: 0, betaEnd: 0, schedule: 'linear' });
    expect(betas[0]).toBeCloseTo(0.00085, 8);
    expect(betas[999]).toBeCloseTo(0.012, 8);
    expect(Math.sqrt(noiseTables(betas).alphasCumprod[999]!)).toBeCloseTo(0.068265, 5);
  });

  it('cosine betas telescope: ᾱ_t = ᾱ((t+1)/T)/ᾱ(0) below the 0.999 cap, and the last beta is capped', () => {
    const abar = (s: number): number => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const betas = cosineBetas(1000);
    const { alphasCumprod } = noiseTables(betas);
    expect(betas[999]).toBe(f32(0.999));
    expect(betas[998]!).toBeLessThan(0.999);
    for (const t of [0, 1, 10, 250, 500, 750, 900, 990, 998]) {
      expect(alphasCumprod[t]! / (abar((t + 1) / 1000) / abar(0))).toBeCloseTo(1, 4);
    }
    expect(betas[0]).toBeCloseTo(4.1284e-5, 8);
  });

  it('trained_betas replace the named schedule', () => {
    const reader = new ConfigReader('Test', { trained_betas: [0.1, 0.2, 0.3] });
    const betas = betasFromConfig(reader, 3, { betaStart: 0, betaEnd: 0, schedule: 'linear' });
    expect(Array.from(betas)).toEqual([f32(0.1), f32(0.2), f32(0.3)]);
    expect(() => betasFromConfig(new ConfigReader('Test', { trained_betas: [0.1] }), 3,
      { betaStart: 0, betaEnd: 0, schedule: 'linear' })).toThrow(/trained_betas/);
  });
});

describe('timestep spacing (diffusers set_timesteps)', () => {
  it('leading: arange(n)·(T // n) + offset, descending', () => {
    expect(spacedTimesteps('leading', 3, 1000, 1)).toEqual([667, 334, 1]);
    expect(spacedTimesteps('leading', 5, 1000, 1)).toEqual([801, 601, 401, 201, 1]);
    expect(spacedTimesteps('leading', 4, 1000, 0)).toEqual([750, 500, 250, 0]);
  });

  it('linspace: round(linspace(0, T−1, n)), halves to even', () => {
    expect(spacedTimesteps('linspace', 4, 1000, 1)).toEqual([999, 666, 333, 0]);
    expect(spacedTimesteps('linspace', 3, 1000, 0)).toEqual([999, 500, 0]);
    expect(spacedTimesteps('linspace', 1, 1000, 0)).toEqual([0]);
  });

  it('trailing: round(arange(T, 0, −T/n)) − 1, always n points', () => {
    expect(spacedTimesteps('trailing', 3, 1000, 0)).toEqual([999, 666, 332]);
    expect(spacedTimesteps('trailing', 4, 1000, 0)).toEqual([999, 749, 499, 249]);
    expect(spacedTimesteps('trailing', 1, 1000, 0)).toEqual([999]);
    for (const n of [61, 103, 121, 397]) {
      // numpy's float length ceil(1000 / (1000/n)) is n + 1 here; the extra point would be t = −1.
      const ts = spacedTimesteps('trailing', n, 1000, 0);
      expect(ts).toHaveLength(n);
      expect(ts[n - 1]).toBeGreaterThanOrEqual(0);
    }
    expect(trailingTimesteps(500, 1000 / 4)).toEqual([499, 249]);
  });

  it('checkSchedule rejects out-of-range or repeated timesteps with a RangeError', () => {
    expect(() => checkSchedule([1000, 1], 1000, 'S', 2)).toThrow(RangeError);
    expect(() => checkSchedule([5, 5], 1000, 'S', 2)).toThrow(/use fewer steps/);
    expect(() => checkSchedule([5, 3, 0], 1000, 'S', 3)).not.toThrow();
  });
});

describe('validateSteps', () => {
  it('accepts integers in 1..max', () => {
    for (const n of [1, 2, 50, 1000]) expect(() => validateSteps(n, 1000)).not.toThrow();
  });
  it('rejects NaN, non-integers, < 1 and > max with a RangeError that says what is allowed', () => {
    for (const n of [Number.NaN, 2.5, 0, -3, 1001, Infinity]) {
      expect(() => validateSteps(n, 1000, 'DDPMScheduler')).toThrow(RangeError);
    }
    expect(() => validateSteps(0, 1000, 'DDPMScheduler')).toThrow(/DDPMScheduler.*from 1 to 1000.*got 0/);
    expect(() => validateSteps(Number('x'), 1000)).toThrow(/integer from 1 to 1000, got NaN/);
  });
});

describe('ConfigReader', () => {
  const r = new ConfigReader('TestScheduler', {
    a: 1.5, inf: '-Infinity', pinf: 'Infinity', nul: null, flag: true, kind: 'x', word: 'nope', n: 3,
  });

  it('returns values, defaults for absent or null keys, and parses ±Infinity strings', () => {
    expect(r.number('a', 0)).toBe(1.5);
    expect(r.number('missing', 7)).toBe(7);
    expect(r.number('nul', 7)).toBe(7);
    expect(r.number('inf', 0, true)).toBe(-Infinity);
    expect(r.number('pinf', 0, true)).toBe(Infinity);
    expect(r.boolean('flag', false)).toBe(true);
    expect(r.choice('kind', 'y', ['x', 'y'])).toBe('x');
    expect(r.choice('n', 2, [2, 3])).toBe(3);
    expect(r.integer('n', 0, 1)).toBe(3);
  });

  it('throws EngineError(BAD_MANIFEST) naming the key, the value and the allowed values', () => {
    const grab = (fn: () => unknown): EngineError => {
      try {
        fn();
      } catch (e) {
        if (e instanceof EngineError) return e;
        throw e;
      }
      throw new Error('did not throw');
    };
    const e = grab(() => r.choice('word', 'x', ['x', 'y']));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('TestScheduler config: word is "nope", expected one of "x", "y"');
    expect(e.details.expected).toBe('word: one of "x", "y"');
    expect(grab(() => r.number('inf', 0)).message).toMatch(/inf is "-Infinity", expected a finite number/);
    expect(grab(() => r.number('word', 0, true)).message).toMatch(/"Infinity"/);
    expect(grab(() => r.boolean('a', false)).message).toMatch(/a is 1.5, expected true or false/);
    expect(grab(() => r.integer('a', 0, 0)).message).toMatch(/expected an integer/);
    expect(grab(() => r.requireDefault('flag', false)).message).toMatch(/flag is true, expected false.*not supported/);
    expect(grab(() => r.forbid('word', ['nope'], 'Because.')).message).toMatch(/word is "nope", expected none of "nope". Because./);
  });
});

describe('addNoiseAt (DDPM eq. 4)', () => {
  const { alphasCumprod } = noiseTables(linspaceF32(0.00085, 0.012, 1000));
  const x0 = gaussian(64, 1);
  const z = gaussian(64, 2);

  it('scales the clean sample by sqrt(ᾱ_t) with zero noise and the noise by sqrt(1 − ᾱ_t) with a zero sample', () => {
    const zero = new Float32Array(64);
    for (const t of [0, 1, 500, 999]) {
      const a = alphasCumprod[t]!;
      expect(maxAbsDiff(addNoiseAt(alphasCumprod, x0, zero, t, 'S'), x0.map((v) => v * Math.sqrt(a)))).toBeLessThan(1e-6);
      expect(maxAbsDiff(addNoiseAt(alphasCumprod, zero, z, t, 'S'), z.map((v) => v * Math.sqrt(1 - a)))).toBeLessThan(1e-6);
    }
  });

  it('rejects timesteps outside the table and mismatched lengths', () => {
    expect(() => addNoiseAt(alphasCumprod, x0, z, 1000, 'S')).toThrow(RangeError);
    expect(() => addNoiseAt(alphasCumprod, x0, z, 1.5, 'S')).toThrow(RangeError);
    expect(() => addNoiseAt(alphasCumprod, x0, z.subarray(1), 5, 'S')).toThrow(/63 noise values for 64/);
  });
});
