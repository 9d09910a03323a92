import { describe, expect, it } from 'vitest';
import { distanceToMask, featherWeights, pasteBack, planFrame, prefill, repaintMask, SEAM } from './compose.ts';
import { createRaster } from './raster.ts';

function solid(w: number, h: number, rgba: readonly number[], where: (x: number, y: number) => boolean = () => true) {
  const r = createRaster(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (where(x, y)) r.data.set(rgba, (y * w + x) * 4);
  return r;
}

function bruteDistance(mask: Uint8Array, w: number, h: number, x: number, y: number): number {
  let best = Infinity;
  for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) if (mask[j * w + i]) best = Math.min(best, Math.hypot(i - x, j - y));
  return best;
}

describe('compose', () => {
  it('distanceToMask is the exact Euclidean distance', () => {
    const w = 23;
    const h = 17;
    const mask = new Uint8Array(w * h);
    for (const [x, y] of [[3, 4], [20, 1], [11, 15], [12, 15]] as const) mask[y * w + x] = 1;
    const d = distanceToMask(mask, w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(d[y * w + x]).toBeCloseTo(bruteDistance(mask, w, h, x, y), 4);
    expect(distanceToMask(new Uint8Array(4), 2, 2)[0]).toBe(Infinity);
  });

  it('repaint mask: empty pixels and painted mask pixels', () => {
    const img = solid(4, 1, [9, 9, 9, 255], (x) => x < 2);
    const mask = solid(4, 1, [255, 0, 0, 255], (x) => x === 0);
    expect([...repaintMask(img, mask)]).toEqual([1, 0, 1, 1]);
    expect([...repaintMask(img, null)]).toEqual([0, 0, 1, 1]);
  });

  it('feather is 1 on the mask, falls smoothly, and is 0 from `grow` pixels away', () => {
    const w = feathersFor([0, 1, 8, 15.9, 16, 40], 16);
    expect(w[0]).toBe(1);
    expect(w[1]).toBeGreaterThan(0.9);
    expect(w[2]).toBeCloseTo(0.5, 5);
    expect(w[3]).toBeGreaterThan(0);
    expect(w[4]).toBe(0);
    expect(w[5]).toBe(0);
  });

  it('plans text-to-image over nothing, nothing-to-repaint over full pixels, inpaint otherwise', () => {
    expect(planFrame(createRaster(64, 64), null).kind).toBe('text2img');
    expect(planFrame(solid(64, 64, [1, 2, 3, 255]), null).kind).toBe('nothing-to-repaint');
    const half = solid(64, 64, [1, 2, 3, 255], (x) => x < 32);
    const plan = planFrame(half, null);
    expect(plan.kind).toBe('inpaint');
    if (plan.kind !== 'inpaint') return;
    expect(plan.repaintPixels).toBe(32 * 64);
    // Grown mask: the empty half plus everything closer than SEAM.growPx.
    for (let x = 0; x < 64; x++) {
      const expected = x >= 32 - SEAM.growPx + 1 ? 255 : 0;
      expect(plan.mask.data[10 * 64 + x]).toBe(expected);
    }
    // The engine image is opaque, keeps the painted half exactly.
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const o = (y * 64 + x) * 4;
        expect(plan.image.data[o + 3]).toBe(255);
        if (x < 32) expect([...plan.image.data.subarray(o, o + 3)]).toEqual([1, 2, 3]);
      }
    }
  });

  it('prefill extends edge colours into the hole', () => {
    const img = solid(32, 8, [200, 40, 10, 255], (x) => x < 8);
    for (let y = 0; y < 8; y++) for (let x = 24; x < 32; x++) img.data.set([10, 40, 200, 255], (y * 32 + x) * 4);
    const out = prefill(img);
    // Next to the red side it is reddish, next to the blue side bluish.
    const at = (x: number): number[] => [...out.data.subarray((4 * 32 + x) * 4, (4 * 32 + x) * 4 + 3)];
    expect(at(9)[0]).toBeGreaterThan(at(9)[2] ?? 0);
    expect(at(22)[2]).toBeGreaterThan(at(22)[0] ?? 0);
    expect(prefill(createRaster(4, 4)).data[3]).toBe(255);
  });

  it('paste-back keeps every pixel outside the grown mask exactly and fills the hole', () => {
    const orig = solid(64, 64, [10, 20, 30, 255], (x, y) => !(x >= 20 && x < 40 && y >= 20 && y < 40));
    // A half-transparent pixel far from the hole must survive unchanged too.
    orig.data.set([50, 60, 70, 200], (2 * 64 + 2) * 4);
    const plan = planFrame(orig, null);
    if (plan.kind !== 'inpaint') throw new Error('expected inpaint');
    const gen = solid(64, 64, [250, 250, 250, 255]);
    const out = pasteBack(orig, gen, plan.weights);
    const repaint = repaintMask(orig, null);
    const dist = distanceToMask(repaint, 64, 64);
    let changedOutside = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const same = [0, 1, 2, 3].every((k) => out.data[i * 4 + k] === orig.data[i * 4 + k]);
      if ((dist[i] ?? 0) >= SEAM.growPx && !same) changedOutside++;
      if (repaint[i]) expect([...out.data.subarray(i * 4, i * 4 + 4)]).toEqual([250, 250, 250, 255]);
    }
    expect(changedOutside).toBe(0);
    // The seam blends: a pixel 4 px outside the hole is between the two colours.
    const seam = (30 * 64 + 16) * 4;
    expect(out.data[seam]).toBeGreaterThan(10);
    expect(out.data[seam]).toBeLessThan(250);
  });

  it('paste-back without weights replaces the frame', () => {
    const out = pasteBack(createRaster(2, 2), solid(2, 2, [1, 2, 3, 255]), null);
    expect([...out.data]).toEqual([1, 2, 3, 255, 1, 2, 3, 255, 1, 2, 3, 255, 1, 2, 3, 255]);
    expect(() => pasteBack(createRaster(2, 2), createRaster(4, 4), null)).toThrow(/differs/);
  });
});

function feathersFor(distances: number[], grow: number): Float32Array {
  return featherWeights(Float32Array.from(distances), grow);
}
