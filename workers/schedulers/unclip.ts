/**
 * UnCLIP scheduler (the Kandinsky prior): DDPM ancestral sampling over a strided schedule, with the
 * step's beta recomputed from the two ᾱ it spans, as diffusers' UnCLIPScheduler (from karlo).
 * Formulas: Ho et al., "Denoising Diffusion Probabilistic Models" (2020), eqs. (6), (7), (15).
 */
import {
  BetaSchedule, ConfigReader, PredictionType, addNoiseAt, addNoiseScales, ancestralLinearStep, ancestralStep, checkStepArgs, cosineBetas, f32,
  noiseTables, roundHalfEven, stepIndex, validateSteps,
} from './common.ts';
import type { AncestralScalars, NoiseTables } from './common.ts';
import type { LinearScheduler, LinearStep, SchedulerConfig, StepArgs, StepResult } from './types.ts';

const NAME = 'UnCLIPScheduler';

/** Variance types we implement; 'learned_range' would need the model's variance channels. */
export const UNCLIP_VARIANCE_TYPES = ['fixed_small_log'] as const;
/** Prediction types UnCLIPScheduler supports (diffusers supports exactly these two). */
export const UNCLIP_PREDICTION_TYPES = [PredictionType.Epsilon, PredictionType.Sample] as const;

/** diffusers UnCLIPScheduler: fixed_small_log variance, 'epsilon' or 'sample' prediction. */
export class UnCLIPScheduler implements LinearScheduler {
  readonly initNoiseSigma = 1;
  readonly numTrainTimesteps: number;
  readonly tables: NoiseTables;
  private readonly prediction: (typeof UNCLIP_PREDICTION_TYPES)[number];
  /** ±range for x̂_0; Infinity when clip_sample is false. */
  private readonly clipRange: number;
  private schedule: readonly number[] = [];

  constructor(config: SchedulerConfig) {
    const r = new ConfigReader(NAME, config);
    this.numTrainTimesteps = r.trainTimesteps();
    r.choice('variance_type', 'fixed_small_log', UNCLIP_VARIANCE_TYPES);
    this.prediction = r.choice('prediction_type', PredictionType.Epsilon, UNCLIP_PREDICTION_TYPES);
    this.clipRange = r.clipRange();
    // diffusers' UnCLIP accepts only the cosine schedule (no beta_start/beta_end/trained_betas).
    r.choice('beta_schedule', BetaSchedule.SquaredCosCapV2, [BetaSchedule.SquaredCosCapV2]);
    this.tables = noiseTables(cosineBetas(this.numTrainTimesteps));
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  /** Karlo spacing: round(i·(T−1)/(n−1)) for i < n, descending, so it runs T−1 … 0.
   *  n = 1 (where diffusers divides by zero) gives the single timestep T−1, stepped straight to x̂_0. */
  setTimesteps(n: number): void {
    validateSteps(n, this.numTrainTimesteps, NAME);
    if (n === 1) {
      this.schedule = [this.numTrainTimesteps - 1];
      return;
    }
    const ratio = (this.numTrainTimesteps - 1) / (n - 1);
    this.schedule = Array.from({ length: n }, (_, i) => roundHalfEven(i * ratio)).reverse();
  }

  /** One ancestral step from t to the next scheduled timestep (scalars() says which). Draws noise exactly when t > 0. */
  step(args: StepArgs): StepResult {
    checkStepArgs(args, NAME);
    return ancestralStep(args, this.scalars(args.t), this.prediction, this.clipRange, NAME);
  }

  /** The step at t as coefficients (the GPU prior loop): x_prev = ct·x + c0·x̂_0 + σ_t·z, z drawn when t > 0. */
  linearStep(t: number): LinearStep {
    return ancestralLinearStep(t, this.scalars(t), this.prediction, this.clipRange);
  }

  /** sqrt(ᾱ_t) and sqrt(1 − ᾱ_t) of addNoise. */
  noiseScales(t: number): { alpha: number; sigma: number } {
    return addNoiseScales(this.tables.alphasCumprod, t, NAME);
  }

  /**
   * One step's float32 scalars, from t to the next scheduled timestep (−1, i.e. clean, after the last; for n ≥ 2
   * that is t − 1 = −1, what the Kandinsky prior pipeline asks by passing prev_timestep=None): ᾱ_t, the
   * posterior-mean weights c0 (on x̂_0) and ct (on x_t), and σ_t.
   */
  private scalars(t: number): AncestralScalars {
    const i = stepIndex(this.schedule, t, NAME);
    const prev = this.schedule[i + 1] ?? -1;
    const { betas, alphas, alphasCumprod } = this.tables;

    // 1. ᾱ_t, ᾱ_prev and the beta of this (possibly strided) step.
    const alphaProdT = alphasCumprod[t]!;
    const alphaProdPrev = prev >= 0 ? alphasCumprod[prev]! : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    let beta: number;
    let alpha: number;
    if (prev === t - 1) {
      beta = betas[t]!;
      alpha = alphas[t]!;
    } else {
      beta = f32(1 - f32(alphaProdT / alphaProdPrev));
      alpha = f32(1 - beta);
    }

    // 4-5. Posterior mean μ̃_t(x_t, x̂_0), eq. (7).
    const c0 = f32(f32(f32(Math.sqrt(alphaProdPrev)) * beta) / betaProdT);
    const ct = f32(f32(f32(Math.sqrt(alpha)) * betaProdPrev) / betaProdT);

    // 6. σ_t² = β̃_t = (1 − ᾱ_prev)/(1 − ᾱ_t)·β_t (eq. 7), as exp(½·log(max(β̃_t, 1e-20))).
    const variance = f32(f32(betaProdPrev / betaProdT) * beta);
    const std = f32(Math.exp(f32(0.5 * f32(Math.log(Math.max(variance, f32(1e-20)))))));
    return { alphaProdT, c0, ct, std };
  }

  /** sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·noise (DDPM eq. 4). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    return addNoiseAt(this.tables.alphasCumprod, original, noise, t, NAME);
  }
}
