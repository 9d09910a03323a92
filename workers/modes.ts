/** Which stages each generation mode needs: the one table the engine, the model store and the UI share. */
import type { Mode } from './protocol.ts';
import type { ModelFamily } from './runtime/stage-io.ts';
import type { StageName } from './runtime/types.ts';

/** Stages each mode needs (fusion of images also needs `image_encoder`, checked per request). */
export const MODE_STAGES = {
  text2img: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  img2img: ['text_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'],
  inpaint: ['text_encoder', 'prior', 'unet_inpaint', 'movq_encoder', 'movq_decoder'],
  fusion: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  variations: ['image_encoder', 'unet', 'movq_decoder'],
} as const satisfies Record<Mode, readonly StageName[]>;

/** The stages a mode needs on a model of `family`: Kandinsky 2.1's decoder also reads the multilingual text in every mode. */
export function modeStages(mode: Mode, family: ModelFamily): readonly StageName[] {
  switch (family) {
    case 'kandinsky-2.2':
      return MODE_STAGES[mode];
    case 'kandinsky-2.1':
      return [...MODE_STAGES[mode], 'text_encoder_multilingual'];
  }
}
