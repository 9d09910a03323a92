/**
 * Reading a stored session back: every field of the record is checked, a damaged field is
 * replaced by its default, a damaged tile or history step is left out, and the list of what
 * was wrong comes back so the caller can keep the original record for export.
 * Pure functions: no IndexedDB here (the property tests feed arbitrary values).
 */
import { LIMITS, MODEL_FAMILIES, MODES, SCHEDULER_KINDS } from '../../workers/protocol.ts';
import { EXECUTION_PROVIDERS } from '../../workers/runtime/types.ts';
import { BRUSH_LIMITS } from '../editor/brush.ts';
import { LAYER_IDS } from '../editor/document.ts';
import { TOOL_IDS } from '../editor/editor.ts';
import { ASPECT_NAMES } from '../editor/frame.ts';
import type { ImageParameters, InputParameter } from '../editor/parameters.ts';
import { TILE_SIZE } from '../editor/tiled-layer.ts';
import { ZOOM_LIMITS } from '../editor/viewport.ts';
import { LANGUAGES } from './i18n.ts';
import { STYLE_IDS } from './presets.ts';
import { DEFAULT_PARAMS, type GalleryItem, type GenParams } from './store.ts';
import type { SessionMeta, StepRecord } from './persistence.ts';

/** Bytes of one stored tile (RGBA). */
export const TILE_BYTES = TILE_SIZE * TILE_SIZE * 4;

/** Largest frame side or long side a record may hold (the engine's limit is 2048; frames may be larger than a run). */
const MAX_SIDE = 8192;
/** Largest |coordinate| of a frame or camera offset a record may hold. */
const MAX_COORD = 1e9;

/** The three stores of a session as read from IndexedDB, unchecked. */
export interface RawSession {
  readonly meta: unknown;
  readonly tiles: readonly unknown[];
  readonly steps: readonly unknown[];
}

/** A checked session: every tile has the right key and size, every history id names a step that is held. */
export interface SavedSession {
  readonly meta: SessionMeta | null;
  readonly tiles: readonly { readonly key: string; readonly data: Uint8ClampedArray }[];
  readonly steps: readonly StepRecord[];
}

/** What reading a record gave: the session to restore (null: nothing saved) and what had to be repaired. */
export interface ReadSession {
  readonly session: SavedSession | null;
  /** Empty when the record was sound; otherwise one line per repair (English, for the export and the log). */
  readonly problems: readonly string[];
}

const TILE_KEY = new RegExp(`^(${LAYER_IDS.join('|')})/(-?\\d{1,9}),(-?\\d{1,9})$`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isNum = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isOneOf = <T extends string>(v: unknown, list: readonly T[]): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);
/** A tile key "layer/tx,ty" with a known layer and integer coordinates. */
export const isTileKey = (v: unknown): v is string => typeof v === 'string' && TILE_KEY.test(v);
const isTileData = (v: unknown): v is Uint8ClampedArray => v instanceof Uint8ClampedArray && v.length === TILE_BYTES;

/** Checks field by field; a bad field takes `fallback` and is noted. */
class Repairer {
  readonly problems: string[] = [];
  field<T>(obj: Record<string, unknown>, name: string, ok: (v: unknown) => v is T, fallback: T, where: string): T {
    const v = obj[name];
    if (ok(v)) return v;
    this.problems.push(`${where}.${name}: ${describe(v)}, replaced by the default`);
    return fallback;
  }
}

/** A short, safe description of a bad value (never the value itself when it is large). */
function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'string') return `string of ${v.length} characters`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of ${v.byteLength} bytes`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  return typeof v;
}

const isRect = (v: unknown): v is SessionMeta['frame'] =>
  isObject(v) && isInt(v.x, -MAX_COORD, MAX_COORD) && isInt(v.y, -MAX_COORD, MAX_COORD) && isInt(v.width, 1, MAX_SIDE) && isInt(v.height, 1, MAX_SIDE);
const isCamera = (v: unknown): v is SessionMeta['camera'] =>
  isObject(v) && isNum(v.offsetX, -MAX_COORD, MAX_COORD) && isNum(v.offsetY, -MAX_COORD, MAX_COORD) && isNum(v.zoom, ZOOM_LIMITS.min, ZOOM_LIMITS.max);
const isBrush = (v: unknown): v is SessionMeta['brush'] =>
  isObject(v) && isNum(v.size, BRUSH_LIMITS.minSize, BRUSH_LIMITS.maxSize) && isNum(v.hardness, 0, 1);
const isSeed = (v: unknown): v is number => isInt(v, 0, 2 ** 32 - 1);

function isInput(v: unknown): v is InputParameter {
  if (!isObject(v) || !isNum(v.weight, -1e6, 1e6)) return false;
  if (v.kind === 'image') return typeof v.id === 'string';
  if (v.kind === 'text') return typeof v.prompt === 'string';
  return false;
}

/** True for a well-formed ImageParameters (types only: the values are what a run used). */
export function isImageParameters(v: unknown): v is ImageParameters {
  if (!isObject(v)) return false;
  for (const k of ['prompt', 'negativePrompt', 'style', 'model', 'ep'] as const) if (typeof v[k] !== 'string') return false;
  if (!isOneOf(v.mode, MODES) || !isOneOf(v.scheduler, SCHEDULER_KINDS)) return false;
  for (const k of ['width', 'height', 'steps', 'priorSteps'] as const) if (!isInt(v[k], 0, 1e6)) return false;
  for (const k of ['guidance', 'priorGuidance'] as const) if (!isNum(v[k], -1e6, 1e6)) return false;
  if (!isNum(v.seed, 0, Number.MAX_SAFE_INTEGER)) return false;
  if (v.strength !== undefined && !isNum(v.strength, 0, 1)) return false;
  if (v.inputs !== undefined && !(Array.isArray(v.inputs) && v.inputs.every(isInput))) return false;
  return true;
}

function readParams(v: unknown, r: Repairer): GenParams {
  if (!isObject(v)) {
    r.problems.push(`params: ${describe(v)}, replaced by the defaults`);
    return DEFAULT_PARAMS;
  }
  const d = DEFAULT_PARAMS;
  const w = 'params';
  const str = (x: unknown): x is string => typeof x === 'string';
  return {
    prompt: r.field(v, 'prompt', str, d.prompt, w),
    negativePrompt: r.field(v, 'negativePrompt', str, d.negativePrompt, w),
    style: r.field(v, 'style', (x): x is GenParams['style'] => isOneOf(x, STYLE_IDS), d.style, w),
    randomSeed: r.field(v, 'randomSeed', (x): x is boolean => typeof x === 'boolean', d.randomSeed, w),
    seed: r.field(v, 'seed', isSeed, d.seed, w),
    steps: r.field(v, 'steps', (x): x is number => isInt(x, 1, LIMITS.maxSteps), d.steps, w),
    guidance: r.field(v, 'guidance', (x): x is number => isNum(x, 0, LIMITS.maxGuidance), d.guidance, w),
    priorSteps: r.field(v, 'priorSteps', (x): x is number => isInt(x, 1, LIMITS.maxPriorSteps), d.priorSteps, w),
    priorGuidance: r.field(v, 'priorGuidance', (x): x is number => isNum(x, 0, LIMITS.maxGuidance), d.priorGuidance, w),
    scheduler: r.field(v, 'scheduler', (x): x is GenParams['scheduler'] => isOneOf(x, SCHEDULER_KINDS), d.scheduler, w),
    numImages: r.field(v, 'numImages', (x): x is number => isInt(x, 1, LIMITS.maxImages), d.numImages, w),
    // Records from before model families were all Kandinsky 2.2's: a missing family is that, not damage.
    family: v.family === undefined ? d.family : r.field(v, 'family', (x): x is GenParams['family'] => isOneOf(x, MODEL_FAMILIES), d.family, w),
  };
}

/** The defaults a damaged meta field falls back to (a fresh editor's). */
const META_DEFAULTS = {
  frame: { x: 0, y: 0, width: 512, height: 512 },
  aspect: '1:1',
  longSide: 512,
  camera: { offsetX: 0, offsetY: 0, zoom: 1 },
  brush: { size: BRUSH_LIMITS.defaultSize, hardness: BRUSH_LIMITS.defaultHardness },
  tool: 'frame',
  settings: { provider: 'auto', smallFrames: false, livePreview: null },
} as const satisfies Partial<SessionMeta>;

const PROVIDERS = ['auto', ...EXECUTION_PROVIDERS] as const;

function readMeta(v: Record<string, unknown>, r: Repairer): Omit<SessionMeta, 'history'> {
  const w = 'session';
  const settings = isObject(v.settings)
    ? {
        provider: r.field(v.settings, 'provider', (x): x is (typeof PROVIDERS)[number] => isOneOf(x, PROVIDERS), META_DEFAULTS.settings.provider, 'settings'),
        smallFrames: r.field(v.settings, 'smallFrames', (x): x is boolean => typeof x === 'boolean', META_DEFAULTS.settings.smallFrames, 'settings'),
        // Records from before live previews have none: the default, not damage.
        livePreview: v.settings.livePreview === undefined
          ? META_DEFAULTS.settings.livePreview
          : r.field(v.settings, 'livePreview', (x): x is boolean | null => x === null || typeof x === 'boolean', META_DEFAULTS.settings.livePreview, 'settings'),
      }
    : r.field(v, 'settings', (_x): _x is SessionMeta['settings'] => false, META_DEFAULTS.settings, w);
  return {
    version: 1,
    frame: r.field(v, 'frame', isRect, META_DEFAULTS.frame, w),
    aspect: r.field(v, 'aspect', (x): x is SessionMeta['aspect'] => isOneOf(x, ASPECT_NAMES), META_DEFAULTS.aspect, w),
    // The frame presets need a multiple of 64 (frame.ts frameDimensions).
    longSide: r.field(v, 'longSide', (x): x is number => isInt(x, 64, MAX_SIDE) && x % 64 === 0, META_DEFAULTS.longSide, w),
    camera: r.field(v, 'camera', isCamera, META_DEFAULTS.camera, w),
    brush: r.field(v, 'brush', isBrush, META_DEFAULTS.brush, w),
    tool: r.field(v, 'tool', (x): x is SessionMeta['tool'] => isOneOf(x, TOOL_IDS), META_DEFAULTS.tool, w),
    params: readParams(v.params, r),
    lastSeed: r.field(v, 'lastSeed', (x): x is number | null => x === null || isSeed(x), null, w),
    lastParams: r.field(v, 'lastParams', (x): x is ImageParameters | null => x === null || isImageParameters(x), null, w),
    language: r.field(v, 'language', (x): x is SessionMeta['language'] => isOneOf(x, Object.keys(LANGUAGES) as (keyof typeof LANGUAGES)[]), 'en', w),
    settings,
  };
}

/** A stored history step, or the reason it cannot be used. */
function readStep(v: unknown): StepRecord | string {
  if (!isObject(v)) return describe(v);
  if (!isInt(v.id, 1, Number.MAX_SAFE_INTEGER)) return `id ${describe(v.id)}`;
  if (typeof v.name !== 'string') return `step ${v.id}: name ${describe(v.name)}`;
  if (!Array.isArray(v.tiles)) return `step ${v.id}: tiles ${describe(v.tiles)}`;
  const seen = new Set<string>();
  const tiles: { key: string; data: Uint8ClampedArray | null }[] = [];
  for (const t of v.tiles as unknown[]) {
    if (!isObject(t) || !isTileKey(t.key) || seen.has(t.key)) return `step ${v.id}: a tile with a bad or repeated key`;
    if (t.data !== null && !isTileData(t.data)) return `step ${v.id}: tile ${t.key} is ${describe(t.data)}, expected ${TILE_BYTES} bytes`;
    seen.add(t.key);
    tiles.push({ key: t.key, data: t.data });
  }
  return { id: v.id, name: v.name, tiles };
}

/**
 * The longest tail of `ids` whose steps are all held: undo and redo pop from the end, so a step
 * can only be applied if every step after it in the list is there too.
 */
function usableTail(ids: readonly number[], byId: ReadonlyMap<number, StepRecord>, used: Set<number>): number[] {
  let start = ids.length;
  while (start > 0) {
    const id = ids[start - 1];
    if (id === undefined || !byId.has(id) || used.has(id)) break;
    used.add(id);
    start--;
  }
  return ids.slice(start);
}

/** Check a stored session; never throws. Damaged parts are repaired or left out and listed in `problems`. */
export function readSessionRecord(raw: RawSession): ReadSession {
  const r = new Repairer();
  const problems = r.problems;
  const rawTiles = Array.isArray(raw.tiles) ? raw.tiles : [];
  const rawSteps = Array.isArray(raw.steps) ? raw.steps : [];
  if ((raw.meta === undefined || raw.meta === null) && rawTiles.length === 0 && rawSteps.length === 0) return { session: null, problems: [] };

  const tiles: { key: string; data: Uint8ClampedArray }[] = [];
  const tileKeys = new Set<string>();
  for (const t of rawTiles) {
    if (!isObject(t) || !isTileKey(t.key)) { problems.push(`tile: bad key (${describe(isObject(t) ? t.key : t)}), left out`); continue; }
    if (tileKeys.has(t.key)) { problems.push(`tile ${t.key}: repeated, left out`); continue; }
    if (!isTileData(t.data)) { problems.push(`tile ${t.key}: ${describe(t.data)}, expected ${TILE_BYTES} bytes; left out`); continue; }
    tileKeys.add(t.key);
    tiles.push({ key: t.key, data: t.data });
  }

  const byId = new Map<number, StepRecord>();
  for (const s of rawSteps) {
    const step = readStep(s);
    if (typeof step === 'string') problems.push(`history step: ${step}; left out`);
    else if (byId.has(step.id)) problems.push(`history step ${step.id}: repeated; left out`);
    else byId.set(step.id, step);
  }

  if (!isObject(raw.meta) || raw.meta.version !== 1) {
    problems.push(isObject(raw.meta) ? `session version ${describe(raw.meta.version)}: settings and history not restored` : `session settings: ${describe(raw.meta)}; defaults used, history not restored`);
    return { session: { meta: null, tiles, steps: [] }, problems };
  }

  const base = readMeta(raw.meta, r);
  const h = raw.meta.history;
  const idList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => isInt(x, 1, Number.MAX_SAFE_INTEGER));
  let undoIds: number[] = [];
  let redoIds: number[] = [];
  if (!isObject(h) || !idList(h.undo) || !idList(h.redo)) {
    problems.push(`session.history: ${isObject(h) ? 'bad step lists' : describe(h)}; undo steps not restored`);
  } else {
    const used = new Set<number>();
    undoIds = usableTail(h.undo, byId, used);
    redoIds = usableTail(h.redo, byId, used);
    const lost = h.undo.length - undoIds.length + h.redo.length - redoIds.length;
    if (lost > 0) problems.push(`session.history: ${lost} step(s) missing or damaged; the older ones were left out`);
  }
  const steps = [...undoIds, ...redoIds].map((id) => byId.get(id)).filter((s): s is StepRecord => s !== undefined);
  const maxId = Math.max(0, ...steps.map((s) => s.id));
  const storedNext = isObject(h) ? h.nextId : undefined;
  let nextId = maxId + 1;
  if (isInt(storedNext, 1, Number.MAX_SAFE_INTEGER)) nextId = Math.max(storedNext, nextId);
  else if (isObject(h)) problems.push(`session.history.nextId: ${describe(storedNext)}, recomputed`);
  const meta: SessionMeta = { ...base, history: { nextId, undo: undoIds, redo: redoIds } };
  return { session: { meta, tiles, steps }, problems };
}

/** Gallery records that are well formed; the others stay in storage untouched and are counted. */
export function readGalleryRecords(raw: readonly unknown[]): { readonly items: GalleryItem[]; readonly skipped: number } {
  const items: GalleryItem[] = [];
  let skipped = 0;
  for (const v of raw) {
    if (isObject(v) && typeof v.id === 'string' && isNum(v.createdAt, 0, Number.MAX_SAFE_INTEGER) && isInt(v.width, 1, MAX_SIDE)
      && isInt(v.height, 1, MAX_SIDE) && v.png instanceof Uint8Array && isImageParameters(v.params)) {
      items.push(v as unknown as GalleryItem);
    } else {
      skipped++;
    }
  }
  return { items, skipped };
}
