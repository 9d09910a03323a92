import { describe, expect, test } from 'vitest';
import { MODE_STAGES } from '../engine.ts';
import { MODE_REQUIREMENTS, missingFor, modesOf } from './modes.ts';

describe('modes', () => {
  test('the store\'s table equals the engine\'s MODE_STAGES (kept apart so the models worker never loads onnxruntime)', () => {
    expect(MODE_REQUIREMENTS).toEqual(MODE_STAGES);
  });

  test('no inpainting without unet_inpaint, no image fusion without image_encoder', () => {
    const stages = ['text_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'] as const;
    expect(modesOf(stages)).toEqual({ text2img: true, img2img: true, inpaint: false, fusion: true, variations: false, imageFusion: false });
    expect(missingFor('inpaint', stages)).toBe('needs unet_inpaint');
    expect(missingFor('imageFusion', stages)).toBe('needs image_encoder');
    expect(missingFor('text2img', stages)).toBeNull();
  });
});
