/** Style presets: prompt templates applied before the prompt reaches the engine. */

/** Style ids with their templates ("{prompt}" is replaced) and extra negative words. */
export const STYLE_PRESETS = {
  none: { template: '{prompt}', negative: '' },
  kandinsky: { template: '{prompt}, in the style of Wassily Kandinsky, abstract art, bold geometric shapes, vivid colours', negative: '' },
  uhd: { template: '{prompt}, 4k uhd photo, ultra realistic, sharp focus, detailed, natural light, 35mm', negative: 'blurry, cartoon, painting' },
  anime: { template: '{prompt}, anime style, cel shading, vibrant, studio quality illustration', negative: 'photo, realistic' },
  digital: { template: '{prompt}, digital painting, concept art, highly detailed, artstation, smooth brush strokes', negative: 'photo' },
  watercolour: { template: '{prompt}, watercolour painting, soft washes, paper texture, delicate colours', negative: 'photo, hard edges' },
} as const satisfies Record<string, { template: string; negative: string }>;
export type StyleId = keyof typeof STYLE_PRESETS;
export const STYLE_IDS = Object.keys(STYLE_PRESETS) as StyleId[];

/** The prompt and negative prompt the engine gets for a style. An empty prompt stays empty. */
export function applyStyle(style: StyleId, prompt: string, negative: string): { prompt: string; negativePrompt: string } {
  const preset = STYLE_PRESETS[style];
  const p = prompt.trim();
  const styled = p === '' ? '' : preset.template.replace('{prompt}', p);
  const neg = [negative.trim(), preset.negative].filter((s) => s !== '').join(', ');
  return { prompt: styled, negativePrompt: neg };
}
