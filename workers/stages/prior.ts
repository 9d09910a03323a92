/** The prior transformer stage (`prior`): one denoising call in the normalised CLIP image-embedding space. */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import { f32, i64, type F32Tensor } from '../tensor/tensor.ts';
import { output, timesteps } from './output.ts';

/** One prior call on a batch of B latents [B, D]. */
export interface PriorInputs {
  /** Noisy image-embedding latents [B × D]. */
  readonly latents: Float32Array;
  readonly timestep: number;
  /** CLIP text_embeds [B, D]. */
  readonly textEmbeds: F32Tensor;
  /** CLIP last_hidden_state [B, L, H]. */
  readonly hiddenStates: F32Tensor;
  /** [B × L], 1 for real tokens. */
  readonly attentionMask: BigInt64Array;
}

/** The `prior` feeds; the batch and sizes come from the text embeddings' dims. */
export function priorFeeds(x: PriorInputs): StageFeeds<'prior'> {
  const [batch = 0, D = 0] = x.textEmbeds.dims;
  const L = x.hiddenStates.dims[1] ?? 0;
  return {
    hidden_states: f32(x.latents, [batch, D]),
    timestep: timesteps(x.timestep, batch),
    proj_embedding: x.textEmbeds,
    encoder_hidden_states: x.hiddenStates,
    attention_mask: i64(x.attentionMask, [batch, L]),
  };
}

/** Run one prior step; returns the predicted image embedding [B, D]. */
export async function runPriorStage(runner: StageRunner, x: PriorInputs): Promise<F32Tensor> {
  const out = await runner.run('prior', priorFeeds(x));
  return output(out, 'predicted_image_embedding', 'prior');
}
