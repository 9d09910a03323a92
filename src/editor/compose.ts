/**
 * Generation maths for the frame: which mode, the repaint mask, its grown and feathered
 * form, the pre-filled image the engine encodes, and the paste-back.
 *
 * Mask convention follows SPEC §3: 1 (255) = repaint, 0 = keep.
 */
import type { MaskImage, RgbaImage } from '../../workers/protocol.ts';
import { createRaster, type Raster } from './raster.ts';

/** Seam parameters, in document pixels. */
export const SEAM = {
  /** The repaint region grows by this much; pixels farther than this from it are kept exactly. */
  growPx: 16,
  /** Image pixels with alpha below this count as empty (to be painted). */
  emptyBelowAlpha: 128,
  /** Mask-layer pixels with alpha at or above this count as "repaint". */
  maskFromAlpha: 128,
  /** Box-blur radius applied to pre-filled pixels (two passes). */
  prefillBlurPx: 4,
} as const;

/** What generating in the frame means for the pixels under it. */
export type FramePlan =
  | { readonly kind: 'text2img' }
  | {
      readonly kind: 'inpaint';
      /** Image handed to the engine: the frame's pixels with empty parts pre-filled (opaque). */
      readonly image: RgbaImage;
      /** Grown repaint mask handed to the engine (255 = repaint). */
      readonly mask: MaskImage;
      /** Per-pixel paste-back weight of the generated image (0 outside the grown mask). */
      readonly weights: Float32Array;
      /** Pixels in the un-grown repaint region. */
      readonly repaintPixels: number;
    }
  | { readonly kind: 'nothing-to-repaint' };

/** The repaint region: empty image pixels or painted mask pixels (1 = repaint). */
export function repaintMask(image: RgbaImage, mask: RgbaImage | null): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const empty = (image.data[i * 4 + 3] ?? 0) < SEAM.emptyBelowAlpha;
    const masked = mask ? (mask.data[i * 4 + 3] ?? 0) >= SEAM.maskFromAlpha : false;
    out[i] = empty || masked ? 1 : 0;
  }
  return out;
}

/**
 * Euclidean distance from each pixel to the nearest pixel with `mask[i] = 1` (Infinity when
 * there is none), by the two-pass lower-envelope transform of Felzenszwalb & Huttenlocher,
 * "Distance Transforms of Sampled Functions" (2012).
 */
export function distanceToMask(mask: Uint8Array, width: number, height: number): Float32Array {
  const INF = 1e20;
  const f = new Float64Array(Math.max(width, height));
  const d = new Float64Array(Math.max(width, height));
  const v = new Int32Array(Math.max(width, height));
  const z = new Float64Array(Math.max(width, height) + 1);
  const grid = new Float64Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = mask[i] ? 0 : INF;

  const pass = (n: number): void => {
    const parabola = (q: number, p: number): number => ((f[q] ?? 0) + q * q - ((f[p] ?? 0) + p * p)) / (2 * q - 2 * p);
    let k = 0;
    v[0] = 0;
    z[0] = -INF;
    z[1] = INF;
    for (let q = 1; q < n; q++) {
      let s = parabola(q, v[k] ?? 0);
      while (s <= (z[k] ?? -INF)) {
        k--;
        s = parabola(q, v[k] ?? 0);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INF;
    }
    k = 0;
    for (let q = 0; q < n; q++) {
      while ((z[k + 1] ?? INF) < q) k++;
      const vk = v[k] ?? 0;
      d[q] = (q - vk) * (q - vk) + (f[vk] ?? INF);
    }
  };

  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = grid[y * width + x] ?? INF;
    pass(height);
    for (let y = 0; y < height; y++) grid[y * width + x] = d[y] ?? INF;
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x] ?? INF;
    pass(width);
    for (let x = 0; x < width; x++) grid[y * width + x] = d[x] ?? INF;
  }
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const g = grid[i] ?? INF;
    out[i] = g >= INF / 2 ? Infinity : Math.sqrt(g);
  }
  return out;
}

/** Paste-back weights: 1 on the repaint region, a smooth fall to 0 at `grow` pixels away, 0 beyond. */
export function featherWeights(distance: Float32Array, grow: number): Float32Array {
  const w = new Float32Array(distance.length);
  for (let i = 0; i < w.length; i++) {
    const d = distance[i] ?? Infinity;
    if (d <= 0) w[i] = 1;
    else if (d < grow) {
      const t = d / grow;
      w[i] = 1 - t * t * (3 - 2 * t);
    }
  }
  return w;
}

/** The grown mask the engine repaints: every pixel with a non-zero paste-back weight (255 = repaint). */
export function grownMask(weights: Float32Array, width: number, height: number): MaskImage {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (weights[i] ?? 0) > 0 ? 255 : 0;
  return { width, height, data };
}

/**
 * Fill transparent pixels so the encoder sees no hard transparent edge: colours spread
 * outward from the painted pixels (push-pull over an image pyramid), then the filled area
 * is box-blurred twice. Opaque pixels are returned unchanged; partly transparent ones are
 * composited over the fill. The result is opaque.
 */
export function prefill(image: RgbaImage): Raster {
  const { width, height } = image;
  const n = width * height;
  // Level 0: premultiplied colour and weight.
  type Level = { w: number; h: number; c: Float32Array; a: Float32Array };
  const base: Level = { w: width, h: height, c: new Float32Array(n * 3), a: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const a = (image.data[i * 4 + 3] ?? 0) / 255;
    base.a[i] = a;
    for (let k = 0; k < 3; k++) base.c[i * 3 + k] = (image.data[i * 4 + k] ?? 0) * a;
  }
  const levels: Level[] = [base];
  // Push: halve until 1×1, weights summed and capped at 1.
  for (let cur = base; cur.w > 1 || cur.h > 1;) {
    const w = Math.ceil(cur.w / 2);
    const h = Math.ceil(cur.h / 2);
    const next: Level = { w, h, c: new Float32Array(w * h * 3), a: new Float32Array(w * h) };
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sa = 0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const fx = 2 * x + dx;
            const fy = 2 * y + dy;
            if (fx >= cur.w || fy >= cur.h) continue;
            const j = fy * cur.w + fx;
            sa += cur.a[j] as number;
            s0 += cur.c[j * 3] as number;
            s1 += cur.c[j * 3 + 1] as number;
            s2 += cur.c[j * 3 + 2] as number;
          }
        }
        const i = y * w + x;
        const a = Math.min(1, sa);
        const scale = sa > 0 ? a / sa : 0;
        next.a[i] = a;
        next.c[i * 3] = s0 * scale;
        next.c[i * 3 + 1] = s1 * scale;
        next.c[i * 3 + 2] = s2 * scale;
      }
    }
    levels.push(next);
    cur = next;
  }
  // Pull: fill each level's missing weight from the (already filled) coarser level.
  for (let l = levels.length - 2; l >= 0; l--) {
    const fine = levels[l];
    const coarse = levels[l + 1];
    if (!fine || !coarse) continue;
    for (let y = 0; y < fine.h; y++) {
      for (let x = 0; x < fine.w; x++) {
        const i = y * fine.w + x;
        const a = fine.a[i] ?? 0;
        if (a >= 1) continue;
        const j = (y >> 1) * coarse.w + (x >> 1);
        const ca = coarse.a[j] ?? 0;
        for (let k = 0; k < 3; k++) {
          const col = ca > 0 ? (coarse.c[j * 3 + k] ?? 0) / ca : 127.5;
          fine.c[i * 3 + k] = (fine.c[i * 3 + k] ?? 0) + (1 - a) * col;
        }
        fine.a[i] = 1;
      }
    }
  }
  const filled = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) filled[i] = base.c[i] ?? 0;
  const blurred = boxBlur3(boxBlur3(filled, width, height, SEAM.prefillBlurPx), width, height, SEAM.prefillBlurPx);
  const out = createRaster(width, height);
  for (let i = 0; i < n; i++) {
    const a = (image.data[i * 4 + 3] ?? 0) / 255;
    for (let k = 0; k < 3; k++) {
      const fill = blurred[i * 3 + k] ?? 0;
      const own = image.data[i * 4 + k] ?? 0;
      out.data[i * 4 + k] = a >= 1 ? own : Math.round(own * a + fill * (1 - a));
    }
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** Separable box blur of a 3-channel float image, edges clamped (running sums: O(1) per pixel). */
function boxBlur3(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  blurLines(src, tmp, width, height, 3, width * 3, r);
  blurLines(tmp, out, height, width, width * 3, 3, r);
  return out;
}

/** Box-blur `lines` lines of `n` samples each (3 channels); `step` between samples, `stride` between lines. */
function blurLines(from: Float32Array, to: Float32Array, n: number, lines: number, step: number, stride: number, r: number): void {
  const span = 2 * r + 1;
  const last = n - 1;
  for (let line = 0; line < lines; line++) {
    const base = line * stride;
    for (let k = 0; k < 3; k++) {
      const o = base + k;
      let sum = 0;
      for (let d = -r; d <= r; d++) sum += from[o + Math.min(last, Math.max(0, d)) * step] as number;
      for (let i = 0; i < n; i++) {
        to[o + i * step] = sum / span;
        sum += (from[o + Math.min(last, i + r + 1) * step] as number) - (from[o + Math.max(0, i - r) * step] as number);
      }
    }
  }
}

/** Decide the mode for the frame's pixels and build the engine inputs for inpainting/outpainting. */
export function planFrame(image: RgbaImage, mask: RgbaImage | null, grow: number = SEAM.growPx): FramePlan {
  const repaint = repaintMask(image, mask);
  let count = 0;
  for (const v of repaint) count += v;
  if (count === repaint.length) return { kind: 'text2img' };
  if (count === 0) return { kind: 'nothing-to-repaint' };
  const distance = distanceToMask(repaint, image.width, image.height);
  const weights = featherWeights(distance, grow);
  return {
    kind: 'inpaint',
    image: prefill(image),
    mask: grownMask(weights, image.width, image.height),
    weights,
    repaintPixels: count,
  };
}

/**
 * Paste a generated image back over the original: where the weight is 0 the original pixel
 * is kept exactly; elsewhere the generated pixel is blended with the original composited
 * over it, by the weight. `weights` null means "replace everything" (text-to-image).
 */
export function pasteBack(original: RgbaImage, generated: RgbaImage, weights: Float32Array | null): Raster {
  if (original.width !== generated.width || original.height !== generated.height) {
    throw new RangeError(`paste-back: generated ${generated.width}×${generated.height} differs from frame ${original.width}×${original.height}`);
  }
  const out = createRaster(original.width, original.height);
  const n = original.width * original.height;
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] ?? 0) : 1;
    const o = i * 4;
    if (w <= 0) {
      out.data[o] = original.data[o] ?? 0;
      out.data[o + 1] = original.data[o + 1] ?? 0;
      out.data[o + 2] = original.data[o + 2] ?? 0;
      out.data[o + 3] = original.data[o + 3] ?? 0;
      continue;
    }
    const a = (original.data[o + 3] ?? 0) / 255;
    for (let k = 0; k < 3; k++) {
      const g = generated.data[o + k] ?? 0;
      const under = (original.data[o + k] ?? 0) * a + g * (1 - a);
      out.data[o + k] = Math.round(g * w + under * (1 - w));
    }
    out.data[o + 3] = 255;
  }
  return out;
}
