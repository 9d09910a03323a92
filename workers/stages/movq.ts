/** The MoVQ stages (`movq_encoder`, `movq_decoder`): pixels in [-1, 1] ↔ latents at 1/8 of the side. */
import type { StageFeeds } from '../runtime/stage-io.ts';
import { GPU_TENSOR_USAGE, gpuTensorBytes, type GpuStageRunner, type GpuTensor, type StageRunner } from '../runtime/types.ts';
import { readFloats } from '../gpu/step-kernel.ts';
import { f32, type F32Tensor } from '../tensor/tensor.ts';
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

/**
 * Decode latents that are already in a GPU buffer (the GPU loop's final latents [B,C,h,w]) on the GPU: no upload, and
 * the image is the one read-back. The run waits for the GPU and fails with RUNTIME where it rejected commands.
 */
export async function runMovqDecoderOnGpu(gpu: GpuStageRunner, latents: GpuTensor, scaleFactor: number): Promise<F32Tensor> {
  const [B = 1, , h = 0, w = 0] = latents.dims;
  const dims = [B, 3, h * scaleFactor, w * scaleFactor];
  const length = dims.reduce((a, b) => a * b, 1);
  const device = await gpu.device();
  const image = device.createBuffer({ label: 'movq_decoder image', size: gpuTensorBytes(4 * length), usage: GPU_TENSOR_USAGE });
  try {
    await gpu.runOnGpu('movq_decoder', { latents }, { image: { buffer: image, dims } });
    return f32(await gpu.guard(() => readFloats(device, image, length)), dims);
  } finally {
    image.destroy();
  }
}
