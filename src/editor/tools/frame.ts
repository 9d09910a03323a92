/** Frame tool: drag the generation frame anywhere; pressing outside it centres it there first. */
import { contains, type Point, type Rect } from '../geometry.ts';
import { StateNode, type PointerInfo } from './state-node.ts';

class Idle extends StateNode {
  readonly id = 'idle';
  override onPointerDown(info: PointerInfo): void {
    this.transition('dragging', info);
  }
}

class Dragging extends StateNode {
  readonly id = 'dragging';
  private startFrame: Rect = { x: 0, y: 0, width: 0, height: 0 };
  private origin: Rect = { x: 0, y: 0, width: 0, height: 0 };
  private startDoc: Point = { x: 0, y: 0 };

  override onEnter(info: unknown): void {
    const p = info as PointerInfo;
    this.startFrame = this.editor.getFrame();
    this.origin = this.startFrame;
    if (!contains(this.startFrame, p.doc)) {
      this.origin = {
        ...this.startFrame,
        x: Math.round(p.doc.x - this.startFrame.width / 2),
        y: Math.round(p.doc.y - this.startFrame.height / 2),
      };
      this.editor.setFrame(this.origin);
    }
    this.startDoc = p.doc;
  }
  override onPointerMove(info: PointerInfo): void {
    this.editor.setFrame({
      ...this.origin,
      x: Math.round(this.origin.x + info.doc.x - this.startDoc.x),
      y: Math.round(this.origin.y + info.doc.y - this.startDoc.y),
    });
  }
  override onPointerUp(): void {
    this.transition('idle');
  }
  override onCancel(): void {
    this.editor.setFrame(this.startFrame);
    this.transition('idle');
  }
}

/** Frame tool (G). */
export class FrameTool extends StateNode {
  readonly id = 'frame';
  override readonly initial = 'idle';
  constructor(...args: ConstructorParameters<typeof StateNode>) {
    super(...args);
    this.addChildren(Idle, Dragging);
  }
}
