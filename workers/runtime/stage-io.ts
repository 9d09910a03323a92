/**
 * Stage input and output names per model family (SPEC §2; docs/kandinsky-2-1.md "Stages of a 2.1 bundle"):
 * the one home of the names, and the types the runtime's `run` and the stage wrappers (workers/stages/) derive from them.
 */
import type { HostTensor } from '../tensor/tensor.ts';
import { STAGE_NAMES, type StageName } from './types.ts';

/** Model families a bundle can hold (manifest `family` from version 2; version 1 is Kandinsky 2.2). */
export const MODEL_FAMILIES = ['kandinsky-2.1', 'kandinsky-2.2'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** True for a known family name. */
export function isModelFamily(v: unknown): v is ModelFamily {
  return typeof v === 'string' && (MODEL_FAMILIES as readonly string[]).includes(v);
}

/** Kandinsky 2.2 (and every version 1 bundle): SPEC §2's table. */
const KANDINSKY_2_2 = {
  text_encoder: { inputs: ['input_ids'], outputs: ['text_embeds', 'last_hidden_state'] },
  image_encoder: { inputs: ['pixel_values'], outputs: ['image_embeds'] },
  prior: {
    inputs: ['hidden_states', 'timestep', 'proj_embedding', 'encoder_hidden_states', 'attention_mask'],
    outputs: ['predicted_image_embedding'],
  },
  unet: { inputs: ['sample', 'timestep', 'image_embeds'], outputs: ['out_sample'] },
  unet_inpaint: { inputs: ['sample', 'timestep', 'image_embeds'], outputs: ['out_sample'] },
  movq_encoder: { inputs: ['image'], outputs: ['latents'] },
  movq_decoder: { inputs: ['latents'], outputs: ['image'] },
} as const;

/** Kandinsky 2.1: the UNets also take the multilingual encoder's token states and pooled embedding. */
const KANDINSKY_2_1 = {
  ...KANDINSKY_2_2,
  text_encoder_multilingual: { inputs: ['input_ids', 'attention_mask'], outputs: ['text_embeds', 'last_hidden_state'] },
  unet: { inputs: ['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'image_embeds'], outputs: ['out_sample'] },
  unet_inpaint: { inputs: ['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'image_embeds'], outputs: ['out_sample'] },
} as const;

type StageTable = Partial<Record<StageName, { readonly inputs: readonly string[]; readonly outputs: readonly string[] }>>;

/** Input and output names of each stage, per family; part of the contract. */
export const STAGE_IO_BY_FAMILY = {
  'kandinsky-2.2': KANDINSKY_2_2,
  'kandinsky-2.1': KANDINSKY_2_1,
} as const satisfies Record<ModelFamily, StageTable>;

/** Stages every bundle of a family must have; the others unlock modes (image input, inpainting, img2img). */
export const REQUIRED_STAGES_BY_FAMILY = {
  'kandinsky-2.2': ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  'kandinsky-2.1': ['text_encoder', 'prior', 'text_encoder_multilingual', 'unet', 'movq_decoder'],
} as const satisfies Record<ModelFamily, readonly StageName[]>;

/** The stages a family knows, in STAGE_NAMES order. */
export function familyStages(family: ModelFamily): StageName[] {
  return STAGE_NAMES.filter((stage) => stageIo(family, stage) !== undefined);
}

/** The names of a family's stage, or undefined when the family has no such stage. */
export function stageIo(family: ModelFamily, stage: StageName): { readonly inputs: readonly string[]; readonly outputs: readonly string[] } | undefined {
  return (STAGE_IO_BY_FAMILY[family] as StageTable)[stage];
}

type Tables = (typeof STAGE_IO_BY_FAMILY)[ModelFamily];
/** The families' tables that have stage S. */
type TablesWith<S extends StageName> = Extract<Tables, Record<S, unknown>>;
/** One family's input names of S (distributes over families). */
type InputsOf<T, S extends StageName> = T extends Record<S, { readonly inputs: readonly (infer N)[] }> ? N : never;
type OutputsOf<T, S extends StageName> = T extends Record<S, { readonly outputs: readonly (infer N)[] }> ? N : never;

/** Input names of stage S in any family ('sample' | 'timestep' | ... for the unet). */
export type StageInputs<S extends StageName> = InputsOf<TablesWith<S>, S> & string;
/** Output names of stage S in any family. */
export type StageOutputs<S extends StageName> = OutputsOf<TablesWith<S>, S> & string;

/** One family's full feeds of S. */
type FeedsOf<T, S extends StageName> = T extends unknown ? Record<InputsOf<T, S> & string, HostTensor> : never;
/** The feeds of stage S: every input of one family's version of the stage (a union over families). */
export type StageFeeds<S extends StageName> = FeedsOf<TablesWith<S>, S>;
/** What stage S returns: each of its outputs. */
export type StageResult<S extends StageName> = Record<StageOutputs<S>, HostTensor>;
