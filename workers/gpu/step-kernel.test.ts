/**
 * The GPU step's math in Node: a float32 emulation of STEP_WGSL, reading the packed parameters exactly as the
 * kernel does, against the TypeScript schedulers (the reference) for every decoder scheduler. The real WGSL runs
 * the same cases in Chromium + SwiftShader (kernel.browser.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compareKernel, KERNEL_CASES, type KernelState } from './testing/kernel-cases.ts';
import { packStep, STEP_WGSL } from './step-kernel.ts';

const fr = Math.fround;

/** STEP_WGSL, line for line, in float32. */
function emulate(s: KernelState, params: ArrayBuffer, history: Float32Array): void {
  const f = new Float32Array(params);
  const u = new Uint32Array(params);
  const [guidance, alpha, sigma, clip, cSample, cX0, cEps, cNoise, cHistory, keepAlpha, keepSigma] = f as unknown as number[];
  const noiseOffset = u[11]!, prediction = u[12]!, flags = u[13]!;
  const { plane, hw, batch, inChannels, outChannels } = s.shape;
  for (let k = 0; k < plane; k++) {
    let m = s.pred[k]!;
    if (flags & 1) m = fr(m + fr(guidance! * fr(s.pred[outChannels * hw + k]! - m)));
    const x = s.latents[k]!;
    let x0: number, eps: number;
    switch (prediction) {
      case 0: x0 = fr(fr(x - fr(sigma! * m)) / alpha!); eps = m; break;
      case 1: x0 = m; eps = fr(fr(x - fr(alpha! * m)) / sigma!); break;
      default: x0 = fr(fr(alpha! * x) - fr(sigma! * m)); eps = fr(fr(alpha! * m) + fr(sigma! * x));
    }
    x0 = Math.min(clip!, Math.max(-clip!, x0));
    let out = fr(fr(fr(cSample! * x) + fr(cX0! * x0)) + fr(cEps! * eps));
    if (cNoise !== 0) out = fr(out + fr(cNoise! * s.noise[noiseOffset + k]!));
    if (cHistory !== 0) out = fr(out + fr(cHistory! * fr(x0 - history[k]!)));
    history[k] = x0;
    if (flags & 4) {
      const keep = s.kept[2 * plane + (k % hw)]!;
      const proper = fr(fr(keepAlpha! * s.kept[k]!) + fr(keepSigma! * s.kept[plane + k]!));
      out = fr(fr(keep * proper) + fr(fr(1 - keep) * out));
    }
    s.latents[k] = out;
    for (let b = 0; b < batch; b++) s.sample[b * inChannels * hw + k] = out;
  }
}

describe('the GPU denoising step (float32 emulation of its WGSL)', () => {
  it('matches the TypeScript schedulers on every case within 1e-5 (SPEC §4 allows 5e-3 per latent on WebGPU)', async () => {
    const errors = await compareKernel(async (state, params) => {
      const history = new Float32Array(state.shape.plane);
      return {
        async run(i) {
          emulate(state, params[i]!, history);
          return { latents: state.latents.slice(), sample: state.sample.slice(), x0: history.slice() };
        },
        dispose() {},
      };
    });
    expect(Object.keys(errors)).toEqual(KERNEL_CASES.map((c) => c.name));
    for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-5);
  });

  it('packs the parameters where the WGSL struct reads them', () => {
    const buf = packStep(
      { prediction: 'v_prediction', alpha: 0.5, sigma: 0.25, clip: Infinity, cSample: 1, cX0: 2, cEps: 3, cNoise: 4, cHistory: 5, drawsNoise: true },
      { guidance: 7, noiseOffset: 96, reset: { keepAlpha: 0.75, keepSigma: 0.125 } },
      { plane: 4, hw: 1, batch: 2, inChannels: 4, outChannels: 8 },
    );
    expect(Array.from(new Float32Array(buf, 0, 11))).toEqual([7, 0.5, 0.25, Math.fround(3e38), 1, 2, 3, 4, 5, 0.75, 0.125]);
    expect(Array.from(new Uint32Array(buf, 44, 3))).toEqual([96, 2, 1 | 4]);
    expect(STEP_WGSL).toMatch(/cHistory: f32, keepAlpha: f32, keepSigma: f32, noiseOffset: u32,\s*prediction: u32, flags: u32/);
  });
});
