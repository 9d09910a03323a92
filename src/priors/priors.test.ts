import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, priorLabel, type ImageParameters } from '../editor/parameters.ts';
import { captionLines, choiceFromLabel, DEFAULT_CHOICE, exportFileName } from './priors.ts';

const params: ImageParameters = {
  prompt: 'a cat', negativePrompt: '', style: 'none', mode: 'text2img', width: 64, height: 64, steps: 3, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, model: 'tiny', ep: 'wasm',
};

describe('prior in the PNG parameters', () => {
  it('labels every kind and survives the parameters text, commas and colons included', () => {
    const user = { from: 'user' as const, id: 'prior-1', name: 'cats, mostly: grey' };
    const labels = [
      priorLabel({ kind: 'none' }),
      priorLabel({ kind: 'linear', linear: { from: 'bundle' } }),
      priorLabel({ kind: 'linear', linear: user }),
      priorLabel({ kind: 'blend', linear: user, linearWeight: 0.3 }),
    ];
    expect(labels).toEqual(['none', 'linear: model', 'linear: cats, mostly: grey (prior-1)', 'blend 0.3, linear: cats, mostly: grey (prior-1)']);
    for (const prior of labels) expect(parseParameters(formatParameters({ ...params, prior }))).toEqual({ ...params, prior });
    expect(parseParameters(formatParameters(params)).prior).toBeUndefined(); // diffusion writes no field
  });
});

describe('fit dialog helpers', () => {
  it('caption lines drop trailing blank lines and trim, keeping inner blanks as lines', () => {
    expect(captionLines(' a red square \n\nblue\n\n\n')).toEqual(['a red square', '', 'blue']);
    expect(captionLines('')).toEqual([]);
  });

  it('export file names keep letters and digits in any script', () => {
    expect(exportFileName('my squares')).toBe('my-squares.kwlp');
    expect(exportFileName('Кот / кошки')).toBe('Кот-кошки.kwlp');
    expect(exportFileName('../..')).toBe('prior.kwlp');
  });
});

describe('a result\'s prior label back to a choice', () => {
  it('reads every label priorLabel writes', () => {
    const user = { from: 'user' as const, id: 'prior-abc', name: 'cats (grey), mostly' };
    expect(choiceFromLabel(undefined, { ...DEFAULT_CHOICE, kind: 'none' }).kind).toBe('diffusion');
    expect(choiceFromLabel('none', DEFAULT_CHOICE)).toEqual({ ...DEFAULT_CHOICE, kind: 'none' });
    expect(choiceFromLabel(priorLabel({ kind: 'linear', linear: { from: 'bundle' } }), DEFAULT_CHOICE)).toEqual({ ...DEFAULT_CHOICE, kind: 'linear', linear: 'bundle' });
    expect(choiceFromLabel(priorLabel({ kind: 'linear', linear: user }), DEFAULT_CHOICE)).toEqual({ ...DEFAULT_CHOICE, kind: 'linear', linear: 'prior-abc' });
    expect(choiceFromLabel(priorLabel({ kind: 'blend', linear: user, linearWeight: 0.35 }), DEFAULT_CHOICE)).toEqual({ kind: 'blend', linear: 'prior-abc', linearWeight: 0.35 });
    expect(choiceFromLabel('something else', DEFAULT_CHOICE)).toBe(DEFAULT_CHOICE);
  });
});
