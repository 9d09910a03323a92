/**
 * The worker's wire protocol: every type that crosses the comlink boundary.
 * Plain data only (structured-clone safe); errors travel as EngineErrorData with a `code`.
 */
import type { EngineErrorData } from './errors.ts';
import type { ProviderPreference, ExecutionProvider, StageName } from './runtime/types.ts';
import type { ModelFamily } from './runtime/stage-io.ts';
import type { SchedulerKind } from './schedulers/index.ts';

export { MODEL_FAMILIES, type ModelFamily } from './runtime/stage-io.ts';
export { SCHEDULER_KINDS, type SchedulerKind } from './schedulers/index.ts';

/** RGBA pixels, as in ImageData (row-major, 4 bytes per pixel). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A single-channel mask: 255 (or >= 128) = repaint, 0 = keep (SPEC §3 convention 1 = repaint). */
export interface MaskImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Generation modes; one request type each. */
export const MODES = ['text2img', 'img2img', 'inpaint', 'fusion', 'variations'] as const;
export type Mode = (typeof MODES)[number];

/** Parameters shared by every mode. Missing values take the defaults in `DEFAULTS`. */
export interface CommonParams {
  /** Requested output size; rounded up to a multiple of 64 as the reference does (reported in warnings). */
  readonly width: number;
  readonly height: number;
  /** Decoder steps and guidance. */
  readonly steps: number;
  readonly guidance: number;
  /** Prior steps and guidance. */
  readonly priorSteps: number;
  readonly priorGuidance: number;
  readonly scheduler: SchedulerKind;
  /** Seed of the first image; image i uses seed + i. Integer in [0, 2^32). */
  readonly seed: number;
  /** 1 to 4 images per run. */
  readonly numImages: number;
  /** Negative prompt for the prior ("" = none: the zero-image embedding is the negative). */
  readonly negativePrompt: string;
  /** How text becomes an image embedding (README "Prior kinds"); default the diffusion prior. */
  readonly prior?: PriorChoice;
  /** The model family the client built this request for (BundleInfo.family); another family than the loaded
   *  model's is BAD_REQUEST naming both. Absent: not checked. */
  readonly family?: ModelFamily;
  /** Live previews during the UNet loop (Progress.preview); absent: none. Changes nothing in the result. */
  readonly preview?: PreviewRequest;
}

/** A preview request's default share of the loop's time that previews may take (each is a MoVQ decode). */
export const PREVIEW_MAX_SHARE = 0.1;

/** How often to preview: at most every `every` UNet steps, and (`maxShare`, default 0.1; 1 = no limit) only while
 *  previews have taken at most that share of the loop's time (each is a MoVQ decode). */
export interface PreviewRequest {
  readonly every: number;
  readonly maxShare?: number;
}

/** Prior kinds (the paper's Table 3 ablation): the diffusion prior, a linear map, none (text embedding used directly), a blend. */
export const PRIOR_KINDS = ['diffusion', 'linear', 'none', 'blend'] as const;
export type PriorKind = (typeof PRIOR_KINDS)[number];

/**
 * A linear prior `image_emb = (W · text_emb + b) * clip_std + clip_mean` (W [D_img, D_txt] row-major, b [D_img];
 * it maps raw CLIP `text_embeds` into the diffusion prior's normalised image space). From the bundle's
 * `linear_prior` file, or a personal one fitted in the browser (sent with the request; the worker keeps no copy).
 */
export type LinearPriorSource =
  | { readonly from: 'bundle' }
  | {
    readonly from: 'user'; readonly id: string; readonly name: string; readonly weight: Float32Array; readonly bias: Float32Array;
    /** The family of the model it was fitted on (its file's header); another family than the loaded model's is BAD_PRIOR_FILE. */
    readonly family?: string;
  };

/** The prior a request runs. `blend`: (1 - linearWeight) × diffusion + linearWeight × linear, after de-normalisation. */
export type PriorChoice =
  | { readonly kind: 'diffusion' }
  | { readonly kind: 'linear'; readonly linear: LinearPriorSource }
  | { readonly kind: 'none' }
  | { readonly kind: 'blend'; readonly linear: LinearPriorSource; readonly linearWeight: number };

/** What a result records about its prior (no matrices: the personal prior by id and name). */
export interface UsedPrior {
  readonly kind: PriorKind;
  readonly linear?: { readonly from: 'bundle' } | { readonly from: 'user'; readonly id: string; readonly name: string };
  readonly linearWeight?: number;
}

export interface Text2ImgRequest extends CommonParams {
  readonly mode: 'text2img';
  readonly prompt: string;
}

export interface Img2ImgRequest extends CommonParams {
  readonly mode: 'img2img';
  readonly prompt: string;
  /** Input image; resized to the output size if it differs. */
  readonly image: RgbaImage;
  /** 0..1: the share of the schedule that is re-run. */
  readonly strength: number;
}

export interface InpaintRequest extends CommonParams {
  readonly mode: 'inpaint';
  readonly prompt: string;
  /** Image of exactly the output size (after rounding to 64). */
  readonly image: RgbaImage;
  /** Mask of the same size; 1 = repaint. */
  readonly mask: MaskImage;
}

/** One weighted condition for fusion. Negative weights are allowed (as in the reference). */
export type FusionCondition =
  | { readonly kind: 'text'; readonly prompt: string; readonly weight: number }
  | { readonly kind: 'image'; readonly image: RgbaImage; readonly weight: number; readonly id?: string };

export interface FusionRequest extends CommonParams {
  readonly mode: 'fusion';
  readonly conditions: readonly FusionCondition[];
}

export interface VariationsRequest extends CommonParams {
  readonly mode: 'variations';
  readonly image: RgbaImage;
}

export type GenerateRequest = Text2ImgRequest | Img2ImgRequest | InpaintRequest | FusionRequest | VariationsRequest;

/** The generation parameters whose defaults depend on the model family. */
export interface FamilyDefaults {
  readonly steps: number;
  readonly guidance: number;
  readonly priorSteps: number;
  readonly priorGuidance: number;
  readonly scheduler: SchedulerKind;
}

/**
 * Defaults per model family, the one table (the UI gets its model's row as BundleInfo.defaults; a request that
 * leaves a field out gets the loaded model's): Kandinsky 2.2's demo defaults with fewer steps for the browser,
 * and Kandinsky 2.1's reference defaults (diffusers KandinskyPipeline: DDIM, 100 steps, guidance 4;
 * KandinskyPriorPipeline: 25 steps, guidance 4).
 */
export const FAMILY_DEFAULTS = {
  'kandinsky-2.2': { steps: 30, guidance: 4, priorSteps: 25, priorGuidance: 4, scheduler: 'ddpm' },
  'kandinsky-2.1': { steps: 100, guidance: 4, priorSteps: 25, priorGuidance: 4, scheduler: 'ddim' },
} as const satisfies Record<ModelFamily, FamilyDefaults>;

/** The name each family is shown by (model status, model manager). */
export const FAMILY_NAMES = {
  'kandinsky-2.2': 'Kandinsky 2.2',
  'kandinsky-2.1': 'Kandinsky 2.1',
} as const satisfies Record<ModelFamily, string>;

/** A stored bundle's family as shown; a family this app does not know is shown as written. */
export function familyName(family: string): string {
  return (FAMILY_NAMES as Readonly<Record<string, string>>)[family] ?? family;
}

/** Default parameters (Kandinsky 2.2's family defaults, FAMILY_DEFAULTS, and the family-independent ones). */
export const DEFAULTS = {
  width: 512,
  height: 512,
  ...FAMILY_DEFAULTS['kandinsky-2.2'],
  seed: 0,
  numImages: 1,
  negativePrompt: '',
  strength: 0.6,
} as const satisfies Omit<CommonParams, 'scheduler'> & { scheduler: SchedulerKind; strength: number };

/** Hard limits on request parameters; beyond them the engine answers BAD_REQUEST. */
export const LIMITS = {
  maxSide: 2048,
  minSide: 64,
  maxSteps: 1000,
  maxPriorSteps: 1000,
  maxGuidance: 100,
  maxImages: 4,
  maxPromptChars: 100_000,
  /** Fusion conditions per request: each text is a whole prior run and each image up to 8192² RGBA
   *  (diffusers' interpolate takes any number; the original demo fuses two to four). */
  maxFusionConditions: 16,
  /** Output pixels (width × height) on the CPU (wasm) path: the UNet's self-attention at 1024² exceeds
   *  wasm32's 4 GiB memory (measured on the tiny bundle: 960² runs, 1024² fails; README). */
  maxWasmPixels: 960 * 960,
} as const;

/** Engine stages reported in progress events. */
export const PROGRESS_STAGES = [
  'text_encoder', 'image_encoder', 'prior', 'movq_encoder', 'unet', 'movq_decoder',
] as const;
export type ProgressStage = (typeof PROGRESS_STAGES)[number];

/** One progress event; `image` is the index of the image within the run. */
export interface Progress {
  readonly runId: string;
  readonly stage: ProgressStage;
  readonly step: number;
  readonly total: number;
  readonly image: number;
  readonly numImages: number;
  readonly elapsedMs: number;
  /** With a request's `preview`, on some 'unet' events: the image the run would give if the scheduler's current
   *  estimate of the clean latents were final (decoded by the model's MoVQ; workers/pipelines/preview.ts). */
  readonly preview?: RgbaImage;
}

/** The exact parameters a result was made with (after normalisation), enough to re-run it: the shared ones (one image each, the prior as recorded) and the mode's. */
export interface UsedParams extends Omit<CommonParams, 'numImages' | 'prior' | 'preview'> {
  readonly mode: Mode;
  readonly prompt?: string;
  readonly strength?: number;
  readonly conditions?: readonly ({ kind: 'text'; prompt: string; weight: number } | { kind: 'image'; weight: number; id?: string })[];
  readonly model: string;
  readonly ep: ExecutionProvider;
  /** The prior kind used (diffusion unless the request chose another). */
  readonly prior: UsedPrior;
}

export interface GeneratedImage {
  readonly image: RgbaImage;
  readonly params: UsedParams;
}

export interface GenerateResult {
  readonly runId: string;
  readonly images: readonly GeneratedImage[];
  /** Normalisations applied (size rounded up, prompt truncated, negative weights...). */
  readonly warnings: readonly string[];
  readonly timings: StageTimings;
}

/** Milliseconds spent per stage, summed over the run's images (workers/stage-clock.ts), and the run's wall time. */
export type StageTimings = Readonly<Partial<Record<ProgressStage, number>> & { total: number }>;

/** Where a bundle comes from. */
export type BundleSourceData =
  | { readonly kind: 'url'; readonly baseUrl: string }
  | { readonly kind: 'files'; readonly files: ReadonlyMap<string, Blob | Uint8Array> };

export interface LoadOptions {
  readonly provider: ProviderPreference;
  /** Verify sha256 of every file on load (slow for big bundles; downloads verify already). */
  readonly verify?: boolean;
}

/** What the UI learns about a loaded bundle. */
export interface BundleInfo {
  readonly name: string;
  readonly description: string;
  /** The model family (manifest version 2's `family`; every version 1 bundle is kandinsky-2.2). Send it back as a request's `family`. */
  readonly family: ModelFamily;
  /** This family's generation defaults (FAMILY_DEFAULTS): the UI's initial steps, guidance and scheduler for this model. */
  readonly defaults: FamilyDefaults;
  readonly embeddingDim: number;
  /** The size the model was trained at (manifest native_size), when the bundle says. */
  readonly nativeSize?: { readonly width: number; readonly height: number };
  readonly stages: readonly StageName[];
  readonly modes: Readonly<Record<Mode, boolean>>;
  readonly ep: ExecutionProvider;
  readonly shaderF16: boolean;
  readonly warnings: readonly string[];
  /** The bundle's own linear prior (manifest `linear_prior`), or null when it has none. */
  readonly linearPrior?: { readonly name: string; readonly textDim: number; readonly embeddingDim: number } | null;
}

/** Result wrapper: errors come back as data, never thrown across the boundary. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: EngineErrorData };

/** The API the generation worker exposes over comlink. */
export interface EngineApi {
  /** Load (or replace) the active bundle. */
  load(source: BundleSourceData, options: LoadOptions): Promise<Result<BundleInfo>>;
  /** Run one generation. `onProgress` is a comlink-proxied callback. */
  generate(runId: string, request: GenerateRequest, onProgress?: (p: Progress) => void): Promise<Result<GenerateResult>>;
  /** Cancel a run; it stops within one step and resolves with code CANCELLED. */
  cancel(runId: string): void;
  /** Release sessions (GPU memory); the next run recreates them. */
  release(): Promise<void>;
  /** Details of the active bundle, or null. */
  info(): Promise<BundleInfo | null>;
  /** Fit a personal linear prior from images and captions (ridge regression, README "Prior kinds"); cancel with `cancel(runId)`. */
  fitPrior(runId: string, request: FitPriorRequest, onProgress?: (p: FitProgress) => void): Promise<Result<FittedPrior>>;
}

/** Fewest images a linear prior is fitted from (leave-one-out needs a few). */
export const MIN_FIT_IMAGES = 4;
/** Most images per fit: the dual (N×N) solve holds a few N² float64 matrices. */
export const MAX_FIT_IMAGES = 2000;

/** Images and captions to fit a linear prior from: one shared caption, or one per image. */
export interface FitPriorRequest {
  readonly images: readonly RgbaImage[];
  readonly captions: readonly string[];
}

/** Fit progress: images encoded, captions encoded, then the λ grid solved. */
export interface FitProgress {
  readonly runId: string;
  readonly phase: 'image_encoder' | 'text_encoder' | 'solve';
  readonly step: number;
  readonly total: number;
}

/** A fitted linear prior (the space of LinearPriorSource) with its fit statistics. */
export interface FittedPrior {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly textDim: number;
  readonly embeddingDim: number;
  /** The ridge λ chosen by leave-one-out error (0 when one shared caption makes W = 0). */
  readonly lambda: number;
  /** Leave-one-out mean squared error per dimension, in the normalised image space. */
  readonly looError: number;
  /** The same error for predicting the images' mean embedding (what W adds is the gap). */
  readonly baselineError: number;
  /** Every λ tried with its leave-one-out error. */
  readonly grid: readonly { readonly lambda: number; readonly looError: number }[];
  /** True when every caption is the same: W = 0 and b = the mean image embedding (the "cat prior"). */
  readonly sharedCaption: boolean;
  readonly numImages: number;
}
