/** Brush-like tools (eraser, mask brush): each stroke is one undoable step; Escape reverts it. */
import { dab, strokePoints, type DabMode } from '../brush.ts';
import type { Point } from '../geometry.ts';
import type { LayerId } from '../document.ts';
import { StateNode, type PointerInfo } from './state-node.ts';

class Idle extends StateNode {
  readonly id = 'idle';
  override onPointerDown(info: PointerInfo): void {
    this.transition('stroking', info);
  }
}

class Stroking extends StateNode {
  readonly id = 'stroking';
  private mark = 0;
  private last: Point = { x: 0, y: 0 };

  private get tool(): BrushTool {
    return this.parent as BrushTool;
  }

  override onEnter(info: unknown): void {
    const p = info as PointerInfo;
    this.mark = this.editor.doc.history.mark(this.tool.stepName);
    this.last = p.doc;
    dab(this.editor.doc.layer(this.tool.layer), p.doc, this.editor.getBrush(), this.tool.modeFor(p));
  }
  override onPointerMove(info: PointerInfo): void {
    const brush = this.editor.getBrush();
    const layer = this.editor.doc.layer(this.tool.layer);
    for (const pt of strokePoints(this.last, info.doc, brush.size)) dab(layer, pt, brush, this.tool.modeFor(info));
    this.last = info.doc;
  }
  override onPointerUp(): void {
    this.editor.doc.history.mark('edit');
    this.transition('idle');
  }
  override onCancel(): void {
    this.editor.doc.history.bailToMark(this.mark);
    this.transition('idle');
  }
}

/** Shared shape of the eraser and the mask brush. */
export abstract class BrushTool extends StateNode {
  override readonly initial = 'idle';
  abstract readonly layer: LayerId;
  abstract readonly stepName: string;
  abstract modeFor(info: PointerInfo): DabMode;
  constructor(...args: ConstructorParameters<typeof StateNode>) {
    super(...args);
    this.addChildren(Idle, Stroking);
  }
}

/** Eraser (E): makes image pixels transparent, which marks them for inpainting. */
export class EraserTool extends BrushTool {
  readonly id = 'eraser';
  readonly layer = 'image';
  readonly stepName = 'erase';
  modeFor(): DabMode {
    return 'erase';
  }
}

/** Mask brush (B): paints an explicit repaint mask over existing pixels; Alt erases the mask. */
export class MaskTool extends BrushTool {
  readonly id = 'mask';
  readonly layer = 'mask';
  readonly stepName = 'mask';
  modeFor(info: PointerInfo): DabMode {
    return info.altKey ? 'erase-mask' : 'paint-mask';
  }
}
