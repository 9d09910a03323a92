import { beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../service.ts';
import { ErrorCode } from '../errors.ts';
import type { FitPriorRequest, FitProgress, FittedPrior, LinearPriorSource, Result, RgbaImage, Text2ImgRequest } from '../protocol.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TINY_BUNDLE_DIR, tinyBundleSource } from '../testing/tiny-bundle.ts';
import { checkPriorFitsModel, decodeLinearPrior, encodeLinearPrior, LINEAR_PRIOR_SPACE, type LinearPriorHeader } from './file.ts';

const base: Text2ImgRequest = {
  mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 2, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 7, numImages: 1,
};

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function errorOf<T>(r: Result<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** A w×h picture: a colour ramp that differs per index. */
function picture(i: number, w = 40, h = 30): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      data[o] = (x * 6 + i * 40) % 256;
      data[o + 1] = (y * 8 + i * 90) % 256;
      data[o + 2] = (i * 37) % 256;
      data[o + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}

const header = (d: number, name = 'test'): LinearPriorHeader => ({
  format: 'kandinsky-linear-prior', version: 1, name, family: 'kandinsky-2.2', embedding_dim: d, text_dim: d, space: LINEAR_PRIOR_SPACE,
});

describe('linear prior file', () => {
  it('round-trips W, b and the header, and refuses damage with BAD_PRIOR_FILE', () => {
    const d = 5;
    const weight = Float32Array.from({ length: d * d }, (_, i) => Math.sin(i));
    const bias = Float32Array.from({ length: d }, (_, i) => i / 3);
    const bytes = encodeLinearPrior({ header: { ...header(d), lambda: 0.5, image_hashes: ['ab'] }, weight, bias });
    const back = decodeLinearPrior(bytes);
    expect(Array.from(back.weight)).toEqual(Array.from(weight));
    expect(Array.from(back.bias)).toEqual(Array.from(bias));
    expect(back.header).toMatchObject({ name: 'test', embedding_dim: d, lambda: 0.5, image_hashes: ['ab'] });
    const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as { code?: string }).code; } return 'none'; };
    expect(code(() => decodeLinearPrior(bytes.subarray(0, bytes.length - 4)))).toBe(ErrorCode.BadPriorFile);
    expect(code(() => decodeLinearPrior(new TextEncoder().encode('{"not":"a prior"}')))).toBe(ErrorCode.BadPriorFile);
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(nan.length - 4, NaN, true);
    expect(code(() => decodeLinearPrior(nan))).toBe(ErrorCode.BadPriorFile);
    expect(code(() => checkPriorFitsModel(back.header, { embeddingDim: 32, family: 'kandinsky-2.2', name: 'tiny' }))).toBe(ErrorCode.BadPriorFile);
  });
});

describe('prior kinds and fitting in the engine (tiny bundle, wasm)', () => {
  const service = new EngineService();
  let D = 0;
  let fitted: FittedPrior;
  beforeAll(async () => {
    D = value(await service.load(await tinyBundleSource(), { provider: 'wasm' })).embeddingDim;
  });

  const fitRequest = (n: number, shared = false): FitPriorRequest => ({
    images: Array.from({ length: n }, (_, i) => picture(i)),
    captions: shared ? ['a photo of my cat'] : Array.from({ length: n }, (_, i) => `picture ${i} in colour ${['red', 'green', 'blue', 'grey'][i % 4]}`),
  });

  it('fits W and b from images and captions, reporting progress and the leave-one-out error', async () => {
    const events: FitProgress[] = [];
    fitted = value(await service.fitPrior('fit-1', fitRequest(8), (p) => events.push(p)));
    expect(fitted.weight.length).toBe(D * D);
    expect(fitted.bias.length).toBe(D);
    expect(fitted.sharedCaption).toBe(false);
    expect(fitted.grid.length).toBe(13);
    expect(fitted.looError).toBe(Math.min(...fitted.grid.map((g) => g.looError)));
    expect(fitted.looError).toBeLessThanOrEqual(fitted.baselineError * 1.05);
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['image_encoder', 'text_encoder', 'solve']));
    expect(events.filter((e) => e.phase === 'image_encoder').at(-1)).toMatchObject({ step: 8, total: 8 });
  });

  it('one shared caption gives W = 0 and b = the mean embedding: every prompt makes the same picture', async () => {
    const shared = value(await service.fitPrior('fit-2', fitRequest(6, true)));
    expect(shared.sharedCaption).toBe(true);
    expect(shared.weight.every((v) => v === 0)).toBe(true);
    const linear: LinearPriorSource = { from: 'user', id: 'cat', name: 'cat prior', weight: shared.weight, bias: shared.bias };
    const a = value(await service.generate('c1', { ...base, prompt: 'a castle', prior: { kind: 'linear', linear } }));
    const b = value(await service.generate('c2', { ...base, prompt: 'the sea', prior: { kind: 'linear', linear } }));
    expect(Buffer.from(a.images[0]!.image.data).equals(Buffer.from(b.images[0]!.image.data))).toBe(true);
  });

  it('generates with linear, none and blend priors, records them, and the same request gives the same pixels', async () => {
    const linear: LinearPriorSource = { from: 'user', id: 'p1', name: 'mine', weight: fitted.weight, bias: fitted.bias };
    const runs = {
      diffusion: value(await service.generate('k0', base)),
      linear: value(await service.generate('k1', { ...base, prior: { kind: 'linear', linear } })),
      none: value(await service.generate('k2', { ...base, prior: { kind: 'none' } })),
      blend: value(await service.generate('k3', { ...base, prior: { kind: 'blend', linear, linearWeight: 0.5 } })),
    };
    expect(runs.diffusion.images[0]!.params.prior).toEqual({ kind: 'diffusion' });
    expect(runs.linear.images[0]!.params.prior).toEqual({ kind: 'linear', linear: { from: 'user', id: 'p1', name: 'mine' } });
    expect(runs.none.images[0]!.params.prior).toEqual({ kind: 'none' });
    expect(runs.blend.images[0]!.params.prior).toEqual({ kind: 'blend', linear: { from: 'user', id: 'p1', name: 'mine' }, linearWeight: 0.5 });
    const px = (r: typeof runs.linear) => Buffer.from(r.images[0]!.image.data);
    expect(px(runs.linear).equals(px(runs.diffusion))).toBe(false);
    expect(px(runs.none).equals(px(runs.linear))).toBe(false);
    const again = value(await service.generate('k4', { ...base, prior: { kind: 'linear', linear } }));
    expect(px(again).equals(px(runs.linear))).toBe(true);
  });

  it('the prior kinds work in image-to-image, inpainting and fusion text conditions too; variations ignore them', async () => {
    const image = picture(2, 64, 64);
    const mask = { width: 64, height: 64, data: new Uint8Array(64 * 64).fill(255) };
    const runs = [
      await service.generate('m1', { ...base, mode: 'img2img', image, strength: 1, prior: { kind: 'none' } }),
      await service.generate('m2', { ...base, mode: 'inpaint', image, mask, prior: { kind: 'none' } }),
      await service.generate('m3', {
        ...base, mode: 'fusion', conditions: [{ kind: 'text', prompt: 'a cat', weight: 0.5 }, { kind: 'image', image: picture(1), weight: 0.5 }],
        prior: { kind: 'none' },
      }),
    ];
    for (const r of runs) expect(value(r).images[0]!.params.prior).toEqual({ kind: 'none' });
    const plain = value(await service.generate('m4', { ...base, mode: 'img2img', image, strength: 1 }));
    expect(Buffer.from(plain.images[0]!.image.data).equals(Buffer.from(value(runs[0]!).images[0]!.image.data))).toBe(false);
    const v = value(await service.generate('m5', { ...base, mode: 'variations', image, prior: { kind: 'none' } }));
    expect(v.images[0]!.params.prior).toEqual({ kind: 'diffusion' });
  });

  it('bad prior choices and fits get clear errors and the engine keeps serving', async () => {
    const wrong: LinearPriorSource = { from: 'user', id: 'w', name: 'for 2.1', weight: new Float32Array(768 * 768), bias: new Float32Array(768) };
    const e1 = errorOf(await service.generate('b1', { ...base, prior: { kind: 'linear', linear: wrong } }));
    expect(e1.code).toBe(ErrorCode.BadPriorFile);
    expect(e1.message).toMatch(/768-d .* 32-d/);
    expect(errorOf(await service.generate('b2', { ...base, prior: { kind: 'linear', linear: { from: 'bundle' } } })).code).toBe(ErrorCode.BadRequest);
    expect(errorOf(await service.generate('b3', { ...base, prior: { kind: 'blend', linear: { from: 'bundle' }, linearWeight: 2 } })).message).toMatch(/linearWeight/);
    expect(errorOf(await service.generate('b4', { ...base, prior: { kind: 'magic' } as never })).code).toBe(ErrorCode.BadRequest);
    const few = errorOf(await service.fitPrior('b5', fitRequest(3)));
    expect(few.code).toBe(ErrorCode.BadRequest);
    expect(few.message).toMatch(/at least 4 images/);
    const unreadable = errorOf(await service.fitPrior('b6', { images: [...fitRequest(4).images, { width: 10, height: 10, data: new Uint8ClampedArray(7) }], captions: ['x'] }));
    expect(unreadable.message).toMatch(/image 5 is not RGBA pixels/);
    expect(errorOf(await service.fitPrior('b7', { ...fitRequest(5), captions: ['a', 'b'] })).message).toMatch(/2 captions for 5 images/);
    value(await service.generate('b8', base));
  });

  it('a cancel mid-fit answers CANCELLED and the next fit still works', async () => {
    const pending = service.fitPrior('cx', fitRequest(12), (p) => { if (p.phase === 'image_encoder' && p.step === 3) service.cancel('cx'); });
    const e = errorOf(await pending);
    expect(e.code).toBe(ErrorCode.Cancelled);
    value(await service.fitPrior('cy', fitRequest(4)));
  });
});

describe("a bundle's own linear prior (manifest linear_prior)", () => {
  const manifest = JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const withPrior = (bytes: Uint8Array) => tinyBundleSource({
    'linear_prior.kwlp': bytes,
    'manifest.json': new TextEncoder().encode(JSON.stringify({
      ...manifest, linear_prior: { file: 'linear_prior.kwlp', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    })),
  });
  const d = 32;
  const weight = Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 0.5 : Math.sin(i) * 0.01));
  const bias = Float32Array.from({ length: d }, (_, i) => Math.cos(i) * 0.1);

  it('loads, is reported, and draws the same pixels as the same W and b sent as a personal prior', async () => {
    const service = new EngineService();
    const info = value(await service.load(await withPrior(encodeLinearPrior({ header: header(d, 'shipped'), weight, bias })), { provider: 'wasm' }));
    expect(info.linearPrior).toEqual({ name: 'shipped', textDim: d, embeddingDim: d });
    const fromBundle = value(await service.generate('lb', { ...base, prior: { kind: 'linear', linear: { from: 'bundle' } } }));
    expect(fromBundle.images[0]!.params.prior).toEqual({ kind: 'linear', linear: { from: 'bundle' } });
    const fromUser = value(await service.generate('lu', { ...base, prior: { kind: 'linear', linear: { from: 'user', id: 'x', name: 'x', weight, bias } } }));
    expect(Buffer.from(fromBundle.images[0]!.image.data).equals(Buffer.from(fromUser.images[0]!.image.data))).toBe(true);
  });

  it('a bundle prior of the wrong size fails the load with BAD_PRIOR_FILE', async () => {
    const service = new EngineService();
    const e = errorOf(await service.load(await withPrior(encodeLinearPrior({ header: header(8), weight: new Float32Array(64), bias: new Float32Array(8) })), { provider: 'wasm' }));
    expect(e.code).toBe(ErrorCode.BadPriorFile);
  });
});
