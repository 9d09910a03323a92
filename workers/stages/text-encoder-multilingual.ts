/**
 * Kandinsky 2.1's multilingual text encoder stage (`text_encoder_multilingual`, diffusers
 * pipelines/kandinsky/text_encoder.py MultilingualCLIP): XLM-R ids and mask → the masked mean of the token
 * states through one linear layer (`text_embeds`) and the token states (`last_hidden_state`).
 */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import { i64 } from '../tensor/tensor.ts';
import { output } from './output.ts';
import type { TextEncoding, TokenBatch } from './text-encoder.ts';

/** The `text_encoder_multilingual` feeds: ids and attention mask [B, L]. */
export function multilingualEncoderFeeds(tokens: TokenBatch): StageFeeds<'text_encoder_multilingual'> {
  const dims = [tokens.batch, tokens.length];
  return { input_ids: i64(tokens.inputIds, dims), attention_mask: i64(tokens.attentionMask, dims) };
}

/** Run the multilingual text encoder on a token batch. */
export async function runMultilingualEncoder(runner: StageRunner, tokens: TokenBatch): Promise<TextEncoding> {
  const out = await runner.run('text_encoder_multilingual', multilingualEncoderFeeds(tokens));
  return {
    textEmbeds: output(out, 'text_embeds', 'text_encoder_multilingual'),
    hiddenStates: output(out, 'last_hidden_state', 'text_encoder_multilingual'),
  };
}
