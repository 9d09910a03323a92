/** Request validation and normalisation: every bad parameter becomes a clear BAD_REQUEST. */
import { EngineError, ErrorCode } from '../errors.ts';
import {
  DEFAULTS, LIMITS, MODEL_FAMILIES, MODES, PREVIEW_MAX_SHARE, PRIOR_KINDS, SCHEDULER_KINDS,
  type FamilyDefaults, type FusionCondition, type GenerateRequest, type LinearPriorSource, type ModelFamily, type PreviewRequest, type PriorChoice, type RgbaImage,
} from '../protocol.ts';
import type { ExecutionProvider } from '../runtime/types.ts';

/** A request after normalisation: sizes rounded up to 64, defaults filled in. */
export type NormalisedRequest = GenerateRequest & { readonly warnings: readonly string[]; readonly preview?: Required<PreviewRequest> };

function bad(message: string): EngineError {
  return new EngineError(ErrorCode.BadRequest, message);
}

/** A short, safe description of any value for a message: never throws (String() does on
 *  `{"toString": 1}`, a valid JSON object) and never echoes a whole 100,000-character prompt. */
function describe(v: unknown): string {
  switch (typeof v) {
    case 'string': return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
    case 'number': case 'boolean': case 'bigint': case 'undefined': return String(v);
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
    case 'object': return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  }
}

/** A missing field takes its default; null does not (it is a wrong type, named in the error). */
function orDefault<T>(v: T | undefined, fallback: T): T {
  return v === undefined ? fallback : v;
}

/** A plain object's fields, or undefined for anything else (null, arrays, primitives). */
function record(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function integerIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) {
    throw bad(`${name} must be a whole number from ${min} to ${max}; got ${describe(v)}.`);
  }
  if (v < min || v > max) throw bad(`${name} must be from ${min} to ${max}; got ${v}.`);
  return v;
}

function numberIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${name} must be a number from ${min} to ${max}; got ${describe(v)}.`);
  if (v < min || v > max) throw bad(`${name} must be from ${min} to ${max}; got ${v}.`);
  return v;
}

function text(name: string, v: unknown): string {
  if (typeof v !== 'string') throw bad(`${name} must be text; got ${describe(v)}.`);
  if (v.length > LIMITS.maxPromptChars) throw bad(`${name} is ${v.length} characters long; the limit is ${LIMITS.maxPromptChars}.`);
  return v;
}

/** Round a side up to a multiple of 64, as the reference does, and check the limits. */
export function normaliseSide(name: string, v: unknown, warnings: string[]): number {
  const side = numberIn(name, v, 1, LIMITS.maxSide);
  const rounded = Math.max(LIMITS.minSide, Math.ceil(side / 64) * 64);
  if (rounded > LIMITS.maxSide) throw bad(`${name} ${side} rounds up to ${rounded}, beyond the limit of ${LIMITS.maxSide}.`);
  if (rounded !== side) warnings.push(`${name} ${side} was rounded up to ${rounded} (a multiple of 64).`);
  return rounded;
}

/** Width and height of a pixel buffer: whole numbers from 1 to `max`, or BAD_REQUEST. */
function pixelSize(name: string, w: unknown, h: unknown, max: number): { width: number; height: number } {
  if (typeof w !== 'number' || typeof h !== 'number' || !Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw bad(`${name} must have a whole-number width and height of at least 1; got ${describe(w)}×${describe(h)}.`);
  }
  if (w > max || h > max) throw bad(`${name} is ${w}×${h}; the largest accepted input is ${max} per side.`);
  return { width: w, height: h };
}

function checkImage(name: string, img: unknown): RgbaImage {
  const i = record(img);
  if (!i || !(i.data instanceof Uint8ClampedArray || i.data instanceof Uint8Array)) {
    throw bad(`${name} must be RGBA pixels {width, height, data: Uint8ClampedArray}; got ${describe(img)}.`);
  }
  const { width, height } = pixelSize(name, i.width, i.height, 4 * LIMITS.maxSide);
  if (i.data.length !== width * height * 4) {
    throw bad(`${name} has ${i.data.length} bytes; ${width}×${height} RGBA needs ${width * height * 4}.`);
  }
  return { width, height, data: i.data as Uint8ClampedArray };
}

/** A linear prior source's shape (W square, b its side, finite); the engine checks the side against the model. */
function checkLinearSource(v: unknown): LinearPriorSource {
  const l = v as { from?: unknown; id?: unknown; name?: unknown; weight?: unknown; bias?: unknown } | null;
  if (l?.from === 'bundle') return { from: 'bundle' };
  if (l?.from !== 'user') throw bad("prior.linear must be {from: 'bundle'} or {from: 'user', id, name, weight, bias}.");
  if (typeof l.id !== 'string' || typeof l.name !== 'string') throw bad('prior.linear needs the personal prior\'s id and name (text).');
  if (!(l.weight instanceof Float32Array) || !(l.bias instanceof Float32Array) || l.bias.length < 1 || l.weight.length !== l.bias.length ** 2) {
    throw bad('prior.linear needs weight (Float32Array D×D) and bias (Float32Array D).');
  }
  if (!l.weight.every(Number.isFinite) || !l.bias.every(Number.isFinite)) throw bad('prior.linear holds non-finite numbers (NaN or infinity).');
  const family = (l as { family?: unknown }).family;
  if (family !== undefined && typeof family !== 'string') throw bad(`prior.linear.family must be text; got ${describe(family)}.`);
  return { from: 'user', id: l.id, name: l.name, weight: l.weight, bias: l.bias, ...(family === undefined ? {} : { family }) };
}

/** The prior choice (default diffusion): a known kind, a linear source where the kind needs one, a blend weight in [0, 1]. */
function checkPrior(v: unknown): PriorChoice {
  if (v === undefined) return { kind: 'diffusion' };
  const c = v as { kind?: unknown; linear?: unknown; linearWeight?: unknown } | null;
  if (!c || typeof c !== 'object' || !(PRIOR_KINDS as readonly unknown[]).includes(c.kind)) {
    throw bad(`prior.kind must be one of ${PRIOR_KINDS.join(', ')}; got ${describe(c?.kind)}.`);
  }
  switch (c.kind as PriorChoice['kind']) {
    case 'diffusion': return { kind: 'diffusion' };
    case 'none': return { kind: 'none' };
    case 'linear': return { kind: 'linear', linear: checkLinearSource(c.linear) };
    case 'blend': return { kind: 'blend', linear: checkLinearSource(c.linear), linearWeight: numberIn('prior.linearWeight', c.linearWeight, 0, 1) };
  }
}

/** The request's optional family: one of MODEL_FAMILIES (the engine compares it with the loaded model's). */
function checkFamily(v: unknown): { family?: ModelFamily } {
  if (v === undefined) return {};
  if (!(MODEL_FAMILIES as readonly unknown[]).includes(v)) throw bad(`family must be one of ${MODEL_FAMILIES.join(', ')}; got ${describe(v)}.`);
  return { family: v as ModelFamily };
}

/** The request's optional preview pacing: every 1..maxSteps steps, a time share in (0, 1]. */
function checkPreview(v: unknown): { preview?: Required<PreviewRequest> } {
  if (v === undefined) return {};
  const p = record(v);
  if (!p) throw bad(`preview must be {every, maxShare?}; got ${describe(v)}.`);
  const every = integerIn('preview.every', p.every, 1, LIMITS.maxSteps);
  const maxShare = numberIn('preview.maxShare', p.maxShare === undefined ? PREVIEW_MAX_SHARE : p.maxShare, 0, 1);
  if (maxShare === 0) throw bad('preview.maxShare must be above 0 (leave preview out for no previews).');
  return { preview: { every, maxShare } };
}

/** Validate and normalise a request; throws EngineError(BAD_REQUEST) naming the bad field. Missing
 *  parameters take `defaults` (the loaded model's FAMILY_DEFAULTS row; Kandinsky 2.2's when not given). */
export function normaliseRequest(req: GenerateRequest, defaults: FamilyDefaults = DEFAULTS): NormalisedRequest {
  // Total over any structured-clone value: the wire does not enforce the types.
  if (!record(req)) throw bad(`The request must be an object; got ${describe(req)}.`);
  if (!MODES.includes(req.mode)) throw bad(`mode must be one of ${MODES.join(', ')}; got ${describe(req.mode)}.`);
  const warnings: string[] = [];
  const scheduler = orDefault(req.scheduler, defaults.scheduler);
  if (!SCHEDULER_KINDS.includes(scheduler)) throw bad(`scheduler must be one of ${SCHEDULER_KINDS.join(', ')}; got ${describe(scheduler)}.`);
  const common = {
    width: normaliseSide('width', orDefault(req.width, DEFAULTS.width), warnings),
    height: normaliseSide('height', orDefault(req.height, DEFAULTS.height), warnings),
    steps: integerIn('steps', orDefault(req.steps, defaults.steps), 1, LIMITS.maxSteps),
    guidance: numberIn('guidance', orDefault(req.guidance, defaults.guidance), 0, LIMITS.maxGuidance),
    // UnCLIP's schedule divides by (steps - 1), so the prior needs two steps at least.
    priorSteps: integerIn('priorSteps', orDefault(req.priorSteps, defaults.priorSteps), 2, LIMITS.maxPriorSteps),
    priorGuidance: numberIn('priorGuidance', orDefault(req.priorGuidance, defaults.priorGuidance), 0, LIMITS.maxGuidance),
    scheduler,
    seed: integerIn('seed', orDefault(req.seed, DEFAULTS.seed), 0, 2 ** 32 - 1),
    numImages: integerIn('numImages', orDefault(req.numImages, DEFAULTS.numImages), 1, LIMITS.maxImages),
    negativePrompt: text('negativePrompt', orDefault(req.negativePrompt, DEFAULTS.negativePrompt)),
    prior: checkPrior(req.prior),
    ...checkFamily(req.family),
    ...checkPreview(req.preview),
  };
  switch (req.mode) {
    case 'text2img':
      return { ...common, mode: 'text2img', prompt: text('prompt', req.prompt), warnings };
    case 'img2img': {
      const image = checkImage('image', req.image);
      const strength = numberIn('strength', orDefault(req.strength, DEFAULTS.strength), 0, 1);
      if (Math.floor(common.steps * strength) < 1) {
        throw bad(`strength ${strength} with ${common.steps} steps re-runs no step (needs steps × strength ≥ 1).`);
      }
      return { ...common, mode: 'img2img', prompt: text('prompt', req.prompt), image, strength, warnings };
    }
    case 'inpaint': {
      const image = checkImage('image', req.image);
      const m = record(req.mask);
      const maskShape = 'mask must be {width, height, data: Uint8Array} with one byte per pixel (255 = repaint)';
      if (!m || !(m.data instanceof Uint8Array)) throw bad(`${maskShape}; got ${describe(req.mask)}.`);
      const maskSize = pixelSize('mask', m.width, m.height, 4 * LIMITS.maxSide);
      if (m.data.length !== maskSize.width * maskSize.height) throw bad(`${maskShape}; got ${m.data.length} bytes for ${maskSize.width}×${maskSize.height}.`);
      if (image.width !== common.width || image.height !== common.height || maskSize.width !== common.width || maskSize.height !== common.height) {
        throw bad(`image (${image.width}×${image.height}) and mask (${maskSize.width}×${maskSize.height}) must both be ${common.width}×${common.height}, the output size.`);
      }
      return { ...common, mode: 'inpaint', prompt: text('prompt', req.prompt), image, mask: { ...maskSize, data: m.data }, warnings };
    }
    case 'fusion': {
      const given: readonly unknown[] | null = Array.isArray(req.conditions) ? req.conditions : null;
      if (!given || given.length === 0) throw bad(`fusion needs at least one text or image condition; got ${describe(req.conditions)}.`);
      if (given.length > LIMITS.maxFusionConditions) {
        throw bad(`fusion takes at most ${LIMITS.maxFusionConditions} conditions; got ${given.length}.`);
      }
      // A for loop, not map: map skips holes in a sparse array.
      const conditions: FusionCondition[] = [];
      for (let i = 0; i < given.length; i++) conditions.push(fusionCondition(i, given[i], warnings));
      if (conditions.every((c) => c.weight === 0)) throw bad('All fusion weights are zero: give at least one condition a weight.');
      return { ...common, mode: 'fusion', conditions, warnings };
    }
    case 'variations':
      return { ...common, mode: 'variations', image: checkImage('image', req.image), warnings };
  }
}

/** One fusion condition, rebuilt from its checked fields (nothing else is carried). */
function fusionCondition(i: number, value: unknown, warnings: string[]): FusionCondition {
  const c = record(value);
  if (!c) throw bad(`conditions[${i}] must be {kind: 'text', prompt, weight} or {kind: 'image', image, weight}; got ${describe(value)}.`);
  const weight = numberIn(`conditions[${i}].weight`, c.weight, -100, 100);
  if (weight < 0) warnings.push(`conditions[${i}] has a negative weight (${weight}): allowed, as in the reference, but unusual.`);
  switch (c.kind) {
    case 'text': return { kind: 'text', prompt: text(`conditions[${i}].prompt`, c.prompt), weight };
    case 'image': {
      const image = checkImage(`conditions[${i}].image`, c.image);
      if (c.id === undefined) return { kind: 'image', image, weight };
      if (typeof c.id !== 'string' || c.id.length > 256) throw bad(`conditions[${i}].id must be text of at most 256 characters; got ${describe(c.id)}.`);
      return { kind: 'image', image, weight, id: c.id };
    }
    default: throw bad(`conditions[${i}].kind must be 'text' or 'image'; got ${describe(c.kind)}.`);
  }
}

/** The CPU (wasm) path's size limit (LIMITS.maxWasmPixels), checked before anything runs: past it
 *  the UNet's attention cannot be allocated in wasm's 4 GiB, and onnxruntime fails mid-run. */
export function checkSizeOn(ep: ExecutionProvider, width: number, height: number): void {
  if (ep !== 'wasm' || width * height <= LIMITS.maxWasmPixels) return;
  const side = Math.floor(Math.sqrt(LIMITS.maxWasmPixels));
  throw bad(`${width}×${height} is too large for the CPU (wasm) path, which supports up to ${LIMITS.maxWasmPixels.toLocaleString('en')} pixels `
    + `(${side}×${side}; its memory is 4 GiB). Use WebGPU or a smaller size.`);
}
