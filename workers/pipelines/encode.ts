/** Text and image conditioning: CLIP text encoder, CLIP image encoder, the zero-image embedding. */
import { f32, type F32Tensor } from '../tensor/tensor.ts';
import { clipPreprocess } from '../tensor/image.ts';
import type { StageRunner } from '../runtime/types.ts';
import { runImageEncoder, runMultilingualEncoder, runTextEncoder, type TextEncoding, type TokenBatch } from '../stages/index.ts';
import { EngineError, ErrorCode } from '../errors.ts';
import { checkpoint, requireStage, type PipelineContext, type PromptTokenizer } from './context.ts';

/** Text encoder outputs for a batch of prompts. */
export interface TextConditioning {
  /** Pooled, projected embeddings [B, D]. */
  readonly textEmbeds: F32Tensor;
  /** Per-token hidden states [B, 77, H]. */
  readonly hiddenStates: F32Tensor;
  /** Attention mask [B, 77] (1 = real token). */
  readonly attentionMask: BigInt64Array;
}

/** Tokenise prompts into one fixed-length batch, in order; a truncated prompt adds a warning. */
export function tokenizeBatch(ctx: PipelineContext, tokenizer: PromptTokenizer, length: number, prompts: readonly string[]): TokenBatch {
  const inputIds = new BigInt64Array(prompts.length * length);
  const attentionMask = new BigInt64Array(prompts.length * length);
  prompts.forEach((prompt, b) => {
    const enc = tokenizer.encode(prompt);
    if (enc.truncated) {
      const note = `Prompt truncated to ${length} tokens (it had ${enc.tokenCount}): "${prompt.slice(0, 40)}…"`;
      if (!ctx.warnings.includes(note)) ctx.warnings.push(note);
    }
    inputIds.set(enc.inputIds, b * length);
    attentionMask.set(enc.attentionMask, b * length);
  });
  return { batch: prompts.length, length, inputIds, attentionMask };
}

/** Tokenise and encode prompts as one batch, in order (diffusers' _encode_prompt). */
export async function encodeText(ctx: PipelineContext, prompts: readonly string[]): Promise<TextConditioning> {
  const tokens = tokenizeBatch(ctx, ctx.tokenizer, ctx.model.maxLength, prompts);
  checkpoint(ctx, 'text_encoder', 0, 1);
  const out = await runTextEncoder(ctx.runner, tokens);
  return { ...out, attentionMask: tokens.attentionMask };
}

/**
 * Kandinsky 2.1's decoder text (diffusers KandinskyPipeline._encode_prompt): the prompt and the negative prompt
 * ("" for none) through the multilingual encoder, batch [negative, prompt] when guided (g > 1), else [prompt].
 */
export async function encodeDecoderText(ctx: PipelineContext, prompt: string, negativePrompt: string, guided: boolean): Promise<TextEncoding> {
  requireStage(ctx, 'text_encoder_multilingual', 'Kandinsky 2.1 generation');
  const tokenizer = ctx.multilingualTokenizer;
  const length = ctx.model.multilingualMaxLength;
  if (tokenizer === undefined || length === undefined) {
    throw new EngineError(ErrorCode.StageMissing, 'This Kandinsky 2.1 model has no multilingual tokenizer (manifest text_multilingual), so it cannot condition its decoder on text.', {
      file: 'text_multilingual', expected: 'a text_multilingual entry in manifest.json',
    });
  }
  const tokens = tokenizeBatch(ctx, tokenizer, length, guided ? [negativePrompt, prompt] : [prompt]);
  checkpoint(ctx, 'text_encoder', 0, 1);
  return runMultilingualEncoder(ctx.runner, tokens);
}

/** CLIP image embedding of already-normalised pixel values [B,3,S,S]. */
export async function encodePixels(ctx: PipelineContext, pixelValues: F32Tensor): Promise<F32Tensor> {
  checkpoint(ctx, 'image_encoder', 0, 1);
  return runImageEncoder(ctx.runner, pixelValues);
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
 * The image encoder's embedding of an all-zero crop_size² pixel tensor: the negative image
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
