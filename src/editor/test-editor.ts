/** A test driver for the editor engine (after tldraw's TestEditor): pointer helpers in document space. */
import { Editor, type EditorOptions } from './editor.ts';
import { docToScreen } from './viewport.ts';
import type { Point } from './geometry.ts';
import type { KeyInfo } from './tools/state-node.ts';

/** Editor with helpers that take document coordinates. */
export class TestEditor extends Editor {
  constructor(options: EditorOptions = {}) {
    super({ viewSize: { width: 800, height: 600 }, ...options });
    // Identity camera: screen = document, so tests read naturally.
    this.setCamera({ offsetX: 0, offsetY: 0, zoom: 1 });
  }

  private screen(p: Point): Point {
    return docToScreen(this.state.camera, p);
  }

  down(x: number, y: number, extra: { button?: number; altKey?: boolean } = {}): this {
    this.pointerDown(this.pointer(this.screen({ x, y }), extra));
    return this;
  }

  move(x: number, y: number, extra: { altKey?: boolean } = {}): this {
    this.pointerMove(this.pointer(this.screen({ x, y }), extra));
    return this;
  }

  up(x: number, y: number): this {
    this.pointerUp(this.pointer(this.screen({ x, y })));
    return this;
  }

  /** A full drag from a to b in `steps` moves. */
  drag(a: Point, b: Point, steps = 4): this {
    this.down(a.x, a.y);
    for (let i = 1; i <= steps; i++) this.move(a.x + ((b.x - a.x) * i) / steps, a.y + ((b.y - a.y) * i) / steps);
    return this.up(b.x, b.y);
  }

  key(key: string, extra: Partial<KeyInfo> = {}): this {
    this.keyDown({ key, code: extra.code ?? '', shiftKey: false, altKey: false, ctrlKey: false, repeat: false, ...extra });
    return this;
  }

  /** Fill a rectangle of the image layer with one opaque colour, as one step. */
  fill(x: number, y: number, w: number, h: number, rgba: readonly [number, number, number, number] = [200, 100, 50, 255]): this {
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set(rgba, i * 4);
    this.placeImage({ width: w, height: h, data }, x, y, 'fill');
    return this;
  }

  /** Alpha of one image pixel. */
  alphaAt(x: number, y: number): number {
    return this.doc.image.read({ x, y, width: 1, height: 1 }).data[3] ?? 0;
  }
}
