import { describe, expect, it } from 'vitest';
import { EditorDocument } from './document.ts';
import { TILE_SIZE } from './tiled-layer.ts';

const TILE_BYTES = TILE_SIZE * TILE_SIZE * 4;

function paint(doc: EditorDocument, x: number, y: number, w: number, h: number, v: number): void {
  const data = new Uint8ClampedArray(w * h * 4).fill(v);
  doc.image.write(x, y, { width: w, height: h, data });
}

const pixel = (doc: EditorDocument, x: number, y: number): number[] => [...doc.image.read({ x, y, width: 1, height: 1 }).data];

describe('History', () => {
  it('undoes and redoes steps recorded as tile diffs between marks', () => {
    const doc = new EditorDocument();
    doc.history.mark('a');
    paint(doc, 0, 0, 10, 10, 10);
    doc.history.mark('b');
    paint(doc, 5, 5, 10, 10, 20);
    expect(doc.history.undoNames()).toEqual(['a', 'b']);
    expect(pixel(doc, 6, 6)).toEqual([20, 20, 20, 20]);
    expect(doc.history.undo()).toBe('b');
    expect(pixel(doc, 6, 6)).toEqual([10, 10, 10, 10]);
    expect(doc.history.undo()).toBe('a');
    expect(pixel(doc, 6, 6)).toEqual([0, 0, 0, 0]);
    expect(doc.image.tiles.size).toBe(0);
    expect(doc.history.undo()).toBeNull();
    expect(doc.history.redo()).toBe('a');
    expect(doc.history.redo()).toBe('b');
    expect(pixel(doc, 6, 6)).toEqual([20, 20, 20, 20]);
    expect(doc.history.canRedo).toBe(false);
  });

  it('records only the touched tiles, once per step', () => {
    const doc = new EditorDocument();
    doc.history.mark('cross two tiles');
    paint(doc, TILE_SIZE - 2, 0, 4, 1, 9);
    paint(doc, TILE_SIZE - 2, 0, 4, 1, 8);
    doc.history.mark('next');
    const step = doc.history.snapshot().undo[0];
    expect(step?.tiles.size).toBe(2);
    // New tiles record "did not exist" (null), costing no bytes.
    expect([...(step?.tiles.values() ?? [])]).toEqual([null, null]);
    expect(doc.history.bytes).toBe(0);
  });

  it('a new edit after undo drops the redo stack', () => {
    const doc = new EditorDocument();
    doc.history.mark('a');
    paint(doc, 0, 0, 1, 1, 1);
    doc.history.undo();
    expect(doc.history.canRedo).toBe(true);
    doc.history.mark('b');
    paint(doc, 0, 0, 1, 1, 2);
    expect(doc.history.canRedo).toBe(false);
    expect(doc.history.undoNames()).toEqual(['b']);
  });

  it('keeps at least 100 steps and undoes all of them', () => {
    const doc = new EditorDocument();
    for (let i = 1; i <= 150; i++) {
      doc.history.mark(`step ${i}`);
      paint(doc, 0, 0, 1, 1, i);
    }
    for (let i = 150; i >= 1; i--) {
      expect(pixel(doc, 0, 0)[0]).toBe(i);
      expect(doc.history.undo()).toBe(`step ${i}`);
    }
    expect(pixel(doc, 0, 0)).toEqual([0, 0, 0, 0]);
    for (let i = 1; i <= 150; i++) doc.history.redo();
    expect(pixel(doc, 0, 0)[0]).toBe(150);
  });

  it('bounds memory by evicting the oldest steps', () => {
    const doc = new EditorDocument({ maxSteps: 1000, maxBytes: 10 * TILE_BYTES });
    paint(doc, 0, 0, 1, 1, 1);
    for (let i = 0; i < 30; i++) {
      doc.history.mark(`s${i}`);
      paint(doc, 0, 0, 1, 1, i + 2);
    }
    doc.history.mark('end');
    expect(doc.history.bytes).toBeLessThanOrEqual(10 * TILE_BYTES);
    expect(doc.history.undoNames().at(-1)).toBe('s29');
    expect(doc.history.undoNames().length).toBe(10);
  });

  it('bounds the number of steps', () => {
    const doc = new EditorDocument({ maxSteps: 120, maxBytes: Infinity });
    for (let i = 0; i < 200; i++) {
      doc.history.mark(`s${i}`);
      paint(doc, 0, 0, 1, 1, i);
    }
    doc.history.mark('end');
    expect(doc.history.undoNames().length).toBe(120);
  });

  it('bailToMark reverts and forgets everything since the mark', () => {
    const doc = new EditorDocument();
    doc.history.mark('keep');
    paint(doc, 0, 0, 1, 1, 5);
    const m = doc.history.mark('drag');
    paint(doc, 0, 0, 1, 1, 6);
    doc.history.mark('drag more');
    paint(doc, 0, 0, 1, 1, 7);
    doc.history.bailToMark(m);
    expect(pixel(doc, 0, 0)[0]).toBe(5);
    expect(doc.history.undoNames()).toEqual(['keep']);
    expect(doc.history.canRedo).toBe(false);
  });

  it('squashToMark merges steps into one undo step', () => {
    const doc = new EditorDocument();
    const m = doc.history.mark('a');
    paint(doc, 0, 0, 1, 1, 1);
    doc.history.mark('b');
    paint(doc, 300, 0, 1, 1, 2);
    doc.history.mark('c');
    paint(doc, 0, 0, 1, 1, 3);
    doc.history.squashToMark(m, 'all');
    expect(doc.history.undoNames()).toEqual(['all']);
    doc.history.undo();
    expect(pixel(doc, 0, 0)[0]).toBe(0);
    expect(pixel(doc, 300, 0)[0]).toBe(0);
    doc.history.redo();
    expect(pixel(doc, 0, 0)[0]).toBe(3);
    expect(pixel(doc, 300, 0)[0]).toBe(2);
  });

  it('reports dirty steps for autosave', () => {
    const doc = new EditorDocument();
    doc.history.mark('a');
    paint(doc, 0, 0, 1, 1, 1);
    // A step still open is not reported until it closes.
    expect(doc.history.takeDirty()).toEqual([]);
    doc.history.mark('b');
    const ids = doc.history.takeDirty();
    expect(ids.length).toBe(1);
    expect(doc.history.takeDirty()).toEqual([]);
    doc.history.undo();
    expect(doc.history.takeDirty()).toEqual(ids);
  });
});
