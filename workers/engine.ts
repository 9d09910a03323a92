/**
 * The engine behind the worker: one loaded bundle, its runtime and tokenizer, and the
 * mode dispatch from a GenerateRequest to the pipelines. No comlink here (see generator.worker.ts).
 */
import { loadBundle, type Bundle } from './runtime/bundle.ts';
import { createRuntime, type OrtRuntime, type RuntimeOptions } from './runtime/ort.ts';
import type { StageFeeds, StageResult } from './runtime/stage-io.ts';
import type { GpuStageRunner, StageName, StageRunner } from './runtime/types.ts';
import { ClipTokenizer } from './tokenizer/clip.ts';
import { XlmRobertaTokenizer } from './tokenizer/xlmr.ts';
import type { BundleTokenizer } from './tokenizer/bundle-tokenizer.ts';
import { manifestFamily } from './runtime/manifest.ts';
import { seededNoise, type NoiseSource } from './tensor/noise.ts';
import { f32 } from './tensor/tensor.ts';
import { nchwToRgba, resizeBicubicU8, rgbaToRgb, rgbToSigned } from './tensor/image.ts';
import { StepCountError, createScheduler, decoderConfigFor, type SchedulerKind } from './schedulers/index.ts';
import type { SchedulerConfig } from './schedulers/types.ts';
import { EngineError, ErrorCode } from './errors.ts';
import type {
  BundleInfo, BundleSourceData, FitPriorRequest, FitProgress, FittedPrior, GenerateRequest, GenerateResult, GeneratedImage,
  LoadOptions, Mode, PriorChoice, Progress, ProgressStage, RgbaImage, UsedParams, UsedPrior,
} from './protocol.ts';
import { FAMILY_DEFAULTS } from './protocol.ts';
import type { ModelFacts, PipelineContext } from './pipelines/context.ts';
import { negativeEmbedding } from './pipelines/prior.ts';
import { runPriorKind, type LinearMap, type ResolvedPrior } from './pipelines/prior-kinds.ts';
import { checkPriorFitsModel, decodeLinearPrior, type LinearPriorFile } from './priors/file.ts';
import { fitLinearPrior } from './priors/fit.ts';
import { decoderConditioning, encodeImageLatents, latentSide, runDecoder, type DecoderParams } from './pipelines/decoder.ts';
import { encodeRgbImage } from './pipelines/encode.ts';
import { runFusion } from './pipelines/fusion.ts';
import { prepareKeepMask } from './pipelines/mask.ts';
import { checkSizeOn, normaliseRequest } from './pipelines/validate.ts';
import type { PreviewSink } from './pipelines/preview.ts';
import { MODE_STAGES, modeStages } from './modes.ts';
import { StageClock } from './stage-clock.ts';

export { MODE_STAGES };

/** An RgbaImage as packed RGB. */
function rgbOf(img: RgbaImage): Uint8Array {
  return rgbaToRgb(img.data, img.width, img.height);
}

/** A StageRunner that yields to the event loop and checks for cancellation before every stage run. */
class CancellableRunner implements StageRunner {
  constructor(private readonly inner: StageRunner, private readonly isCancelled: () => boolean) {}
  get ep() { return this.inner.ep; }
  has(stage: StageName): boolean { return this.inner.has(stage); }
  async run<S extends StageName>(stage: S, feeds: Readonly<StageFeeds<S>>): Promise<StageResult<S>> {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (this.isCancelled()) throw new EngineError(ErrorCode.Cancelled, 'The run was cancelled.');
    return this.inner.run(stage, feeds);
  }
  gpuRunner(stage: StageName): GpuStageRunner | null {
    const gpu = this.inner.gpuRunner?.(stage) ?? null;
    if (gpu === null) return null;
    const checked = async (): Promise<void> => {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (this.isCancelled()) throw new EngineError(ErrorCode.Cancelled, 'The run was cancelled.');
    };
    return {
      ...gpu,
      runOnGpu: async (s, feeds, outputs) => {
        await checked();
        return gpu.runOnGpu(s, feeds, outputs);
      },
      bind: async (s, dims, host) => {
        const bound = await gpu.bind(s, dims, host);
        return { ...bound, run: async (feeds) => { await checked(); return bound.run(feeds); } };
      },
    };
  }
}

export interface RunHooks {
  readonly onProgress?: (p: Progress) => void;
  readonly isCancelled?: () => boolean;
}

/** A loaded bundle ready to generate. */
export class Engine {
  private constructor(
    readonly bundle: Bundle,
    readonly runtime: OrtRuntime,
    readonly tokenizer: ClipTokenizer,
    readonly model: ModelFacts,
    /** The bundle's own linear prior (manifest `linear_prior`), or null. */
    readonly linearPrior: LinearPriorFile | null = null,
    /** Kandinsky 2.1: the XLM-R tokenizer of the decoder's text; null for 2.2. */
    readonly multilingualTokenizer: BundleTokenizer | null = null,
  ) {}

  /** Load a bundle and create its runtime (sessions are created lazily); `tuning` is for benchmarks. */
  static async load(source: BundleSourceData, options: LoadOptions, tuning: Omit<RuntimeOptions, 'provider'> = {}): Promise<Engine> {
    const bundle = await loadBundle(source, options.verify === undefined ? {} : { verify: options.verify });
    // Tokenizers first: a wrong-kind or unsafe tokenizer.json is BAD_MANIFEST before any session exists.
    const m = bundle.manifest;
    const tokenizer = ClipTokenizer.fromJson(bundle.tokenizerJson, bundle.tokenizerConfig, m.text.max_length, m.text.tokenizer);
    const multilingual = multilingualTokenizerOf(bundle);
    const linearPrior = await bundleLinearPrior(bundle);
    const runtime = await createRuntime(bundle, { ...tuning, provider: options.provider });
    return new Engine(bundle, runtime, tokenizer, modelFacts(bundle), linearPrior, multilingual);
  }

  /** What the UI shows about this bundle. */
  info(): BundleInfo {
    const m = this.bundle.manifest;
    const stages = (Object.keys(m.stages) as StageName[]).filter((s) => this.runtime.has(s));
    const family = this.model.family;
    const modes = Object.fromEntries(
      (Object.keys(MODE_STAGES) as Mode[]).map((mode) => [mode, modeStages(mode, family).every((s) => this.runtime.has(s))]),
    ) as Record<Mode, boolean>;
    return {
      name: m.name,
      description: m.description,
      family,
      defaults: FAMILY_DEFAULTS[family],
      embeddingDim: m.embedding_dim,
      ...(m.native_size !== undefined ? { nativeSize: m.native_size } : {}),
      stages,
      modes,
      ep: this.runtime.ep,
      shaderF16: this.runtime.capabilities.shaderF16,
      warnings: [...this.runtime.warnings],
      linearPrior: this.linearPrior === null ? null : {
        name: this.linearPrior.header.name, textDim: this.linearPrior.header.text_dim, embeddingDim: this.linearPrior.header.embedding_dim,
      },
    };
  }

  /** The prior a request chose, with its linear map; BAD_REQUEST when the bundle has no linear prior, BAD_PRIOR_FILE when a personal one does not fit. */
  resolvePrior(choice: PriorChoice | undefined): ResolvedPrior {
    const c = choice ?? { kind: 'diffusion' };
    const map = (source: Extract<PriorChoice, { linear: unknown }>['linear']): LinearMap => {
      if (source.from === 'bundle') {
        if (this.linearPrior === null) {
          throw new EngineError(ErrorCode.BadRequest, `The model "${this.bundle.manifest.name}" has no linear prior of its own (manifest linear_prior); choose a personal prior or another kind.`);
        }
        return this.linearPrior;
      }
      const side = source.bias.length;
      checkPriorFitsModel(
        { name: source.name, embedding_dim: side, text_dim: side, family: source.family ?? 'another model' },
        { embeddingDim: this.model.embeddingDim, family: this.model.family, name: this.bundle.manifest.name },
      );
      return source;
    };
    switch (c.kind) {
      case 'diffusion': return { kind: 'diffusion' };
      case 'none': return { kind: 'none' };
      case 'linear': return { kind: 'linear', map: map(c.linear) };
      case 'blend': return { kind: 'blend', map: map(c.linear), linearWeight: c.linearWeight };
    }
  }

  /** Fit a linear prior from images and captions (workers/priors/fit.ts). */
  async fitPrior(runId: string, request: FitPriorRequest, hooks: { onProgress?: (p: FitProgress) => void; isCancelled?: () => boolean } = {}): Promise<FittedPrior> {
    const isCancelled = hooks.isCancelled ?? (() => false);
    const ctx = this.context(seededNoise(0), [], new CancellableRunner(this.runtime, isCancelled));
    return fitLinearPrior(ctx, request, (phase, step, total) => {
      if (isCancelled()) throw new EngineError(ErrorCode.Cancelled, 'The fit was cancelled; nothing was stored.');
      hooks.onProgress?.({ runId, phase, step, total });
    });
  }

  /** Build a pipeline context for one image of a run. */
  context(noise: NoiseSource, warnings: string[], runner: StageRunner = this.runtime, onStep?: PipelineContext['onStep'], preview?: PreviewSink): PipelineContext {
    return {
      runner, model: this.model, tokenizer: this.tokenizer, noise, warnings,
      ...(this.multilingualTokenizer ? { multilingualTokenizer: this.multilingualTokenizer } : {}),
      ...(onStep ? { onStep } : {}),
      ...(preview ? { preview } : {}),
    };
  }

  /** Generate 1–4 images for a request. Throws EngineError (BAD_REQUEST, STAGE_MISSING, CANCELLED, ...). */
  async generate(runId: string, request: GenerateRequest, hooks: RunHooks = {}): Promise<GenerateResult> {
    const started = performance.now();
    const family = this.model.family;
    const req = normaliseRequest(request, FAMILY_DEFAULTS[family]);
    if (req.family !== undefined && req.family !== family) {
      throw new EngineError(
        ErrorCode.BadRequest,
        `This request was made for a ${req.family} model, but the loaded model "${this.bundle.manifest.name}" is ${family}. Reload the model's facts (BundleInfo) and build the request for ${family}.`,
        { expected: `family ${family}`, actual: `family ${req.family}` },
      );
    }
    const warnings = [...req.warnings];
    const missing = modeStages(req.mode, family).filter((s) => !this.runtime.has(s));
    if (missing.length > 0) {
      throw new EngineError(ErrorCode.StageMissing, `This model cannot do ${req.mode}: it has no ${missing.join(', ')} stage.`, {
        file: missing.join(', '),
      });
    }
    if (req.mode === 'fusion' && req.conditions.some((c) => c.kind === 'image') && !this.runtime.has('image_encoder')) {
      throw new EngineError(ErrorCode.StageMissing, 'This model has no image_encoder stage, so it cannot fuse images.', { file: 'image_encoder' });
    }
    this.checkSchedules(req.scheduler, req.steps, req.priorSteps);
    checkSizeOn(this.runtime.epOf(req.mode === 'inpaint' ? 'unet_inpaint' : 'unet'), req.width, req.height);
    // Variations run no prior: a prior choice is ignored there (and not recorded).
    const prior = this.resolvePrior(req.mode === 'variations' ? undefined : req.prior);
    const isCancelled = hooks.isCancelled ?? (() => false);
    const runner = new CancellableRunner(this.runtime, isCancelled);
    const images: GeneratedImage[] = [];
    const clock = new StageClock(started);
    for (let index = 0; index < req.numImages; index++) {
      const seed = (req.seed + index) >>> 0;
      const onStep = (stage: ProgressStage, step: number, total: number) => {
        if (isCancelled()) throw new EngineError(ErrorCode.Cancelled, 'The run was cancelled.');
        clock.enter(stage, performance.now());
        hooks.onProgress?.({ runId, stage, step, total, image: index, numImages: req.numImages, elapsedMs: performance.now() - started });
      };
      const preview: PreviewSink | undefined = req.preview === undefined ? undefined : {
        ...req.preview,
        show: async (decoded, step, total) => {
          const H = decoded.dims[2]!, W = decoded.dims[3]!;
          const image: RgbaImage = { width: W, height: H, data: nchwToRgba(decoded.data, W, H, 0) };
          hooks.onProgress?.({ runId, stage: 'unet', step, total, image: index, numImages: req.numImages, elapsedMs: performance.now() - started, preview: image });
        },
      };
      const ctx = this.context(seededNoise(seed), warnings, runner, onStep, preview);
      const image = await this.generateOne(ctx, req, prior);
      clock.leave(performance.now());
      const params: UsedParams = this.usedParams(req, seed);
      images.push({ image, params });
    }
    return { runId, images, warnings: [...new Set(warnings)], timings: clock.timings(performance.now()) };
  }

  /** Build both schedules once up front, so a step count a scheduler cannot honour is a BAD_REQUEST.
   *  Only StepCountError is the request's fault: the configs were checked with the manifest, so any other
   *  error here (a plain RangeError included) is a bug and stays INTERNAL. */
  private checkSchedules(kind: SchedulerKind, steps: number, priorSteps: number): void {
    try {
      createScheduler(this.decoderSchedulerConfig(kind)).setTimesteps(steps);
      createScheduler(this.bundle.manifest.schedulers.prior as SchedulerConfig).setTimesteps(priorSteps);
    } catch (e) {
      if (e instanceof StepCountError) throw new EngineError(ErrorCode.BadRequest, e.message);
      throw e;
    }
  }

  /** The diffusers config of a decoder scheduler kind for this bundle (schedulers/index.ts decoderConfigFor). */
  private decoderSchedulerConfig(kind: SchedulerKind): SchedulerConfig {
    const m = this.bundle.manifest;
    return decoderConfigFor(m.schedulers.decoder, m.scheduler_alternatives, kind);
  }

  private usedParams(req: ReturnType<typeof normaliseRequest>, seed: number): UsedParams {
    const base = {
      mode: req.mode, negativePrompt: req.negativePrompt, width: req.width, height: req.height, steps: req.steps,
      guidance: req.guidance, priorSteps: req.priorSteps, priorGuidance: req.priorGuidance, scheduler: req.scheduler,
      seed, model: this.bundle.manifest.name, ep: this.runtime.ep, prior: usedPrior(req.mode === 'variations' ? undefined : req.prior),
    };
    switch (req.mode) {
      case 'text2img':
      case 'inpaint':
        return { ...base, prompt: req.prompt };
      case 'img2img':
        return { ...base, prompt: req.prompt, strength: req.strength };
      case 'fusion':
        return {
          ...base,
          conditions: req.conditions.map((c) => (c.kind === 'text'
            ? { kind: 'text' as const, prompt: c.prompt, weight: c.weight }
            : { kind: 'image' as const, weight: c.weight, ...(c.id === undefined ? {} : { id: c.id }) })),
        };
      case 'variations':
        return base;
    }
  }

  /** One image: conditioning, decoder loop, MoVQ decode. */
  private async generateOne(ctx: PipelineContext, req: ReturnType<typeof normaliseRequest>, prior: ResolvedPrior): Promise<RgbaImage> {
    const priorScheduler = () => createScheduler(this.bundle.manifest.schedulers.prior as SchedulerConfig);
    const negativePrompt = req.negativePrompt === '' ? null : req.negativePrompt;
    let embeds: { imageEmbeds: Float32Array; negativeImageEmbeds: Float32Array };
    switch (req.mode) {
      case 'text2img':
      case 'img2img':
      case 'inpaint':
        embeds = await runPriorKind(ctx, prior, {
          prompt: req.prompt, negativePrompt, guidance: req.priorGuidance, steps: req.priorSteps, scheduler: priorScheduler(),
        });
        break;
      case 'fusion':
        embeds = await runFusion(ctx, {
          conditions: req.conditions.map((c) => (c.kind === 'text'
            ? c
            : { kind: 'image' as const, rgb: rgbOf(c.image), width: c.image.width, height: c.image.height, weight: c.weight })),
          priorSteps: req.priorSteps,
          priorGuidance: req.priorGuidance,
          negativePriorPrompt: negativePrompt,
          negativePrompt: req.negativePrompt,
          makeScheduler: priorScheduler,
          prior,
        });
        break;
      case 'variations':
        embeds = {
          imageEmbeds: await encodeRgbImage(ctx, rgbOf(req.image), req.image.width, req.image.height),
          negativeImageEmbeds: await negativeEmbedding(ctx),
        };
        break;
    }
    const sf = this.model.scaleFactor;
    const latentH = latentSide(req.height, sf);
    const latentW = latentSide(req.width, sf);
    let start: DecoderParams['start'] = { kind: 'noise' };
    if (req.mode === 'img2img' || req.mode === 'inpaint') {
      let rgb = rgbOf(req.image);
      if (req.image.width !== req.width || req.image.height !== req.height) {
        rgb = resizeBicubicU8(rgb, req.image.width, req.image.height, req.width, req.height);
      }
      const encoded = await encodeImageLatents(ctx, f32(rgbToSigned(rgb, req.width, req.height), [1, 3, req.height, req.width]));
      if (req.mode === 'img2img') {
        start = { kind: 'image', imageLatents: encoded.data, strength: req.strength };
      } else {
        const maskF = Float32Array.from(req.mask.data, (v) => v / 255);
        start = { kind: 'inpaint', imageLatents: encoded.data, keepMask: prepareKeepMask(maskF, req.width, req.height, latentW, latentH) };
      }
    }
    // Kandinsky 2.1 also conditions the decoder on text: the prompt in the text modes, "" in the image modes
    // (the reference's interpolation example); the negative prompt is the unconditional text in every mode.
    const decoderPrompt = req.mode === 'text2img' || req.mode === 'img2img' || req.mode === 'inpaint' ? req.prompt : '';
    const conditioning = await decoderConditioning(ctx, decoderPrompt, req.negativePrompt, req.guidance);
    const decoded = await runDecoder(ctx, {
      ...embeds, conditioning, latentH, latentW, guidance: req.guidance, steps: req.steps,
      scheduler: createScheduler(this.decoderSchedulerConfig(req.scheduler)), start, decode: true,
    });
    const image = decoded.image;
    if (!image) throw new EngineError(ErrorCode.Internal, 'The decoder returned no image though decoding was asked.');
    const H = image.dims[2]!, W = image.dims[3]!;
    return { width: W, height: H, data: nchwToRgba(image.data, W, H, 0) };
  }

  /** Free GPU/wasm memory held by sessions. */
  async release(): Promise<void> {
    await this.runtime.release();
  }

  async dispose(): Promise<void> {
    await this.runtime.dispose();
  }
}

/** What a result records about its prior: kind, the linear prior by name, the blend weight. */
export function usedPrior(choice: PriorChoice | undefined): UsedPrior {
  const c = choice ?? { kind: 'diffusion' };
  switch (c.kind) {
    case 'diffusion':
    case 'none':
      return { kind: c.kind };
    case 'linear':
    case 'blend': {
      const linear = c.linear.from === 'bundle' ? { from: 'bundle' as const } : { from: 'user' as const, id: c.linear.id, name: c.linear.name };
      return c.kind === 'linear' ? { kind: 'linear', linear } : { kind: 'blend', linear, linearWeight: c.linearWeight };
    }
  }
}

/** The bundle's linear prior file, read and checked against its embedding size (BAD_PRIOR_FILE otherwise). */
async function bundleLinearPrior(bundle: Bundle): Promise<LinearPriorFile | null> {
  const entry = bundle.manifest.linear_prior;
  if (!entry) return null;
  const file = decodeLinearPrior(await bundle.readFile(entry.path));
  checkPriorFitsModel(file.header, { embeddingDim: bundle.manifest.embedding_dim, family: manifestFamily(bundle.manifest), name: bundle.manifest.name });
  return file;
}

/** Kandinsky 2.1's XLM-R tokenizer (checked to be a Unigram one, BAD_MANIFEST otherwise); null for 2.2. */
function multilingualTokenizerOf(bundle: Bundle): BundleTokenizer | null {
  const entry = bundle.manifest.text_multilingual;
  if (manifestFamily(bundle.manifest) !== 'kandinsky-2.1' || entry === undefined) return null;
  const t = bundle.multilingualTokenizer;
  if (t === undefined) {
    throw new EngineError(ErrorCode.BadManifest, `The bundle's multilingual tokenizer (${entry.tokenizer}) was not read.`, { file: entry.tokenizer });
  }
  return XlmRobertaTokenizer.fromJson(t.json, t.config, entry.max_length, t.path);
}

/** Facts the pipelines need, from a loaded bundle. */
export function modelFacts(bundle: Bundle): ModelFacts {
  const m = bundle.manifest;
  return {
    family: manifestFamily(m),
    ...(m.text_multilingual === undefined ? {} : { multilingualMaxLength: m.text_multilingual.max_length }),
    embeddingDim: m.embedding_dim,
    maxLength: m.text.max_length,
    latentChannels: m.movq.latent_channels,
    scaleFactor: m.movq.scale_factor,
    imageProcessor: m.image_processor,
    clipMean: bundle.priorStats.clipMean,
    clipStd: bundle.priorStats.clipStd,
  };
}
