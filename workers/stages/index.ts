/** One wrapper per ONNX stage (names, shapes, host tensors): what the pipelines and the benchmarks call. */
export { output, timesteps } from './output.ts';
export { runTextEncoder, textEncoderFeeds, type TextEncoding, type TokenBatch } from './text-encoder.ts';
export { multilingualEncoderFeeds, runMultilingualEncoder } from './text-encoder-multilingual.ts';
export { imageEncoderFeeds, runImageEncoder } from './image-encoder.ts';
export { priorFeeds, runPriorStage, type PriorInputs } from './prior.ts';
export { runUnet, unetFeeds, type UnetInputs, type UnetStage } from './unet.ts';
export { movqDecoderFeeds, movqEncoderFeeds, runMovqDecoder, runMovqDecoderOnGpu, runMovqEncoder } from './movq.ts';
