import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors.ts';
import { DPMSolverMultistepScheduler } from './dpmpp2m.ts';
import { gaussian, maxAbsDiff, readGolden } from './test-support.ts';
import type { SchedulerConfig } from './types.ts';

const KANDINSKY = readGolden('t2i_dpmpp_64x64').scheduler_config;
const N = 64;
const x0 = gaussian(N, 31);
const eps = gaussian(N, 32);
const never = (): Float32Array => {
  throw new Error('DPM-Solver++ must not draw noise');
};

/** Independent float64 view of the VP schedule: α = sqrt(ᾱ), σ = sqrt(1 − ᾱ), λ = log(α/σ). */
function vp(acp: Float32Array, t: number | null): { alpha: number; sigma: number; lambda: number } {
  if (t === null) return { alpha: 1, sigma: 0, lambda: Infinity };
  const a = acp[t]!;
  return { alpha: Math.sqrt(a), sigma: Math.sqrt(1 - a), lambda: 0.5 * Math.log(a / (1 - a)) };
}

/** DPM-Solver++ first-order update (Lu et al. 2022, eq. 5): x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x̂_0. */
function firstOrder(acp: Float32Array, s: number, t: number | null, x: Float32Array, d0: Float32Array): Float32Array {
  const [S, T] = [vp(acp, s), vp(acp, t)];
  const h = T.lambda - S.lambda;
  return x.map((v, i) => (T.sigma / S.sigma) * v - T.alpha * (Math.exp(-h) - 1) * d0[i]!);
}

/** x̂_0 from ε at t: (x − σ·ε)/α. */
function dataPrediction(acp: Float32Array, t: number, x: Float32Array, e: Float32Array): Float32Array {
  const { alpha, sigma } = vp(acp, t);
  return x.map((v, i) => (v - sigma * e[i]!) / alpha);
}

describe('DPMSolverMultistepScheduler timesteps', () => {
  it('match the golden cases (leading: last // (n+1) spacing, img2img keeps the tail)', () => {
    const t2i = readGolden('t2i_dpmpp_64x64');
    const s = new DPMSolverMultistepScheduler(t2i.scheduler_config);
    s.setTimesteps(t2i.num_inference_steps);
    expect(s.timesteps).toEqual(t2i.timesteps);
    expect(s.timesteps).toEqual([853, 711, 569, 427, 285, 143]);

    const i2i = readGolden('img2img_dpmpp');
    const r = new DPMSolverMultistepScheduler(i2i.scheduler_config);
    r.setTimesteps(i2i.num_inference_steps);
    expect(r.timesteps).toEqual([889, 778, 667, 556, 445, 334, 223, 112]);
    expect(r.timesteps.slice(8 - Math.floor(8 * i2i.strength!))).toEqual(i2i.steps.map((st) => st.t));
  });

  it("the manifest's dpmpp_2m config and a DDPM config relabelled as DPM-Solver++ give the same schedule", () => {
    const url = new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url);
    const manifest = JSON.parse(readFileSync(url, 'utf8')) as {
      schedulers: { decoder: SchedulerConfig }; scheduler_alternatives: { dpmpp_2m: SchedulerConfig };
    };
    const relabelled = {
      ...manifest.schedulers.decoder, _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver++', solver_order: 2,
    };
    for (const config of [manifest.scheduler_alternatives.dpmpp_2m, relabelled]) {
      const s = new DPMSolverMultistepScheduler(config);
      s.setTimesteps(6);
      expect(s.timesteps).toEqual([853, 711, 569, 427, 285, 143]);
    }
  });

  it('linspace and trailing spacings follow diffusers', () => {
    const lin = new DPMSolverMultistepScheduler({ ...KANDINSKY, timestep_spacing: 'linspace' });
    lin.setTimesteps(4); // round(linspace(0, 999, 5)) = 0, 250 (249.75), 500 (499.5), 749 (749.25), 999
    expect(lin.timesteps).toEqual([999, 749, 500, 250]);
    const trail = new DPMSolverMultistepScheduler({ ...KANDINSKY, timestep_spacing: 'trailing' });
    trail.setTimesteps(4);
    expect(trail.timesteps).toEqual([999, 749, 499, 249]);
  });

  it('lambda_min_clipped drops the timesteps whose λ is below it', () => {
    const cosine = { ...KANDINSKY, beta_schedule: 'squaredcos_cap_v2', timestep_spacing: 'linspace', lambda_min_clipped: -5.1 };
    const s = new DPMSolverMultistepScheduler(cosine);
    const clipped = Array.from(s.tables.alphasCumprod).filter((_, t) => vp(s.tables.alphasCumprod, t).lambda < -5.1).length;
    expect(clipped).toBeGreaterThan(0);
    s.setTimesteps(10);
    expect(s.timesteps[0]).toBe(1000 - clipped - 1);
    expect(new DPMSolverMultistepScheduler({ ...cosine, lambda_min_clipped: '-Infinity' })).toBeDefined();
  });

  it('reject step counts beyond the training timesteps; those near it fall back to even spacing', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    for (const n of [0, 1.5, Number.NaN, 1001]) expect(() => s.setTimesteps(n)).toThrow(RangeError);
    // ratio 1000 // 1000 = 1, + offset 1 would need t = 1000 (and 1000 // 1001 = 0 at n = 1000): evenly spaced instead.
    s.setTimesteps(999);
    expect([s.timesteps[0], s.timesteps.at(-1), new Set(s.timesteps).size]).toEqual([999, 0, 999]);
    s.setTimesteps(1000);
    expect([s.timesteps[0], s.timesteps.at(-1), new Set(s.timesteps).size]).toEqual([999, 0, 1000]);
    s.setTimesteps(499);
    expect(s.timesteps).toHaveLength(499);
  });
});

describe('DPMSolverMultistepScheduler step', () => {
  it('with the exact ε every step lands on the forward trajectory and the last on x_0', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    s.setTimesteps(6);
    const ts = s.timesteps;
    let x = s.addNoise(x0, eps, ts[0]!);
    ts.forEach((t, i) => {
      x = s.step({ modelOutput: eps, t, sample: x, noise: never }).prevSample;
      const next = ts[i + 1];
      expect(maxAbsDiff(x, next === undefined ? x0 : s.addNoise(x0, eps, next))).toBeLessThan(5e-5);
    });
  });

  it('the final step returns the x̂_0 prediction itself (final σ = 0)', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    s.setTimesteps(6);
    let x = gaussian(N, 4);
    let last = { prevSample: x, predOriginalSample: x };
    for (const t of s.timesteps) {
      last = s.step({ modelOutput: gaussian(N, t), t, sample: x });
      x = last.prevSample;
    }
    expect(Array.from(last.prevSample)).toEqual(Array.from(last.predOriginalSample));
  });

  it('first step is first order, the next is the 2M midpoint update (Lu et al. 2022, Alg. 2)', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(6);
    const [t0, t1, t2] = [853, 711, 569];
    const x = gaussian(N, 5);
    const [e0, e1] = [gaussian(N, 6), gaussian(N, 7)];

    const r0 = s.step({ modelOutput: e0, t: t0, sample: x });
    const d0a = dataPrediction(acp, t0, x, e0);
    expect(maxAbsDiff(r0.predOriginalSample, d0a)).toBeLessThan(1e-5);
    const x1 = firstOrder(acp, t0, t1, x, d0a);
    expect(maxAbsDiff(r0.prevSample, x1)).toBeLessThan(1e-5);

    const r1 = s.step({ modelOutput: e1, t: t1, sample: r0.prevSample });
    const d0b = dataPrediction(acp, t1, r0.prevSample, e1);
    const [A, B, C] = [vp(acp, t0), vp(acp, t1), vp(acp, t2)];
    const h = C.lambda - B.lambda;
    const r = (B.lambda - A.lambda) / h;
    const k = C.alpha * (Math.exp(-h) - 1);
    const expected = r0.prevSample.map((v, i) => {
      const d1 = (d0b[i]! - d0a[i]!) / r;
      return (C.sigma / B.sigma) * v - k * d0b[i]! - 0.5 * k * d1;
    });
    expect(maxAbsDiff(r1.prevSample, expected)).toBeLessThan(1e-5);
    // ...and it is really second order: the first-order update differs.
    expect(maxAbsDiff(r1.prevSample, firstOrder(acp, t1, t2, r0.prevSample, d0b))).toBeGreaterThan(1e-3);
  });

  it("solver_type 'heun' weights D1 by α_t((e^{−h} − 1)/h + 1)", () => {
    const s = new DPMSolverMultistepScheduler({ ...KANDINSKY, solver_type: 'heun' });
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(6);
    const x = gaussian(N, 8);
    const [e0, e1] = [gaussian(N, 9), gaussian(N, 10)];
    const x1 = s.step({ modelOutput: e0, t: 853, sample: x }).prevSample;
    const x2 = s.step({ modelOutput: e1, t: 711, sample: x1 }).prevSample;
    const [da, db] = [dataPrediction(acp, 853, x, e0), dataPrediction(acp, 711, x1, e1)];
    const [A, B, C] = [vp(acp, 853), vp(acp, 711), vp(acp, 569)];
    const h = C.lambda - B.lambda;
    const r = (B.lambda - A.lambda) / h;
    const expected = x1.map((v, i) => (C.sigma / B.sigma) * v - C.alpha * (Math.exp(-h) - 1) * db[i]!
      + C.alpha * ((Math.exp(-h) - 1) / h + 1) * ((db[i]! - da[i]!) / r));
    expect(maxAbsDiff(x2, expected)).toBeLessThan(1e-5);
  });

  it('img2img: the first step taken mid-schedule is first order, the following one second order', () => {
    const s = new DPMSolverMultistepScheduler(readGolden('img2img_dpmpp').scheduler_config);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(8);
    const x = gaussian(N, 11);
    const [e0, e1] = [gaussian(N, 12), gaussian(N, 13)];
    const r0 = s.step({ modelOutput: e0, t: 556, sample: x });
    expect(maxAbsDiff(r0.prevSample, firstOrder(acp, 556, 445, x, dataPrediction(acp, 556, x, e0)))).toBeLessThan(1e-5);
    const r1 = s.step({ modelOutput: e1, t: 445, sample: r0.prevSample });
    const first = firstOrder(acp, 445, 334, r0.prevSample, dataPrediction(acp, 445, r0.prevSample, e1));
    expect(maxAbsDiff(r1.prevSample, first)).toBeGreaterThan(1e-3);
  });

  it('history from a non-adjacent step is not used; setTimesteps clears it', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(6);
    const x = gaussian(N, 14);
    const e = gaussian(N, 15);
    s.step({ modelOutput: gaussian(N, 16), t: 853, sample: x });
    const skipped = s.step({ modelOutput: e, t: 569, sample: x }).prevSample;
    const first = firstOrder(acp, 569, 427, x, dataPrediction(acp, 569, x, e));
    expect(maxAbsDiff(skipped, first)).toBeLessThan(1e-5);
    s.step({ modelOutput: gaussian(N, 17), t: 853, sample: x });
    s.setTimesteps(6);
    expect(maxAbsDiff(s.step({ modelOutput: e, t: 711, sample: x }).prevSample,
      firstOrder(acp, 711, 569, x, dataPrediction(acp, 711, x, e)))).toBeLessThan(1e-5);
  });

  it('lower-order final: first order at the last step with σ_min only for < 15 steps or euler_at_final', () => {
    const run = (config: SchedulerConfig, n: number): { got: Float32Array; first: Float32Array } => {
      const s = new DPMSolverMultistepScheduler(config);
      const acp = s.tables.alphasCumprod;
      s.setTimesteps(n);
      const ts = s.timesteps;
      let x = gaussian(N, 18);
      for (const t of ts.slice(0, -1)) x = s.step({ modelOutput: gaussian(N, t), t, sample: x }).prevSample;
      const t = ts.at(-1)!;
      const e = gaussian(N, 19);
      const got = s.step({ modelOutput: e, t, sample: x }).prevSample;
      // With σ_min the last step goes to the σ of timestep 0.
      return { got, first: firstOrder(acp, t, 0, x, dataPrediction(acp, t, x, e)) };
    };
    const sigmaMin = { ...KANDINSKY, final_sigmas_type: 'sigma_min' };
    const short = run(sigmaMin, 10);
    expect(maxAbsDiff(short.got, short.first)).toBeLessThan(1e-5);
    const long = run(sigmaMin, 20);
    expect(maxAbsDiff(long.got, long.first)).toBeGreaterThan(1e-4);
    const euler = run({ ...sigmaMin, euler_at_final: true }, 20);
    expect(maxAbsDiff(euler.got, euler.first)).toBeLessThan(1e-5);
  });

  it('solver_order 1 is first order throughout (DDIM, Lu et al. 2022 §3.2)', () => {
    const s = new DPMSolverMultistepScheduler({ ...KANDINSKY, solver_order: 1 });
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(6);
    const x = gaussian(N, 20);
    s.step({ modelOutput: gaussian(N, 21), t: 853, sample: x });
    const e = gaussian(N, 22);
    expect(maxAbsDiff(s.step({ modelOutput: e, t: 711, sample: x }).prevSample,
      firstOrder(acp, 711, 569, x, dataPrediction(acp, 711, x, e)))).toBeLessThan(1e-5);
  });

  it('addNoise uses α_t = 1/sqrt(σ² + 1) and σ_t = σ·α_t at t', () => {
    const s = new DPMSolverMultistepScheduler(KANDINSKY);
    const acp = s.tables.alphasCumprod;
    for (const t of [1, 143, 556, 999]) {
      expect(maxAbsDiff(s.addNoise(x0, new Float32Array(N), t), x0.map((v) => v * Math.sqrt(acp[t]!)))).toBeLessThan(1e-6);
      expect(maxAbsDiff(s.addNoise(new Float32Array(N), eps, t), eps.map((v) => v * Math.sqrt(1 - acp[t]!)))).toBeLessThan(1e-6);
    }
    expect(() => s.addNoise(x0, eps, 1000)).toThrow(RangeError);
  });
});

describe('DPMSolverMultistepScheduler config', () => {
  it('rejects options it does not implement, naming the supported values', () => {
    const bad: [SchedulerConfig, RegExp][] = [
      [{ ...KANDINSKY, algorithm_type: 'sde-dpmsolver++' }, /algorithm_type is "sde-dpmsolver\+\+", expected one of "dpmsolver\+\+"/],
      [{ ...KANDINSKY, solver_order: 3 }, /solver_order is 3, expected one of 1, 2/],
      [{ ...KANDINSKY, solver_type: 'bh2' }, /"midpoint", "heun"/],
      [{ ...KANDINSKY, use_karras_sigmas: true }, /use_karras_sigmas is true, expected false/],
      [{ ...KANDINSKY, use_flow_sigmas: true }, /use_flow_sigmas/],
      [{ ...KANDINSKY, final_sigmas_type: 'denoise_to_zero' }, /"zero", "sigma_min"/],
      [{ ...KANDINSKY, variance_type: 'learned_range' }, /variance_type is "learned_range"/],
      [{ ...KANDINSKY, lambda_min_clipped: 'low' }, /lambda_min_clipped is "low", expected a number \(or "Infinity"\/"-Infinity"\)/],
    ];
    for (const [config, message] of bad) {
      expect(() => new DPMSolverMultistepScheduler(config)).toThrow(EngineError);
      expect(() => new DPMSolverMultistepScheduler(config)).toThrow(message);
    }
  });
});
