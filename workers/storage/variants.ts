/**
 * Variants: one model offered in several builds (say fp16 compute, fp16 weights with fp32 compute, int8).
 * A source lists them in `variants.json` next to one folder per variant (format in README, "Models and
 * offline use"); we pick the first, in the file's order of preference, whose requirements this device meets.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import { bundlePathProblem } from '../runtime/bundle-path.ts';
import { GPU_ADAPTER_OPTIONS } from '../runtime/types.ts';
import { VARIANT_REQUIREMENTS, type GpuFacts, type VariantChoice, type VariantOption, type VariantRequirement } from './protocol.ts';

/** `format` of a variants.json. */
export const VARIANTS_FORMAT = 'kandinsky-onnx-variants';
/** Versions of variants.json this app reads. */
export const VARIANTS_VERSION = 1;

/** One entry of variants.json. */
export interface VariantEntry {
  readonly id: string;
  /** Folder of this variant's manifest.json, relative to variants.json ("fp16/"). */
  readonly path: string;
  readonly label: string;
  readonly requires: readonly string[];
  /** Total size, when the host says (shown before download). */
  readonly bytes: number | null;
}

/** A parsed variants.json. */
export interface VariantsFile {
  readonly name: string;
  readonly description: string;
  readonly variants: readonly VariantEntry[];
}

function bad(message: string, field?: string): EngineError {
  return new EngineError(ErrorCode.BadManifest, `variants.json: ${message}`, { file: 'variants.json', ...(field !== undefined ? { expected: field } : {}) });
}

/** Parse and check a variants.json document (already JSON-parsed). Throws BAD_MANIFEST with the reason. */
export function parseVariants(json: unknown): VariantsFile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('expected a JSON object.');
  const o = json as Record<string, unknown>;
  if (o.format !== VARIANTS_FORMAT) throw bad(`expected "format": "${VARIANTS_FORMAT}", found ${JSON.stringify(o.format)}.`);
  if (o.version !== VARIANTS_VERSION) {
    throw bad(`this app reads version ${VARIANTS_VERSION}, the file is version ${JSON.stringify(o.version)}: update the app or use a matching source.`);
  }
  if (!Array.isArray(o.variants) || o.variants.length === 0) throw bad('expected a non-empty "variants" array.');
  const seen = new Set<string>();
  const variants = o.variants.map((v: unknown, i): VariantEntry => {
    if (typeof v !== 'object' || v === null) throw bad(`variants[${i}] is not an object.`);
    const e = v as Record<string, unknown>;
    if (typeof e.id !== 'string' || !/^[A-Za-z0-9._-]+$/.test(e.id)) throw bad(`variants[${i}].id must be a string of letters, digits, ".", "_" or "-".`);
    if (seen.has(e.id)) throw bad(`variant id "${e.id}" appears twice.`);
    seen.add(e.id);
    const problem = typeof e.path === 'string' ? bundlePathProblem(e.path, 'folder') : 'it is not a string';
    if (problem !== null) {
      throw bad(`variants[${i}].path must be a relative folder inside the source (like "fp16/"), but ${problem}: found ${JSON.stringify(e.path)}.`, `variants[${i}].path`);
    }
    const path = e.path as string;
    const requires = e.requires ?? [];
    if (!Array.isArray(requires) || requires.some((r) => typeof r !== 'string')) throw bad(`variants[${i}].requires must be an array of strings.`);
    const bytes = e.bytes === undefined ? null : e.bytes;
    if (bytes !== null && (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0)) throw bad(`variants[${i}].bytes must be a size in bytes.`);
    return {
      id: e.id,
      path: path.endsWith('/') ? path : `${path}/`,
      label: typeof e.label === 'string' && e.label !== '' ? e.label : e.id,
      requires: requires as string[],
      bytes,
    };
  });
  return {
    name: typeof o.name === 'string' ? o.name : '',
    description: typeof o.description === 'string' ? o.description : '',
    variants,
  };
}

function isKnown(r: string): r is VariantRequirement {
  return (VARIANT_REQUIREMENTS as readonly string[]).includes(r);
}

/** Why a variant can or cannot run here. */
export function judgeVariant(v: VariantEntry, gpu: GpuFacts): VariantOption {
  const missing: string[] = [];
  for (const r of v.requires) {
    if (!isKnown(r)) { missing.push(`"${r}" (a requirement this app does not know: update the app)`); continue; }
    switch (r) {
      case 'webgpu':
        if (!gpu.webgpu) missing.push('WebGPU (not available in this browser)');
        break;
      case 'shader-f16':
        if (!gpu.shaderF16) missing.push(gpu.webgpu ? 'shader-f16 (this GPU computes in fp32 only)' : 'shader-f16 (needs WebGPU)');
        break;
    }
  }
  const usable = missing.length === 0;
  const why = usable
    ? (v.requires.length === 0 ? 'no special requirements' : `this device has ${v.requires.join(' and ')}`)
    : `needs ${missing.join(', ')}`;
  return { id: v.id, label: v.label, usable, why };
}

/**
 * Pick a variant: `forced` if given (and usable), else the first usable one in the file's order.
 * Throws UNSUPPORTED when nothing fits, BAD_REQUEST for an unknown forced id.
 */
export function chooseVariant(file: VariantsFile, gpu: GpuFacts, forced?: string): { entry: VariantEntry; choice: VariantChoice } {
  const options = file.variants.map((v) => judgeVariant(v, gpu));
  const pick = (index: number, reason: string) => {
    const entry = file.variants[index]!;
    return { entry, choice: { id: entry.id, label: entry.label, reason, options } };
  };
  if (forced !== undefined) {
    const i = file.variants.findIndex((v) => v.id === forced);
    if (i < 0) {
      throw new EngineError(ErrorCode.BadRequest, `No variant "${forced}" in this source; it offers ${file.variants.map((v) => `"${v.id}"`).join(', ')}.`);
    }
    const o = options[i]!;
    if (!o.usable) throw new EngineError(ErrorCode.Unsupported, `Variant "${forced}" cannot run here: it ${o.why}. Choose another variant.`);
    return pick(i, `chosen by you (${o.why})`);
  }
  const i = options.findIndex((o) => o.usable);
  if (i < 0) {
    throw new EngineError(
      ErrorCode.Unsupported,
      `None of this model's variants can run on this device: ${options.map((o) => `${o.id} ${o.why}`).join('; ')}.`,
    );
  }
  const skipped = options.slice(0, i).map((o) => `${o.id} ${o.why}`);
  const reason = skipped.length === 0
    ? `first choice of the source; ${options[i]!.why}`
    : `${skipped.join('; ')}; so ${options[i]!.id}: ${options[i]!.why}`;
  return pick(i, reason);
}

/**
 * Probe WebGPU in this context (window or worker): the adapter the engine will run on (GPU_ADAPTER_OPTIONS).
 * It used to ask for the default adapter while the engine asks for the high-performance one, so a dual-GPU
 * machine could pick the fp16 variant for a GPU it would not run on. Never throws.
 */
export async function detectGpu(): Promise<GpuFacts> {
  try {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return { webgpu: false, shaderF16: false, adapter: '' };
    const adapter = await gpu.requestAdapter(GPU_ADAPTER_OPTIONS);
    if (!adapter) return { webgpu: false, shaderF16: false, adapter: '' };
    const info = adapter.info;
    const name = info ? [info.vendor, info.architecture, info.description].filter((s) => s).join(' ') : '';
    return { webgpu: true, shaderF16: adapter.features.has('shader-f16'), adapter: name };
  } catch {
    return { webgpu: false, shaderF16: false, adapter: '' };
  }
}
