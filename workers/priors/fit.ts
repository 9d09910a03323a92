/**
 * Fitting a personal linear prior (README "Prior kinds"): CLIP image embeddings of the user's images
 * (normalised with prior_stats, the diffusion prior's space) regressed on the CLIP text embeddings of
 * their captions by ridge regression (ridge.ts). One shared caption gives identical inputs, so W = 0 and
 * b = the images' mean embedding: every prompt then maps to "these images" (the paper's cat prior, Fig. 5,
 * in its pure form); captions per image let W follow the text.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import { LIMITS, MAX_FIT_IMAGES, MIN_FIT_IMAGES, type FitPriorRequest, type FitProgress, type FittedPrior } from '../protocol.ts';
import { rgbaToRgb } from '../tensor/image.ts';
import { requireStage, type PipelineContext } from '../pipelines/context.ts';
import { encodeRgbImage, encodeText } from '../pipelines/encode.ts';
import { fitRidge } from './ridge.ts';

/** Reports a phase's progress; throws CANCELLED to stop. */
export type FitStep = (phase: FitProgress['phase'], step: number, total: number) => void;

const TEXT_BATCH = 8;

function bad(message: string): EngineError {
  return new EngineError(ErrorCode.BadRequest, message);
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Check the request: enough readable images, one caption or one per image. */
export function checkFitRequest(req: FitPriorRequest): void {
  if (!req || !Array.isArray(req.images) || !Array.isArray(req.captions)) throw bad('A prior fit needs {images, captions}.');
  const n = req.images.length;
  if (n < MIN_FIT_IMAGES) throw bad(`A linear prior needs at least ${MIN_FIT_IMAGES} images (leave-one-out λ choice); got ${n}.`);
  if (n > MAX_FIT_IMAGES) throw bad(`A linear prior is fitted from at most ${MAX_FIT_IMAGES} images; got ${n}.`);
  if (req.captions.length !== 1 && req.captions.length !== n) {
    throw bad(`Give one caption for all images or one per image: ${req.captions.length} captions for ${n} images.`);
  }
  req.captions.forEach((c, i) => {
    if (typeof c !== 'string') throw bad(`caption ${i + 1} must be text.`);
    if (c.length > LIMITS.maxPromptChars) throw bad(`caption ${i + 1} is longer than ${LIMITS.maxPromptChars} characters.`);
  });
  req.images.forEach((img, i) => {
    const ok = img && typeof img === 'object' && (img.data instanceof Uint8ClampedArray || (img.data as unknown) instanceof Uint8Array)
      && Number.isInteger(img.width) && Number.isInteger(img.height) && img.width >= 1 && img.height >= 1
      && img.width <= 4 * LIMITS.maxSide && img.height <= 4 * LIMITS.maxSide && img.data.length === img.width * img.height * 4;
    if (!ok) throw bad(`image ${i + 1} is not RGBA pixels the image encoder can read ({width, height, data} with 4 bytes per pixel, sides 1–${4 * LIMITS.maxSide}).`);
  });
}

/** Encode images and captions, then fit W and b; `step` reports progress and may cancel. */
export async function fitLinearPrior(ctx: PipelineContext, req: FitPriorRequest, step: FitStep): Promise<FittedPrior> {
  checkFitRequest(req);
  requireStage(ctx, 'image_encoder', 'fitting a linear prior (it encodes the images)');
  const D = ctx.model.embeddingDim;
  const n = req.images.length;
  const Y = new Float64Array(n * D);
  for (const [i, img] of req.images.entries()) {
    step('image_encoder', i, n);
    const emb = await encodeRgbImage(ctx, rgbaToRgb(img.data, img.width, img.height), img.width, img.height);
    for (let d = 0; d < D; d++) Y[i * D + d] = (emb[d]! - ctx.model.clipMean[d]!) / ctx.model.clipStd[d]!;
  }
  step('image_encoder', n, n);

  // Each distinct caption is encoded once.
  const distinct = [...new Set(req.captions)];
  const textOf = new Map<string, Float32Array>();
  for (let b = 0; b < distinct.length; b += TEXT_BATCH) {
    step('text_encoder', b, distinct.length);
    const batch = distinct.slice(b, b + TEXT_BATCH);
    const embeds = (await encodeText(ctx, batch)).textEmbeds.data;
    batch.forEach((c, k) => textOf.set(c, embeds.slice(k * D, (k + 1) * D)));
  }
  step('text_encoder', distinct.length, distinct.length);
  const X = new Float64Array(n * D);
  for (let i = 0; i < n; i++) X.set(textOf.get(req.captions.length === 1 ? req.captions[0]! : req.captions[i]!)!, i * D);

  const fit = await fitRidge(X, Y, n, D, D, {
    onStep: async (s, total) => {
      await tick(); // let a cancel message in
      step('solve', s, total);
    },
  });
  return {
    weight: fit.weight, bias: fit.bias, textDim: D, embeddingDim: D, lambda: fit.lambda, looError: fit.looError,
    baselineError: fit.baselineError, grid: fit.grid, sharedCaption: fit.constantInput, numImages: n,
  };
}
