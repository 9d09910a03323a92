import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineService } from './service.ts';
import { ErrorCode } from './errors.ts';
import type { GenerateRequest, Progress, Result, Text2ImgRequest } from './protocol.ts';
import { TINY_BUNDLE_DIR, tinyBundleSource } from './testing/tiny-bundle.ts';
import { DDPMScheduler } from './schedulers/index.ts';

const base: Text2ImgRequest = {
  mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 3, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 42, numImages: 1,
};

function expectError<T>(r: Result<T>, code: string): void {
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error.code).toBe(code);
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('EngineService on the tiny bundle (wasm, Node)', () => {
  const service = new EngineService();
  beforeAll(async () => {
    value(await service.load(await tinyBundleSource(), { provider: 'wasm' }));
  });

  it('reports the bundle and its modes', async () => {
    const info = await service.info();
    expect(info?.name).toBe('tiny-random-kandinsky-2-2');
    expect(info?.modes).toEqual({ text2img: true, img2img: true, inpaint: true, fusion: true, variations: true });
    expect(info?.ep).toBe('wasm');
  });

  it('generates the same pixels for the same seed, different pixels for another, with progress and params', async () => {
    const events: Progress[] = [];
    const a = value(await service.generate('a', base, (p) => events.push(p)));
    const b = value(await service.generate('b', base));
    const c = value(await service.generate('c', { ...base, seed: 43 }));
    expect(a.images).toHaveLength(1);
    const img = a.images[0]!;
    expect([img.image.width, img.image.height]).toEqual([64, 64]);
    expect(img.image.data.length).toBe(64 * 64 * 4);
    expect(Buffer.from(img.image.data).equals(Buffer.from(b.images[0]!.image.data))).toBe(true);
    expect(Buffer.from(img.image.data).equals(Buffer.from(c.images[0]!.image.data))).toBe(false);
    expect(img.params).toMatchObject({ mode: 'text2img', prompt: 'a red cat', seed: 42, steps: 3, width: 64, height: 64, ep: 'wasm' });
    const stages = new Set(events.map((e) => e.stage));
    expect([...stages]).toEqual(expect.arrayContaining(['text_encoder', 'prior', 'unet', 'movq_decoder']));
    const unet = events.filter((e) => e.stage === 'unet');
    expect(unet.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(unet.every((e) => e.total === 3)).toBe(true);
    // Timings are durations per stage that add up to (at most) the run's wall time.
    const { total, ...perStage } = a.timings;
    expect(Object.keys(perStage)).toEqual(expect.arrayContaining(['text_encoder', 'prior', 'unet', 'movq_decoder']));
    expect(Object.values(perStage).every((ms) => ms >= 0)).toBe(true);
    expect(perStage.unet).toBeGreaterThan(0);
    expect(Object.values(perStage).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(total + 1e-6);
  });

  it('live previews: the decoded x̂_0 after the paced steps (never the last), the result unchanged', async () => {
    const events: Progress[] = [];
    const request = { ...base, steps: 5, numImages: 2 };
    const withPreviews = value(await service.generate('p', { ...request, preview: { every: 2, maxShare: 1 } }, (p) => events.push(p)));
    const without = value(await service.generate('q', request));
    const previews = events.filter((e) => e.preview !== undefined);
    expect(previews.map((e) => [e.image, e.stage, e.step, e.total])).toEqual([[0, 'unet', 2, 5], [0, 'unet', 4, 5], [1, 'unet', 2, 5], [1, 'unet', 4, 5]]);
    for (const e of previews) {
      expect([e.preview!.width, e.preview!.height, e.preview!.data.length]).toEqual([64, 64, 64 * 64 * 4]);
      // An image, not a blank: the decoded estimate varies over the frame.
      expect(new Set(e.preview!.data.filter((_, k) => k % 4 === 0)).size).toBeGreaterThan(16);
    }
    // The estimate moves towards the result as the loop goes on.
    const last = withPreviews.images[0]!.image.data;
    const distance = (img: Uint8ClampedArray) => img.reduce((sum, v, k) => sum + Math.abs(v - last[k]!), 0);
    expect(distance(previews[1]!.preview!.data)).toBeLessThan(distance(previews[0]!.preview!.data));
    withPreviews.images.forEach((img, i) => expect(Buffer.from(img.image.data).equals(Buffer.from(without.images[i]!.image.data))).toBe(true));
  });

  it('numImages gives one image per seed, seed + i', async () => {
    const r = value(await service.generate('n', { ...base, numImages: 2 }));
    expect(r.images.map((i) => i.params.seed)).toEqual([42, 43]);
    const single = value(await service.generate('s', { ...base, seed: 43 }));
    expect(Buffer.from(r.images[1]!.image.data).equals(Buffer.from(single.images[0]!.image.data))).toBe(true);
  });

  it('rounds sizes up to multiples of 64 and says so', async () => {
    const r = value(await service.generate('r', { ...base, width: 100, height: 64, steps: 1 }));
    expect(r.images[0]!.image.width).toBe(128);
    expect(r.warnings.join(' ')).toMatch(/width 100 was rounded up to 128/);
  });

  it('accepts an empty prompt and truncates a 2,000-character one with a warning', async () => {
    value(await service.generate('e', { ...base, prompt: '', steps: 1 }));
    const long = value(await service.generate('l', { ...base, prompt: 'a very long prompt '.repeat(106), steps: 1 }));
    expect(long.warnings.join(' ')).toMatch(/truncated to 77 tokens/);
  });

  it.each([
    ['NaN steps', { steps: NaN }],
    ['zero steps', { steps: 0 }],
    ['negative steps', { steps: -3 }],
    ['absurd steps', { steps: 1e9 }],
    ['fractional steps', { steps: 2.5 }],
    ['NaN guidance', { guidance: NaN }],
    ['negative guidance', { guidance: -1 }],
    ['absurd guidance', { guidance: 1e6 }],
    ['one prior step', { priorSteps: 1 }],
    ['too wide', { width: 4096 }],
    ['zero height', { height: 0 }],
    ['negative seed', { seed: -1 }],
    ['five images', { numImages: 5 }],
    ['unknown scheduler', { scheduler: 'euler' }],
    ['a null fusion condition', { mode: 'fusion', conditions: [{ kind: 'text', prompt: 'a', weight: 1 }, null] }],
    ['17 fusion conditions', { mode: 'fusion', conditions: Array.from({ length: 17 }, () => ({ kind: 'text', prompt: 'a', weight: 1 })) }],
    ['1024² on the CPU (wasm) path', { width: 1024, height: 1024 }],
    ['a preview that is not an object', { preview: 'often' }],
    ['a preview every 0 steps', { preview: { every: 0 } }],
    ['a preview every 1.5 steps', { preview: { every: 1.5 } }],
    ['a preview time share of 0', { preview: { every: 1, maxShare: 0 } }],
    ['a preview time share above 1', { preview: { every: 1, maxShare: 2 } }],
  ])('rejects %s with BAD_REQUEST and keeps serving', async (_name, patch) => {
    const r = await service.generate('bad', { ...base, ...patch } as GenerateRequest);
    expectError(r, ErrorCode.BadRequest);
    if (!r.ok) expect(r.error.message.length).toBeGreaterThan(10);
    value(await service.generate('after', { ...base, steps: 1 }));
  });

  it('rejects a mask or image of the wrong size for inpainting', async () => {
    const image = { width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4) };
    const r = await service.generate('m', { ...base, mode: 'inpaint', image, mask: { width: 32, height: 32, data: new Uint8Array(32 * 32) } });
    expectError(r, ErrorCode.BadRequest);
    if (!r.ok) expect(r.error.message).toMatch(/64×64/);
  });

  it('cancels within one step and keeps serving', async () => {
    let cancelledAt = -1;
    const events: Progress[] = [];
    const run = service.generate('cancel-me', { ...base, steps: 50 }, (p) => {
      events.push(p);
      if (p.stage === 'unet' && p.step === 2) {
        cancelledAt = events.length;
        service.cancel('cancel-me');
      }
    });
    const r = await run;
    expectError(r, ErrorCode.Cancelled);
    // At most one more progress event after the cancel.
    expect(events.length - cancelledAt).toBeLessThanOrEqual(1);
    value(await service.generate('after-cancel', { ...base, steps: 1 }));
  });

  it('runs every mode', async () => {
    const rgba = new Uint8ClampedArray(64 * 64 * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) % 256;
    const image = { width: 64, height: 64, data: rgba };
    const mask = new Uint8Array(64 * 64);
    for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) mask[y * 64 + x] = 255;
    const reqs: GenerateRequest[] = [
      { ...base, mode: 'img2img', image, strength: 0.7, steps: 3 },
      { ...base, mode: 'inpaint', image, mask: { width: 64, height: 64, data: mask } },
      { ...base, mode: 'fusion', conditions: [{ kind: 'text', prompt: 'horse', weight: 0.5 }, { kind: 'image', image, weight: 0.5 }] },
      { ...base, mode: 'variations', image },
    ];
    for (const req of reqs) {
      const r = value(await service.generate(req.mode, req));
      expect(r.images[0]!.image.data.length).toBe(64 * 64 * 4);
      expect(r.images[0]!.params.mode).toBe(req.mode);
    }
    const zero = await service.generate('z', { ...base, mode: 'fusion', conditions: [{ kind: 'text', prompt: 'x', weight: 0 }] });
    expectError(zero, ErrorCode.BadRequest);
  });
});

describe('EngineService errors', () => {
  it('answers NO_MODEL before a load', async () => {
    expectError(await new EngineService().generate('x', base), ErrorCode.NoModel);
  });

  it('answers STAGE_MISSING for inpainting with a bundle that has no unet_inpaint', async () => {
    const manifest = JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8'));
    delete manifest.stages.unet_inpaint;
    const source = await tinyBundleSource({ 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)), 'unet_inpaint.onnx': null });
    const service = new EngineService();
    const info = value(await service.load(source, { provider: 'wasm' }));
    expect(info.modes.inpaint).toBe(false);
    const image = { width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4) };
    const r = await service.generate('i', { ...base, mode: 'inpaint', image, mask: { width: 64, height: 64, data: new Uint8Array(64 * 64) } });
    expectError(r, ErrorCode.StageMissing);
    if (!r.ok) expect(r.error.message).toMatch(/unet_inpaint/);
  });

  /** The tiny bundle with its manifest edited. */
  const edited = async (edit: (m: Record<string, any>) => void) => {
    const manifest = JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8'));
    edit(manifest);
    return tinyBundleSource({ 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)) });
  };

  it('refuses a decoder scheduler of 3e7 training timesteps at load (BAD_MANIFEST), not at generate', async () => {
    const r = await new EngineService().load(await edited((m) => { m.schedulers.decoder.num_train_timesteps = 3e7; }), { provider: 'wasm' });
    expectError(r, ErrorCode.BadManifest);
    if (!r.ok) expect(r.error.message).toMatch(/schedulers\.decoder.*num_train_timesteps/);
  });

  it('a step count the schedule cannot honour is BAD_REQUEST; any other RangeError is INTERNAL', async () => {
    const service = new EngineService();
    value(await service.load(await edited((m) => {
      for (const c of [m.schedulers.decoder, m.scheduler_alternatives.ddim, m.scheduler_alternatives.dpmpp_2m]) c.num_train_timesteps = 50;
    }), { provider: 'wasm' }));
    const tooMany = await service.generate('t', { ...base, steps: 60 });
    expectError(tooMany, ErrorCode.BadRequest);
    if (!tooMany.ok) expect(tooMany.error.message).toMatch(/from 1 to 50/);
    // A RangeError from inside the engine (a bug) is not the user's bad request.
    const bug = vi.spyOn(DDPMScheduler.prototype, 'setTimesteps').mockImplementation(() => { throw new RangeError('Invalid array length'); });
    try {
      expectError(await service.generate('b', base), ErrorCode.Internal);
    } finally {
      bug.mockRestore();
    }
    value(await service.generate('ok', base));
  });

  it('reports a corrupt manifest as BAD_MANIFEST', async () => {
    const service = new EngineService();
    const r = await service.load(await tinyBundleSource({ 'manifest.json': new TextEncoder().encode('{not json') }), { provider: 'wasm' });
    expectError(r, ErrorCode.BadManifest);
  });
});
