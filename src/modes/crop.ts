/**
 * Crop geometry of the image modes: which part of an input image the model actually uses, so the
 * panel can show it before a run. Pure functions (no DOM).
 */
import type { RgbaImage } from '../../workers/protocol.ts';

/** A rectangle in the input image's pixels (fractional for the encoder's crop, whole for ours). */
export interface CropRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** CLIP image preprocessing sizes of Kandinsky 2.2 (SPEC §3): short side to 224, centre crop 224. */
export const CLIP_PROCESSOR = { size: 224, crop_size: 224 } as const;

/** When the model sees less than this share of an image, the panel flags it as far from the target aspect. */
export const CROP_LIMITS = { minKept: 0.8 } as const;

/**
 * The region of a w×h image that the image encoder keeps, in source pixels. Mirrors
 * workers/tensor/image.ts clipPreprocess (transformers' CLIPImageProcessor, torchvision backend):
 * the short side goes to `size` (the long side truncated), then a centred `crop_size` square
 * starting at floor((n - crop) / 2); a crop larger than the image pads instead of cropping.
 */
export function encoderCrop(w: number, h: number, proc: { readonly size: number; readonly crop_size: number } = CLIP_PROCESSOR): CropRect {
  if (!(w > 0 && h > 0)) throw new RangeError(`encoderCrop: expected a positive image size, got ${w}×${h}`);
  const { size, crop_size: crop } = proc;
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  const newLong = Math.trunc((size * long) / short);
  const newW = w <= h ? size : newLong;
  const newH = w <= h ? newLong : size;
  const axis = (n: number, scale: number): [number, number] => {
    if (crop > n) return [0, n * scale]; // padded: the whole axis is seen
    const start = Math.floor((n - crop) / 2);
    return [start * scale, crop * scale];
  };
  const [x, width] = axis(newW, w / newW);
  const [y, height] = axis(newH, h / newH);
  return { x, y, width, height };
}

/** The centred region of a w×h image with the frame's aspect ratio (img2img crops to it, then the engine resizes it to the frame). */
export function frameCrop(w: number, h: number, frameW: number, frameH: number): CropRect {
  if (!(w > 0 && h > 0 && frameW > 0 && frameH > 0)) {
    throw new RangeError(`frameCrop: expected positive sizes, got image ${w}×${h} and frame ${frameW}×${frameH}`);
  }
  if (w * frameH > h * frameW) {
    const width = Math.min(w, Math.max(1, Math.round((h * frameW) / frameH)));
    return { x: Math.floor((w - width) / 2), y: 0, width, height: h };
  }
  const height = Math.min(h, Math.max(1, Math.round((w * frameH) / frameW)));
  return { x: 0, y: Math.floor((h - height) / 2), width: w, height };
}

/** Copy a whole-pixel rectangle out of an image. */
export function cropImage(image: RgbaImage, rect: CropRect): RgbaImage {
  const { x, y, width, height } = rect;
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width < 1 || height < 1
    || x + width > image.width || y + height > image.height) {
    throw new RangeError(`cropImage: rectangle ${x},${y} ${width}×${height} is not whole pixels inside ${image.width}×${image.height}`);
  }
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let row = 0; row < height; row++) {
    const s = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(s, s + width * 4), row * width * 4);
  }
  return { width, height, data };
}

/** What to show for one input image: the region the model uses and whether too much is cut away. */
export interface CropPreview {
  /** 'encoder': the image encoder's square crop (variations, fusion); 'frame': the frame-aspect crop (img2img). */
  readonly kind: 'encoder' | 'frame';
  readonly rect: CropRect;
  /** Share of the image's area the model uses, 0..1. */
  readonly kept: number;
  /** True when the model uses less than CROP_LIMITS.minKept of the image. */
  readonly far: boolean;
}

/** The crop preview of a w×h input image for a mode that uses the encoder's crop or the frame's. */
export function cropPreview(kind: CropPreview['kind'], w: number, h: number, frame: { readonly width: number; readonly height: number }): CropPreview {
  const rect = kind === 'encoder' ? encoderCrop(w, h) : frameCrop(w, h, frame.width, frame.height);
  const kept = Math.min(1, (rect.width * rect.height) / (w * h));
  return { kind, rect, kept, far: kept < CROP_LIMITS.minKept };
}

/** A short aspect label: "3:2" for small whole ratios, else "2.35:1". */
export function aspectLabel(w: number, h: number): string {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(Math.round(w), Math.round(h));
  const a = Math.round(w) / g;
  const b = Math.round(h) / g;
  if (a <= 21 && b <= 21) return `${a}:${b}`;
  return w >= h ? `${(w / h).toFixed(2)}:1` : `1:${(h / w).toFixed(2)}`;
}
