/**
 * The editor engine: document, camera, frame, tools and history behind one plain class.
 * No React here; UI code subscribes to `editor.store` (a vanilla zustand store).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { BRUSH_LIMITS, type BrushSettings } from './brush.ts';
import { EditorDocument } from './document.ts';
import { ASPECT_NAMES, ASPECT_PRESETS, frameDimensions, resizeFrame, type AspectPreset } from './frame.ts';
import { clamp, rectEquals, union, type Point, type Rect } from './geometry.ts';
import type { HistoryLimits } from './history.ts';
import type { Raster } from './raster.ts';
import { fitRect, panBy, screenToDoc, zoomAt, type Camera } from './viewport.ts';
import { PanTool } from './tools/pan.ts';
import { FrameTool } from './tools/frame.ts';
import { EraserTool, MaskTool } from './tools/brush-tool.ts';
import { MoveTool } from './tools/move.ts';
import { StateNode, type KeyInfo, type PointerInfo } from './tools/state-node.ts';

/** Tool ids, in toolbar order. */
export const TOOL_IDS = ['pan', 'frame', 'eraser', 'mask', 'move'] as const;
export type ToolId = (typeof TOOL_IDS)[number];

/** Keyboard shortcut of each tool (shown in tooltips). */
export const TOOL_SHORTCUTS = { pan: 'H', frame: 'G', eraser: 'E', mask: 'B', move: 'V' } as const satisfies Record<ToolId, string>;

/** Other shortcuts the editor handles. */
export const EDITOR_SHORTCUTS = {
  undo: 'Ctrl+Z', redo: 'Ctrl+Shift+Z', fit: 'Shift+1', zoomIn: '+', zoomOut: '-', brushSmaller: '[', brushBigger: ']',
  tempPan: 'Space', cancel: 'Escape',
} as const;

/** The lifted pixels while the move tool drags. */
export interface Floating {
  readonly image: Raster;
  readonly mask: Raster;
}

/** Editor state the UI renders from. */
export interface EditorState {
  readonly tool: ToolId;
  /** Active state path, e.g. "eraser.stroking". */
  readonly toolPath: string;
  readonly camera: Camera;
  readonly frame: Rect;
  readonly aspect: AspectPreset;
  readonly longSide: number;
  readonly brush: BrushSettings;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  /** Bumped when pixels change. */
  readonly docVersion: number;
  /** True while a temporary pan (space or middle button) is in progress or armed. */
  readonly panning: boolean;
  readonly floating: Floating | null;
  /** Edits are refused while true (e.g. results are staged over the frame). */
  readonly locked: boolean;
}

class Root extends StateNode {
  readonly id = 'root';
  override readonly initial = 'frame';
  constructor(editor: Editor) {
    super(editor, null);
    this.addChildren(PanTool, FrameTool, EraserTool, MaskTool, MoveTool);
  }
}

/** Options for a new editor. */
export interface EditorOptions {
  readonly viewSize?: { width: number; height: number };
  readonly history?: HistoryLimits;
  readonly aspect?: AspectPreset;
  readonly longSide?: number;
}

/** The canvas editor engine. */
export class Editor {
  readonly doc: EditorDocument;
  readonly store: StoreApi<EditorState>;
  private readonly root: Root;
  private viewSize: { width: number; height: number };
  private spaceHeld = false;
  private tempPan: { pointerId: number; last: Point } | null = null;

  constructor(options: EditorOptions = {}) {
    this.doc = new EditorDocument(options.history);
    this.viewSize = options.viewSize ?? { width: 1024, height: 768 };
    const aspect = options.aspect ?? '1:1';
    const longSide = options.longSide ?? 512;
    const { width, height } = frameDimensions(aspect, longSide);
    const frame = { x: 0, y: 0, width, height };
    this.store = createStore<EditorState>(() => ({
      tool: 'frame',
      toolPath: 'frame.idle',
      camera: fitRect(frame, this.viewSize),
      frame,
      aspect,
      longSide,
      brush: { size: BRUSH_LIMITS.defaultSize, hardness: BRUSH_LIMITS.defaultHardness },
      canUndo: false,
      canRedo: false,
      docVersion: 0,
      panning: false,
      floating: null,
      locked: false,
    }));
    this.root = new Root(this);
    this.root.enter(undefined);
    this.doc.history.subscribe(() => this.syncHistory());
    this.doc.onTileChange(() => this.store.setState({ docVersion: this.doc.version }));
    this.statesChanged();
  }

  /** Current state snapshot. */
  get state(): EditorState {
    return this.store.getState();
  }

  /** Active tool path ("eraser.stroking"). */
  path(): string {
    return this.root.current?.path() ?? '';
  }

  /** Called by states after transitions. */
  statesChanged(): void {
    const tool = (this.root.current?.id ?? 'frame') as ToolId;
    this.store.setState({ tool, toolPath: this.path() });
  }

  // ---- tools ----------------------------------------------------------------------------

  /** Switch tool (cancels any gesture in progress). */
  setTool(tool: ToolId): void {
    if (this.state.tool === tool) return;
    this.root.handle('onCancel');
    this.root.transition(tool);
  }

  // ---- camera ---------------------------------------------------------------------------

  /** Tell the editor the view's size in CSS pixels. */
  setViewSize(width: number, height: number): void {
    this.viewSize = { width, height };
  }

  getViewSize(): { width: number; height: number } {
    return this.viewSize;
  }

  setCamera(camera: Camera): void {
    this.store.setState({ camera });
  }

  panBy(dx: number, dy: number): void {
    this.setCamera(panBy(this.state.camera, dx, dy));
  }

  /** Zoom by `factor` around a screen point (the view centre by default); clamped to 10%–2000%. */
  zoomBy(factor: number, at: Point = { x: this.viewSize.width / 2, y: this.viewSize.height / 2 }): void {
    this.setCamera(zoomAt(this.state.camera, at, this.state.camera.zoom * factor));
  }

  /** Fit the painted content and the frame into the view. */
  fitToContent(): void {
    const content = this.doc.image.contentBounds();
    this.setCamera(fitRect(union(content, this.state.frame) ?? this.state.frame, this.viewSize));
  }

  /** Screen → document coordinates with the current camera. */
  toDoc(p: Point): Point {
    return screenToDoc(this.state.camera, p);
  }

  // ---- frame ----------------------------------------------------------------------------

  getFrame(): Rect {
    return this.state.frame;
  }

  /** Move/resize the frame (whole pixels). */
  setFrame(frame: Rect): void {
    const f = { x: Math.round(frame.x), y: Math.round(frame.y), width: frame.width, height: frame.height };
    if (!rectEquals(f, this.state.frame)) this.store.setState({ frame: f });
  }

  /** Apply an aspect preset and long side, keeping the frame's centre. */
  setFrameSize(aspect: AspectPreset, longSide: number): void {
    if (!(aspect in ASPECT_PRESETS)) throw new Error(`frame: unknown aspect "${aspect}", expected one of ${Object.keys(ASPECT_PRESETS).join(', ')}`);
    this.store.setState({ aspect, longSide, frame: resizeFrame(this.state.frame, aspect, longSide) });
  }

  /** Resize the frame to an exact size (e.g. a gallery item's), keeping its centre. */
  setFrameExactSize(width: number, height: number): void {
    const f = this.state.frame;
    this.setFrame({ x: Math.round(f.x + f.width / 2 - width / 2), y: Math.round(f.y + f.height / 2 - height / 2), width, height });
    // Keep the aspect/size controls in step when the size matches a preset.
    const longSide = Math.max(width, height);
    if (longSide % 64 !== 0) return;
    // Below 192 px several presets give the same size (see presetShortSides): take the closest ratio.
    const ratio = (a: AspectPreset): number => ASPECT_PRESETS[a][0] / ASPECT_PRESETS[a][1];
    const matching = ASPECT_NAMES.filter((a) => {
      const d = frameDimensions(a, longSide);
      return d.width === width && d.height === height;
    }).sort((a, b) => Math.abs(ratio(a) - width / height) - Math.abs(ratio(b) - width / height));
    const aspect = matching[0];
    if (aspect) this.store.setState({ aspect, longSide });
  }

  // ---- brush ----------------------------------------------------------------------------

  getBrush(): BrushSettings {
    return this.state.brush;
  }

  setBrush(brush: Partial<BrushSettings>): void {
    const b = { ...this.state.brush, ...brush };
    this.store.setState({
      brush: { size: clamp(Math.round(b.size), BRUSH_LIMITS.minSize, BRUSH_LIMITS.maxSize), hardness: clamp(b.hardness, 0, 1) },
    });
  }

  // ---- input ----------------------------------------------------------------------------

  /** Build a pointer info from a screen point (tests and the canvas view use this). */
  pointer(screen: Point, extra: Partial<Omit<PointerInfo, 'screen' | 'doc'>> = {}): PointerInfo {
    return {
      screen, doc: this.toDoc(screen), button: 0, pointerId: 1, pointerType: 'mouse',
      shiftKey: false, altKey: false, ctrlKey: false, ...extra,
    };
  }

  pointerDown(info: PointerInfo): void {
    if (info.button === 1 || this.spaceHeld) {
      this.tempPan = { pointerId: info.pointerId, last: info.screen };
      this.store.setState({ panning: true });
      return;
    }
    if (info.button !== 0) return;
    if (this.state.locked && this.state.tool !== 'pan' && this.state.tool !== 'frame') return;
    this.root.handle('onPointerDown', info);
  }

  pointerMove(info: PointerInfo): void {
    if (this.tempPan) {
      if (info.pointerId !== this.tempPan.pointerId) return;
      this.panBy(info.screen.x - this.tempPan.last.x, info.screen.y - this.tempPan.last.y);
      this.tempPan = { ...this.tempPan, last: info.screen };
      return;
    }
    this.root.handle('onPointerMove', info);
  }

  pointerUp(info: PointerInfo): void {
    if (this.tempPan) {
      this.tempPan = null;
      this.store.setState({ panning: this.spaceHeld });
      return;
    }
    this.root.handle('onPointerUp', info);
  }

  /** Wheel: zoom around the pointer (trackpad pinch arrives as ctrl+wheel and zooms too). */
  wheel(screen: Point, deltaY: number, deltaMode = 0): void {
    const px = deltaMode === 1 ? deltaY * 16 : deltaY;
    this.zoomBy(Math.exp(-px * 0.0015), screen);
  }

  /** Abort the gesture in progress (Escape, lost pointer capture, a second finger). */
  cancel(): void {
    this.tempPan = null;
    this.root.handle('onCancel');
    this.store.setState({ panning: this.spaceHeld });
  }

  /** Key down; returns true when the editor used the key. */
  keyDown(info: KeyInfo): boolean {
    const key = info.key.toLowerCase();
    if (info.ctrlKey) {
      if (key === 'z' && !info.shiftKey) { this.undo(); return true; }
      if ((key === 'z' && info.shiftKey) || key === 'y') { this.redo(); return true; }
      return false;
    }
    if (info.code === 'Space') {
      this.spaceHeld = true;
      this.store.setState({ panning: true });
      return true;
    }
    if (info.key === 'Escape') { this.cancel(); return true; }
    if (info.shiftKey && (info.key === '!' || info.code === 'Digit1')) { this.fitToContent(); return true; }
    if (info.key === '+' || info.key === '=') { this.zoomBy(1.25); return true; }
    if (info.key === '-') { this.zoomBy(0.8); return true; }
    if (info.key === '[') { this.setBrush({ size: this.state.brush.size / 1.2 }); return true; }
    if (info.key === ']') { this.setBrush({ size: this.state.brush.size * 1.2 }); return true; }
    for (const id of Object.keys(TOOL_SHORTCUTS) as ToolId[]) {
      if (key === TOOL_SHORTCUTS[id].toLowerCase() && !info.shiftKey && !info.altKey) { this.setTool(id); return true; }
    }
    this.root.handle('onKeyDown', info);
    return false;
  }

  keyUp(info: Pick<KeyInfo, 'code'>): void {
    if (info.code === 'Space') {
      this.spaceHeld = false;
      if (!this.tempPan) this.store.setState({ panning: false });
    }
  }

  // ---- history --------------------------------------------------------------------------

  undo(): void {
    if (this.state.locked) return;
    this.cancel();
    this.doc.history.undo();
  }

  redo(): void {
    if (this.state.locked) return;
    this.cancel();
    this.doc.history.redo();
  }

  private syncHistory(): void {
    this.store.setState({ canUndo: this.doc.history.canUndo, canRedo: this.doc.history.canRedo });
  }

  /** Refuse edits (while results are staged); pan and frame stay usable. */
  setLocked(locked: boolean): void {
    if (locked) this.cancel();
    this.store.setState({ locked });
  }

  // ---- content --------------------------------------------------------------------------

  /** Place an image with its top-left at (x, y) as one undoable step. */
  placeImage(raster: Raster, x: number, y: number, name = 'place image'): void {
    this.doc.history.mark(name);
    this.doc.image.composite(x, y, raster);
    this.doc.history.mark('edit');
  }

  /**
   * Write a generation's paste-back result into `rect` and clear the mask there: one step.
   * `composite` must be the full rect's final pixels.
   */
  applyGeneration(rect: Rect, composite: Raster, name = 'generate'): void {
    this.doc.history.mark(name);
    this.doc.image.write(rect.x, rect.y, composite);
    this.doc.mask.clear(rect);
    this.doc.history.mark('edit');
  }

  /** Erase everything in the mask layer within `rect` (one step). */
  clearMask(rect: Rect): void {
    if (!this.doc.mask.hasContent(rect)) return;
    this.doc.history.mark('clear mask');
    this.doc.mask.clear(rect);
    this.doc.history.mark('edit');
  }

  /** Lift the pixels in `rect` off the document into the floating buffer (move tool). */
  liftFloating(rect: Rect): void {
    const floating = { image: this.doc.image.read(rect), mask: this.doc.mask.read(rect) };
    this.doc.image.clear(rect);
    this.doc.mask.clear(rect);
    this.store.setState({ floating });
  }

  /** Composite the floating pixels at `rect` and clear the buffer. */
  dropFloating(rect: Rect): void {
    const f = this.state.floating;
    if (!f) return;
    this.doc.image.composite(rect.x, rect.y, f.image);
    this.doc.mask.composite(rect.x, rect.y, f.mask);
    this.store.setState({ floating: null });
  }

  /** Forget the floating pixels (the caller reverts the history). */
  discardFloating(): void {
    this.store.setState({ floating: null });
  }
}
