/** Browser file I/O: decode opened/dropped/pasted images, encode PNGs with parameters, downloads. */
import type { RgbaImage } from '../../workers/protocol.ts';
import { fitWithin, readImageHeader } from '../editor/image-header.ts';
import { formatParameters, type ImageParameters } from '../editor/parameters.ts';
import { withTextChunks } from '../editor/png.ts';
import { wrapRaster, type Raster } from '../editor/raster.ts';

/** Largest side an opened image keeps; bigger images are scaled down (and the user told). */
export const MAX_IMAGE_SIDE = 4096;

/** Outcome of decoding a file. */
export type DecodeResult =
  | { readonly ok: true; readonly raster: Raster; readonly originalWidth: number; readonly originalHeight: number; readonly downscaled: boolean }
  | { readonly ok: false; readonly reason: 'not-image' | 'corrupt'; readonly message: string };

/** Decode a PNG/JPEG/WebP file to RGBA, scaling it down to MAX_IMAGE_SIDE when larger. */
export async function decodeImageFile(file: Blob): Promise<DecodeResult> {
  const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
  const header = readImageHeader(head);
  if (!header) return { ok: false, reason: 'not-image', message: 'unknown format' };
  let bitmap: ImageBitmap;
  try {
    if (header.width && header.height && Math.max(header.width, header.height) > MAX_IMAGE_SIDE) {
      const fit = fitWithin(header.width, header.height, MAX_IMAGE_SIDE);
      bitmap = await createImageBitmap(file, { resizeWidth: fit.width, resizeHeight: fit.height, resizeQuality: 'high', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    } else {
      bitmap = await createImageBitmap(file, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    }
  } catch (e) {
    return { ok: false, reason: 'corrupt', message: e instanceof Error ? e.message : String(e) };
  }
  let raster: Raster;
  if (Math.max(bitmap.width, bitmap.height) > MAX_IMAGE_SIDE) {
    // The header did not tell the size (unusual files): scale after decoding.
    const fit = fitWithin(bitmap.width, bitmap.height, MAX_IMAGE_SIDE);
    raster = bitmapToRaster(bitmap, fit.width, fit.height);
  } else {
    raster = bitmapToRaster(bitmap, bitmap.width, bitmap.height);
  }
  const originalWidth = header.width ?? bitmap.width;
  const originalHeight = header.height ?? bitmap.height;
  bitmap.close();
  return { ok: true, raster, originalWidth, originalHeight, downscaled: raster.width !== originalWidth || raster.height !== originalHeight };
}

function bitmapToRaster(bitmap: ImageBitmap, width: number, height: number): Raster {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('2D canvas is not available in this browser');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  const data = ctx.getImageData(0, 0, width, height).data;
  return wrapRaster(width, height, new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength));
}

/** Encode RGBA as PNG, with `parameters` (and the full JSON under `kandinsky`) when given. */
export async function encodePng(image: RgbaImage, params: ImageParameters | null): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas is not available in this browser');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
  if (!params) return png;
  return withTextChunks(png, { parameters: formatParameters(params), kandinsky: JSON.stringify(params) });
}

/** Offer bytes as a download. */
export function download(bytes: Uint8Array, filename: string, type = 'image/png'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Decode a PNG's bytes back to RGBA (gallery items). */
export async function decodePng(bytes: Uint8Array): Promise<Raster> {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  const r = bitmapToRaster(bitmap, bitmap.width, bitmap.height);
  bitmap.close();
  return r;
}
