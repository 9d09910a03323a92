import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, type ImageParameters } from '../editor/parameters.ts';
import { imageIdsOf, modeOfParameters, stateFromParameters } from './params.ts';
import { INITIAL_MODES, type ImageRef } from './state.ts';

const idA = `sha256-${'a'.repeat(64)}`;
const idB = `sha256-${'b'.repeat(64)}`;
const base: ImageParameters = {
  prompt: '', negativePrompt: 'blurry', style: 'none', mode: 'fusion', width: 128, height: 64, steps: 3, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 42, model: 'tiny-random-kandinsky-2-2', ep: 'wasm',
};

describe('parameters text of image modes', () => {
  it('fusion inputs (ids, texts with commas, quotes and newlines, weights) survive the PNG text', () => {
    const p: ImageParameters = {
      ...base,
      inputs: [
        { kind: 'image', id: idA, weight: 0.6 },
        { kind: 'text', prompt: 'in the style of "Van Gogh", oil:\nthick strokes', weight: 0.4 },
        { kind: 'image', id: idB, weight: -0.25 },
      ],
    };
    const text = formatParameters(p);
    expect(text.split('\n')).toHaveLength(3); // prompt, negative, fields: the inputs stay on one line
    expect(text).toContain('Mode: fusion');
    expect(parseParameters(text)).toEqual(p);
  });

  it('img2img strength and its input image survive, a prompt with them too', () => {
    const p: ImageParameters = { ...base, mode: 'img2img', prompt: 'a cat', strength: 0.55, inputs: [{ kind: 'image', id: idA, weight: 1 }] };
    const text = formatParameters(p);
    expect(text).toMatch(/Strength: 0\.55/);
    expect(parseParameters(text)).toEqual(p);
  });

  it('text-to-image parameters have no image-mode fields', () => {
    const p: ImageParameters = { ...base, mode: 'text2img', prompt: 'a lighthouse' };
    const text = formatParameters(p);
    expect(text).not.toMatch(/Strength|Inputs/);
    expect(Object.keys(parseParameters(text))).not.toContain('inputs');
  });

  it('a damaged Inputs field is an error naming it', () => {
    const text = formatParameters({ ...base, inputs: [{ kind: 'image', id: idA, weight: 1 }] }).replace('\\"weight\\":1', '\\"weight\\":\\"x\\"');
    expect(() => parseParameters(text)).toThrow(/"Inputs" should be a list/);
  });
});

describe('re-running from parameters', () => {
  const refs = new Map<string, ImageRef>([[idA, { id: idA, width: 300, height: 100, source: 'file', name: 'a.png' }]]);
  const refOf = (id: string): ImageRef | null => refs.get(id) ?? null;

  it('maps editor modes to the text2img panel mode', () => {
    expect(modeOfParameters({ mode: 'inpaint' })).toBe('text2img');
    expect(modeOfParameters({ mode: 'text2img' })).toBe('text2img');
    expect(modeOfParameters({ mode: 'variations' })).toBe('variations');
  });

  it('restores fusion inputs in order with weights; a missing image is reported, the rest kept', () => {
    const p: ImageParameters = {
      ...base, inputs: [{ kind: 'image', id: idA, weight: 0.6 }, { kind: 'text', prompt: 'x', weight: 0.4 }, { kind: 'image', id: idB, weight: 0.2 }],
    };
    expect(imageIdsOf(p)).toEqual([idA, idB]);
    const { state, missing } = stateFromParameters(p, INITIAL_MODES, refOf);
    expect(state.mode).toBe('fusion');
    expect(state.conditions).toEqual([
      { kind: 'image', key: 0, image: refs.get(idA), weight: 0.6 },
      { kind: 'text', key: 1, prompt: 'x', weight: 0.4 },
    ]);
    expect(missing).toEqual([idB]);
  });

  it('restores img2img\'s image and strength', () => {
    const { state, missing } = stateFromParameters({ ...base, mode: 'img2img', strength: 0.35, inputs: [{ kind: 'image', id: idA, weight: 1 }] }, INITIAL_MODES, refOf);
    expect(state).toMatchObject({ mode: 'img2img', strength: 0.35, single: refs.get(idA) });
    expect(missing).toEqual([]);
  });
});
