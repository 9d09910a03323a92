import { describe, expect, it } from 'vitest';
import { ALL_KEYS, LANGUAGES, translate, type Language } from './i18n.ts';
import { STYLE_IDS, applyStyle } from './presets.ts';

describe('i18n', () => {
  it('every language has every key, with the same placeholders as English', () => {
    const keys = ALL_KEYS;
    for (const lang of Object.keys(LANGUAGES) as Language[]) {
      for (const key of keys) {
        const text = translate(lang, key);
        expect(text, `${lang}.${key}`).not.toBe('');
        const holes = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
        expect(holes(text), `${lang}.${key}`).toEqual(holes(translate('en', key)));
      }
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'usedSeed', { seed: 42 })).toBe('Used seed: 42');
    expect(translate('ru', 'usedSeed', { seed: 42 })).toBe('Использовано зерно: 42');
    expect(translate('en', 'usedSeed')).toBe('Used seed: {seed}');
  });

  it('the model status says "ready" in every language (tests and scripts look for it)', () => {
    for (const lang of Object.keys(LANGUAGES) as Language[]) expect(translate(lang, 'modelReady', { name: 'm', ep: 'wasm' })).toContain('ready');
  });
});

describe('style presets', () => {
  it('wrap the prompt, add negatives, and leave an empty prompt empty', () => {
    expect(applyStyle('none', ' a cat ', '')).toEqual({ prompt: 'a cat', negativePrompt: '' });
    expect(applyStyle('anime', 'a cat', 'blurry')).toEqual({ prompt: 'a cat, anime style, cel shading, vibrant, studio quality illustration', negativePrompt: 'blurry, photo, realistic' });
    for (const id of STYLE_IDS) expect(applyStyle(id, '', '').prompt).toBe('');
    expect(STYLE_IDS).toEqual(['none', 'kandinsky', 'uhd', 'anime', 'digital', 'watercolour']);
  });
});

