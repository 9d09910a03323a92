/**
 * Pixel conversions between images and model tensors. Pure functions on typed arrays (no DOM), so
 * they run the same in workers, Node tests and the parity runner.
 */

/** Drops the alpha channel of RGBA pixels (no compositing, as PIL's convert('RGB') does). */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgba.length !== n * 4) {
    throw new RangeError(`rgbaToRgb: expected ${n * 4} bytes for ${width}×${height} RGBA, got ${rgba.length}`);
  }
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return rgb;
}

/**
 * Which implementation of antialiased bicubic resizing on uint8 to reproduce. Both are Pillow's
 * algorithm (Keys cubic a = -0.5, kernel widened by the downscale factor, horizontal pass into a clamped
 * uint8 image, then vertical; a pass is skipped when its size is unchanged). They differ in the
 * fixed-point weights: Pillow uses 22 fraction bits; torch's uint8 kernel (torchvision's resize, used by
 * transformers' default torchvision backend) uses int16 weights with as many bits as the largest weight
 * allows, so about 1 pixel in 1,000 differs by one step.
 */
export const BICUBIC_FLAVOURS = ['pillow', 'torchvision'] as const;
export type BicubicFlavour = (typeof BICUBIC_FLAVOURS)[number];

/** Keys cubic convolution, a = -0.5; torch evaluates the outer piece in a different order. */
function bicubic(x: number, flavour: BicubicFlavour): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return flavour === 'pillow' ? (((x - 5) * x + 8) * x - 4) * a : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Pillow keeps 8 bits for the result and 2 for overshoot, the rest for the fraction. */
const PILLOW_PRECISION_BITS = 32 - 8 - 2;

/** Per output sample: first input index, tap count and fixed-point weights (`ksize` slots each). */
interface Taps {
  readonly ksize: number;
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
  /** Fraction bits of the weights. */
  readonly precision: number;
}

/**
 * Filter taps for resampling `inSize` samples to `outSize` (Pillow's precompute_coeffs and
 * normalize_coeffs_8bpc; torch's _compute_index_ranges_int16_weights): the kernel is stretched by the
 * downscale factor (antialiasing), weights are normalised to sum 1 and then rounded half away from
 * zero to fixed point.
 */
function taps(inSize: number, outSize: number, flavour: BicubicFlavour, in0 = 0, in1 = inSize): Taps {
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const real = new Float64Array(outSize * ksize);
  const inv = 1 / filterScale;
  let maxWeight = 0;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    let n = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    if (flavour === 'torchvision') n = Math.min(Math.max(n, 0), ksize);
    const base = xx * ksize;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const w = bicubic((x + xmin - center + 0.5) * inv, flavour);
      real[base + x] = w;
      sum += w;
    }
    if (sum !== 0) {
      for (let x = 0; x < n; x++) {
        real[base + x] = real[base + x]! / sum;
        maxWeight = Math.max(maxWeight, real[base + x]!);
      }
    }
    first[xx] = xmin;
    count[xx] = n;
  }
  let precision = PILLOW_PRECISION_BITS;
  if (flavour === 'torchvision') {
    // The most fraction bits for which the largest weight still fits in int16.
    for (precision = 0; precision < 22; precision++) {
      if (Math.trunc(0.5 + maxWeight * 2 ** (precision + 1)) >= 1 << 15) break;
    }
  }
  const one = 2 ** precision;
  const weights = new Int32Array(outSize * ksize);
  for (let i = 0; i < real.length; i++) {
    const v = real[i]! * one;
    weights[i] = Math.trunc(v < 0 ? v - 0.5 : v + 0.5);
  }
  return { ksize, first, count, weights, precision };
}

/** Fixed-point accumulator to a byte: drop the fraction (arithmetic shift) and clamp. */
function clip8(acc: number, precision: number): number {
  const v = acc >> precision;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over rows [row0, row0 + rows) of an RGB image. */
function resizeRows(
  src: Uint8Array, w: number, row0: number, rows: number, newW: number, flavour: BicubicFlavour, x0 = 0, x1 = w,
): Uint8Array {
  const { ksize, first, count, weights, precision } = taps(w, newW, flavour, x0, x1);
  const half = 1 << (precision - 1);
  const out = new Uint8Array(rows * newW * 3);
  for (let y = 0; y < rows; y++) {
    const rowBase = (row0 + y) * w * 3;
    for (let xx = 0; xx < newW; xx++) {
      const kBase = xx * ksize;
      const n = count[xx]!;
      let p = rowBase + first[xx]! * 3;
      let r = half;
      let g = half;
      let b = half;
      for (let x = 0; x < n; x++, p += 3) {
        const kw = weights[kBase + x]!;
        r += src[p]! * kw;
        g += src[p + 1]! * kw;
        b += src[p + 2]! * kw;
      }
      const o = (y * newW + xx) * 3;
      out[o] = clip8(r, precision);
      out[o + 1] = clip8(g, precision);
      out[o + 2] = clip8(b, precision);
    }
  }
  return out;
}

/** Vertical pass; `firstRow` is the index in the full image of the source's first row. */
function resizeColumns(
  src: Uint8Array, w: number, firstRow: number, h: number, newH: number, flavour: BicubicFlavour, y0 = 0, y1 = h,
): Uint8Array {
  const { ksize, first, count, weights, precision } = taps(h, newH, flavour, y0, y1);
  const half = 1 << (precision - 1);
  const out = new Uint8Array(newH * w * 3);
  const stride = w * 3;
  for (let yy = 0; yy < newH; yy++) {
    const kBase = yy * ksize;
    const n = count[yy]!;
    const rowBase = (first[yy]! - firstRow) * stride;
    for (let c = 0; c < stride; c++) {
      let acc = half;
      let p = rowBase + c;
      for (let y = 0; y < n; y++, p += stride) acc += src[p]! * weights[kBase + y]!;
      out[yy * stride + c] = clip8(acc, precision);
    }
  }
  return out;
}

/**
 * Resizes uint8 RGB exactly as Pillow's `Image.resize(size, Image.BICUBIC, box)` (libImaging/Resample.c),
 * or, with flavour 'torchvision', as torchvision's `resize(uint8 tensor, BICUBIC, antialias=True)`.
 * `box` [x0, y0, x1, y1] (Pillow only) is the source region, possibly fractional; default the whole image.
 */
export function resizeBicubicU8(
  rgb: Uint8Array, w: number, h: number, newW: number, newH: number, flavour: BicubicFlavour = 'pillow',
  box: readonly [number, number, number, number] = [0, 0, w, h],
): Uint8Array {
  if (rgb.length !== w * h * 3) {
    throw new RangeError(`resizeBicubicU8: expected ${w * h * 3} bytes for ${w}×${h} RGB, got ${rgb.length}`);
  }
  if (!(Number.isInteger(newW) && Number.isInteger(newH) && newW > 0 && newH > 0)) {
    throw new RangeError(`resizeBicubicU8: target size must be positive integers, got ${newW}×${newH}`);
  }
  const [x0, y0, x1, y1] = box;
  // Pillow: a pass runs when the size changes or the box is not the whole axis.
  const needH = newW !== w || x0 !== 0 || x1 !== w;
  const needV = newH !== h || y0 !== 0 || y1 !== h;
  if (!needH && !needV) return rgb.slice();
  if (!needV) return resizeRows(rgb, w, 0, h, newW, flavour, x0, x1);
  // Pillow ≥ 10 runs the vertical pass first when the height shrinks by more than twice as many
  // rows as the width loses columns (Resample.c, `horizontal_first`); results differ by rounding.
  if (flavour === 'pillow' && needH && h - newH > 0 && h - newH > (w - newW) * 2) {
    const cols = resizeColumns(rgb, w, 0, h, newH, flavour, y0, y1);
    return resizeRows(cols, w, 0, newH, newW, flavour, x0, x1);
  }
  // Only the source rows the vertical pass reads go through the horizontal pass (as in Pillow).
  const vertical = taps(h, newH, flavour, y0, y1);
  const rowFirst = vertical.first[0]!;
  const rowEnd = vertical.first[newH - 1]! + vertical.count[newH - 1]!;
  if (!needH) {
    return resizeColumns(rgb.subarray(rowFirst * w * 3, rowEnd * w * 3), w, rowFirst, h, newH, flavour, y0, y1);
  }
  const rows = resizeRows(rgb, w, rowFirst, rowEnd - rowFirst, newW, flavour, x0, x1);
  return resizeColumns(rows, newW, rowFirst, h, newH, flavour, y0, y1);
}

/** The subset of the manifest's `image_processor` that CLIP preprocessing needs. */
export interface ClipProcessorConfig {
  readonly size: number;
  readonly crop_size: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * transformers' CLIPImageProcessor on uint8 RGB, returning NCHW [1, 3, crop, crop]: shortest edge to
 * `size` (long edge truncated, as `get_resize_output_image_size` does), bicubic, centre crop (zero
 * padding where the crop is larger), then x/255 and (x - mean)/std in float32.
 * `backend` picks which of transformers' two implementations to match: 'torchvision' (the default
 * backend since transformers 5, and what the golden cases were made with) or 'pil'.
 */
export function clipPreprocess(
  rgb: Uint8Array, w: number, h: number, proc: ClipProcessorConfig, backend: 'torchvision' | 'pil' = 'torchvision',
): Float32Array {
  const { size, crop_size: crop, mean, std } = proc;
  if (mean.length !== 3 || std.length !== 3) {
    throw new RangeError(`clipPreprocess: mean and std need 3 values each, got ${mean.length} and ${std.length}`);
  }
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  const newLong = Math.trunc((size * long) / short);
  const newW = w <= h ? size : newLong;
  const newH = w <= h ? newLong : size;
  const resized = resizeBicubicU8(rgb, w, h, newW, newH, backend === 'pil' ? 'pillow' : 'torchvision');

  // Source index of the crop's first row/column. Larger crops pad with zeros: the numpy path puts the
  // odd padding pixel before the image, torchvision after it.
  const cropStart = (n: number): number => {
    if (crop <= n) return Math.floor((n - crop) / 2);
    const padBefore = backend === 'pil' ? Math.ceil((crop - n) / 2) : Math.floor((crop - n) / 2);
    return -padBefore;
  };
  const row0 = cropStart(newH);
  const col0 = cropStart(newW);

  // numpy: rescale() in float64 stored as float32, then normalize() in float32.
  // torchvision: one fused normalize with mean*255 and std*255 in float32.
  const fused = backend === 'torchvision';
  const m = mean.map((v) => (fused ? Math.fround(Math.fround(v) * 255) : Math.fround(v)));
  const s = std.map((v) => (fused ? Math.fround(Math.fround(v) * 255) : Math.fround(v)));
  const plane = crop * crop;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < crop; y++) {
    const sy = row0 + y;
    for (let x = 0; x < crop; x++) {
      const sx = col0 + x;
      const inside = sy >= 0 && sy < newH && sx >= 0 && sx < newW;
      for (let c = 0; c < 3; c++) {
        const byte = inside ? resized[(sy * newW + sx) * 3 + c]! : 0;
        const x0 = fused ? byte : Math.fround(byte * (1 / 255));
        out[c * plane + y * crop + x] = Math.fround(Math.fround(x0 - m[c]!) / s[c]!);
      }
    }
  }
  return out;
}

/** uint8 RGB to NCHW [1, 3, h, w] in [-1, 1] as x / 127.5 - 1 (the MoVQ encoder's input). */
export function rgbToSigned(rgb: Uint8Array, w: number, h: number): Float32Array {
  const plane = w * h;
  if (rgb.length !== plane * 3) {
    throw new RangeError(`rgbToSigned: expected ${plane * 3} bytes for ${w}×${h} RGB, got ${rgb.length}`);
  }
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[i * 3 + c]! / 127.5 - 1;
  }
  return out;
}

/**
 * One image of an NCHW batch in about [-1, 1] (the MoVQ decoder's output) to RGBA bytes:
 * clamp(x * 0.5 + 0.5, 0, 1) * 255, rounded; alpha 255.
 */
export function nchwToRgba(x: Float32Array, w: number, h: number, batchIndex: number): Uint8ClampedArray {
  const plane = w * h;
  const base = batchIndex * 3 * plane;
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || base + 3 * plane > x.length) {
    throw new RangeError(`nchwToRgba: image ${batchIndex} of size 3×${h}×${w} is outside a tensor of ${x.length} values`);
  }
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = x[base + c * plane + i]! * 0.5 + 0.5;
      out[i * 4 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}
