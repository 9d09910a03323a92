/** RGBA rasters: the same shape as ImageData and the engine's RgbaImage. */
import type { RgbaImage } from '../../workers/protocol.ts';

/** A mutable RGBA raster (row-major, 4 bytes per pixel, straight alpha). */
export interface Raster extends RgbaImage {
  readonly data: Uint8ClampedArray;
}

/** A transparent raster of the given size. */
export function createRaster(width: number, height: number): Raster {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`raster: expected integer width/height >= 0, got ${width}×${height}`);
  }
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

/** A raster around existing data, checking that the length fits. */
export function wrapRaster(width: number, height: number, data: Uint8ClampedArray): Raster {
  if (data.length !== width * height * 4) {
    throw new RangeError(`raster: ${data.length} bytes do not fill ${width}×${height}×4`);
  }
  return { width, height, data };
}

/** A deep copy. */
export function cloneRaster(r: RgbaImage): Raster {
  return { width: r.width, height: r.height, data: new Uint8ClampedArray(r.data) };
}

/** Copy a `w`×`h` block from `src` at (sx, sy) to `dst` at (dx, dy); the caller keeps it in bounds. */
export function copyBlock(src: RgbaImage, sx: number, sy: number, dst: Raster, dx: number, dy: number, w: number, h: number): void {
  for (let row = 0; row < h; row++) {
    const s = ((sy + row) * src.width + sx) * 4;
    dst.data.set(src.data.subarray(s, s + w * 4), ((dy + row) * dst.width + dx) * 4);
  }
}

/** Nearest-neighbour resize (used only when an engine output differs from the frame). */
export function resizeNearest(src: RgbaImage, width: number, height: number): Raster {
  const out = createRaster(width, height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / width));
      const s = (sy * src.width + sx) * 4;
      const d = (y * width + x) * 4;
      out.data[d] = src.data[s] ?? 0;
      out.data[d + 1] = src.data[s + 1] ?? 0;
      out.data[d + 2] = src.data[s + 2] ?? 0;
      out.data[d + 3] = src.data[s + 3] ?? 0;
    }
  }
  return out;
}

/** True when every pixel is fully transparent. */
export function isTransparent(r: RgbaImage): boolean {
  for (let i = 3; i < r.data.length; i += 4) if (r.data[i] !== 0) return false;
  return true;
}
