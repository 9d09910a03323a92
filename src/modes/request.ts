/**
 * Request building for every mode, the frame's own text-to-image/inpainting included: checks the
 * chosen inputs (clear problems that block a run, flags that only warn), and turns the mode state
 * and the frame into the engine's GenerateRequest plus the parameters a result records. Pure
 * functions (no DOM, no stores); the one request path AppController.generate runs.
 */
import { LIMITS, type BundleInfo, type CommonParams, type FusionCondition, type GenerateRequest, type RgbaImage } from '../../workers/protocol.ts';
import type { StageName } from '../../workers/runtime/types.ts';
import { MODE_STAGES } from '../../workers/modes.ts';
import { planFrame } from '../editor/compose.ts';
import type { Rect } from '../editor/geometry.ts';
import type { ImageParameters, InputParameter } from '../editor/parameters.ts';
import type { MessageKey } from '../app/i18n.ts';
import { aspectLabel, cropImage, cropPreview, type CropPreview } from './crop.ts';
import { shortId } from './image-id.ts';
import type { Condition, EditorMode, ImageRef, ModesState, Problem } from './state.ts';

/** Stages a mode needs that the bundle lacks (empty = available). Fusion of images also needs image_encoder (see missingForImages). */
export function missingStages(mode: EditorMode, stages: readonly StageName[]): StageName[] {
  const need: readonly StageName[] = MODE_STAGES[mode];
  return need.filter((s) => !stages.includes(s));
}

/** Stages needed to use images as inputs in `mode` that the bundle lacks. */
export function missingForImages(mode: EditorMode, stages: readonly StageName[]): StageName[] {
  if (mode === 'fusion') return stages.includes('image_encoder') ? [] : ['image_encoder'];
  return missingStages(mode, stages);
}

/** The crop the model applies to an input image in `mode`: the encoder's square, or img2img's frame aspect. */
export function previewFor(mode: EditorMode, image: Pick<ImageRef, 'width' | 'height'>, frame: { readonly width: number; readonly height: number }): CropPreview {
  return cropPreview(mode === 'img2img' ? 'frame' : 'encoder', image.width, image.height, frame);
}

/** A warning about one input that does not block the run. */
export interface Flag extends Problem {
  /** Index of the input in the panel's list. */
  readonly index: number;
}

/** Outcome of checking the inputs: the first problem that blocks a run (or null) and all warnings. */
export interface InputCheck {
  readonly problem: Problem | null;
  readonly flags: readonly Flag[];
}

/** What the checks need besides the state. */
export interface CheckContext {
  readonly frame: { readonly width: number; readonly height: number };
  readonly steps: number;
  /** Stages of the loaded bundle, or null when no model is loaded (availability is checked at run time then). */
  readonly stages: readonly StageName[] | null;
}

const pct = (kept: number): number => Math.round(kept * 100);

function cropFlag(mode: EditorMode, image: ImageRef, index: number, frame: CheckContext['frame']): Flag | null {
  const crop = previewFor(mode, image, frame);
  if (!crop.far) return null;
  const vars = { pct: pct(crop.kept), aspect: aspectLabel(image.width, image.height), frame: aspectLabel(frame.width, frame.height) };
  return { index, key: crop.kind === 'frame' ? 'flagCropFrame' : 'flagCropEncoder', vars };
}

/** The inputs a mode uses, in panel order. */
export function activeInputs(s: Pick<ModesState, 'mode' | 'single' | 'conditions'>): readonly Condition[] {
  if (s.mode === 'fusion') return s.conditions;
  if (s.mode === 'text2img' || !s.single) return [];
  return [{ kind: 'image', key: 0, image: s.single, weight: 1 }];
}

/** Check the inputs of an image mode: bad input is a problem (nothing runs), odd input a flag. */
export function checkInputs(s: Pick<ModesState, 'mode' | 'single' | 'conditions' | 'strength'>, ctx: CheckContext): InputCheck {
  const flags: Flag[] = [];
  if (s.mode === 'text2img') return { problem: null, flags };
  const inputs = activeInputs(s);
  inputs.forEach((c, index) => {
    if (c.kind === 'image') {
      const f = cropFlag(s.mode, c.image, index, ctx.frame);
      if (f) flags.push(f);
    }
    if (s.mode === 'fusion' && c.weight < 0) flags.push({ index, key: 'flagNegative' });
  });
  const problem = ((): Problem | null => {
    if (ctx.stages) {
      const missing = missingStages(s.mode, ctx.stages);
      if (missing.length > 0) return { key: 'unavailable', vars: { mode: s.mode, stages: missing.join(', ') } };
    }
    switch (s.mode) {
      case 'img2img':
      case 'variations': {
        if (!s.single) return { key: 'errNoImage' };
        if (s.mode === 'img2img' && Math.floor(ctx.steps * s.strength) < 1) {
          return { key: 'errStrengthTooLow', vars: { strength: s.strength, steps: ctx.steps, min: Math.ceil((100 / ctx.steps)) / 100 } };
        }
        return null;
      }
      case 'fusion': {
        if (s.conditions.length === 0) return { key: 'errNoConditions' };
        if (s.conditions.length > LIMITS.maxFusionConditions) return { key: 'errTooManyConditions', vars: { n: s.conditions.length, max: LIMITS.maxFusionConditions } };
        if (ctx.stages && s.conditions.some((c) => c.kind === 'image') && missingForImages('fusion', ctx.stages).length > 0) return { key: 'noImageEncoder' };
        const empty = s.conditions.findIndex((c) => c.kind === 'text' && c.prompt.trim() === '');
        if (empty >= 0) return { key: 'errEmptyText', vars: { n: empty + 1 } };
        if (s.conditions.every((c) => c.weight === 0)) return { key: 'errAllWeightsZero' };
        return null;
      }
    }
  })();
  return { problem, flags };
}

/** What building any mode's request needs besides the mode state: the prompt panel, the model and the frame. */
export interface RunContext {
  /** Parameters shared by every mode (frame size, seed, steps, guidance, ...), from the prompt panel. */
  readonly common: CommonParams;
  /** The prompt panel's prompt with its style applied (what the engine gets). */
  readonly prompt: string;
  /** The prompt as typed (recorded in the result's parameters). */
  readonly rawPrompt: string;
  readonly info: BundleInfo;
  /** The frame: its size is the output size. */
  readonly frame: Rect;
  /** The frame's pixels, and its painted mask (null when nothing in the frame is masked). */
  readonly image: RgbaImage;
  readonly mask: RgbaImage | null;
}

/** The parameters a result records beyond the shared ones. */
export type ModeParameters = Pick<ImageParameters, 'mode' | 'prompt'> & Partial<Pick<ImageParameters, 'strength' | 'inputs'>>;

/**
 * A request to run with what its results record and how they are pasted back into the frame
 * (`weights`: per-pixel blend, null = replace), or why not: a `problem` the mode panel shows,
 * or a `notice` the app shows (the frame's own mode).
 */
export type RunPlan =
  | {
      readonly ok: true; readonly request: GenerateRequest; readonly params: ModeParameters;
      readonly weights: Float32Array | null; readonly flags: readonly Flag[];
    }
  | { readonly ok: false; readonly problem: Problem }
  | { readonly ok: false; readonly notice: MessageKey };

/** Build the engine request of `s.mode`; `pixels` gives a stored input image (undefined when not loaded). */
export function buildRequest(
  s: Pick<ModesState, 'mode' | 'single' | 'conditions' | 'strength'>, ctx: RunContext, pixels: (id: string) => RgbaImage | undefined,
): RunPlan {
  const check = checkInputs(s, { frame: ctx.frame, steps: ctx.common.steps, stages: ctx.info.stages });
  if (check.problem) return { ok: false, problem: check.problem };
  const need = (ref: ImageRef): RgbaImage | Problem => pixels(ref.id) ?? { key: 'errImageMissing', vars: { id: shortId(ref.id) } };
  const isProblem = (v: RgbaImage | Problem): v is Problem => 'key' in v;
  switch (s.mode) {
    case 'text2img':
      return frameRequest(ctx);
    case 'img2img':
    case 'variations': {
      const ref = s.single!;
      const image = need(ref);
      if (isProblem(image)) return { ok: false, problem: image };
      const inputs: InputParameter[] = [{ kind: 'image', id: ref.id, weight: 1 }];
      if (s.mode === 'variations') {
        return {
          ok: true, request: { ...ctx.common, mode: 'variations', image }, params: { mode: 'variations', prompt: '', inputs }, weights: null, flags: check.flags,
        };
      }
      // img2img resizes its input to the output size: crop to the frame's aspect first so it is not stretched.
      const rect = previewFor('img2img', ref, ctx.frame).rect;
      return {
        ok: true,
        request: { ...ctx.common, mode: 'img2img', prompt: ctx.prompt, image: cropImage(image, rect), strength: s.strength },
        params: { mode: 'img2img', prompt: ctx.rawPrompt, strength: s.strength, inputs },
        weights: null,
        flags: check.flags,
      };
    }
    case 'fusion': {
      const conditions: FusionCondition[] = [];
      for (const c of s.conditions) {
        if (c.kind === 'text') {
          conditions.push({ kind: 'text', prompt: c.prompt, weight: c.weight });
          continue;
        }
        const image = need(c.image);
        if (isProblem(image)) return { ok: false, problem: image };
        conditions.push({ kind: 'image', image, weight: c.weight, id: c.image.id });
      }
      return {
        ok: true, request: { ...ctx.common, mode: 'fusion', conditions }, params: { mode: 'fusion', prompt: '', inputs: toInputParameters(s.conditions) },
        weights: null, flags: check.flags,
      };
    }
  }
}

/** The frame's own mode: text-to-image over empty canvas, inpainting where the frame is empty or masked over pixels. */
function frameRequest(ctx: RunContext): RunPlan {
  const plan = planFrame(ctx.image, ctx.mask);
  switch (plan.kind) {
    case 'nothing-to-repaint':
      return { ok: false, notice: 'errFrameFull' };
    case 'text2img':
      if (ctx.prompt === '') return { ok: false, notice: 'errEmptyPrompt' };
      return {
        ok: true, request: { mode: 'text2img', prompt: ctx.prompt, ...ctx.common }, params: { mode: 'text2img', prompt: ctx.rawPrompt }, weights: null, flags: [],
      };
    case 'inpaint':
      if (!ctx.info.modes.inpaint) return { ok: false, notice: 'errNoInpaint' };
      return {
        ok: true,
        request: { mode: 'inpaint', prompt: ctx.prompt, image: plan.image, mask: plan.mask, ...ctx.common },
        params: { mode: 'inpaint', prompt: ctx.rawPrompt },
        weights: plan.weights,
        flags: [],
      };
  }
}

/** Fusion inputs as recorded in a result's parameters. */
export function toInputParameters(conditions: readonly Condition[]): InputParameter[] {
  return conditions.map((c) => (c.kind === 'image'
    ? { kind: 'image' as const, id: c.image.id, weight: c.weight }
    : { kind: 'text' as const, prompt: c.prompt, weight: c.weight }));
}
