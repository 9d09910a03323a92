/**
 * A classical semantic analyser of generated scenes (issue 11, no learned judge): estimate the background,
 * find the regions unlike it, name each one's colour, rough shape, size and grid position, and check a
 * scene record against them. Isomorphic (no Node or DOM imports), so e2e tests and the evaluation share it.
 */
import type { Rgb, Scene, Vocabulary } from './scene.ts';

/** RGBA pixels, row-major (the engine's `RgbaImage`). */
export interface Pixels { readonly width: number; readonly height: number; readonly data: Uint8ClampedArray | Uint8Array }

/** CIELAB (D65). */
export interface Lab { readonly L: number; readonly a: number; readonly b: number }

function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** sRGB bytes → CIELAB under D65 (IEC 61966-2-1 transfer, CIE 1976 L*a*b*). */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const R = linear(r), G = linear(g), B = linear(b);
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f(x), fy = f(y), fz = f(z);
  return { L: 116 * fy - 16, a: 500 * (fx - fy), b: 200 * (fy - fz) };
}

/** CIE76 colour difference ΔE*ab (Euclidean in CIELAB); enough to tell ten well-separated palette colours apart. */
export function deltaE(p: Lab, q: Lab): number {
  return Math.hypot(p.L - q.L, p.a - q.a, p.b - q.b);
}

const labOf = (c: Rgb): Lab => rgbToLab(c.r, c.g, c.b);

/** The name of the palette colour nearest to `lab` (ΔE), with its distance. */
export function nearestColour(lab: Lab, palette: Readonly<Record<string, Rgb>>, exclude: ReadonlySet<string> = new Set()): { name: string; distance: number } {
  let best = { name: '', distance: Infinity };
  for (const [name, rgb] of Object.entries(palette)) {
    if (exclude.has(name)) continue;
    const d = deltaE(lab, labOf(rgb));
    if (d < best.distance) best = { name, distance: d };
  }
  return best;
}

/** Measured shape features of one region (all scale-free). */
export interface ShapeFeatures {
  /** Region area (holes filled) over the area of its minimum-area enclosing rectangle. */
  readonly fill: number;
  /** Long side over short side of that rectangle. */
  readonly aspect: number;
  /** Region area (holes filled) over its convex hull's area. */
  readonly solidity: number;
  /** Enclosed background-like area over the region's area with holes filled. */
  readonly holeRatio: number;
  /** Area over 4π√det(Σ) of its second moments: 1 for a disc, 3/π ≈ 0.95 for a square, 0.83 for an equilateral triangle. */
  readonly compactness: number;
}

/** One region unlike the background. */
export interface Region {
  readonly color: string;
  /** ΔE between the mean of the region's core (its half farthest from the background) and the named palette colour. */
  readonly colorDistance: number;
  readonly shape: string;
  readonly features: ShapeFeatures;
  /** Pixels in the region, holes not counted. */
  readonly area: number;
  readonly bbox: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Centre in fractions of the image side: of the bounding box, or of the fitted circle for an arc. */
  readonly centre: { readonly x: number; readonly y: number };
  /** [column, row] of the centre in the 3×3 grid. */
  readonly cell: readonly [number, number];
  /** The vocabulary's name for that cell. */
  readonly position: string;
  /** The vocabulary's size nearest to the bounding box's longer side (fraction of the image side). */
  readonly size: string;
}

/** What the analyser saw in one image. */
export interface Analysis {
  readonly width: number;
  readonly height: number;
  /**
   * The border's commonest palette colour, the mean CIELAB of the border pixels nearest to it and that mean's ΔE to
   * the nearest background colour; `found` when that ΔE is small and the colour holds most of the border.
   */
  readonly background: { readonly name: string; readonly lab: Lab; readonly distance: number; readonly share: number; readonly found: boolean };
  /** Regions, largest first; none when no plain background was found (noise is not a scene). */
  readonly regions: readonly Region[];
}

/** Tuning of the analyser; the defaults are what the tests and the evaluation use. */
export interface AnalyseOptions {
  /** Smallest region kept, as a fraction of the image area (a small line of the vocabulary covers ~0.5 %). */
  readonly minAreaFraction?: number;
  /** How far from the background towards a colour (0..1) a pixel must be to belong to an object of that colour. */
  readonly coverage?: number;
}

/** Smallest ΔE between a background and an object colour that the generator draws (white on cream, 11, is not drawn). */
const MIN_CONTRAST = 15;

/**
 * A background is found when its border colour is within this ΔE of a background colour (about a quarter of the
 * palette's spacing) and holds at least this share of the border (objects touch at most one or two sides).
 */
const BACKGROUND_MAX_DELTA_E = 25;
const BACKGROUND_MIN_SHARE = 0.4;

/** Background: the mode of the border pixels' nearest colour names, then their mean CIELAB colour. */
function estimateBackground(labs: Lab[], w: number, h: number, vocab: Vocabulary): Analysis['background'] {
  const palette = { ...vocab.colors, ...vocab.backgrounds };
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(x, (h - 1) * w + x);
  for (let y = 1; y < h - 1; y++) border.push(y * w, y * w + w - 1);
  const groups = new Map<string, Lab[]>();
  for (const i of border) {
    const name = nearestColour(labs[i]!, palette).name;
    const g = groups.get(name) ?? [];
    g.push(labs[i]!);
    groups.set(name, g);
  }
  let mode: Lab[] = [];
  for (const g of groups.values()) if (g.length > mode.length) mode = g;
  const mean = (k: keyof Lab) => mode.reduce((s, p) => s + p[k], 0) / mode.length;
  const lab = { L: mean('L'), a: mean('a'), b: mean('b') };
  const named = nearestColour(lab, vocab.backgrounds);
  const share = mode.length / border.length;
  return { name: named.name, lab, distance: named.distance, share, found: named.distance <= BACKGROUND_MAX_DELTA_E && share >= BACKGROUND_MIN_SHARE };
}

/**
 * Label pixels by a mixing model: an anti-aliased or blurred edge pixel lies on the segment between the background
 * and its object's colour, so it takes the colour whose segment passes nearest (not simply the nearest colour, which
 * would call a red disc's soft edge on white "pink"), and it belongs to the object when it is at least `coverage` of
 * the way from the background to that colour — the boundary an anti-aliased drawing has at half coverage.
 */
function labelPixels(labs: Lab[], bg: Lab, candidates: Array<{ name: string; lab: Lab }>, coverage: number): Int16Array {
  const labels = new Int16Array(labs.length).fill(-1);
  const dirs = candidates.map(({ lab: c }) => {
    const dL = c.L - bg.L, da = c.a - bg.a, db = c.b - bg.b;
    return { dL, da, db, len2: dL * dL + da * da + db * db };
  });
  for (let i = 0; i < labs.length; i++) {
    const p = labs[i]!;
    const pL = p.L - bg.L, pa = p.a - bg.a, pb = p.b - bg.b;
    let best = -1, bestD = Infinity, bestT = 0;
    for (let k = 0; k < dirs.length; k++) {
      const { dL, da, db, len2 } = dirs[k]!;
      const t = Math.min(1, Math.max(0, (pL * dL + pa * da + pb * db) / len2));
      const d = Math.hypot(pL - t * dL, pa - t * da, pb - t * db);
      if (d < bestD) {
        bestD = d;
        best = k;
        bestT = t;
      }
    }
    if (bestT >= coverage) labels[i] = best;
  }
  return labels;
}

/** 8-connected components of equal labels; returns pixel index lists. */
function components(labels: Int16Array, w: number, h: number): Array<{ label: number; pixels: number[] }> {
  const seen = new Uint8Array(labels.length);
  const out: Array<{ label: number; pixels: number[] }> = [];
  for (let start = 0; start < labels.length; start++) {
    const label = labels[start]!;
    if (label < 0 || seen[start]) continue;
    const pixels: number[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      pixels.push(i);
      const x = i % w, y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const j = ny * w + nx;
          if (!seen[j] && labels[j] === label) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    out.push({ label, pixels });
  }
  return out;
}

type Pt = readonly [number, number];

/** Convex hull (Andrew's monotone chain), counter-clockwise, no repeated end point. */
function convexHull(points: Pt[]): Pt[] {
  const pts = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (pts.length < 3) return pts;
  const cross = (o: Pt, a: Pt, b: Pt) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (list: Pt[]) => {
    const h: Pt[] = [];
    for (const p of list) {
      while (h.length >= 2 && cross(h[h.length - 2]!, h[h.length - 1]!, p) <= 0) h.pop();
      h.push(p);
    }
    h.pop();
    return h;
  };
  return [...half(pts), ...half(pts.reverse())];
}

function polygonArea(poly: readonly Pt[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const p = poly[i]!, q = poly[(i + 1) % poly.length]!;
    s += p[0] * q[1] - q[0] * p[1];
  }
  return Math.abs(s) / 2;
}

/** Minimum-area enclosing rectangle of a convex polygon: one of its sides lies on a hull edge (Freeman & Shapira 1975). */
function minAreaRect(hull: readonly Pt[]): { area: number; long: number; short: number } {
  let best = { area: Infinity, long: 0, short: 0 };
  for (let i = 0; i < hull.length; i++) {
    const p = hull[i]!, q = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(q[0] - p[0], q[1] - p[1]);
    if (len === 0) continue;
    const ux = (q[0] - p[0]) / len, uy = (q[1] - p[1]) / len;
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const r of hull) {
      const u = r[0] * ux + r[1] * uy, v = -r[0] * uy + r[1] * ux;
      minU = Math.min(minU, u); maxU = Math.max(maxU, u); minV = Math.min(minV, v); maxV = Math.max(maxV, v);
    }
    const a = maxU - minU, b = maxV - minV;
    if (a * b < best.area) best = { area: a * b, long: Math.max(a, b), short: Math.min(a, b) };
  }
  return best;
}

/**
 * Classify a region from its features. Ideal values: square fill 1, circle π/4, triangle 1/2 (fill of the minimum
 * rectangle); compactness 0.95, 1 and 0.83; a ring encloses background; a line is long; an arc is a thin half ring
 * (compactness ≈ 0.45). The thresholds sit between the values measured on data.py-like renders at 64 px, clean,
 * with noise and blurred (tools/eval/analyse.test.ts); a blob the model smudged lands on the nearest description.
 */
export function classifyShape(f: ShapeFeatures): string {
  if (f.holeRatio >= 0.15) return 'ring';
  if (f.aspect >= 2.8) return 'line';
  if (f.compactness < 0.65) return 'arc';
  if (f.fill >= 0.88 || (f.fill >= 0.8 && f.compactness < 0.965)) return 'square';
  if (f.fill >= 0.68 && f.compactness >= 0.9) return 'circle';
  return 'triangle';
}

function cellName(vocab: Vocabulary, col: number, row: number): string {
  for (const [name, cell] of Object.entries(vocab.positions)) if (cell[0] === col && cell[1] === row) return name;
  return `${col},${row}`;
}

function nearestSize(vocab: Vocabulary, fraction: number): string {
  let best = '', bestD = Infinity;
  for (const [name, f] of Object.entries(vocab.sizes)) {
    const d = Math.abs(Math.log(fraction / f));
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}

/** Measure one component: fill its enclosed holes, split them into background-like holes and other pixels. */
function describe(pixels: readonly number[], w: number, h: number, bgLike: (i: number) => boolean): { features: ShapeFeatures; long: number; bbox: Region['bbox'] } {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (const i of pixels) {
    const x = i % w, y = (i - x) / w;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  // Flood the bounding box (padded by one) from outside through non-region pixels; what is not reached is enclosed.
  const pw = bw + 2, ph = bh + 2;
  const inRegion = new Uint8Array(pw * ph);
  for (const i of pixels) {
    const x = i % w, y = (i - x) / w;
    inRegion[(y - y0 + 1) * pw + (x - x0 + 1)] = 1;
  }
  const outside = new Uint8Array(pw * ph);
  const stack = [0];
  outside[0] = 1;
  while (stack.length > 0) {
    const j = stack.pop()!;
    const x = j % pw, y = (j - x) / pw;
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
      const nx = x + dx, ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= pw || ny >= ph) continue;
      const k = ny * pw + nx;
      if (!outside[k] && !inRegion[k]) {
        outside[k] = 1;
        stack.push(k);
      }
    }
  }
  let holes = 0, filled = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const rows: Array<[number, number]> = Array.from({ length: bh }, () => [Infinity, -Infinity]);
  for (let y = 1; y <= bh; y++) {
    for (let x = 1; x <= bw; x++) {
      const k = y * pw + x;
      if (outside[k]) continue;
      filled++;
      if (!inRegion[k] && bgLike((y - 1 + y0) * w + (x - 1 + x0))) {
        holes++;
        continue;
      }
      sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      const r = rows[y - 1]!;
      r[0] = Math.min(r[0], x - 1); r[1] = Math.max(r[1], x - 1);
    }
  }
  // The hull of the pixels' corner points, so a solid n×n square has area n², not (n-1)².
  const corners: Pt[] = [];
  rows.forEach(([a, b], y) => {
    if (b < a) return;
    corners.push([a, y], [a, y + 1], [b + 1, y], [b + 1, y + 1]);
  });
  const hull = convexHull(corners);
  const hullArea = Math.max(1, polygonArea(hull));
  const rect = minAreaRect(hull);
  const solid = filled - holes;
  // Second central moments of the solid pixels, each pixel a unit square (its own variance 1/12 per axis).
  const n = Math.max(1, solid);
  const vx = sxx / n - (sx / n) ** 2 + 1 / 12, vy = syy / n - (sy / n) ** 2 + 1 / 12, cxy = sxy / n - (sx / n) * (sy / n);
  return {
    features: {
      fill: solid / Math.max(1, rect.area),
      aspect: rect.long / Math.max(1e-9, rect.short),
      solidity: solid / hullArea,
      holeRatio: holes / Math.max(1, filled),
      compactness: solid / (4 * Math.PI * Math.sqrt(Math.max(1e-9, vx * vy - cxy * cxy))),
    },
    long: rect.long,
    bbox: { x: x0, y: y0, width: bw, height: bh },
  };
}

/**
 * Centre of the circle through a region's pixels by the algebraic least-squares fit of Kåsa (1976):
 * minimise Σ (x² + y² + Dx + Ey + F)². An arc's centre is its circle's, not its bounding box's (data.py places
 * the circle's centre in the grid cell).
 */
function circleCentre(pixels: readonly number[], w: number): { x: number; y: number } | null {
  // Normal equations of the linear problem in (D, E, F), in coordinates relative to the mean for conditioning.
  let mx = 0, my = 0;
  for (const i of pixels) {
    mx += (i % w) + 0.5;
    my += Math.floor(i / w) + 0.5;
  }
  mx /= pixels.length;
  my /= pixels.length;
  let sxx = 0, sxy = 0, syy = 0, sxz = 0, syz = 0;
  for (const i of pixels) {
    const x = (i % w) + 0.5 - mx, y = Math.floor(i / w) + 0.5 - my, z = x * x + y * y;
    sxx += x * x; sxy += x * y; syy += y * y; sxz += x * z; syz += y * z;
  }
  // With centred coordinates Σx = Σy = 0, so D and E decouple from F: [sxx sxy; sxy syy][D E]ᵀ = -[sxz syz]ᵀ.
  const det = sxx * syy - sxy * sxy;
  if (Math.abs(det) < 1e-9) return null;
  const D = (-sxz * syy + syz * sxy) / det, E = (-syz * sxx + sxz * sxy) / det;
  return { x: mx - D / 2, y: my - E / 2 };
}

/** The pixels of a rectangle of `img` (clipped to it). */
export function crop(img: Pixels, box: { x: number; y: number; width: number; height: number }): Pixels {
  const x0 = Math.max(0, Math.round(box.x)), y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(img.width, Math.round(box.x + box.width)), y1 = Math.min(img.height, Math.round(box.y + box.height));
  const w = Math.max(0, x1 - x0), h = Math.max(0, y1 - y0);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(4 * ((y0 + y) * img.width + x0), 4 * ((y0 + y) * img.width + x1)), 4 * y * w);
  return { width: w, height: h, data };
}

/** Analyse an image against the vocabulary: background, then every region of one colour larger than the minimum. */
export function analyseImage(img: Pixels, vocab: Vocabulary, options: AnalyseOptions = {}): Analysis {
  const { width: w, height: h, data } = img;
  const labs: Lab[] = new Array<Lab>(w * h);
  for (let i = 0; i < w * h; i++) labs[i] = rgbToLab(data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!);
  const background = estimateBackground(labs, w, h, vocab);
  if (!background.found) return { width: w, height: h, background, regions: [] };
  // An object never has the background's colour, nor one too close to it (data.py's low-contrast pairs, e.g. white
  // on cream): excluding them keeps a noisy or slightly off background from turning into objects.
  const candidates = Object.entries(vocab.colors)
    .filter(([name, rgb]) => name !== background.name && deltaE(labOf(rgb), background.lab) >= MIN_CONTRAST)
    .map(([name, rgb]) => ({ name, lab: labOf(rgb) }));
  const labels = labelPixels(labs, background.lab, candidates, options.coverage ?? 0.5);
  const bgLike = (i: number) => labels[i]! < 0;
  const minArea = Math.max(6, (options.minAreaFraction ?? 0.002) * w * h);
  const side = Math.max(w, h);
  const regions: Region[] = [];
  for (const comp of components(labels, w, h)) {
    if (comp.pixels.length < minArea) continue;
    const { features, bbox, long } = describe(comp.pixels, w, h, bgLike);
    // The region's colour is its pixels' label (the mixing model's choice); the ΔE between the palette colour and the
    // mean of its core (the half of its pixels farthest from the background; edges are mixtures) says how faithful.
    const color = candidates[comp.label]!;
    const byDistance = comp.pixels.map((i) => ({ i, d: deltaE(labs[i]!, background.lab) })).sort((p, q) => q.d - p.d);
    const core = byDistance.slice(0, Math.max(1, Math.ceil(byDistance.length / 2)));
    const mean = (k: keyof Lab) => core.reduce((s, { i }) => s + labs[i]![k], 0) / core.length;
    const colorDistance = deltaE({ L: mean('L'), a: mean('a'), b: mean('b') }, color.lab);
    const shape = classifyShape(features);
    const fitted = shape === 'arc' ? circleCentre(comp.pixels, w) : null;
    const cx = Math.min(1, Math.max(0, fitted ? fitted.x / w : (bbox.x + bbox.width / 2) / w));
    const cy = Math.min(1, Math.max(0, fitted ? fitted.y / h : (bbox.y + bbox.height / 2) / h));
    const col = Math.min(2, Math.floor(cx * 3)), row = Math.min(2, Math.floor(cy * 3));
    regions.push({
      color: color.name,
      colorDistance,
      shape,
      features,
      area: comp.pixels.length,
      bbox,
      centre: { x: cx, y: cy },
      cell: [col, row],
      position: cellName(vocab, col, row),
      size: nearestSize(vocab, Math.max(bbox.width, bbox.height, long) / side),
    });
  }
  regions.sort((p, q) => q.area - p.area);
  return { width: w, height: h, background, regions };
}

/** Whether each asked-for attribute of one scene object was found. */
export interface ObjectCheck {
  readonly color: boolean;
  readonly shape: boolean;
  readonly position: boolean;
  readonly size: boolean;
  /** The region matched to the object (the largest unclaimed region of its colour), if any. */
  readonly region: Region | null;
}

/** Per-attribute verdicts for one scene. */
export interface SceneCheck {
  readonly background: boolean;
  readonly objects: readonly ObjectCheck[];
  /** Null when the scene has no relation. */
  readonly relation: boolean | null;
}

/** Whether `a` stands in relation `kind` to `b` (centres of the bounding boxes). */
function relationHolds(kind: string, a: Region, b: Region): boolean {
  switch (kind) {
    case 'above': return a.centre.y < b.centre.y;
    case 'below': return a.centre.y > b.centre.y;
    case 'left_of': return a.centre.x < b.centre.x;
    case 'right_of': return a.centre.x > b.centre.x;
    default: throw new Error(`analyse: unknown relation ${JSON.stringify(kind)}`);
  }
}

/**
 * Check a scene against an analysis. Each object claims the largest unclaimed region of its colour; its shape,
 * position and size are judged on that region, so an object whose colour is missing fails every attribute (no
 * credit for a lucky region of another colour).
 */
export function checkScene(analysis: Analysis, scene: Scene): SceneCheck {
  const claimed = new Set<Region>();
  const objects = scene.objects.map((o): ObjectCheck => {
    const region = analysis.regions.find((r) => r.color === o.color && !claimed.has(r)) ?? null;
    if (!region) return { color: false, shape: false, position: false, size: false, region: null };
    claimed.add(region);
    return { color: true, shape: region.shape === o.shape, position: region.position === o.position, size: region.size === o.size, region };
  });
  let relation: boolean | null = null;
  if (scene.relation) {
    const a = objects[scene.relation.a]?.region, b = objects[scene.relation.b]?.region;
    relation = a !== undefined && a !== null && b !== undefined && b !== null && relationHolds(scene.relation.kind, a, b);
  }
  return { background: analysis.background.found && analysis.background.name === scene.background, objects, relation };
}

/** The attributes reported per evaluation. */
export const ATTRIBUTES = ['background', 'color', 'shape', 'position', 'size', 'relation', 'scene'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** Correct / total counts per attribute (objects for colour, shape, position, size; scenes otherwise). */
export type Tally = Record<Attribute, { correct: number; total: number }>;

/** An empty tally. */
export function emptyTally(): Tally {
  return Object.fromEntries(ATTRIBUTES.map((a) => [a, { correct: 0, total: 0 }])) as Tally;
}

/** Add one scene's verdicts to a tally; `scene` counts a scene whose every checked attribute is right. */
export function addToTally(t: Tally, c: SceneCheck): void {
  const add = (a: Attribute, ok: boolean) => {
    t[a].total++;
    if (ok) t[a].correct++;
  };
  add('background', c.background);
  for (const o of c.objects) {
    add('color', o.color);
    add('shape', o.shape);
    add('position', o.position);
    add('size', o.size);
  }
  if (c.relation !== null) add('relation', c.relation);
  add('scene', c.background && c.objects.every((o) => o.color && o.shape && o.position) && c.relation !== false);
}
