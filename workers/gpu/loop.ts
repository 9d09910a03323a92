/**
 * The GPU-resident denoising loop (issue 9 item 2) on the native WebGPU EP. Per run, the constant inputs go up once
 * (image embeddings, 2.1's text states, inpainting's channels, every step's timestep and parameters, DDPM's noise
 * drawn in the reference's order from the run's noise source); per step the UNet reads its input from and writes its
 * output to GPU buffers, and one dispatch (step-kernel.ts) does guidance, the scheduler update and the next input.
 * Only the final latents come back (and each step's, when the caller asks for them: parity records, previews).
 */
import type { DenoiseLoop, LoopSpec } from '../pipelines/denoise.ts';
import { unetSample } from '../pipelines/denoise.ts';
import type { GpuStageRunner, GpuTensor } from '../runtime/types.ts';
import type { LinearScheduler } from '../schedulers/types.ts';
import { floatBuffer, packStep, readFloats, StepKernel, type StepShape } from './step-kernel.ts';

/** Concatenate arrays (the per-run uploads that hold several tensors). */
function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Start a loop on the GPU: plans every step, uploads the run's constants, and returns the per-step driver. */
export async function gpuLoop(gpu: GpuStageRunner, s: LoopSpec & { readonly scheduler: LinearScheduler }): Promise<DenoiseLoop> {
  const device = await gpu.device();
  const { channels: C, h, w, inpaint, scheduler: sched } = s;
  const hw = h * w;
  const plane = C * hw;
  const batch = s.imageEmbeds.dims[0] ?? 1;
  const shape: StepShape = { plane, hw, batch, inChannels: inpaint ? 2 * C + 1 : C, outChannels: 2 * C };

  // Every step's coefficients, in order; DDPM's noise is drawn here, in the order its steps would draw it.
  const params: ArrayBuffer[] = [];
  const draws: Float32Array[] = [];
  let previous: number | undefined;
  s.timesteps.forEach((t, i) => {
    const ls = sched.linearStep(t, previous);
    previous = t;
    const noiseOffset = draws.length * plane;
    if (ls.drawsNoise) draws.push(s.noise.next([1, C, h, w]));
    const next = s.timesteps[i + 1];
    // Kandinsky 2.2 inpainting: the kept region becomes addNoise(image latents, initial noise, next t), plain after the last.
    const reset = inpaint?.reset ? (next === undefined ? { keepAlpha: 1, keepSigma: 0 } : scaled(sched.noiseScales(next))) : null;
    params.push(packStep(ls, { guidance: s.guidance, noiseOffset, reset }, shape));
  });

  const owned: GPUBuffer[] = [];
  const buffer = (label: string, data: Float32Array | number): GPUBuffer => {
    const b = floatBuffer(device, label, data);
    owned.push(b);
    return b;
  };
  try {
    const tensor = (label: string, data: Float32Array, dims: readonly number[]): GpuTensor => ({ buffer: buffer(label, data), dims });
    const sampleDims = [batch, shape.inChannels, h, w];
    const sample = buffer('unet sample', unetSample(s.start, batch, inpaint));
    const pred = buffer('unet out_sample', batch * shape.outChannels * hw);
    const latents = buffer('latents', s.start);
    const reset = inpaint?.reset;
    const kernel = new StepKernel(device, shape, {
      pred, latents, sample,
      noise: buffer('step noise', concat(draws)),
      kept: buffer('inpaint reset', reset && inpaint ? concat([reset.imageLatents, reset.initialNoise, inpaint.keepMask]) : 0),
    }, params);
    const constants: Record<string, GpuTensor> = { image_embeds: tensor('image_embeds', s.imageEmbeds.data, s.imageEmbeds.dims) };
    if (s.text) {
      constants.encoder_hidden_states = tensor('encoder_hidden_states', s.text.hiddenStates.data, s.text.hiddenStates.dims);
      constants.text_embeds = tensor('text_embeds', s.text.textEmbeds.data, s.text.textEmbeds.dims);
    }
    // One tiny timestep buffer per step, all written now: no per-step upload.
    const timesteps = s.timesteps.map((t) => tensor('timestep', new Float32Array(batch).fill(t), [batch]));

    return {
      async step(i) {
        await gpu.runOnGpu(s.stage, { ...constants, sample: { buffer: sample, dims: sampleDims }, timestep: timesteps[i]! }, {
          out_sample: { buffer: pred, dims: [batch, shape.outChannels, h, w] },
        });
        await gpu.guard(async () => kernel.run(i));
      },
      latents: () => gpu.guard(() => readFloats(device, latents, plane)),
      dispose() {
        kernel.destroy();
        for (const b of owned) b.destroy();
      },
    };
  } catch (e) {
    // Setup failed part way: free what it made (a loop that started frees its buffers in dispose()).
    for (const b of owned) b.destroy();
    throw e;
  }
}

/** noiseScales as the kernel's reset coefficients. */
function scaled(n: { readonly alpha: number; readonly sigma: number }): { keepAlpha: number; keepSigma: number } {
  return { keepAlpha: n.alpha, keepSigma: n.sigma };
}
