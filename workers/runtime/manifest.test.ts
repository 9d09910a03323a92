import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { parseManifest, parseManifestText, stageComputesFloat16, stageDtype } from './manifest.ts';
import { thrownEngineError } from '../testing/engine-error.ts';

const text = readFileSync(new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url), 'utf8');
type Json = Record<string, any>;
const real = (): Json => JSON.parse(text) as Json;


/** Parses a modified copy of the real manifest and returns the error. */
const bad = (edit: (m: Json) => void): EngineError => {
  const m = real();
  edit(m);
  return thrownEngineError(() => parseManifest(m, 'test/manifest.json'));
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
    const e = thrownEngineError(() => parseManifestText('<html>404</html>', 'https://x/manifest.json'));
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
    // Version 2 (docs/kandinsky-2-1.md) is supported since Kandinsky 2.1; 3 is the first unknown one.
    const e = bad((m) => { m.version = 3; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/"version" should be one of \[1, 2\] but is 3.*update the app/);
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
    expect(thrownEngineError(() => parseManifest(null, 'm.json')).message).toMatch(/"\(root\)" should be an object but is null/);
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

describe('float16 compute (the exporter\'s precision variants, tools/export/README.md "Variants")', () => {
  /** What `python -m tools.export.variant --dtype fp16` writes: float32 I/O, float16 compute per stage. */
  const fp16Variant = (m: Json): void => {
    m.precision = { dtype: 'fp16', quantize: 'none', requires_shader_f16: true };
    for (const entry of Object.values(m.stages as Record<string, Json>)) Object.assign(entry, { compute_dtype: 'float16', weights: 'float16' });
  };

  it('reads compute_dtype: an fp16 variant computes in float16 behind float32 inputs and outputs', () => {
    const m = real();
    fp16Variant(m);
    const parsed = parseManifest(m, 'x');
    expect(parsed.precision).toEqual({ requires_shader_f16: true });
    expect(parsed.stages.unet?.compute_dtype).toBe('float16');
    expect(stageDtype(parsed, 'unet')).toBe('float32'); // no conversion at the boundary
    expect(stageComputesFloat16(parsed, 'unet')).toBe(true);
    expect(stageComputesFloat16(parsed, 'movq_decoder')).toBe(true);
  });

  it('fp32 and int8/int4 variants (compute_dtype float32) and plain bundles do not compute in float16', () => {
    const plain = parseManifestText(text, 'manifest.json');
    expect(plain.precision).toBeUndefined();
    expect(stageComputesFloat16(plain, 'unet')).toBe(false);
    const m = real();
    m.precision = { dtype: 'fp32', quantize: 'int4', requires_shader_f16: false };
    for (const entry of Object.values(m.stages as Record<string, Json>)) Object.assign(entry, { compute_dtype: 'float32', weights: 'int4' });
    expect(stageComputesFloat16(parseManifest(m, 'x'), 'unet')).toBe(false);
  });

  it('float16 I/O means float16 compute; without compute_dtype the bundle\'s precision decides', () => {
    const m = real();
    m.stages.unet.dtype = 'float16';
    expect(stageComputesFloat16(parseManifest(m, 'x'), 'unet')).toBe(true);
    expect(stageComputesFloat16(parseManifest(m, 'x'), 'prior')).toBe(false);
    m.precision = { requires_shader_f16: true };
    expect(stageComputesFloat16(parseManifest(m, 'x'), 'prior')).toBe(true);
  });

  it('refuses a compute_dtype or requires_shader_f16 of the wrong kind with BAD_MANIFEST naming the field', () => {
    const e1 = bad((m) => { m.stages.unet.compute_dtype = 'bfloat16'; });
    expect(e1.code).toBe(ErrorCode.BadManifest);
    expect(e1.message).toMatch(/"stages.unet.compute_dtype" should be one of "float32", "float16" but is "bfloat16"/);
    const e2 = bad((m) => { m.precision = { requires_shader_f16: 'yes' }; });
    expect(e2.code).toBe(ErrorCode.BadManifest);
    expect(e2.message).toMatch(/"precision.requires_shader_f16" should be true or false but is "yes"/);
  });
});

describe('manifest bounds and scheduler configs (issue 13)', () => {
  it('bounds text.max_length: 1e9 is refused before anything allocates it', () => {
    const e = bad((m) => { m.text.max_length = 1e9; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/"text.max_length" should be an integer from 2 to 512 but is 1000000000/);
  });

  it('bounds image_processor.size and crop_size (1e6 used to end INTERNAL)', () => {
    expect(bad((m) => { m.image_processor.size = 1e6; }).message).toMatch(/"image_processor.size" should be an integer from 1 to 1024/);
    expect(bad((m) => { m.image_processor.crop_size = 1e6; }).message).toMatch(/"image_processor.crop_size" should be an integer from 1 to 1024/);
    expect(bad((m) => { m.image_processor.crop_size = 256; }).message).toMatch(/"image_processor.crop_size" should be at most image_processor.size \(224\)/);
  });

  it('bounds embedding_dim, movq numbers, byte counts, dims and normalisation', () => {
    const cases: [(m: Json) => void, RegExp][] = [
      [(m) => { m.embedding_dim = 1e7; }, /"embedding_dim" should be an integer from 1 to 8192/],
      [(m) => { m.movq.scale_factor = 1024; }, /"movq.scale_factor" should be an integer from 1 to 64/],
      [(m) => { m.movq.scale_factor = 6; }, /"movq.scale_factor" should be a power of two/],
      [(m) => { m.movq.latent_channels = 1e5; }, /"movq.latent_channels" should be an integer from 1 to 64/],
      [(m) => { m.stages.unet.bytes = 2 ** 40; }, /"stages.unet.bytes" should be an integer from 1 to 2147483647/],
      [(m) => { m.stages.unet.external_data = [{ path: 'w.bin', bytes: 2 ** 33, sha256: 'a'.repeat(64) }]; }, /"stages.unet.external_data\[0\].bytes" should be an integer from 1 to/],
      [(m) => { m.stages.unet.inputs.sample = ['batch', 4, 1e9, 'width']; }, /"stages.unet.inputs.sample\[2\]" should be an integer from 0 to 1048576/],
      [(m) => { m.stages.unet.inputs.sample = Array(20).fill(1); }, /"stages.unet.inputs.sample \(rank\)" should be an integer from 0 to 8/],
      [(m) => { m.image_processor.mean[0] = 255; }, /"image_processor.mean\[0\]" should be a number from 0 to 1/],
      [(m) => { m.image_processor.std[2] = 1e-300; }, /"image_processor.std\[2\]" should be a number from 0.001 to 1/],
      [(m) => { m.name = 'x'.repeat(10_000); }, /"name \(length\)" should be an integer from 1 to 200/],
    ];
    for (const [edit, pattern] of cases) {
      const e = bad(edit);
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toMatch(pattern);
    }
  });

  it("checks the stages' declared dims against the manifest's numbers", () => {
    const e = bad((m) => { m.text.max_length = 64; });
    expect(e.message).toMatch(/"stages.text_encoder.inputs.input_ids\[1\]" should be 64 \(text.max_length\) but is 77/);
    expect(bad((m) => { m.embedding_dim = 64; }).message).toMatch(/"stages.text_encoder.outputs.text_embeds\[1\]" should be 64 \(embedding_dim\) but is 32/);
    expect(bad((m) => { m.movq.latent_channels = 3; }).message).toMatch(/"stages.unet.inputs.sample\[1\]" should be 3 \(movq.latent_channels\)/);
    // Symbolic dims are the graph's business (checked when its session is created).
    const m = real();
    m.text.max_length = 64;
    for (const [stage, io, kind] of [['text_encoder', 'input_ids', 'inputs'], ['text_encoder', 'last_hidden_state', 'outputs'], ['prior', 'encoder_hidden_states', 'inputs'], ['prior', 'attention_mask', 'inputs']] as const) {
      m.stages[stage][kind][io][1] = 'sequence';
    }
    expect(parseManifest(m, 'x').text.max_length).toBe(64);
  });

  it('bounds num_train_timesteps when the manifest is parsed (3e7 made a 64² image take 6 s)', () => {
    const e = bad((m) => { m.schedulers.decoder.num_train_timesteps = 3e7; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/field "schedulers.decoder": DDPMScheduler config: num_train_timesteps is 30000000, expected an integer ≤ 10000/);
    expect(e.details.expected).toBe('schedulers.decoder.num_train_timesteps: an integer ≤ 10000');
  });

  it('validates scheduler configs at parse time, before any download (unknown class, types, betas)', () => {
    const cases: [(m: Json) => void, RegExp][] = [
      [(m) => { m.schedulers.decoder._class_name = 'Foo'; }, /field "schedulers.decoder": Scheduler config: _class_name "Foo" is not supported/],
      [(m) => { m.schedulers.prior.prediction_type = 'v_prediction'; }, /field "schedulers.prior": UnCLIPScheduler config: prediction_type is "v_prediction"/],
      [(m) => { m.schedulers.prior.variance_type = 'learned_range'; }, /field "schedulers.prior": UnCLIPScheduler config: variance_type/],
      [(m) => { m.schedulers.decoder.beta_end = 1.5; }, /field "schedulers.decoder": DDPMScheduler config: beta_end is 1.5, expected a number between 0 and 1/],
      [(m) => { m.schedulers.decoder.steps_offset = 5000; }, /steps_offset is 5000, expected an integer ≤ 999/],
      [(m) => { m.schedulers.decoder.clip_sample = true; m.schedulers.decoder.clip_sample_range = -1; }, /clip_sample_range is -1/],
      [(m) => { m.scheduler_alternatives.ddim._class_name = 'Foo'; }, /field "scheduler_alternatives.ddim": Scheduler config: _class_name "Foo"/],
      [(m) => { m.scheduler_alternatives.dpmpp_2m.solver_order = 3; }, /field "scheduler_alternatives.dpmpp_2m": DPMSolverMultistepScheduler config: solver_order is 3/],
      [(m) => { m.scheduler_alternatives.ddim.num_train_timesteps = -4; }, /field "scheduler_alternatives.ddim": DDIMScheduler config: num_train_timesteps is -4/],
      // No dpmpp_2m alternative: the decoder config re-classed must build too (use_karras_sigmas is DPM-only).
      [(m) => { delete m.scheduler_alternatives.dpmpp_2m; m.schedulers.decoder.use_karras_sigmas = true; }, /field "schedulers.decoder \(as dpmpp_2m\)": DPMSolverMultistepScheduler config: use_karras_sigmas/],
    ];
    for (const [edit, pattern] of cases) {
      const e = bad(edit);
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toMatch(pattern);
    }
  });
});
