/** Pan tool: drag to move the view. */
import { StateNode, type PointerInfo } from './state-node.ts';

class Idle extends StateNode {
  readonly id = 'idle';
  override onPointerDown(info: PointerInfo): void {
    this.transition('panning', info);
  }
}

class Panning extends StateNode {
  readonly id = 'panning';
  private last = { x: 0, y: 0 };
  override onEnter(info: unknown): void {
    this.last = (info as PointerInfo).screen;
  }
  override onPointerMove(info: PointerInfo): void {
    this.editor.panBy(info.screen.x - this.last.x, info.screen.y - this.last.y);
    this.last = info.screen;
  }
  override onPointerUp(): void {
    this.transition('idle');
  }
  override onCancel(): void {
    this.transition('idle');
  }
}

/** Pan tool (H). */
export class PanTool extends StateNode {
  readonly id = 'pan';
  override readonly initial = 'idle';
  constructor(...args: ConstructorParameters<typeof StateNode>) {
    super(...args);
    this.addChildren(Idle, Panning);
  }
}
