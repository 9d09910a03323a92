/** Move tool: drag the pixels inside the frame (image and mask) together with the frame. */
import { contains, type Point, type Rect } from '../geometry.ts';
import { StateNode, type PointerInfo } from './state-node.ts';

class Idle extends StateNode {
  readonly id = 'idle';
  override onPointerDown(info: PointerInfo): void {
    if (contains(this.editor.getFrame(), info.doc)) this.transition('dragging', info);
  }
}

class Dragging extends StateNode {
  readonly id = 'dragging';
  private startDoc: Point = { x: 0, y: 0 };
  private startFrame: Rect = { x: 0, y: 0, width: 0, height: 0 };
  private mark = 0;

  override onEnter(info: unknown): void {
    this.startDoc = (info as PointerInfo).doc;
    this.startFrame = this.editor.getFrame();
    this.mark = this.editor.doc.history.mark('move');
    this.editor.liftFloating(this.startFrame);
  }
  override onPointerMove(info: PointerInfo): void {
    const dx = Math.round(info.doc.x - this.startDoc.x);
    const dy = Math.round(info.doc.y - this.startDoc.y);
    this.editor.setFrame({ ...this.startFrame, x: this.startFrame.x + dx, y: this.startFrame.y + dy });
  }
  override onPointerUp(): void {
    const frame = this.editor.getFrame();
    if (frame.x === this.startFrame.x && frame.y === this.startFrame.y) {
      this.onCancel();
      return;
    }
    this.editor.dropFloating(frame);
    this.editor.doc.history.mark('edit');
    this.transition('idle');
  }
  override onCancel(): void {
    this.editor.discardFloating();
    this.editor.doc.history.bailToMark(this.mark);
    this.editor.setFrame(this.startFrame);
    this.transition('idle');
  }
}

/** Move tool (V). */
export class MoveTool extends StateNode {
  readonly id = 'move';
  override readonly initial = 'idle';
  constructor(...args: ConstructorParameters<typeof StateNode>) {
    super(...args);
    this.addChildren(Idle, Dragging);
  }
}
