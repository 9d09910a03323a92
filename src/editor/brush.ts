/** Round brush dabs for the eraser and the mask brush. */
import type { Point } from './geometry.ts';
import type { TiledLayer } from './tiled-layer.ts';

/** Brush settings shared by the eraser and the mask brush. */
export interface BrushSettings {
  /** Diameter in document pixels. */
  readonly size: number;
  /** 0 = soft edge from the centre out, 1 = hard edge. */
  readonly hardness: number;
}

/** Limits of the brush controls. */
export const BRUSH_LIMITS = { minSize: 1, maxSize: 512, defaultSize: 48, defaultHardness: 0.8 } as const;

/** Brush coverage in [0,1] at distance `d` from the centre (radius `r`, hardness `h`). */
export function brushFalloff(d: number, r: number, h: number): number {
  if (d >= r) return 0;
  const inner = r * Math.min(1, Math.max(0, h));
  if (d <= inner) return 1;
  const t = (d - inner) / (r - inner);
  // Smoothstep from 1 at the hard core to 0 at the rim.
  return 1 - t * t * (3 - 2 * t);
}

/** How a dab changes a pixel. */
export type DabMode = 'erase' | 'paint-mask' | 'erase-mask';

/** Colour the mask layer is painted with (shown as a translucent overlay). */
export const MASK_RGB = [255, 64, 96] as const;

/** Stamp one dab centred at `c` (document pixels, may be fractional). */
export function dab(layer: TiledLayer, c: Point, brush: BrushSettings, mode: DabMode): void {
  const r = Math.max(0.5, brush.size / 2);
  const rect = {
    x: Math.floor(c.x - r),
    y: Math.floor(c.y - r),
    width: Math.ceil(c.x + r) - Math.floor(c.x - r) + 1,
    height: Math.ceil(c.y + r) - Math.floor(c.y - r) + 1,
  };
  layer.mutate(rect, (x, y, tile, o) => {
    // Pixel centres sit at +0.5.
    const cover = brushFalloff(Math.hypot(x + 0.5 - c.x, y + 0.5 - c.y), r, brush.hardness);
    if (cover <= 0) return;
    const a = tile[o + 3] ?? 0;
    switch (mode) {
      case 'erase':
        tile[o + 3] = Math.round(a * (1 - cover));
        break;
      case 'paint-mask':
        tile[o] = MASK_RGB[0];
        tile[o + 1] = MASK_RGB[1];
        tile[o + 2] = MASK_RGB[2];
        tile[o + 3] = Math.max(a, Math.round(255 * cover));
        break;
      case 'erase-mask':
        tile[o + 3] = Math.round(a * (1 - cover));
        break;
    }
  });
}

/** Dabs along the segment a→b spaced a quarter of the brush size apart (b included, a excluded). */
export function strokePoints(a: Point, b: Point, size: number): Point[] {
  const spacing = Math.max(1, size / 4);
  const dist = Math.hypot(b.x - a.x, b.y - a.y);
  const n = Math.max(1, Math.ceil(dist / spacing));
  const pts: Point[] = [];
  for (let i = 1; i <= n; i++) pts.push({ x: a.x + ((b.x - a.x) * i) / n, y: a.y + ((b.y - a.y) * i) / n });
  return pts;
}
