/** From a result's recorded parameters back to the mode panel's state (gallery re-run). Pure. */
import type { ImageParameters } from '../editor/parameters.ts';
import { EDITOR_MODES, type Condition, type EditorMode, type ImageRef, type ModesState } from './state.ts';

/** The panel mode that re-runs a result: its own mode for image modes, else the editor's text2img (which inpaints over pixels). */
export function modeOfParameters(p: Pick<ImageParameters, 'mode'>): EditorMode {
  return EDITOR_MODES.find((m) => m === p.mode) ?? 'text2img';
}

/** Image ids a result's parameters refer to, in order, without repeats. */
export function imageIdsOf(p: Pick<ImageParameters, 'inputs'>): string[] {
  return [...new Set((p.inputs ?? []).flatMap((i) => (i.kind === 'image' ? [i.id] : [])))];
}

/**
 * The state that re-runs a result: mode, inputs with their weights, strength. `refOf` gives a
 * stored image's reference, or null when it is gone: such inputs are left out and listed in `missing`.
 */
export function stateFromParameters(
  p: Pick<ImageParameters, 'mode' | 'inputs' | 'strength'>, base: ModesState, refOf: (id: string) => ImageRef | null,
): { readonly state: ModesState; readonly missing: readonly string[] } {
  const mode = modeOfParameters(p);
  const missing: string[] = [];
  const ref = (id: string): ImageRef | null => {
    const r = refOf(id);
    if (!r && !missing.includes(id)) missing.push(id);
    return r;
  };
  const inputs = p.inputs ?? [];
  let state: ModesState = { ...base, mode, problem: null, strength: p.strength ?? base.strength };
  switch (mode) {
    case 'text2img':
      break;
    case 'img2img':
    case 'variations': {
      const first = inputs.find((i) => i.kind === 'image');
      state = { ...state, single: first?.kind === 'image' ? ref(first.id) : null };
      break;
    }
    case 'fusion': {
      const conditions: Condition[] = [];
      inputs.forEach((i, key) => {
        if (i.kind === 'text') { conditions.push({ kind: 'text', key, prompt: i.prompt, weight: i.weight }); return; }
        const r = ref(i.id);
        if (r) conditions.push({ kind: 'image', key, image: r, weight: i.weight });
      });
      state = { ...state, conditions };
      break;
    }
    default: {
      const unknown: never = mode; // a new mode puts its inputs back here
      throw new Error(`stateFromParameters: no case for mode ${String(unknown)}`);
    }
  }
  return { state, missing };
}
