import type { StageFeeds, StageResult } from './stage-io.ts';

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
}
