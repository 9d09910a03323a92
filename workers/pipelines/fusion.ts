/**
 * Fusion of weighted texts and images into one image embedding
 * (diffusers KandinskyV22PriorPipeline.interpolate): texts go through the prior, images
 * through the image encoder; the result is their weighted sum.
 */
import type { Scheduler } from '../schedulers/types.ts';
import type { PipelineContext } from './context.ts';
import { encodeRgbImage } from './encode.ts';
import { DIFFUSION_PRIOR, runPriorKind, type ResolvedPrior } from './prior-kinds.ts';

/** A condition in pipeline terms (images as packed RGB). */
export type FusionInput =
  | { readonly kind: 'text'; readonly prompt: string; readonly weight: number }
  | { readonly kind: 'image'; readonly rgb: Uint8Array; readonly width: number; readonly height: number; readonly weight: number };

export interface FusionParams {
  readonly conditions: readonly FusionInput[];
  readonly priorSteps: number;
  readonly priorGuidance: number;
  /** Negative prompt of each prior run (diffusers `negative_prior_prompt`); null = none. */
  readonly negativePriorPrompt: string | null;
  /** diffusers `negative_prompt`: "" → the zero-image embedding is the negative; else the prior's embedding of it. */
  readonly negativePrompt: string;
  /** A fresh scheduler per prior run. */
  readonly makeScheduler: () => Scheduler;
  /** The prior kind text conditions (and the negative prompt) go through; default diffusion. */
  readonly prior?: ResolvedPrior;
}

/** Weighted sum of condition embeddings, and the negative embedding; noise is drawn in the reference's order. */
export async function runFusion(ctx: PipelineContext, p: FusionParams): Promise<{ imageEmbeds: Float32Array; negativeImageEmbeds: Float32Array }> {
  const D = ctx.model.embeddingDim;
  const sum = new Float32Array(D);
  for (const cond of p.conditions) {
    let emb: Float32Array;
    switch (cond.kind) {
      case 'text':
        emb = (await runPriorKind(ctx, p.prior ?? DIFFUSION_PRIOR, {
          prompt: cond.prompt,
          negativePrompt: p.negativePriorPrompt,
          guidance: p.priorGuidance,
          steps: p.priorSteps,
          scheduler: p.makeScheduler(),
        })).imageEmbeds;
        break;
      case 'image':
        emb = await encodeRgbImage(ctx, cond.rgb, cond.width, cond.height);
        break;
    }
    // The reference sums float32 products (torch.cat(...).sum(0)); round each product to float32 too.
    for (let d = 0; d < D; d++) sum[d] = sum[d]! + Math.fround(emb[d]! * cond.weight);
  }
  // The reference always runs the prior once more on the negative prompt (it draws noise).
  const zero = await runPriorKind(ctx, p.prior ?? DIFFUSION_PRIOR, {
    prompt: p.negativePrompt,
    negativePrompt: p.negativePriorPrompt,
    guidance: p.priorGuidance,
    steps: p.priorSteps,
    scheduler: p.makeScheduler(),
  });
  const negativeImageEmbeds = p.negativePrompt === '' ? zero.negativeImageEmbeds : zero.imageEmbeds;
  return { imageEmbeds: sum, negativeImageEmbeds };
}
