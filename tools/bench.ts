/**
 * `npm run bench [-- --bundle DIR --size 64 --repeats 5 --steps 10 --prior-steps 10 --only node|chromium --chromium-eps wasm,webgpu
 * --ort-builds default,jspi,webgpu,jsep --kernels 5|all --gpu-loop on|off --graph-capture on|off]`:
 * per-stage and end-to-end times on wasm in Node, and on wasm and WebGPU in headless Chromium.
 * WebGPU runs once per onnxruntime-web build in --ort-builds (default: the app's own choice; `jsep` is
 * the legacy build, for comparison). Prints markdown tables (times, then GPU work per run, with the --kernels most
 * dispatched kernels of each run: `all` lists every one); asserts nothing about time.
 */
import { join, relative, resolve } from 'node:path';
import { Engine } from '../workers/engine.ts';
import { bundleDirBlobs } from '../workers/testing/bundle-dir.ts';
import { ORT_BUILDS, type OrtBuild } from '../workers/runtime/ort.ts';
import { benchEngine, formatRows, formatWork, WORK_HEADER, type BenchOptions, type BenchRow } from './bench/core.ts';

const argv = process.argv.slice(2);
const arg = (flag: string, fallback: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const root = resolve(import.meta.dirname, '..');
const bundleDir = resolve(arg('--bundle', join(root, 'public/models/tiny-kandinsky-2-2')));
const options: BenchOptions = {
  size: Number(arg('--size', '64')),
  repeats: Number(arg('--repeats', '5')),
  steps: Number(arg('--steps', '10')),
  priorSteps: Number(arg('--prior-steps', '10')),
};
const only = arg('--only', 'all');
type GpuBuild = Exclude<OrtBuild, 'wasm'>;
const ortBuilds = arg('--ort-builds', 'default').split(',').map((b) => (b === 'default' ? undefined : b as GpuBuild));
for (const b of ortBuilds) if (b !== undefined && !(ORT_BUILDS as readonly string[]).includes(b)) throw new Error(`--ort-builds: unknown build ${b}`);
const kernelArg = arg('--kernels', '5');
const topKernels = kernelArg === 'all' ? Infinity : Number(kernelArg);
const gpuLoop = arg('--gpu-loop', 'on') !== 'off';
const graphCapture = arg('--graph-capture', 'off') === 'on';
const chromiumEps = arg('--chromium-eps', 'wasm,webgpu').split(',').filter((e): e is 'wasm' | 'webgpu' => e === 'wasm' || e === 'webgpu');

async function benchNode(): Promise<BenchRow[]> {
  const files = await bundleDirBlobs(bundleDir);
  const engine = await Engine.load({ kind: 'files', files }, { provider: 'wasm' });
  try {
    return await benchEngine(engine, options);
  } finally {
    await engine.dispose();
  }
}

async function benchChromium(ep: 'wasm' | 'webgpu', build: GpuBuild | undefined): Promise<{ ep: string; build: string; rows: BenchRow[] }> {
  const { createServer } = await import('vite');
  const { launchBrowser } = await import('../e2e/support/browser.ts');
  const server = await createServer({
    root, configFile: join(root, 'vite.config.ts'), logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, fs: { allow: [root, bundleDir] } },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no dev server port');
  const base = `http://localhost:${address.port}`;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/tools/parity/harness.html`);
    return await page.evaluate(async ([url, ep, o, b, loop, capture]) => {
      const m = await import('/tools/bench/browser-entry.ts' as string);
      return m.run(url, ep, o, b ?? undefined, loop, capture) as Promise<{ ep: string; build: string; rows: BenchRow[] }>;
    }, [`${base}/@fs${bundleDir}/`, ep, options, build ?? null, gpuLoop, graphCapture] as const);
  } finally {
    await browser.close();
    await server.close();
  }
}

console.log(`bench: bundle ${relative(root, bundleDir) || bundleDir}, ${options.size}×${options.size}, median of ${options.repeats} after one warm-up`);
console.log('| environment | what | median ms | min ms | runs |');
console.log('|---|---|---|---|---|');
if (only === 'all' || only === 'node') {
  for (const line of formatRows('Node, wasm', await benchNode())) console.log(line);
}
const work: string[] = [];
if (only === 'all' || only === 'chromium') {
  const runs = chromiumEps.flatMap((ep): [typeof ep, GpuBuild | undefined][] => (ep === 'webgpu' ? ortBuilds.map((b) => [ep, b]) : [[ep, undefined]]));
  for (const [ep, build] of runs) {
    try {
      const r = await benchChromium(ep, build);
      const env = `Chromium, ${r.ep} (${r.build} build${r.ep === 'webgpu' ? `, GPU loop ${gpuLoop ? 'on' : 'off'}, graph capture ${graphCapture ? 'on' : 'off'}` : ''})`;
      for (const line of formatRows(env, r.rows)) console.log(line);
      work.push(...formatWork(env, r.rows, topKernels));
    } catch (e) {
      console.log(`| Chromium, ${ep}${build ? ` (${build} build)` : ''} | failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]} | | | |`);
    }
  }
}
if (work.length > 0) {
  // Counted on the device (SwiftShader here): the tiny bundle has the full model's topology, so these carry over.
  console.log('\nGPU work per run (the last timed run of each row):');
  for (const line of [...WORK_HEADER, ...work]) console.log(line);
}
