/** Text and image conditioning: CLIP text encoder, CLIP image encoder, the zero-image embedding. */
import { f32, i64, type F32Tensor } from '../tensor/tensor.ts';
import { clipPreprocess } from '../tensor/image.ts';
import type { StageRunner } from '../runtime/types.ts';
import { EngineError, ErrorCode } from '../errors.ts';
import { checkpoint, type PipelineContext } from './context.ts';

/** Text encoder outputs for a batch of prompts. */
export interface TextConditioning {
  /** Pooled, projected embeddings [B, D]. */
  readonly textEmbeds: F32Tensor;
  /** Per-token hidden states [B, 77, H]. */
  readonly hiddenStates: F32Tensor;
  /** Attention mask [B, 77] (1 = real token). */
  readonly attentionMask: BigInt64Array;
}

/** Take a float32 output of a stage, failing clearly when it is absent. */
export function output(outputs: Record<string, unknown>, name: string, stage: string): F32Tensor {
  const t = outputs[name] as F32Tensor | undefined;
  if (!t || t.type !== 'float32') {
    throw new EngineError(ErrorCode.StageMismatch, `Stage '${stage}' returned no float32 output '${name}'.`, {
      file: stage,
      expected: name,
      actual: Object.keys(outputs).join(', '),
    });
  }
  return t;
}

/** Tokenise and encode prompts as one batch, in order (diffusers' _encode_prompt). */
export async function encodeText(ctx: PipelineContext, prompts: readonly string[]): Promise<TextConditioning> {
  const L = ctx.model.maxLength;
  const ids = new BigInt64Array(prompts.length * L);
  const mask = new BigInt64Array(prompts.length * L);
  prompts.forEach((prompt, b) => {
    const enc = ctx.tokenizer.encode(prompt);
    if (enc.truncated) {
      const note = `Prompt truncated to ${L} tokens (it had ${enc.tokenCount}): "${prompt.slice(0, 40)}…"`;
      if (!ctx.warnings.includes(note)) ctx.warnings.push(note);
    }
    ids.set(enc.inputIds, b * L);
    mask.set(enc.attentionMask, b * L);
  });
  checkpoint(ctx, 'text_encoder', 0, 1);
  const out = await ctx.runner.run('text_encoder', { input_ids: i64(ids, [prompts.length, L]) });
  return {
    textEmbeds: output(out, 'text_embeds', 'text_encoder'),
    hiddenStates: output(out, 'last_hidden_state', 'text_encoder'),
    attentionMask: mask,
  };
}

/** CLIP image embedding of already-normalised pixel values [B,3,S,S]. */
export async function encodePixels(ctx: PipelineContext, pixelValues: F32Tensor): Promise<F32Tensor> {
  checkpoint(ctx, 'image_encoder', 0, 1);
  const out = await ctx.runner.run('image_encoder', { pixel_values: pixelValues });
  return output(out, 'image_embeds', 'image_encoder');
}

/** CLIP image embedding [D] of an RGB image (CLIPImageProcessor preprocessing, SPEC §3). */
export async function encodeRgbImage(ctx: PipelineContext, rgb: Uint8Array, width: number, height: number): Promise<Float32Array> {
  const proc = ctx.model.imageProcessor;
  const pixels = clipPreprocess(rgb, width, height, proc);
  const emb = await encodePixels(ctx, f32(pixels, [1, 3, proc.crop_size, proc.crop_size]));
  return emb.data.slice(0, ctx.model.embeddingDim);
}

const zeroEmbedCache = new WeakMap<StageRunner, Float32Array>();

/**
 * The image encoder's embedding of an all-zero 224×224 pixel tensor: the negative image
 * embedding when no negative prompt is given (diffusers' get_zero_embed). Cached per runner.
 */
export async function zeroImageEmbedding(ctx: PipelineContext): Promise<Float32Array> {
  const cached = zeroEmbedCache.get(ctx.runner);
  if (cached) return cached;
  const S = ctx.model.imageProcessor.crop_size;
  const emb = await encodePixels(ctx, f32(new Float32Array(3 * S * S), [1, 3, S, S]));
  const value = emb.data.slice(0, ctx.model.embeddingDim);
  zeroEmbedCache.set(ctx.runner, value);
  return value;
}
