/** Loaded into Chromium by tools/bench.ts to time the engine on wasm or WebGPU. */
import { Engine } from '../../workers/engine.ts';
import { benchEngine, type BenchOptions, type BenchRow } from './core.ts';

/** Load the bundle on `ep` and run the benchmark in this page. */
export async function run(bundleUrl: string, ep: 'wasm' | 'webgpu', options: BenchOptions): Promise<{ ep: string; rows: BenchRow[] }> {
  const engine = await Engine.load({ kind: 'url', baseUrl: bundleUrl }, { provider: ep }, { countGpuWork: true });
  try {
    return { ep: engine.runtime.ep, rows: await benchEngine(engine, options) };
  } finally {
    await engine.dispose();
  }
}
