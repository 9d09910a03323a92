/** The contract every scheduler follows (diffusers-style, pure Float32Array math). */

/** Lazily draws one Gaussian tensor shaped like the sample; called only when a step needs noise,
 *  so the order of draws matches the reference exactly. */
export type NoiseFn = () => Float32Array;

export interface StepArgs {
  /** Model output for this step (epsilon, or x0 for prediction_type 'sample'), same length as sample. */
  readonly modelOutput: Float32Array;
  /** Current timestep (must be one of `timesteps`). */
  readonly t: number;
  /** Current sample x_t. */
  readonly sample: Float32Array;
  /** Noise source for stochastic schedulers (DDPM, UnCLIP). */
  readonly noise?: NoiseFn;
}

export interface StepResult {
  /** x_{t-1}. */
  readonly prevSample: Float32Array;
  /** The scheduler's estimate of x_0. */
  readonly predOriginalSample: Float32Array;
}

export interface Scheduler {
  /** Timesteps of the current schedule, descending. Empty until setTimesteps. */
  readonly timesteps: readonly number[];
  /** Std of the initial noise (latents = N(0,1) * initNoiseSigma). */
  readonly initNoiseSigma: number;
  /** Build the schedule for n inference steps; resets any multistep history. */
  setTimesteps(n: number): void;
  /** One reverse-diffusion step. The step index is derived from `t`; multistep state is
   *  the previous model outputs only, reset by setTimesteps. */
  step(args: StepArgs): StepResult;
  /** Forward-diffuse clean `original` to timestep t with `noise` (img2img, inpainting). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array;
}

/** A diffusers scheduler config as stored in the manifest or a golden file. */
export type SchedulerConfig = Readonly<Record<string, unknown>> & { readonly _class_name?: string };

/**
 * One decoder-scheduler step as per-element coefficients: what the GPU loop (workers/gpu/) computes, while the
 * scheduler's own step() stays the reference (both use the same float32 scalars). With m the model output and x the sample:
 *   x̂_0 = clamp(pred, ±clip), pred = (x − σ·m)/α (epsilon), m (sample), α·x − σ·m (v_prediction)
 *   ε̂   = m (epsilon), (x − α·m)/σ (sample), α·m + σ·x (v_prediction)
 *   x_prev = cSample·x + cX0·x̂_0 + cEps·ε̂ + cNoise·z + cHistory·(x̂_0 − the previous step's x̂_0)
 */
export interface LinearStep {
  readonly prediction: 'epsilon' | 'sample' | 'v_prediction';
  readonly alpha: number;
  readonly sigma: number;
  /** Bound on x̂_0 (Infinity when the scheduler does not clip). */
  readonly clip: number;
  readonly cSample: number;
  readonly cX0: number;
  readonly cEps: number;
  readonly cNoise: number;
  readonly cHistory: number;
  /** The step draws one noise tensor z from the noise source (the reference's draw order). */
  readonly drawsNoise: boolean;
}

/** A scheduler whose step is linear per element (DDPM, DDIM, DPM-Solver++): the GPU loop can run it. */
export interface LinearScheduler extends Scheduler {
  /** The step at t as coefficients; `previousT` is the timestep of the step taken just before, if any (multistep history). */
  linearStep(t: number, previousT: number | undefined): LinearStep;
  /** addNoise(x, z, t) = alpha·x + sigma·z: its two scales at t. */
  noiseScales(t: number): { readonly alpha: number; readonly sigma: number };
}

/** True when the scheduler can run on the GPU loops (it hands out its step as coefficients). */
export function isLinearScheduler(s: Scheduler): s is LinearScheduler {
  return typeof (s as Partial<LinearScheduler>).linearStep === 'function' && typeof (s as Partial<LinearScheduler>).noiseScales === 'function';
}
