/**
 * The one door to onnxruntime-web: picks the execution provider, creates stage sessions lazily,
 * converts float16 at the boundary, serialises runs and maps every failure to an EngineError.
 */
import type * as OrtModule from 'onnxruntime-web';
import { EngineError, ErrorCode } from '../errors.ts';
import { fromFloat16, toFloat16 } from '../tensor/fp16.ts';
import { f32, i64, type HostTensor } from '../tensor/tensor.ts';
import type { Bundle } from './bundle.ts';
import { countGpuWork, type GpuMemory, type GpuWorkCounter, type GpuWorkCounts } from './gpu-work.ts';
import { watchGpuErrors, type GpuErrorLog } from './gpu-errors.ts';
import { dimRules, stageComputesFloat16, stageDtype, type BundleManifest, type StageEntry } from './manifest.ts';
import type { StageFeeds, StageInputs, StageResult } from './stage-io.ts';
import { GPU_ADAPTER_OPTIONS, GPU_TENSOR_USAGE, gpuTensorBytes, type BoundStage, type ExecutionProvider, type GpuStageRunner, type GpuTensor, type ProviderPreference, type StageName, type StageRunner } from './types.ts';

type Ort = typeof OrtModule;
type Session = OrtModule.InferenceSession;

/** What the device offers, for the UI and for per-stage decisions. */
export interface RuntimeCapabilities {
  /** A WebGPU adapter was found. */
  readonly webgpu: boolean;
  /** The adapter supports 16-bit floats in shaders (needed by float16 graphs on WebGPU). */
  readonly shaderF16: boolean;
}

export interface RuntimeOptions {
  readonly provider: ProviderPreference;
  /** wasm threads; default 1 in Node, min(4, cores) in cross-origin-isolated pages, else 1. */
  readonly numThreads?: number;
  /** URL prefix of the self-hosted ORT .wasm files; default `${BASE_URL}ort/` in browsers. */
  readonly wasmPaths?: string;
  /** The WebGPU provider's internal tensor layout; NCHW on the native builds, onnxruntime-web's default (NHWC) on JSEP. */
  readonly webgpuLayout?: 'NHWC' | 'NCHW';
  /**
   * The onnxruntime-web build for WebGPU (benchmarks): default `jspi` where the browser offers JSPI,
   * else `webgpu` (asyncify); `jsep` is the legacy build, for comparison. wasm runs use the `wasm` build.
   */
  readonly ortBuild?: Exclude<OrtBuild, 'wasm'>;
  /** Count the GPU work of every run (benchmarks; see gpu-work.ts). Takes effect when the device is made. */
  readonly countGpuWork?: boolean;
  /**
   * The GPU-resident denoising loop (workers/gpu/) on the native WebGPU builds; default on. Off, the loop runs on
   * the host as on wasm (every UNet step uploads its inputs and reads its output back): the switch for comparisons.
   */
  readonly gpuLoop?: boolean;
  /**
   * Graph capture (onnxruntime's `enableGraphCapture`) for stages a loop binds to fixed shapes (GpuStageRunner.bind):
   * the first run records the session's GPU commands, later runs replay them with no uniform writes or uploads of
   * ORT's own. It costs a session per shape (a size change uploads the stage's weights again) and keeps the graph's
   * intermediate buffers for replay (+29 % GPU buffer bytes at 256² on the tiny bundle, docs/gpu-loop.md), against a
   * saving no GPU has timed yet: default off; bound stages then run the ordinary, shape-agnostic sessions.
   */
  readonly graphCapture?: boolean;
}

/** A StageRunner backed by onnxruntime-web sessions. */
export interface OrtRuntime extends StageRunner {
  readonly capabilities: RuntimeCapabilities;
  /** The onnxruntime-web build this runtime loaded. */
  readonly ortBuild: OrtBuild;
  /** Decisions the user should know about (wasm fallback, slow paths). */
  readonly warnings: readonly string[];
  /** The provider a stage runs on (float16 stages may fall back to wasm). */
  epOf(stage: StageName): ExecutionProvider;
  /** Free one stage's session, or all; the next run recreates it. */
  release(stage?: StageName): Promise<void>;
  /** Create the sessions of these stages now (session creation can take seconds on WebGPU). */
  warmup(stages: readonly StageName[]): Promise<void>;
  /** Release everything; the runtime cannot be used afterwards. */
  dispose(): Promise<void>;
  /**
   * Report each WebGPU kernel's GPU time (timestamp queries) to `onKernel` from the next run on,
   * or stop with null. For benchmarks; a no-op on the native builds (they ignore env.webgpu.profiling)
   * and where the device lacks `timestamp-query`.
   */
  profileGpu(onKernel: ((k: GpuKernelTime) => void) | null): void;
  /** GPU work so far (dispatches, copies, submits), or null unless created with `countGpuWork` on WebGPU. */
  gpuWork(): GpuWorkCounts | null;
  /** GPU buffer memory (live bytes and the peak since the last reset; `resetPeak` starts a new one), or null as for gpuWork. */
  gpuMemory(resetPeak?: boolean): GpuMemory | null;
}

/** One WebGPU kernel's execution, as onnxruntime-web's profiler reports it. */
export interface GpuKernelTime {
  readonly kernelType: string;
  readonly programName: string;
  readonly ns: number;
}

const isNode = typeof globalThis.process?.versions?.node === 'string';

/**
 * onnxruntime-web 1.30's builds (package exports): `wasm` is the CPU provider alone
 * (ort-wasm-simd-threaded.wasm); `webgpu` (asyncify) and `jspi` carry the native C++ WebGPU
 * provider plus the CPU one; `jsep` is the legacy build whose WebGPU kernels are TypeScript
 * (`onnxruntime-web` / `onnxruntime-web/all`), kept for benchmarks only.
 */
export const ORT_BUILDS = ['wasm', 'webgpu', 'jspi', 'jsep'] as const;
export type OrtBuild = (typeof ORT_BUILDS)[number];

let ortModules: Partial<Record<OrtBuild, Promise<Ort>>> = {};

/** Node resolves these at run time; Vite must not bundle them (Node-only or benchmark-only). */
const NODE_SPECIFIERS = { wasm: 'onnxruntime-web', webgpu: 'onnxruntime-web/webgpu', jspi: 'onnxruntime-web/jspi', jsep: 'onnxruntime-web/all' } as const satisfies Record<OrtBuild, string>;

function importOrt(build: OrtBuild): Promise<Ort> {
  // Node's `onnxruntime-web` entry is the plain wasm build; its browser bundles carry WebGPU, which
  // Node gets from the `webgpu` package (Dawn).
  if (isNode) return import(/* @vite-ignore */ NODE_SPECIFIERS[build]) as Promise<Ort>;
  switch (build) {
    case 'wasm':
      return import('onnxruntime-web/wasm');
    case 'webgpu':
      return import('onnxruntime-web/webgpu');
    case 'jspi':
      return import('onnxruntime-web/jspi');
    case 'jsep':
      // Benchmarks run on the dev server; the production build ships no JSEP chunk.
      if (import.meta.env?.DEV) return import('onnxruntime-web');
      return Promise.reject(new Error('the JSEP build of onnxruntime-web is for benchmarks on the dev server only'));
    default: {
      const never: never = build;
      throw new Error(`unknown onnxruntime-web build ${String(never)}`);
    }
  }
}

function loadOrt(build: OrtBuild): Promise<Ort> {
  const cached = ortModules[build];
  if (cached) return cached;
  const p = importOrt(build);
  ortModules = { ...ortModules, [build]: p };
  return p;
}

/** JSPI (WebAssembly.Suspending) lets the native WebGPU build await the GPU without asyncify's code growth. */
function hasJspi(): boolean {
  return typeof (globalThis.WebAssembly as { Suspending?: unknown } | undefined)?.Suspending === 'function';
}

/** The GPU build a browser gets: JSPI where offered (smaller wasm, no asyncify overhead), else asyncify. */
export function defaultGpuBuild(): 'webgpu' | 'jspi' {
  return !isNode && hasJspi() ? 'jspi' : 'webgpu';
}

/** Dawn (Node's `webgpu` package) rejects writeBuffer from SharedArrayBuffer views: copy those first (SPEC §5). */
function copySharedWrites(device: GPUDevice): void {
  const queue = device.queue;
  const write = queue.writeBuffer.bind(queue);
  const patched = (buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number): void => {
    const view = ArrayBuffer.isView(data) ? data : null;
    const backing = view ? view.buffer : data;
    if (typeof SharedArrayBuffer === 'undefined' || !(backing instanceof SharedArrayBuffer)) {
      write(buffer, offset, data as BufferSource, dataOffset, size);
      return;
    }
    // Typed arrays count dataOffset/size in elements; ArrayBuffers and DataViews in bytes.
    const unit = view && !(view instanceof DataView) ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    const start = (view ? view.byteOffset : 0) + (dataOffset ?? 0) * unit;
    const length = size !== undefined ? size * unit : (view ? view.byteLength : backing.byteLength) - (dataOffset ?? 0) * unit;
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(backing, start, length));
    write(buffer, offset, copy);
  };
  queue.writeBuffer = patched as GPUQueue['writeBuffer'];
}

/** The WebGPU device of one ORT module, and who to tell when it is lost. */
interface GpuState {
  readonly adapter: GPUAdapter;
  readonly onLost: Set<(reason: string) => void>;
  /** Whether to count the device's work, and the counter once the device exists. */
  countWork: boolean;
  counter: GpuWorkCounter | null;
  /** Uncaptured WebGPU errors of the device in use (the app's on the native builds, ORT's own on JSEP); gpu-errors.ts. */
  errors: GpuErrorLog | null;
  /** The app's own device (native builds), made at the first WebGPU session; null for JSEP, whose ORT makes it. */
  device: Promise<GPUDevice> | null;
}
const gpuStates = new WeakMap<Ort, GpuState>();

/** Limits the native provider uses beyond the defaults (large buffers, big workgroups): the adapter's best. */
const DEVICE_LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage', 'maxBindGroups',
] as const;
/** Features the native provider makes use of when present (f16 graphs, subgroup kernels, GPU timing). */
const DEVICE_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

/**
 * Fewest lanes per subgroup that onnxruntime-web 1.30's subgroup kernels are right with. Its FlashAttention
 * (`com.microsoft.MultiHeadAttention`, the exporter's `attention` pass) steps through keys 8 or 16 at a time and
 * reads them from lanes 0…7 (0…15 where `subgroup_size > 8`) with `subgroupShuffle`
 * (contrib_ops/webgpu/bert/flash_attention.cc); with fewer lanes those reads come from lanes that do not exist.
 * SwiftShader has 4 (docs/gpu-surgery.md). `MatMulNBitsWideTile` (int8/int4) needs 4; no other kernel of our
 * graphs uses subgroup operations (shader texts checked, 2026-12-08).
 */
export const MIN_SUBGROUP_LANES = 8;

/**
 * The features to ask the adapter for: DEVICE_FEATURES it offers, less `subgroups` where the adapter says its
 * subgroups can be narrower than MIN_SUBGROUP_LANES (without it onnxruntime picks kernels that need none).
 */
export function deviceFeatures(features: ReadonlySet<string>, info: { readonly subgroupMinSize?: number }): GPUFeatureName[] {
  const narrow = typeof info.subgroupMinSize === 'number' && info.subgroupMinSize < MIN_SUBGROUP_LANES;
  return DEVICE_FEATURES.filter((f) => features.has(f) && !(f === 'subgroups' && narrow)) as GPUFeatureName[];
}

/**
 * Dawn in Node (`webgpu` 0.6.2, SwiftShader here): under the native build's asyncify glue some
 * createComputePipelineAsync promises stayed pending for over a minute (8 of 10 settled) and the run
 * never finished; with pipelines created synchronously it ran. JSEP creates them synchronously too.
 */
function syncPipelines(device: GPUDevice): void {
  device.createComputePipelineAsync = async (descriptor) => device.createComputePipeline(descriptor);
}

/** Watches a new device: loss notifications, Dawn's shims in Node, the work counter when asked. */
function adoptDevice(state: GpuState, device: GPUDevice): GPUDevice {
  if (isNode) {
    copySharedWrites(device);
    syncPipelines(device);
  }
  if (state.countWork) state.counter = countGpuWork(device);
  state.errors = watchGpuErrors(device);
  void device.lost.then((info) => {
    const reason = info.message || info.reason || 'unknown reason';
    for (const notify of state.onLost) notify(reason);
  });
  return device;
}

/** The device native-build sessions run on: requested once per ORT module with what the provider can use. */
function deviceOf(state: GpuState): Promise<GPUDevice> {
  state.device ??= (async () => {
    const { adapter } = state;
    const requiredLimits: Record<string, number> = {};
    for (const k of DEVICE_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures = deviceFeatures(adapter.features as ReadonlySet<string>, (adapter.info as { subgroupMinSize?: number } | undefined) ?? {});
    return adoptDevice(state, await adapter.requestDevice({ requiredFeatures, requiredLimits }));
  })();
  return state.device;
}

/**
 * One GpuState per ORT module (the module keeps its device for good). JSEP creates its device from
 * `env.webgpu.adapter`, which it freezes after the first WebGPU session: wrap requestDevice there.
 * The native builds take the device the app made, in each session's provider options.
 */
function gpuStateFor(ort: Ort, build: OrtBuild, adapter: GPUAdapter, countWork: boolean): GpuState {
  const existing = gpuStates.get(ort);
  if (existing) {
    existing.countWork ||= countWork;
    return existing;
  }
  const state: GpuState = { adapter, onLost: new Set(), countWork, counter: null, device: null, errors: null };
  if (build === 'jsep') {
    const requestDevice = adapter.requestDevice.bind(adapter);
    (adapter as { requestDevice: GPUAdapter['requestDevice'] }).requestDevice = async (descriptor?: GPUDeviceDescriptor) =>
      adoptDevice(state, await requestDevice(descriptor));
    ort.env.webgpu.adapter = adapter;
  }
  gpuStates.set(ort, state);
  return state;
}

interface GpuProbe {
  readonly adapter: GPUAdapter | null;
  /** Why there is no adapter, for the fallback warning. */
  readonly reason: string;
}

async function probeGpu(): Promise<GpuProbe> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { adapter: null, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter(GPU_ADAPTER_OPTIONS);
    return adapter ? { adapter, reason: '' } : { adapter: null, reason: 'the browser found no suitable GPU adapter' };
  } catch (e) {
    return { adapter: null, reason: `requesting a GPU adapter failed (${e instanceof Error ? e.message : String(e)})` };
  }
}

function defaultThreads(): number {
  if (isNode) return 1;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return isolated ? Math.max(1, Math.min(4, cores)) : 1;
}

function defaultWasmPaths(): string | undefined {
  if (isNode) return undefined;
  const base = import.meta.env?.BASE_URL ?? '/';
  const here = globalThis.location?.href;
  return here ? new URL(`${base}ort/`, here).href : `${base}ort/`;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const DEVICE_LOST = /device (is |was )?lost|GPUDevice.*lost|lost.*GPUDevice|DXGI_ERROR_DEVICE_REMOVED/i;
const NEEDS_F16 = /requires f16|shader-f16|\bf16\b.*not support/i;
/** onnxruntime's allocation failures: std::bad_alloc from the wasm heap, SafeInt's overflow when a
 *  buffer's byte size passes 2^32 (as a 40,000-token attention matrix does), wasm memory growth refused. */
const OUT_OF_MEMORY = /bad_alloc|SafeIntOnOverflow|out of memory|\bOOM\b|Cannot enlarge memory|Maximum memory size exceeded|Array buffer allocation failed/i;

/** A readable OUT_OF_MEMORY for an allocation failure `raw` of `stage` on `ep`, or null if `raw` is something else. */
export function outOfMemoryError(stage: StageName, file: string, ep: ExecutionProvider, inputs: string, raw: string): EngineError | null {
  if (!OUT_OF_MEMORY.test(raw)) return null;
  const where = ep === 'wasm'
    ? 'the CPU (wasm) path, whose memory is at most 4 GiB; use a smaller size or WebGPU'
    : 'the GPU; use a smaller size or close other GPU work';
  const detail = raw.match(OUT_OF_MEMORY)?.[0] ?? raw;
  return new EngineError(ErrorCode.OutOfMemory, `Stage ${stage} ran out of memory on ${where}. (${inputs}; onnxruntime: ${detail})`, { file, actual: inputs });
}

const describeFeed = (name: string, t: HostTensor): string => `${name} ${t.type}[${t.dims.join(',')}]`;
const describeGraph = (entry: StageEntry): string =>
  Object.entries(entry.inputs).map(([n, d]) => `${n}[${d.join(',')}]`).join(', ');

/**
 * The graph's declared fixed dims against the manifest: each numeric dim the manifest gives for the
 * stage, and each dim dimRules ties to a manifest number (text.max_length against input_ids' sequence
 * length, embedding_dim against the embeddings, ...). STAGE_MISMATCH names the field, expected and actual.
 */
function declaredDimMismatch(stage: StageName, entry: StageEntry, manifest: BundleManifest, session: Session): EngineError | null {
  const graph = new Map<string, readonly (number | string)[]>();
  for (const meta of [...session.inputMetadata, ...session.outputMetadata]) if (meta.isTensor) graph.set(meta.name, meta.shape);
  const wanted: { kind: 'inputs' | 'outputs'; io: string; axis: number; want: number; from: string }[] = [];
  for (const kind of ['inputs', 'outputs'] as const) {
    for (const [io, dims] of Object.entries(entry[kind])) {
      dims.forEach((d, axis) => { if (typeof d === 'number') wanted.push({ kind, io, axis, want: d, from: `stages.${stage}.${kind}.${io}[${axis}]` }); });
    }
  }
  for (const r of dimRules(manifest)) if (r.stage === stage) wanted.push(r);
  for (const w of wanted) {
    const shape = graph.get(w.io);
    // ORT reports [] for an undeclared shape, and names for symbolic dims; only fixed dims can disagree.
    const actual = shape && shape.length > w.axis ? shape[w.axis] : undefined;
    if (typeof actual === 'number' && actual >= 0 && actual !== w.want) {
      return new EngineError(
        ErrorCode.StageMismatch,
        `The ${stage} graph "${entry.file}" declares ${w.io}[${w.axis}] = ${actual}, but the manifest's ${w.from} is ${w.want}. `
        + 'The bundle\'s files do not match its manifest; re-export the bundle.',
        { file: entry.file, expected: `${w.io}[${w.axis}] = ${w.want} (${w.from})`, actual: `${w.io}[${w.axis}] = ${actual}` },
      );
    }
  }
  return null;
}

interface StageSession {
  readonly session: Session;
  readonly ep: ExecutionProvider;
  /** Element type per graph input, from the model's metadata. */
  readonly inputTypes: ReadonlyMap<string, string>;
}

/** A stage bound to fixed shapes (GpuStageRunner.bind): its session (its own under graph capture) and buffers that outlive each run. */
interface Binding {
  readonly key: string;
  readonly session: Session;
  /** A session of the binding's own (graph capture), released with it; else the stage's ordinary session. */
  readonly ownsSession: boolean;
  readonly buffers: readonly GPUBuffer[];
  readonly handle: BoundStage<StageName>;
  ended: boolean;
  /** Release the last run's output tensors. */
  dispose(): void;
}

/** Symbolic dims of a stage's inputs fixed by the given shapes (freeDimensionOverrides), or a message naming the clash. */
export function fixedDims(entry: StageEntry, dims: Readonly<Record<string, readonly number[]>>): Record<string, number> | string {
  const fixed: Record<string, number> = {};
  for (const [name, declared] of Object.entries(entry.inputs)) {
    const given = dims[name];
    if (!given) return `no shape for input "${name}"`;
    if (given.length !== declared.length) return `input "${name}" has ${given.length} dims, the manifest ${declared.length}`;
    for (let a = 0; a < declared.length; a++) {
      const d = declared[a]!;
      const v = given[a]!;
      if (!Number.isInteger(v) || v < 1) return `input "${name}"[${a}] is ${v}`;
      if (typeof d === 'number') {
        if (d !== v) return `input "${name}"[${a}] is ${v}, the manifest fixes ${d}`;
      } else if (fixed[d] !== undefined && fixed[d] !== v) {
        return `dim "${d}" is ${fixed[d]} in one input and ${v} in "${name}"`;
      } else {
        fixed[d] = v;
      }
    }
  }
  return fixed;
}

/** A stage output's shape under fixed symbolic dims, or null where a dim is not fixed by the inputs. */
function outputDims(declared: readonly (number | string)[], fixed: Readonly<Record<string, number>>): number[] | null {
  const out: number[] = [];
  for (const d of declared) {
    const v = typeof d === 'number' ? d : fixed[d];
    if (v === undefined) return null;
    out.push(v);
  }
  return out;
}

class Runtime implements OrtRuntime {
  private readonly sessions = new Map<StageName, Promise<StageSession>>();
  private readonly bindings = new Map<StageName, Binding>();
  private readonly warningList: string[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private lostReason: string | null = null;
  private readonly lostWaiters = new Set<(reason: string) => void>();
  private disposed = false;

  constructor(
    private readonly ort: Ort,
    private readonly bundle: Bundle,
    readonly ep: ExecutionProvider,
    readonly capabilities: RuntimeCapabilities,
    private readonly stageEps: ReadonlyMap<StageName, ExecutionProvider>,
    warnings: readonly string[],
    readonly ortBuild: OrtBuild,
    private readonly gpu?: GpuState,
    private readonly webgpuLayout?: 'NHWC' | 'NCHW',
    private readonly gpuLoop = true,
    private readonly graphCapture = false,
  ) {
    this.warningList.push(...warnings);
    gpu?.onLost.add(this.markLost);
  }

  get warnings(): readonly string[] {
    return this.warningList;
  }

  has(stage: StageName): boolean {
    return this.bundle.manifest.stages[stage] !== undefined;
  }

  epOf(stage: StageName): ExecutionProvider {
    return this.stageEps.get(stage) ?? this.ep;
  }

  /** Device loss handler (called from GPUDevice.lost): fails every GPU call in flight. */
  private readonly markLost = (reason: string): void => {
    this.lostReason = reason;
    for (const fail of [...this.lostWaiters]) fail(reason);
  };

  /**
   * `work`, unless the GPU device is lost first. onnxruntime-web's awaits on a destroyed device never
   * settle (a run on SwiftShader after GPUDevice.destroy() hangs for good), so no GPU call may be
   * awaited alone; and ORT keeps its one device, so once lost, every later GPU call fails at once.
   */
  private orLost<T>(ep: ExecutionProvider, work: Promise<T>): Promise<T> {
    if (ep !== 'webgpu' || !this.gpu) return work;
    return new Promise<T>((resolve, reject) => {
      const fail = (reason: string): void => {
        this.lostWaiters.delete(fail);
        reject(new Error(`GPU device lost: ${reason}`));
      };
      if (this.lostReason !== null) {
        work.catch(() => undefined); // started already; its own failure, if any, is no news
        fail(this.lostReason);
        return;
      }
      this.lostWaiters.add(fail);
      work.then(resolve, reject).finally(() => this.lostWaiters.delete(fail));
    });
  }

  /** Runs tasks one at a time: sessions share one GPU device and ORT web rejects concurrent runs. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }

  private entry(stage: StageName): StageEntry {
    const entry = this.bundle.manifest.stages[stage];
    if (!entry) {
      throw new EngineError(ErrorCode.StageMissing, `The bundle "${this.bundle.manifest.name}" has no ${stage} stage, so this mode is not available with it.`, { file: stage });
    }
    return entry;
  }

  private checkUsable(): void {
    if (this.disposed) throw new EngineError(ErrorCode.NoModel, 'The model was unloaded; load a bundle again.');
  }

  private session(stage: StageName): Promise<StageSession> {
    let s = this.sessions.get(stage);
    if (!s) {
      const created = this.createSession(stage);
      this.sessions.set(stage, created);
      created.catch(() => {
        if (this.sessions.get(stage) === created) this.sessions.delete(stage);
      });
      s = created;
    }
    return s;
  }

  private async createSession(stage: StageName, extra: OrtModule.InferenceSession.SessionOptions = {}): Promise<StageSession> {
    const entry = this.entry(stage);
    const ep = this.epOf(stage);
    const model = await this.bundle.readFile(entry.file);
    // External data paths are relative to the graph file inside the bundle.
    const dir = entry.file.slice(0, entry.file.lastIndexOf('/') + 1);
    const externalData = await Promise.all((entry.external_data ?? []).map(async (e) => ({
      path: dir && e.path.startsWith(dir) ? e.path.slice(dir.length) : e.path,
      data: await this.bundle.readFile(e.path),
    })));
    let session: Session;
    try {
      session = await this.orLost(ep, this.ort.InferenceSession.create(model, {
        executionProviders: [await this.providerOptions(ep)],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3, // errors only: node-placement warnings are expected
        ...(externalData.length > 0 ? { externalData } : {}),
        ...extra,
      }));
    } catch (e) {
      throw this.creationError(stage, entry, ep, e);
    }

    const expectedIn = Object.keys(entry.inputs);
    const expectedOut = Object.keys(entry.outputs);
    const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && b.every((n) => a.includes(n));
    if (!same(session.inputNames, expectedIn) || !same(session.outputNames, expectedOut)) {
      await session.release().catch(() => undefined);
      const expected = `inputs [${expectedIn.join(', ')}], outputs [${expectedOut.join(', ')}]`;
      const actual = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
      throw new EngineError(
        ErrorCode.StageMismatch,
        `The ${stage} graph "${entry.file}" has ${actual}, but the manifest says ${expected}. The bundle's files do not match its manifest; re-export the bundle.`,
        { file: entry.file, expected, actual },
      );
    }
    const mismatch = declaredDimMismatch(stage, entry, this.bundle.manifest, session);
    if (mismatch) {
      await session.release().catch(() => undefined);
      throw mismatch;
    }
    const inputTypes = new Map<string, string>();
    for (const meta of session.inputMetadata) if (meta.isTensor) inputTypes.set(meta.name, meta.type);
    return { session, ep, inputTypes };
  }

  /** The provider entry of a session: the native WebGPU builds get the app's device. */
  private async providerOptions(ep: ExecutionProvider): Promise<OrtModule.InferenceSession.ExecutionProviderConfig> {
    if (ep !== 'webgpu' || !this.gpu) return ep;
    if (this.ortBuild === 'jsep') return { name: 'webgpu', ...(this.webgpuLayout ? { preferredLayout: this.webgpuLayout } : {}) };
    // NCHW on the native builds: their NHWC path (the default) got unet_inpaint wrong (max error 1.3
    // against outputs of 1.4, SwiftShader, onnxruntime-web 1.30) where NCHW matches wasm to 2e-5; it
    // also spares the layout transposes around every normalisation.
    const preferredLayout = this.webgpuLayout ?? 'NCHW';
    return { name: 'webgpu', preferredLayout, device: await this.orLost(ep, deviceOf(this.gpu)) };
  }

  private creationError(stage: StageName, entry: StageEntry, ep: ExecutionProvider, e: unknown): EngineError {
    const msg = message(e);
    if (e instanceof EngineError) return e;
    if (this.lostReason !== null || DEVICE_LOST.test(msg)) return this.deviceLost(msg);
    const oom = outOfMemoryError(stage, entry.file, ep, `creating the session from "${entry.file}"`, msg);
    if (oom) return oom;
    const float16 = stageComputesFloat16(this.bundle.manifest, stage);
    if (ep === 'webgpu' && !this.capabilities.shaderF16 && NEEDS_F16.test(msg)) {
      return new EngineError(
        ErrorCode.Unsupported,
        `The ${stage} graph "${entry.file}" needs 16-bit float shaders, which this GPU does not offer (no shader-f16). Use a float32 bundle or the wasm provider. (${msg})`,
        { file: entry.file, expected: 'shader-f16', actual: 'not supported by the GPU adapter' },
      );
    }
    if (float16 && ep === 'wasm' && this.ep === 'webgpu') {
      return new EngineError(
        ErrorCode.Unsupported,
        `The ${stage} graph "${entry.file}" is float16; this GPU has no shader-f16 and the CPU (wasm) fallback could not load it either: ${msg}. Use a float32 bundle or a GPU with shader-f16.`,
        { file: entry.file },
      );
    }
    return new EngineError(ErrorCode.Runtime, `Could not create the ${stage} session from "${entry.file}" on ${ep}: ${msg}`, { file: entry.file });
  }

  private deviceLost(detail: string): EngineError {
    const reason = this.lostReason ?? detail;
    // Drop every session and binding: they hold buffers of the lost device.
    const old = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of old) void s.then((x) => x.session.release()).catch(() => undefined);
    for (const stage of [...this.bindings.keys()]) void this.unbind(stage).catch(() => undefined);
    return new EngineError(
      ErrorCode.DeviceLost,
      // onnxruntime-web keeps the one GPUDevice it created for good, so a new device needs a new
      // module, i.e. a new worker: the app's EngineClient restarts it on this code.
      `The GPU device was lost (${reason}); the run stopped and its GPU sessions were dropped. A new device needs a fresh engine (the app restarts its worker by itself).`,
      { actual: reason },
    );
  }

  private toOrtTensor(stage: StageName, name: string, t: HostTensor, graphType: string | undefined): OrtModule.Tensor {
    const { Tensor } = this.ort;
    const dims = [...t.dims];
    const fail = (expected: string): never => {
      throw new EngineError(ErrorCode.Internal, `Stage ${stage}: input "${name}" is ${t.type} but the graph takes ${expected}.`, {
        file: stage, expected: `${name}: ${expected}`, actual: `${name}: ${t.type}`,
      });
    };
    if (t.type === 'int64') {
      if (graphType !== undefined && graphType !== 'int64') fail(graphType);
      return new Tensor('int64', t.data, dims);
    }
    const target = graphType ?? (stageDtype(this.bundle.manifest, stage) === 'float16' ? 'float16' : 'float32');
    switch (target) {
      case 'float32':
        return new Tensor('float32', t.data, dims);
      case 'float16':
        return new Tensor('float16', toFloat16(t.data), dims);
      default:
        return fail(target);
    }
  }

  private fromOrtTensor(stage: StageName, name: string, t: OrtModule.Tensor): HostTensor {
    const dims = [...t.dims];
    switch (t.type) {
      case 'float32':
        return f32(t.data as Float32Array, dims);
      case 'float16': {
        const data = t.data as unknown;
        return f32(data instanceof Uint16Array ? fromFloat16(data) : Float32Array.from(data as ArrayLike<number>), dims);
      }
      case 'int64':
        return i64(t.data as BigInt64Array, dims);
      default:
        throw new EngineError(ErrorCode.StageMismatch, `Stage ${stage}: output "${name}" has type ${t.type}; float32, float16 or int64 was expected.`, {
          file: stage, expected: 'float32, float16 or int64', actual: t.type,
        });
    }
  }

  /** The session of a stage, after checking that `given` are exactly its input names. */
  private async sessionFor(stage: StageName, given: readonly string[]): Promise<StageSession & { readonly entry: StageEntry }> {
    this.checkUsable();
    const entry = this.entry(stage);
    await this.unbind(stage); // a host run of a bound stage ends the binding: one copy of its weights on the GPU
    const s = await this.session(stage);
    const names = s.session.inputNames;
    const missingNames = names.filter((n) => !given.includes(n));
    const extra = given.filter((n) => !names.includes(n));
    if (missingNames.length > 0 || extra.length > 0) {
      throw new EngineError(
        ErrorCode.Internal,
        `Stage ${stage}: the graph takes [${names.join(', ')}] but was given [${given.join(', ')}]` +
          `${missingNames.length ? `; missing ${missingNames.join(', ')}` : ''}${extra.length ? `; unexpected ${extra.join(', ')}` : ''}.`,
        { file: entry.file, expected: names.join(', '), actual: given.join(', ') },
      );
    }
    return { ...s, entry };
  }

  /** A failed run as an EngineError: DEVICE_LOST, OUT_OF_MEMORY, or RUNTIME_ERROR naming the inputs. */
  private runError(stage: StageName, entry: StageEntry, ep: ExecutionProvider, e: unknown, inputs: string): EngineError {
    if (e instanceof EngineError) return e;
    const msg = message(e);
    if (this.lostReason !== null || DEVICE_LOST.test(msg)) return this.deviceLost(msg);
    const oom = outOfMemoryError(stage, entry.file, ep, inputs, msg);
    if (oom) return oom;
    return new EngineError(
      ErrorCode.Runtime,
      `Stage ${stage} ("${entry.file}", ${ep}) failed: ${msg}. Inputs: ${inputs}; the manifest declares ${describeGraph(entry)}.`,
      { file: entry.file, actual: inputs },
    );
  }

  run<S extends StageName>(stage: S, typedFeeds: Readonly<StageFeeds<S>>): Promise<StageResult<S>> {
    // Names are checked against the graph below; inside, a stage's feeds are a plain name → tensor table.
    const feeds: Readonly<Record<string, HostTensor>> = typedFeeds;
    return this.serial(async () => {
      const { session, inputTypes, ep, entry } = await this.sessionFor(stage, Object.keys(feeds));

      const ortFeeds: Record<string, OrtModule.Tensor> = {};
      for (const name of session.inputNames) ortFeeds[name] = this.toOrtTensor(stage, name, feeds[name]!, inputTypes.get(name));

      let results: OrtModule.InferenceSession.OnnxValueMapType;
      try {
        results = await this.orLost(ep, session.run(ortFeeds));
      } catch (e) {
        throw this.runError(stage, entry, ep, e, Object.entries(feeds).map(([n, t]) => describeFeed(n, t)).join(', '));
      } finally {
        for (const t of Object.values(ortFeeds)) t.dispose();
      }

      const out: Record<string, HostTensor> = {};
      for (const name of session.outputNames) {
        const t = results[name];
        if (t === undefined) {
          throw new EngineError(ErrorCode.StageMismatch, `Stage ${stage} returned no "${name}" output.`, { file: entry.file, expected: name });
        }
        out[name] = this.fromOrtTensor(stage, name, t);
        t.dispose();
      }
      await this.throwGpuErrors(stage, entry, ep);
      return out as StageResult<S>;
    });
  }

  /**
   * A WebGPU run whose commands the device rejected (an uncaptured validation error) computed nothing where they
   * failed, yet returns outputs: RUNTIME instead of those outputs. The errors arrive asynchronously, so the run
   * waits for its work to be done first, and they are charged to it, not to the next run.
   */
  private async throwGpuErrors(stage: StageName, entry: StageEntry, ep: ExecutionProvider): Promise<void> {
    const log = ep === 'webgpu' ? this.gpu?.errors : null;
    if (!log) return;
    await this.orLost(ep, log.settle());
    const errors = log.take();
    if (errors.length === 0) return;
    const first = errors[0]!.slice(0, 300);
    throw new EngineError(
      ErrorCode.Runtime,
      `Stage ${stage} ("${entry.file}") ran on WebGPU but the GPU rejected ${errors.length === 1 ? 'a command' : `${errors.length} commands`} `
      + `(${first}), so its outputs are not valid. Try the wasm provider or another variant of the model.`,
      { file: entry.file, actual: first },
    );
  }

  gpuRunner(stage: StageName): GpuStageRunner | null {
    const gpu = this.gpu;
    // JSEP makes its own device (none of the app's to share); float16 graphs would need f16 buffers.
    if (!this.gpuLoop || !gpu || this.ortBuild === 'jsep' || this.epOf(stage) !== 'webgpu') return null;
    if (stageDtype(this.bundle.manifest, stage) !== 'float32') return null;
    const guard = <T>(work: () => Promise<T>): Promise<T> => this.serial(async () => {
      this.checkUsable();
      try {
        return await this.orLost('webgpu', work());
      } catch (e) {
        if (e instanceof EngineError) throw e;
        const msg = message(e);
        if (this.lostReason !== null || DEVICE_LOST.test(msg)) throw this.deviceLost(msg);
        throw new EngineError(ErrorCode.Runtime, `GPU work of the denoising loop failed: ${msg}`);
      }
    });
    return {
      device: () => guard(() => deviceOf(gpu)),
      runOnGpu: (s, feeds, outputs) => this.runOnGpu(s, feeds as Readonly<Record<string, GpuTensor>>, outputs as Readonly<Record<string, GpuTensor>>),
      guard,
      bind: <S extends StageName>(s: S, dims: Readonly<Partial<Record<StageInputs<S>, readonly number[]>>>, host: readonly StageInputs<S>[] = []) =>
        this.bind(s, gpu, dims as Readonly<Record<string, readonly number[]>>, host) as Promise<BoundStage<S>>,
    };
  }

  /**
   * GpuStageRunner.bind: a session of the stage created for these shapes (freeDimensionOverrides, so shape
   * computations fold at load) with graph capture where on, and a buffer for every input that lives as long as
   * the binding. The same shapes again return the same binding.
   */
  private bind(stage: StageName, gpu: GpuState, dims: Readonly<Record<string, readonly number[]>>, host: readonly string[]): Promise<BoundStage<StageName>> {
    return this.serial(async () => {
      this.checkUsable();
      const entry = this.entry(stage);
      const fixed = fixedDims(entry, dims);
      if (typeof fixed === 'string') {
        throw new EngineError(ErrorCode.Internal, `Stage ${stage} cannot be bound to these shapes: ${fixed}.`, { file: entry.file, actual: fixed });
      }
      const key = JSON.stringify([fixed, [...host].sort()]);
      const existing = this.bindings.get(stage);
      if (existing?.key === key) return existing.handle;
      await this.unbind(stage);
      const device = await this.orLost('webgpu', deviceOf(gpu));
      const captured = this.graphCapture;
      // Graph capture needs a session of its own, made for these shapes (the stage's ordinary session goes: one copy
      // of its weights on the GPU); without it the ordinary, shape-agnostic session serves, so a size change costs
      // no new session.
      let owned: StageSession | null = null;
      if (captured) {
        await this.dropSession(stage);
        owned = await this.createSession(stage, { freeDimensionOverrides: fixed, preferredOutputLocation: 'gpu-buffer', enableGraphCapture: true });
      }
      const { session, inputTypes } = owned ?? await this.session(stage);
      const buffers: GPUBuffer[] = [];
      const gpuBuffer = (label: string, bytes: number): GPUBuffer => {
        const buffer = device.createBuffer({ label, size: gpuTensorBytes(bytes), usage: GPU_TENSOR_USAGE });
        buffers.push(buffer);
        return buffer;
      };
      try {
        const inputs: Record<string, GpuTensor> = {};
        const feeds: Record<string, OrtModule.Tensor> = {};
        // Fed from the host on every run: what ORT reads on the CPU (a captured graph needs every input on the GPU).
        const hostInputs = captured ? [] : session.inputNames.filter((n) => host.includes(n));
        for (const name of session.inputNames) {
          if (hostInputs.includes(name)) continue;
          const type = inputTypes.get(name) ?? 'float32';
          if (type !== 'float32' && type !== 'int64') {
            throw new EngineError(ErrorCode.Internal, `Stage ${stage}: input "${name}" is ${type}; bound GPU inputs are float32 or int64.`, {
              file: entry.file, expected: `${name}: float32 or int64`, actual: `${name}: ${type}`,
            });
          }
          const d = dims[name]!;
          const buffer = gpuBuffer(`${stage} ${name}`, (type === 'int64' ? 8 : 4) * d.reduce((x, y) => x * y, 1));
          inputs[name] = { buffer, dims: d, dtype: type };
          feeds[name] = this.ort.Tensor.fromGpuBuffer(buffer, { dataType: type, dims: [...d] });
        }
        // Under graph capture the outputs are ORT's own buffers (preferredOutputLocation), the same ones every run:
        // onnxruntime-web 1.30 answers a replay with pre-allocated outputs by looking up the first run's (since
        // unregistered) buffer handle, which fails. The ordinary session writes into buffers of the binding's own.
        const fetches: Record<string, OrtModule.Tensor> = {};
        const mine: Record<string, GpuTensor> = {};
        if (!captured) {
          for (const name of session.outputNames) {
            const d = outputDims(entry.outputs[name] ?? [], fixed);
            if (d === null) {
              throw new EngineError(ErrorCode.Internal, `Stage ${stage}: output "${name}" has dims its inputs do not fix (${(entry.outputs[name] ?? []).join(', ')}), so it cannot be bound.`, { file: entry.file });
            }
            const buffer = gpuBuffer(`${stage} ${name}`, 4 * d.reduce((x, y) => x * y, 1));
            mine[name] = { buffer, dims: d };
            fetches[name] = this.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: d });
          }
        }
        const describe = `${Object.entries(feeds).map(([n, t]) => `${n} ${t.type}[${t.dims.join(',')}]`).join(', ')} (bound GPU buffers${captured ? ', graph capture' : ''})`
          + `${hostInputs.length > 0 ? `; ${hostInputs.join(', ')} from the host` : ''}`;
        let previous: OrtModule.Tensor[] = [];
        const binding: Binding = {
          key, session, ownsSession: owned !== null, buffers, ended: false,
          dispose: () => {
            for (const t of previous) t.dispose();
            previous = [];
          },
          handle: {
            inputs, captured, hostInputs: hostInputs as readonly StageInputs<StageName>[],
            run: (given?: Readonly<Record<string, HostTensor | undefined>>) => this.serial(async () => {
              this.checkUsable();
              if (binding.ended) throw new EngineError(ErrorCode.Internal, `Stage ${stage}: this binding has ended (the stage was bound again, run on the host or released).`);
              for (const name of hostInputs) {
                const t = given?.[name];
                if (t === undefined || t.dims.join() !== (dims[name] ?? []).join()) {
                  throw new EngineError(ErrorCode.Internal, `Stage ${stage}: the bound run needs host input "${name}" of dims [${(dims[name] ?? []).join(', ')}]${t ? `, got [${t.dims.join(', ')}]` : ''}.`);
                }
                feeds[name] = this.toOrtTensor(stage, name, t, inputTypes.get(name));
              }
              binding.dispose();
              let results: OrtModule.InferenceSession.OnnxValueMapType;
              try {
                results = await this.orLost('webgpu', captured ? session.run(feeds) : session.run(feeds, fetches));
              } catch (e) {
                throw this.runError(stage, entry, 'webgpu', e, describe);
              }
              if (!captured) return mine;
              const out: Record<string, GpuTensor> = {};
              for (const name of session.outputNames) {
                const t = results[name];
                if (t === undefined || t.location !== 'gpu-buffer' || t.type !== 'float32') {
                  throw new EngineError(ErrorCode.StageMismatch, `Stage ${stage} returned no float32 GPU output "${name}".`, { file: entry.file, expected: name });
                }
                previous.push(t);
                out[name] = { buffer: t.gpuBuffer as GPUBuffer, dims: [...t.dims] };
              }
              return out;
            }),
          },
        };
        this.bindings.set(stage, binding);
        return binding.handle;
      } catch (e) {
        if (owned) await session.release().catch(() => undefined);
        for (const b of buffers) b.destroy();
        throw e;
      }
    });
  }

  /** End a stage's binding: its buffers go, and its session if it has its own (not serialised: callers are). */
  private async unbind(stage: StageName): Promise<void> {
    const b = this.bindings.get(stage);
    if (!b) return;
    this.bindings.delete(stage);
    b.ended = true;
    b.dispose();
    if (b.ownsSession) await b.session.release().catch(() => undefined);
    for (const buffer of b.buffers) buffer.destroy();
  }

  /** Free a stage's ordinary session (not serialised: callers are). */
  private async dropSession(stage: StageName): Promise<void> {
    const s = this.sessions.get(stage);
    this.sessions.delete(stage);
    if (s) await s.then((x) => x.session.release()).catch(() => undefined);
  }

  /** One run on GPU buffers (the MoVQ decode of the loop's latents): inputs by Tensor.fromGpuBuffer, outputs pre-allocated in the caller's buffers. */
  private runOnGpu(stage: StageName, feeds: Readonly<Record<string, GpuTensor>>, outputs: Readonly<Record<string, GpuTensor>>): Promise<void> {
    return this.serial(async () => {
      const { session, inputTypes, ep, entry } = await this.sessionFor(stage, Object.keys(feeds));
      const describe = (tensors: Readonly<Record<string, GpuTensor>>): string =>
        Object.entries(tensors).map(([n, t]) => `${n} float32[${t.dims.join(',')}] (GPU)`).join(', ');
      const wrap = (t: GpuTensor): OrtModule.Tensor => this.ort.Tensor.fromGpuBuffer(t.buffer, { dataType: 'float32', dims: [...t.dims] });
      const ortFeeds: Record<string, OrtModule.Tensor> = {};
      for (const name of session.inputNames) {
        const type = inputTypes.get(name);
        if (type !== undefined && type !== 'float32') {
          throw new EngineError(ErrorCode.Internal, `Stage ${stage}: input "${name}" is ${type}; GPU runs take float32 inputs only.`, {
            file: entry.file, expected: `${name}: float32`, actual: `${name}: ${type}`,
          });
        }
        ortFeeds[name] = wrap(feeds[name]!);
      }
      const fetches: Record<string, OrtModule.Tensor> = {};
      for (const [name, t] of Object.entries(outputs)) fetches[name] = wrap(t);
      try {
        await this.orLost(ep, session.run(ortFeeds, fetches));
      } catch (e) {
        throw this.runError(stage, entry, ep, e, `${describe(feeds)}; outputs ${describe(outputs)}`);
      }
      // Commands the GPU rejected here, or in the loop's runs before (bound runs do not wait to check each step),
      // fail this run with RUNTIME: its output would not be valid.
      await this.throwGpuErrors(stage, entry, ep);
    });
  }

  profileGpu(onKernel: ((k: GpuKernelTime) => void) | null): void {
    // The native builds ignore env.webgpu.profiling (their profiler is the session's, not per kernel to JS).
    if (this.ortBuild !== 'jsep') return;
    this.ort.env.webgpu.profiling = onKernel
      ? { mode: 'default', ondata: (d) => onKernel({ kernelType: d.kernelType, programName: d.programName, ns: d.endTime - d.startTime }) }
      : { mode: 'off' };
  }

  gpuWork(): GpuWorkCounts | null {
    return this.gpu?.counter?.snapshot() ?? null;
  }

  gpuMemory(resetPeak = false): GpuMemory | null {
    const counter = this.gpu?.counter;
    if (!counter) return null;
    if (resetPeak) counter.resetPeak();
    return counter.memory();
  }

  release(stage?: StageName): Promise<void> {
    return this.serial(async () => {
      const names = stage ? [stage] : [...new Set([...this.sessions.keys(), ...this.bindings.keys()])];
      for (const name of names) {
        await this.unbind(name);
        await this.dropSession(name);
      }
    });
  }

  warmup(stages: readonly StageName[]): Promise<void> {
    return this.serial(async () => {
      this.checkUsable();
      for (const stage of stages) if (this.has(stage)) await this.session(stage);
    });
  }

  async dispose(): Promise<void> {
    await this.release();
    this.disposed = true;
    this.gpu?.onLost.delete(this.markLost);
  }
}

/**
 * Creates the runtime for a bundle. 'auto' uses WebGPU when an adapter is available and falls back
 * to wasm with a warning; 'webgpu' without an adapter is UNSUPPORTED. Sessions are created lazily.
 */
export async function createRuntime(bundle: Bundle, options: RuntimeOptions): Promise<OrtRuntime> {
  const probe = await probeGpu();
  const adapter = probe.adapter;
  const capabilities: RuntimeCapabilities = { webgpu: adapter !== null, shaderF16: adapter?.features.has('shader-f16') ?? false };
  const warnings: string[] = [];

  let ep: ExecutionProvider;
  switch (options.provider) {
    case 'wasm':
      ep = 'wasm';
      break;
    case 'webgpu':
      if (!adapter) {
        throw new EngineError(ErrorCode.Unsupported, `WebGPU was requested but ${probe.reason}. Choose "auto" or "wasm" to run on the CPU.`, {
          expected: 'a WebGPU adapter', actual: probe.reason,
        });
      }
      ep = 'webgpu';
      break;
    case 'auto':
      ep = adapter ? 'webgpu' : 'wasm';
      if (!adapter) warnings.push(`WebGPU is not available (${probe.reason}); running on the CPU (wasm), which is much slower.`);
      break;
    default: {
      const never: never = options.provider;
      throw new EngineError(ErrorCode.BadRequest, `Unknown provider ${String(never)}; expected "auto", "webgpu" or "wasm".`);
    }
  }

  // float16 graphs need shader-f16 on WebGPU; without it they run on the CPU (SPEC §5). That includes the
  // exporter's fp16 variants, whose float32 I/O hides their float16 compute from `dtype`: the native EP
  // refuses them there ("Program Gather requires f16"), and the JSEP build ran their invalid shaders
  // silently, returning zeros (tools/eval/README.md).
  const stageEps = new Map<StageName, ExecutionProvider>();
  if (ep === 'webgpu' && !capabilities.shaderF16) {
    for (const stage of Object.keys(bundle.manifest.stages) as StageName[]) {
      if (!stageComputesFloat16(bundle.manifest, stage)) continue;
      stageEps.set(stage, 'wasm');
      const what = stageDtype(bundle.manifest, stage) === 'float16' ? 'is float16' : 'computes in float16';
      warnings.push(`The ${stage} stage ${what} and this GPU lacks shader-f16: it runs on the CPU (wasm), which is much slower.`);
    }
  }

  const build: OrtBuild = ep === 'webgpu' ? options.ortBuild ?? defaultGpuBuild() : 'wasm';
  const ort = await loadOrt(build);
  // ORT's own warnings (e.g. shape ops placed on the CPU) are expected and would flood the console.
  ort.env.logLevel = 'error';
  ort.env.wasm.numThreads = options.numThreads ?? defaultThreads();
  const wasmPaths = options.wasmPaths ?? defaultWasmPaths();
  if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;

  let gpu: GpuState | undefined;
  if (ep === 'webgpu' && adapter) gpu = gpuStateFor(ort, build, adapter, options.countGpuWork === true);
  const runtime = new Runtime(ort, bundle, ep, capabilities, stageEps, warnings, build, gpu, options.webgpuLayout, options.gpuLoop ?? true, options.graphCapture ?? false);
  return runtime;
}
