/**
 * Input images of the image modes: made opaque, scaled to a bounded size and named by a content
 * hash, so a result's parameters can name its inputs and a re-run finds the identical pixels.
 */
import type { RgbaImage } from '../../workers/protocol.ts';
import { resizeBicubicU8 } from '../../workers/tensor/image.ts';

/** Largest side an input image keeps (the encoder sees 224 px, img2img at most the frame's 1024). */
export const MAX_INPUT_SIDE = 1024;

const ID_PATTERN = /^sha256-[0-9a-f]{64}$/;

/** An image id short enough to show (the first 12 hex digits). */
export const shortId = (id: string): string => id.replace(/^sha256-/, '').slice(0, 12);

/** True for an input image id ("sha256-" and 64 hex digits). */
export function isImageId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/**
 * The image composited over white and made opaque. The engine drops alpha, so transparent pixels
 * (an erased part of the frame) would otherwise feed it whatever colour they hide.
 */
export function flattenOpaque(image: RgbaImage): RgbaImage {
  const data = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = image.data[i + 3]!;
    if (a === 255) {
      data[i] = image.data[i]!;
      data[i + 1] = image.data[i + 1]!;
      data[i + 2] = image.data[i + 2]!;
    } else {
      const t = a / 255;
      for (let k = 0; k < 3; k++) data[i + k] = Math.round(image.data[i + k]! * t + 255 * (1 - t));
    }
    data[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data };
}

/** Scale an opaque image down (Pillow's antialiased bicubic) so its long side is at most `maxSide`; smaller ones stay as they are. */
export function fitInput(image: RgbaImage, maxSide: number = MAX_INPUT_SIDE): RgbaImage {
  const long = Math.max(image.width, image.height);
  if (long <= maxSide) return image;
  const scale = maxSide / long;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const n = image.width * image.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = image.data[i * 4]!;
    rgb[i * 3 + 1] = image.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = image.data[i * 4 + 2]!;
  }
  const small = resizeBicubicU8(rgb, image.width, image.height, width, height, 'pillow');
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = small[i * 3]!;
    data[i * 4 + 1] = small[i * 3 + 1]!;
    data[i * 4 + 2] = small[i * 3 + 2]!;
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** Content id of an image: SHA-256 over "RGBA8 {width}x{height}\n" and its pixel bytes. */
export async function imageId(image: RgbaImage): Promise<string> {
  const header = new TextEncoder().encode(`RGBA8 ${image.width}x${image.height}\n`);
  const bytes = new Uint8Array(header.length + image.data.length);
  bytes.set(header, 0);
  bytes.set(image.data, header.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256-${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** An input image ready to store and send: opaque, at most MAX_INPUT_SIDE, with its content id. */
export interface PreparedImage {
  readonly id: string;
  readonly image: RgbaImage;
}

/** Flatten, fit and hash an image chosen as an input. */
export async function prepareInputImage(image: RgbaImage, maxSide: number = MAX_INPUT_SIDE): Promise<PreparedImage> {
  const ready = fitInput(flattenOpaque(image), maxSide);
  return { id: await imageId(ready), image: ready };
}
