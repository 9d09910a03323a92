/**
 * Times our runtime (workers/runtime/ort.ts: onnxruntime-web) per stage, next to PyTorch figures
 * from tools/export/gpu_bench.py (issue 5 item 9). WebGPU in Node comes from the `webgpu` package
 * (Dawn, SPEC §5). Prints and writes a markdown table; asserts nothing about time.
 *
 *   webgpu-bench probe [--dawn FLAG]...               adapter, features, limits (exit 1: no adapter)
 *   webgpu-bench run (--work DIR | --bundle DIR) --out DIR [--torch FILE] [--ep webgpu|wasm]
 *       [--size full|tiny] [--stages movq_decoder,unet,prior,text_encoder] [--repeats 5]
 *       [--deadline-s 300] [--title TEXT] [--probe-json FILE] [--dawn FLAG]... [--skip-all REASON]
 *       [--ort-builds webgpu,jsep] [--sides 512,768]
 *   webgpu-bench e2e (--work DIR | --bundle DIR) --out DIR [--reference DIR] [--side 512] [--steps 25]
 *       [--prior-steps 25] [--scheduler dpmpp_2m] [--repeats 2] [--ort-builds webgpu+bound,webgpu+capture]
 *       [--deadline-s 120] [--dawn FLAG]...
 *   webgpu-bench parity --bundle DIR --golden DIR --out DIR [--label TEXT] [--cases a,b] [--graph-capture on|off]
 *       [--deadline-s 120] [--dawn FLAG]...
 *
 * `parity`: the golden cases (SPEC §4, the parity runner's core and tolerances) through our runtime on this machine's
 * GPU in Node + Dawn: the check that only SwiftShader has made so far, and the one that decides whether the exporter's
 * `attention` surgery (FlashAttention, whose NVIDIA path no machine here runs) may become a default. Appends to
 * OUT/parity.md as cases finish; cases left when the deadline passes are listed as not run.
 *
 * `e2e` (issue 9 item 6): one text-to-image through the engine's own `generate` (prompt → text encoder → prior
 * loop → UNet loop → MoVQ), not a sum of stages: per build, the first run (sessions created, shaders compiled)
 * and the median of --repeats warm runs, then one warm run with live previews (paced at their default share).
 * With --work it assembles a bundle from gpu_bench.py's four exported stages (hard links) and a reference bundle's
 * facts (--reference, default the one prepare.sh puts next to this script: the tiny bundle's manifest.json and
 * tokenizer/, as the exporter wrote them). Writes OUT/e2e.md and OUT/e2e.json.
 *
 * `--ort-builds`: the onnxruntime-web builds to time, each stage once per build (default `webgpu`,
 * the native WebGPU EP; `jsep` is the legacy build the app used before, for comparison). Each
 * run's GPU work (dispatches, transposes, submits) is counted too (workers/runtime/gpu-work.ts).
 *
 * `run` takes graphs either from a bundle folder (manifest.json) or from gpu_bench.py's
 * `--web-export` folders (DIR/web/STAGE/stage.json, waited for as they appear), and times each
 * stage in its own child process (`stage` command): a crash, a wasm out-of-memory or a hang costs
 * one stage, and each stage starts with a fresh 4 GiB wasm heap. Per shape: session creation,
 * one warm-up run (shader compilation), then the median of --repeats runs of `runtime.run`
 * (host tensors in and out, as the pipelines call it). Bundled for the GPU machine by
 * tools/gpu/prepare.sh; `npx tsx tools/gpu/webgpu-bench.ts ...` runs it here.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadParityEnv } from '../parity/env.ts';
import { goldenFiles, runGoldenFiles } from '../parity/files.ts';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, type Bundle } from '../../workers/runtime/bundle.ts';
import { Engine } from '../../workers/engine.ts';
import type { Text2ImgRequest } from '../../workers/protocol.ts';
import { SCHEDULER_KINDS, type SchedulerKind } from '../../workers/schedulers/index.ts';
import { bundleDirBlobs } from '../../workers/testing/bundle-dir.ts';
import type { BundleManifest, StageEntry } from '../../workers/runtime/manifest.ts';
import { gpuWorkBetween, type GpuWorkCounts } from '../../workers/runtime/gpu-work.ts';
import { createRuntime, ORT_BUILDS, type OrtBuild } from '../../workers/runtime/ort.ts';
import type { ExecutionProvider, StageRunner } from '../../workers/runtime/types.ts';
import { movqDecoderFeeds, priorFeeds, textEncoderFeeds, unetFeeds } from '../../workers/stages/index.ts';
import { HOST_INPUTS } from '../../workers/gpu/loop.ts';
import { readFloats } from '../../workers/gpu/step-kernel.ts';
import { seededNoise } from '../../workers/tensor/noise.ts';
import { f32, type HostTensor } from '../../workers/tensor/tensor.ts';
import {
  BENCH_STAGES, formatBuildTable, formatExports, parseStages, plan, rowKey, SIDES, summarise,
  type BenchSize, type BenchStage, type ExportInfo, type TorchRow, type WebRow,
} from './report.ts';

/** Seconds a stage may take at most, and the least worth starting it with (full size). */
const STAGE_BUDGET_S = { movq_decoder: 150, unet: 220, prior: 120, text_encoder: 120 } as const satisfies Record<BenchStage, number>;
const MIN_START_S = { movq_decoder: 40, unet: 80, prior: 45, text_encoder: 45 } as const satisfies Record<BenchStage, number>;
/** SPEC §6 (H100, onnxruntime-web 1.30, Dawn from webgpu 0.6.2): reference figures in ms. */
const SPEC_FIGURES = [
  ['MoVQ decode 512×512', '41', '42.7', '177'],
  ['MoVQ decode 768×768', '76', '111.5', '1,112'],
  ['UNet step 512×512, CFG batch 2', '25.9', '–', '–'],
  ['prior step, batch 2', '13.0', '–', '–'],
] as const;

// ------------------------------------------------------------------ arguments

const argv = process.argv.slice(2);
const command = argv[0] ?? '';
function arg(flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}
function args(flag: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === flag && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  });
  return out;
}
function usage(msg: string): never {
  console.error(`webgpu-bench: ${msg}\nusage: webgpu-bench probe | run (--work DIR | --bundle DIR) --out DIR [--torch FILE] [--ep webgpu|wasm] [--size full|tiny] [--stages a,b] [--repeats N] [--deadline-s S]`);
  process.exit(2);
}
function epArg(): ExecutionProvider {
  const ep = arg('--ep') ?? 'webgpu';
  if (ep !== 'webgpu' && ep !== 'wasm') usage(`--ep must be webgpu or wasm, got ${ep}`);
  return ep;
}
function sizeArg(): BenchSize {
  const size = arg('--size') ?? 'full';
  if (size !== 'full' && size !== 'tiny') usage(`--size must be full or tiny, got ${size}`);
  return size;
}
/**
 * A build to time: an onnxruntime-web build, or a native one with the stage bound to its shapes as the GPU loops run
 * it (`+bound`: the ordinary session on persistent GPU buffers; `+capture`: its own session with graph capture).
 * Bound variants time the UNet and the prior (the stages the loops step); they skip the others.
 */
type GpuBuild = Exclude<OrtBuild, 'wasm'> | `${'webgpu' | 'jspi'}+${BoundMode}`;
const BOUND_MODES = ['bound', 'capture'] as const;
type BoundMode = (typeof BOUND_MODES)[number];
function buildsArg(flag: string, fallback: string): GpuBuild[] {
  const list = (arg(flag) ?? fallback).split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  for (const b of list) {
    const [base = '', mode, extra] = b.split('+');
    const known = base !== 'wasm' && (ORT_BUILDS as readonly string[]).includes(base)
      && (mode === undefined || (base !== 'jsep' && (BOUND_MODES as readonly string[]).includes(mode))) && extra === undefined;
    if (!known) usage(`${flag}: unknown build ${b}; expected webgpu, jspi or jsep, or webgpu/jspi with +bound or +capture`);
  }
  return list as GpuBuild[];
}
/** The onnxruntime-web build of a bench build, and its bound mode if any. */
function splitBuild(b: GpuBuild): { readonly ortBuild: Exclude<OrtBuild, 'wasm'>; readonly mode: BoundMode | null } {
  const [base, mode] = b.split('+') as [Exclude<OrtBuild, 'wasm'>, BoundMode | undefined];
  return { ortBuild: base, mode: mode ?? null };
}
/** `--sides 512`: only these pixel sides (to fit a short device call). */
function sidesFilter(): ((side: number) => boolean) {
  const v = arg('--sides');
  if (v === undefined) return () => true;
  const keep = new Set(v.split(',').map(Number));
  return (side) => side === 0 || keep.has(side);
}
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const log = (line: string): void => console.log(`[webgpu-bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ------------------------------------------------------------------ WebGPU in Node

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** Gives Node a `navigator.gpu` from the `webgpu` package (Dawn), resolved next to this script at run time. */
async function installWebGpu(flags: readonly string[]): Promise<void> {
  const specifier = 'webgpu'; // not bundled: it loads a native dawn.node
  const dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([...flags]) }, configurable: true, writable: true });
}

async function probe(): Promise<number> {
  await installWebGpu(args('--dawn'));
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    console.log(JSON.stringify({ adapter: null }));
    return 1;
  }
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'] as const) {
    limits[k] = adapter.limits[k];
  }
  console.log(JSON.stringify({
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    // Lanes per subgroup: onnxruntime-web 1.30's FlashAttention shuffles across 16 lanes off NVIDIA (docs/gpu-surgery.md).
    subgroupSizes: [info.subgroupMinSize, info.subgroupMaxSize],
    shaderF16: adapter.features.has('shader-f16'), features: [...adapter.features].sort(), limits,
  }));
  return 0;
}

// ------------------------------------------------------------------ stage sources

/** What gpu_bench.py --web-export writes next to the graph: DIR/web/STAGE/stage.json. */
interface ExportedStage extends ExportInfo {
  readonly stage: BenchStage;
  readonly embedding_dim: number;
  readonly entry: StageEntry;
}

const exportDir = (work: string, stage: BenchStage): string => join(work, 'web', stage);

/** A bundle holding one exported stage, enough for createRuntime (it reads `stages`, `dtype`, `name`). */
function singleStageBundle(dir: string, x: ExportedStage): Bundle {
  const manifest: BundleManifest = {
    format: 'kandinsky-onnx-bundle', version: 1, name: `gpu-bench-${x.stage}`, family: 'kandinsky-2.2',
    description: 'Random weights at full size, exported by tools/export/gpu_bench.py for timing.', dtype: 'float32',
    embedding_dim: x.embedding_dim, text: { max_length: 77, tokenizer: 'tokenizer/tokenizer.json' },
    image_processor: { size: 224, crop_size: 224, resample: 'bicubic', mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
    movq: { scale_factor: 8, latent_channels: 4, force_not_quantize: true },
    stages: { [x.stage]: x.entry },
    schedulers: { prior: { _class_name: 'UnCLIPScheduler' }, decoder: { _class_name: 'DDPMScheduler' } },
  };
  return {
    manifest,
    priorStats: { clipMean: new Float32Array(x.embedding_dim), clipStd: new Float32Array(x.embedding_dim).fill(1) },
    tokenizerJson: null,
    tokenizerConfig: null,
    location: dir,
    readFile: async (path) => new Uint8Array(await readFile(join(dir, path))),
  };
}

/** The bundle to time `stage` from, and a label of its graph variant. */
async function openStage(stage: BenchStage): Promise<{ bundle: Bundle; graph: string }> {
  const bundleDir = arg('--bundle');
  if (bundleDir !== undefined) {
    const files = await bundleDirBlobs(bundleDir);
    const raw = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as { precision?: { dtype?: string; quantize?: string } };
    const q = raw.precision?.quantize ?? 'none';
    const dtype = raw.precision?.dtype ?? 'fp32';
    return { bundle: await loadBundle({ kind: 'files', files }), graph: q === 'none' ? dtype : `${q} weights, ${dtype} compute` };
  }
  const work = arg('--work') ?? usage('--work DIR or --bundle DIR is required');
  const dir = exportDir(work, stage);
  const x = JSON.parse(readFileSync(join(dir, 'stage.json'), 'utf8')) as ExportedStage;
  if (x.stage !== stage) throw new Error(`${dir}/stage.json is for ${x.stage}, not ${stage}`);
  return { bundle: singleStageBundle(dir, x), graph: x.graph };
}

// ------------------------------------------------------------------ one stage (child process)

/** A fixed dimension of a graph input from the manifest entry (e.g. D of image_embeds). */
function fixedDim(entry: StageEntry, input: string, axis: number): number {
  const d = entry.inputs[input]?.[axis];
  if (typeof d !== 'number') throw new Error(`input ${input} axis ${axis} should be a fixed size in the manifest, got ${String(d)}`);
  return d;
}

/** One stage call as the pipelines make it (CFG batch 2; MoVQ batch 1), seeded random values, built by workers/stages. */
type StageCall = (runner: StageRunner) => Promise<Record<string, HostTensor>>;

/** The call to time for `stage`: its feeds built once by the stage's wrapper. */
function callFor(stage: BenchStage, entry: StageEntry, side: number): StageCall {
  const feeds = feedsFor(stage, entry, side);
  // A stage's feeds are a plain name → tensor table here; the runtime checks the names against the graph.
  return (r) => r.run(stage, feeds as never);
}

/**
 * The same call as the GPU loops make it: the stage bound to the feeds' shapes, the feeds written into its input
 * buffers once, then per call one bound run and a wait for the GPU to finish it. The first call reads the outputs
 * back (the sanity figure); timed calls read nothing back.
 */
async function boundCallFor(runtime: Awaited<ReturnType<typeof createRuntime>>, stage: 'unet' | 'prior', entry: StageEntry, side: number): Promise<StageCall> {
  const gpu = runtime.gpuRunner?.(stage) ?? null;
  if (!gpu) throw new Error(`the runtime offers no GPU door for ${stage} (a float16 graph, JSEP, or not on WebGPU)`);
  const feeds = feedsFor(stage, entry, side);
  const device = await gpu.device();
  const bound = await gpu.bind(stage, Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, t.dims])), HOST_INPUTS[stage]);
  const inputs = bound.inputs as Readonly<Record<string, { buffer: GPUBuffer } | undefined>>;
  const fromHost: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    if ((bound.hostInputs as readonly string[]).includes(name)) fromHost[name] = t;
    else device.queue.writeBuffer(inputs[name]!.buffer, 0, t.data);
  }
  let calls = 0;
  return async () => {
    const out = await bound.run(fromHost) as Readonly<Record<string, { buffer: GPUBuffer; dims: readonly number[] } | undefined>>;
    await device.queue.onSubmittedWorkDone();
    if (calls++ > 0) return {};
    const host: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(out)) {
      if (t) host[name] = f32(await gpu.guard(() => readFloats(device, t.buffer, t.dims.reduce((a, b) => a * b, 1))), [...t.dims]);
    }
    return host;
  };
}

/** A stage's feeds as the pipelines build them (CFG batch 2; MoVQ batch 1), seeded random values. */
function feedsFor(stage: BenchStage, entry: StageEntry, side: number): Readonly<Record<string, HostTensor>> {
  const noise = seededNoise(1234);
  const randn = (dims: number[]) => f32(noise.next(dims), dims);
  const lat = side / 8;
  const L = 77;
  switch (stage) {
    case 'movq_decoder': {
      return movqDecoderFeeds(randn([1, fixedDim(entry, 'latents', 1), lat, lat]));
    }
    case 'unet': {
      // A Kandinsky 2.1 UNet also takes the multilingual text (its width from the manifest).
      const text = entry.inputs.encoder_hidden_states === undefined ? undefined : {
        hiddenStates: randn([2, L, fixedDim(entry, 'encoder_hidden_states', 2)]), textEmbeds: randn([2, fixedDim(entry, 'text_embeds', 1)]),
      };
      return unetFeeds({
        sample: randn([2, fixedDim(entry, 'sample', 1), lat, lat]), timestep: 500,
        imageEmbeds: randn([2, fixedDim(entry, 'image_embeds', 1)]), ...(text === undefined ? {} : { text }),
      });
    }
    case 'prior': {
      const D = fixedDim(entry, 'hidden_states', 1);
      const mask = new BigInt64Array(2 * L);
      for (let b = 0; b < 2; b++) for (let i = 0; i < 7; i++) mask[b * L + i] = 1n;
      return priorFeeds({
        latents: randn([2, D]).data, timestep: 500, textEmbeds: randn([2, D]),
        hiddenStates: randn([2, L, fixedDim(entry, 'encoder_hidden_states', 2)]), attentionMask: mask,
      });
    }
    case 'text_encoder': {
      // start token, five word tokens, end token, padded with the end token (CLIP's pad).
      const ids = new BigInt64Array(2 * L).fill(49407n);
      const mask = new BigInt64Array(2 * L);
      for (let b = 0; b < 2; b++) {
        ids[b * L] = 49406n;
        for (let i = 1; i < 6; i++) ids[b * L + i] = BigInt(320 + 97 * i + b);
        for (let i = 0; i < 7; i++) mask[b * L + i] = 1n;
      }
      return textEncoderFeeds({ batch: 2, length: L, inputIds: ids, attentionMask: mask });
    }
    default: {
      const never: never = stage;
      throw new Error(`unknown stage ${String(never)}`);
    }
  }
}

function maxAbs(outputs: Record<string, HostTensor>): number {
  let m = 0;
  for (const t of Object.values(outputs)) {
    if (t.type !== 'float32') continue;
    for (const v of t.data) {
      const a = Math.abs(v);
      if (!(a <= m)) m = a; // NaN propagates
    }
  }
  return m;
}

/**
 * One more run with onnxruntime-web's WebGPU profiler on: how much of the wall time is GPU kernel
 * time, and which kernel types take it. The rest is CPU work (kernels placed on the CPU, uploads,
 * readback, synchronisation).
 */
async function profileRun(
  runtime: Awaited<ReturnType<typeof createRuntime>>, stage: BenchStage, side: number,
  call: StageCall, record: (row: object) => void,
): Promise<void> {
  const byType = new Map<string, { ns: number; count: number }>();
  let kernels = 0;
  runtime.profileGpu((k) => {
    kernels++;
    const e = byType.get(k.kernelType) ?? { ns: 0, count: 0 };
    e.ns += k.ns;
    e.count++;
    byType.set(k.kernelType, e);
  });
  const t = performance.now();
  await call(runtime);
  const wallMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 200)); // timestamp readback is asynchronous
  runtime.profileGpu(null);
  const gpuMs = [...byType.values()].reduce((a, e) => a + e.ns, 0) / 1e6;
  const top = [...byType.entries()].sort((a, b) => b[1].ns - a[1].ns).slice(0, 8)
    .map(([type, e]) => `${type} ${(e.ns / 1e6).toFixed(1)} ms ×${e.count}`);
  log(`${stage}${side ? ` ${side}` : ''}: profiled run ${wallMs.toFixed(1)} ms wall, ${gpuMs.toFixed(1)} ms in ${kernels} GPU kernels; top: ${top.join('; ') || 'none reported'}`);
  record({ kind: 'profile', side, wallMs, gpuMs, kernels, top });
}

async function stageCommand(): Promise<number> {
  const stage = parseStages(arg('--stage') ?? usage('--stage is required'))[0] ?? usage('--stage is required');
  const ep = epArg();
  const rowsFile = arg('--rows') ?? usage('--rows FILE is required');
  const repeats = Number(arg('--repeats') ?? '5');
  const deadline = Number(arg('--deadline-epoch') ?? String(Date.now() + 600_000));
  const sides = (stage === 'movq_decoder' || stage === 'unet' ? [...SIDES[sizeArg()][stage]] : [0]).filter(sidesFilter());
  const build = buildsArg('--ort-build', 'webgpu')[0]!;
  const record = (row: object): void => appendFileSync(rowsFile, `${JSON.stringify({ stage, build, ...row })}\n`);
  try {
    if (ep === 'webgpu') await installWebGpu(args('--dawn'));
    const t0 = performance.now();
    const { bundle, graph } = await openStage(stage);
    const layout = arg('--layout');
    if (layout !== undefined && layout !== 'NHWC' && layout !== 'NCHW') usage('--layout must be NHWC or NCHW');
    const { ortBuild, mode } = splitBuild(build);
    if (mode !== null && stage !== 'unet' && stage !== 'prior') {
      log(`${stage}: no ${build} run (bound runs are the loops' stages: unet and prior)`);
      record({ kind: 'end', ok: true });
      process.kill(process.pid, 'SIGKILL');
    }
    const runtime = await createRuntime(bundle, {
      provider: ep, ortBuild, countGpuWork: true, graphCapture: mode === 'capture', ...(layout === undefined ? {} : { webgpuLayout: layout }),
    });
    log(`${stage}: onnxruntime-web build ${runtime.ortBuild}${mode === null ? '' : `, ${mode === 'capture' ? 'bound with graph capture' : 'bound'}`}${layout === undefined ? '' : `, WebGPU layout ${layout}`}`);
    if (runtime.epOf(stage) !== ep) throw new Error(`the ${stage} stage would run on ${runtime.epOf(stage)}, not ${ep}: ${runtime.warnings.join(' ')}`);
    await runtime.warmup([stage]);
    const sessionMs = performance.now() - t0;
    log(`${stage}: session on ${ep} in ${(sessionMs / 1000).toFixed(1)} s (${graph})`);
    const entry = bundle.manifest.stages[stage]!;
    for (const side of sides) {
      // Bound: the binding (a session of its own under capture) is made here, outside the timed runs; its first run
      // records the graph.
      const call = mode !== null && (stage === 'unet' || stage === 'prior') ? await boundCallFor(runtime, stage, entry, side) : callFor(stage, entry, side);
      let t = performance.now();
      const first = await call(runtime);
      const firstRunMs = performance.now() - t;
      const peak = maxAbs(first);
      log(`${stage}${side ? ` ${side}` : ''}: first run ${(firstRunMs / 1000).toFixed(1)} s, max |out| ${peak.toPrecision(3)}`);
      const times: number[] = [];
      let counted: GpuWorkCounts | null = null;
      const save = (): WebRow => {
        const work = counted === null ? {} : {
          work: { dispatches: counted.dispatches, transposes: counted.transposes, submits: counted.submits, uploads: counted.uploads, readBacks: counted.readBacks },
        };
        const row: WebRow = { key: rowKey(stage, side), graph, ep, build, sessionMs, firstRunMs, ...summarise(times), runs: times.length, maxAbs: peak, ...work };
        record({ kind: 'row', ...row }); // after every run: a kill keeps what was measured
        return row;
      };
      save();
      for (let i = 0; i < repeats; i++) {
        // The first run includes shader compilation, so it overestimates a timed run: cap it.
        const estimate = times.length > 0 ? Math.max(...times.slice(-2)) : Math.min(firstRunMs, 15_000);
        if (Date.now() + estimate + 1000 > deadline) {
          log(`${stage}: stopping after ${times.length} timed runs (deadline)`);
          break;
        }
        const before = runtime.gpuWork();
        t = performance.now();
        await call(runtime);
        times.push(performance.now() - t);
        const after = runtime.gpuWork();
        if (before && after) counted = gpuWorkBetween(before, after);
        save();
      }
      const row = save();
      log(`${stage}${side ? ` ${side}` : ''} (${build}): median ${row.medianMs?.toFixed(1) ?? '–'} ms of ${times.length} (${times.map((x) => x.toFixed(1)).join(', ')})` +
        `${counted ? `; per run ${counted.dispatches} dispatches (${counted.transposes} transposes, ${counted.dequantizes} dequantizes), ${counted.submits} submits, ` +
          `${counted.uploads} uploads, ${counted.readBacks} read-backs; top kernels ${Object.entries(counted.kernels).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`);
      if (argv.includes('--profile') && ep === 'webgpu' && Date.now() + 2 * (row.medianMs ?? 1000) + 1000 < deadline) {
        await profileRun(runtime, stage, side, call, record);
      }
    }
    await runtime.dispose();
    record({ kind: 'end', ok: true });
  } catch (e) {
    const msg = message(e).split('\n')[0]!.slice(0, 300);
    record({ kind: 'error', message: msg });
    record({ kind: 'end', ok: false });
    console.error(`[webgpu-bench] ${stage} failed: ${message(e)}`);
  }
  // Results are on disk. Exiting normally can first run GPU work still queued (a failed session
  // creation left a minute of it under SwiftShader), so end the process outright.
  process.kill(process.pid, 'SIGKILL');
  return 0;
}

// ------------------------------------------------------------------ orchestration

interface RowsFile {
  readonly web: WebRow[];
  readonly errors: Map<BenchStage, string>;
  /** Stages whose child finished (true: without error) before ending itself. */
  readonly ended: Map<BenchStage, boolean>;
}

function readRows(file: string): RowsFile {
  const web = new Map<string, WebRow>();
  const errors = new Map<BenchStage, string>();
  const ended = new Map<BenchStage, boolean>();
  if (!existsSync(file)) return { web: [], errors, ended };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { kind: string; stage: BenchStage; message?: string; ok?: boolean } & WebRow;
    if (r.kind === 'row') web.set(`${r.key} ${r.build ?? 'jsep'}`, r); // the latest record of a shape wins
    else if (r.kind === 'error') errors.set(r.stage, `failed (${r.build ?? 'jsep'}): ${r.message ?? '?'}`);
    else if (r.kind === 'end') ended.set(r.stage, r.ok === true);
  }
  return { web: [...web.values()], errors, ended };
}

interface TorchFile {
  readonly rows: TorchRow[];
  readonly about: string;
}

function readTorch(file: string | undefined): TorchFile {
  if (file === undefined || !existsSync(file)) return { rows: [], about: 'no PyTorch figures (gpu_bench.py --torch-json did not finish)' };
  const j = JSON.parse(readFileSync(file, 'utf8')) as { rows?: TorchRow[]; torch?: string; device?: string; gpu?: string; protocol?: string };
  return { rows: j.rows ?? [], about: `PyTorch ${j.torch ?? '?'} on ${j.gpu ?? j.device ?? '?'} (${j.protocol ?? 'eager'})` };
}

function runChild(stage: BenchStage, build: GpuBuild, rowsFile: string, deadline: number, killAfterMs: number): Promise<string> {
  const pass = ['--ep', epArg(), '--size', sizeArg(), '--repeats', arg('--repeats') ?? '5', ...(argv.includes('--profile') ? ['--profile'] : []),
    ...(arg('--layout') === undefined ? [] : ['--layout', arg('--layout')!]), '--ort-build', build,
    ...(arg('--sides') === undefined ? [] : ['--sides', arg('--sides')!])];
  for (const flag of ['--work', '--bundle'] as const) {
    const v = arg(flag);
    if (v !== undefined) pass.push(flag, v);
  }
  for (const d of args('--dawn')) pass.push('--dawn', d);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'stage', '--stage', stage, '--rows', rowsFile,
    '--deadline-epoch', String(deadline), ...pass], { stdio: ['ignore', 'inherit', 'pipe'] });
  const tail: string[] = [];
  child.stderr.on('data', (b: Buffer) => {
    process.stderr.write(b);
    tail.push(...b.toString().split('\n').filter((l) => l.trim()));
    tail.splice(0, Math.max(0, tail.length - 3));
  });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, killAfterMs);
  return new Promise((done) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ended = readRows(rowsFile).ended.get(stage);
      if (ended !== undefined) done(ended ? 'done' : `failed: ${tail.join(' / ').slice(0, 300)}`);
      else if (killed) done(`timed out after ${Math.round(killAfterMs / 1000)} s`);
      else done(`failed (${signal ?? `exit ${code}`}): ${tail.join(' / ').slice(0, 300)}`);
    });
  });
}

async function runCommand(): Promise<number> {
  const out = resolve(arg('--out') ?? usage('--out DIR is required'));
  const work = arg('--work');
  const bundleDir = arg('--bundle');
  if ((work === undefined) === (bundleDir === undefined)) usage('give exactly one of --work DIR and --bundle DIR');
  const ep = epArg();
  const size = sizeArg();
  const stages = parseStages(arg('--stages') ?? BENCH_STAGES.join(','));
  const deadline = Date.now() + Number(arg('--deadline-s') ?? '300') * 1000;
  const torchFile = arg('--torch');
  const title = arg('--title') ?? 'Kandinsky 2.2: our runtime vs PyTorch';
  const probeFile = arg('--probe-json');
  let adapter = '';
  if (probeFile !== undefined && existsSync(probeFile)) {
    try {
      const p = JSON.parse(readFileSync(probeFile, 'utf8')) as { adapter?: Record<string, string> | null; shaderF16?: boolean };
      adapter = p.adapter ? ` WebGPU adapter: ${Object.values(p.adapter).filter((v) => v).join(' / ')}, shader-f16 ${p.shaderF16 === true ? 'yes' : 'no'}.` : ' No WebGPU adapter.';
    } catch {
      adapter = ` (${probeFile} is not JSON)`;
    }
  }
  mkdirSync(out, { recursive: true });
  const rowsFile = join(out, 'web-rows.jsonl');
  writeFileSync(rowsFile, '');
  const rows = plan(stages, size).filter((r) => sidesFilter()(r.side));
  const builds: (GpuBuild | 'wasm')[] = ep === 'webgpu' ? buildsArg('--ort-builds', 'webgpu') : ['wasm'];
  const status = new Map<BenchStage, string>(stages.map((s) => [s, 'waiting']));
  const scale = size === 'full' ? 1 : 0.25;
  const epLabel = ep === 'webgpu' ? 'ORT-web WebGPU (Dawn)' : 'ORT-web wasm';

  const report = (final: boolean): string => {
    const torch = readTorch(torchFile);
    const { web, errors } = readRows(rowsFile);
    for (const [s, e] of errors) status.set(s, e);
    const lines = [
      `# ${title}`, '',
      `${new Date().toISOString()}; ${torch.about}; ours: onnxruntime-web via workers/runtime/ort.ts on ${ep}` +
        `${ep === 'webgpu' ? ' (Node, Dawn from the webgpu package)' : ''}, ${size} architecture with random weights,` +
        ` session creation, one warm-up run, then median of ${arg('--repeats') ?? '5'} runs of runtime.run (host tensors in and out).${adapter}`,
      '', `Ours: ${epLabel}, onnxruntime-web builds ${builds.join(', ')}.`, '', ...formatBuildTable(rows, torch.rows, web, status, builds), '',
      `Stage status: ${stages.map((s) => `${s}: ${status.get(s) ?? '?'}`).join('; ')}${final ? '' : ' (in progress)'}`,
    ];
    if (work !== undefined) {
      const exported = stages.map((s) => join(exportDir(work, s), 'stage.json')).filter((f) => existsSync(f))
        .map((f) => JSON.parse(readFileSync(f, 'utf8')) as ExportedStage);
      if (exported.length > 0) lines.push('', ...formatExports(exported));
    }
    if (size === 'full') {
      lines.push('', 'SPEC §6 reference (H100, earlier run):', '', '| stage | PyTorch fp16 ms | PyTorch fp32 ms | ORT-web WebGPU ms |', '|---|---|---|---|');
      for (const [what, a, b, c] of SPEC_FIGURES) lines.push(`| ${what} | ${a} | ${b} | ${c} |`);
    }
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(out, 'results.md'), text);
    writeFileSync(join(out, 'results.json'), JSON.stringify({ torch: torch.rows, web, status: Object.fromEntries(status) }, null, 1));
    return text;
  };

  const skipAll = arg('--skip-all');
  if (skipAll !== undefined) {
    for (const s of stages) status.set(s, `skipped: ${skipAll}`);
    console.log(`\n${report(true)}`);
    return 0;
  }
  report(false);
  const pending: BenchStage[] = [...stages];
  while (pending.length > 0) {
    const leftS = (deadline - Date.now()) / 1000;
    let next: BenchStage | undefined;
    for (const s of [...pending]) {
      if (bundleDir !== undefined) {
        next = s;
        break;
      }
      const dir = exportDir(work!, s);
      if (existsSync(join(dir, 'failed.txt'))) {
        status.set(s, `export failed: ${readFileSync(join(dir, 'failed.txt'), 'utf8').trim().split('\n').slice(-1)[0]?.slice(0, 200) ?? '?'}`);
        pending.splice(pending.indexOf(s), 1);
        report(false);
        continue;
      }
      if (existsSync(join(dir, 'stage.json'))) {
        next = s;
        break;
      }
    }
    if (next === undefined) {
      if (pending.length === 0) break;
      if (leftS < Math.min(...pending.map((s) => MIN_START_S[s] * scale))) {
        for (const s of pending) status.set(s, `skipped: export not ready with ${Math.round(leftS)} s left`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    pending.splice(pending.indexOf(next), 1);
    if (leftS < MIN_START_S[next] * scale) {
      status.set(next, `skipped: ${Math.round(leftS)} s left, needs ${MIN_START_S[next] * scale} s`);
      report(false);
      continue;
    }
    const results: string[] = [];
    for (const [i, build] of builds.entries()) {
      // The time left is shared among the builds still to run for this stage.
      const left = (deadline - Date.now()) / 1000;
      const budgetS = Math.min(STAGE_BUDGET_S[next], left / (builds.length - i));
      if (budgetS < MIN_START_S[next] * scale / 2) {
        results.push(`${build}: skipped (${Math.round(left)} s left)`);
        continue;
      }
      status.set(next, `running (${build})`);
      report(false);
      log(`${next} (${build}): starting (${Math.round(budgetS)} s budget, ${Math.round(left)} s left)`);
      const result = await runChild(next, build === 'wasm' ? 'webgpu' : build, rowsFile, Date.now() + (budgetS - 3) * 1000, budgetS * 1000);
      results.push(`${build}: ${result}`);
      log(`${next} (${build}): ${result}`);
    }
    status.set(next, results.join('; '));
    report(false);
  }
  console.log(`\n${report(true)}`);
  return 0;
}


// ------------------------------------------------------------------ end to end (issue 9 item 6)

/** The four stages text-to-image needs. */
const E2E_STAGES = ['text_encoder', 'prior', 'unet', 'movq_decoder'] as const satisfies readonly BenchStage[];

/**
 * A bundle folder from gpu_bench.py's exports (OUT/web/STAGE): each stage's files hard-linked under STAGE/, and
 * everything else the exporter writes for Kandinsky 2.2 (tokenizer, text length, image processor, MoVQ facts,
 * scheduler configs) taken from the `reference` bundle; prior statistics neutral (random weights).
 */
function assembleBundle(work: string, reference: string): string {
  const dir = join(work, 'e2e-bundle');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ref = JSON.parse(readFileSync(join(reference, 'manifest.json'), 'utf8')) as BundleManifest;
  const stages: Record<string, StageEntry> = {};
  let embeddingDim = 0;
  for (const stage of E2E_STAGES) {
    const src = exportDir(work, stage);
    if (!existsSync(join(src, 'stage.json'))) throw new Error(`no export of ${stage} in ${src}`);
    const x = JSON.parse(readFileSync(join(src, 'stage.json'), 'utf8')) as ExportedStage;
    embeddingDim = x.embedding_dim;
    mkdirSync(join(dir, stage));
    const link = (file: string): string => {
      linkSync(join(src, file), join(dir, stage, file));
      return `${stage}/${file}`;
    };
    stages[stage] = {
      ...x.entry, file: link(x.entry.file),
      ...(x.entry.external_data ? { external_data: x.entry.external_data.map((e) => ({ ...e, path: link(e.path) })) } : {}),
    };
  }
  cpSync(join(reference, dirname(ref.text.tokenizer)), join(dir, dirname(ref.text.tokenizer)), { recursive: true });
  writeFileSync(join(dir, 'prior_stats.json'), JSON.stringify({ clip_mean: new Array(embeddingDim).fill(0), clip_std: new Array(embeddingDim).fill(1) }));
  const manifest = {
    ...ref, name: 'gpu-bench-e2e', description: 'Random weights at full size (tools/export/gpu_bench.py), for timing only.',
    dtype: 'float32', embedding_dim: embeddingDim, stages,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return dir;
}

/** One row of the end-to-end table. */
interface E2eRow {
  readonly build: string;
  readonly what: string;
  readonly ms: number;
  readonly note: string;
}

async function e2eCommand(): Promise<number> {
  const out = resolve(arg('--out') ?? usage('--out DIR is required'));
  const work = arg('--work');
  const given = arg('--bundle');
  if ((work === undefined) === (given === undefined)) usage('give exactly one of --work DIR and --bundle DIR');
  const side = Number(arg('--side') ?? '512');
  const steps = Number(arg('--steps') ?? '25');
  const priorSteps = Number(arg('--prior-steps') ?? '25');
  const repeats = Math.max(1, Number(arg('--repeats') ?? '2'));
  const scheduler = (arg('--scheduler') ?? 'dpmpp_2m') as SchedulerKind;
  if (!SCHEDULER_KINDS.includes(scheduler)) usage(`--scheduler: one of ${SCHEDULER_KINDS.join(', ')}`);
  const deadline = Date.now() + Number(arg('--deadline-s') ?? '120') * 1000;
  // `webgpu+bound` is what the app runs (GPU loops, no capture); plain `webgpu` would be the host loops.
  const builds = buildsArg('--ort-builds', 'webgpu+bound,webgpu+capture');
  mkdirSync(out, { recursive: true });
  await installWebGpu(args('--dawn'));
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = given ?? assembleBundle(work!, arg('--reference') ?? join(here, 'reference'));
  const rows: E2eRow[] = [];
  const errors: string[] = [];
  const request: Text2ImgRequest = {
    mode: 'text2img', prompt: 'a red cat on a blue sofa', negativePrompt: '', width: side, height: side, steps, guidance: 4,
    priorSteps, priorGuidance: 4, scheduler, seed: 1, numImages: 1,
  };
  const title = `text-to-image ${side}×${side}, ${priorSteps} prior + ${steps} ${scheduler} steps, guidance 4 / 4`;
  const write = (): void => {
    const lines = [
      `# End to end through the engine's generate (${title})`, '',
      `${new Date().toISOString()}; bundle ${given ?? 'assembled from the gpu_bench exports'}; Node + Dawn.`, '',
      '| build | what | ms | ms per stage (GenerateResult.timings); note |', '|---|---|---|---|',
      ...rows.map((r) => `| ${r.build} | ${r.what} | ${r.ms.toFixed(0)} | ${r.note} |`),
      ...(errors.length > 0 ? ['', ...errors.map((e) => `- ${e}`)] : []),
    ];
    writeFileSync(join(out, 'e2e.md'), `${lines.join('\n')}\n`);
    writeFileSync(join(out, 'e2e.json'), JSON.stringify({ title, rows, errors }, null, 1));
  };
  for (const build of builds) {
    if (Date.now() > deadline) { errors.push(`${build}: skipped, past the deadline`); break; }
    const { ortBuild, mode } = splitBuild(build);
    let engine: Engine | null = null;
    try {
      const t0 = performance.now();
      engine = await Engine.load({ kind: 'files', files: await bundleDirBlobs(dir) }, { provider: 'webgpu', verify: false }, {
        ortBuild, gpuLoop: mode !== null, graphCapture: mode === 'capture',
      });
      rows.push({ build, what: 'load (manifest, tokenizer; sessions are lazy)', ms: performance.now() - t0, note: engine.runtime.ep });
      /** One generate: its wall time and where it went (GenerateResult.timings: ms per stage). */
      const timed = async (what: string, req: Text2ImgRequest): Promise<{ ms: number; stages: string }> => {
        const t = performance.now();
        const r = await engine!.generate('e2e', req);
        const ms = performance.now() - t;
        const stages = Object.entries(r.timings).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
        log(`e2e ${build} ${what}: ${ms.toFixed(0)} ms (${stages})`);
        return { ms, stages };
      };
      const first = await timed('first', request);
      rows.push({ build, what: 'first run (sessions, shader compilation)', ms: first.ms, note: first.stages });
      write();
      const warm: { ms: number; stages: string }[] = [];
      for (let i = 0; i < repeats && Date.now() < deadline; i++) warm.push(await timed(`warm ${i + 1}`, request));
      warm.sort((a, b) => a.ms - b.ms);
      const median = warm[Math.floor(warm.length / 2)];
      if (median) rows.push({ build, what: `warm run, median of ${warm.length}`, ms: median.ms, note: `${median.stages}; min ${warm[0]!.ms.toFixed(0)}` });
      write();
      if (Date.now() < deadline && warm.length > 0) {
        const p = await timed('warm with previews', { ...request, preview: { every: 1 } });
        rows.push({ build, what: 'warm run with live previews (default pacing)', ms: p.ms, note: `${p.stages}; ${((p.ms / warm[0]!.ms - 1) * 100).toFixed(0)} % over the fastest warm run` });
      }
    } catch (e) {
      errors.push(`${build}: ${message(e).slice(0, 300)}`);
      log(`e2e ${build} failed: ${message(e)}`);
    } finally {
      await engine?.release().catch(() => undefined);
    }
    write();
  }
  write();
  console.log(readFileSync(join(out, 'e2e.md'), 'utf8'));
  return errors.length > 0 && rows.length === 0 ? 1 : 0;
}

// ------------------------------------------------------------------ parity on the GPU

async function parityCommand(): Promise<number> {
  const bundle = resolve(arg('--bundle') ?? usage('--bundle DIR is required'));
  const golden = resolve(arg('--golden') ?? usage('--golden DIR is required'));
  const out = resolve(arg('--out') ?? usage('--out DIR is required'));
  const label = arg('--label') ?? bundle;
  const capture = arg('--graph-capture') ?? 'off';
  if (capture !== 'on' && capture !== 'off') usage(`--graph-capture must be on or off, got ${capture}`);
  const deadline = Date.now() + Number(arg('--deadline-s') ?? '120') * 1000;
  mkdirSync(out, { recursive: true });
  const file = join(out, 'parity.md');
  const put = (line: string): void => {
    console.log(line);
    appendFileSync(file, `${line}\n`);
  };
  const only = arg('--cases')?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  const all = await goldenFiles(golden);
  const files = only === undefined ? all : all.filter((f) => only.includes(f.replace(/\.json$/, '')));
  const unknown = (only ?? []).filter((c) => !all.includes(`${c}.json`));
  if (unknown.length > 0) usage(`--cases: no such golden case in ${golden}: ${unknown.join(', ')}`);
  await installWebGpu(args('--dawn'));
  put(`\n## ${label}: ${files.length} cases from ${golden}, WebGPU (Node + Dawn), graph capture ${capture}\n`);
  const t0 = performance.now();
  const { env, engine } = await loadParityEnv({ kind: 'files', files: await bundleDirBlobs(bundle) }, 'webgpu', 1, capture === 'on');
  let passed = 0;
  let failed = 0;
  const done = new Set<string>();
  try {
    for await (const r of runGoldenFiles(env, golden, files)) {
      put(r.line);
      for (const d of r.details) put(d);
      done.add(r.line.split(' ')[0]!);
      if (r.pass) passed++;
      else failed++;
      if (Date.now() > deadline) break;
    }
  } finally {
    await engine.dispose().catch(() => undefined);
  }
  const left = files.map((f) => f.replace(/\.json$/, '')).filter((n) => !done.has(n));
  put(`\nparity (${label}): ${passed} passed, ${failed} failed${left.length > 0 ? `, ${left.length} not run (deadline): ${left.join(', ')}` : ''}` +
    ` in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return failed > 0 || left.length > 0 ? 1 : 0;
}

const commands: Record<string, () => Promise<number>> = { probe, run: runCommand, stage: stageCommand, e2e: e2eCommand, parity: parityCommand };
const fn = commands[command] ?? (() => usage(`unknown command "${command}"`));
// Dawn keeps handles open: exit explicitly.
fn().then((code) => process.exit(code), (e: unknown) => {
  console.error(`[webgpu-bench] ${message(e)}`);
  process.exit(1);
});
