/**
 * Which modes a bundle supports, from its stage list alone. The table mirrors MODE_STAGES in
 * ../engine.ts (a test keeps them equal); it lives here so the models worker never loads onnxruntime.
 */
import { MODES, type Mode } from '../protocol.ts';
import type { StageName } from '../runtime/types.ts';
import type { BundleModes } from './protocol.ts';

/** Stages each mode needs (same as engine.ts MODE_STAGES). */
export const MODE_REQUIREMENTS = {
  text2img: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  img2img: ['text_encoder', 'prior', 'unet', 'movq_encoder', 'movq_decoder'],
  inpaint: ['text_encoder', 'prior', 'unet_inpaint', 'movq_encoder', 'movq_decoder'],
  fusion: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
  variations: ['image_encoder', 'unet', 'movq_decoder'],
} as const satisfies Record<Mode, readonly StageName[]>;

/** Modes a bundle with these stages supports; fusing images also needs `image_encoder`. */
export function modesOf(stages: readonly StageName[]): BundleModes {
  const has = new Set(stages);
  const modes = Object.fromEntries(MODES.map((m) => [m, MODE_REQUIREMENTS[m].every((s) => has.has(s))])) as Record<Mode, boolean>;
  return { ...modes, imageFusion: modes.fusion && has.has('image_encoder') };
}

/** Why a mode is unavailable ("needs unet_inpaint"), or null when it is available. */
export function missingFor(mode: Mode | 'imageFusion', stages: readonly StageName[]): string | null {
  const has = new Set(stages);
  const need: readonly StageName[] = mode === 'imageFusion' ? [...MODE_REQUIREMENTS.fusion, 'image_encoder'] : MODE_REQUIREMENTS[mode];
  const missing = need.filter((s) => !has.has(s));
  return missing.length === 0 ? null : `needs ${missing.join(', ')}`;
}
