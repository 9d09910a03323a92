/** The camera over the infinite canvas: screen = doc × zoom + offset. */
import { clamp, type Point, type Rect } from './geometry.ts';

/** Zoom limits: 10% to 2000%. */
export const ZOOM_LIMITS = { min: 0.1, max: 20 } as const;

/** Camera state (plain data, persisted). */
export interface Camera {
  readonly offsetX: number;
  readonly offsetY: number;
  readonly zoom: number;
}

/** Screen point → document point. */
export function screenToDoc(cam: Camera, p: Point): Point {
  return { x: (p.x - cam.offsetX) / cam.zoom, y: (p.y - cam.offsetY) / cam.zoom };
}

/** Document point → screen point. */
export function docToScreen(cam: Camera, p: Point): Point {
  return { x: p.x * cam.zoom + cam.offsetX, y: p.y * cam.zoom + cam.offsetY };
}

/** Zoom to `zoom` (clamped) keeping the document point under screen point `at` fixed. */
export function zoomAt(cam: Camera, at: Point, zoom: number): Camera {
  const z = clamp(zoom, ZOOM_LIMITS.min, ZOOM_LIMITS.max);
  const doc = screenToDoc(cam, at);
  return { zoom: z, offsetX: at.x - doc.x * z, offsetY: at.y - doc.y * z };
}

/** Move the camera by a screen-space delta. */
export function panBy(cam: Camera, dx: number, dy: number): Camera {
  return { ...cam, offsetX: cam.offsetX + dx, offsetY: cam.offsetY + dy };
}

/** A camera that shows `rect` centred in a `view` of the given size with `padding` screen pixels around. */
export function fitRect(rect: Rect, view: { width: number; height: number }, padding = 48): Camera {
  const w = Math.max(1, view.width - 2 * padding);
  const h = Math.max(1, view.height - 2 * padding);
  const zoom = clamp(Math.min(w / Math.max(1, rect.width), h / Math.max(1, rect.height)), ZOOM_LIMITS.min, ZOOM_LIMITS.max);
  return {
    zoom,
    offsetX: view.width / 2 - (rect.x + rect.width / 2) * zoom,
    offsetY: view.height / 2 - (rect.y + rect.height / 2) * zoom,
  };
}
