import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { f32, i64, type HostTensor } from '../tensor/tensor.ts';
import { bundleDirBytes } from '../testing/bundle-dir.ts';
import { loadBundle, type Bundle } from './bundle.ts';
import { createRuntime, deviceFeatures, fixedDims, MIN_SUBGROUP_LANES, type OrtRuntime } from './ort.ts';
import type { StageEntry } from './manifest.ts';
import { gpuTensorBytes } from './types.ts';
import type { StageFeeds } from './stage-io.ts';
import { rejectedEngineError } from '../testing/engine-error.ts';
import { withNavigatorGpu } from '../testing/fake-gpu.ts';

const bundleDir = fileURLToPath(new URL('../../public/models/tiny-kandinsky-2-2/', import.meta.url));
const fp16Graph = new Uint8Array(readFileSync(new URL('./testdata/image_encoder_fp16.onnx', import.meta.url)));
/** As the exporter writes fp16 variants: float16 weights and compute, float32 I/O (make_fp16_compute_fixture.py). */
const fp16ComputeGraph = new Uint8Array(readFileSync(new URL('./testdata/image_encoder_fp16_compute.onnx', import.meta.url)));

/** Every file of the fixture bundle, keyed by its path inside the bundle. */
const bundleFiles = (): Map<string, Uint8Array> => bundleDirBytes(bundleDir);

type Json = Record<string, any>;
/** The fixture bundle with an edited manifest (and extra files). */
async function bundleWith(edit: (m: Json) => void, extra: Record<string, Uint8Array> = {}): Promise<Bundle> {
  const files = bundleFiles();
  const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Json;
  edit(manifest);
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  for (const [k, v] of Object.entries(extra)) files.set(k, v);
  return loadBundle({ kind: 'files', files });
}

interface GoldenTensor { dtype: string; shape: number[]; b64?: string; data?: unknown[] }
const golden = (name: string): Json => JSON.parse(readFileSync(new URL(`../../tests/golden/${name}.json`, import.meta.url), 'utf8')) as Json;
function tensor(t: GoldenTensor): HostTensor {
  if (t.dtype === 'int64') return i64(BigInt64Array.from((t.data as unknown[]).flat(3) as number[], (v) => BigInt(v)), t.shape);
  const b = Buffer.from(t.b64!, 'base64');
  return f32(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), t.shape);
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
const maxAbsOf = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** SPEC §4, wasm EP, embeddings. */
const embeddingTolerance = (ref: Float32Array): number => 1e-4 * Math.max(1, maxAbsOf(ref));


const runtimes: OrtRuntime[] = [];
async function runtimeFor(bundle: Bundle, provider: 'wasm' | 'auto' | 'webgpu' = 'wasm'): Promise<OrtRuntime> {
  const r = await createRuntime(bundle, { provider });
  runtimes.push(r);
  return r;
}
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.dispose();
});

describe('createRuntime on the wasm EP', () => {
  it('runs text_encoder on the golden inputs within the SPEC §4 embedding tolerance', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    expect(rt.ep).toBe('wasm');
    for (const c of golden('text_encoder').cases as Json[]) {
      const out = await rt.run('text_encoder', { input_ids: tensor(c.input_ids) });
      for (const key of ['text_embeds', 'last_hidden_state']) {
        const ref = tensor(c[key]).data as Float32Array;
        const got = out[key as keyof typeof out];
        expect(got.type).toBe('float32');
        expect(got.dims).toEqual(c[key].shape);
        const err = maxAbs(got.data as Float32Array, ref);
        console.log(`text_encoder ${JSON.stringify(c.prompt)} ${key}: max abs error ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(embeddingTolerance(ref));
      }
    }
  });

  it('serialises concurrent runs and reuses the session', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    const cases = golden('text_encoder').cases as Json[];
    const outs = await Promise.all(cases.map((c) => rt.run('text_encoder', { input_ids: tensor(c.input_ids) })));
    for (const [i, c] of cases.entries()) {
      const again = await rt.run('text_encoder', { input_ids: tensor(c.input_ids) });
      expect(Array.from(outs[i]!.text_embeds!.data as Float32Array)).toEqual(Array.from(again.text_embeds!.data as Float32Array));
    }
  });

  it('runs a batch of 2 through the image encoder and the unet', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    const g = golden('image_encoder');
    const px = tensor(g.pixel_values).data as Float32Array;
    const both = new Float32Array(px.length * 2);
    both.set(px, px.length); // [zeros, image]
    const out = await rt.run('image_encoder', { pixel_values: f32(both, [2, 3, 224, 224]) });
    const emb = out.image_embeds!.data as Float32Array;
    const ref = tensor(g.image_embeds).data as Float32Array;
    const zeroRef = tensor(g.zero_image_embeds).data as Float32Array;
    expect(maxAbs(emb.subarray(32), ref)).toBeLessThanOrEqual(embeddingTolerance(ref));
    expect(maxAbs(emb.subarray(0, 32), zeroRef)).toBeLessThanOrEqual(embeddingTolerance(zeroRef));

    const unet = await rt.run('unet', {
      sample: f32(new Float32Array(2 * 4 * 8 * 8).fill(0.1), [2, 4, 8, 8]),
      timestep: f32(Float32Array.of(500, 500), [2]),
      image_embeds: f32(emb, [2, 32]),
    });
    expect(unet.out_sample!.dims).toEqual([2, 8, 8, 8]);
  });

  it('rejects feeds with missing, extra or wrongly typed inputs before running', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    const ids = i64(new BigInt64Array(77), [1, 77]);
    // Wrong feeds on purpose: the compiler would refuse them (runtime/stage-io.ts), the runtime must too.
    const untyped = rt as { run(stage: string, feeds: object): Promise<unknown> };
    const missing = await rejectedEngineError(untyped.run('text_encoder', {}));
    expect(missing.code).toBe(ErrorCode.Internal);
    expect(missing.message).toMatch(/takes \[input_ids\] but was given \[\]; missing input_ids/);
    const extra = await rejectedEngineError(untyped.run('text_encoder', { input_ids: ids, attention_mask: ids }));
    expect(extra.message).toMatch(/unexpected attention_mask/);
    const typed = await rejectedEngineError(rt.run('text_encoder', { input_ids: f32(new Float32Array(77), [1, 77]) }));
    expect(typed.message).toMatch(/input "input_ids" is float32 but the graph takes int64/);
  });

  it('reports a failing run with each input type and dims', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    const e = await rejectedEngineError(rt.run('unet', {
      sample: f32(new Float32Array(4 * 8 * 8), [1, 4, 8, 8]),
      timestep: f32(Float32Array.of(1), [1]),
      image_embeds: f32(new Float32Array(7), [1, 7]),
    }));
    expect(e.code).toBe(ErrorCode.Runtime);
    expect(e.message).toContain('Stage unet ("unet.onnx", wasm) failed');
    expect(e.message).toContain('sample float32[1,4,8,8], timestep float32[1], image_embeds float32[1,7]');
    // The runtime stays usable after a failed run.
    const ok = await rt.run('unet', {
      sample: f32(new Float32Array(4 * 8 * 8), [1, 4, 8, 8]),
      timestep: f32(Float32Array.of(1), [1]),
      image_embeds: f32(new Float32Array(32), [1, 32]),
    });
    expect(ok.out_sample!.dims).toEqual([1, 8, 8, 8]);
  });

  it('raises STAGE_MISMATCH when a graph does not match its manifest entry', async () => {
    const prior = readFileSync(join(bundleDir, 'prior.onnx'));
    const bundle = await bundleWith((m) => {
      // movq_decoder now points at the prior graph: inputs/outputs differ from the manifest's.
      m.stages.movq_decoder = { ...m.stages.movq_decoder, file: 'prior.onnx', bytes: prior.length, sha256: createHash('sha256').update(prior).digest('hex') };
    });
    const rt = await runtimeFor(bundle);
    const e = await rejectedEngineError(rt.run('movq_decoder', { latents: f32(new Float32Array(4 * 2 * 2), [1, 4, 2, 2]) }));
    expect(e.code).toBe(ErrorCode.StageMismatch);
    expect(e.details.file).toBe('prior.onnx');
    expect(e.details.expected).toBe('inputs [latents], outputs [image]');
    expect(e.details.actual).toContain('hidden_states');
    expect(e.message).toContain('movq_decoder graph "prior.onnx"');
  });

  it("checks the graph's declared dims at session creation: text.max_length against input_ids", async () => {
    const bundle = await bundleWith((m) => {
      // A manifest that is consistent in itself (sequence dims left symbolic) but not with its graphs.
      m.text.max_length = 64;
      m.stages.text_encoder.inputs.input_ids = ['batch', 'sequence'];
      m.stages.text_encoder.outputs.last_hidden_state = ['batch', 'sequence', 32];
      m.stages.prior.inputs.encoder_hidden_states = ['batch', 'sequence', 32];
      m.stages.prior.inputs.attention_mask = ['batch', 'sequence'];
    });
    const rt = await runtimeFor(bundle);
    const e = await rejectedEngineError(rt.run('text_encoder', { input_ids: i64(new BigInt64Array(64), [1, 64]) }));
    expect(e.code).toBe(ErrorCode.StageMismatch);
    expect(e.details).toEqual({ file: 'text_encoder.onnx', expected: 'input_ids[1] = 64 (text.max_length)', actual: 'input_ids[1] = 77' });

    // A fixed dim the manifest declares that the graph contradicts (the manifest alone cannot tell).
    const wide = await bundleWith((m) => { m.stages.unet.outputs.out_sample = ['batch', 6, 'height', 'width']; });
    const e2 = await rejectedEngineError((await runtimeFor(wide)).run('unet', {} as StageFeeds<'unet'>));
    expect(e2.code).toBe(ErrorCode.StageMismatch);
    expect(e2.details).toEqual({ file: 'unet.onnx', expected: 'out_sample[1] = 6 (stages.unet.outputs.out_sample[1])', actual: 'out_sample[1] = 8' });
  });

  it('raises STAGE_MISSING for a stage the bundle lacks', async () => {
    const rt = await runtimeFor(await bundleWith((m) => { delete m.stages.unet_inpaint; }));
    expect(rt.has('unet_inpaint')).toBe(false);
    expect(rt.has('unet')).toBe(true);
    const e = await rejectedEngineError(rt.run('unet_inpaint', {} as StageFeeds<'unet_inpaint'>));
    expect(e.code).toBe(ErrorCode.StageMissing);
  });

  it('warms up, releases and recreates sessions; a disposed runtime refuses runs', async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    await rt.warmup(['text_encoder', 'prior']);
    const ids = tensor((golden('text_encoder').cases as Json[])[0]!.input_ids);
    const first = await rt.run('text_encoder', { input_ids: ids });
    await rt.release('text_encoder');
    await rt.release();
    const second = await rt.run('text_encoder', { input_ids: ids });
    expect(Array.from(second.text_embeds!.data as Float32Array)).toEqual(Array.from(first.text_embeds!.data as Float32Array));
    await rt.dispose();
    expect((await rejectedEngineError(rt.run('text_encoder', { input_ids: ids }))).code).toBe(ErrorCode.NoModel);
  });
});

describe('external data', () => {
  /**
   * The tiny image encoder re-saved with its weights in a separate file: `graphPath` and
   * `weightsPath` are where the manifest puts them; `weightsBytes` may cut the stored weights short.
   */
  async function externalBundle(graphPath: string, weightsPath: string, weightsBytes?: number) {
    const dir = new URL('./testdata/external/', import.meta.url);
    const graph = new Uint8Array(readFileSync(new URL('image_encoder.onnx', dir)));
    const weights = new Uint8Array(readFileSync(new URL('image_encoder.onnx_data', dir)));
    const hash = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    return bundleWith((m) => {
      m.stages.image_encoder = {
        ...m.stages.image_encoder,
        file: graphPath, bytes: graph.length, sha256: hash(graph),
        external_data: [{ path: weightsPath, bytes: weights.length, sha256: hash(weights) }],
      };
    }, { [graphPath]: graph, [weightsPath]: weights.subarray(0, weightsBytes ?? weights.length) });
  }

  it('loads a graph whose weights live in a separate file in a subfolder', async () => {
    const rt = await runtimeFor(await externalBundle('ext/image_encoder.onnx', 'ext/image_encoder.onnx_data'));
    const g = golden('image_encoder');
    const out = await rt.run('image_encoder', { pixel_values: tensor(g.pixel_values) });
    const ref = tensor(g.image_embeds).data as Float32Array;
    expect(maxAbs(out.image_embeds!.data as Float32Array, ref)).toBeLessThanOrEqual(embeddingTolerance(ref));
  });

  it('fails with INTEGRITY_MISMATCH when the weights file is truncated', async () => {
    const rt = await runtimeFor(await externalBundle('image_encoder_ext.onnx', 'image_encoder.onnx_data', 1000));
    const e = await rejectedEngineError(rt.run('image_encoder', { pixel_values: tensor(golden('image_encoder').pixel_values) }));
    expect(e.code).toBe(ErrorCode.Integrity);
    expect(e.details.file).toBe('image_encoder.onnx_data');
  });
});

describe('provider choice without WebGPU (Node has no navigator.gpu)', () => {
  it("'auto' falls back to wasm with a warning saying why", async () => {
    const rt = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }), 'auto');
    expect(rt.ep).toBe('wasm');
    expect(rt.capabilities).toEqual({ webgpu: false, shaderF16: false });
    expect(rt.warnings.join(' ')).toMatch(/WebGPU is not available \(this browser has no WebGPU \(navigator.gpu is missing\)\); running on the CPU/);
  });

  it("'webgpu' is UNSUPPORTED", async () => {
    const bundle = await loadBundle({ kind: 'files', files: bundleFiles() });
    const e = await rejectedEngineError(createRuntime(bundle, { provider: 'webgpu' }));
    expect(e.code).toBe(ErrorCode.Unsupported);
    expect(e.message).toMatch(/WebGPU was requested but .*Choose "auto" or "wasm"/);
  });
});

/** Point the manifest's image_encoder entry at another graph file, with its size and hash, plus `fields`. */
function setImageEncoder(m: Json, file: string, graph: Uint8Array, fields: Json): void {
  m.stages.image_encoder = {
    ...m.stages.image_encoder,
    file,
    bytes: graph.length,
    sha256: createHash('sha256').update(graph).digest('hex'),
    ...fields,
  };
}

describe('float16 stages', () => {
  const fp16Entry = (m: Json): void => setImageEncoder(m, 'image_encoder_fp16.onnx', fp16Graph, { dtype: 'float16' });

  it('converts float32 feeds to float16 and outputs back (real float16 graph on wasm)', async () => {
    const g = golden('image_encoder');
    const px = tensor(g.pixel_values);
    const ref = tensor(g.image_embeds).data as Float32Array;
    const fp32 = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
    const fp16 = await runtimeFor(await bundleWith(fp16Entry, { 'image_encoder_fp16.onnx': fp16Graph }));
    const a = (await fp32.run('image_encoder', { pixel_values: px })).image_embeds!;
    const b = (await fp16.run('image_encoder', { pixel_values: px })).image_embeds!;
    expect(b.type).toBe('float32');
    expect(b.dims).toEqual([1, 32]);
    const err32 = maxAbs(a.data as Float32Array, ref);
    const err16 = maxAbs(b.data as Float32Array, ref);
    console.log(`image_encoder vs golden: fp32 graph ${err32.toExponential(2)}, fp16 graph ${err16.toExponential(2)} (max |ref| ${maxAbsOf(ref).toFixed(3)})`);
    // Half precision keeps ~11 bits: a few 1e-3 relative through 2 layers; SPEC §4 has no fp16 row.
    expect(err16).toBeLessThanOrEqual(1e-2 * Math.max(1, maxAbsOf(ref)));
    expect(err16).toBeGreaterThan(err32); // it really ran in half precision
  });

  /** A fake WebGPU adapter with `features` for the duration of `body`; lists each requestDevice call. */
  async function withAdapter(features: readonly string[], body: (requested: string[]) => Promise<void>): Promise<void> {
    const requested: string[] = [];
    const fakeAdapter = {
      features: new Set<string>(features),
      limits: {},
      info: {},
      requestDevice: async () => {
        requested.push('device');
        throw new Error('no real GPU in this test');
      },
    };
    await withNavigatorGpu({ requestAdapter: async () => fakeAdapter }, () => body(requested));
  }

  it('runs a float16 stage on wasm when the WebGPU adapter lacks shader-f16', async () => {
    await withAdapter(['timestamp-query'], async (requested) => {
      const rt = await runtimeFor(await bundleWith(fp16Entry, { 'image_encoder_fp16.onnx': fp16Graph }), 'auto');
      expect(rt.ep).toBe('webgpu');
      expect(rt.capabilities).toEqual({ webgpu: true, shaderF16: false });
      expect(rt.epOf('image_encoder')).toBe('wasm');
      expect(rt.epOf('unet')).toBe('webgpu');
      expect(rt.warnings.join(' ')).toMatch(/image_encoder stage is float16 and this GPU lacks shader-f16: it runs on the CPU \(wasm\)/);
      const g = golden('image_encoder');
      const out = await rt.run('image_encoder', { pixel_values: tensor(g.pixel_values) });
      const ref = tensor(g.image_embeds).data as Float32Array;
      expect(maxAbs(out.image_embeds!.data as Float32Array, ref)).toBeLessThanOrEqual(1e-2 * Math.max(1, maxAbsOf(ref)));
      expect(requested).toEqual([]); // the fallback never touched the GPU
    });
  });

  // The exporter's fp16 variants (tools/export/precision.py) keep float32 inputs and outputs, so their stage
  // entries keep `dtype` float32 and say `compute_dtype: "float16"`. Reading only `dtype`, the runtime put these
  // graphs on a GPU without shader-f16: the native WebGPU EP then failed ("Program Gather requires f16 but the
  // device does not support it") and the JSEP build ran invalid shaders that wrote nothing (all-zero outputs,
  // the grey pictures of tools/eval/README.md).
  const fp16ComputeEntry = (m: Json): void => {
    m.precision = { dtype: 'fp16', quantize: 'none', requires_shader_f16: true };
    setImageEncoder(m, 'image_encoder_fp16_compute.onnx', fp16ComputeGraph, { compute_dtype: 'float16', weights: 'float16' });
    for (const [name, entry] of Object.entries(m.stages as Record<string, Json>)) {
      if (name !== 'image_encoder') entry.compute_dtype = 'float32';
    }
  };

  it("runs an exporter fp16 stage (float32 I/O, compute_dtype float16) on wasm when the adapter lacks shader-f16", async () => {
    await withAdapter(['timestamp-query', 'subgroups'], async (requested) => {
      const rt = await runtimeFor(await bundleWith(fp16ComputeEntry, { 'image_encoder_fp16_compute.onnx': fp16ComputeGraph }), 'auto');
      expect(rt.ep).toBe('webgpu');
      expect(rt.capabilities).toEqual({ webgpu: true, shaderF16: false });
      expect(rt.epOf('image_encoder')).toBe('wasm');
      expect(rt.epOf('unet')).toBe('webgpu');
      expect(rt.warnings.join(' ')).toMatch(/image_encoder stage computes in float16 and this GPU lacks shader-f16: it runs on the CPU \(wasm\)/);
      const g = golden('image_encoder');
      const ref = tensor(g.image_embeds).data as Float32Array;
      const fp32 = await runtimeFor(await loadBundle({ kind: 'files', files: bundleFiles() }));
      const a = (await fp32.run('image_encoder', { pixel_values: tensor(g.pixel_values) })).image_embeds!.data as Float32Array;
      const b = (await rt.run('image_encoder', { pixel_values: tensor(g.pixel_values) })).image_embeds!.data as Float32Array;
      // fp16 bundles run with --tolerance-scale 300 (tools/export/README.md "Tolerances") on SPEC §4's wasm embedding tolerance.
      expect(maxAbs(b, ref)).toBeLessThanOrEqual(300 * embeddingTolerance(ref));
      expect(maxAbs(b, ref)).toBeGreaterThan(maxAbs(a, ref)); // it really ran in half precision
      expect(requested).toEqual([]); // the fallback never touched the GPU
    });
  });

  it('keeps float16-compute stages on WebGPU when the adapter offers shader-f16', async () => {
    await withAdapter(['shader-f16'], async (requested) => {
      const rt = await runtimeFor(await bundleWith(fp16ComputeEntry, { 'image_encoder_fp16_compute.onnx': fp16ComputeGraph }), 'auto');
      expect(rt.capabilities).toEqual({ webgpu: true, shaderF16: true });
      expect(rt.epOf('image_encoder')).toBe('webgpu');
      expect(rt.warnings.filter((w) => /float16/.test(w))).toEqual([]);
      expect(requested).toEqual([]); // sessions (and the device) are made lazily
    });
  });

  it('treats every stage of a bundle whose precision requires shader-f16 as float16 when stages do not say', async () => {
    await withAdapter([], async () => {
      const rt = await runtimeFor(await bundleWith((m) => {
        m.precision = { dtype: 'fp16', quantize: 'none', requires_shader_f16: true };
      }), 'auto');
      for (const stage of ['text_encoder', 'image_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'] as const) expect(rt.epOf(stage)).toBe('wasm');
    });
  });
});

describe('deviceFeatures (what the app asks the adapter for)', () => {
  const all = new Set(['shader-f16', 'subgroups', 'timestamp-query', 'float32-filterable']);
  it('asks for the features onnxruntime uses that the adapter offers, and only those', () => {
    expect(deviceFeatures(all, {})).toEqual(['shader-f16', 'subgroups', 'timestamp-query']);
    expect(deviceFeatures(new Set(['subgroups']), {})).toEqual(['subgroups']);
    expect(deviceFeatures(new Set(), {})).toEqual([]);
  });
  it(`leaves out subgroups where they can be narrower than ${MIN_SUBGROUP_LANES} lanes (SwiftShader has 4)`, () => {
    expect(deviceFeatures(all, { subgroupMinSize: 4 })).toEqual(['shader-f16', 'timestamp-query']);
    expect(deviceFeatures(all, { subgroupMinSize: 8 })).toEqual(['shader-f16', 'subgroups', 'timestamp-query']);
    expect(deviceFeatures(all, { subgroupMinSize: 32 })).toEqual(['shader-f16', 'subgroups', 'timestamp-query']);
  });
});

describe('fixedDims (the shapes a bound stage fixes)', () => {
  const unet = {
    file: 'unet.onnx',
    inputs: { sample: ['batch', 4, 'height', 'width'], timestep: ['batch'], image_embeds: ['batch', 32] },
    outputs: { out_sample: ['batch', 8, 'height', 'width'] },
  } as unknown as StageEntry;
  const ok = { sample: [2, 4, 8, 12], timestep: [2], image_embeds: [2, 32] };

  it('maps every symbolic dim to its size (freeDimensionOverrides)', () => {
    expect(fixedDims(unet, ok)).toEqual({ batch: 2, height: 8, width: 12 });
  });

  it('names the clash: a missing input, another rank, a fixed dim changed, one symbol two sizes, a non-positive size', () => {
    expect(fixedDims(unet, { sample: ok.sample, timestep: ok.timestep })).toBe('no shape for input "image_embeds"');
    expect(fixedDims(unet, { ...ok, timestep: [2, 1] })).toBe('input "timestep" has 2 dims, the manifest 1');
    expect(fixedDims(unet, { ...ok, sample: [2, 9, 8, 12] })).toBe('input "sample"[1] is 9, the manifest fixes 4');
    expect(fixedDims(unet, { ...ok, timestep: [1] })).toBe('dim "batch" is 2 in one input and 1 in "timestep"');
    expect(fixedDims(unet, { ...ok, sample: [2, 4, 0, 12] })).toBe('input "sample"[2] is 0');
  });
});

describe('gpuTensorBytes (buffers ORT copies in 16-byte units)', () => {
  it('rounds up to a multiple of 16, at least 16', () => {
    expect([0, 4, 16, 17, 616, 1232].map(gpuTensorBytes)).toEqual([16, 16, 16, 32, 624, 1232]);
  });
});
