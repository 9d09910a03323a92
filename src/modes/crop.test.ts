import { describe, expect, it } from 'vitest';
import { clipPreprocess } from '../../workers/tensor/image.ts';
import { aspectLabel, cropImage, cropPreview, encoderCrop, frameCrop } from './crop.ts';

const PROC = { size: 224, crop_size: 224, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };

/** Deterministic pseudo-random RGB bytes. */
function noiseRgb(w: number, h: number, seed = 1): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) { s = (s * 1103515245 + 12345) >>> 0; out[i] = s >>> 24; }
  return out;
}

describe('encoder crop geometry', () => {
  it('keeps a square image whole', () => {
    expect(encoderCrop(300, 300)).toEqual({ x: 0, y: 0, width: 300, height: 300 });
  });

  it('keeps the centred square of a wide or tall image (short side to 224, centre 224)', () => {
    // 96×64 → 336×224, crop starts at column 56 → source column 56 × 96/336 = 16, width 224 × 96/336 = 64.
    const r = encoderCrop(96, 64);
    expect(r.x).toBeCloseTo(16, 10);
    expect(r.width).toBeCloseTo(64, 10);
    expect(r).toMatchObject({ y: 0, height: 64 });
    const t = encoderCrop(64, 256);
    expect(t.x).toBe(0);
    expect(t.width).toBe(64);
    expect(t.y).toBeCloseTo(96, 10);
    expect(t.height).toBeCloseTo(64, 10);
  });

  it('agrees with the engine\'s CLIP preprocessing: pixels outside the crop do not matter, pixels inside do', () => {
    const w = 300, h = 100;
    const rgb = noiseRgb(w, h);
    const r = encoderCrop(w, h);
    const base = clipPreprocess(rgb, w, h, PROC);
    // The bicubic kernel reaches 2 output pixels, i.e. 2 × (100/224) source pixels: 3 px of margin is safe.
    const outside = rgb.slice();
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (x < r.x - 3 || x >= r.x + r.width + 3) outside.fill(255 - (outside[(y * w + x) * 3] ?? 0), (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
    expect(clipPreprocess(outside, w, h, PROC)).toEqual(base);
    const inside = rgb.slice();
    const cx = Math.floor(r.x + r.width / 2);
    for (let y = 40; y < 60; y++) inside.fill(0, (y * w + cx - 10) * 3, (y * w + cx + 10) * 3);
    expect(clipPreprocess(inside, w, h, PROC)).not.toEqual(base);
    // And just inside the crop's edge still matters.
    const edge = rgb.slice();
    const ex = Math.ceil(r.x) + 1;
    for (let y = 0; y < h; y++) edge.fill(0, (y * w + ex) * 3, (y * w + ex + 1) * 3);
    expect(clipPreprocess(edge, w, h, PROC)).not.toEqual(base);
  });

  it('rejects empty sizes', () => {
    expect(() => encoderCrop(0, 10)).toThrow(/positive image size/);
  });
});

describe('frame crop geometry (img2img)', () => {
  it('crops a wide image to a square frame, centred', () => {
    expect(frameCrop(300, 100, 128, 128)).toEqual({ x: 100, y: 0, width: 100, height: 100 });
  });

  it('crops a tall image to a wide frame, centred', () => {
    expect(frameCrop(100, 300, 128, 64)).toEqual({ x: 0, y: 125, width: 100, height: 50 });
  });

  it('keeps an image of the frame\'s aspect whole', () => {
    expect(frameCrop(256, 128, 128, 64)).toEqual({ x: 0, y: 0, width: 256, height: 128 });
  });
});

describe('crop preview', () => {
  it('flags an image the model sees less than 80% of', () => {
    const wide = cropPreview('encoder', 96, 64, { width: 128, height: 128 });
    expect(wide.kind).toBe('encoder');
    expect(wide.kept).toBeCloseTo(2 / 3, 10);
    expect(wide.far).toBe(true);
    const nearly = cropPreview('encoder', 100, 90, { width: 128, height: 128 });
    expect(nearly.kept).toBeCloseTo(0.9, 2);
    expect(nearly.far).toBe(false);
  });

  it('measures img2img against the frame, not a square', () => {
    const p = cropPreview('frame', 256, 128, { width: 128, height: 64 });
    expect(p.kept).toBe(1);
    expect(p.far).toBe(false);
    expect(cropPreview('frame', 256, 64, { width: 128, height: 128 })).toMatchObject({ kept: 0.25, far: true, rect: { x: 96, y: 0, width: 64, height: 64 } });
  });
});

describe('cropImage', () => {
  it('copies the rectangle\'s pixels', () => {
    const data = new Uint8ClampedArray(4 * 3 * 4);
    for (let i = 0; i < 12; i++) data[i * 4] = i;
    const out = cropImage({ width: 4, height: 3, data }, { x: 1, y: 1, width: 2, height: 2 });
    expect(out.width).toBe(2);
    expect(Array.from(out.data).filter((_, i) => i % 4 === 0)).toEqual([5, 6, 9, 10]);
  });

  it('refuses a rectangle outside the image or not in whole pixels', () => {
    const img = { width: 4, height: 4, data: new Uint8ClampedArray(64) };
    expect(() => cropImage(img, { x: 3, y: 0, width: 2, height: 1 })).toThrow(/inside 4×4/);
    expect(() => cropImage(img, { x: 0.5, y: 0, width: 2, height: 1 })).toThrow(/whole pixels/);
  });
});

describe('aspect labels', () => {
  it('names small whole ratios and falls back to decimals', () => {
    expect(aspectLabel(1920, 1080)).toBe('16:9');
    expect(aspectLabel(256, 64)).toBe('4:1');
    expect(aspectLabel(1000, 333)).toBe('3.00:1');
    expect(aspectLabel(333, 1000)).toBe('1:3.00');
  });
});
