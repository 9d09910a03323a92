/** The MoVQ stages (`movq_encoder`, `movq_decoder`): pixels in [-1, 1] ↔ latents at 1/8 of the side. */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import type { F32Tensor } from '../tensor/tensor.ts';
import { output } from './output.ts';

/** The `movq_encoder` feeds: an image [B,3,H,W] in [-1, 1]. */
export function movqEncoderFeeds(image: F32Tensor): StageFeeds<'movq_encoder'> {
  return { image };
}

/** The `movq_decoder` feeds: latents [B,C,h,w]. */
export function movqDecoderFeeds(latents: F32Tensor): StageFeeds<'movq_decoder'> {
  return { latents };
}

/** Encode an image to latents [B,C,H/8,W/8]. */
export async function runMovqEncoder(runner: StageRunner, image: F32Tensor): Promise<F32Tensor> {
  return output(await runner.run('movq_encoder', movqEncoderFeeds(image)), 'latents', 'movq_encoder');
}

/** Decode latents to an image [B,3,8h,8w] in about [-1, 1] (diffusers `force_not_quantize=True`). */
export async function runMovqDecoder(runner: StageRunner, latents: F32Tensor): Promise<F32Tensor> {
  return output(await runner.run('movq_decoder', movqDecoderFeeds(latents)), 'image', 'movq_decoder');
}
