/** Draws the document, mask, floating/staged pixels and the frame onto a 2D canvas (no React). */
import type { StoreApi } from 'zustand/vanilla';
import type { Editor } from '../editor/editor.ts';
import type { Point } from '../editor/geometry.ts';
import { parseDocTileKey } from '../editor/document.ts';
import type { RgbaImage } from '../../workers/protocol.ts';
import { parseTileKey, TILE_SIZE, type TiledLayer } from '../editor/tiled-layer.ts';
import type { AppState } from './store.ts';
import { runFraction } from './progress.ts';

const COLORS = {
  background: '#17181c',
  grid: 'rgba(255,255,255,0.04)',
  frame: { text2img: '#5aa9ff', inpaint: '#ffb443', full: '#9aa0aa' },
  checkerA: '#2a2c33',
  checkerB: '#33363e',
  cursor: 'rgba(255,255,255,0.9)',
} as const;

/** Renders editor state; redraws on the next animation frame after any change. */
export class CanvasRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly tileCanvases = new Map<string, HTMLCanvasElement>();
  private readonly dirty = new Set<string>();
  private readonly imageCache = new WeakMap<RgbaImage, HTMLCanvasElement>();
  private frameRequested = false;
  private readonly unsubscribers: (() => void)[] = [];
  private checker: CanvasPattern | null = null;
  /** Pointer position in view pixels (brush cursor), or null. */
  hover: Point | null = null;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly editor: Editor, private readonly app: StoreApi<AppState>) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas is not available in this browser');
    this.ctx = ctx;
    for (const [key] of editor.doc.allTiles()) this.dirty.add(key);
    this.unsubscribers.push(
      editor.doc.onTileChange((key) => { this.dirty.add(key); this.request(); }),
      editor.store.subscribe(() => this.request()),
      app.subscribe((s, prev) => { if (s.staging !== prev.staging || s.frameMode !== prev.frameMode || s.run !== prev.run) this.request(); }),
    );
    this.request();
  }

  dispose(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  /** Ask for a redraw on the next animation frame. */
  request(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => { this.frameRequested = false; this.draw(); });
  }

  private tileCanvas(key: string, tile: Uint8ClampedArray): HTMLCanvasElement {
    let c = this.tileCanvases.get(key);
    if (!c) {
      c = document.createElement('canvas');
      c.width = TILE_SIZE;
      c.height = TILE_SIZE;
      this.tileCanvases.set(key, c);
      this.dirty.add(key);
    }
    if (this.dirty.has(key)) {
      c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(tile), TILE_SIZE, TILE_SIZE), 0, 0);
      this.dirty.delete(key);
    }
    return c;
  }

  private imageCanvas(img: RgbaImage): HTMLCanvasElement {
    let c = this.imageCache.get(img);
    if (!c) {
      c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
      this.imageCache.set(img, c);
    }
    return c;
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    const ctx = this.ctx;
    const { camera: cam, frame, floating, tool, brush } = this.editor.state;
    const app = this.app.getState();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = COLORS.background;
    ctx.fillRect(0, 0, w, h);

    // Tile grid (faint) helps orientation on the infinite canvas.
    const step = TILE_SIZE * cam.zoom;
    if (step >= 24) {
      ctx.strokeStyle = COLORS.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let x = ((cam.offsetX % step) + step) % step; x < w; x += step) { ctx.moveTo(Math.round(x) + 0.5, 0); ctx.lineTo(Math.round(x) + 0.5, h); }
      for (let y = ((cam.offsetY % step) + step) % step; y < h; y += step) { ctx.moveTo(0, Math.round(y) + 0.5); ctx.lineTo(w, Math.round(y) + 0.5); }
      ctx.stroke();
    }

    const fx = frame.x * cam.zoom + cam.offsetX;
    const fy = frame.y * cam.zoom + cam.offsetY;
    const fw = frame.width * cam.zoom;
    const fh = frame.height * cam.zoom;
    // Transparent area inside the frame: checkerboard (what will be painted).
    if (!this.checker) {
      const tile = document.createElement('canvas');
      tile.width = 16;
      tile.height = 16;
      const t = tile.getContext('2d');
      if (t) {
        t.fillStyle = COLORS.checkerA; t.fillRect(0, 0, 16, 16);
        t.fillStyle = COLORS.checkerB; t.fillRect(0, 0, 8, 8); t.fillRect(8, 8, 8, 8);
      }
      this.checker = ctx.createPattern(tile, 'repeat');
    }
    if (this.checker) {
      ctx.fillStyle = this.checker;
      ctx.fillRect(fx, fy, fw, fh);
    }

    ctx.imageSmoothingEnabled = cam.zoom < 2;
    this.drawLayer(this.editor.doc.image, 1, w, h);
    this.drawLayer(this.editor.doc.mask, 0.45, w, h);

    if (floating) {
      ctx.drawImage(this.imageCanvas(floating.image), fx, fy, fw, fh);
      ctx.globalAlpha = 0.45;
      ctx.drawImage(this.imageCanvas(floating.mask), fx, fy, fw, fh);
      ctx.globalAlpha = 1;
    }

    const staged = app.staging?.results[app.staging.index];
    if (app.staging && staged) {
      const r = app.staging.rect;
      ctx.drawImage(this.imageCanvas(staged.composite), r.x * cam.zoom + cam.offsetX, r.y * cam.zoom + cam.offsetY, r.width * cam.zoom, r.height * cam.zoom);
    }

    // A live preview of the run's image, over the frame until the results arrive.
    const preview = app.run?.preview;
    if (preview) {
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.imageCanvas(preview), fx, fy, fw, fh);
    }

    // The frame.
    const color = COLORS.frame[app.frameMode];
    ctx.save();
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = 3;
    ctx.strokeRect(Math.round(fx) - 0.5, Math.round(fy) - 0.5, Math.round(fw) + 1, Math.round(fh) + 1);
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    if (app.run) ctx.setLineDash([6, 4]);
    ctx.strokeRect(Math.round(fx) - 0.5, Math.round(fy) - 0.5, Math.round(fw) + 1, Math.round(fh) + 1);
    ctx.setLineDash([]);
    // While a run is going, a thin progress bar runs along the frame's bottom edge.
    const progress = app.run?.progress;
    if (app.run) {
      ctx.fillStyle = 'rgba(0,0,0,0.55)';
      ctx.fillRect(fx, fy + fh - 4, fw, 4);
      ctx.fillStyle = color;
      ctx.fillRect(fx, fy + fh - 4, fw * (progress ? runFraction(progress) : 0), 4);
    }
    ctx.font = '12px system-ui, sans-serif';
    const label = `${frame.width} × ${frame.height}`;
    const tw = ctx.measureText(label).width;
    ctx.fillStyle = 'rgba(0,0,0,0.65)';
    ctx.fillRect(fx, fy - 20, tw + 10, 18);
    ctx.fillStyle = '#fff';
    ctx.fillText(label, fx + 5, fy - 7);
    ctx.restore();

    if ((tool === 'eraser' || tool === 'mask') && this.hover) {
      ctx.strokeStyle = COLORS.cursor;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(this.hover.x, this.hover.y, Math.max(1, (brush.size / 2) * cam.zoom), 0, Math.PI * 2);
      ctx.stroke();
      ctx.strokeStyle = 'rgba(0,0,0,0.6)';
      ctx.beginPath();
      ctx.arc(this.hover.x, this.hover.y, Math.max(1, (brush.size / 2) * cam.zoom) + 1, 0, Math.PI * 2);
      ctx.stroke();
    }
  }

  private drawLayer(layer: TiledLayer, alpha: number, w: number, h: number): void {
    const cam = this.editor.state.camera;
    const size = TILE_SIZE * cam.zoom;
    this.ctx.globalAlpha = alpha;
    for (const [key, tile] of layer.tiles) {
      const { tx, ty } = parseTileKey(key);
      const sx = tx * size + cam.offsetX;
      const sy = ty * size + cam.offsetY;
      if (sx > w || sy > h || sx + size < 0 || sy + size < 0) continue;
      // +0.5 px overlap hides seams between tiles when zoomed with smoothing.
      this.ctx.drawImage(this.tileCanvas(`${layer.id}/${key}`, tile), sx, sy, size + 0.5, size + 0.5);
    }
    this.ctx.globalAlpha = 1;
    // Drop canvases of tiles that no longer exist.
    for (const key of this.tileCanvases.keys()) {
      const { layer: id, tile } = parseDocTileKey(key);
      if (id === layer.id && !layer.tiles.has(tile)) this.tileCanvases.delete(key);
    }
  }
}
