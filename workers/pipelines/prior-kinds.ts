/**
 * Prior kinds (README "Prior kinds"; the paper's Table 3 ablation, Razzhigaev et al. 2023 §5):
 * - diffusion: the diffusion prior (prior.ts).
 * - linear: image_emb = (W · text_emb + b) · clip_std + clip_mean, with text_emb the text encoder's raw
 *   `text_embeds` and W, b fitted in the diffusion prior's normalised image space (prior_stats.json).
 * - none: the text embedding used as the image embedding, scaled to the typical image-embedding norm
 *   (CLIP text and image embeddings share one projected space but not one scale):
 *   image_emb = text_emb / ‖text_emb‖ · sqrt(Σ_d clip_mean_d² + clip_std_d²), the root of E‖image_emb‖².
 * - blend: (1 − w) · diffusion + w · linear, both after de-normalisation.
 * A negative prompt goes through the same map as the prompt (linear: W · negative text_emb + b); without one
 * the negative image embedding is the zero-image embedding for every kind, as for the diffusion prior.
 */
import type { PriorKind } from '../protocol.ts';
import { checkpoint, type ModelFacts, type PipelineContext } from './context.ts';
import { encodeText } from './encode.ts';
import { negativeEmbedding, runPrior, type PriorParams } from './prior.ts';

/** W [D, D] row-major and b [D], in the space above. */
export interface LinearMap {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** A prior choice with its linear map in hand. */
export type ResolvedPrior =
  | { readonly kind: 'diffusion' }
  | { readonly kind: 'linear'; readonly map: LinearMap }
  | { readonly kind: 'none' }
  | { readonly kind: 'blend'; readonly map: LinearMap; readonly linearWeight: number };

/** The default: the diffusion prior. */
export const DIFFUSION_PRIOR: ResolvedPrior = { kind: 'diffusion' };

/** Image and negative image embeddings [D] a prior gives for a prompt. */
export interface PriorEmbeddings {
  readonly imageEmbeds: Float32Array;
  readonly negativeImageEmbeds: Float32Array;
}

/** The linear prior of one text embedding [D]: (W t + b) · std + mean, accumulated in float64. */
export function applyLinearPrior(model: ModelFacts, map: LinearMap, text: ArrayLike<number>): Float32Array {
  const D = model.embeddingDim;
  const out = new Float32Array(D);
  for (let i = 0; i < D; i++) {
    let s = map.bias[i]!;
    const row = i * D;
    for (let k = 0; k < D; k++) s += map.weight[row + k]! * text[k]!;
    out[i] = s * model.clipStd[i]! + model.clipMean[i]!;
  }
  return out;
}

/** The "no prior" embedding of one text embedding [D]: its direction at the image embeddings' RMS norm. */
export function noPriorEmbedding(model: ModelFacts, text: ArrayLike<number>): Float32Array {
  const D = model.embeddingDim;
  let norm = 0;
  let target = 0;
  for (let d = 0; d < D; d++) {
    norm += text[d]! ** 2;
    target += model.clipMean[d]! ** 2 + model.clipStd[d]! ** 2;
  }
  const scale = norm > 0 ? Math.sqrt(target / norm) : 0;
  return Float32Array.from({ length: D }, (_, d) => text[d]! * scale);
}

/** A one-shot prior (linear or none): one text-encoder batch of [prompt, negative prompt]. */
async function mapText(ctx: PipelineContext, p: PriorParams, map: (text: Float32Array) => Float32Array): Promise<PriorEmbeddings> {
  const D = ctx.model.embeddingDim;
  const prompts = p.negativePrompt === null ? [p.prompt] : [p.prompt, p.negativePrompt];
  const text = (await encodeText(ctx, prompts)).textEmbeds.data;
  checkpoint(ctx, 'prior', 0, 1);
  const imageEmbeds = map(text.subarray(0, D));
  const negativeImageEmbeds = p.negativePrompt === null ? await negativeEmbedding(ctx) : map(text.subarray(D, 2 * D));
  checkpoint(ctx, 'prior', 1, 1);
  return { imageEmbeds, negativeImageEmbeds };
}

/** (1 − w) a + w b, rounded once to float32. */
function mix(a: Float32Array, b: Float32Array, w: number): Float32Array {
  return Float32Array.from(a, (v, i) => (1 - w) * v + w * b[i]!);
}

/** Run a prior of any kind. Only diffusion and blend draw noise (in the diffusion prior's order). */
export async function runPriorKind(ctx: PipelineContext, prior: ResolvedPrior, p: PriorParams): Promise<PriorEmbeddings> {
  switch (prior.kind) {
    case 'diffusion':
      return runPrior(ctx, p);
    case 'linear':
      return mapText(ctx, p, (t) => applyLinearPrior(ctx.model, prior.map, t));
    case 'none':
      return mapText(ctx, p, (t) => noPriorEmbedding(ctx.model, t));
    case 'blend': {
      const diffusion = await runPrior(ctx, p);
      const linear = await mapText(ctx, p, (t) => applyLinearPrior(ctx.model, prior.map, t));
      return {
        imageEmbeds: mix(diffusion.imageEmbeds, linear.imageEmbeds, prior.linearWeight),
        negativeImageEmbeds: mix(diffusion.negativeImageEmbeds, linear.negativeImageEmbeds, prior.linearWeight),
      };
    }
  }
}

/** Whether a kind runs the diffusion prior (and so uses priorSteps and priorGuidance). */
export function usesDiffusion(kind: PriorKind): boolean {
  return kind === 'diffusion' || kind === 'blend';
}
