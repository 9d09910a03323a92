/** A short caption for a result (gallery, tooltips): its prompt, or what an image mode mixed. */
import type { Language } from '../app/i18n.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import { tm } from './i18n.ts';

/** Weights as the panel shows them: up to two decimals, in the language's number format. */
const weight = (lang: Language, w: number): string => w.toLocaleString(lang, { maximumFractionDigits: 2 });

/**
 * The caption of a result: the prompt where the mode uses one (text-to-image, inpainting,
 * image-to-image), "Variations of an image", or a fusion's inputs with their weights
 * (`Fusion: image ×0.6 · "in the style of Van Gogh" ×0.4`); "—" when there is nothing to say.
 */
export function resultLabel(p: Pick<ImageParameters, 'mode' | 'prompt' | 'inputs'>, lang: Language): string {
  if (p.mode === 'variations') return tm(lang, 'label_variations');
  if (p.mode === 'fusion' && p.inputs && p.inputs.length > 0) {
    const parts = p.inputs.map((i) => `${i.kind === 'image' ? tm(lang, 'label_image') : `"${i.prompt}"`} ×${weight(lang, i.weight)}`);
    return `${tm(lang, 'label_fusion')}: ${parts.join(' · ')}`;
  }
  return p.prompt.trim() === '' ? '—' : p.prompt;
}
