import { describe, expect, test } from 'vitest';
import { missingFor, modesOf } from './modes.ts';

describe('modes', () => {
  test('no inpainting without unet_inpaint, no image fusion without image_encoder', () => {
    const stages = ['text_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'] as const;
    expect(modesOf(stages)).toEqual({ text2img: true, img2img: true, inpaint: false, fusion: true, variations: false, imageFusion: false });
    expect(missingFor('inpaint', stages)).toBe('needs unet_inpaint');
    expect(missingFor('imageFusion', stages)).toBe('needs image_encoder');
    expect(missingFor('text2img', stages)).toBeNull();
  });
});
