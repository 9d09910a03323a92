/**
 * Quirks of the reference implementation that golden cases carry and the app does not copy.
 *
 * diffusers 0.42's KandinskyV22Img2ImgPipeline preprocesses with
 * `image_processor.preprocess(image, width, height)` while the signature is
 * `preprocess(image, height, width)`: the input image is resized to width = `height` and
 * height = `width` (Pillow bicubic, `reducing_gap=1`), and the whole run — latents and output
 * image — takes that transposed size. For square cases this changes nothing.
 */
import { resizeBicubicU8 } from '../../workers/tensor/image.ts';

/** Pillow's `division_UINT32(divider, 8)`: 2^32 / (256 · divider) in single precision, truncated. */
function multiplierFor(n: number): number {
  return Math.trunc(Math.fround(Math.fround(2 ** 32) / Math.fround(256 * n)));
}

/**
 * Pillow `Image.reduce((fx, fy))` on RGB (libImaging/Reduce.c): each output pixel is the box average
 * `((sum + n/2) · multiplier) >> 24`, with partial boxes at the right and bottom edges.
 */
export function pillowReduce(rgb: Uint8Array, w: number, h: number, fx: number, fy: number): { rgb: Uint8Array; width: number; height: number } {
  const width = Math.ceil(w / fx);
  const height = Math.ceil(h / fy);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const ys = y * fy, ye = Math.min(ys + fy, h);
    for (let x = 0; x < width; x++) {
      const xs = x * fx, xe = Math.min(xs + fx, w);
      const n = (ye - ys) * (xe - xs);
      const amend = Math.floor(n / 2);
      const mult = multiplierFor(n);
      for (let c = 0; c < 3; c++) {
        let sum = amend;
        for (let yy = ys; yy < ye; yy++) for (let xx = xs; xx < xe; xx++) sum += rgb[(yy * w + xx) * 3 + c]!;
        out[(y * width + x) * 3 + c] = Math.floor((sum * mult) / 2 ** 24) & 0xff;
      }
    }
  }
  return { rgb: out, width, height };
}

/** Pillow `Image.resize((newW, newH), BICUBIC, reducing_gap=gap)`: integer `reduce` first, then bicubic over the reduced box. */
export function pillowResize(rgb: Uint8Array, w: number, h: number, newW: number, newH: number, gap: number): Uint8Array {
  if (newW === w && newH === h) return rgb.slice();
  const fx = Math.trunc(w / newW / gap) || 1;
  const fy = Math.trunc(h / newH / gap) || 1;
  if (fx === 1 && fy === 1) return resizeBicubicU8(rgb, w, h, newW, newH, 'pillow');
  const reduced = pillowReduce(rgb, w, h, fx, fy);
  return resizeBicubicU8(reduced.rgb, reduced.width, reduced.height, newW, newH, 'pillow', [0, 0, w / fx, h / fy]);
}

/**
 * The init image as the reference's img2img pipeline feeds it to MoVQ: resized to the transposed
 * size (see above), each side rounded down to a multiple of the MoVQ scale factor.
 */
export function referenceImg2ImgInput(
  rgb: Uint8Array, w: number, h: number, requestedWidth: number, requestedHeight: number, scaleFactor: number,
): { rgb: Uint8Array; width: number; height: number } {
  const width = requestedHeight - (requestedHeight % scaleFactor);
  const height = requestedWidth - (requestedWidth % scaleFactor);
  return { rgb: pillowResize(rgb, w, h, width, height, 1), width, height };
}
