import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors.ts';
import { DDIMScheduler } from './ddim.ts';
import { gaussian, maxAbsDiff, readGolden } from './test-support.ts';

const KANDINSKY = readGolden('t2i_ddim_64x64').scheduler_config;
const N = 64;
const x0 = gaussian(N, 21);
const eps = gaussian(N, 22);
const never = (): Float32Array => {
  throw new Error('DDIM (eta = 0) must not draw noise');
};

describe('DDIMScheduler timesteps', () => {
  it('match the golden case', () => {
    const g = readGolden('t2i_ddim_64x64');
    const s = new DDIMScheduler(g.scheduler_config);
    s.setTimesteps(g.num_inference_steps);
    expect(s.timesteps).toEqual(g.timesteps);
    expect(s.timesteps).toEqual([801, 601, 401, 201, 1]);
    expect(s.timesteps).toEqual(g.steps.map((st) => st.t));
  });

  it('reject bad step counts', () => {
    const s = new DDIMScheduler(KANDINSKY);
    for (const n of [0, 2.5, Number.NaN, 1001]) expect(() => s.setTimesteps(n)).toThrow(RangeError);
    s.setTimesteps(1000); // leading + steps_offset 1 would need t = 1000: every training timestep instead
    expect([s.timesteps[0], s.timesteps.at(-1), s.timesteps.length]).toEqual([999, 0, 1000]);
  });
});

describe('DDIMScheduler step (eta = 0)', () => {
  it('never draws noise over a full loop', () => {
    const s = new DDIMScheduler(KANDINSKY);
    s.setTimesteps(5);
    let x = gaussian(N, 1);
    for (const t of s.timesteps) x = s.step({ modelOutput: gaussian(N, t), t, sample: x, noise: never }).prevSample;
    expect(x.every(Number.isFinite)).toBe(true);
  });

  it('with the exact ε it stays on the forward trajectory: x_prev = addNoise(x_0, ε, t − T // n) (eq. 12)', () => {
    const s = new DDIMScheduler(KANDINSKY);
    s.setTimesteps(5);
    for (const t of [801, 601, 401, 201]) {
      const { prevSample, predOriginalSample } = s.step({ modelOutput: eps, t, sample: s.addNoise(x0, eps, t) });
      expect(maxAbsDiff(predOriginalSample, x0)).toBeLessThan(2e-5);
      expect(maxAbsDiff(prevSample, s.addNoise(x0, eps, t - 200))).toBeLessThan(2e-5);
    }
  });

  it('the last step lands on ᾱ_0 without set_alpha_to_one, on x_0 with it', () => {
    const kand = new DDIMScheduler(KANDINSKY);
    kand.setTimesteps(5);
    const last = kand.step({ modelOutput: eps, t: 1, sample: kand.addNoise(x0, eps, 1) }).prevSample;
    const a0 = kand.tables.alphasCumprod[0]!;
    expect(kand.finalAlphaCumprod).toBe(a0);
    expect(maxAbsDiff(last, x0.map((v, i) => Math.sqrt(a0) * v + Math.sqrt(1 - a0) * eps[i]!))).toBeLessThan(1e-5);

    const one = new DDIMScheduler({ ...KANDINSKY, set_alpha_to_one: true });
    one.setTimesteps(5);
    expect(maxAbsDiff(one.step({ modelOutput: eps, t: 1, sample: one.addNoise(x0, eps, 1) }).prevSample, x0)).toBeLessThan(1e-5);
  });

  it("with the exact x_0 as model output ('sample') a full loop recovers x_0", () => {
    const s = new DDIMScheduler({ ...KANDINSKY, prediction_type: 'sample', set_alpha_to_one: true });
    s.setTimesteps(10);
    let x = s.addNoise(x0, eps, s.timesteps[0]!);
    for (const t of s.timesteps) {
      const r = s.step({ modelOutput: x0, t, sample: x });
      expect(Array.from(r.predOriginalSample)).toEqual(Array.from(x0));
      x = r.prevSample;
    }
    expect(maxAbsDiff(x, x0)).toBeLessThan(1e-5);
  });

  it('v_prediction recovers x_0 and ε', () => {
    const s = new DDIMScheduler({ ...KANDINSKY, prediction_type: 'v_prediction' });
    s.setTimesteps(5);
    const a = s.tables.alphasCumprod[601]!;
    const v = x0.map((x, i) => Math.sqrt(a) * eps[i]! - Math.sqrt(1 - a) * x);
    const { prevSample, predOriginalSample } = s.step({ modelOutput: v, t: 601, sample: s.addNoise(x0, eps, 601) });
    expect(maxAbsDiff(predOriginalSample, x0)).toBeLessThan(1e-5);
    expect(maxAbsDiff(prevSample, s.addNoise(x0, eps, 401))).toBeLessThan(1e-5);
  });

  it("uses diffusers' previous timestep t − T // n also for trailing spacing", () => {
    const s = new DDIMScheduler({ ...KANDINSKY, timestep_spacing: 'trailing', steps_offset: 0 });
    s.setTimesteps(3);
    expect(s.timesteps).toEqual([999, 666, 332]);
    const { prevSample } = s.step({ modelOutput: eps, t: 666, sample: s.addNoise(x0, eps, 666) });
    expect(maxAbsDiff(prevSample, s.addNoise(x0, eps, 333))).toBeLessThan(1e-5);
  });

  it('clip_sample (diffusers default: on) clamps x̂_0', () => {
    const s = new DDIMScheduler({ _class_name: 'DDIMScheduler' });
    s.setTimesteps(10);
    const { predOriginalSample } = s.step({ modelOutput: eps, t: 900, sample: x0.map((v) => v * 5) });
    expect(Math.max(...predOriginalSample.map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('rejects unknown timesteps and unsupported options', () => {
    const s = new DDIMScheduler(KANDINSKY);
    expect(() => s.step({ modelOutput: eps, t: 801, sample: x0 })).toThrow(/call setTimesteps/);
    s.setTimesteps(5);
    expect(() => s.step({ modelOutput: eps, t: 800, sample: x0 })).toThrow(RangeError);
    expect(() => new DDIMScheduler({ ...KANDINSKY, thresholding: true })).toThrow(EngineError);
    expect(() => new DDIMScheduler({ ...KANDINSKY, set_alpha_to_one: 'yes' })).toThrow(/set_alpha_to_one is "yes", expected true or false/);
  });
});
