import { describe, expect, it } from 'vitest';
import { TestEditor } from './test-editor.ts';
import { ZOOM_LIMITS } from './viewport.ts';
import { frameDimensions } from './frame.ts';

describe('Editor tools', () => {
  it('starts on the frame tool and switches tools by shortcut', () => {
    const ed = new TestEditor();
    expect(ed.path()).toBe('frame.idle');
    ed.key('e');
    expect(ed.path()).toBe('eraser.idle');
    ed.key('b');
    expect(ed.path()).toBe('mask.idle');
    ed.key('v');
    expect(ed.path()).toBe('move.idle');
    ed.key('h');
    expect(ed.path()).toBe('pan.idle');
    ed.key('g');
    expect(ed.state.toolPath).toBe('frame.idle');
  });

  it('frame tool drags the frame; pressing outside centres it there first', () => {
    const ed = new TestEditor({ longSide: 128 });
    expect(ed.getFrame()).toEqual({ x: 0, y: 0, width: 128, height: 128 });
    ed.down(10, 10);
    expect(ed.path()).toBe('frame.dragging');
    ed.move(60, 30).up(60, 30);
    expect(ed.getFrame()).toEqual({ x: 50, y: 20, width: 128, height: 128 });
    ed.down(1000, 1000).up(1000, 1000);
    expect(ed.getFrame()).toEqual({ x: 936, y: 936, width: 128, height: 128 });
    // Escape restores the frame from before the drag.
    ed.down(1000, 1000).move(1100, 1100).key('Escape');
    expect(ed.getFrame()).toEqual({ x: 936, y: 936, width: 128, height: 128 });
    expect(ed.path()).toBe('frame.idle');
  });

  it('frame presets: multiples of 64, long side as asked', () => {
    expect(frameDimensions('1:1', 512)).toEqual({ width: 512, height: 512 });
    expect(frameDimensions('16:9', 1024)).toEqual({ width: 1024, height: 576 });
    expect(frameDimensions('9:16', 768)).toEqual({ width: 448, height: 768 });
    expect(frameDimensions('2:3', 512)).toEqual({ width: 320, height: 512 });
    expect(frameDimensions('3:2', 128)).toEqual({ width: 128, height: 64 });
    expect(() => frameDimensions('1:1', 100)).toThrow(/multiple of 64/);
    const ed = new TestEditor({ longSide: 512 });
    ed.setFrameSize('16:9', 1024);
    expect(ed.getFrame()).toEqual({ x: -256, y: -32, width: 1024, height: 576 });
    ed.setFrameExactSize(320, 512);
    expect(ed.state).toMatchObject({ aspect: '2:3', longSide: 512, frame: { x: 96, y: 0, width: 320, height: 512 } });
  });

  it('an eraser stroke is one undoable step; Escape mid-stroke reverts it', () => {
    const ed = new TestEditor();
    ed.fill(0, 0, 200, 200);
    ed.key('e');
    ed.setBrush({ size: 20, hardness: 1 });
    ed.drag({ x: 50, y: 50 }, { x: 150, y: 50 }, 10);
    expect(ed.alphaAt(100, 50)).toBe(0);
    expect(ed.alphaAt(100, 70)).toBe(255);
    expect(ed.doc.history.undoNames()).toEqual(['fill', 'erase']);
    ed.undo();
    expect(ed.alphaAt(100, 50)).toBe(255);
    ed.redo();
    expect(ed.alphaAt(100, 50)).toBe(0);
    ed.down(100, 150).move(120, 150);
    expect(ed.alphaAt(110, 150)).toBe(0);
    ed.key('Escape');
    expect(ed.alphaAt(110, 150)).toBe(255);
    expect(ed.doc.history.undoNames()).toEqual(['fill', 'erase']);
  });

  it('eraser hardness: a soft brush leaves partial alpha at the rim', () => {
    const ed = new TestEditor();
    ed.fill(0, 0, 100, 100);
    ed.key('e');
    ed.setBrush({ size: 40, hardness: 0 });
    ed.down(50.5, 50.5).up(50.5, 50.5);
    expect(ed.alphaAt(50, 50)).toBe(0);
    const rim = ed.alphaAt(64, 50);
    expect(rim).toBeGreaterThan(0);
    expect(rim).toBeLessThan(255);
    expect(ed.alphaAt(75, 50)).toBe(255);
  });

  it('mask brush paints the mask layer; Alt erases it', () => {
    const ed = new TestEditor();
    ed.key('b');
    ed.setBrush({ size: 10, hardness: 1 });
    ed.drag({ x: 10, y: 10 }, { x: 40, y: 10 });
    expect(ed.doc.mask.hasContent({ x: 20, y: 10, width: 1, height: 1 })).toBe(true);
    ed.down(20, 10, { altKey: true }).up(20, 10);
    expect(ed.doc.mask.hasContent({ x: 20, y: 10, width: 1, height: 1 })).toBe(false);
    expect(ed.doc.image.tiles.size).toBe(0);
  });

  it('move tool carries the frame pixels with the frame as one step', () => {
    const ed = new TestEditor({ longSide: 64 });
    ed.fill(0, 0, 64, 64, [1, 2, 3, 255]);
    ed.key('v');
    ed.drag({ x: 10, y: 10 }, { x: 110, y: 10 });
    expect(ed.getFrame()).toEqual({ x: 100, y: 0, width: 64, height: 64 });
    expect(ed.alphaAt(10, 10)).toBe(0);
    expect(ed.alphaAt(110, 10)).toBe(255);
    expect(ed.doc.history.undoNames()).toEqual(['fill', 'move']);
    ed.undo();
    expect(ed.alphaAt(10, 10)).toBe(255);
    expect(ed.alphaAt(110, 10)).toBe(0);
    // Cancelled moves leave nothing behind.
    ed.down(10, 10).move(50, 50).key('Escape');
    expect(ed.alphaAt(10, 10)).toBe(255);
    expect(ed.state.floating).toBeNull();
  });

  it('pan tool, space-drag and the middle button move the camera; wheel zoom is clamped', () => {
    const ed = new TestEditor();
    ed.key('h');
    ed.pointerDown(ed.pointer({ x: 0, y: 0 }));
    ed.pointerMove(ed.pointer({ x: 15, y: 20 }));
    ed.pointerMove(ed.pointer({ x: 30, y: 40 }));
    ed.pointerUp(ed.pointer({ x: 30, y: 40 }));
    expect(ed.state.camera).toMatchObject({ offsetX: 30, offsetY: 40 });
    ed.key('g');
    ed.key(' ', { code: 'Space' });
    ed.pointerDown(ed.pointer({ x: 0, y: 0 }));
    ed.pointerMove(ed.pointer({ x: 10, y: 0 }));
    ed.pointerUp(ed.pointer({ x: 10, y: 0 }));
    ed.keyUp({ code: 'Space' });
    expect(ed.state.camera.offsetX).toBe(40);
    expect(ed.getFrame().x).toBe(0);
    ed.pointerDown(ed.pointer({ x: 0, y: 0 }, { button: 1 }));
    ed.pointerMove(ed.pointer({ x: 0, y: 5 }, { button: 1 }));
    ed.pointerUp(ed.pointer({ x: 0, y: 5 }, { button: 1 }));
    expect(ed.state.camera.offsetY).toBe(45);
    for (let i = 0; i < 50; i++) ed.wheel({ x: 100, y: 100 }, -500);
    expect(ed.state.camera.zoom).toBe(ZOOM_LIMITS.max);
    for (let i = 0; i < 50; i++) ed.wheel({ x: 100, y: 100 }, 500);
    expect(ed.state.camera.zoom).toBe(ZOOM_LIMITS.min);
    // Zooming keeps the point under the cursor fixed.
    const before = ed.toDoc({ x: 100, y: 100 });
    ed.wheel({ x: 100, y: 100 }, -100);
    const after = ed.toDoc({ x: 100, y: 100 });
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
  });

  it('fit to content frames the pixels and the frame', () => {
    const ed = new TestEditor({ longSide: 64 });
    ed.fill(1000, 1000, 100, 100);
    ed.key('!', { shiftKey: true, code: 'Digit1' });
    const cam = ed.state.camera;
    const topLeft = { x: 0 * cam.zoom + cam.offsetX, y: 0 * cam.zoom + cam.offsetY };
    expect(topLeft.x).toBeGreaterThanOrEqual(0);
    expect(1100 * cam.zoom + cam.offsetX).toBeLessThanOrEqual(800);
  });

  it('ctrl+z / ctrl+shift+z undo and redo; locked editors refuse edits', () => {
    const ed = new TestEditor();
    ed.fill(0, 0, 10, 10);
    ed.key('z', { ctrlKey: true });
    expect(ed.alphaAt(0, 0)).toBe(0);
    ed.key('Z', { ctrlKey: true, shiftKey: true });
    expect(ed.alphaAt(0, 0)).toBe(255);
    ed.setLocked(true);
    ed.key('e');
    ed.down(5, 5).up(5, 5);
    expect(ed.alphaAt(5, 5)).toBe(255);
    ed.undo();
    expect(ed.alphaAt(5, 5)).toBe(255);
  });

  it('a generation lands as one step and clears the mask in the frame', () => {
    const ed = new TestEditor({ longSide: 64 });
    ed.key('b');
    ed.drag({ x: 10, y: 10 }, { x: 20, y: 10 });
    const data = new Uint8ClampedArray(64 * 64 * 4).fill(255);
    ed.applyGeneration(ed.getFrame(), { width: 64, height: 64, data });
    expect(ed.doc.mask.hasContent(ed.getFrame())).toBe(false);
    expect(ed.doc.history.undoNames()).toEqual(['mask', 'generate']);
    ed.undo();
    expect(ed.alphaAt(1, 1)).toBe(0);
    expect(ed.doc.mask.hasContent(ed.getFrame())).toBe(true);
  });
});
