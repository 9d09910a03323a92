/**
 * The image modes' state and its pure transitions: which mode, which input images (by content id)
 * and texts with their weights, and img2img's strength. No React, no DOM.
 */
import { DEFAULTS, type Mode } from '../../workers/protocol.ts';
import type { ModesKey } from './i18n.ts';

/** Modes of the mode selector; 'text2img' is the editor's own frame behaviour (text-to-image, inpaint, outpaint). */
export const EDITOR_MODES = ['text2img', 'img2img', 'variations', 'fusion'] as const satisfies readonly Mode[];
export type EditorMode = (typeof EDITOR_MODES)[number];

/** Where an input image came from. */
export const IMAGE_SOURCES = ['frame', 'gallery', 'file'] as const;
export type ImageSource = (typeof IMAGE_SOURCES)[number];

/** An input image, named by its content id (its pixels live in the image store). */
export interface ImageRef {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly source: ImageSource;
  /** File name, gallery item id or "frame". */
  readonly name: string;
}

/** One weighted fusion input; `key` is a stable id for lists. */
export type Condition =
  | { readonly kind: 'image'; readonly key: number; readonly image: ImageRef; readonly weight: number }
  | { readonly kind: 'text'; readonly key: number; readonly prompt: string; readonly weight: number };

/** A message for the panel (a key of src/modes/i18n.ts with its values). */
export interface Problem {
  readonly key: ModesKey;
  readonly vars?: Readonly<Record<string, string | number>>;
}

/** Weight slider range and defaults. Negative weights are allowed, as in the reference. */
export const WEIGHTS = { min: -1, max: 1, step: 0.05, image: 0.5, text: 0.5 } as const;

/** img2img strength slider range (the engine needs steps × strength ≥ 1). */
export const STRENGTH = { min: 0.05, max: 1, step: 0.05, initial: DEFAULTS.strength } as const;

/** What the mode panel edits (persisted, except `problem` and `busy`). */
export interface ModesState {
  readonly mode: EditorMode;
  /** The one input image of img2img and variations. */
  readonly single: ImageRef | null;
  /** Fusion's weighted images and texts, in order (the order fixes the noise draws). */
  readonly conditions: readonly Condition[];
  readonly strength: number;
  /** Why the last action was refused, shown until the next change. */
  readonly problem: Problem | null;
  /** An input image is being decoded or stored. */
  readonly busy: boolean;
}

/** The state a fresh panel starts with. */
export const INITIAL_MODES: ModesState = {
  mode: 'text2img', single: null, conditions: [], strength: STRENGTH.initial, problem: null, busy: false,
};

/** True for the modes that take exactly one input image. */
export function isSingleImageMode(mode: EditorMode): mode is 'img2img' | 'variations' {
  return mode === 'img2img' || mode === 'variations';
}

const nextKey = (s: ModesState): number => s.conditions.reduce((k, c) => Math.max(k, c.key + 1), 0);

/** Switch mode; an image chosen in one mode carries over to an empty other one. */
export function withMode(s: ModesState, mode: EditorMode): ModesState {
  let next: ModesState = { ...s, mode, problem: null };
  if (isSingleImageMode(mode) && !s.single) {
    const first = s.conditions.find((c) => c.kind === 'image');
    if (first?.kind === 'image') next = { ...next, single: first.image };
  }
  if (mode === 'fusion' && s.conditions.length === 0 && s.single) {
    next = { ...next, conditions: [{ kind: 'image', key: 0, image: s.single, weight: WEIGHTS.image }] };
  }
  return next;
}

/** Add a chosen image: it becomes the single image, or a new fusion input. */
export function withImage(s: ModesState, image: ImageRef): ModesState {
  if (s.mode === 'fusion') {
    return { ...s, problem: null, conditions: [...s.conditions, { kind: 'image', key: nextKey(s), image, weight: WEIGHTS.image }] };
  }
  return { ...s, problem: null, single: image };
}

/** Add an empty text input to fusion. */
export function withText(s: ModesState, prompt = ''): ModesState {
  return { ...s, problem: null, conditions: [...s.conditions, { kind: 'text', key: nextKey(s), prompt, weight: WEIGHTS.text }] };
}

/** Remove input `index` (the single image in img2img/variations). */
export function withoutInput(s: ModesState, index: number): ModesState {
  if (s.mode !== 'fusion') return index === 0 ? { ...s, problem: null, single: null } : s;
  return { ...s, problem: null, conditions: s.conditions.filter((_, i) => i !== index) };
}

/** Set the weight of fusion input `index` (any finite number; the slider offers WEIGHTS.min..max). */
export function withWeight(s: ModesState, index: number, weight: number): ModesState {
  if (!Number.isFinite(weight)) return s;
  return { ...s, problem: null, conditions: s.conditions.map((c, i) => (i === index ? { ...c, weight } : c)) };
}

/** Set the prompt of text input `index`. */
export function withTextPrompt(s: ModesState, index: number, prompt: string): ModesState {
  return { ...s, problem: null, conditions: s.conditions.map((c, i) => (i === index && c.kind === 'text' ? { ...c, prompt } : c)) };
}

/** Set img2img's strength, clamped to 0..1. */
export function withStrength(s: ModesState, strength: number): ModesState {
  if (!Number.isFinite(strength)) return s;
  return { ...s, problem: null, strength: Math.min(1, Math.max(0, strength)) };
}

/** Ids of every image the state refers to. */
export function referencedImages(s: Pick<ModesState, 'single' | 'conditions'>): string[] {
  const ids = new Set<string>();
  if (s.single) ids.add(s.single.id);
  for (const c of s.conditions) if (c.kind === 'image') ids.add(c.image.id);
  return [...ids];
}

/** The persisted part of the state. */
export type SavedModes = Pick<ModesState, 'mode' | 'single' | 'conditions' | 'strength'>;

/** The part of the state worth saving. */
export function toSaved(s: ModesState): SavedModes {
  return { mode: s.mode, single: s.single, conditions: s.conditions, strength: s.strength };
}

/** A saved state back, dropping anything malformed (an old or damaged record loses only its bad parts). */
export function fromSaved(saved: unknown): ModesState {
  const v = (saved ?? {}) as Partial<Record<keyof SavedModes, unknown>>;
  const isRef = (r: unknown): r is ImageRef => {
    const x = r as Partial<ImageRef> | null;
    return !!x && typeof x.id === 'string' && Number.isInteger(x.width) && Number.isInteger(x.height)
      && IMAGE_SOURCES.includes(x.source as ImageSource) && typeof x.name === 'string';
  };
  const conditions = Array.isArray(v.conditions) ? v.conditions.filter((c: unknown): c is Condition => {
    const x = c as Partial<Record<string, unknown>> | null;
    if (!x || typeof x.weight !== 'number' || !Number.isFinite(x.weight) || typeof x.key !== 'number') return false;
    return (x.kind === 'image' && isRef(x.image)) || (x.kind === 'text' && typeof x.prompt === 'string');
  }) : [];
  return {
    ...INITIAL_MODES,
    mode: EDITOR_MODES.includes(v.mode as EditorMode) ? (v.mode as EditorMode) : 'text2img',
    single: isRef(v.single) ? v.single : null,
    conditions,
    strength: typeof v.strength === 'number' && v.strength >= 0 && v.strength <= 1 ? v.strength : STRENGTH.initial,
  };
}
