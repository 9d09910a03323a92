/**
 * The latent diffusion decoder (diffusers KandinskyV22Pipeline / Img2Img / Inpaint, and Kandinsky 2.1's
 * KandinskyPipeline / Img2Img / Inpaint): a UNet conditioned on image embeddings (2.1: and multilingual text)
 * denoises 4-channel latents, MoVQ turns them into pixels. One loop for both families; what differs is
 * DecoderConditioning (docs/kandinsky-2-1.md "Pipeline semantics").
 */
import { f32, type F32Tensor } from '../tensor/tensor.ts';
import { isLinearScheduler, type Scheduler } from '../schedulers/types.ts';
import { addNoiseAt, linspaceF32, noiseTables } from '../schedulers/common.ts';
import { EngineError, ErrorCode } from '../errors.ts';
import { runMovqDecoder, runMovqDecoderOnGpu, runMovqEncoder, type TextEncoding } from '../stages/index.ts';
import { gpuLoop } from '../gpu/loop.ts';
import { hostLoop, runSteps, type DenoiseLoop, type InpaintChannels, type LoopPreview, type LoopSpec, type RecordedStep } from './denoise.ts';
import { checkpoint, requireStage, type PipelineContext } from './context.ts';
import { encodeDecoderText } from './encode.ts';

/** Round a requested side up to a multiple of scale² (64) and return the latent side (diffusers downscale_height_and_width). */
export function latentSide(side: number, scaleFactor: number): number {
  const unit = scaleFactor * scaleFactor;
  return Math.ceil(side / unit) * scaleFactor;
}

/** Start from pure noise (text-to-image). */
export interface NoiseStart { readonly kind: 'noise' }
/** Start from an encoded image, noised to the first kept timestep (image-to-image). */
export interface ImageStart { readonly kind: 'image'; readonly imageLatents: Float32Array; readonly strength: number }
/** Inpainting: keep-mask on the latent grid (1 = keep) and the encoded image. */
export interface InpaintStart { readonly kind: 'inpaint'; readonly imageLatents: Float32Array; readonly keepMask: Float32Array }

/**
 * What a family's decoder is conditioned on, and with it the family's start and loop rules:
 * - kandinsky-2.2: image embeddings only; img2img noises with the scheduler's add_noise; inpainting resets the
 *   kept region after every step.
 * - kandinsky-2.1: also the multilingual text (batch [negative, prompt] under guidance, else [prompt]); img2img
 *   noises with the pipeline's own schedule (kandinsky21AddNoise); inpainting never resets the kept region.
 */
export type DecoderConditioning =
  | { readonly family: 'kandinsky-2.2' }
  | { readonly family: 'kandinsky-2.1'; readonly text: TextEncoding };

/** Kandinsky 2.2's conditioning (image embeddings only). */
export const IMAGE_ONLY: DecoderConditioning = { family: 'kandinsky-2.2' };

export interface DecoderParams {
  /** The family's conditioning; default Kandinsky 2.2's. */
  readonly conditioning?: DecoderConditioning;
  readonly imageEmbeds: Float32Array;
  readonly negativeImageEmbeds: Float32Array;
  /** Latent grid size. */
  readonly latentH: number;
  readonly latentW: number;
  readonly guidance: number;
  readonly steps: number;
  readonly scheduler: Scheduler;
  readonly start: NoiseStart | ImageStart | InpaintStart;
  /** Record latents after every step (parity runner). */
  readonly record?: boolean;
  /** Also MoVQ-decode the final latents (on the GPU loop: from its buffer, so the image is the loop's one read-back). */
  readonly decode?: boolean;
}

export interface DecoderResult {
  /** The final latents [1,C,h,w]; null when they were decoded on the GPU and never came to the host (decode without record). */
  readonly latents: Float32Array | null;
  /** The decoded image [1,3,H,W] in about [-1,1] when `decode` was asked, else null. */
  readonly image: F32Tensor | null;
  readonly timesteps: readonly number[];
  /** Kandinsky 2.1 img2img: the training timestep the start latents were noised to (parity checks). */
  readonly latentTimestep?: number;
  readonly steps: readonly RecordedStep[];
}

/** The timesteps img2img keeps for a strength (diffusers get_timesteps: the last int(n * strength)). */
export function keptTimesteps(timesteps: readonly number[], strength: number): readonly number[] {
  const n = timesteps.length;
  const init = Math.min(Math.floor(n * strength), n);
  return timesteps.slice(Math.max(n - init, 0));
}

/**
 * The decoder conditioning of the loaded model's family: Kandinsky 2.2 needs nothing more than the image
 * embeddings; 2.1 encodes the decoder prompt and the negative prompt (docs/kandinsky-2-1.md "Decoder text").
 */
export async function decoderConditioning(ctx: PipelineContext, prompt: string, negativePrompt: string, guidance: number): Promise<DecoderConditioning> {
  switch (ctx.model.family) {
    case 'kandinsky-2.2':
      return IMAGE_ONLY;
    case 'kandinsky-2.1':
      return { family: 'kandinsky-2.1', text: await encodeDecoderText(ctx, prompt, negativePrompt, guidance > 1) };
  }
}

/** Training timesteps of Kandinsky 2.1's own img2img noise table (its schedulers' num_train_timesteps). */
export const KANDINSKY21_TRAIN_TIMESTEPS = 1000;

let kandinsky21Cumprod: Float32Array | null = null;

/**
 * The timestep Kandinsky 2.1's img2img noises its start latents to: int(num_train_timesteps × strength) − 2
 * (diffusers KandinskyImg2ImgPipeline.__call__, `latent_timestep`); −1 and −2 index from the end, as torch does.
 */
export function kandinsky21LatentTimestep(strength: number): number {
  const t = Math.trunc(KANDINSKY21_TRAIN_TIMESTEPS * strength) - 2;
  return t < 0 ? t + KANDINSKY21_TRAIN_TIMESTEPS : t;
}

/**
 * Kandinsky 2.1 img2img's own forward diffusion (diffusers KandinskyImg2ImgPipeline.add_noise): betas
 * torch.linspace(0.0001, 0.02, 1000) in float32, ᾱ = cumprod(1 − β), then sqrt(ᾱ_t)·x + sqrt(1 − ᾱ_t)·noise,
 * whatever scheduler the loop runs.
 */
export function kandinsky21AddNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
  kandinsky21Cumprod ??= noiseTables(linspaceF32(0.0001, 0.02, KANDINSKY21_TRAIN_TIMESTEPS)).alphasCumprod;
  return addNoiseAt(kandinsky21Cumprod, original, noise, t, 'KandinskyImg2ImgPipeline.add_noise');
}

/** Run the denoising loop; returns the final latents [1,C,h,w]. */
export async function runDecoder(ctx: PipelineContext, p: DecoderParams): Promise<DecoderResult> {
  const C = ctx.model.latentChannels;
  const D = ctx.model.embeddingDim;
  const { latentH: h, latentW: w } = p;
  const plane = C * h * w;
  const cfg = p.guidance > 1;
  const batch = cfg ? 2 : 1;
  const inpaint = p.start.kind === 'inpaint';
  const stage = inpaint ? 'unet_inpaint' : 'unet';
  const conditioning = p.conditioning ?? IMAGE_ONLY;
  const text = conditioning.family === 'kandinsky-2.1' ? conditioning.text : undefined;
  if (text !== undefined && text.textEmbeds.dims[0] !== batch) {
    throw new RangeError(`runDecoder: the decoder text has batch ${text.textEmbeds.dims[0]} but guidance ${p.guidance} needs ${batch}`);
  }
  requireStage(ctx, stage, inpaint ? 'inpainting' : 'image generation');

  const sched = p.scheduler;
  sched.setTimesteps(p.steps);
  let timesteps = sched.timesteps;
  let latents: Float32Array;
  let latentTimestep: number | undefined;
  switch (p.start.kind) {
    case 'noise':
    case 'inpaint': {
      latents = ctx.noise.next([1, C, h, w]);
      if (sched.initNoiseSigma !== 1) latents = latents.map((v) => v * sched.initNoiseSigma);
      break;
    }
    case 'image': {
      timesteps = keptTimesteps(timesteps, p.start.strength);
      if (timesteps.length === 0) {
        throw new EngineError(ErrorCode.BadRequest, `strength ${p.start.strength} with ${p.steps} steps keeps no denoising step; raise strength or steps.`);
      }
      const noise = ctx.noise.next([1, C, h, w]);
      switch (conditioning.family) {
        case 'kandinsky-2.2':
          latents = sched.addNoise(p.start.imageLatents, noise, timesteps[0]!);
          break;
        case 'kandinsky-2.1': {
          // KandinskyImg2ImgPipeline.prepare_latents: × init_noise_sigma, then the pipeline's own add_noise.
          const sigma = sched.initNoiseSigma;
          const scaled = sigma === 1 ? p.start.imageLatents : p.start.imageLatents.map((v) => v * sigma);
          latentTimestep = kandinsky21LatentTimestep(p.start.strength);
          latents = kandinsky21AddNoise(scaled, noise, latentTimestep);
          break;
        }
      }
      break;
    }
  }
  // Kandinsky 2.2 inpainting keeps the initial noise to re-noise the kept region after each step (2.1 does not reset it).
  const resetsKept = inpaint && conditioning.family === 'kandinsky-2.2';
  const initialNoise = resetsKept ? latents.slice() : null;

  // Image embeddings batch: [negative, positive] under guidance (unconditional first).
  const embeds = new Float32Array(batch * D);
  if (cfg) {
    embeds.set(p.negativeImageEmbeds, 0);
    embeds.set(p.imageEmbeds, D);
  } else {
    embeds.set(p.imageEmbeds, 0);
  }
  let inpaintChannels: InpaintChannels | null = null;
  if (p.start.kind === 'inpaint') {
    const { imageLatents, keepMask } = p.start;
    const maskedImage = new Float32Array(plane);
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < h * w; k++) maskedImage[c * h * w + k] = imageLatents[c * h * w + k]! * keepMask[k]!;
    }
    inpaintChannels = { maskedImage, keepMask, reset: initialNoise ? { imageLatents, initialNoise } : null };
  }

  const spec: LoopSpec = {
    stage, scheduler: sched, timesteps, guidance: p.guidance, channels: C, h, w, start: latents,
    imageEmbeds: f32(embeds, [batch, D]), text, inpaint: inpaintChannels, noise: ctx.noise,
  };
  // The one seam: the GPU-resident loop where the runtime offers it (native WebGPU EP) and the scheduler's step
  // is linear per element (every decoder scheduler), else the host loop (wasm; the reference).
  const gpu = ctx.runner.gpuRunner?.(stage) ?? null;
  const loop = gpu !== null && isLinearScheduler(sched) ? await gpuLoop(gpu, { ...spec, scheduler: sched }) : hostLoop(ctx.runner, spec);
  let recorded: RecordedStep[];
  let final: Float32Array | null;
  let image: F32Tensor | null = null;
  try {
    recorded = await runSteps(ctx, 'unet', loop, timesteps, p.record === true, loopPreview(ctx, h, w));
    // The MoVQ decode reads the GPU loop's buffer where the runtime offers a GPU door for it too.
    const onGpu = p.decode ? loop.gpuLatents?.() : undefined;
    const movq = onGpu ? ctx.runner.gpuRunner?.('movq_decoder') ?? null : null;
    if (onGpu && movq) {
      // With a record the last step's latents are already on the host; otherwise they never come back.
      final = p.record ? recorded[recorded.length - 1]?.latents ?? await loop.latents() : null;
      checkpoint(ctx, 'movq_decoder', 0, 1);
      image = await runMovqDecoderOnGpu(movq, onGpu, ctx.model.scaleFactor);
    } else {
      final = await loop.latents();
      if (p.decode) image = await decodeLatents(ctx, final, h, w);
    }
  } finally {
    loop.dispose();
  }
  return { latents: final, image, timesteps, steps: recorded, ...(latentTimestep === undefined ? {} : { latentTimestep }) };
}

/**
 * The run's previews for this loop: x̂_0 through the MoVQ decoder, on the GPU from the step kernel's buffer where the
 * loop and the runtime offer it (no upload; the image is the one read-back), else on the host.
 */
function loopPreview(ctx: PipelineContext, h: number, w: number): LoopPreview | undefined {
  const sink = ctx.preview;
  if (!sink) return undefined;
  return {
    sink,
    async render(loop: DenoiseLoop) {
      const onGpu = loop.gpuEstimate?.();
      const movq = onGpu ? ctx.runner.gpuRunner?.('movq_decoder') ?? null : null;
      if (onGpu && movq) return runMovqDecoderOnGpu(movq, onGpu, ctx.model.scaleFactor);
      return runMovqDecoder(ctx.runner, f32(await loop.estimate(), [1, ctx.model.latentChannels, h, w]));
    },
  };
}

/** MoVQ-decode latents [1,C,h,w] to an image tensor [1,3,8h,8w] in about [-1,1]. */
export async function decodeLatents(ctx: PipelineContext, latents: Float32Array, h: number, w: number): Promise<F32Tensor> {
  checkpoint(ctx, 'movq_decoder', 0, 1);
  return runMovqDecoder(ctx.runner, f32(latents, [1, ctx.model.latentChannels, h, w]));
}

/** MoVQ-encode an image tensor [1,3,H,W] in [-1,1] to latents [1,C,H/8,W/8]. */
export async function encodeImageLatents(ctx: PipelineContext, image: F32Tensor): Promise<F32Tensor> {
  requireStage(ctx, 'movq_encoder', 'image-to-image or inpainting');
  checkpoint(ctx, 'movq_encoder', 0, 1);
  return runMovqEncoder(ctx.runner, image);
}

/** Decoded [-1,1] NCHW → [0,1] NHWC as the reference's output (clamp(x*0.5+0.5, 0, 1)). */
export function toUnitNhwc(image: F32Tensor): Float32Array {
  const [, c = 3, H = 0, W = 0] = image.dims;
  const out = new Float32Array(H * W * c);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let ch = 0; ch < c; ch++) {
        const v = image.data[ch * H * W + y * W + x]! * 0.5 + 0.5;
        out[(y * W + x) * c + ch] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}
