import type { StageFeeds, StageInputs, StageOutputs, StageResult } from './stage-io.ts';
import type { HostTensor } from '../tensor/tensor.ts';

/** Every stage a bundle can hold (SPEC §2, docs/kandinsky-2-1.md); names are part of the contract. */
export const STAGE_NAMES = [
  'text_encoder',
  'text_encoder_multilingual',
  'image_encoder',
  'prior',
  'unet',
  'unet_inpaint',
  'movq_encoder',
  'movq_decoder',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * The adapter the engine runs on (runtime/ort.ts) and the one whose features choose a bundle variant
 * (storage/variants.ts detectGpu): the same request, so a dual-GPU machine is not judged on one GPU (say an
 * integrated one with shader-f16) and run on another (a discrete one without it).
 */
export const GPU_ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const satisfies GPURequestAdapterOptions;

/** Execution providers we support; 'auto' means WebGPU when available, else wasm. */
export const EXECUTION_PROVIDERS = ['webgpu', 'wasm'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export type ProviderPreference = ExecutionProvider | 'auto';

/**
 * What pipelines need from the runtime: run one stage on host tensors.
 * Implementations own sessions, convert float16 at the boundary and serialise runs.
 */
export interface StageRunner {
  /** The provider sessions actually run on. */
  readonly ep: ExecutionProvider;
  /** True when the bundle has this stage. */
  has(stage: StageName): boolean;
  /** Run a stage with its named inputs (runtime/stage-io.ts). Inputs/outputs are float32 or int64 on the host, whatever the graph dtype. */
  run<S extends StageName>(stage: S, feeds: Readonly<StageFeeds<S>>): Promise<StageResult<S>>;
  /**
   * The GPU-resident door for a stage (the denoising loop, workers/gpu/): present on the native WebGPU EP for
   * float32 stages that run there, null elsewhere (wasm, JSEP, float16 graphs, or the loop switched off).
   */
  gpuRunner?(stage: StageName): GpuStageRunner | null;
}

/**
 * Bytes of a GPU buffer ORT may read or write for a tensor of `bytes`: at least 16, a multiple of 16. onnxruntime-web
 * copies a tensor's byte length rounded up to 16 (its downloads, and its GPU-to-CPU copies for CPU-placed nodes: the
 * prior's int64 mask at batch 1 is 616 bytes, and ORT copied 624 of them).
 */
export function gpuTensorBytes(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** Usage of buffers that ORT reads or writes: storage plus both copies (Tensor.fromGpuBuffer's requirement); numeric, as the globals are absent in Node. */
export const GPU_TENSOR_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08 /* COPY_DST */;

/** A tensor held in a GPU buffer of the runtime's device (the buffer is the caller's: ORT never frees it). */
export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly dims: readonly number[];
  /** Element type; float32 where absent (bound int64 inputs say so). */
  readonly dtype?: 'float32' | 'int64';
}

/** Stage runs whose inputs and outputs stay in GPU buffers, on the device the sessions use. */
export interface GpuStageRunner {
  /** The device ORT's sessions run on (buffers for runOnGpu must come from it). */
  device(): Promise<GPUDevice>;
  /**
   * Run a stage once with every input and the given outputs in GPU buffers (Tensor.fromGpuBuffer, pre-allocated
   * outputs): no host copies. It waits for the GPU's work and fails with RUNTIME where the GPU rejected commands.
   */
  runOnGpu<S extends StageName>(
    stage: S, feeds: Readonly<Partial<Record<StageInputs<S>, GpuTensor>>>, outputs: Readonly<Partial<Record<StageOutputs<S>, GpuTensor>>>,
  ): Promise<void>;
  /** Run GPU work of the caller's own (kernels, read-backs) in turn with the stage runs; a lost device ends it in DEVICE_LOST. */
  guard<T>(work: () => Promise<T>): Promise<T>;
  /**
   * The stage fixed to these input shapes, with persistent input and output buffers (issue 9 item 3): a loop writes
   * its inputs into them and calls run() per step. Where the runtime captures graphs, runs replay the captured GPU
   * commands. One binding per stage: binding other shapes, a host run of the stage or release() ends the previous one.
   * `host` names inputs to feed from the host on every run instead (where the binding is not captured): inputs that
   * onnxruntime reads on the CPU, which a GPU buffer would cost a read-back per run (BoundStage.hostInputs).
   */
  bind<S extends StageName>(
    stage: S, dims: Readonly<Partial<Record<StageInputs<S>, readonly number[]>>>, host?: readonly StageInputs<S>[],
  ): Promise<BoundStage<S>>;
}

/** A stage bound to fixed shapes on the GPU (GpuStageRunner.bind); its buffers belong to the runtime. */
export interface BoundStage<S extends StageName> {
  /** Input buffers, one per graph input not fed from the host, of the graph's type (float32, or int64 such as the prior's attention mask): write into them, never destroy them. */
  readonly inputs: Readonly<Partial<Record<StageInputs<S>, GpuTensor>>>;
  /** The inputs every run() takes from the host (bind's `host`; none under graph capture, which needs every input on the GPU). */
  readonly hostInputs: readonly StageInputs<S>[];
  /** Whether run() replays a captured graph (onnxruntime's enableGraphCapture): no per-run uploads of ORT's own. */
  readonly captured: boolean;
  /**
   * One run on the input buffers. Its outputs are ORT's buffers, valid until the next run or the binding's end (a
   * captured graph writes the same buffers every run). An ended binding fails with INTERNAL.
   */
  run(host?: Readonly<Partial<Record<StageInputs<S>, HostTensor>>>): Promise<Readonly<Partial<Record<StageOutputs<S>, GpuTensor>>>>;
}
