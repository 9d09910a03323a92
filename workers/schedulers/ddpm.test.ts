import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors.ts';
import { DDPMScheduler } from './ddpm.ts';
import { gaussian, maxAbsDiff, readGolden } from './test-support.ts';
import type { SchedulerConfig } from './types.ts';

const GOLDEN = ['t2i_ddpm_64x64', 't2i_ddpm_w96_h64', 'inpaint_ddpm_rect', 'img2img_ddpm'] as const;
const KANDINSKY = readGolden('t2i_ddpm_64x64').scheduler_config;
const N = 64;
const x0 = gaussian(N, 11);
const eps = gaussian(N, 12);
const zeros = (): Float32Array => new Float32Array(N);

/** diffusers get_timesteps for img2img: the last int(n·strength) timesteps. */
function kept(timesteps: readonly number[], strength: number): readonly number[] {
  const init = Math.min(Math.floor(timesteps.length * strength), timesteps.length);
  return timesteps.slice(timesteps.length - init);
}

describe('DDPMScheduler timesteps', () => {
  it('match the golden cases (img2img keeps the tail of the schedule)', () => {
    for (const name of GOLDEN) {
      const g = readGolden(name);
      const s = new DDPMScheduler(g.scheduler_config);
      s.setTimesteps(g.num_inference_steps);
      if (g.timesteps) expect(s.timesteps).toEqual(g.timesteps);
      const expected = g.steps.map((st) => st.t);
      expect(g.strength === undefined ? s.timesteps : kept(s.timesteps, g.strength)).toEqual(expected);
    }
  });

  it("the bundle manifest's decoder config gives the same schedule", () => {
    const manifestUrl = new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url);
    const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { schedulers: { decoder: SchedulerConfig } };
    const s = new DDPMScheduler(manifest.schedulers.decoder);
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([751, 501, 251, 1]);
  });

  it('reject step counts that do not fit the training range', () => {
    const s = new DDPMScheduler(KANDINSKY);
    for (const n of [0, 1.5, Number.NaN, 1001]) expect(() => s.setTimesteps(n)).toThrow(RangeError);
    // leading with steps_offset 1 and n = T would need t = 1000: every training timestep instead.
    s.setTimesteps(1000);
    expect(s.timesteps).toEqual(Array.from({ length: 1000 }, (_, i) => 999 - i));
    s.setTimesteps(999);
    expect([s.timesteps[0], s.timesteps.at(-1)]).toEqual([999, 1]); // diffusers' own schedule still
    s.setTimesteps(500);
    expect(s.timesteps[0]).toBe(999);
    const noOffset = new DDPMScheduler({ ...KANDINSKY, steps_offset: 0 });
    noOffset.setTimesteps(1000);
    expect(noOffset.timesteps.at(-1)).toBe(0);
  });
});

describe('DDPMScheduler step', () => {
  it('draws one noise tensor per step with t > 0, matching the golden draw counts', () => {
    for (const name of GOLDEN) {
      const g = readGolden(name);
      const size = g.steps[0]!.latents.shape.reduce((a, b) => a * b, 1);
      const s = new DDPMScheduler(g.scheduler_config);
      s.setTimesteps(g.num_inference_steps);
      const ts = g.strength === undefined ? s.timesteps : kept(s.timesteps, g.strength);
      let calls = 0;
      let x = gaussian(size, 1);
      for (const t of ts) x = s.step({ modelOutput: gaussian(size, t), t, sample: x, noise: () => gaussian(size, 100 + calls++) }).prevSample;
      expect(calls).toBe(ts.length);
      // Golden noise: the start draw (initial latents, or img2img's add_noise noise), then one per step.
      expect(calls).toBe(g.noise.length - 1);
    }
  });

  it('never calls noise at t = 0', () => {
    const s = new DDPMScheduler({ ...KANDINSKY, steps_offset: 0 });
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([750, 500, 250, 0]);
    let calls = 0;
    const noise = (): Float32Array => {
      calls++;
      return zeros();
    };
    for (const t of s.timesteps) s.step({ modelOutput: eps, t, sample: x0, noise });
    expect(calls).toBe(3);
    expect(() => s.step({ modelOutput: eps, t: 0, sample: x0 })).not.toThrow();
    expect(() => s.step({ modelOutput: eps, t: 250, sample: x0 })).toThrow(/t = 250 needs a noise source/);
  });

  it('exact ε, zero noise: the mean is sqrt(ᾱ_prev)·x_0 + sqrt(1 − ᾱ_prev − β̃)·ε (DDIM eq. 12 with σ² = β̃)', () => {
    const s = new DDPMScheduler(KANDINSKY);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(4);
    for (const [t, prev] of [[751, 501], [501, 251], [251, 1]] as const) {
      const xt = s.addNoise(x0, eps, t);
      const { prevSample, predOriginalSample } = s.step({ modelOutput: eps, t, sample: xt, noise: zeros });
      const [aT, aP] = [acp[t]!, acp[prev]!];
      const variance = ((1 - aP) / (1 - aT)) * (1 - aT / aP);
      expect(maxAbsDiff(predOriginalSample, x0)).toBeLessThan(1e-5);
      expect(maxAbsDiff(prevSample, x0.map((v, i) => Math.sqrt(aP) * v + Math.sqrt(1 - aP - variance) * eps[i]!))).toBeLessThan(1e-5);
    }
  });

  it('noise std: sqrt(β̃) for fixed_small and fixed_small_log, sqrt(β) for fixed_large', () => {
    const acp = new DDPMScheduler(KANDINSKY).tables.alphasCumprod;
    const [aT, aP] = [acp[501]!, acp[251]!];
    const beta = 1 - aT / aP;
    const small = Math.sqrt(((1 - aP) / (1 - aT)) * beta);
    const z = gaussian(N, 5);
    for (const [variance_type, std] of [['fixed_small', small], ['fixed_small_log', small], ['fixed_large', Math.sqrt(beta)]] as const) {
      const s = new DDPMScheduler({ ...KANDINSKY, variance_type });
      s.setTimesteps(4);
      const a = s.step({ modelOutput: eps, t: 501, sample: x0, noise: () => z }).prevSample;
      const b = s.step({ modelOutput: eps, t: 501, sample: x0, noise: zeros }).prevSample;
      expect(maxAbsDiff(a.map((v, i) => v - b[i]!), z.map((v) => v * std))).toBeLessThan(1e-6);
    }
  });

  it('the last step goes to ᾱ = 1 and returns x̂_0 itself', () => {
    const s = new DDPMScheduler(KANDINSKY);
    s.setTimesteps(3);
    const xt = gaussian(N, 3);
    const { prevSample, predOriginalSample } = s.step({ modelOutput: eps, t: 1, sample: xt, noise: zeros });
    expect(Array.from(prevSample)).toEqual(Array.from(predOriginalSample));
    const a1 = s.tables.alphasCumprod[1]!;
    expect(maxAbsDiff(predOriginalSample, xt.map((v, i) => (v - Math.sqrt(1 - a1) * eps[i]!) / Math.sqrt(a1)))).toBeLessThan(1e-5);
  });

  it('an oracle loop (exact ε for the current sample, zero noise) ends at x_0', () => {
    const s = new DDPMScheduler(KANDINSKY);
    const acp = s.tables.alphasCumprod;
    s.setTimesteps(50);
    let x = s.addNoise(x0, eps, s.timesteps[0]!);
    for (const t of s.timesteps) {
      const oracle = x.map((v, i) => (v - Math.sqrt(acp[t]!) * x0[i]!) / Math.sqrt(1 - acp[t]!));
      x = s.step({ modelOutput: oracle, t, sample: x, noise: zeros }).prevSample;
    }
    expect(maxAbsDiff(x, x0)).toBeLessThan(1e-4);
  });

  it("'sample' and 'v_prediction' recover x_0 from their targets", () => {
    const acp = new DDPMScheduler(KANDINSKY).tables.alphasCumprod;
    const t = 501;
    const xt = new DDPMScheduler(KANDINSKY).addNoise(x0, eps, t);
    const v = x0.map((x, i) => Math.sqrt(acp[t]!) * eps[i]! - Math.sqrt(1 - acp[t]!) * x);
    for (const [prediction_type, out] of [['sample', x0], ['v_prediction', v]] as const) {
      const s = new DDPMScheduler({ ...KANDINSKY, prediction_type });
      s.setTimesteps(4);
      expect(maxAbsDiff(s.step({ modelOutput: out, t, sample: xt, noise: zeros }).predOriginalSample, x0)).toBeLessThan(1e-5);
    }
  });

  it('clip_sample (on by default in diffusers) clamps x̂_0 to ±clip_sample_range', () => {
    const s = new DDPMScheduler({ _class_name: 'DDPMScheduler' });
    s.setTimesteps(10);
    const { predOriginalSample } = s.step({ modelOutput: x0.map((v) => v * 10), t: 0, sample: x0 });
    expect(Math.max(...predOriginalSample.map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('rejects an 8-channel output and points at the variance split', () => {
    const s = new DDPMScheduler(KANDINSKY);
    s.setTimesteps(3);
    expect(() => s.step({ modelOutput: new Float32Array(2 * N), t: 1, sample: x0 })).toThrow(/split off learned variance/);
  });
});

describe('DDPMScheduler config', () => {
  it('rejects options it does not implement, naming the supported values', () => {
    const bad: [SchedulerConfig, RegExp][] = [
      [{ ...KANDINSKY, variance_type: 'learned_range' }, /variance_type is "learned_range", expected one of "fixed_small", "fixed_small_log", "fixed_large"/],
      [{ ...KANDINSKY, thresholding: true }, /thresholding is true, expected false/],
      [{ ...KANDINSKY, rescale_betas_zero_snr: true }, /rescale_betas_zero_snr/],
      [{ ...KANDINSKY, beta_schedule: 'sigmoid' }, /beta_schedule is "sigmoid", expected one of "linear", "scaled_linear", "squaredcos_cap_v2"/],
      [{ ...KANDINSKY, timestep_spacing: 'uniform' }, /"leading", "trailing", "linspace"/],
      [{ ...KANDINSKY, prediction_type: 'flow' }, /"epsilon", "sample", "v_prediction"/],
      [{ ...KANDINSKY, steps_offset: -1 }, /steps_offset is -1, expected an integer ≥ 0/],
    ];
    for (const [config, message] of bad) {
      expect(() => new DDPMScheduler(config)).toThrow(EngineError);
      expect(() => new DDPMScheduler(config)).toThrow(message);
    }
  });
});
