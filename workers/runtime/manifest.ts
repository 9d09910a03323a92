/** The bundle manifest (SPEC §2, format version 1): types and a validating parser. */
import { EngineError, ErrorCode } from '../errors.ts';
import type { SchedulerConfig } from '../schedulers/types.ts';
import { STAGE_NAMES, type StageName } from './types.ts';

export const BUNDLE_FORMAT = 'kandinsky-onnx-bundle';
export const SUPPORTED_VERSIONS = [1] as const;

/** Stages every bundle must have; the others unlock modes (image input, inpainting, img2img). */
export const REQUIRED_STAGES = ['text_encoder', 'prior', 'unet', 'movq_decoder'] as const satisfies readonly StageName[];

/** Input and output names of each stage (SPEC §2's table); part of the contract. */
export const STAGE_IO = {
  text_encoder: { inputs: ['input_ids'], outputs: ['text_embeds', 'last_hidden_state'] },
  image_encoder: { inputs: ['pixel_values'], outputs: ['image_embeds'] },
  prior: {
    inputs: ['hidden_states', 'timestep', 'proj_embedding', 'encoder_hidden_states', 'attention_mask'],
    outputs: ['predicted_image_embedding'],
  },
  unet: { inputs: ['sample', 'timestep', 'image_embeds'], outputs: ['out_sample'] },
  unet_inpaint: { inputs: ['sample', 'timestep', 'image_embeds'], outputs: ['out_sample'] },
  movq_encoder: { inputs: ['image'], outputs: ['latents'] },
  movq_decoder: { inputs: ['latents'], outputs: ['image'] },
} as const satisfies Record<StageName, { inputs: readonly string[]; outputs: readonly string[] }>;

export const TENSOR_DTYPES = ['float32', 'float16'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

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
  /** prior only: JSON file with clip_mean and clip_std (default prior_stats.json). */
  readonly stats?: string;
  /** Weight files next to the graph (each under 2 GiB). */
  readonly external_data?: readonly FileEntry[];
}

/** manifest.json of a bundle (SPEC §2). Unknown extra fields are allowed and ignored. */
export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: 1;
  readonly name: string;
  readonly family: string;
  readonly description: string;
  readonly dtype: TensorDtype;
  readonly embedding_dim: number;
  readonly text: { readonly max_length: number; readonly tokenizer: string };
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
  /** Optional: the image size the model was trained at (the UI's default frame); absent in older bundles. */
  readonly native_size?: { readonly width: number; readonly height: number };
}

type Json = Record<string, unknown>;

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

  /** A path inside the bundle: relative, no '..' segments, no backslashes. */
  path(v: unknown, field: string): string {
    const p = this.string(v, field);
    if (p.startsWith('/') || p.includes('\\') || p.split('/').some((seg) => seg === '..' || seg === '') || /^[a-z][a-z0-9+.-]*:/i.test(p)) {
      this.fail(field, 'a relative path inside the bundle (no "..", no leading "/")', p);
    }
    return p;
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
    return o as SchedulerConfig;
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

function parseStage(c: Checker, name: StageName, v: unknown): StageEntry {
  const f = `stages.${name}`;
  const o = c.object(v, f);
  const inputs = c.dims(o.inputs, `${f}.inputs`);
  const outputs = c.dims(o.outputs, `${f}.outputs`);
  const io = STAGE_IO[name];
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
  if (!SUPPORTED_VERSIONS.includes(m.version as 1)) {
    c.fail('version', `one of [${SUPPORTED_VERSIONS.join(', ')}]`, m.version, 'This bundle was made for another version of the app; update the app or re-export the bundle.');
  }

  const text = c.object(m.text, 'text');
  const ip = c.object(m.image_processor, 'image_processor');
  if (ip.resample !== 'bicubic') c.fail('image_processor.resample', '"bicubic" (the only resampling CLIP preprocessing uses)', ip.resample);
  const size = c.int(ip.size, 'image_processor.size', 1);
  const cropSize = c.int(ip.crop_size, 'image_processor.crop_size', 1);
  const movq = c.object(m.movq, 'movq');
  if (typeof movq.force_not_quantize !== 'boolean') c.fail('movq.force_not_quantize', 'true or false', movq.force_not_quantize);

  const stagesJson = c.object(m.stages, 'stages');
  for (const name of REQUIRED_STAGES) {
    if (stagesJson[name] === undefined) {
      c.fail(`stages.${name}`, 'present (required stages: ' + REQUIRED_STAGES.join(', ') + ')', undefined, 'The bundle is incomplete; re-export it with all required stages.');
    }
  }
  const stages: Partial<Record<StageName, StageEntry>> = {};
  for (const name of STAGE_NAMES) {
    if (stagesJson[name] !== undefined) stages[name] = parseStage(c, name, stagesJson[name]);
  }

  const sch = c.object(m.schedulers, 'schedulers');
  let alternatives: Record<string, SchedulerConfig> | undefined;
  if (m.scheduler_alternatives !== undefined) {
    const alt = c.object(m.scheduler_alternatives, 'scheduler_alternatives');
    alternatives = {};
    for (const [k, v] of Object.entries(alt)) alternatives[k] = c.scheduler(v, `scheduler_alternatives.${k}`);
  }

  return {
    format: BUNDLE_FORMAT,
    version: 1,
    name: c.string(m.name, 'name'),
    family: c.string(m.family, 'family'),
    description: m.description === undefined ? '' : typeof m.description === 'string' ? m.description : c.fail('description', 'a string', m.description),
    dtype: m.dtype === undefined ? 'float32' : c.dtype(m.dtype, 'dtype'),
    embedding_dim: c.int(m.embedding_dim, 'embedding_dim', 1),
    text: { max_length: c.int(text.max_length, 'text.max_length', 2), tokenizer: c.path(text.tokenizer, 'text.tokenizer') },
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
    ...(m.native_size !== undefined ? { native_size: nativeSize(c, m.native_size) } : {}),
  };
}

/** native_size: whole multiples of 64 (the decoder's granularity, as the frame sizes). */
function nativeSize(c: Checker, value: unknown): { width: number; height: number } {
  const o = c.object(value, 'native_size');
  const side = (v: unknown, field: string): number => {
    const n = c.int(v, field, 64);
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
