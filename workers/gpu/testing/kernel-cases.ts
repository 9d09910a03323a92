/**
 * The GPU step against the TypeScript schedulers (the reference) on small deterministic tensors: whole loops of every
 * decoder scheduler and the prior's (UnCLIP), guidance on and off, each prediction type, a mid-schedule start (img2img) and Kandinsky 2.2's
 * inpainting reset. `runStep` is the kernel under test: the WGSL in a browser (kernel-page.ts), or its float32
 * emulation in Node (step-kernel.test.ts). No ORT: the "UNet" is a fixed function of the sample.
 */
import { DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, UnCLIPScheduler } from '../../schedulers/index.ts';
import type { LinearScheduler, SchedulerConfig } from '../../schedulers/types.ts';
import { seededNoise } from '../../tensor/noise.ts';
import { packStep, type StepShape } from '../step-kernel.ts';

/** What a case's kernel gets per step, and the state it keeps between steps. */
export interface KernelState {
  readonly shape: StepShape;
  /** [batch, outChannels, h, w]. */
  pred: Float32Array;
  latents: Float32Array;
  sample: Float32Array;
  readonly noise: Float32Array;
  readonly kept: Float32Array;
}

/** Makes a kernel for one case (the GPU allocates its buffers here); run(i) steps on state.pred and state.latents. */
export type KernelFactory = (state: KernelState, params: readonly ArrayBuffer[]) => Promise<{
  /** Step `step`: the latents, the next UNet input and the step's x̂_0 (the kernel's history buffer, what previews read). */
  run(step: number): Promise<{ latents: Float32Array; sample: Float32Array; x0: Float32Array }>;
  dispose(): void;
}>;

const BASE = { num_train_timesteps: 1000, beta_schedule: 'linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1 };

/** The cases: a name, a scheduler, steps, guidance, and what else the loop does. */
export const KERNEL_CASES = [
  { name: 'ddpm epsilon cfg', config: { ...BASE, _class_name: 'DDPMScheduler', clip_sample: false, variance_type: 'fixed_small' }, steps: 6, guidance: 4 },
  { name: 'ddpm sample clip no-cfg', config: { ...BASE, _class_name: 'DDPMScheduler', prediction_type: 'sample', clip_sample: true }, steps: 4, guidance: 1 },
  { name: 'ddim epsilon cfg', config: { ...BASE, _class_name: 'DDIMScheduler', clip_sample: false, set_alpha_to_one: false }, steps: 6, guidance: 4 },
  { name: 'ddim v cfg', config: { ...BASE, _class_name: 'DDIMScheduler', prediction_type: 'v_prediction', clip_sample: false }, steps: 5, guidance: 3 },
  { name: 'dpmpp 2m cfg', config: { ...BASE, _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver++', solver_order: 2 }, steps: 7, guidance: 4 },
  { name: 'dpmpp 2m heun sample', config: { ...BASE, _class_name: 'DPMSolverMultistepScheduler', solver_type: 'heun', prediction_type: 'sample' }, steps: 5, guidance: 2 },
  { name: 'dpmpp 2m from step 3 (img2img)', config: { ...BASE, _class_name: 'DPMSolverMultistepScheduler' }, steps: 8, guidance: 4, from: 3 },
  { name: 'ddpm inpaint reset', config: { ...BASE, _class_name: 'DDPMScheduler', clip_sample: false }, steps: 5, guidance: 4, inpaint: true },
  { name: 'dpmpp 2m inpaint reset', config: { ...BASE, _class_name: 'DPMSolverMultistepScheduler' }, steps: 5, guidance: 4, inpaint: true },
  // The prior's scheduler (Kandinsky's config: sample prediction, x̂_0 clipped to ±10), and epsilon with the default clip.
  { name: 'unclip prior sample clip cfg', config: { _class_name: 'UnCLIPScheduler', num_train_timesteps: 1000, variance_type: 'fixed_small_log', prediction_type: 'sample', clip_sample: true, clip_sample_range: 10 }, steps: 6, guidance: 4 },
  { name: 'unclip epsilon no-cfg', config: { _class_name: 'UnCLIPScheduler', num_train_timesteps: 1000, clip_sample: true, clip_sample_range: 1 }, steps: 5, guidance: 1 },
] as const satisfies readonly { name: string; config: SchedulerConfig; steps: number; guidance: number; from?: number; inpaint?: boolean }[];

function scheduler(config: SchedulerConfig): LinearScheduler {
  switch (config._class_name) {
    case 'DDPMScheduler':
      return new DDPMScheduler(config);
    case 'DDIMScheduler':
      return new DDIMScheduler(config);
    case 'UnCLIPScheduler':
      return new UnCLIPScheduler(config);
    default:
      return new DPMSolverMultistepScheduler(config);
  }
}

/** A stand-in UNet: a smooth, batch-dependent function of its input (out channels: ε, then variance). */
function fakeUnet(sample: Float32Array, shape: StepShape, t: number): Float32Array {
  const out = new Float32Array(shape.batch * shape.outChannels * shape.hw);
  for (let b = 0; b < shape.batch; b++) {
    for (let k = 0; k < shape.outChannels * shape.hw; k++) {
      const x = sample[b * shape.inChannels * shape.hw + (k % (shape.inChannels * shape.hw))]!;
      out[b * shape.outChannels * shape.hw + k] = Math.fround(0.6 * Math.sin(x + 0.3 * b + t * 1e-3 + k * 0.01) + 0.1 * x);
    }
  }
  return out;
}

/** Max |GPU − reference| over every step's latents and x̂_0 (the scheduler's predOriginalSample), per case. */
export async function compareKernel(make: KernelFactory): Promise<Record<string, number>> {
  const errors: Record<string, number> = {};
  const C = 4, h = 3, w = 5, hw = h * w, plane = C * hw;
  for (const c of KERNEL_CASES) {
    const inpaint = 'inpaint' in c && c.inpaint;
    const batch = c.guidance > 1 ? 2 : 1;
    const shape: StepShape = { plane, hw, batch, inChannels: inpaint ? 2 * C + 1 : C, outChannels: 2 * C };
    const ref = scheduler(c.config);
    const gpu = scheduler(c.config);
    ref.setTimesteps(c.steps);
    gpu.setTimesteps(c.steps);
    const timesteps = ref.timesteps.slice('from' in c ? c.from : 0);
    const rng = seededNoise(7);
    const start = rng.next([plane]);
    const imageLatents = rng.next([plane]);
    const keepMask = Float32Array.from({ length: hw }, (_, k) => (k % 3 === 0 ? 1 : 0));
    const maskedImage = imageLatents.map((v, k) => v * keepMask[k % hw]!);
    const initialNoise = start.slice();
    const stepNoise = seededNoise(11);

    // The GPU side's plan, as gpu/loop.ts makes it.
    const params: ArrayBuffer[] = [];
    const draws: Float32Array[] = [];
    let previous: number | undefined;
    timesteps.forEach((t, i) => {
      const ls = gpu.linearStep(t, previous);
      previous = t;
      const noiseOffset = draws.length * plane;
      if (ls.drawsNoise) draws.push(stepNoise.next([plane]));
      const next = timesteps[i + 1];
      const n = next === undefined ? { alpha: 1, sigma: 0 } : gpu.noiseScales(next);
      params.push(packStep(ls, { guidance: c.guidance, noiseOffset, reset: inpaint ? { keepAlpha: n.alpha, keepSigma: n.sigma } : null }, shape));
    });
    const stride = shape.inChannels * hw;
    const sample = new Float32Array(batch * stride);
    for (let b = 0; b < batch; b++) {
      sample.set(start, b * stride);
      if (inpaint) {
        sample.set(maskedImage, b * stride + plane);
        sample.set(keepMask, b * stride + 2 * plane);
      }
    }
    const noise = new Float32Array(Math.max(1, draws.length * plane));
    draws.forEach((d, i) => noise.set(d, i * plane));
    const kept = inpaint ? Float32Array.from([...imageLatents, ...initialNoise, ...keepMask]) : new Float32Array(1);
    const state: KernelState = { shape, pred: new Float32Array(0), latents: start.slice(), sample, noise, kept };
    const kernel = await make(state, params);

    // The reference loop (decoder.ts's host loop), feeding both the same UNet output.
    const refNoise = seededNoise(11);
    let latents: Float32Array = start.slice();
    let worst = 0;
    try {
      for (let i = 0; i < timesteps.length; i++) {
        const t = timesteps[i]!;
        const refSample = new Float32Array(batch * stride);
        for (let b = 0; b < batch; b++) {
          refSample.set(latents, b * stride);
          if (inpaint) {
            refSample.set(maskedImage, b * stride + plane);
            refSample.set(keepMask, b * stride + 2 * plane);
          }
        }
        const pred = fakeUnet(refSample, shape, t);
        const eps = new Float32Array(plane);
        for (let k = 0; k < plane; k++) eps[k] = batch === 2 ? pred[k]! + c.guidance * (pred[shape.outChannels * hw + k]! - pred[k]!) : pred[k]!;
        const stepped = ref.step({ modelOutput: eps, t, sample: latents, noise: () => refNoise.next([plane]) });
        latents = stepped.prevSample;
        if (inpaint) {
          const next = timesteps[i + 1];
          const proper = next === undefined ? imageLatents : ref.addNoise(imageLatents, initialNoise, next);
          for (let k = 0; k < plane; k++) latents[k] = keepMask[k % hw]! * proper[k]! + (1 - keepMask[k % hw]!) * latents[k]!;
        }
        // The kernel steps on the same prediction (from the reference's sample, so errors do not feed the UNet).
        state.pred = pred;
        const got = await kernel.run(i);
        for (let k = 0; k < plane; k++) {
          worst = Math.max(worst, Math.abs(got.latents[k]! - latents[k]!), Math.abs(got.x0[k]! - stepped.predOriginalSample[k]!));
        }
        for (let b = 0; b < batch; b++) {
          for (let k = 0; k < stride; k++) {
            const want = k < plane ? got.latents[k]! : sample[b * stride + k]!;
            if (got.sample[b * stride + k] !== want) worst = Math.max(worst, Infinity);
          }
        }
        if (Number.isNaN(worst)) worst = Infinity;
        // Keep both on the reference's latents so that each step is compared alone.
        state.latents = latents.slice();
      }
    } finally {
      kernel.dispose();
    }
    errors[c.name] = worst;
  }
  return errors;
}
