/**
 * Issue 9 item 4: are external-data initializers copied straight into GPU buffers, outside onnxruntime-web's
 * 4 GiB wasm heap? A graph of K chained MatMuls whose N×N weights (W = 1/N everywhere, so y = x) sit in one
 * external file each, loaded through our runtime (workers/runtime/ort.ts: the files read as bytes and passed as
 * `externalData`, the app's own device) on WebGPU, then run once. Make the graph with
 * tools/gpu/external_data_graph.py. Prints memory and the result; asserts nothing.
 *
 *   npx tsx tools/gpu/external-data-probe.ts DIR [webgpu|wasm]   (Node + Dawn: the webgpu package, as webgpu-bench)
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bundle } from '../../workers/runtime/bundle.ts';
import type { BundleManifest } from '../../workers/runtime/manifest.ts';
import { createRuntime } from '../../workers/runtime/ort.ts';
import { f32 } from '../../workers/tensor/tensor.ts';

interface DawnModule { create(flags: string[]): GPU; globals: Record<string, unknown> }

const [dir = '', ep = 'webgpu'] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')) as { N: number; K: number; external: { path: string; bytes: number }[] };
const gb = (b: number): string => (b / 1e9).toFixed(2);
const mem = (what: string): void => {
  const m = process.memoryUsage();
  console.log(`${what}: rss ${gb(m.rss)} GB, array buffers ${gb(m.arrayBuffers)} GB`);
};

async function main(): Promise<void> {
  if (ep === 'webgpu') {
    const specifier = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true, writable: true });
  }
  const { N } = meta;
  // The graph as the runtime sees a stage: `movq_decoder` with one input and one output, its weights external.
  const manifest = {
    format: 'kandinsky-onnx-bundle', version: 1, name: 'external-data-probe', family: 'kandinsky-2.2', description: '', dtype: 'float32',
    embedding_dim: 1, text: { max_length: 1, tokenizer: 'tokenizer.json' },
    image_processor: { size: 1, crop_size: 1, resample: 'bicubic', mean: [0, 0, 0], std: [1, 1, 1] },
    movq: { scale_factor: 8, latent_channels: 4, force_not_quantize: true },
    stages: {
      movq_decoder: {
        file: 'graph.onnx', bytes: 0, sha256: '', inputs: { latents: ['batch', 'n'] }, outputs: { image: ['batch', 'n'] },
        external_data: meta.external.map((e) => ({ path: e.path, bytes: e.bytes, sha256: '' })),
      },
    },
    schedulers: { prior: { _class_name: 'UnCLIPScheduler' }, decoder: { _class_name: 'DDPMScheduler' } },
  } as unknown as BundleManifest;
  const bundle: Bundle = {
    manifest, priorStats: { clipMean: new Float32Array(1), clipStd: new Float32Array(1) }, tokenizerJson: null, tokenizerConfig: null, location: dir,
    readFile: async (path) => new Uint8Array(await readFile(join(dir, path))),
  };
  const total = meta.external.reduce((s, e) => s + e.bytes, 0);
  console.log(`${meta.K} weights of ${N}×${N} float32 in ${meta.external.length} external files, ${gb(total)} GB (4 GiB = 4.29 GB), on ${ep}`);
  const runtime = await createRuntime(bundle, { provider: ep as 'webgpu' | 'wasm', numThreads: 1, gpuLoop: false });
  const t0 = performance.now();
  try {
    const out = await runtime.run('movq_decoder', { latents: f32(new Float32Array(N).fill(1), [1, N]) } as never) as unknown as { image: { data: Float32Array } };
    const y = out.image.data;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of y) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    mem(`session created and run on ${runtime.ep} in ${((performance.now() - t0) / 1000).toFixed(1)} s: y in [${lo}, ${hi}] (expected 1)`);
  } catch (e) {
    mem('failed');
    console.log(`FAILED on ${ep}: ${(e instanceof Error ? e.message : String(e)).slice(0, 500)}`);
  }
  await runtime.dispose();
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
