/** Loaded into Chromium by tools/bench.ts to time the engine on wasm or WebGPU. */
import { Engine } from '../../workers/engine.ts';
import type { OrtBuild } from '../../workers/runtime/ort.ts';
import { benchEngine, type BenchOptions, type BenchRow } from './core.ts';

/** Load the bundle on `ep` (WebGPU: with this onnxruntime-web build, or the app's default) and run the benchmark in this page. */
export async function run(bundleUrl: string, ep: 'wasm' | 'webgpu', options: BenchOptions, ortBuild?: Exclude<OrtBuild, 'wasm'>, gpuLoop = true, graphCapture = false): Promise<{ ep: string; build: OrtBuild; rows: BenchRow[] }> {
  const engine = await Engine.load({ kind: 'url', baseUrl: bundleUrl }, { provider: ep }, { countGpuWork: true, gpuLoop, graphCapture, ...(ortBuild ? { ortBuild } : {}) });
  try {
    return { ep: engine.runtime.ep, build: engine.runtime.ortBuild, rows: await benchEngine(engine, options) };
  } finally {
    await engine.dispose();
  }
}
