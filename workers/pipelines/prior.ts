/**
 * The diffusion prior: text → CLIP image embedding (Kandinsky 2.2 / diffusers
 * KandinskyV22PriorPipeline.__call__). Classifier-free guidance runs one batch,
 * unconditional half first.
 */
import type { Scheduler } from '../schedulers/types.ts';
import { runPriorStage } from '../stages/index.ts';
import { checkpoint, type PipelineContext } from './context.ts';
import { encodeText, zeroImageEmbedding } from './encode.ts';

export interface PriorParams {
  readonly prompt: string;
  /** Negative prior prompt; null = none (unconditional text is "" and the negative embedding is the zero-image one). */
  readonly negativePrompt: string | null;
  readonly guidance: number;
  readonly steps: number;
  readonly scheduler: Scheduler;
}

export interface PriorResult {
  /** Image embedding for the prompt [D]. */
  readonly imageEmbeds: Float32Array;
  /** Negative image embedding [D]: the zero-image embedding, or the prior's output for the negative prompt. */
  readonly negativeImageEmbeds: Float32Array;
  /** Normalised prior latents after every step (for parity checks). */
  readonly steps: readonly { t: number; latents: Float32Array }[];
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
  let latents = ctx.noise.next([B, D]);
  if (sched.initNoiseSigma !== 1) latents = latents.map((v) => v * sched.initNoiseSigma);

  const recorded: { t: number; latents: Float32Array }[] = [];
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i]!;
    checkpoint(ctx, 'prior', i, timesteps.length);
    const input = new Float32Array(batch * D);
    input.set(latents, 0);
    if (cfg) input.set(latents, B * D);
    const pred = (await runPriorStage(ctx.runner, {
      latents: input, timestep: t, textEmbeds: text.textEmbeds, hiddenStates: text.hiddenStates, attentionMask: text.attentionMask,
    })).data;
    let guided: Float32Array;
    if (cfg) {
      guided = new Float32Array(B * D);
      for (let k = 0; k < B * D; k++) {
        const u = pred[k]!;
        guided[k] = u + p.guidance * (pred[B * D + k]! - u);
      }
    } else {
      guided = pred.slice(0, B * D);
    }
    const noise = () => ctx.noise.next([B, D]);
    latents = sched.step({ modelOutput: guided, t, sample: latents, noise }).prevSample;
    recorded.push({ t, latents: latents.slice() });
  }
  checkpoint(ctx, 'prior', timesteps.length, timesteps.length);

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
