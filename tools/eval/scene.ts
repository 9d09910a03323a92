/** The shared scene vocabulary and scene records of the micro Kandinsky (tools/train/vocabulary.json, heldout.json). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A colour as sRGB bytes. */
export interface Rgb { readonly r: number; readonly g: number; readonly b: number }

/** What the analyser needs from vocabulary.json: names, sRGB colours and geometry. */
export interface Vocabulary {
  /** Object colours, name → sRGB. */
  readonly colors: Readonly<Record<string, Rgb>>;
  /** Background colours, name → sRGB (a subset of the colours plus e.g. cream). */
  readonly backgrounds: Readonly<Record<string, Rgb>>;
  readonly shapes: readonly string[];
  /** Size name → fraction of the image side. */
  readonly sizes: Readonly<Record<string, number>>;
  /** Position name → [column, row] of the object's centre in the 3×3 grid. */
  readonly positions: Readonly<Record<string, readonly [number, number]>>;
  readonly relations: readonly string[];
}

export interface SceneObject { readonly shape: string; readonly color: string; readonly size: string; readonly position: string }
export interface SceneRelation { readonly a: number; readonly b: number; readonly kind: string }
/** A scene as the generator describes it (scene.md). */
export interface Scene { readonly background: string; readonly objects: readonly SceneObject[]; readonly relation: SceneRelation | null }
/** A held-out record: a scene and its captions per language. */
export interface HeldoutRecord { readonly id: string; readonly scene: Scene; readonly captions: Readonly<Record<string, readonly string[]>> }

/** Parse "#rrggbb". */
export function hexToRgb(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`vocabulary: colour ${JSON.stringify(hex)} is not #rrggbb`);
  return { r: parseInt(m[1]!, 16), g: parseInt(m[2]!, 16), b: parseInt(m[3]!, 16) };
}

type Json = Record<string, unknown>;
const obj = (v: unknown, what: string): Json => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`vocabulary: ${what} must be an object`);
  return v as Json;
};

/** Read the analyser's view of vocabulary.json (parsed JSON). Throws a message naming the bad field. */
export function parseVocabulary(json: unknown): Vocabulary {
  const v = obj(json, 'the file');
  const colours = (key: string) => Object.fromEntries(
    Object.entries(obj(v[key], key)).map(([name, c]) => [name, hexToRgb(String(obj(c, `${key}.${name}`).hex))]),
  );
  const sizes = Object.fromEntries(Object.entries(obj(v.sizes, 'sizes')).map(([name, s]) => {
    const f = Number(obj(s, `sizes.${name}`).fraction);
    if (!(f > 0 && f <= 1)) throw new Error(`vocabulary: sizes.${name}.fraction must be in (0, 1]`);
    return [name, f];
  }));
  const positions = Object.fromEntries(Object.entries(obj(v.positions, 'positions')).map(([name, p]) => {
    const cell = obj(p, `positions.${name}`).cell;
    if (!Array.isArray(cell) || cell.length !== 2 || !cell.every((x) => x === 0 || x === 1 || x === 2)) {
      throw new Error(`vocabulary: positions.${name}.cell must be [column, row] in 0..2`);
    }
    return [name, [cell[0] as number, cell[1] as number] as const];
  }));
  return {
    colors: colours('colors'),
    backgrounds: colours('backgrounds'),
    shapes: Object.keys(obj(v.shapes, 'shapes')),
    sizes,
    positions,
    relations: Object.keys(obj(v.relations, 'relations')),
  };
}

const ROOT = join(import.meta.dirname, '..', '..');

/** The repository's vocabulary (tools/train/vocabulary.json). */
export function loadVocabulary(path = join(ROOT, 'tools/train/vocabulary.json')): Vocabulary {
  return parseVocabulary(JSON.parse(readFileSync(path, 'utf8')));
}

/** The held-out split (tools/train/heldout.json: a list of `{ id, scene, captions }`, or `{ rule, scenes: [...] }`). */
export function loadHeldout(path = join(ROOT, 'tools/train/heldout.json')): { rule: string; scenes: HeldoutRecord[] } {
  const file = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (Array.isArray(file)) return { rule: '', scenes: file as HeldoutRecord[] };
  const f = file as { rule?: unknown; scenes?: unknown };
  if (!Array.isArray(f.scenes)) throw new Error(`${path}: expected a list of held-out records or { rule, scenes: [...] }`);
  return { rule: String(f.rule ?? ''), scenes: f.scenes as HeldoutRecord[] };
}
