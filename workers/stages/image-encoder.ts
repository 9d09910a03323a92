/** The CLIP image encoder stage (`image_encoder`): normalised pixels [B,3,S,S] → image embeddings [B, D]. */
import type { StageFeeds } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import type { F32Tensor } from '../tensor/tensor.ts';
import { output } from './output.ts';

/** The `image_encoder` feeds. */
export function imageEncoderFeeds(pixelValues: F32Tensor): StageFeeds<'image_encoder'> {
  return { pixel_values: pixelValues };
}

/** Run the image encoder on CLIP-normalised pixel values. */
export async function runImageEncoder(runner: StageRunner, pixelValues: F32Tensor): Promise<F32Tensor> {
  const out = await runner.run('image_encoder', imageEncoderFeeds(pixelValues));
  return output(out, 'image_embeds', 'image_encoder');
}
