/**
 * DPM-Solver++(2M), as diffusers' DPMSolverMultistepScheduler with algorithm_type 'dpmsolver++'.
 * Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models" (2022):
 * data prediction x̂_0, half-log-SNR λ = log(α/σ), first-order update eq. (5)/Alg. 1 and the multistep
 * second-order update of Alg. 2 (midpoint form, or diffusers' 'heun' form). Deterministic: never
 * draws noise. The only state is the previous step's x̂_0, reset by setTimesteps.
 */
import {
  BetaSchedule, ConfigReader, PredictionType, TimestepSpacing, betasFromConfig, checkSchedule, checkStepArgs,
  f32, fitSchedule, linspaceF64, noiseTables, roundHalfEven, stepIndex, trailingTimesteps, validateSteps,
} from './common.ts';
import type { NoiseTables } from './common.ts';
import type { LinearScheduler, LinearStep, SchedulerConfig, StepArgs, StepResult } from './types.ts';

const NAME = 'DPMSolverMultistepScheduler';

/** algorithm_type values we implement (others are rejected with this list). */
export const DPM_ALGORITHM_TYPES = ['dpmsolver++'] as const;
/** solver_type values we implement: the second-order update's D1 weight. */
export const DPM_SOLVER_TYPES = ['midpoint', 'heun'] as const;
/** final_sigmas_type values: end at σ = 0 (x̂_0) or at σ of timestep 0. */
export const DPM_FINAL_SIGMAS_TYPES = ['zero', 'sigma_min'] as const;
/** diffusers' sigma-spacing options; all must stay false here. */
const UNSUPPORTED_FLAGS = [
  'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas',
  'use_dynamic_shifting', 'thresholding', 'rescale_betas_zero_snr',
] as const;

/** α_t = 1/sqrt(σ² + 1) and σ_t = σ·α_t for the VP noise level σ = sqrt((1 − ᾱ)/ᾱ), in float32. */
function alphaSigma(sigma: number): { alpha: number; sigmaT: number } {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  return { alpha, sigmaT: f32(sigma * alpha) };
}

/** λ = log α_t − log σ_t (+Infinity at σ = 0). */
function lambdaOf(a: { alpha: number; sigmaT: number }): number {
  return f32(f32(Math.log(a.alpha)) - f32(Math.log(a.sigmaT)));
}

/** diffusers DPMSolverMultistepScheduler, dpmsolver++ of order 1 or 2, sigmas from the training schedule. */
export class DPMSolverMultistepScheduler implements LinearScheduler {
  readonly initNoiseSigma = 1;
  readonly numTrainTimesteps: number;
  readonly tables: NoiseTables;
  /** σ at every training timestep, float32: sqrt((1 − ᾱ_t)/ᾱ_t). */
  readonly trainSigmas: Float32Array;
  readonly solverOrder: 1 | 2;
  private readonly prediction: PredictionType;
  private readonly solverType: (typeof DPM_SOLVER_TYPES)[number];
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly finalSigmasType: (typeof DPM_FINAL_SIGMAS_TYPES)[number];
  private readonly lambdaMinClipped: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private schedule: readonly number[] = [];
  /** σ for each scheduled timestep, then the final σ (0 or σ_min). */
  private sigmas: Float32Array = new Float32Array(0);
  /** The previous step's x̂_0 and its index in the schedule (multistep history). */
  private history: { readonly index: number; readonly x0: Float32Array } | undefined;

  constructor(config: SchedulerConfig) {
    const r = new ConfigReader(NAME, config);
    this.numTrainTimesteps = r.trainTimesteps();
    this.tables = noiseTables(betasFromConfig(r, this.numTrainTimesteps,
      { betaStart: 0.0001, betaEnd: 0.02, schedule: BetaSchedule.Linear }));
    r.choice('algorithm_type', 'dpmsolver++', DPM_ALGORITHM_TYPES);
    this.solverOrder = r.choice('solver_order', 2, [1, 2] as const);
    this.prediction = r.choice('prediction_type', PredictionType.Epsilon, Object.values(PredictionType));
    this.solverType = r.choice('solver_type', 'midpoint', DPM_SOLVER_TYPES);
    this.lowerOrderFinal = r.boolean('lower_order_final', true);
    this.eulerAtFinal = r.boolean('euler_at_final', false);
    this.finalSigmasType = r.choice('final_sigmas_type', 'zero', DPM_FINAL_SIGMAS_TYPES);
    this.lambdaMinClipped = r.number('lambda_min_clipped', -Infinity, true);
    this.spacing = r.choice('timestep_spacing', TimestepSpacing.Linspace, Object.values(TimestepSpacing));
    this.stepsOffset = r.stepsOffset(this.numTrainTimesteps);
    for (const flag of UNSUPPORTED_FLAGS) r.requireDefault(flag, false);
    // diffusers reads variance_type only to slice 3 "mean" channels off the output (DeepFloyd IF);
    // other values (e.g. 'fixed_small' carried over from a DDPM config) are ignored there, and here.
    r.forbid('variance_type', ['learned', 'learned_range'],
      'Pass only the predicted channels and remove variance_type from the DPM-Solver config.');
    const acp = this.tables.alphasCumprod;
    this.trainSigmas = acp.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  /** diffusers set_timesteps: spacing over [0, last) where last drops timesteps whose λ is below
   *  lambda_min_clipped; leading is round(arange(n+1)·(last // (n+1))) descending without its final 0,
   *  plus steps_offset. σ at each timestep, then the final σ. Resets the multistep history. */
  setTimesteps(n: number): void {
    validateSteps(n, this.numTrainTimesteps, NAME);
    const T = this.numTrainTimesteps;
    const last = T - this.clippedCount();
    let ts: number[];
    switch (this.spacing) {
      case TimestepSpacing.Linspace:
        ts = linspaceF64(0, last - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
        break;
      case TimestepSpacing.Leading: {
        const ratio = Math.floor(last / (n + 1));
        ts = Array.from({ length: n + 1 }, (_, i) => i * ratio).reverse().slice(0, -1).map((t) => t + this.stepsOffset);
        break;
      }
      case TimestepSpacing.Trailing:
        ts = trailingTimesteps(last, T / n);
        break;
      default: {
        const never: never = this.spacing;
        throw new Error(`unreachable timestep spacing ${String(never)}`);
      }
    }
    ts = fitSchedule(ts, n, last, T);
    checkSchedule(ts, T, NAME, n);
    const sigmas = new Float32Array(ts.length + 1);
    ts.forEach((t, i) => {
      sigmas[i] = this.trainSigmas[t]!;
    });
    sigmas[ts.length] = this.finalSigmasType === 'zero' ? 0 : this.trainSigmas[0]!;
    this.schedule = ts;
    this.sigmas = sigmas;
    this.history = undefined;
  }

  /** Number of training timesteps with λ_t < lambda_min_clipped (searchsorted on the flipped λ). */
  private clippedCount(): number {
    if (this.lambdaMinClipped === -Infinity) return 0;
    let count = 0;
    for (const a of this.tables.alphasCumprod) {
      const lambda = f32(f32(Math.log(f32(Math.sqrt(a)))) - f32(Math.log(f32(Math.sqrt(f32(1 - a))))));
      if (lambda < this.lambdaMinClipped) count++;
    }
    return count;
  }

  /** One DPM-Solver++ step from the σ of t to the next σ. First order without usable history (the
   *  first step taken, also mid-schedule for img2img) or at the final step when lower-order final
   *  applies (final σ = 0, euler_at_final, or lower_order_final with fewer than 15 steps); second
   *  order otherwise. */
  step(args: StepArgs): StepResult {
    checkStepArgs(args, NAME);
    const { t, sample, modelOutput } = args;
    const i = stepIndex(this.schedule, t, NAME);
    const prev = this.history;
    const c = this.scalars(i, prev !== undefined && prev.index === i - 1);

    // Data prediction x̂_0 at σ_s = sigmas[i] (convert_model_output).
    const x0 = this.convert(modelOutput, sample, c.s0);
    const { cSample, cData } = c;
    const out = new Float32Array(sample.length);

    if (c.second === null || prev === undefined) {
      // x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·x̂_0 (DPM-Solver++ eq. 5, first order).
      for (let k = 0; k < out.length; k++) out[k] = cSample * sample[k]! - cData * x0[k]!;
    } else {
      const { invR0, cD1 } = c.second;
      const m1 = prev.x0;
      for (let k = 0; k < out.length; k++) {
        const d1 = invR0 * f32(x0[k]! - m1[k]!);
        out[k] = cSample * sample[k]! - cData * x0[k]! + cD1 * d1;
      }
    }
    this.history = { index: i, x0 };
    return { prevSample: out, predOriginalSample: x0 };
  }

  /** The step at t as coefficients (the GPU loop): x_t = (σ_t/σ_s)·x_s − α_t(e^{−h} − 1)·x̂_0 (eq. 5), plus the
   *  second-order term (1/r0)·cD1·(x̂_0 − x̂_0 of step i − 1) of Alg. 2 when the previous step was i − 1. */
  linearStep(t: number, previousT: number | undefined): LinearStep {
    const i = stepIndex(this.schedule, t, NAME);
    const c = this.scalars(i, previousT !== undefined && stepIndex(this.schedule, previousT, NAME) === i - 1);
    return {
      prediction: this.prediction, alpha: c.s0.alpha, sigma: c.s0.sigmaT, clip: Infinity,
      cSample: c.cSample, cX0: -c.cData, cEps: 0, cNoise: 0, cHistory: c.second === null ? 0 : f32(c.second.invR0 * c.second.cD1),
      drawsNoise: false,
    };
  }

  /** α_t and σ_t of addNoise at the σ of timestep t. */
  noiseScales(t: number): { alpha: number; sigma: number } {
    if (!Number.isInteger(t) || t < 0 || t >= this.numTrainTimesteps) {
      throw new RangeError(`${NAME}: addNoise timestep must be an integer in 0..${this.numTrainTimesteps - 1}, got ${t}.`);
    }
    const { alpha, sigmaT } = alphaSigma(this.trainSigmas[t]!);
    return { alpha, sigma: sigmaT };
  }

  /** The float32 scalars of step i: α/σ at σ_s, the first-order weights, and the second-order ones when the
   *  previous step's x̂_0 is at hand and the step is not a lower-order final one. */
  private scalars(i: number, hasPrevious: boolean): {
    s0: { alpha: number; sigmaT: number }; cSample: number; cData: number; second: { invR0: number; cD1: number } | null;
  } {
    const n = this.schedule.length;
    const lowerOrderFinal = i === n - 1
      && (this.eulerAtFinal || (this.lowerOrderFinal && n < 15) || this.finalSigmasType === 'zero');
    const s0 = alphaSigma(this.sigmas[i]!);
    const target = alphaSigma(this.sigmas[i + 1]!);
    const lambdaT = lambdaOf(target);
    const lambdaS0 = lambdaOf(s0);
    const h = f32(lambdaT - lambdaS0);
    const cSample = f32(target.sigmaT / s0.sigmaT);
    // α_t·(e^{−h} − 1): the first-order (DDIM-like) weight on x̂_0.
    const cData = f32(target.alpha * f32(f32(Math.exp(-h)) - 1));
    if (this.solverOrder === 1 || !hasPrevious || lowerOrderFinal) return { s0, cSample, cData, second: null };
    // Multistep second order: D0 = x̂_0(s0), D1 = (x̂_0(s0) − x̂_0(s1))/r0 with r0 = h_0/h (Alg. 2).
    const s1 = alphaSigma(this.sigmas[i - 1]!);
    const h0 = f32(lambdaS0 - lambdaOf(s1));
    const invR0 = f32(1 / f32(h0 / h));
    // midpoint: − ½·α_t(e^{−h} − 1)·D1; heun: + α_t((e^{−h} − 1)/h + 1)·D1.
    const cD1 = this.solverType === 'midpoint'
      ? -f32(0.5 * cData)
      : f32(target.alpha * f32(f32(f32(f32(Math.exp(-h)) - 1) / h) + 1));
    return { s0, cSample, cData, second: { invR0, cD1 } };
  }

  /** x̂_0 from the model output: (x − σ_t·ε)/α_t, the output itself, or α_t·x − σ_t·v. */
  private convert(modelOutput: Float32Array, sample: Float32Array, s: { alpha: number; sigmaT: number }): Float32Array {
    const x0 = new Float32Array(sample.length);
    for (let k = 0; k < x0.length; k++) {
      const m = modelOutput[k]!;
      const x = sample[k]!;
      switch (this.prediction) {
        case PredictionType.Epsilon:
          x0[k] = (x - s.sigmaT * m) / s.alpha;
          break;
        case PredictionType.Sample:
          x0[k] = m;
          break;
        case PredictionType.VPrediction:
          x0[k] = s.alpha * x - s.sigmaT * m;
          break;
        default: {
          const never: never = this.prediction;
          throw new Error(`unreachable prediction type ${String(never)}`);
        }
      }
    }
    return x0;
  }

  /** α_t·x_0 + σ_t·noise at the σ of timestep t (diffusers' add_noise; t in 0..T−1). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    if (!Number.isInteger(t) || t < 0 || t >= this.numTrainTimesteps) {
      throw new RangeError(`${NAME}: addNoise timestep must be an integer in 0..${this.numTrainTimesteps - 1}, got ${t}.`);
    }
    if (noise.length !== original.length) {
      throw new RangeError(`${NAME}: addNoise got ${noise.length} noise values for ${original.length} sample values.`);
    }
    const { alpha, sigmaT } = alphaSigma(this.trainSigmas[t]!);
    const out = new Float32Array(original.length);
    for (let k = 0; k < out.length; k++) out[k] = alpha * original[k]! + sigmaT * noise[k]!;
    return out;
  }
}
