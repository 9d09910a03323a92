/** The bundle manifest (SPEC §2 version 1; docs/kandinsky-2-1.md version 2 with a family): types and a validating parser. */
import { EngineError, ErrorCode } from '../errors.ts';
import { LIMITS, SCHEDULER_KINDS } from '../protocol.ts';
import { createScheduler, decoderConfigFor } from '../schedulers/index.ts';
import type { SchedulerConfig } from '../schedulers/types.ts';
import { checkBundlePath } from './bundle-path.ts';
import {
  MODEL_FAMILIES, REQUIRED_STAGES_BY_FAMILY, STAGE_IO_BY_FAMILY, familyStages, isModelFamily, stageIo, type ModelFamily,
} from './stage-io.ts';
import { STAGE_NAMES, type StageName } from './types.ts';

export const BUNDLE_FORMAT = 'kandinsky-onnx-bundle';
export const SUPPORTED_VERSIONS = [1, 2] as const;
export type ManifestVersion = (typeof SUPPORTED_VERSIONS)[number];

/** Stages every Kandinsky 2.2 (and version 1) bundle must have; runtime/stage-io.ts has every family's. */
export const REQUIRED_STAGES = REQUIRED_STAGES_BY_FAMILY['kandinsky-2.2'];

/** Input and output names of each Kandinsky 2.2 stage (SPEC §2's table); runtime/stage-io.ts has every family's. */
export const STAGE_IO = STAGE_IO_BY_FAMILY['kandinsky-2.2'];

export const TENSOR_DTYPES = ['float32', 'float16'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/**
 * Bounds on every number a manifest carries (README "Manifest bounds"). Each is far outside what a real
 * Kandinsky 2.x bundle holds (shown per line) and small enough that nothing the app derives from it
 * (token buffers, image and latent tensors, noise tables) can exhaust memory or time.
 */
export const MANIFEST_BOUNDS = {
  /** Tokens per prompt (text.max_length and text_multilingual.max_length): 77 for CLIP and XLM-R (2.1). */
  maxLength: { min: 2, max: 512 },
  /** CLIP embedding size D: 1280 (2.2), 768 (2.1), 32 in the tiny fixture. */
  embeddingDim: { min: 1, max: 8192 },
  /** CLIP image processor size and crop_size: 224 for Kandinsky, 96 for the micro model. */
  imageSize: { min: 1, max: 1024 },
  /** CLIP normalisation of pixels in [0, 1]: mean about 0.41–0.48, std about 0.26–0.28. */
  mean: { min: 0, max: 1 },
  std: { min: 0.001, max: 1 },
  /** MoVQ scale factor (a power of two): 8. */
  scaleFactor: { min: 1, max: 64 },
  /** MoVQ latent channels: 4. */
  latentChannels: { min: 1, max: 64 },
  /** One stage or external-data file: protobuf and the browser's typed arrays stop at 2 GiB (SPEC §5). */
  fileBytes: { min: 1, max: 2 ** 31 - 1 },
  /** External-data files of one stage: a 2.2 unet in 1 GiB chunks needs 5. */
  externalFiles: { min: 0, max: 256 },
  /** A fixed dimension a stage declares (1280 at most in real bundles) and the rank of its tensors (4). */
  dim: { min: 0, max: 1 << 20 },
  rank: { min: 0, max: 8 },
  /** Entries of scheduler_alternatives: 2 (ddim, dpmpp_2m). */
  schedulerAlternatives: { min: 0, max: 16 },
  /** Characters of name, family and description (shown in the UI). */
  nameLength: { min: 1, max: 200 },
  descriptionLength: { min: 0, max: 4000 },
} as const satisfies Record<string, { readonly min: number; readonly max: number }>;

/** A symbolic or fixed dimension, as written in the manifest ("batch", 77). */
export type Dim = string | number;

/** A file the manifest names, with its size and hash. */
export interface FileEntry {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** One ONNX graph of the bundle. */
export interface StageEntry {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly inputs: Readonly<Record<string, readonly Dim[]>>;
  readonly outputs: Readonly<Record<string, readonly Dim[]>>;
  /** Float dtype of the graph's inputs/outputs; defaults to the manifest's `dtype`. */
  readonly dtype?: TensorDtype;
  /**
   * Float dtype the graph computes in (the exporter's precision variants, tools/export/README.md "Variants"):
   * an fp16 variant computes in float16 behind float32 inputs and outputs, so `dtype` alone does not tell.
   * Read it with stageComputesFloat16().
   */
  readonly compute_dtype?: TensorDtype;
  /** prior only: JSON file with clip_mean and clip_std (default prior_stats.json). */
  readonly stats?: string;
  /** Weight files next to the graph (each under 2 GiB). */
  readonly external_data?: readonly FileEntry[];
}

/** A tokenizer the manifest names, with the sequence length its ids are padded and truncated to. */
export interface TextEntry { readonly max_length: number; readonly tokenizer: string }

/** manifest.json of a bundle (SPEC §2, docs/kandinsky-2-1.md). Unknown extra fields are allowed and ignored. */
export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: ManifestVersion;
  readonly name: string;
  /** Free text at version 1 (which is always Kandinsky 2.2); one of MODEL_FAMILIES at version 2. Read it with manifestFamily(). */
  readonly family: string;
  readonly description: string;
  readonly dtype: TensorDtype;
  readonly embedding_dim: number;
  /** The CLIP BPE tokenizer (text encoder and prior). */
  readonly text: TextEntry;
  /** Kandinsky 2.1 only: the XLM-R Unigram tokenizer of text_encoder_multilingual (the UNet's text). */
  readonly text_multilingual?: TextEntry;
  readonly image_processor: {
    readonly size: number;
    readonly crop_size: number;
    readonly resample: 'bicubic';
    readonly mean: readonly [number, number, number];
    readonly std: readonly [number, number, number];
  };
  readonly movq: { readonly scale_factor: number; readonly latent_channels: number; readonly force_not_quantize: boolean };
  readonly stages: Readonly<Partial<Record<StageName, StageEntry>>>;
  readonly schedulers: { readonly prior: SchedulerConfig; readonly decoder: SchedulerConfig };
  readonly scheduler_alternatives?: Readonly<Record<string, SchedulerConfig>>;
  /** Optional linear prior file (workers/priors/file.ts format; README "Prior kinds"). */
  readonly linear_prior?: FileEntry;
  /** Optional: the image size the model was trained at (the UI's default frame); absent in older bundles. */
  readonly native_size?: { readonly width: number; readonly height: number };
  /** Optional (exporter's variants): whether any graph computes in float16, i.e. needs WebGPU `shader-f16`. */
  readonly precision?: { readonly requires_shader_f16: boolean };
}

type Json = Record<string, unknown>;

/** The model family of a parsed manifest: version 1 is Kandinsky 2.2 whatever its free-text family says. */
export function manifestFamily(m: Pick<BundleManifest, 'version' | 'family'>): ModelFamily {
  return m.version === 1 || !isModelFamily(m.family) ? 'kandinsky-2.2' : m.family;
}

/** The optional `precision: {dtype, quantize, requires_shader_f16}` entry; only the flag matters to the engine. */
function precisionEntry(c: Checker, v: unknown): { requires_shader_f16: boolean } {
  const o = c.object(v, 'precision');
  const flag = o.requires_shader_f16;
  if (flag !== undefined && typeof flag !== 'boolean') c.fail('precision.requires_shader_f16', 'true or false', flag);
  return { requires_shader_f16: flag === true };
}

/** The optional `linear_prior: {file, bytes, sha256}` entry. */
function linearPriorEntry(c: Checker, v: unknown): FileEntry {
  const o = c.object(v, 'linear_prior');
  return { path: c.path(o.file, 'linear_prior.file'), bytes: c.int(o.bytes, 'linear_prior.bytes', 12), sha256: c.sha256(o.sha256, 'linear_prior.sha256') };
}

/** Collects the path of the value being checked so that errors can name the field. */
class Checker {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string, actual: unknown, hint = 'Re-export the bundle or fix manifest.json.'): never {
    const shown = describe(actual);
    throw new EngineError(
      ErrorCode.BadManifest,
      `${this.source}: field "${field}" should be ${expected} but is ${shown}. ${hint}`,
      { file: this.source, expected: `${field}: ${expected}`, actual: shown },
    );
  }

  object(v: unknown, field: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Json;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'a non-empty string', v);
    return v;
  }

  int(v: unknown, field: string, min: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(field, `an integer >= ${min}`, v);
    return v;
  }

  number(v: unknown, field: string, positive = false): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
      this.fail(field, positive ? 'a positive number' : 'a finite number', v);
    }
    return v;
  }

  triple(v: unknown, field: string, positive: boolean): [number, number, number] {
    if (!Array.isArray(v) || v.length !== 3) this.fail(field, 'an array of 3 numbers', v);
    return [this.number(v[0], `${field}[0]`, positive), this.number(v[1], `${field}[1]`, positive), this.number(v[2], `${field}[2]`, positive)];
  }

  /** A path inside the bundle folder (the one rule of bundle-path.ts). */
  path(v: unknown, field: string): string {
    return checkBundlePath(this.string(v, field), field, this.source);
  }

  sha256(v: unknown, field: string): string {
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/i.test(v)) this.fail(field, 'a sha256 hex digest (64 hex digits)', v);
    return v.toLowerCase();
  }

  dtype(v: unknown, field: string): TensorDtype {
    if (!TENSOR_DTYPES.includes(v as TensorDtype)) this.fail(field, `one of ${TENSOR_DTYPES.map((d) => `"${d}"`).join(', ')}`, v);
    return v as TensorDtype;
  }

  dims(v: unknown, field: string): Record<string, Dim[]> {
    const o = this.object(v, field);
    const out: Record<string, Dim[]> = {};
    for (const [name, dims] of Object.entries(o)) {
      if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'string' || (typeof d === 'number' && Number.isInteger(d) && d >= 0))) {
        this.fail(`${field}.${name}`, 'an array of dimensions (names or non-negative integers)', dims);
      }
      out[name] = dims as Dim[];
    }
    return out;
  }

  scheduler(v: unknown, field: string): SchedulerConfig {
    const o = this.object(v, field);
    if (o._class_name !== undefined && typeof o._class_name !== 'string') this.fail(`${field}._class_name`, 'a string', o._class_name);
    this.buildsScheduler(o as SchedulerConfig, field);
    return o as SchedulerConfig;
  }

  /** The scheduler modules' own config readers decide (one home for the rule): class, types, bounds. */
  buildsScheduler(config: SchedulerConfig, field: string): void {
    try {
      createScheduler(config);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      throw new EngineError(ErrorCode.BadManifest, `${this.source}: field "${field}": ${e.message}`, {
        file: this.source,
        expected: `${field}.${e.details.expected ?? 'a supported scheduler config'}`,
        ...(e.details.actual === undefined ? {} : { actual: `${field}.${e.details.actual}` }),
      });
    }
  }

  /** An integer or number inside MANIFEST_BOUNDS[key]. */
  bounded(v: number, field: string, key: keyof typeof MANIFEST_BOUNDS, what = 'an integer'): void {
    const { min, max } = MANIFEST_BOUNDS[key];
    if (!(v >= min && v <= max)) this.fail(field, `${what} from ${min} to ${max}`, v, 'Real bundles are well inside this range (README "Manifest bounds"); re-export the bundle.');
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return String(v);
}

function sameNames(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length && expected.every((n) => actual.includes(n));
}

function parseStage(c: Checker, family: ModelFamily, name: StageName, v: unknown): StageEntry {
  const f = `stages.${name}`;
  const o = c.object(v, f);
  const inputs = c.dims(o.inputs, `${f}.inputs`);
  const outputs = c.dims(o.outputs, `${f}.outputs`);
  const io = stageIo(family, name) ?? c.fail(f, `a stage of ${family}`, name);
  const inputNames = Object.keys(inputs);
  const outputNames = Object.keys(outputs);
  if (!sameNames(inputNames, io.inputs)) {
    c.fail(`${f}.inputs`, `the inputs [${io.inputs.join(', ')}] (SPEC §2)`, `[${inputNames.join(', ')}]`, 'Stage input names are part of the bundle contract; re-export the stage with those names.');
  }
  if (!sameNames(outputNames, io.outputs)) {
    c.fail(`${f}.outputs`, `the outputs [${io.outputs.join(', ')}] (SPEC §2)`, `[${outputNames.join(', ')}]`, 'Stage output names are part of the bundle contract; re-export the stage with those names.');
  }
  let external: FileEntry[] | undefined;
  if (o.external_data !== undefined) {
    if (!Array.isArray(o.external_data)) c.fail(`${f}.external_data`, 'an array of {path, bytes, sha256}', o.external_data);
    external = o.external_data.map((e: unknown, i: number) => {
      const ef = `${f}.external_data[${i}]`;
      const eo = c.object(e, ef);
      return { path: c.path(eo.path, `${ef}.path`), bytes: c.int(eo.bytes, `${ef}.bytes`, 0), sha256: c.sha256(eo.sha256, `${ef}.sha256`) };
    });
  }
  return {
    file: c.path(o.file, `${f}.file`),
    bytes: c.int(o.bytes, `${f}.bytes`, 1),
    sha256: c.sha256(o.sha256, `${f}.sha256`),
    inputs,
    outputs,
    ...(o.dtype !== undefined ? { dtype: c.dtype(o.dtype, `${f}.dtype`) } : {}),
    ...(o.compute_dtype !== undefined ? { compute_dtype: c.dtype(o.compute_dtype, `${f}.compute_dtype`) } : {}),
    ...(o.stats !== undefined ? { stats: c.path(o.stats, `${f}.stats`) } : {}),
    ...(external !== undefined ? { external_data: external } : {}),
  };
}

/**
 * Validates parsed manifest.json. `source` names the manifest in errors (a URL or file name).
 * Throws EngineError(BAD_MANIFEST) naming the first bad field and what was expected.
 */
export function parseManifest(json: unknown, source: string): BundleManifest {
  const c = new Checker(source);
  const m = c.object(json, '(root)');
  if (m.format !== BUNDLE_FORMAT) {
    c.fail('format', `"${BUNDLE_FORMAT}"`, m.format, 'This file is not a Kandinsky ONNX bundle manifest.');
  }
  if (!SUPPORTED_VERSIONS.includes(m.version as ManifestVersion)) {
    c.fail('version', `one of [${SUPPORTED_VERSIONS.join(', ')}]`, m.version, 'This bundle was made for another version of the app; update the app or re-export the bundle.');
  }
  const version = m.version as ManifestVersion;
  // Version 2 names its family; version 1 is Kandinsky 2.2 (its `family` is free text, checked below).
  if (version === 2 && !isModelFamily(m.family)) {
    c.fail('family', `one of ${MODEL_FAMILIES.map((f) => `"${f}"`).join(', ')} (manifest version 2)`, m.family);
  }
  const family: ModelFamily = version === 2 ? (m.family as ModelFamily) : 'kandinsky-2.2';
  const textMultilingual = family === 'kandinsky-2.1'
    ? textEntry(c, m.text_multilingual, 'text_multilingual', 'the XLM-R tokenizer of text_encoder_multilingual (Kandinsky 2.1)')
    : undefined;

  const text = c.object(m.text, 'text');
  const ip = c.object(m.image_processor, 'image_processor');
  if (ip.resample !== 'bicubic') c.fail('image_processor.resample', '"bicubic" (the only resampling CLIP preprocessing uses)', ip.resample);
  const size = c.int(ip.size, 'image_processor.size', 1);
  const cropSize = c.int(ip.crop_size, 'image_processor.crop_size', 1);
  const movq = c.object(m.movq, 'movq');
  if (typeof movq.force_not_quantize !== 'boolean') c.fail('movq.force_not_quantize', 'true or false', movq.force_not_quantize);

  const stagesJson = c.object(m.stages, 'stages');
  const required = REQUIRED_STAGES_BY_FAMILY[family];
  for (const name of required) {
    if (stagesJson[name] === undefined) {
      const of = family === 'kandinsky-2.2' ? '' : ` of ${family}`;
      c.fail(`stages.${name}`, `present (required stages${of}: ${required.join(', ')})`, undefined, 'The bundle is incomplete; re-export it with all required stages.');
    }
  }
  const stages: Partial<Record<StageName, StageEntry>> = {};
  for (const name of familyStages(family)) {
    if (stagesJson[name] !== undefined) stages[name] = parseStage(c, family, name, stagesJson[name]);
  }

  const sch = c.object(m.schedulers, 'schedulers');
  let alternatives: Record<string, SchedulerConfig> | undefined;
  if (m.scheduler_alternatives !== undefined) {
    const alt = c.object(m.scheduler_alternatives, 'scheduler_alternatives');
    alternatives = {};
    for (const [k, v] of Object.entries(alt)) alternatives[k] = c.scheduler(v, `scheduler_alternatives.${k}`);
  }

  const parsed: BundleManifest = {
    format: BUNDLE_FORMAT,
    version,
    name: c.string(m.name, 'name'),
    family: c.string(m.family, 'family'),
    description: m.description === undefined ? '' : typeof m.description === 'string' ? m.description : c.fail('description', 'a string', m.description),
    dtype: m.dtype === undefined ? 'float32' : c.dtype(m.dtype, 'dtype'),
    embedding_dim: c.int(m.embedding_dim, 'embedding_dim', 1),
    text: { max_length: c.int(text.max_length, 'text.max_length', 2), tokenizer: c.path(text.tokenizer, 'text.tokenizer') },
    ...(textMultilingual !== undefined ? { text_multilingual: textMultilingual } : {}),
    image_processor: {
      size,
      crop_size: cropSize,
      resample: 'bicubic',
      mean: c.triple(ip.mean, 'image_processor.mean', false),
      std: c.triple(ip.std, 'image_processor.std', true),
    },
    movq: {
      scale_factor: c.int(movq.scale_factor, 'movq.scale_factor', 1),
      latent_channels: c.int(movq.latent_channels, 'movq.latent_channels', 1),
      force_not_quantize: movq.force_not_quantize as boolean,
    },
    stages,
    schedulers: { prior: c.scheduler(sch.prior, 'schedulers.prior'), decoder: c.scheduler(sch.decoder, 'schedulers.decoder') },
    ...(alternatives !== undefined ? { scheduler_alternatives: alternatives } : {}),
    ...(m.linear_prior !== undefined ? { linear_prior: linearPriorEntry(c, m.linear_prior) } : {}),
    ...(m.native_size !== undefined ? { native_size: nativeSize(c, m.native_size) } : {}),
    ...(m.precision !== undefined ? { precision: precisionEntry(c, m.precision) } : {}),
  };
  checkBounds(c, parsed);
  checkDeclaredDims(c, parsed);
  checkDecoderKinds(c, parsed);
  return parsed;
}

/** Every number of a type-checked manifest against MANIFEST_BOUNDS. */
function checkBounds(c: Checker, m: BundleManifest): void {
  c.bounded(m.name.length, 'name (length)', 'nameLength');
  c.bounded(m.family.length, 'family (length)', 'nameLength');
  c.bounded(m.description.length, 'description (length)', 'descriptionLength');
  c.bounded(m.embedding_dim, 'embedding_dim', 'embeddingDim');
  c.bounded(m.text.max_length, 'text.max_length', 'maxLength');
  if (m.text_multilingual) c.bounded(m.text_multilingual.max_length, 'text_multilingual.max_length', 'maxLength');
  const ip = m.image_processor;
  c.bounded(ip.size, 'image_processor.size', 'imageSize');
  c.bounded(ip.crop_size, 'image_processor.crop_size', 'imageSize');
  if (ip.crop_size > ip.size) c.fail('image_processor.crop_size', `at most image_processor.size (${ip.size}): CLIP crops the resized image`, ip.crop_size);
  ip.mean.forEach((x, i) => c.bounded(x, `image_processor.mean[${i}]`, 'mean', 'a number'));
  ip.std.forEach((x, i) => c.bounded(x, `image_processor.std[${i}]`, 'std', 'a number'));
  c.bounded(m.movq.scale_factor, 'movq.scale_factor', 'scaleFactor');
  if ((m.movq.scale_factor & (m.movq.scale_factor - 1)) !== 0) c.fail('movq.scale_factor', 'a power of two (MoVQ halves the size per level)', m.movq.scale_factor);
  c.bounded(m.movq.latent_channels, 'movq.latent_channels', 'latentChannels');
  for (const name of STAGE_NAMES) {
    const s = m.stages[name];
    if (!s) continue;
    const f = `stages.${name}`;
    c.bounded(s.bytes, `${f}.bytes`, 'fileBytes');
    const external = s.external_data ?? [];
    c.bounded(external.length, `${f}.external_data (count)`, 'externalFiles');
    external.forEach((e, i) => c.bounded(e.bytes, `${f}.external_data[${i}].bytes`, 'fileBytes'));
    for (const [kind, table] of [['inputs', s.inputs], ['outputs', s.outputs]] as const) {
      for (const [io, dims] of Object.entries(table)) {
        c.bounded(dims.length, `${f}.${kind}.${io} (rank)`, 'rank');
        dims.forEach((d, i) => { if (typeof d === 'number') c.bounded(d, `${f}.${kind}.${io}[${i}]`, 'dim'); });
      }
    }
  }
  c.bounded(Object.keys(m.scheduler_alternatives ?? {}).length, 'scheduler_alternatives (count)', 'schedulerAlternatives');
}

/** A dim the manifest's own numbers fix: `stages[stage][kind][io][axis]` must be `want` (from `from`). */
export interface DimRule {
  readonly stage: StageName;
  readonly kind: 'inputs' | 'outputs';
  readonly io: string;
  readonly axis: number;
  readonly want: number;
  readonly from: string;
}

/**
 * The dims SPEC §2's table ties to the manifest's numbers: the sequence length is text.max_length,
 * embeddings are embedding_dim wide, latents have latent_channels, the image encoder takes crop_size
 * pixels. Checked against the manifest's declared dims here and against the graph's when its session
 * is created (runtime/ort.ts).
 */
export function dimRules(m: BundleManifest): DimRule[] {
  const family = manifestFamily(m);
  const L = m.text.max_length;
  const D = m.embedding_dim;
  const C = m.movq.latent_channels;
  const S = m.image_processor.crop_size;
  const rule = (stage: StageName, kind: DimRule['kind'], io: string, axis: number, want: number, from: string): DimRule =>
    ({ stage, kind, io, axis, want, from });
  return [
    rule('text_encoder', 'inputs', 'input_ids', 1, L, 'text.max_length'),
    rule('text_encoder', 'outputs', 'text_embeds', 1, D, 'embedding_dim'),
    rule('text_encoder', 'outputs', 'last_hidden_state', 1, L, 'text.max_length'),
    rule('image_encoder', 'inputs', 'pixel_values', 2, S, 'image_processor.crop_size'),
    rule('image_encoder', 'inputs', 'pixel_values', 3, S, 'image_processor.crop_size'),
    rule('image_encoder', 'outputs', 'image_embeds', 1, D, 'embedding_dim'),
    rule('prior', 'inputs', 'hidden_states', 1, D, 'embedding_dim'),
    rule('prior', 'inputs', 'proj_embedding', 1, D, 'embedding_dim'),
    rule('prior', 'inputs', 'encoder_hidden_states', 1, L, 'text.max_length'),
    rule('prior', 'inputs', 'attention_mask', 1, L, 'text.max_length'),
    rule('prior', 'outputs', 'predicted_image_embedding', 1, D, 'embedding_dim'),
    rule('unet', 'inputs', 'sample', 1, C, 'movq.latent_channels'),
    rule('unet', 'inputs', 'image_embeds', 1, D, 'embedding_dim'),
    rule('unet_inpaint', 'inputs', 'sample', 1, 2 * C + 1, '2 × movq.latent_channels + 1 (latents, masked-image latents, mask)'),
    rule('unet_inpaint', 'inputs', 'image_embeds', 1, D, 'embedding_dim'),
    rule('movq_encoder', 'outputs', 'latents', 1, C, 'movq.latent_channels'),
    rule('movq_decoder', 'inputs', 'latents', 1, C, 'movq.latent_channels'),
    ...(family === 'kandinsky-2.1' ? multilingualDimRules(m, rule) : []),
  ];
}

/**
 * Kandinsky 2.1's extra ties: the multilingual encoder's sequence is text_multilingual.max_length, its pooled
 * embedding and the UNets' text_embeds are embedding_dim wide, and the UNets' encoder_hidden_states have the
 * encoder's sequence length and (where the encoder's manifest entry fixes it) its width.
 */
function multilingualDimRules(
  m: BundleManifest, rule: (stage: StageName, kind: DimRule['kind'], io: string, axis: number, want: number, from: string) => DimRule,
): DimRule[] {
  const Lm = m.text_multilingual?.max_length;
  if (Lm === undefined) return [];
  const D = m.embedding_dim;
  const width = m.stages.text_encoder_multilingual?.outputs.last_hidden_state?.[2];
  const widthFrom = 'stages.text_encoder_multilingual.outputs.last_hidden_state[2]';
  const unet = (stage: 'unet' | 'unet_inpaint'): DimRule[] => [
    rule(stage, 'inputs', 'encoder_hidden_states', 1, Lm, 'text_multilingual.max_length'),
    ...(typeof width === 'number' ? [rule(stage, 'inputs', 'encoder_hidden_states', 2, width, widthFrom)] : []),
    rule(stage, 'inputs', 'text_embeds', 1, D, 'embedding_dim'),
  ];
  return [
    rule('text_encoder_multilingual', 'inputs', 'input_ids', 1, Lm, 'text_multilingual.max_length'),
    rule('text_encoder_multilingual', 'inputs', 'attention_mask', 1, Lm, 'text_multilingual.max_length'),
    rule('text_encoder_multilingual', 'outputs', 'text_embeds', 1, D, 'embedding_dim'),
    rule('text_encoder_multilingual', 'outputs', 'last_hidden_state', 1, Lm, 'text_multilingual.max_length'),
    ...unet('unet'),
    ...unet('unet_inpaint'),
  ];
}

/** A `{max_length, tokenizer}` entry (text_multilingual); `what` says what it is for in the error. */
function textEntry(c: Checker, v: unknown, field: string, what: string): TextEntry {
  if (v === undefined) c.fail(field, `an object {max_length, tokenizer}: ${what}`, v, 'The bundle is incomplete; re-export it.');
  const o = c.object(v, field);
  return { max_length: c.int(o.max_length, `${field}.max_length`, 2), tokenizer: c.path(o.tokenizer, `${field}.tokenizer`) };
}

/** Fixed dims the stages declare must agree with dimRules; symbolic dims ("batch", "height") are not checked. */
function checkDeclaredDims(c: Checker, m: BundleManifest): void {
  for (const r of dimRules(m)) {
    const d = m.stages[r.stage]?.[r.kind][r.io]?.[r.axis];
    if (typeof d === 'number' && d !== r.want) {
      c.fail(`stages.${r.stage}.${r.kind}.${r.io}[${r.axis}]`, `${r.want} (${r.from})`, d, 'The stage and the manifest disagree; re-export the bundle.');
    }
  }
}

/** Every decoder scheduler kind the app offers must build from this manifest (derived configs included). */
function checkDecoderKinds(c: Checker, m: BundleManifest): void {
  for (const kind of SCHEDULER_KINDS) {
    const config = decoderConfigFor(m.schedulers.decoder, m.scheduler_alternatives, kind);
    // The decoder config and the alternatives were checked as they were parsed.
    if (config !== m.schedulers.decoder && config !== m.scheduler_alternatives?.[kind]) {
      c.buildsScheduler(config, `schedulers.decoder (as ${kind})`);
    }
  }
}

/** native_size: whole multiples of 64 (the decoder's granularity, as the frame sizes), at most LIMITS.maxSide. */
function nativeSize(c: Checker, value: unknown): { width: number; height: number } {
  const o = c.object(value, 'native_size');
  const side = (v: unknown, field: string): number => {
    const n = c.int(v, field, 64);
    if (n > LIMITS.maxSide) c.fail(field, `at most ${LIMITS.maxSide} (the largest frame)`, v);
    return n % 64 === 0 ? n : c.fail(field, 'a multiple of 64', v);
  };
  return { width: side(o.width, 'native_size.width'), height: side(o.height, 'native_size.height') };
}

/** Parses manifest.json text; a syntax error becomes BAD_MANIFEST naming the source. */
export function parseManifestText(text: string, source: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EngineError(
      ErrorCode.BadManifest,
      `${source} is not valid JSON (${e instanceof Error ? e.message : String(e)}). Is this really a bundle's manifest.json?`,
      { file: source, expected: 'JSON', actual: JSON.stringify(text.slice(0, 40)) },
    );
  }
  return parseManifest(json, source);
}

/** The float dtype a stage's graph takes and returns. */
export function stageDtype(manifest: BundleManifest, stage: StageName): TensorDtype {
  return manifest.stages[stage]?.dtype ?? manifest.dtype;
}

/**
 * Whether a stage's graph computes in float16 (so needs `shader-f16` on WebGPU): its `compute_dtype` when the
 * manifest gives one, else float16 inputs/outputs, else the bundle's `precision.requires_shader_f16`. The
 * exporter's fp16 variants keep float32 I/O (`dtype` float32) and say `compute_dtype: "float16"`.
 */
export function stageComputesFloat16(manifest: BundleManifest, stage: StageName): boolean {
  const entry = manifest.stages[stage];
  if (!entry) return false;
  if (entry.compute_dtype !== undefined) return entry.compute_dtype === 'float16' || stageDtype(manifest, stage) === 'float16';
  return stageDtype(manifest, stage) === 'float16' || manifest.precision?.requires_shader_f16 === true;
}
