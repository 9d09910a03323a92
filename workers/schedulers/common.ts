/**
 * Shared pieces of the diffusers-style schedulers: config reading, beta schedules, numpy-style
 * timestep helpers and argument checks. Pure math on plain numbers and Float32Arrays.
 *
 * Precision: the reference (diffusers on PyTorch, CPU) keeps betas, alphas and alphas_cumprod in
 * float32. We reproduce those tables bit for bit where we can (Math.fround after each float32
 * operation; cumprod accumulates in float64 and rounds each entry, as PyTorch's CPU kernel does).
 * This matters: e.g. UnCLIP's last step scales x̂_0 by betas[0]/(1 − ᾱ_0), which is 0.99947 in
 * float32 (1 − fl(1 − β_0) ≠ β_0) but 1 in float64 — a 9e-4 error on the prior's output embedding,
 * above its 1e-4 tolerance. The per-step scalar coefficients also follow the reference's float32
 * expressions (`f32` after each operation, in its order); that changed the golden latents by under
 * 1e-5. Element-wise updates run in float64 and are rounded once to float32.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import type { LinearStep, SchedulerConfig, StepArgs, StepResult } from './types.ts';

/** Beta schedules we implement (diffusers `beta_schedule`). */
export const BetaSchedule = {
  Linear: 'linear',
  ScaledLinear: 'scaled_linear',
  SquaredCosCapV2: 'squaredcos_cap_v2',
} as const;
export type BetaSchedule = (typeof BetaSchedule)[keyof typeof BetaSchedule];

/** How inference timesteps are spread over the training range (diffusers `timestep_spacing`,
 *  Table 2 of Lin et al., "Common Diffusion Noise Schedules and Sample Steps are Flawed"). */
export const TimestepSpacing = {
  Leading: 'leading',
  Trailing: 'trailing',
  Linspace: 'linspace',
} as const;
export type TimestepSpacing = (typeof TimestepSpacing)[keyof typeof TimestepSpacing];

/** What the model predicts (diffusers `prediction_type`). */
export const PredictionType = {
  Epsilon: 'epsilon',
  Sample: 'sample',
  VPrediction: 'v_prediction',
} as const;
export type PredictionType = (typeof PredictionType)[keyof typeof PredictionType];

/** Bounds on scheduler config numbers, checked when a manifest is parsed (README "Manifest bounds").
 *  Every Kandinsky 2.x scheduler trains on 1000 timesteps; the noise tables are that long. */
export const SCHEDULER_BOUNDS = {
  maxTrainTimesteps: 10_000,
} as const;

/** Round to float32: mirrors one float32 operation of the reference. */
export const f32 = Math.fround;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return String(v);
}

function configError(className: string, key: string, expected: string, actual: unknown, hint: string): EngineError {
  return new EngineError(
    ErrorCode.BadManifest,
    `${className} config: ${key} is ${show(actual)}, expected ${expected}. ${hint}`,
    { expected: `${key}: ${expected}`, actual: `${key}: ${show(actual)}` },
  );
}

/**
 * Reads one diffusers scheduler config with the class's defaults. Absent or null keys take the
 * default; keys we do not know are ignored (as diffusers does). Wrong types and values we do not
 * implement throw EngineError(BAD_MANIFEST) naming the key, the allowed values and what to do.
 */
export class ConfigReader {
  constructor(
    readonly className: string,
    private readonly config: SchedulerConfig,
  ) {}

  private raw(key: string): unknown {
    const v = this.config[key];
    return v === null ? undefined : v;
  }

  /** A finite number, or ±Infinity written as a number or as the strings "Infinity"/"-Infinity"
   *  (golden files and manifests are strict JSON) when `allowInfinite`. */
  number(key: string, fallback: number, allowInfinite = false): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    let x: number = Number.NaN;
    if (typeof v === 'number') x = v;
    else if (typeof v === 'string' && allowInfinite && (v === 'Infinity' || v === '-Infinity')) x = Number(v);
    if (Number.isNaN(x) || (!allowInfinite && !Number.isFinite(x))) {
      const expected = allowInfinite ? 'a number (or "Infinity"/"-Infinity")' : 'a finite number';
      throw configError(this.className, key, expected, v, 'Fix the scheduler config in the manifest.');
    }
    return x;
  }

  /** An integer in min..max. */
  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const x = this.number(key, fallback);
    if (!Number.isInteger(x) || x < min) {
      throw configError(this.className, key, `an integer ≥ ${min}`, x, 'Fix the scheduler config in the manifest.');
    }
    if (x > max) throw configError(this.className, key, `an integer ≤ ${max}`, x, 'Fix the scheduler config in the manifest.');
    return x;
  }

  /** A finite number inside (lo, hi), both ends open. */
  between(key: string, fallback: number, lo: number, hi: number): number {
    const x = this.number(key, fallback);
    if (!(x > lo && x < hi)) {
      throw configError(this.className, key, `a number between ${lo} and ${hi} (exclusive)`, x, 'Fix the scheduler config in the manifest.');
    }
    return x;
  }

  /** num_train_timesteps, bounded by SCHEDULER_BOUNDS (every table is built at this length). */
  trainTimesteps(): number {
    return this.integer('num_train_timesteps', 1000, 1, SCHEDULER_BOUNDS.maxTrainTimesteps);
  }

  /** steps_offset: a shift inside the training range (diffusers' "leading" spacing adds it to every timestep). */
  stepsOffset(numTrainTimesteps: number): number {
    return this.integer('steps_offset', 0, 0, numTrainTimesteps - 1);
  }

  /** clip_sample_range when clip_sample is on (else Infinity): a positive finite bound on x̂_0. */
  clipRange(): number {
    return this.boolean('clip_sample', true) ? this.between('clip_sample_range', 1, 0, Infinity) : Infinity;
  }

  /** A boolean. */
  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      throw configError(this.className, key, 'true or false', v, 'Fix the scheduler config in the manifest.');
    }
    return v;
  }

  /** One of `allowed` (the values this implementation supports). */
  choice<T extends string | number>(key: string, fallback: T, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(v)) {
      throw configError(this.className, key, `one of ${allowed.map(show).join(', ')}`, v,
        'Other values are not supported here: use a supported value or another scheduler.');
    }
    return v as T;
  }

  /** Values that diffusers accepts but we do not implement, with the reason. */
  forbid(key: string, forbidden: readonly string[], why: string): void {
    const v = this.raw(key);
    if (typeof v === 'string' && forbidden.includes(v)) {
      throw configError(this.className, key, `none of ${forbidden.map(show).join(', ')}`, v, why);
    }
  }

  /** Options we do not implement must keep their diffusers default (e.g. thresholding: false). */
  requireDefault(key: string, expected: boolean): void {
    if (this.boolean(key, expected) !== expected) {
      throw configError(this.className, key, String(expected), !expected,
        'This option is not supported here: remove it from the scheduler config or use another scheduler.');
    }
  }

  /** Optional `trained_betas`: an array of numbers in (0, 1), one per training timestep. */
  trainedBetas(numTrainTimesteps: number): Float32Array | undefined {
    const v = this.raw('trained_betas');
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== numTrainTimesteps
      || !v.every((b) => typeof b === 'number' && b > 0 && b < 1)) {
      throw configError(this.className, 'trained_betas', `null or ${numTrainTimesteps} numbers in (0, 1)`, v,
        'Fix the scheduler config in the manifest.');
    }
    return Float32Array.from(v as number[]);
  }
}

/** Float32 tables every DDPM-family scheduler derives from its betas. */
export interface NoiseTables {
  readonly betas: Float32Array;
  /** alpha_t = 1 - beta_t. */
  readonly alphas: Float32Array;
  /** ᾱ_t = prod_{s<=t} alpha_s (DDPM eq. 4). */
  readonly alphasCumprod: Float32Array;
}

/** torch.linspace(start, end, steps, dtype=float32) on the CPU, bit for bit: start and end rounded to
 *  float32, float32 step, the first half counted up from start and the second half down from end. */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const f = f32;
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  }
  return out;
}

/** The "squaredcos_cap_v2" betas: ᾱ(t) = cos²((t + 0.008)/1.008 · π/2) discretised as
 *  beta_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999) (Nichol & Dhariwal, "Improved DDPM", eq. 17),
 *  computed in float64 and stored as float32 like diffusers' betas_for_alpha_bar. */
export function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float32Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    out[i] = Math.min(1 - alphaBar((i + 1) / numTrainTimesteps) / alphaBar(i / numTrainTimesteps), maxBeta);
  }
  return out;
}

/** Betas for a config: trained_betas if given, else the named schedule. */
export function betasFromConfig(
  reader: ConfigReader,
  numTrainTimesteps: number,
  defaults: { readonly betaStart: number; readonly betaEnd: number; readonly schedule: BetaSchedule },
  allowed: readonly BetaSchedule[] = Object.values(BetaSchedule),
): Float32Array {
  const trained = reader.trainedBetas(numTrainTimesteps);
  if (trained) return trained;
  const schedule = reader.choice('beta_schedule', defaults.schedule, allowed);
  // Betas are probabilities of a step's noise: outside (0, 1) the tables hold 1/0 or NaN (DDPM eq. 2).
  const betaStart = reader.between('beta_start', defaults.betaStart, 0, 1);
  const betaEnd = reader.between('beta_end', defaults.betaEnd, 0, 1);
  switch (schedule) {
    case BetaSchedule.Linear:
      return linspaceF32(betaStart, betaEnd, numTrainTimesteps);
    case BetaSchedule.ScaledLinear: {
      // Latent-diffusion schedule: linear in sqrt(beta), then squared (in float32).
      const roots = linspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps);
      return roots.map((r) => f32(r * r));
    }
    case BetaSchedule.SquaredCosCapV2:
      return cosineBetas(numTrainTimesteps);
    default: {
      const never: never = schedule;
      throw new Error(`unreachable beta schedule ${String(never)}`);
    }
  }
}

/** alphas = 1 − betas (float32) and their cumulative product (float64 accumulator, float32 entries). */
export function noiseTables(betas: Float32Array): NoiseTables {
  const alphas = betas.map((b) => f32(1 - b));
  const alphasCumprod = new Float32Array(alphas.length);
  let acc = 1;
  for (let i = 0; i < alphas.length; i++) {
    acc *= alphas[i]!;
    alphasCumprod[i] = acc;
  }
  return { betas, alphas, alphasCumprod };
}

/** numpy's round(): halves go to the even neighbour (np.round(2.5) = 2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Timesteps for `n` steps with diffusers' DDPM/DDIM rules (set_timesteps), descending:
 *  linspace: round(linspace(0, T−1, n)); leading: arange(n)·(T // n) + steps_offset;
 *  trailing: round(arange(T, 0, −T/n)) − 1. */
export function spacedTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  switch (spacing) {
    case TimestepSpacing.Linspace:
      return linspaceF64(0, numTrain - 1, n).map(roundHalfEven).reverse();
    case TimestepSpacing.Leading: {
      const ratio = Math.floor(numTrain / n);
      return Array.from({ length: n }, (_, i) => i * ratio + stepsOffset).reverse();
    }
    case TimestepSpacing.Trailing:
      return trailingTimesteps(numTrain, numTrain / n);
    default: {
      const never: never = spacing;
      throw new Error(`unreachable timestep spacing ${String(never)}`);
    }
  }
}

/** numpy.linspace(start, stop, n) in float64 (last point exactly stop; n = 1 gives [start]). */
export function linspaceF64(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : i * step + start));
}

/** round(arange(last, 0, −ratio)) − 1, descending. numpy fills arange as last + i·δ with
 *  δ = (last − ratio) − last, over ceil(last/ratio) points; that float quotient can land a hair
 *  above an integer (T = 1000, ratio = 1000/61 gives 61.00000000000001), where numpy adds a point
 *  that ends the schedule at t = −1. We ignore such sub-1e-9 excesses. */
export function trailingTimesteps(last: number, ratio: number): number[] {
  const delta = last - ratio - last;
  const count = Math.ceil(last / ratio - 1e-9);
  return Array.from({ length: count }, (_, i) => roundHalfEven(last + i * delta) - 1);
}

/** A step count this schedule cannot honour: the caller's request is at fault (the engine reports BAD_REQUEST);
 *  any other RangeError from a scheduler is a bug. */
export class StepCountError extends RangeError {
  override readonly name = 'StepCountError';
}

/** Check a step count: an integer in 1..max, else StepCountError saying what is allowed. */
export function validateSteps(n: number, max: number, who = 'scheduler'): void {
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new StepCountError(`${who}: number of inference steps must be an integer from 1 to ${max}, got ${String(n)}.`);
  }
  if (n < 1 || n > max) {
    throw new StepCountError(
      `${who}: number of inference steps must be from 1 to ${max} (the model's training timesteps), got ${n}.`,
    );
  }
}

/** Check a built schedule: strictly descending integers inside 0..T−1. Step counts near T can break
 *  this for some spacings (e.g. leading with steps_offset 1 and n = T gives t = T). */
export function checkSchedule(timesteps: readonly number[], numTrain: number, who: string, n: number): void {
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i]!;
    const prev = timesteps[i - 1];
    if (!Number.isInteger(t) || t < 0 || t >= numTrain || (prev !== undefined && t >= prev)) {
      throw new StepCountError(
        `${who}: ${n} inference steps give the timesteps [${timesteps.slice(0, 8).join(', ')}${timesteps.length > 8 ? ', ...' : ''}], `
        + `which are not distinct timesteps in 0..${numTrain - 1}; use fewer steps.`,
      );
    }
  }
}

/** True when `timesteps` are strictly descending integers inside 0..T−1 (what checkSchedule demands). */
function isDistinctSchedule(timesteps: readonly number[], numTrain: number): boolean {
  return timesteps.every((t, i) => Number.isInteger(t) && t >= 0 && t < numTrain && (i === 0 || t < timesteps[i - 1]!));
}

/** The configured spacing's schedule when it is n distinct training timesteps; otherwise n timesteps
 *  spaced evenly over 0..last−1 (linspace spacing), which are distinct for every n ≤ last: at n = T
 *  that is every training timestep, the original DDPM sampler. Only step counts near T get here:
 *  leading spacing with steps_offset 1 puts t = T in the schedule at n = T (diffusers then indexes past
 *  alphas_cumprod), and DPM-Solver's leading ratio last // (n + 1) does the same at n = T − 1 and is 0 at
 *  n = T. Every step count that diffusers runs keeps its diffusers schedule. */
export function fitSchedule(spaced: number[], n: number, last: number, numTrain: number): number[] {
  if (isDistinctSchedule(spaced, numTrain)) return spaced;
  return linspaceF64(0, last - 1, n).map(roundHalfEven).reverse();
}

/** Position of `t` in the schedule; throws if setTimesteps was not called or t is not in it. */
export function stepIndex(timesteps: readonly number[], t: number, who: string): number {
  if (timesteps.length === 0) throw new Error(`${who}: call setTimesteps(n) before step().`);
  const i = timesteps.indexOf(t);
  if (i < 0) {
    throw new RangeError(`${who}: timestep ${t} is not in the current schedule [${timesteps.join(', ')}].`);
  }
  return i;
}

/** Check that the model output matches the sample in length. */
export function checkStepArgs(args: StepArgs, who: string): void {
  if (args.modelOutput.length !== args.sample.length) {
    throw new RangeError(
      `${who}: model output has ${args.modelOutput.length} values but the sample has ${args.sample.length}; `
      + 'pass only the predicted channels (split off learned variance first).',
    );
  }
}

/** Draw one noise tensor for a stochastic step, checking it exists and fits the sample. */
export function drawNoise(args: StepArgs, who: string): Float32Array {
  if (!args.noise) throw new Error(`${who}: step at t = ${args.t} needs a noise source (StepArgs.noise).`);
  const z = args.noise();
  if (z.length !== args.sample.length) {
    throw new RangeError(`${who}: noise() gave ${z.length} values, the sample has ${args.sample.length}.`);
  }
  return z;
}

/** Forward diffusion q(x_t | x_0) = N(sqrt(ᾱ_t)·x_0, (1 − ᾱ_t)·I) (DDPM eq. 4), as diffusers' add_noise. */
export function addNoiseAt(
  alphasCumprod: Float32Array, original: Float32Array, noise: Float32Array, t: number, who: string,
): Float32Array {
  if (noise.length !== original.length) {
    throw new RangeError(`${who}: addNoise got ${noise.length} noise values for ${original.length} sample values.`);
  }
  const { alpha: a, sigma: s } = addNoiseScales(alphasCumprod, t, who);
  const out = new Float32Array(original.length);
  for (let i = 0; i < out.length; i++) out[i] = a * original[i]! + s * noise[i]!;
  return out;
}

/** The scales of addNoiseAt at t: sqrt(ᾱ_t) and sqrt(1 − ᾱ_t), in float32 (DDPM eq. 4). */
export function addNoiseScales(alphasCumprod: Float32Array, t: number, who: string): { alpha: number; sigma: number } {
  if (!Number.isInteger(t) || t < 0 || t >= alphasCumprod.length) {
    throw new RangeError(`${who}: addNoise timestep must be an integer in 0..${alphasCumprod.length - 1}, got ${t}.`);
  }
  const acp = alphasCumprod[t]!;
  return { alpha: f32(Math.sqrt(acp)), sigma: f32(Math.sqrt(f32(1 - acp))) };
}

/** x̂_0 from the model output (DDPM eq. 15 for epsilon; Salimans & Ho, "Progressive Distillation",
 *  §4 for v), clipped to ±clipRange when clipRange is finite. */
export function predictOriginal(
  prediction: PredictionType, modelOutput: Float32Array, sample: Float32Array, alphaProdT: number, clipRange: number,
): Float32Array {
  const out = new Float32Array(sample.length);
  const sa = f32(Math.sqrt(alphaProdT));
  const sb = f32(Math.sqrt(f32(1 - alphaProdT)));
  for (let i = 0; i < out.length; i++) {
    const m = modelOutput[i]!;
    const x = sample[i]!;
    let x0: number;
    switch (prediction) {
      case PredictionType.Epsilon:
        x0 = (x - sb * m) / sa;
        break;
      case PredictionType.Sample:
        x0 = m;
        break;
      case PredictionType.VPrediction:
        x0 = sa * x - sb * m;
        break;
      default: {
        const never: never = prediction;
        throw new Error(`unreachable prediction type ${String(never)}`);
      }
    }
    out[i] = Math.min(clipRange, Math.max(-clipRange, x0));
  }
  return out;
}

/** One DDPM-family step's float32 scalars: ᾱ_t, the posterior-mean weights c0 (on x̂_0) and ct (on x_t), and σ_t. */
export interface AncestralScalars {
  readonly alphaProdT: number;
  readonly c0: number;
  readonly ct: number;
  readonly std: number;
}

/**
 * The ancestral step both DDPM and UnCLIP take once their scalars are known (Ho et al. eq. 15 for x̂_0, eq. 7 for
 * the posterior mean): x_prev = c0·x̂_0 + ct·x_t + σ_t·z, with z drawn exactly when t > 0.
 */
export function ancestralStep(
  args: StepArgs, s: AncestralScalars, prediction: PredictionType, clipRange: number, who: string,
): StepResult {
  const { t, sample, modelOutput } = args;
  const { c0, ct, std } = s;
  // x̂_0, clipped when clip_sample.
  const x0 = predictOriginal(prediction, modelOutput, sample, s.alphaProdT, clipRange);
  const out = new Float32Array(sample.length);
  if (t > 0) {
    const z = drawNoise(args, who);
    for (let k = 0; k < out.length; k++) out[k] = c0 * x0[k]! + ct * sample[k]! + std * z[k]!;
  } else {
    for (let k = 0; k < out.length; k++) out[k] = c0 * x0[k]! + ct * sample[k]!;
  }
  return { prevSample: out, predOriginalSample: x0 };
}

/** ancestralStep as per-element coefficients (the GPU loops): x_prev = ct·x + c0·x̂_0 + σ_t·z, z drawn when t > 0. */
export function ancestralLinearStep(t: number, s: AncestralScalars, prediction: PredictionType, clipRange: number): LinearStep {
  return {
    prediction, alpha: f32(Math.sqrt(s.alphaProdT)), sigma: f32(Math.sqrt(f32(1 - s.alphaProdT))), clip: clipRange,
    cSample: s.ct, cX0: s.c0, cEps: 0, cNoise: t > 0 ? s.std : 0, cHistory: 0, drawsNoise: t > 0,
  };
}
