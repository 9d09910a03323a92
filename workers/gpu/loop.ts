/**
 * GPU-resident loops (issue 9 items 2 and 3) on the native WebGPU EP: the decoder's denoising loop and the prior's.
 * A loop binds its stage to the run's shapes (GpuStageRunner.bind: persistent input buffers and, where the runtime
 * captures graphs, every step replaying the first one's GPU commands). Per run, the constant inputs go up once (the
 * conditioning, every step's timestep and parameters, the noise drawn in the reference's order from the run's noise
 * source); per step the stage runs on its bound buffers and one dispatch (step-kernel.ts) does guidance, the
 * scheduler update and writes the next input. Only the final latents come back (and each step's, when the caller
 * asks for them: parity records).
 */
import { EngineError, ErrorCode } from '../errors.ts';
import type { DenoiseLoop, LoopSpec } from '../pipelines/denoise.ts';
import type { PriorLoopSpec } from '../pipelines/prior.ts';
import { unetSample } from '../pipelines/denoise.ts';
import type { StageInputs } from '../runtime/stage-io.ts';
import type { GpuStageRunner, GpuTensor, StageName } from '../runtime/types.ts';
import type { LinearScheduler } from '../schedulers/types.ts';
import type { NoiseSource } from '../tensor/noise.ts';
import { f32, i64, type HostTensor } from '../tensor/tensor.ts';
import { floatBuffer, packStep, readFloats, StepKernel, type StepBuffers, type StepShape } from './step-kernel.ts';

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

/**
 * Per looped stage, the inputs onnxruntime 1.30 reads on the CPU (the sessions' placement logs): the prior's timestep
 * (diffusers' `timestep * ones(batch)`, whose ones come from a shape) and its int64 mask (a Cast). Bound runs take
 * them from the host; in GPU buffers they would be read back every step.
 */
export const HOST_INPUTS = { prior: ['timestep', 'attention_mask'], unet: [], unet_inpaint: [] } as const satisfies Partial<Record<StageName, readonly StageInputs<StageName>[]>>;

/** One GPU loop: a stage bound to fixed shapes, stepped by the step kernel. */
export interface StepLoopSpec {
  readonly stage: StageName;
  /** Every input's shape. */
  readonly dims: Readonly<Record<string, readonly number[]>>;
  /** Inputs that stay the same over the run (conditioning), written once. */
  readonly constants: Readonly<Record<string, Float32Array | BigInt64Array>>;
  /**
   * Inputs onnxruntime reads on the CPU, fed from the host on every run rather than bound in GPU buffers (each would
   * be read back every step): constants among them and the timestep (then taken from the table per step).
   */
  readonly hostInputs?: readonly StageInputs<StageName>[];
  /** The input the kernel writes the next sample into (its first content: `firstSample`), the timestep input, the output it reads. */
  readonly sampleInput: string;
  readonly firstSample: Float32Array;
  readonly timestepInput: string;
  readonly output: string;
  readonly shape: StepShape;
  /** Latents before the first step [plane], and their shape (what gpuLatents() reports). */
  readonly start: Float32Array;
  readonly latentDims: readonly number[];
  readonly timesteps: readonly number[];
  readonly scheduler: LinearScheduler;
  readonly guidance: number;
  /** Where steps that draw noise take it, in the reference's order, and the shape of one draw. */
  readonly noise: NoiseSource;
  readonly noiseDims: readonly number[];
  /** Kandinsky 2.2 inpainting: image latents, initial noise and keep-mask, for the reset after every step. */
  readonly reset: Float32Array | null;
}

/** Start a loop on the GPU: plans every step, uploads the run's constants, and returns the per-step driver. */
export async function stepLoop(gpu: GpuStageRunner, s: StepLoopSpec): Promise<DenoiseLoop> {
  const device = await gpu.device();
  const { shape, scheduler: sched } = s;

  // Every step's coefficients, in order; noise is drawn here, in the order the steps would draw it.
  const params: ArrayBuffer[] = [];
  const draws: Float32Array[] = [];
  let previous: number | undefined;
  s.timesteps.forEach((t, i) => {
    const ls = sched.linearStep(t, previous);
    previous = t;
    const noiseOffset = draws.length * shape.plane;
    if (ls.drawsNoise) draws.push(s.noise.next(s.noiseDims));
    const next = s.timesteps[i + 1];
    // Kandinsky 2.2 inpainting: the kept region becomes addNoise(image latents, initial noise, next t), plain after the last.
    const reset = s.reset ? (next === undefined ? { keepAlpha: 1, keepSigma: 0 } : scaled(sched.noiseScales(next))) : null;
    params.push(packStep(ls, { guidance: s.guidance, noiseOffset, reset }, shape));
  });

  const owned: GPUBuffer[] = [];
  const buffer = (label: string, data: Float32Array | number): GPUBuffer => {
    const b = floatBuffer(device, label, data);
    owned.push(b);
    return b;
  };
  try {
    const bound = await gpu.bind(s.stage, s.dims, s.hostInputs);
    const onHost = new Set<string>(bound.hostInputs);
    const input = (name: string): GPUBuffer => {
      const t = (bound.inputs as Readonly<Record<string, GpuTensor | undefined>>)[name];
      if (!t) throw new Error(`the bound ${s.stage} has no input "${name}"`);
      return t.buffer;
    };
    // The kernel writes float32 samples and copies float32 timesteps (SPEC §2's contract); a graph that takes
    // anything else does not match its manifest.
    for (const name of [s.sampleInput, s.timestepInput]) {
      const dtype = (bound.inputs as Readonly<Record<string, GpuTensor | undefined>>)[name]?.dtype ?? 'float32';
      if (dtype !== 'float32') {
        throw new EngineError(ErrorCode.StageMismatch, `The ${s.stage} graph takes ${name} as ${dtype}; the bundle format says float32. Re-export the bundle.`, {
          file: s.stage, expected: `${name}: float32`, actual: `${name}: ${dtype}`,
        });
      }
    }
    // The run's constants go into the bound inputs once; the first step's timestep too, the kernel copies the rest.
    const write = (target: GPUBuffer, data: Float32Array | BigInt64Array): void => device.queue.writeBuffer(target, 0, data);
    const sample = input(s.sampleInput);
    write(sample, s.firstSample);
    const hostFeeds: Record<string, HostTensor> = {};
    for (const [name, data] of Object.entries(s.constants)) {
      const dims = s.dims[name] ?? [data.length];
      if (onHost.has(name)) hostFeeds[name] = data instanceof BigInt64Array ? i64(data, dims) : f32(data, dims);
      else write(input(name), data);
    }
    // One timestep per entry of the stage's batch (the prior with a negative prompt has 4 where the kernel sees 2 halves).
    const batch = s.dims[s.timestepInput]?.[0] ?? shape.batch;
    const table = new Float32Array(s.timesteps.length * batch);
    s.timesteps.forEach((t, i) => table.fill(t, i * batch, (i + 1) * batch));
    // On the GPU the first step's timestep goes in now and the kernel copies each next one; from the host, each run takes its own.
    const timestepOnHost = onHost.has(s.timestepInput);
    const feedsOf = (i: number): Readonly<Record<string, HostTensor>> =>
      timestepOnHost ? { ...hostFeeds, [s.timestepInput]: f32(table.slice(i * batch, (i + 1) * batch), [batch]) } : hostFeeds;
    let timesteps: StepBuffers['timesteps'];
    if (!timestepOnHost) {
      const timestep = input(s.timestepInput);
      write(timestep, table.subarray(0, batch));
      timesteps = { input: timestep, table: buffer('timesteps', table), bytes: 4 * batch, steps: s.timesteps.length };
    }
    const latents = buffer('latents', s.start);
    const rest = {
      latents, sample,
      noise: buffer('step noise', concat(draws)),
      kept: buffer('inpaint reset', s.reset ?? 0),
      ...(timesteps ? { timesteps } : {}),
    };
    // The kernel reads the stage's output buffer, which is ORT's: made at the first run (and the same one every
    // run under graph capture).
    let kernel: StepKernel | null = null;

    return {
      async step(i) {
        const pred = (await bound.run(feedsOf(i)) as Readonly<Record<string, GpuTensor | undefined>>)[s.output]?.buffer;
        if (!pred) throw new Error(`the bound ${s.stage} returned no "${s.output}"`);
        await gpu.guard(async () => {
          if (kernel) kernel.usePred(pred);
          else kernel = new StepKernel(device, shape, { pred, ...rest }, params);
          kernel.run(i);
        });
      },
      latents: () => gpu.guard(() => readFloats(device, latents, shape.plane)),
      estimate: () => gpu.guard(async () => {
        if (!kernel) throw new RangeError('stepLoop.estimate: no step has run');
        return readFloats(device, kernel.history, shape.plane);
      }),
      gpuLatents: () => ({ buffer: latents, dims: s.latentDims }),
      gpuEstimate: () => {
        if (!kernel) throw new RangeError('stepLoop.gpuEstimate: no step has run');
        return { buffer: kernel.history, dims: s.latentDims };
      },
      dispose() {
        kernel?.destroy();
        for (const b of owned) b.destroy();
      },
    };
  } catch (e) {
    // Setup failed part way: free what it made (a loop that started frees its buffers in dispose()).
    for (const b of owned) b.destroy();
    throw e;
  }
}

/** The decoder's denoising loop on the GPU: the UNet (2.1: with its text) and the inpainting reset. */
export function gpuLoop(gpu: GpuStageRunner, s: LoopSpec & { readonly scheduler: LinearScheduler }): Promise<DenoiseLoop> {
  const { channels: C, h, w, inpaint } = s;
  const hw = h * w;
  const batch = s.imageEmbeds.dims[0] ?? 1;
  const shape: StepShape = { plane: C * hw, hw, batch, inChannels: inpaint ? 2 * C + 1 : C, outChannels: 2 * C };
  const dims: Record<string, readonly number[]> = { sample: [batch, shape.inChannels, h, w], timestep: [batch], image_embeds: s.imageEmbeds.dims };
  const constants: Record<string, Float32Array> = { image_embeds: s.imageEmbeds.data };
  if (s.text) {
    dims.encoder_hidden_states = s.text.hiddenStates.dims;
    dims.text_embeds = s.text.textEmbeds.dims;
    constants.encoder_hidden_states = s.text.hiddenStates.data;
    constants.text_embeds = s.text.textEmbeds.data;
  }
  const reset = inpaint?.reset;
  return stepLoop(gpu, {
    stage: s.stage, dims, constants, sampleInput: 'sample', firstSample: unetSample(s.start, batch, inpaint), timestepInput: 'timestep',
    output: 'out_sample', shape, start: s.start, latentDims: [1, C, h, w], timesteps: s.timesteps, scheduler: s.scheduler, guidance: s.guidance,
    noise: s.noise, noiseDims: [1, C, h, w], reset: reset && inpaint ? concat([reset.imageLatents, reset.initialNoise, inpaint.keepMask]) : null,
  });
}

/**
 * The prior's loop on the GPU (UnCLIP): the prior's hidden_states [batch, D] hold the B latents once per guidance
 * half, its prediction [batch, D] is the unconditional half first, so the kernel sees one plane of B × D numbers.
 */
export function priorGpuLoop(gpu: GpuStageRunner, s: PriorLoopSpec & { readonly scheduler: LinearScheduler }): Promise<DenoiseLoop> {
  const { B, D, batch, text } = s;
  const plane = B * D;
  const shape: StepShape = { plane, hw: plane, batch: batch === 2 * B ? 2 : 1, inChannels: 1, outChannels: 1 };
  const L = text.hiddenStates.dims[1] ?? 0;
  const firstSample = new Float32Array(batch * D);
  for (let b = 0; b < shape.batch; b++) firstSample.set(s.start, b * plane);
  return stepLoop(gpu, {
    stage: 'prior',
    dims: { hidden_states: [batch, D], timestep: [batch], proj_embedding: text.textEmbeds.dims, encoder_hidden_states: text.hiddenStates.dims, attention_mask: [batch, L] },
    constants: { proj_embedding: text.textEmbeds.data, encoder_hidden_states: text.hiddenStates.data, attention_mask: text.attentionMask },
    hostInputs: HOST_INPUTS.prior,
    sampleInput: 'hidden_states', firstSample, timestepInput: 'timestep', output: 'predicted_image_embedding', shape,
    start: s.start, latentDims: [B, D], timesteps: s.timesteps, scheduler: s.scheduler, guidance: s.guidance, noise: s.noise, noiseDims: [B, D], reset: null,
  });
}

/** noiseScales as the kernel's reset coefficients. */
function scaled(n: { readonly alpha: number; readonly sigma: number }): { keepAlpha: number; keepSigma: number } {
  return { keepAlpha: n.alpha, keepSigma: n.sigma };
}
