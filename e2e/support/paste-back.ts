/** The paste-back check of inpainting and outpainting results, shared by the editor and semantic specs. */
import type { Box } from '../pages/editor-page.ts';

/**
 * Compare two snapshots of `box`: every pixel outside `frame`, and every frame pixel at least
 * `grow` px from the repaint region (pixels with alpha < 128 before), must be unchanged; the
 * repaint region must now be opaque. Distances are brute force, independent of the app's code.
 */
export function checkPasteBack(before: number[], after: number[], box: Box, frame: Box, grow: number) {
  const repaint: [number, number][] = [];
  const inFrame = (x: number, y: number): boolean => x >= frame.x && y >= frame.y && x < frame.x + frame.width && y < frame.y + frame.height;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = ((y - box.y) * box.width + (x - box.x)) * 4;
      if (inFrame(x, y) && (before[i + 3] ?? 0) < 128) repaint.push([x, y]);
    }
  }
  let changedOutside = 0;
  let keptChecked = 0;
  let repaintNotOpaque = 0;
  let changedInSeam = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = ((y - box.y) * box.width + (x - box.x)) * 4;
      const same = before[i] === after[i] && before[i + 1] === after[i + 1] && before[i + 2] === after[i + 2] && before[i + 3] === after[i + 3];
      let far = !inFrame(x, y);
      if (!far) {
        far = true;
        for (const [rx, ry] of repaint) if ((rx - x) ** 2 + (ry - y) ** 2 < grow * grow) { far = false; break; }
      }
      if (far) { keptChecked++; if (!same) changedOutside++; }
      else if (!same) changedInSeam++;
    }
  }
  for (const [x, y] of repaint) if (after[((y - box.y) * box.width + (x - box.x)) * 4 + 3] !== 255) repaintNotOpaque++;
  return { repaint: repaint.length, keptChecked, changedOutside, repaintNotOpaque, changedInSeam };
}
