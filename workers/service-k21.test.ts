/**
 * The engine on the tiny Kandinsky 2.1 bundle (wasm, Node): every mode runs with the 2.1 decoder, `load` reports the
 * family and its defaults, and a request or a bundle of the wrong family, a bundle without its multilingual encoder
 * and a wrong-kind tokenizer are typed errors (never INTERNAL), as data through the service.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from './service.ts';
import { ErrorCode } from './errors.ts';
import { FAMILY_DEFAULTS, type GenerateRequest, type Result, type Text2ImgRequest } from './protocol.ts';
import { TINY_21_BUNDLE_DIR, TINY_BUNDLE_DIR, tinyBundle21Source, tinyBundleSource } from './testing/tiny-bundle.ts';

const base: Text2ImgRequest = {
  mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 3, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddim', seed: 42, numImages: 1, family: 'kandinsky-2.1',
};

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function error<T>(r: Result<T>) {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected an error');
  expect(r.error.code).not.toBe(ErrorCode.Internal);
  return r.error;
}

const rgba = (w: number, h: number, f: (i: number) => number) => ({ width: w, height: h, data: Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : f(i))) });
const manifest21 = (): Record<string, any> => JSON.parse(readFileSync(join(TINY_21_BUNDLE_DIR, 'manifest.json'), 'utf8'));
const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));

describe('EngineService on the tiny Kandinsky 2.1 bundle (wasm, Node)', () => {
  const service = new EngineService();
  beforeAll(async () => {
    value(await service.load(await tinyBundle21Source(), { provider: 'wasm' }));
  });

  it('load reports the family and its defaults (DDIM, 100 steps, guidance 4; prior 25 steps, guidance 4) and every mode', async () => {
    const info = await service.info();
    expect(info?.family).toBe('kandinsky-2.1');
    expect(info?.defaults).toEqual({ steps: 100, guidance: 4, priorSteps: 25, priorGuidance: 4, scheduler: 'ddim' });
    expect(info?.defaults).toBe(FAMILY_DEFAULTS['kandinsky-2.1']);
    expect(info?.stages).toContain('text_encoder_multilingual');
    expect(info?.modes).toEqual({ text2img: true, img2img: true, inpaint: true, fusion: true, variations: true });
  });

  it('text2img: same seed same pixels; the decoder reads the negative prompt (the unconditional text)', async () => {
    const a = value(await service.generate('a', base)).images[0]!;
    const b = value(await service.generate('b', base)).images[0]!;
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(a.params).toMatchObject({ scheduler: 'ddim', steps: 3 });
    // Under guidance the negative prompt is the prior's negative and the decoder's unconditional text.
    const neg = value(await service.generate('n', { ...base, negativePrompt: 'blurry' })).images[0]!;
    expect(Buffer.from(neg.image.data).equals(Buffer.from(a.image.data))).toBe(false);
  });

  it('a request without scheduler and steps takes the 2.1 defaults', async () => {
    const { scheduler: _s, steps: _n, ...rest } = base;
    const r = value(await service.generate('d', { ...rest, guidance: 1 } as GenerateRequest)).images[0]!;
    expect(r.params).toMatchObject({ scheduler: 'ddim', steps: 100 });
  });

  it('img2img, inpaint, fusion and variations run on 2.1', async () => {
    const image = rgba(64, 64, (i) => (i * 7) % 256);
    const mask = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64 < 32 ? 255 : 0)) };
    const requests: GenerateRequest[] = [
      { ...base, mode: 'img2img', image, strength: 0.6, steps: 5 },
      { ...base, mode: 'inpaint', image, mask },
      { ...base, mode: 'fusion', conditions: [{ kind: 'text', prompt: 'a cat', weight: 0.5 }, { kind: 'image', image, weight: 0.5 }] },
      { ...base, mode: 'variations', image },
    ];
    for (const req of requests) {
      const r = value(await service.generate(req.mode, req));
      expect(r.images[0]!.image.data.length, req.mode).toBe(64 * 64 * 4);
    }
  });

  it('a 2.2-shaped request (family kandinsky-2.2) is BAD_REQUEST naming both families', async () => {
    const e = error(await service.generate('x', { ...base, family: 'kandinsky-2.2' }));
    expect(e.code).toBe(ErrorCode.BadRequest);
    expect(e.message).toContain('kandinsky-2.2');
    expect(e.message).toContain('kandinsky-2.1');
    expect(e).toMatchObject({ expected: 'family kandinsky-2.1', actual: 'family kandinsky-2.2' });
    expect(error(await service.generate('y', { ...base, family: 'kandinsky-3' as never })).code).toBe(ErrorCode.BadRequest);
  });

  it('a personal linear prior of another family or size is BAD_PRIOR_FILE', async () => {
    const D = 32;
    const linear = (family: string, side = D) => ({ from: 'user' as const, id: 'p', name: 'mine', family, weight: new Float32Array(side * side), bias: new Float32Array(side) });
    const other = error(await service.generate('p', { ...base, prior: { kind: 'linear', linear: linear('kandinsky-2.2') } }));
    expect(other.code).toBe(ErrorCode.BadPriorFile);
    expect(other.message).toMatch(/fitted on a kandinsky-2\.2 model.*is kandinsky-2\.1/);
    expect(error(await service.generate('q', { ...base, prior: { kind: 'linear', linear: linear('kandinsky-2.1', 16) } })).code).toBe(ErrorCode.BadPriorFile);
    value(await service.generate('r', { ...base, prior: { kind: 'linear', linear: linear('kandinsky-2.1') } }));
  });
});

describe('bad 2.1 bundles and cross-family requests, as data', () => {
  it('a 2.2 model refuses a request made for 2.1', async () => {
    const service = new EngineService();
    value(await service.load(await tinyBundleSource(), { provider: 'wasm' }));
    expect((await service.info())?.family).toBe('kandinsky-2.2');
    expect((await service.info())?.defaults).toEqual(FAMILY_DEFAULTS['kandinsky-2.2']);
    const e = error(await service.generate('x', { ...base, scheduler: 'ddpm' }));
    expect(e.code).toBe(ErrorCode.BadRequest);
    expect(e.message).toMatch(/made for a kandinsky-2\.1 model.*is kandinsky-2\.2/);
  });

  it('a 2.1 manifest without its multilingual encoder or tokenizer entry is BAD_MANIFEST naming the field', async () => {
    const noStage = manifest21();
    delete noStage.stages.text_encoder_multilingual;
    const e = error(await new EngineService().load(await tinyBundle21Source({ 'manifest.json': bytes(noStage) }), { provider: 'wasm' }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('stages.text_encoder_multilingual');
    const noText = manifest21();
    delete noText.text_multilingual;
    const t = error(await new EngineService().load(await tinyBundle21Source({ 'manifest.json': bytes(noText) }), { provider: 'wasm' }));
    expect(t.code).toBe(ErrorCode.BadManifest);
    expect(t.message).toContain('"text_multilingual"');
  });

  it('a 2.1 bundle whose multilingual encoder file is missing fails the run with MISSING_FILE', async () => {
    const service = new EngineService();
    value(await service.load(await tinyBundle21Source({ 'text_encoder_multilingual.onnx': null }), { provider: 'wasm' }));
    const e = error(await service.generate('m', base));
    expect(e.code).toBe(ErrorCode.MissingFile);
    expect(e.file).toBe('text_encoder_multilingual.onnx');
  });

  it('a tokenizer of the wrong kind is BAD_MANIFEST at load, naming the file and the expected model type', async () => {
    const clip = readFileSync(join(TINY_BUNDLE_DIR, 'tokenizer/tokenizer.json'));
    const swapped = error(await new EngineService().load(
      await tinyBundle21Source({ 'tokenizer_multilingual/tokenizer.json': new Uint8Array(clip) }), { provider: 'wasm' },
    ));
    expect(swapped.code).toBe(ErrorCode.BadManifest);
    expect(swapped).toMatchObject({ file: 'tokenizer_multilingual/tokenizer.json', expected: 'model.type: "Unigram" (XLM-R Unigram)' });
    const xlmr = readFileSync(join(TINY_21_BUNDLE_DIR, 'tokenizer_multilingual/tokenizer.json'));
    const reverse = error(await new EngineService().load(await tinyBundleSource({ 'tokenizer/tokenizer.json': new Uint8Array(xlmr) }), { provider: 'wasm' }));
    expect(reverse).toMatchObject({ code: ErrorCode.BadManifest, file: 'tokenizer/tokenizer.json', expected: 'model.type: "BPE" (CLIP BPE)' });
  });
});
