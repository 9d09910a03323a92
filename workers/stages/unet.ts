/**
 * The decoder UNets (`unet`, `unet_inpaint`): one denoising call. Kandinsky 2.2's UNet is conditioned on image
 * embeddings alone; 2.1's also on the multilingual text (diffusers UNet2DConditionModel with
 * `encoder_hid_dim_type="text_image_proj"`, `addition_embed_type="text_image"`).
 */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import type { F32Tensor } from '../tensor/tensor.ts';
import { output, timesteps } from './output.ts';
import type { TextEncoding } from './text-encoder.ts';

/** Which UNet: the plain one or the inpainting one (9 input channels). */
export type UnetStage = 'unet' | 'unet_inpaint';

/** One UNet call on a batch. */
export interface UnetInputs {
  /** [B, C, h, w] (C = 2 × latent channels + 1 for inpainting). */
  readonly sample: F32Tensor;
  readonly timestep: number;
  /** [B, D]. */
  readonly imageEmbeds: F32Tensor;
  /** Kandinsky 2.1 only: the multilingual encoder's states [B, L, Hm] and pooled embedding [B, D], same batch order. */
  readonly text?: TextEncoding;
}

/** The UNet feeds of either family (2.1's when `text` is given). */
export function unetFeeds(x: UnetInputs): StageFeeds<UnetStage> {
  const base = { sample: x.sample, timestep: timesteps(x.timestep, x.sample.dims[0] ?? 1), image_embeds: x.imageEmbeds };
  if (x.text === undefined) return base;
  return { ...base, encoder_hidden_states: x.text.hiddenStates, text_embeds: x.text.textEmbeds };
}

/** Run one UNet step; returns `out_sample` [B, 2C, h, w] (epsilon, then the learned variance). */
export async function runUnet(runner: StageRunner, stage: UnetStage, x: UnetInputs): Promise<F32Tensor> {
  const out = await runner.run(stage, unetFeeds(x));
  return output(out, 'out_sample', stage);
}
