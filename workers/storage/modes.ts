/** Which modes a bundle supports, from its stage list alone (no onnxruntime in the models worker). */
import { MODES, type Mode } from '../protocol.ts';
import type { StageName } from '../runtime/types.ts';
import { MODE_STAGES } from '../modes.ts';
import type { BundleModes } from './protocol.ts';

/** Stages each mode needs: the engine's table. */
export const MODE_REQUIREMENTS = MODE_STAGES;

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
