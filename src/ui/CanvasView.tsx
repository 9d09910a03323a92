/** The canvas element: forwards pointer, wheel, pinch and drop events to the editor; draws via CanvasRenderer. */
import { useEffect, useRef, useState } from 'react';
import { CanvasRenderer } from '../app/renderer.ts';
import type { Point } from '../editor/geometry.ts';
import { zoomAt, panBy, type Camera } from '../editor/viewport.ts';
import { useController, useEditor, useT } from './hooks.ts';

const CURSORS = { pan: 'grab', frame: 'move', eraser: 'none', mask: 'none', move: 'move' } as const;

export function CanvasView() {
  const c = useController();
  const t = useT();
  const ref = useRef<HTMLCanvasElement>(null);
  const tool = useEditor((s) => s.tool);
  const panning = useEditor((s) => s.panning);
  const [dropping, setDropping] = useState(false);

  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const editor = c.editor;
    const renderer = new CanvasRenderer(canvas, editor, c.store);
    let fitted = c.storage.sessionRestored;
    const resize = (): void => {
      editor.setViewSize(canvas.clientWidth, canvas.clientHeight);
      if (!fitted && canvas.clientWidth > 0) { editor.fitToContent(); fitted = true; }
      renderer.request();
    };
    const ro = new ResizeObserver(resize);
    ro.observe(canvas);
    resize();

    const local = (e: { clientX: number; clientY: number }): Point => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const info = (e: PointerEvent) => editor.pointer(local(e), {
      button: e.button, pointerId: e.pointerId, pointerType: e.pointerType, shiftKey: e.shiftKey, altKey: e.altKey, ctrlKey: e.ctrlKey || e.metaKey,
    });
    // Two touch points pinch-zoom and pan; tools get single pointers only.
    const touches = new Map<number, Point>();
    let pinch: { dist: number; centre: Point; camera: Camera } | null = null;
    const pinchState = (): { dist: number; centre: Point } => {
      const [a, b] = [...touches.values()];
      if (!a || !b) return { dist: 1, centre: { x: 0, y: 0 } };
      return { dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), centre: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
    };

    const onDown = (e: PointerEvent): void => {
      canvas.setPointerCapture(e.pointerId);
      if (e.pointerType === 'touch') {
        touches.set(e.pointerId, local(e));
        if (touches.size === 2) {
          editor.cancel();
          pinch = { ...pinchState(), camera: editor.state.camera };
          return;
        }
      }
      if (e.button === 1) e.preventDefault();
      editor.pointerDown(info(e));
    };
    const onMove = (e: PointerEvent): void => {
      renderer.hover = local(e);
      if (e.pointerType === 'touch' && touches.has(e.pointerId)) {
        touches.set(e.pointerId, local(e));
        if (pinch) {
          const now = pinchState();
          const zoomed = zoomAt(pinch.camera, pinch.centre, pinch.camera.zoom * (now.dist / pinch.dist));
          editor.setCamera(panBy(zoomed, now.centre.x - pinch.centre.x, now.centre.y - pinch.centre.y));
          return;
        }
      }
      editor.pointerMove(info(e));
      if (editor.state.tool === 'eraser' || editor.state.tool === 'mask') renderer.request();
    };
    const onUp = (e: PointerEvent): void => {
      if (e.pointerType === 'touch') {
        touches.delete(e.pointerId);
        if (pinch) { if (touches.size === 0) pinch = null; return; }
      }
      editor.pointerUp(info(e));
    };
    const onCancel = (e: PointerEvent): void => {
      touches.delete(e.pointerId);
      pinch = null;
      editor.cancel();
    };
    const onLeave = (): void => { renderer.hover = null; renderer.request(); };
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      editor.wheel(local(e), e.deltaY, e.deltaMode);
    };
    canvas.addEventListener('pointerdown', onDown);
    canvas.addEventListener('pointermove', onMove);
    canvas.addEventListener('pointerup', onUp);
    canvas.addEventListener('pointercancel', onCancel);
    canvas.addEventListener('pointerleave', onLeave);
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => {
      ro.disconnect();
      renderer.dispose();
      canvas.removeEventListener('pointerdown', onDown);
      canvas.removeEventListener('pointermove', onMove);
      canvas.removeEventListener('pointerup', onUp);
      canvas.removeEventListener('pointercancel', onCancel);
      canvas.removeEventListener('pointerleave', onLeave);
      canvas.removeEventListener('wheel', onWheel);
    };
  }, [c]);

  return (
    <div
      className={dropping ? 'canvas-wrap dropping' : 'canvas-wrap'}
      onDragOver={(e) => { if (e.dataTransfer.types.includes('Files')) { e.preventDefault(); setDropping(true); } }}
      onDragLeave={() => setDropping(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDropping(false);
        const f = e.dataTransfer.files[0];
        if (f) void c.files.open(f);
      }}
    >
      <canvas
        ref={ref}
        data-testid="canvas"
        className="canvas"
        style={{ cursor: panning ? 'grabbing' : CURSORS[tool], touchAction: 'none' }}
        onContextMenu={(e) => e.preventDefault()}
      />
      {dropping && <div className="drop-hint">{t('dropHint')}</div>}
    </div>
  );
}
