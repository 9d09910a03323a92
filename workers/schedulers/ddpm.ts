/**
 * DDPM ancestral sampling over a strided schedule, as diffusers' DDPMScheduler (the Kandinsky decoder's
 * default). Ho et al., "Denoising Diffusion Probabilistic Models" (2020): x̂_0 by eq. (15), posterior
 * mean μ̃_t by eq. (7) with the step's beta 1 − ᾱ_t/ᾱ_prev, variance β̃_t of eq. (7).
 */
import {
  BetaSchedule, ConfigReader, PredictionType, TimestepSpacing, addNoiseAt, addNoiseScales, betasFromConfig, checkSchedule,
  ancestralLinearStep, ancestralStep, checkStepArgs, f32, fitSchedule, noiseTables, spacedTimesteps, stepIndex, validateSteps,
} from './common.ts';
import type { AncestralScalars, NoiseTables } from './common.ts';
import type { LinearScheduler, LinearStep, SchedulerConfig, StepArgs, StepResult } from './types.ts';

const NAME = 'DDPMScheduler';

/** Variance types we implement. 'learned'/'learned_range' need the model's variance channels, which
 *  the Scheduler contract does not carry; 'fixed_large_log' is broken in diffusers (sqrt of a log). */
export const DDPM_VARIANCE_TYPES = ['fixed_small', 'fixed_small_log', 'fixed_large'] as const;
/** One of DDPM_VARIANCE_TYPES. */
export type DdpmVarianceType = (typeof DDPM_VARIANCE_TYPES)[number];

/** diffusers DDPMScheduler (fixed variances, any timestep spacing, epsilon / sample / v prediction). */
export class DDPMScheduler implements LinearScheduler {
  readonly initNoiseSigma = 1;
  readonly numTrainTimesteps: number;
  readonly tables: NoiseTables;
  readonly varianceType: DdpmVarianceType;
  private readonly prediction: PredictionType;
  private readonly clipRange: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private schedule: readonly number[] = [];

  constructor(config: SchedulerConfig) {
    const r = new ConfigReader(NAME, config);
    this.numTrainTimesteps = r.trainTimesteps();
    this.tables = noiseTables(betasFromConfig(r, this.numTrainTimesteps,
      { betaStart: 0.0001, betaEnd: 0.02, schedule: BetaSchedule.Linear }));
    this.varianceType = r.choice('variance_type', 'fixed_small', DDPM_VARIANCE_TYPES);
    this.prediction = r.choice('prediction_type', PredictionType.Epsilon, Object.values(PredictionType));
    this.clipRange = r.clipRange();
    this.spacing = r.choice('timestep_spacing', TimestepSpacing.Leading, Object.values(TimestepSpacing));
    this.stepsOffset = r.stepsOffset(this.numTrainTimesteps);
    r.requireDefault('thresholding', false);
    r.requireDefault('rescale_betas_zero_snr', false);
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  /** diffusers set_timesteps (leading: arange(n)·(T // n) + steps_offset, descending); evenly spaced
   *  where that leaves the training range (n = T with steps_offset 1: see fitSchedule). */
  setTimesteps(n: number): void {
    validateSteps(n, this.numTrainTimesteps, NAME);
    const T = this.numTrainTimesteps;
    const ts = fitSchedule(spacedTimesteps(this.spacing, n, T, this.stepsOffset), n, T, T);
    checkSchedule(ts, T, NAME, n);
    this.schedule = ts;
  }

  /** One ancestral step from t to the next scheduled timestep (−1, i.e. ᾱ = 1, after the last).
   *  Draws noise exactly when t > 0. */
  step(args: StepArgs): StepResult {
    checkStepArgs(args, NAME);
    return ancestralStep(args, this.scalars(args.t), this.prediction, this.clipRange, NAME);
  }

  /** The step at t as coefficients (the GPU loop): x_prev = ct·x + c0·x̂_0 + σ_t·z, z drawn when t > 0. */
  linearStep(t: number): LinearStep {
    return ancestralLinearStep(t, this.scalars(t), this.prediction, this.clipRange);
  }

  /** sqrt(ᾱ_t) and sqrt(1 − ᾱ_t) of addNoise. */
  noiseScales(t: number): { alpha: number; sigma: number } {
    return addNoiseScales(this.tables.alphasCumprod, t, NAME);
  }

  /** The step's float32 scalars: ᾱ_t, the posterior-mean weights c0 (on x̂_0) and ct (on x_t), and σ_t. */
  private scalars(t: number): AncestralScalars {
    const i = stepIndex(this.schedule, t, NAME);
    const prev = this.schedule[i + 1] ?? -1;
    const acp = this.tables.alphasCumprod;

    // 1. ᾱ_t, ᾱ_prev and this step's α_t = ᾱ_t/ᾱ_prev, β_t = 1 − α_t.
    const alphaProdT = acp[t]!;
    const alphaProdPrev = prev >= 0 ? acp[prev]! : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    const currentAlpha = f32(alphaProdT / alphaProdPrev);
    const currentBeta = f32(1 - currentAlpha);

    // 4-5. μ̃_t = sqrt(ᾱ_prev)·β_t/(1 − ᾱ_t)·x̂_0 + sqrt(α_t)·(1 − ᾱ_prev)/(1 − ᾱ_t)·x_t (eq. 7).
    const c0 = f32(f32(f32(Math.sqrt(alphaProdPrev)) * currentBeta) / betaProdT);
    const ct = f32(f32(f32(Math.sqrt(currentAlpha)) * betaProdPrev) / betaProdT);
    return { alphaProdT, c0, ct, std: this.noiseStd(alphaProdT, alphaProdPrev, currentBeta) };
  }

  /** σ_t: sqrt(β̃_t) with β̃_t = (1 − ᾱ_prev)/(1 − ᾱ_t)·β_t ≥ 1e-20 (fixed_small, and its log form),
   *  or sqrt(β_t) (fixed_large, the upper bound of DDPM §3.2). */
  private noiseStd(alphaProdT: number, alphaProdPrev: number, currentBeta: number): number {
    const small = Math.max(f32(f32(f32(1 - alphaProdPrev) / f32(1 - alphaProdT)) * currentBeta), f32(1e-20));
    switch (this.varianceType) {
      case 'fixed_small':
        return f32(Math.sqrt(small));
      case 'fixed_small_log':
        return f32(Math.exp(f32(0.5 * f32(Math.log(small)))));
      case 'fixed_large':
        return f32(Math.sqrt(currentBeta));
      default: {
        const never: never = this.varianceType;
        throw new Error(`unreachable variance type ${String(never)}`);
      }
    }
  }

  /** sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·noise (DDPM eq. 4). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    return addNoiseAt(this.tables.alphasCumprod, original, noise, t, NAME);
  }
}
