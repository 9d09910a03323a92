/**
 * The diffusion prior: text → CLIP image embedding (Kandinsky 2.2 / diffusers
 * KandinskyV22PriorPipeline.__call__). Classifier-free guidance runs one batch,
 * unconditional half first.
 */
import { isLinearScheduler, type Scheduler } from '../schedulers/types.ts';
import type { StageRunner } from '../runtime/types.ts';
import type { NoiseSource } from '../tensor/noise.ts';
import { runPriorStage } from '../stages/index.ts';
import { priorGpuLoop } from '../gpu/loop.ts';
import type { PipelineContext } from './context.ts';
import { runSteps, type DenoiseLoop, type RecordedStep } from './denoise.ts';
import { encodeText, zeroImageEmbedding, type TextConditioning } from './encode.ts';

export interface PriorParams {
  readonly prompt: string;
  /** Negative prior prompt; null = none (unconditional text is "" and the negative embedding is the zero-image one). */
  readonly negativePrompt: string | null;
  readonly guidance: number;
  readonly steps: number;
  readonly scheduler: Scheduler;
  /** Keep every step's latents in the result (parity runner; on the GPU loop a read-back per step). */
  readonly record?: boolean;
}

export interface PriorResult {
  /** Image embedding for the prompt [D]. */
  readonly imageEmbeds: Float32Array;
  /** Negative image embedding [D]: the zero-image embedding, or the prior's output for the negative prompt. */
  readonly negativeImageEmbeds: Float32Array;
  /** Normalised prior latents after every step, when asked for (`record`, parity checks); else empty. */
  readonly steps: readonly RecordedStep[];
}

/** Everything one prior loop needs, fixed for the run. */
export interface PriorLoopSpec {
  /** Prompts in the batch (1, or 2 with a negative prompt), and the prior's batch (2B under guidance). */
  readonly B: number;
  readonly batch: number;
  readonly D: number;
  readonly timesteps: readonly number[];
  readonly guidance: number;
  /** Latents before the first step [B × D]. */
  readonly start: Float32Array;
  /** The encoded texts, unconditional half first under guidance. */
  readonly text: TextConditioning;
  /** Steps that draw noise take it from here, [B, D] a draw, in the reference's order. */
  readonly noise: NoiseSource;
}

/** The prior's loop on the host: host tensors in and out of every prior run, the TypeScript scheduler's step. */
export function hostPriorLoop(runner: StageRunner, s: PriorLoopSpec, sched: Scheduler): DenoiseLoop {
  const { B, D } = s;
  const cfg = s.batch === 2 * B;
  let latents = s.start;
  let estimate: Float32Array | null = null;
  return {
    async step(i) {
      const t = s.timesteps[i]!;
      const input = new Float32Array(s.batch * D);
      input.set(latents, 0);
      if (cfg) input.set(latents, B * D);
      const pred = (await runPriorStage(runner, {
        latents: input, timestep: t, textEmbeds: s.text.textEmbeds, hiddenStates: s.text.hiddenStates, attentionMask: s.text.attentionMask,
      })).data;
      let guided: Float32Array;
      if (cfg) {
        guided = new Float32Array(B * D);
        for (let k = 0; k < B * D; k++) {
          const u = pred[k]!;
          guided[k] = u + s.guidance * (pred[B * D + k]! - u);
        }
      } else {
        guided = pred.slice(0, B * D);
      }
      const stepped = sched.step({ modelOutput: guided, t, sample: latents, noise: () => s.noise.next([B, D]) });
      latents = stepped.prevSample;
      estimate = stepped.predOriginalSample;
    },
    async latents() {
      return latents;
    },
    async estimate() {
      if (!estimate) throw new RangeError('hostPriorLoop.estimate: no step has run');
      return estimate;
    },
    dispose() {},
  };
}

/** Run the prior (diffusers semantics: a negative prompt joins the batch and its result is the negative embedding). */
export async function runPrior(ctx: PipelineContext, p: PriorParams): Promise<PriorResult> {
  const D = ctx.model.embeddingDim;
  const prompts = p.negativePrompt === null ? [p.prompt] : [p.prompt, p.negativePrompt];
  const B = prompts.length;
  const cfg = p.guidance > 1;
  // Unconditional texts: "" per prompt, or the negative prompt for every prompt.
  const uncond = prompts.map(() => p.negativePrompt ?? '');
  const text = await encodeText(ctx, cfg ? [...uncond, ...prompts] : prompts);
  const batch = cfg ? 2 * B : B;

  const sched = p.scheduler;
  sched.setTimesteps(p.steps);
  const timesteps = sched.timesteps;
  let start = ctx.noise.next([B, D]);
  if (sched.initNoiseSigma !== 1) start = start.map((v) => v * sched.initNoiseSigma);

  const spec: PriorLoopSpec = { B, batch, D, timesteps, guidance: p.guidance, start, text, noise: ctx.noise };
  // The GPU-resident loop where the runtime offers it (native WebGPU EP) and the scheduler's step is linear per
  // element (UnCLIP is), else the host loop (wasm; the reference).
  const gpu = ctx.runner.gpuRunner?.('prior') ?? null;
  const loop = gpu !== null && isLinearScheduler(sched) ? await priorGpuLoop(gpu, { ...spec, scheduler: sched }) : hostPriorLoop(ctx.runner, spec, sched);
  let recorded: RecordedStep[];
  let latents: Float32Array;
  try {
    recorded = await runSteps(ctx, 'prior', loop, timesteps, p.record === true);
    latents = await loop.latents();
  } finally {
    loop.dispose();
  }

  // post_process_latents: back from the prior's normalised space.
  const embeds = new Float32Array(B * D);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) embeds[b * D + d] = latents[b * D + d]! * ctx.model.clipStd[d]! + ctx.model.clipMean[d]!;
  }
  const imageEmbeds = embeds.slice(0, D);
  const negativeImageEmbeds = p.negativePrompt === null ? await negativeEmbedding(ctx) : embeds.slice(D, 2 * D);
  return { imageEmbeds, negativeImageEmbeds, steps: recorded };
}

/**
 * The default negative image embedding: the zero-image embedding (SPEC §3). A bundle without an
 * image encoder cannot compute it; then the negative is a zero vector, with a warning.
 */
export async function negativeEmbedding(ctx: PipelineContext): Promise<Float32Array> {
  if (ctx.runner.has('image_encoder')) return zeroImageEmbedding(ctx);
  const note = 'This model has no image encoder: the negative image embedding is a zero vector (results differ from the reference).';
  if (!ctx.warnings.includes(note)) ctx.warnings.push(note);
  return new Float32Array(ctx.model.embeddingDim);
}
