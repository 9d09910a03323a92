/**
 * A sparse raster of fixed-size RGBA tiles, so a 4096×4096 document costs only what is
 * painted and an edit touches (and records) only the tiles it covers.
 */
import type { RgbaImage } from '../../workers/protocol.ts';
import { createRaster, type Raster } from './raster.ts';
import type { Rect } from './geometry.ts';

/** Side of one tile in pixels. */
export const TILE_SIZE = 256;
const TILE_BYTES = TILE_SIZE * TILE_SIZE * 4;

/** Tile coordinates packed as "tx,ty". */
export type TileKey = `${number},${number}`;

/** Key of the tile at tile coordinates (tx, ty). */
export function tileKey(tx: number, ty: number): TileKey {
  return `${tx},${ty}`;
}

/** Tile coordinates of a key. */
export function parseTileKey(key: string): { tx: number; ty: number } {
  const [a, b] = key.split(',');
  const tx = Number(a);
  const ty = Number(b);
  if (!Number.isInteger(tx) || !Number.isInteger(ty)) throw new Error(`tile key: expected "tx,ty", got "${key}"`);
  return { tx, ty };
}

/** Callbacks a layer makes around mutations: the history records `before`, views redraw on `changed`. */
export interface LayerObserver {
  /** Called once before a tile is first mutated; `before` is a copy (null = tile did not exist). */
  beforeChange(layer: string, key: TileKey): void;
  /** Called after a tile changed. */
  changed(layer: string, key: TileKey): void;
}

/** A sparse tiled RGBA layer. */
export class TiledLayer {
  readonly tiles = new Map<TileKey, Uint8ClampedArray>();

  constructor(readonly id: string, private readonly observer: LayerObserver) {}

  /** The tile's pixels (read-only use), or undefined when the tile is empty. */
  peek(key: TileKey): Uint8ClampedArray | undefined {
    return this.tiles.get(key);
  }

  /** A writable tile, created transparent on demand; reports the change to the observer first. */
  private writable(tx: number, ty: number): Uint8ClampedArray {
    const key = tileKey(tx, ty);
    this.observer.beforeChange(this.id, key);
    let tile = this.tiles.get(key);
    if (!tile) {
      tile = new Uint8ClampedArray(TILE_BYTES);
      this.tiles.set(key, tile);
    }
    return tile;
  }

  /** Replace a tile wholesale (history and loading); returns what was there. Does not notify `beforeChange`. */
  swapTile(key: TileKey, data: Uint8ClampedArray | null): Uint8ClampedArray | null {
    if (data && data.length !== TILE_BYTES) throw new RangeError(`tile ${key}: expected ${TILE_BYTES} bytes, got ${data.length}`);
    const prev = this.tiles.get(key) ?? null;
    if (data) this.tiles.set(key, data);
    else this.tiles.delete(key);
    this.observer.changed(this.id, key);
    return prev;
  }

  /** Pixels of `rect` (transparent where nothing is painted). */
  read(rect: Rect): Raster {
    const out = createRaster(rect.width, rect.height);
    this.forTiles(rect, (tx, ty, x0, y0, x1, y1) => {
      const tile = this.tiles.get(tileKey(tx, ty));
      if (!tile) return;
      const ox = tx * TILE_SIZE;
      const oy = ty * TILE_SIZE;
      for (let y = y0; y < y1; y++) {
        const s = ((y - oy) * TILE_SIZE + (x0 - ox)) * 4;
        out.data.set(tile.subarray(s, s + (x1 - x0) * 4), ((y - rect.y) * rect.width + (x0 - rect.x)) * 4);
      }
    });
    return out;
  }

  /** Write `src` with its top-left at (x, y), replacing pixels (alpha included). */
  write(x: number, y: number, src: RgbaImage): void {
    const rect = { x, y, width: src.width, height: src.height };
    this.forTiles(rect, (tx, ty, x0, y0, x1, y1) => {
      const ox = tx * TILE_SIZE;
      const oy = ty * TILE_SIZE;
      const tile = this.writable(tx, ty);
      for (let yy = y0; yy < y1; yy++) {
        const s = ((yy - y) * src.width + (x0 - x)) * 4;
        tile.set(src.data.subarray(s, s + (x1 - x0) * 4), ((yy - oy) * TILE_SIZE + (x0 - ox)) * 4);
      }
      this.observer.changed(this.id, tileKey(tx, ty));
    });
  }

  /** Composite `src` over the layer with its top-left at (x, y) (source-over, straight alpha). */
  composite(x: number, y: number, src: RgbaImage): void {
    this.mutate({ x, y, width: src.width, height: src.height }, (px, py, tile, o) => {
      const s = ((py - y) * src.width + (px - x)) * 4;
      const sa = (src.data[s + 3] ?? 0) / 255;
      if (sa === 0) return;
      const da = (tile[o + 3] ?? 0) / 255;
      const oa = sa + da * (1 - sa);
      for (let k = 0; k < 3; k++) {
        tile[o + k] = Math.round(((src.data[s + k] ?? 0) * sa + (tile[o + k] ?? 0) * da * (1 - sa)) / oa);
      }
      tile[o + 3] = Math.round(oa * 255);
    });
  }

  /** Visit every pixel of `rect` with a mutator (x, y, tile, offset); tiles are created on demand. */
  mutate(rect: Rect, fn: (x: number, y: number, tile: Uint8ClampedArray, offset: number) => void): void {
    this.forTiles(rect, (tx, ty, x0, y0, x1, y1) => {
      const ox = tx * TILE_SIZE;
      const oy = ty * TILE_SIZE;
      const tile = this.writable(tx, ty);
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) fn(x, y, tile, ((y - oy) * TILE_SIZE + (x - ox)) * 4);
      }
      this.observer.changed(this.id, tileKey(tx, ty));
    });
  }

  /** Make `rect` fully transparent. */
  clear(rect: Rect): void {
    this.forTiles(rect, (tx, ty, x0, y0, x1, y1) => {
      if (!this.tiles.has(tileKey(tx, ty))) return;
      const ox = tx * TILE_SIZE;
      const oy = ty * TILE_SIZE;
      const tile = this.writable(tx, ty);
      for (let y = y0; y < y1; y++) tile.fill(0, ((y - oy) * TILE_SIZE + (x0 - ox)) * 4, ((y - oy) * TILE_SIZE + (x1 - ox)) * 4);
      this.observer.changed(this.id, tileKey(tx, ty));
    });
  }

  /** Bounding box of non-transparent pixels, or null when the layer is empty. */
  contentBounds(): Rect | null {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const [key, tile] of this.tiles) {
      const { tx, ty } = parseTileKey(key);
      for (let y = 0; y < TILE_SIZE; y++) {
        for (let x = 0; x < TILE_SIZE; x++) {
          if (tile[(y * TILE_SIZE + x) * 4 + 3] === 0) continue;
          const gx = tx * TILE_SIZE + x;
          const gy = ty * TILE_SIZE + y;
          if (gx < x0) x0 = gx;
          if (gy < y0) y0 = gy;
          if (gx > x1) x1 = gx;
          if (gy > y1) y1 = gy;
        }
      }
    }
    return x1 < x0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  }

  /** True when some pixel in `rect` is not fully transparent. */
  hasContent(rect: Rect): boolean {
    let found = false;
    this.forTiles(rect, (tx, ty, x0, y0, x1, y1) => {
      const tile = this.tiles.get(tileKey(tx, ty));
      if (!tile || found) return;
      for (let y = y0; y < y1 && !found; y++) {
        for (let x = x0; x < x1; x++) {
          if (tile[((y - ty * TILE_SIZE) * TILE_SIZE + (x - tx * TILE_SIZE)) * 4 + 3] !== 0) { found = true; break; }
        }
      }
    });
    return found;
  }

  /** Call `fn` for each tile overlapping `rect`, with the overlap in document pixels [x0,x1)×[y0,y1). */
  private forTiles(rect: Rect, fn: (tx: number, ty: number, x0: number, y0: number, x1: number, y1: number) => void): void {
    if (rect.width <= 0 || rect.height <= 0) return;
    const tx0 = Math.floor(rect.x / TILE_SIZE);
    const ty0 = Math.floor(rect.y / TILE_SIZE);
    const tx1 = Math.floor((rect.x + rect.width - 1) / TILE_SIZE);
    const ty1 = Math.floor((rect.y + rect.height - 1) / TILE_SIZE);
    for (let ty = ty0; ty <= ty1; ty++) {
      for (let tx = tx0; tx <= tx1; tx++) {
        const x0 = Math.max(rect.x, tx * TILE_SIZE);
        const y0 = Math.max(rect.y, ty * TILE_SIZE);
        const x1 = Math.min(rect.x + rect.width, (tx + 1) * TILE_SIZE);
        const y1 = Math.min(rect.y + rect.height, (ty + 1) * TILE_SIZE);
        fn(tx, ty, x0, y0, x1, y1);
      }
    }
  }
}
