import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors.ts';
import { gaussian, maxAbsDiff, readGolden } from './test-support.ts';
import { UnCLIPScheduler } from './unclip.ts';

const f32 = Math.fround;
/** The manifest's prior config: no beta_schedule (cosine by default). */
const PRIOR = {
  _class_name: 'UnCLIPScheduler', variance_type: 'fixed_small_log', prediction_type: 'sample',
  num_train_timesteps: 1000, clip_sample: true, clip_sample_range: 10.0,
} as const;
const EPS = { ...PRIOR, prediction_type: 'epsilon', clip_sample: false } as const;

function countingNoise(n: number, seed = 7): { fn: () => Float32Array; calls: () => number } {
  let calls = 0;
  return { fn: () => gaussian(n, seed + calls++), calls: () => calls };
}

describe('UnCLIPScheduler timesteps', () => {
  it('match the golden prior cases', () => {
    for (const name of ['prior_g1_s3', 'prior_horse_g4_s2', 'prior_neg_g4_s3']) {
      const g = readGolden(name);
      const s = new UnCLIPScheduler(g.scheduler_config);
      s.setTimesteps(g.num_inference_steps);
      expect(s.timesteps).toEqual(g.timesteps);
      expect(s.timesteps).toEqual(g.steps.map((st) => st.t));
    }
  });

  it('space round(i·999/(n−1)) with numpy half-to-even rounding', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(3);
    expect(s.timesteps).toEqual([999, 500, 0]);
    s.setTimesteps(7); // 166.5 → 166, 499.5 → 500, 832.5 → 832
    expect(s.timesteps).toEqual([999, 832, 666, 500, 333, 166, 0]);
    s.setTimesteps(1000);
    expect(s.timesteps).toEqual(Array.from({ length: 1000 }, (_, i) => 999 - i));
  });

  it('n = 1 (diffusers divides by zero) is the single timestep T−1', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(1);
    expect(s.timesteps).toEqual([999]);
  });

  it('reject bad step counts with a RangeError', () => {
    const s = new UnCLIPScheduler(PRIOR);
    for (const n of [0, -1, 2.5, Number.NaN, 1001]) expect(() => s.setTimesteps(n)).toThrow(RangeError);
  });
});

describe('UnCLIPScheduler step', () => {
  const D = 32;
  const x0 = gaussian(D, 1);
  const eps = gaussian(D, 2);

  it('draws noise exactly once per step with t > 0, as many as the golden cases hold per-step draws', () => {
    for (const name of ['prior_g1_s3', 'prior_horse_g4_s2', 'prior_neg_g4_s3']) {
      const g = readGolden(name);
      const size = g.steps[0]!.latents.shape.reduce((a, b) => a * b, 1);
      const s = new UnCLIPScheduler(g.scheduler_config);
      s.setTimesteps(g.num_inference_steps);
      const noise = countingNoise(size);
      let x = gaussian(size, 3);
      for (const t of s.timesteps) {
        const before = noise.calls();
        x = s.step({ modelOutput: gaussian(size, t), t, sample: x, noise: noise.fn }).prevSample;
        expect(noise.calls() - before).toBe(t > 0 ? 1 : 0);
      }
      // The golden noise list is the initial latents, then one draw per step with t > 0.
      expect(noise.calls()).toBe(g.noise.length - 1);
      expect(noise.calls()).toBe(s.timesteps.filter((t) => t > 0).length);
    }
  });

  it('never calls noise at t = 0 and then needs no noise source', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(3);
    expect(() => s.step({ modelOutput: x0, t: 0, sample: eps })).not.toThrow();
    expect(() => s.step({ modelOutput: x0, t: 500, sample: eps })).toThrow(/needs a noise source/);
  });

  it("clips the 'sample' prediction to ±clip_sample_range", () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(3);
    const wild = x0.map((v, i) => (i % 2 ? 50 : -50) + v);
    const { predOriginalSample } = s.step({ modelOutput: wild, t: 0, sample: eps });
    expect(Array.from(predOriginalSample)).toEqual(Array.from(wild, (v) => (v > 0 ? 10 : -10)));
  });

  it('last step (t = 0 → clean) returns x̂_0 scaled by the float32 betas[0]/(1 − ᾱ_0), which is not 1', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(3);
    const { prevSample } = s.step({ modelOutput: x0, t: 0, sample: eps });
    // In float32, 1 − ᾱ_0 = 1 − fl(1 − β_0) differs from β_0 by up to half an ulp of 1, i.e. 1e-3 relative.
    const beta0 = f32(1 - Math.cos((1 / 1000 + 0.008) / 1.008 * Math.PI / 2) ** 2 / Math.cos(0.008 / 1.008 * Math.PI / 2) ** 2);
    const c = f32(beta0 / f32(1 - f32(1 - beta0)));
    expect(Math.abs(c - 1)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(prevSample, x0.map((v) => v * c))).toBeLessThan(1e-6);
  });

  it('epsilon prediction: the mean is sqrt(ᾱ_prev)·x_0 + sqrt(1 − ᾱ_prev − β̃)·ε (DDIM eq. 12 with σ² = β̃)', () => {
    const s = new UnCLIPScheduler(EPS);
    const acp = s.tables.alphasCumprod;
    for (const [n, t, prev] of [[5, 749, 500], [3, 500, 0], [1000, 600, 599]] as const) {
      s.setTimesteps(n);
      const xt = s.addNoise(x0, eps, t);
      const zero = () => new Float32Array(D);
      const { prevSample, predOriginalSample } = s.step({ modelOutput: eps, t, sample: xt, noise: zero });
      const aT = acp[t]!;
      const aP = acp[prev]!;
      const variance = ((1 - aP) / (1 - aT)) * (1 - aT / aP);
      const expected = x0.map((v, i) => Math.sqrt(aP) * v + Math.sqrt(1 - aP - variance) * eps[i]!);
      expect(maxAbsDiff(predOriginalSample, x0)).toBeLessThan(1e-4);
      expect(maxAbsDiff(prevSample, expected)).toBeLessThan(1e-4);
    }
  });

  it('adds σ·z with σ² = (1 − ᾱ_prev)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_prev) (DDPM eq. 7)', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(3);
    const acp = s.tables.alphasCumprod;
    const z = gaussian(D, 9);
    const withNoise = s.step({ modelOutput: x0, t: 500, sample: eps, noise: () => z }).prevSample;
    const without = s.step({ modelOutput: x0, t: 500, sample: eps, noise: () => new Float32Array(D) }).prevSample;
    const [aT, aP] = [acp[500]!, acp[0]!];
    const sigma = Math.sqrt(((1 - aP) / (1 - aT)) * (1 - aT / aP));
    expect(maxAbsDiff(withNoise.map((v, i) => v - without[i]!), z.map((v) => v * sigma))).toBeLessThan(1e-6);
  });

  it('an oracle loop (exact ε, zero noise) lands on betas[0]/(1 − ᾱ_0)·x_0', () => {
    const s = new UnCLIPScheduler(EPS);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(25);
    let x = s.addNoise(x0, eps, 999);
    for (const t of s.timesteps) {
      const oracle = x.map((v, i) => (v - Math.sqrt(acp[t]!) * x0[i]!) / Math.sqrt(1 - acp[t]!));
      x = s.step({ modelOutput: oracle, t, sample: x, noise: () => new Float32Array(D) }).prevSample;
    }
    const c = f32(s.tables.betas[0]! / f32(1 - acp[0]!));
    expect(maxAbsDiff(x, x0.map((v) => v * c))).toBeLessThan(1e-3);
  });

  it('n = 1 steps from T−1 straight to x̂_0 (one draw, with σ ≈ 1e-10)', () => {
    const s = new UnCLIPScheduler(PRIOR);
    s.setTimesteps(1);
    const noise = countingNoise(D);
    const { prevSample } = s.step({ modelOutput: x0, t: 999, sample: eps, noise: noise.fn });
    expect(noise.calls()).toBe(1);
    expect(maxAbsDiff(prevSample, x0)).toBeLessThan(1e-6);
  });

  it('rejects misuse: no schedule, unknown t, wrong lengths', () => {
    const s = new UnCLIPScheduler(PRIOR);
    expect(() => s.step({ modelOutput: x0, t: 0, sample: eps })).toThrow(/call setTimesteps/);
    s.setTimesteps(3);
    expect(() => s.step({ modelOutput: x0, t: 7, sample: eps })).toThrow(/timestep 7 is not in the current schedule \[999, 500, 0\]/);
    expect(() => s.step({ modelOutput: x0.subarray(1), t: 0, sample: eps })).toThrow(/31 values but the sample has 32/);
    expect(() => s.step({ modelOutput: x0, t: 500, sample: eps, noise: () => new Float32Array(3) })).toThrow(/noise\(\) gave 3/);
  });
});

describe('UnCLIPScheduler config', () => {
  it('rejects what it does not implement, naming the supported values', () => {
    expect(() => new UnCLIPScheduler({ ...PRIOR, variance_type: 'learned_range' })).toThrow(EngineError);
    expect(() => new UnCLIPScheduler({ ...PRIOR, variance_type: 'learned_range' })).toThrow(/variance_type.*"fixed_small_log"/);
    expect(() => new UnCLIPScheduler({ ...PRIOR, prediction_type: 'v_prediction' })).toThrow(/"epsilon", "sample"/);
    expect(() => new UnCLIPScheduler({ ...PRIOR, beta_schedule: 'linear' })).toThrow(/"squaredcos_cap_v2"/);
  });

  it('addNoise scales by sqrt(ᾱ_t) with zero noise', () => {
    const s = new UnCLIPScheduler(PRIOR);
    const a = s.tables.alphasCumprod[300]!;
    expect(maxAbsDiff(s.addNoise(x0Const(), new Float32Array(4), 300), x0Const().map((v) => v * Math.sqrt(a)))).toBeLessThan(1e-7);
  });
});

function x0Const(): Float32Array {
  return Float32Array.from([1, -2, 0.5, 3]);
}
