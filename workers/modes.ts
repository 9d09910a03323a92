/** Which stages each generation mode needs: the one table the engine, the model store and the UI share. */
import type { Mode } from './protocol.ts';
import type { StageName } from './runtime/types.ts';

/** Stages each mode needs (fusion of images also needs `image_encoder`, checked per request). */
export const MODE_STAGES = {
  text2img: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  img2img: ['text_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'],
  inpaint: ['text_encoder', 'prior', 'unet_inpaint', 'movq_encoder', 'movq_decoder'],
  fusion: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  variations: ['image_encoder', 'unet', 'movq_decoder'],
} as const satisfies Record<Mode, readonly StageName[]>;
