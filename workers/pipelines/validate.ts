/** Request validation and normalisation: every bad parameter becomes a clear BAD_REQUEST. */
import { EngineError, ErrorCode } from '../errors.ts';
import { DEFAULTS, LIMITS, MODES, PRIOR_KINDS, SCHEDULER_KINDS, type GenerateRequest, type LinearPriorSource, type PriorChoice, type RgbaImage } from '../protocol.ts';

/** A request after normalisation: sizes rounded up to 64, defaults filled in. */
export type NormalisedRequest = GenerateRequest & { readonly warnings: readonly string[] };

function bad(message: string): EngineError {
  return new EngineError(ErrorCode.BadRequest, message);
}

function integerIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) {
    throw bad(`${name} must be a whole number from ${min} to ${max}; got ${String(v)}.`);
  }
  if (v < min || v > max) throw bad(`${name} must be from ${min} to ${max}; got ${v}.`);
  return v;
}

function numberIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${name} must be a number from ${min} to ${max}; got ${String(v)}.`);
  if (v < min || v > max) throw bad(`${name} must be from ${min} to ${max}; got ${v}.`);
  return v;
}

function text(name: string, v: unknown): string {
  if (typeof v !== 'string') throw bad(`${name} must be text; got ${typeof v}.`);
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

function checkImage(name: string, img: unknown): RgbaImage {
  const i = img as Partial<RgbaImage> | null;
  if (!i || typeof i !== 'object' || !(i.data instanceof Uint8ClampedArray || (i.data as unknown) instanceof Uint8Array)
    || !Number.isInteger(i.width) || !Number.isInteger(i.height) || (i.width ?? 0) < 1 || (i.height ?? 0) < 1) {
    throw bad(`${name} must be RGBA pixels {width, height, data}.`);
  }
  if (i.data!.length !== i.width! * i.height! * 4) {
    throw bad(`${name} has ${i.data!.length} bytes; ${i.width}×${i.height} RGBA needs ${i.width! * i.height! * 4}.`);
  }
  if (i.width! > 4 * LIMITS.maxSide || i.height! > 4 * LIMITS.maxSide) {
    throw bad(`${name} is ${i.width}×${i.height}; the largest accepted input is ${4 * LIMITS.maxSide} per side.`);
  }
  return i as RgbaImage;
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
  return { from: 'user', id: l.id, name: l.name, weight: l.weight, bias: l.bias };
}

/** The prior choice (default diffusion): a known kind, a linear source where the kind needs one, a blend weight in [0, 1]. */
function checkPrior(v: unknown): PriorChoice {
  if (v === undefined) return { kind: 'diffusion' };
  const c = v as { kind?: unknown; linear?: unknown; linearWeight?: unknown } | null;
  if (!c || typeof c !== 'object' || !(PRIOR_KINDS as readonly unknown[]).includes(c.kind)) {
    throw bad(`prior.kind must be one of ${PRIOR_KINDS.join(', ')}; got ${String(c?.kind)}.`);
  }
  switch (c.kind as PriorChoice['kind']) {
    case 'diffusion': return { kind: 'diffusion' };
    case 'none': return { kind: 'none' };
    case 'linear': return { kind: 'linear', linear: checkLinearSource(c.linear) };
    case 'blend': return { kind: 'blend', linear: checkLinearSource(c.linear), linearWeight: numberIn('prior.linearWeight', c.linearWeight, 0, 1) };
  }
}

/** Validate and normalise a request; throws EngineError(BAD_REQUEST) naming the bad field. */
export function normaliseRequest(req: GenerateRequest): NormalisedRequest {
  if (!req || typeof req !== 'object') throw bad('The request must be an object.');
  if (!MODES.includes(req.mode)) throw bad(`mode must be one of ${MODES.join(', ')}; got ${String(req.mode)}.`);
  const warnings: string[] = [];
  const scheduler = req.scheduler ?? DEFAULTS.scheduler;
  if (!SCHEDULER_KINDS.includes(scheduler)) throw bad(`scheduler must be one of ${SCHEDULER_KINDS.join(', ')}; got ${String(scheduler)}.`);
  const common = {
    width: normaliseSide('width', req.width ?? DEFAULTS.width, warnings),
    height: normaliseSide('height', req.height ?? DEFAULTS.height, warnings),
    steps: integerIn('steps', req.steps ?? DEFAULTS.steps, 1, LIMITS.maxSteps),
    guidance: numberIn('guidance', req.guidance ?? DEFAULTS.guidance, 0, LIMITS.maxGuidance),
    // UnCLIP's schedule divides by (steps - 1), so the prior needs two steps at least.
    priorSteps: integerIn('priorSteps', req.priorSteps ?? DEFAULTS.priorSteps, 2, LIMITS.maxPriorSteps),
    priorGuidance: numberIn('priorGuidance', req.priorGuidance ?? DEFAULTS.priorGuidance, 0, LIMITS.maxGuidance),
    scheduler,
    seed: integerIn('seed', req.seed ?? DEFAULTS.seed, 0, 2 ** 32 - 1),
    numImages: integerIn('numImages', req.numImages ?? DEFAULTS.numImages, 1, LIMITS.maxImages),
    negativePrompt: text('negativePrompt', req.negativePrompt ?? DEFAULTS.negativePrompt),
    prior: checkPrior(req.prior),
  };
  switch (req.mode) {
    case 'text2img':
      return { ...common, mode: 'text2img', prompt: text('prompt', req.prompt), warnings };
    case 'img2img': {
      const image = checkImage('image', req.image);
      const strength = numberIn('strength', req.strength ?? DEFAULTS.strength, 0, 1);
      if (Math.floor(common.steps * strength) < 1) {
        throw bad(`strength ${strength} with ${common.steps} steps re-runs no step (needs steps × strength ≥ 1).`);
      }
      return { ...common, mode: 'img2img', prompt: text('prompt', req.prompt), image, strength, warnings };
    }
    case 'inpaint': {
      const image = checkImage('image', req.image);
      const m = req.mask as { width?: unknown; height?: unknown; data?: unknown } | null;
      if (!m || !(m.data instanceof Uint8Array) || m.data.length !== (m.width as number) * (m.height as number)) {
        throw bad('mask must be {width, height, data: Uint8Array} with one byte per pixel (255 = repaint).');
      }
      if (image.width !== common.width || image.height !== common.height || m.width !== common.width || m.height !== common.height) {
        throw bad(`image (${image.width}×${image.height}) and mask (${String(m.width)}×${String(m.height)}) must both be ${common.width}×${common.height}, the output size.`);
      }
      return { ...common, mode: 'inpaint', prompt: text('prompt', req.prompt), image, mask: req.mask, warnings };
    }
    case 'fusion': {
      if (!Array.isArray(req.conditions) || req.conditions.length === 0) throw bad('fusion needs at least one text or image condition.');
      const conditions = req.conditions.map((c, i) => {
        const weight = numberIn(`conditions[${i}].weight`, c.weight, -100, 100);
        if (weight < 0) warnings.push(`conditions[${i}] has a negative weight (${weight}): allowed, as in the reference, but unusual.`);
        switch (c.kind) {
          case 'text': return { kind: 'text' as const, prompt: text(`conditions[${i}].prompt`, c.prompt), weight };
          case 'image': return { ...c, image: checkImage(`conditions[${i}].image`, c.image), weight };
          default: throw bad(`conditions[${i}].kind must be 'text' or 'image'.`);
        }
      });
      if (conditions.every((c) => c.weight === 0)) throw bad('All fusion weights are zero: give at least one condition a weight.');
      return { ...common, mode: 'fusion', conditions, warnings };
    }
    case 'variations':
      return { ...common, mode: 'variations', image: checkImage('image', req.image), warnings };
  }
}
