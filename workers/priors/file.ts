/**
 * The linear prior file (README "Prior kinds"), one format for a bundle's `linear_prior` and for a
 * personal prior's export: "KWLP", uint32 LE version (1), uint32 LE header length, a UTF-8 JSON header,
 * zero padding to a multiple of 4 bytes, then float32 LE W [embedding_dim × text_dim] (row-major,
 * row i gives output i) and b [embedding_dim]. W maps raw CLIP `text_embeds` into the diffusion prior's
 * normalised image space: image_emb = (W · text_emb + b) · clip_std + clip_mean.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import { isModelFamily } from '../runtime/stage-io.ts';

/** File magic. */
export const LINEAR_PRIOR_MAGIC = 'KWLP';
export const LINEAR_PRIOR_VERSION = 1;
/** The only space a file may declare: raw text_embeds in, normalised image embedding out. */
export const LINEAR_PRIOR_SPACE = 'text_embeds->normalised_image_embeds';

/** The JSON header. Fit statistics are absent for priors not fitted in the browser. */
export interface LinearPriorHeader {
  readonly format: 'kandinsky-linear-prior';
  readonly version: 1;
  readonly name: string;
  /** Model family the prior was fitted for (manifest `family`), e.g. "kandinsky-2.2". */
  readonly family: string;
  readonly embedding_dim: number;
  readonly text_dim: number;
  readonly space: typeof LINEAR_PRIOR_SPACE;
  readonly lambda?: number;
  readonly loo_error?: number;
  readonly baseline_error?: number;
  readonly num_images?: number;
  /** SHA-256 (hex) of each source image's RGBA pixels, in fit order. */
  readonly image_hashes?: readonly string[];
  readonly captions?: 'shared' | 'per-image';
  readonly created_at?: string;
}

/** A parsed linear prior. */
export interface LinearPriorFile {
  readonly header: LinearPriorHeader;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

const MAX_DIM = 8192;

function bad(message: string, expected?: string, actual?: string): EngineError {
  return new EngineError(ErrorCode.BadPriorFile, message, {
    ...(expected === undefined ? {} : { expected }), ...(actual === undefined ? {} : { actual }),
  });
}

/** Encode a linear prior as a file. */
export function encodeLinearPrior(file: LinearPriorFile): Uint8Array {
  const { header, weight, bias } = file;
  if (weight.length !== header.embedding_dim * header.text_dim || bias.length !== header.embedding_dim) {
    throw new RangeError(`encodeLinearPrior: W has ${weight.length} values and b ${bias.length}; the header says ${header.embedding_dim}×${header.text_dim}`);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const dataStart = 12 + json.length + pad;
  const out = new Uint8Array(dataStart + 4 * (weight.length + bias.length));
  out.set(new TextEncoder().encode(LINEAR_PRIOR_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, LINEAR_PRIOR_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let o = dataStart;
  for (const v of weight) { view.setFloat32(o, v, true); o += 4; }
  for (const v of bias) { view.setFloat32(o, v, true); o += 4; }
  return out;
}

function dim(h: Record<string, unknown>, key: string): number {
  const v = h[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DIM) {
    throw bad(`The prior file's header has no valid "${key}" (a whole number from 1 to ${MAX_DIM}).`, key, String(v));
  }
  return v;
}

/** Parse and validate a linear prior file; BAD_PRIOR_FILE says what is wrong. */
export function decodeLinearPrior(bytes: Uint8Array): LinearPriorFile {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== LINEAR_PRIOR_MAGIC) {
    throw bad('This is not a linear prior file (it does not start with "KWLP").', 'a .kwlp file exported by Kandinsky Web');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== LINEAR_PRIOR_VERSION) {
    throw bad(`This prior file is version ${version}; this app reads version ${LINEAR_PRIOR_VERSION}. Update the app.`, `version ${LINEAR_PRIOR_VERSION}`, `version ${version}`);
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad('The prior file is truncated (its header runs past the end).');
  let header: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    header = parsed as Record<string, unknown>;
  } catch (e) {
    throw bad(`The prior file's header is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (header.format !== 'kandinsky-linear-prior') throw bad('The prior file\'s header is not of format "kandinsky-linear-prior".', 'kandinsky-linear-prior', String(header.format));
  if (header.space !== LINEAR_PRIOR_SPACE) throw bad(`The prior file maps ${String(header.space)}; this app reads only ${LINEAR_PRIOR_SPACE}.`, LINEAR_PRIOR_SPACE, String(header.space));
  if (typeof header.name !== 'string' || typeof header.family !== 'string') throw bad('The prior file\'s header needs a "name" and a "family".');
  const D = dim(header, 'embedding_dim');
  const T = dim(header, 'text_dim');
  const dataStart = 12 + headerLength + ((4 - ((12 + headerLength) % 4)) % 4);
  const expected = dataStart + 4 * (D * T + D);
  if (bytes.length !== expected) {
    throw bad(`The prior file should hold ${D}×${T} weights and ${D} biases (${expected} bytes) but has ${bytes.length} bytes: it is truncated or damaged.`, `${expected} bytes`, `${bytes.length} bytes`);
  }
  const values = new Float32Array(D * T + D);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(dataStart + 4 * i, true);
  if (!values.every(Number.isFinite)) throw bad('The prior file holds non-finite numbers (NaN or infinity): it is damaged.');
  return { header: { ...header, version: 1 } as unknown as LinearPriorHeader, weight: values.subarray(0, D * T), bias: values.subarray(D * T) };
}

/** Refuse a prior whose dimensions differ from the loaded model's (BAD_PRIOR_FILE naming both). */
export function checkPriorFitsModel(header: Pick<LinearPriorHeader, 'name' | 'embedding_dim' | 'text_dim' | 'family'>, model: { embeddingDim: number; family: string; name: string }): void {
  // Priors map one CLIP's embeddings (2.1: ViT-L/14, 2.2: ViT-bigG/14): a known family other than the model's does not fit,
  // whatever its size. Free-text families (older files, "another model") are judged by size alone.
  if (isModelFamily(header.family) && isModelFamily(model.family) && header.family !== model.family) {
    throw bad(
      `The prior "${header.name}" was fitted on a ${header.family} model, but the loaded model "${model.name}" is ${model.family}. Use it with a ${header.family} model.`,
      `family ${model.family}`, `family ${header.family}`,
    );
  }
  if (header.embedding_dim !== model.embeddingDim || header.text_dim !== model.embeddingDim) {
    throw bad(
      `The prior "${header.name}" maps ${header.text_dim}-d text embeddings to ${header.embedding_dim}-d image embeddings, but the loaded model "${model.name}" (${model.family}) uses ${model.embeddingDim}-d embeddings. Use it with a ${header.family} model of that size.`,
      `${model.embeddingDim}×${model.embeddingDim}`, `${header.embedding_dim}×${header.text_dim}`,
    );
  }
}
