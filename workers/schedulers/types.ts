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
