import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { parseManifest, parseManifestText, stageDtype } from './manifest.ts';

const text = readFileSync(new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url), 'utf8');
type Json = Record<string, any>;
const real = (): Json => JSON.parse(text) as Json;

function error(f: () => unknown): EngineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

/** Parses a modified copy of the real manifest and returns the error. */
const bad = (edit: (m: Json) => void): EngineError => {
  const m = real();
  edit(m);
  return error(() => parseManifest(m, 'test/manifest.json'));
};

describe('parseManifest', () => {
  it('accepts the fixture bundle manifest', () => {
    const m = parseManifestText(text, 'manifest.json');
    expect(m.name).toBe('tiny-random-kandinsky-2-2');
    expect(m.embedding_dim).toBe(32);
    expect(m.image_processor.mean).toHaveLength(3);
    expect(Object.keys(m.stages).sort()).toEqual(['image_encoder', 'movq_decoder', 'movq_encoder', 'prior', 'text_encoder', 'unet', 'unet_inpaint']);
    expect(m.stages.prior?.stats).toBe('prior_stats.json');
    expect(m.stages.unet?.inputs.sample).toEqual(['batch', 4, 'height', 'width']);
    expect(m.schedulers.prior._class_name).toBe('UnCLIPScheduler');
    expect(m.scheduler_alternatives?.dpmpp_2m?._class_name).toBe('DPMSolverMultistepScheduler');
    expect(stageDtype(m, 'unet')).toBe('float32');
  });

  it('reads the optional native_size, and a v1 manifest without it still loads (issue 11)', () => {
    expect(parseManifestText(text, 'manifest.json').native_size).toBeUndefined();
    const m = real();
    m.native_size = { width: 64, height: 128 };
    expect(parseManifest(m, 'manifest.json').native_size).toEqual({ width: 64, height: 128 });
    const e = bad((x) => { x.native_size = { width: 100, height: 64 }; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('native_size.width');
    expect(bad((x) => { x.native_size = 64; }).message).toContain('native_size');
  });

  it('rejects text that is not JSON', () => {
    const e = error(() => parseManifestText('<html>404</html>', 'https://x/manifest.json'));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/https:\/\/x\/manifest.json is not valid JSON/);
  });

  it('rejects a wrong format', () => {
    const e = bad((m) => { m.format = 'something-else'; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('"format"');
    expect(e.message).toContain('"kandinsky-onnx-bundle"');
    expect(e.details).toMatchObject({ file: 'test/manifest.json', actual: '"something-else"' });
  });

  it('rejects an unsupported version', () => {
    const e = bad((m) => { m.version = 2; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/"version" should be one of \[1\] but is 2.*update the app/);
  });

  for (const stage of ['text_encoder', 'prior', 'unet', 'movq_decoder']) {
    it(`rejects a bundle without the required stage ${stage}`, () => {
      const e = bad((m) => { delete m.stages[stage]; });
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toContain(`stages.${stage}`);
      expect(e.message).toContain('missing');
    });
  }

  it('accepts a bundle without optional stages', () => {
    const m = real();
    delete m.stages.image_encoder;
    delete m.stages.unet_inpaint;
    delete m.stages.movq_encoder;
    const parsed = parseManifest(m, 'x');
    expect(parsed.stages.unet_inpaint).toBeUndefined();
    expect(parsed.stages.unet).toBeDefined();
  });

  it('rejects a renamed input or output', () => {
    const e = bad((m) => {
      m.stages.unet.inputs.latent_model_input = m.stages.unet.inputs.sample;
      delete m.stages.unet.inputs.sample;
    });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('stages.unet.inputs');
    expect(e.message).toContain('[sample, timestep, image_embeds]');
    expect(e.message).toContain('latent_model_input');

    const o = bad((m) => {
      m.stages.text_encoder.outputs.pooled = m.stages.text_encoder.outputs.text_embeds;
      delete m.stages.text_encoder.outputs.text_embeds;
    });
    expect(o.message).toContain('stages.text_encoder.outputs');
  });

  it('rejects an extra input', () => {
    const e = bad((m) => { m.stages.movq_decoder.inputs.extra = [1]; });
    expect(e.message).toContain('stages.movq_decoder.inputs');
  });

  it('names the field and the expected type for bad types', () => {
    const cases: [(m: Json) => void, RegExp][] = [
      [(m) => { m.embedding_dim = '32'; }, /"embedding_dim" should be an integer >= 1 but is "32"/],
      [(m) => { m.text.max_length = 0; }, /"text.max_length" should be an integer >= 2/],
      [(m) => { m.image_processor.mean = [0.5, 0.5]; }, /"image_processor.mean" should be an array of 3 numbers but is an array of 2/],
      [(m) => { m.image_processor.std[1] = 0; }, /"image_processor.std\[1\]" should be a positive number/],
      [(m) => { m.image_processor.resample = 'bilinear'; }, /"image_processor.resample" should be "bicubic"/],
      [(m) => { m.stages.unet.sha256 = 'abc'; }, /"stages.unet.sha256" should be a sha256 hex digest/],
      [(m) => { m.stages.unet.bytes = -1; }, /"stages.unet.bytes" should be an integer >= 1/],
      [(m) => { m.stages.unet.file = '../../etc/passwd'; }, /"stages.unet.file" should be a relative path/],
      [(m) => { m.stages.unet.dtype = 'bfloat16'; }, /"stages.unet.dtype" should be one of "float32", "float16"/],
      [(m) => { m.stages.unet.external_data = [{ path: 'w.bin', bytes: 1 }]; }, /"stages.unet.external_data\[0\].sha256" should be/],
      [(m) => { m.stages.prior.inputs.timestep = 'batch'; }, /"stages.prior.inputs.timestep" should be an array of dimensions/],
      [(m) => { m.movq.force_not_quantize = 'yes'; }, /"movq.force_not_quantize" should be true or false/],
      [(m) => { m.schedulers = { prior: m.schedulers.prior }; }, /"schedulers.decoder" should be an object but is missing/],
      [(m) => { m.name = 7; }, /"name" should be a non-empty string but is 7/],
      [(m) => { m.stages = []; }, /"stages" should be an object but is an array of 0/],
    ];
    for (const [edit, pattern] of cases) {
      const e = bad(edit);
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toMatch(pattern);
    }
    expect(error(() => parseManifest(null, 'm.json')).message).toMatch(/"\(root\)" should be an object but is null/);
  });

  it('allows unknown extra fields and float16 stages with external data', () => {
    const m = real();
    m.exporter = { version: '0.3' };
    m.stages.unet.dtype = 'float16';
    m.stages.unet.notes = 'fp16 weights';
    m.stages.unet.external_data = [{ path: 'unet.onnx_data', bytes: 10, sha256: 'A'.repeat(64) }];
    const parsed = parseManifest(m, 'x');
    expect(stageDtype(parsed, 'unet')).toBe('float16');
    expect(stageDtype(parsed, 'prior')).toBe('float32');
    expect(parsed.stages.unet?.external_data).toEqual([{ path: 'unet.onnx_data', bytes: 10, sha256: 'a'.repeat(64) }]);
  });
});
