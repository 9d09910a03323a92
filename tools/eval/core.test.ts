import { describe, expect, it } from 'vitest';
import { accuracyTable, differenceByLang, evalItems, judge, pixelDifference, requestFor, tallyByLang } from './core.ts';
import { renderScene } from './render.ts';
import { loadHeldout, loadVocabulary } from './scene.ts';

const vocab = loadVocabulary();
const heldout = loadHeldout();

describe('evaluation core', () => {
  it('makes one item per record and language, alternating paraphrases, with the same seeds in both languages', () => {
    const items = evalItems(heldout.scenes, ['en', 'ru'], 3, 100);
    expect(items.map((i) => [i.lang, i.seed])).toEqual([['en', 100], ['en', 101], ['en', 102], ['ru', 100], ['ru', 101], ['ru', 102]]);
    expect(items[1]!.caption).toBe(heldout.scenes[1]!.captions.en![1 % heldout.scenes[1]!.captions.en!.length]);
    const req = requestFor(items[0]!, { size: 64, steps: 5, priorSteps: 4, guidance: 4, priorGuidance: 4, scheduler: 'ddpm', seed: 100 });
    expect(req).toMatchObject({ mode: 'text2img', prompt: items[0]!.caption, width: 64, height: 64, seed: 100, numImages: 1 });
  });

  it('measures pixel differences in [0, 1] over the colour channels only', () => {
    const a = { width: 2, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255]) };
    const b = { width: 2, height: 1, data: new Uint8ClampedArray([51, 0, 0, 0, 255, 255, 255, 0]) };
    const d = pixelDifference(a, b);
    expect(d.max).toBeCloseTo(0.2, 6);
    expect(d.mean).toBeCloseTo(0.2 / 6, 6);
    expect(() => pixelDifference(a, { ...b, width: 1 })).toThrow(/2×1 against 1×1/);
  });

  it('scores the generator\'s own drawing of each held-out scene as right, and reports it per language', () => {
    const items = evalItems(heldout.scenes, ['en', 'ru'], 10, 0);
    const results = items.map((item) => judge(item, renderScene(item.scene, vocab, 64, item.seed), vocab));
    const tallies = tallyByLang(results);
    for (const lang of ['en', 'ru']) {
      const t = tallies.get(lang)!;
      expect(t.color).toEqual({ correct: 10, total: 10 });
      expect(t.position).toEqual({ correct: 10, total: 10 });
      expect(t.background).toEqual({ correct: 10, total: 10 });
    }
    const diffs = differenceByLang(results, results);
    expect([...diffs.values()].map((d) => d.max)).toEqual([0, 0]);
    const table = accuracyTable([{ variant: 'drawn', ep: 'none', tallies }]);
    expect(table[2]).toMatch(/^\| drawn \| none \| en \| 10 \| 100 % \| 100 % \|/);
  });
});
