/**
 * Deterministic DDIM sampling (η = 0), as diffusers' DDIMScheduler. Song et al., "Denoising Diffusion
 * Implicit Models" (2021), eq. (12): x_prev = sqrt(ᾱ_prev)·x̂_0 + sqrt(1 − ᾱ_prev − σ_t²)·ε̂ + σ_t·z,
 * with σ_t = 0. Never draws noise.
 */
import {
  BetaSchedule, ConfigReader, PredictionType, TimestepSpacing, addNoiseAt, addNoiseScales, betasFromConfig, checkSchedule,
  checkStepArgs, f32, fitSchedule, noiseTables, spacedTimesteps, stepIndex, validateSteps,
} from './common.ts';
import type { NoiseTables } from './common.ts';
import type { LinearScheduler, LinearStep, SchedulerConfig, StepArgs, StepResult } from './types.ts';

const NAME = 'DDIMScheduler';

/** diffusers DDIMScheduler with eta = 0 (epsilon / sample / v prediction, any timestep spacing). */
export class DDIMScheduler implements LinearScheduler {
  readonly initNoiseSigma = 1;
  readonly numTrainTimesteps: number;
  readonly tables: NoiseTables;
  /** ᾱ used past the end of the schedule: 1 with set_alpha_to_one, else ᾱ_0. */
  readonly finalAlphaCumprod: number;
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
    this.finalAlphaCumprod = r.boolean('set_alpha_to_one', true) ? 1 : this.tables.alphasCumprod[0]!;
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

  /** diffusers set_timesteps (leading: arange(n)·(T // n) + steps_offset, descending). */
  setTimesteps(n: number): void {
    validateSteps(n, this.numTrainTimesteps, NAME);
    const T = this.numTrainTimesteps;
    // At n = T the fallback is T−1..0, which step()'s t − T // n = t − 1 walks exactly.
    const ts = fitSchedule(spacedTimesteps(this.spacing, n, T, this.stepsOffset), n, T, T);
    checkSchedule(ts, T, NAME, n);
    this.schedule = ts;
  }

  /** One deterministic step from t to t − T // n (diffusers' rule for every spacing). */
  step(args: StepArgs): StepResult {
    checkStepArgs(args, NAME);
    const { t, sample, modelOutput } = args;
    const { sa, sb, cx0, cEps } = this.scalars(t);
    const clip = this.clipRange;
    const x0 = new Float32Array(sample.length);
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) {
      const m = modelOutput[k]!;
      const x = sample[k]!;
      let pred: number;
      let eps: number;
      switch (this.prediction) {
        case PredictionType.Epsilon:
          pred = f32((x - sb * m) / sa);
          eps = m;
          break;
        case PredictionType.Sample:
          pred = m;
          eps = f32((x - sa * m) / sb);
          break;
        case PredictionType.VPrediction:
          pred = f32(sa * x - sb * m);
          eps = f32(sa * m + sb * x);
          break;
        default: {
          const never: never = this.prediction;
          throw new Error(`unreachable prediction type ${String(never)}`);
        }
      }
      pred = Math.min(clip, Math.max(-clip, pred));
      x0[k] = pred;
      out[k] = cx0 * pred + cEps * eps;
    }
    return { prevSample: out, predOriginalSample: x0 };
  }

  /** The step at t as coefficients (the GPU loop): x_prev = sqrt(ᾱ_prev)·x̂_0 + sqrt(1 − ᾱ_prev)·ε̂ (eq. 12, σ_t = 0). */
  linearStep(t: number): LinearStep {
    const { sa, sb, cx0, cEps } = this.scalars(t);
    return {
      prediction: this.prediction, alpha: sa, sigma: sb, clip: this.clipRange,
      cSample: 0, cX0: cx0, cEps, cNoise: 0, cHistory: 0, drawsNoise: false,
    };
  }

  /** sqrt(ᾱ_t) and sqrt(1 − ᾱ_t) of addNoise. */
  noiseScales(t: number): { alpha: number; sigma: number } {
    return addNoiseScales(this.tables.alphasCumprod, t, NAME);
  }

  /** The step's float32 scalars: sqrt(ᾱ_t), sqrt(1 − ᾱ_t) and the weights of x̂_0 and ε̂. */
  private scalars(t: number): { sa: number; sb: number; cx0: number; cEps: number } {
    stepIndex(this.schedule, t, NAME);
    // 1. The previous timestep and its ᾱ (final_alpha_cumprod below 0).
    const prev = t - Math.floor(this.numTrainTimesteps / this.schedule.length);
    const acp = this.tables.alphasCumprod;
    const alphaProdT = acp[t]!;
    const alphaProdPrev = prev >= 0 ? acp[prev]! : this.finalAlphaCumprod;
    const sa = f32(Math.sqrt(alphaProdT));
    const sb = f32(Math.sqrt(f32(1 - alphaProdT)));

    // 2-4. x̂_0 and ε̂ from the model output; only x̂_0 is clipped (use_clipped_model_output = false).
    // 5-7. σ_t = η·… = 0, so the direction to x_t is sqrt(1 − ᾱ_prev)·ε̂ (eq. 12).
    const cx0 = f32(Math.sqrt(alphaProdPrev));
    const cEps = f32(Math.sqrt(f32(1 - alphaProdPrev)));
    return { sa, sb, cx0, cEps };
  }

  /** sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·noise (DDPM eq. 4). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    return addNoiseAt(this.tables.alphasCumprod, original, noise, t, NAME);
  }
}
