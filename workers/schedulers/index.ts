/** The schedulers a bundle may name, built from their diffusers configs; the decoder kinds the app offers and their configs. */
import { EngineError, ErrorCode } from '../errors.ts';
import { DDIMScheduler } from './ddim.ts';
import { DDPMScheduler } from './ddpm.ts';
import { DPMSolverMultistepScheduler } from './dpmpp2m.ts';
import type { Scheduler, SchedulerConfig } from './types.ts';
import { UnCLIPScheduler } from './unclip.ts';

export { DDIMScheduler } from './ddim.ts';
export { DDPMScheduler } from './ddpm.ts';
export { DPMSolverMultistepScheduler } from './dpmpp2m.ts';
export { UnCLIPScheduler } from './unclip.ts';
export { StepCountError, validateSteps } from './common.ts';
export type { NoiseFn, Scheduler, SchedulerConfig, StepArgs, StepResult } from './types.ts';

/** diffusers `_class_name`s we implement. */
export const SCHEDULER_CLASSES = [
  'UnCLIPScheduler', 'DDPMScheduler', 'DDIMScheduler', 'DPMSolverMultistepScheduler',
] as const;
export type SchedulerClass = (typeof SCHEDULER_CLASSES)[number];

/** Decoder schedulers the engine offers (protocol.ts re-exports them for the UI). */
export const SCHEDULER_KINDS = ['ddpm', 'ddim', 'dpmpp_2m'] as const;
export type SchedulerKind = (typeof SCHEDULER_KINDS)[number];

/** The diffusers class each decoder kind runs. */
export const SCHEDULER_KIND_CLASSES = {
  ddpm: 'DDPMScheduler',
  ddim: 'DDIMScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler',
} as const satisfies Record<SchedulerKind, SchedulerClass>;

function isSchedulerClass(name: unknown): name is SchedulerClass {
  return typeof name === 'string' && (SCHEDULER_CLASSES as readonly string[]).includes(name);
}

/** Build the scheduler a config names; EngineError(BAD_MANIFEST) for unknown classes or options. */
export function createScheduler(config: SchedulerConfig): Scheduler {
  const name = config._class_name;
  if (!isSchedulerClass(name)) {
    const expected = SCHEDULER_CLASSES.join(', ');
    throw new EngineError(
      ErrorCode.BadManifest,
      `Scheduler config: _class_name ${name === undefined ? 'is missing' : `"${String(name)}" is not supported`}; `
      + `expected one of ${expected}. Use a bundle whose schedulers are among these.`,
      { expected: `_class_name: one of ${expected}`, actual: `_class_name: ${String(name)}` },
    );
  }
  switch (name) {
    case 'UnCLIPScheduler':
      return new UnCLIPScheduler(config);
    case 'DDPMScheduler':
      return new DDPMScheduler(config);
    case 'DDIMScheduler':
      return new DDIMScheduler(config);
    case 'DPMSolverMultistepScheduler':
      return new DPMSolverMultistepScheduler(config);
    default: {
      const never: never = name;
      throw new Error(`unreachable scheduler class ${String(never)}`);
    }
  }
}

/** True when the bundle's own decoder config already is this kind (2.2's DDPM, 2.1's DDIM). */
function isKind(config: SchedulerConfig, kind: SchedulerKind): boolean {
  if (config._class_name !== SCHEDULER_KIND_CLASSES[kind]) return false;
  // dpmpp_2m is DPM-Solver++ of order 2 (diffusers' defaults); other DPM-Solver variants are not this kind.
  return kind !== 'dpmpp_2m' || ((config.algorithm_type ?? 'dpmsolver++') === 'dpmsolver++' && (config.solver_order ?? 2) === 2);
}

/** The diffusers config for a decoder scheduler kind: the bundle's own decoder when it is that kind, else the
 *  manifest's alternative for it, else the decoder config re-classed (one rule for the engine and for the
 *  manifest check, so both build the same scheduler). */
export function decoderConfigFor(
  decoder: SchedulerConfig, alternatives: Readonly<Record<string, SchedulerConfig>> | undefined, kind: SchedulerKind,
): SchedulerConfig {
  if (isKind(decoder, kind)) return decoder;
  const alt = (alternatives ?? {}) as Readonly<Record<string, SchedulerConfig | undefined>>;
  switch (kind) {
    case 'ddpm':
      return { ...decoder, _class_name: 'DDPMScheduler', ...(alt.ddpm ?? {}) };
    case 'ddim':
      return alt.ddim ?? { ...decoder, _class_name: 'DDIMScheduler', set_alpha_to_one: false };
    case 'dpmpp_2m':
      return alt.dpmpp_2m ?? { ...decoder, _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver++', solver_order: 2 };
    default: {
      const never: never = kind;
      throw new Error(`unreachable scheduler kind ${String(never)}`);
    }
  }
}
