/**
 * The denoising loop's per-step work behind one seam: on the host (the TypeScript schedulers, the reference; the
 * wasm path, and WebGPU with the GPU loop off) or on the GPU (workers/gpu/loop.ts, the native WebGPU EP).
 */
import type { Scheduler } from '../schedulers/types.ts';
import type { NoiseSource } from '../tensor/noise.ts';
import { f32, type F32Tensor } from '../tensor/tensor.ts';
import type { GpuTensor, StageRunner } from '../runtime/types.ts';
import { checkpoint, type PipelineContext } from './context.ts';
import type { ProgressStage } from '../protocol.ts';
import { runUnet, type TextEncoding, type UnetStage } from '../stages/index.ts';
import { PreviewPacer, type PreviewSink } from './preview.ts';

/** Inpainting's constant UNet channels and, for Kandinsky 2.2, what the kept region is reset to. */
export interface InpaintChannels {
  /** Encoded image × keep-mask [C,h,w]. */
  readonly maskedImage: Float32Array;
  /** Keep-mask on the latent grid [h,w] (1 = keep). */
  readonly keepMask: Float32Array;
  /** Kandinsky 2.2: the image latents and the initial noise of the reset (2.1 never resets: null). */
  readonly reset: { readonly imageLatents: Float32Array; readonly initialNoise: Float32Array } | null;
}

/** Everything one loop needs, fixed for the run. */
export interface LoopSpec {
  readonly stage: UnetStage;
  readonly scheduler: Scheduler;
  /** The timesteps to run (img2img: the kept ones). */
  readonly timesteps: readonly number[];
  readonly guidance: number;
  readonly channels: number;
  readonly h: number;
  readonly w: number;
  /** Latents before the first step [C,h,w]. */
  readonly start: Float32Array;
  /** [batch, D]: [negative, positive] under guidance. */
  readonly imageEmbeds: F32Tensor;
  /** Kandinsky 2.1's decoder text, same batch order. */
  readonly text: TextEncoding | undefined;
  readonly inpaint: InpaintChannels | null;
  /** The run's noise source: steps that draw noise take it from here, in the reference's order. */
  readonly noise: NoiseSource;
}

/** One denoising loop in progress. */
export interface DenoiseLoop {
  /** Step i of spec.timesteps: UNet, guidance, scheduler update and the inpainting reset. */
  step(i: number): Promise<void>;
  /** The current latents [C,h,w] on the host (a read-back on the GPU). */
  latents(): Promise<Float32Array>;
  /** The last step's x̂_0 [C,h,w] (the scheduler's predOriginalSample; a read-back on the GPU): what previews show. */
  estimate(): Promise<Float32Array>;
  /** GPU loops: the latents in the loop's own GPU buffer, valid until dispose() (the MoVQ decode reads them there). */
  gpuLatents?(): GpuTensor;
  /** GPU loops: the last step's x̂_0 in the step kernel's buffer, valid until the next step (previews decode it there). */
  gpuEstimate?(): GpuTensor;
  /** Free what the loop holds (GPU buffers). */
  dispose(): void;
}

/** The UNet input [batch, inChannels, h, w]: the latents in every batch entry, then inpainting's constant channels. */
export function unetSample(latents: Float32Array, batch: number, inpaint: InpaintChannels | null): Float32Array {
  const plane = latents.length;
  const hw = inpaint ? inpaint.keepMask.length : 0;
  const stride = inpaint ? 2 * plane + hw : plane;
  const sample = new Float32Array(batch * stride);
  for (let b = 0; b < batch; b++) {
    const base = b * stride;
    sample.set(latents, base);
    if (inpaint) {
      sample.set(inpaint.maskedImage, base + plane);
      sample.set(inpaint.keepMask, base + 2 * plane);
    }
  }
  return sample;
}

/** The loop on the host: host tensors in and out of every UNet run, the TypeScript scheduler's step. */
export function hostLoop(runner: StageRunner, s: LoopSpec): DenoiseLoop {
  const { channels: C, h, w, scheduler: sched, inpaint } = s;
  const plane = C * h * w;
  const batch = s.imageEmbeds.dims[0] ?? 1;
  const cfg = batch === 2;
  const inChannels = inpaint ? 2 * C + 1 : C;
  let latents = s.start;
  let estimate: Float32Array | null = null;
  return {
    async step(i) {
      const t = s.timesteps[i]!;
      const sample = unetSample(latents, batch, inpaint);
      const pred = await runUnet(runner, s.stage, {
        sample: f32(sample, [batch, inChannels, h, w]), timestep: t, imageEmbeds: s.imageEmbeds, ...(s.text === undefined ? {} : { text: s.text }),
      });
      const outC = pred.dims[1] ?? 2 * C;
      // Guidance on the epsilon channels only; the learned-variance channels are dropped
      // because the schedulers use fixed variance (diffusers splits them off the same way).
      const eps = new Float32Array(plane);
      if (cfg) {
        const condBase = outC * h * w;
        for (let k = 0; k < plane; k++) {
          const u = pred.data[k]!;
          eps[k] = u + s.guidance * (pred.data[condBase + k]! - u);
        }
      } else {
        eps.set(pred.data.subarray(0, plane));
      }
      const stepped = sched.step({ modelOutput: eps, t, sample: latents, noise: () => s.noise.next([1, C, h, w]) });
      latents = stepped.prevSample;
      estimate = stepped.predOriginalSample;
      const reset = inpaint?.reset;
      if (inpaint && reset) {
        // Reset the kept region to the image latents noised to the next timestep (plain after the last).
        const next = s.timesteps[i + 1];
        const proper = next === undefined ? reset.imageLatents : sched.addNoise(reset.imageLatents, reset.initialNoise, next);
        const keep = inpaint.keepMask;
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < h * w; k++) {
            const m = keep[k]!;
            const idx = c * h * w + k;
            latents[idx] = m * proper[idx]! + (1 - m) * latents[idx]!;
          }
        }
      }
    },
    async latents() {
      return latents;
    },
    async estimate() {
      if (!estimate) throw new RangeError('hostLoop.estimate: no step has run');
      return estimate;
    },
    dispose() {},
  };
}

/** A loop's latents after one of its steps (parity records). */
export interface RecordedStep {
  readonly t: number;
  readonly latents: Float32Array;
}

/** A loop's previews: when (the sink's pacing) and how the loop's x̂_0 becomes an image (the MoVQ decode). */
export interface LoopPreview {
  readonly sink: PreviewSink;
  render(loop: DenoiseLoop): Promise<F32Tensor>;
}

/**
 * Run every step of `loop` with a progress checkpoint (where cancel lands) before each and after the last; with
 * `record`, the latents after every step (on a GPU loop a read-back each, for the comparison only); with `preview`,
 * a decoded x̂_0 after the steps its pacing picks.
 */
export async function runSteps(
  ctx: PipelineContext, stage: ProgressStage, loop: DenoiseLoop, timesteps: readonly number[], record: boolean, preview?: LoopPreview,
): Promise<RecordedStep[]> {
  const recorded: RecordedStep[] = [];
  const total = timesteps.length;
  const pacer = preview ? new PreviewPacer(preview.sink, performance.now()) : null;
  for (let i = 0; i < total; i++) {
    checkpoint(ctx, stage, i, total);
    await loop.step(i);
    if (record) recorded.push({ t: timesteps[i]!, latents: (await loop.latents()).slice() });
    if (preview && pacer?.due(i, total, performance.now())) {
      const began = performance.now();
      await preview.sink.show(await preview.render(loop), i + 1, total);
      pacer.took(performance.now() - began);
    }
  }
  checkpoint(ctx, stage, timesteps.length, timesteps.length);
  return recorded;
}
