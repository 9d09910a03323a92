/** The CLIP text encoder stage (`text_encoder`): token ids → pooled embedding and token states. */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import { i64, type F32Tensor } from '../tensor/tensor.ts';
import { output } from './output.ts';

/** A batch of fixed-length token ids (and their attention mask). */
export interface TokenBatch {
  readonly batch: number;
  readonly length: number;
  /** [batch × length] ids. */
  readonly inputIds: BigInt64Array;
  /** [batch × length], 1 for real tokens. */
  readonly attentionMask: BigInt64Array;
}

/** What a text encoder gives for a batch of prompts. */
export interface TextEncoding {
  /** Pooled, projected embeddings [B, D]. */
  readonly textEmbeds: F32Tensor;
  /** Per-token hidden states [B, L, H]. */
  readonly hiddenStates: F32Tensor;
}

/** The `text_encoder` feeds (CLIP takes no attention mask: its pooling reads the end token). */
export function textEncoderFeeds(tokens: TokenBatch): StageFeeds<'text_encoder'> {
  return { input_ids: i64(tokens.inputIds, [tokens.batch, tokens.length]) };
}

/** Run the CLIP text encoder on a token batch. */
export async function runTextEncoder(runner: StageRunner, tokens: TokenBatch): Promise<TextEncoding> {
  const out = await runner.run('text_encoder', textEncoderFeeds(tokens));
  return { textEmbeds: output(out, 'text_embeds', 'text_encoder'), hiddenStates: output(out, 'last_hidden_state', 'text_encoder') };
}
