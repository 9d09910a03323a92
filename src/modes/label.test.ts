import { describe, expect, it } from 'vitest';
import { resultLabel } from './label.ts';

describe('resultLabel', () => {
  it('shows the prompt of text-based modes, and a dash for none', () => {
    expect(resultLabel({ mode: 'text2img', prompt: 'a lighthouse' }, 'en')).toBe('a lighthouse');
    expect(resultLabel({ mode: 'img2img', prompt: 'oil painting' }, 'en')).toBe('oil painting');
    expect(resultLabel({ mode: 'inpaint', prompt: '  ' }, 'en')).toBe('—');
  });

  it('names variations and lists a fusion\'s inputs with their weights, per language', () => {
    expect(resultLabel({ mode: 'variations', prompt: '' }, 'en')).toBe('Variations of an image');
    expect(resultLabel({ mode: 'variations', prompt: '' }, 'ru')).toBe('Вариации изображения');
    const fusion = {
      mode: 'fusion', prompt: '',
      inputs: [{ kind: 'image', id: 'sha256-x', weight: 0.6 }, { kind: 'text', prompt: 'in the style of Van Gogh', weight: 0.4 }, { kind: 'image', id: 'sha256-y', weight: -0.25 }],
    } as const;
    expect(resultLabel(fusion, 'en')).toBe('Fusion: image ×0.6 · "in the style of Van Gogh" ×0.4 · image ×-0.25');
    expect(resultLabel(fusion, 'ru')).toBe('Смешивание: изображение ×0,6 · "in the style of Van Gogh" ×0,4 · изображение ×-0,25');
  });

  it('a fusion without recorded inputs (an older PNG) falls back to its prompt', () => {
    expect(resultLabel({ mode: 'fusion', prompt: '' }, 'en')).toBe('—');
  });
});
