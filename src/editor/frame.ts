/** The generation frame: aspect presets and sizes (multiples of 64, as the decoder needs). */
import type { Rect } from './geometry.ts';

/** Aspect presets of the original demo, as width:height. */
export const ASPECT_PRESETS = {
  '9:16': [9, 16],
  '2:3': [2, 3],
  '1:1': [1, 1],
  '16:9': [16, 9],
  '3:2': [3, 2],
} as const satisfies Record<string, readonly [number, number]>;
export type AspectPreset = keyof typeof ASPECT_PRESETS;
export const ASPECT_NAMES = Object.keys(ASPECT_PRESETS) as AspectPreset[];

/** Frame long-side choices: normal (512–1024) and small test sizes for tiny models (64–256). */
export const FRAME_SIZES = {
  normal: [512, 576, 640, 704, 768, 832, 896, 960, 1024],
  small: [64, 128, 192, 256],
} as const;

/** Both sides of a frame: the long side is `longSide`, the short side the nearest multiple of 64 (at least 64). */
export function frameDimensions(aspect: AspectPreset, longSide: number): { width: number; height: number } {
  if (!Number.isInteger(longSide) || longSide % 64 !== 0 || longSide < 64) {
    throw new RangeError(`frame: expected a long side that is a multiple of 64, got ${longSide}`);
  }
  const [aw, ah] = ASPECT_PRESETS[aspect];
  const short = Math.max(64, Math.round((longSide * Math.min(aw, ah)) / Math.max(aw, ah) / 64) * 64);
  return aw >= ah ? { width: longSide, height: short } : { width: short, height: longSide };
}

/** The frame rectangle resized to a preset, keeping its centre (snapped to whole pixels). */
export function resizeFrame(frame: Rect, aspect: AspectPreset, longSide: number): Rect {
  const { width, height } = frameDimensions(aspect, longSide);
  const cx = frame.x + frame.width / 2;
  const cy = frame.y + frame.height / 2;
  return { x: Math.round(cx - width / 2), y: Math.round(cy - height / 2), width, height };
}
