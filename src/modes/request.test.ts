import { describe, expect, it } from 'vitest';
import { FAMILY_DEFAULTS, LIMITS, type BundleInfo, type CommonParams, type RgbaImage } from '../../workers/protocol.ts';
import type { StageName } from '../../workers/runtime/types.ts';
import { modesOf } from '../../workers/storage/modes.ts';
import { buildRequest, checkInputs, missingForImages, missingStages, type CheckContext, type RunContext } from './request.ts';
import { INITIAL_MODES, withImage, withMode, withStrength, withText, withTextPrompt, withWeight, type ImageRef, type ModesState } from './state.ts';

const ALL: StageName[] = ['text_encoder', 'image_encoder', 'prior', 'unet', 'unet_inpaint', 'movq_encoder', 'movq_decoder'];
const NO_ENCODER = ALL.filter((s) => s !== 'image_encoder');
const COMMON: CommonParams = {
  width: 128, height: 128, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 7, numImages: 2, negativePrompt: 'blurry',
};

function pixels(w: number, h: number, v: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([v, (i * 7) % 256, 0, 255], i * 4);
  return { width: w, height: h, data };
}
const A: ImageRef = { id: 'sha256-' + 'a'.repeat(64), width: 300, height: 100, source: 'file', name: 'wide.png' };
const B: ImageRef = { id: 'sha256-' + 'b'.repeat(64), width: 64, height: 64, source: 'frame', name: 'frame' };
const STORE = new Map<string, RgbaImage>([[A.id, pixels(300, 100, 10)], [B.id, pixels(64, 64, 20)]]);

const ctx = (over: Partial<CheckContext> = {}): CheckContext => ({ frame: { width: 128, height: 128 }, steps: 3, stages: ALL, ...over });
const INFO: BundleInfo = {
  name: 'tiny', description: '', family: 'kandinsky-2.2', defaults: FAMILY_DEFAULTS['kandinsky-2.2'], embeddingDim: 32, stages: ALL, ep: 'wasm', shaderF16: false, warnings: [],
  modes: modesOf(ALL),
};
/** An empty 128² frame, the prompt panel's parameters and the full tiny bundle. */
const run = (over: Partial<RunContext> = {}): RunContext => ({
  common: COMMON, prompt: 'a cat, watercolour', rawPrompt: 'a cat', info: INFO, frame: { x: 0, y: 0, width: 128, height: 128 },
  image: { width: 128, height: 128, data: new Uint8ClampedArray(128 * 128 * 4) }, mask: null, ...over,
});
const stored = (id: string): RgbaImage | undefined => STORE.get(id);
const build = (s: ModesState, over: Partial<RunContext> = {}) => buildRequest(s, run(over), stored);
const mode = (m: ModesState['mode'], s: ModesState = INITIAL_MODES): ModesState => withMode(s, m);

describe('availability', () => {
  it('names the stages a mode lacks', () => {
    expect(missingStages('variations', NO_ENCODER)).toEqual(['image_encoder']);
    expect(missingStages('fusion', NO_ENCODER)).toEqual([]);
    expect(missingForImages('fusion', NO_ENCODER)).toEqual(['image_encoder']);
    expect(missingStages('img2img', ALL.filter((s) => s !== 'movq_encoder'))).toEqual(['movq_encoder']);
    expect(missingStages('img2img', ALL)).toEqual([]);
  });
});

describe('input checks', () => {
  it('refuses variations and img2img without an image', () => {
    expect(checkInputs(mode('variations'), ctx()).problem).toEqual({ key: 'errNoImage' });
    expect(checkInputs(mode('img2img'), ctx()).problem).toEqual({ key: 'errNoImage' });
  });

  it('refuses fusion without inputs, with an empty text, or with all weights zero', () => {
    let s = mode('fusion');
    expect(checkInputs(s, ctx()).problem).toEqual({ key: 'errNoConditions' });
    s = withText(withImage(s, A));
    expect(checkInputs(s, ctx()).problem).toEqual({ key: 'errEmptyText', vars: { n: 2 } });
    s = withTextPrompt(s, 1, 'in the style of Van Gogh');
    expect(checkInputs(s, ctx()).problem).toBeNull();
    s = withWeight(withWeight(s, 0, 0), 1, 0);
    expect(checkInputs(s, ctx()).problem).toEqual({ key: 'errAllWeightsZero' });
  });

  it('refuses more fusion inputs than the engine takes (LIMITS.maxFusionConditions)', () => {
    let s = mode('fusion');
    for (let i = 0; i < LIMITS.maxFusionConditions; i++) s = withTextPrompt(withText(s), i, `text ${i}`);
    expect(checkInputs(s, ctx()).problem).toBeNull();
    s = withTextPrompt(withText(s), LIMITS.maxFusionConditions, 'one more');
    expect(checkInputs(s, ctx()).problem).toEqual({ key: 'errTooManyConditions', vars: { n: 17, max: 16 } });
  });

  it('allows negative weights but flags them', () => {
    const s = withWeight(withImage(withImage(mode('fusion'), B), B), 1, -0.3);
    const r = checkInputs(s, ctx());
    expect(r.problem).toBeNull();
    expect(r.flags).toEqual([{ index: 1, key: 'flagNegative' }]);
  });

  it('flags an image far from the aspect the model sees, with the share it keeps', () => {
    const fusion = checkInputs(withImage(mode('fusion'), A), ctx());
    expect(fusion.flags).toEqual([{ index: 0, key: 'flagCropEncoder', vars: { pct: 33, aspect: '3:1', frame: '1:1' } }]);
    const img2img = checkInputs(withImage(mode('img2img'), A), ctx({ frame: { width: 128, height: 64 } }));
    expect(img2img.flags).toEqual([{ index: 0, key: 'flagCropFrame', vars: { pct: 67, aspect: '3:1', frame: '2:1' } }]);
    expect(checkInputs(withImage(mode('variations'), B), ctx()).flags).toEqual([]);
  });

  it('refuses modes the bundle cannot run, and images in fusion without an image encoder', () => {
    expect(checkInputs(withImage(mode('variations'), B), ctx({ stages: NO_ENCODER })).problem)
      .toEqual({ key: 'unavailable', vars: { mode: 'variations', stages: 'image_encoder' } });
    expect(checkInputs(withImage(mode('fusion'), B), ctx({ stages: NO_ENCODER })).problem).toEqual({ key: 'noImageEncoder' });
    const textOnly = withTextPrompt(withText(mode('fusion')), 0, 'a cat');
    expect(checkInputs(textOnly, ctx({ stages: NO_ENCODER })).problem).toBeNull();
  });

  it('refuses a strength that re-runs no step', () => {
    const s = withStrength(withImage(mode('img2img'), B), 0.3);
    expect(checkInputs(s, ctx()).problem).toEqual({ key: 'errStrengthTooLow', vars: { strength: 0.3, steps: 3, min: 0.34 } });
    expect(checkInputs(s, ctx({ steps: 4 })).problem).toBeNull();
  });

  it('has nothing to say in text2img mode', () => {
    expect(checkInputs(INITIAL_MODES, ctx())).toEqual({ problem: null, flags: [] });
  });
});

describe('request building', () => {
  it('variations: the stored image, the shared parameters, the image id in the recorded inputs', () => {
    const r = build(withImage(mode('variations'), B));
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.request).toEqual({ ...COMMON, mode: 'variations', image: STORE.get(B.id) });
    expect(r.params).toEqual({ mode: 'variations', prompt: '', inputs: [{ kind: 'image', id: B.id, weight: 1 }] });
  });

  it('img2img: the image cropped to the frame\'s aspect, the styled prompt, the strength', () => {
    const r = build(withStrength(withImage(mode('img2img'), A), 0.5));
    if (!r.ok || r.request.mode !== 'img2img') throw new Error('expected an img2img request');
    expect(r.request.prompt).toBe('a cat, watercolour');
    expect(r.request.strength).toBe(0.5);
    expect([r.request.image.width, r.request.image.height]).toEqual([100, 100]);
    // Column 0 of the crop is column 100 of the source.
    const src = STORE.get(A.id)!;
    expect(Array.from(r.request.image.data.slice(0, 4))).toEqual(Array.from(src.data.slice(100 * 4, 101 * 4)));
    expect(r.params).toEqual({ mode: 'img2img', prompt: 'a cat', strength: 0.5, inputs: [{ kind: 'image', id: A.id, weight: 1 }] });
    expect(r.flags.map((f) => f.key)).toEqual(['flagCropFrame']);
  });

  it('fusion: images and texts in panel order with weights and ids', () => {
    let s = withImage(mode('fusion'), A);
    s = withTextPrompt(withText(s), 1, 'in the style of Van Gogh');
    s = withWeight(withWeight(s, 0, 0.6), 1, 0.4);
    const r = build(s);
    if (!r.ok || r.request.mode !== 'fusion') throw new Error('expected a fusion request');
    expect(r.request.conditions).toEqual([
      { kind: 'image', image: STORE.get(A.id), weight: 0.6, id: A.id },
      { kind: 'text', prompt: 'in the style of Van Gogh', weight: 0.4 },
    ]);
    expect(r.request.seed).toBe(7);
    expect(r.params.inputs).toEqual([{ kind: 'image', id: A.id, weight: 0.6 }, { kind: 'text', prompt: 'in the style of Van Gogh', weight: 0.4 }]);
  });

  it('says which image is missing when its pixels are not loaded', () => {
    const r = buildRequest(withImage(mode('variations'), B), run(), () => undefined);
    expect(r).toEqual({ ok: false, problem: { key: 'errImageMissing', vars: { id: 'bbbbbbbbbbbb' } } });
  });

  it('returns the first problem instead of a request', () => {
    expect(build(mode('fusion'))).toEqual({ ok: false, problem: { key: 'errNoConditions' } });
  });
});

describe('the frame\'s own mode (text2img in the panel)', () => {
  /** A 128² frame whose left half is painted (opaque grey). */
  const halfPainted = (): RgbaImage => {
    const img = pixels(128, 128, 0);
    for (let y = 0; y < 128; y++) for (let x = 64; x < 128; x++) img.data[(y * 128 + x) * 4 + 3] = 0;
    return img;
  };

  it('draws into an empty frame with the styled prompt, replacing it on paste-back', () => {
    const r = build(INITIAL_MODES);
    if (!r.ok) throw new Error('expected a text2img request');
    expect(r.request).toEqual({ ...COMMON, mode: 'text2img', prompt: 'a cat, watercolour' });
    expect(r.params).toEqual({ mode: 'text2img', prompt: 'a cat' });
    expect(r.weights).toBeNull();
  });

  it('inpaints where the frame is empty, with the feathered paste-back weights', () => {
    const r = build(INITIAL_MODES, { image: halfPainted() });
    if (!r.ok || r.request.mode !== 'inpaint') throw new Error('expected an inpaint request');
    expect([r.request.mask.width, r.request.mask.height]).toEqual([128, 128]);
    expect(r.params).toEqual({ mode: 'inpaint', prompt: 'a cat' });
    expect(r.weights?.length).toBe(128 * 128);
    expect(r.weights?.[0]).toBe(0); // the painted left edge stays
    expect(r.weights?.[127]).toBe(1); // the empty right edge is replaced
  });

  it('refuses with an app notice: an empty prompt over nothing, a full frame, inpainting without its stage', () => {
    expect(build(INITIAL_MODES, { prompt: '' })).toEqual({ ok: false, notice: 'errEmptyPrompt' });
    expect(build(INITIAL_MODES, { image: pixels(128, 128, 5) })).toEqual({ ok: false, notice: 'errFrameFull' });
    const noInpaint = { ...INFO, modes: { ...INFO.modes, inpaint: false } };
    expect(build(INITIAL_MODES, { image: halfPainted(), info: noInpaint })).toEqual({ ok: false, notice: 'errNoInpaint' });
  });
});
