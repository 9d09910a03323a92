import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clipPreprocess, nchwToRgba, resizeBicubicU8, rgbaToRgb, rgbToSigned } from './image.ts';

interface ResizeCase {
  source: string;
  width: number;
  height: number;
  new_width: number;
  new_height: number;
  b64?: string;
  sha256?: string;
}
interface ClipCase {
  source: string;
  width: number;
  height: number;
  size: number;
  crop_size: number;
  mean: number[];
  std: number[];
  shape: number[];
  b64: string;
}
const fixture = JSON.parse(readFileSync(new URL('./testdata/pillow_bicubic.json', import.meta.url), 'utf8')) as {
  resize: ResizeCase[];
  clip_pil: ClipCase[];
};
/** Made by make_torchvision_fixture.py with torch 2.11 / torchvision 0.26 / transformers 5.17. */
const tvFixture = JSON.parse(readFileSync(new URL('./testdata/torchvision_bicubic.json', import.meta.url), 'utf8')) as {
  resize: ResizeCase[];
  clip_torchvision: (Omit<ClipCase, 'b64'> & { b64?: string; sha256?: string })[];
};

interface GoldenInt { shape: number[]; data: unknown[] }
interface GoldenF32 { shape: number[]; b64: string }
const golden = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../tests/golden/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const u8 = (t: GoldenInt): Uint8Array => Uint8Array.from((t.data as number[]).flat(3) as number[]);
const f32 = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** The synthetic images of make_pillow_fixture.py. */
function pattern(name: string, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        out[(y * w + x) * 3 + c] = name === 'noise'
          ? (x * 37 + y * 101 + c * 71 + ((x * y * 13) % 97) * 3) % 256
          : ((x + y) % 2) * 255;
      }
    }
  }
  return out;
}

const interpolateImage = (): Uint8Array => {
  const conditions = golden('interpolate').conditions as { image_rgb?: GoldenInt }[];
  return u8(conditions[1]!.image_rgb!);
};

/** A fixture's source image: a synthetic pattern or one of the golden cases' images. */
function sourceImage(source: string, w: number, h: number): Uint8Array {
  if (source === 'golden:interpolate') return interpolateImage();
  if (source === 'golden:image_encoder') return u8((golden('image_encoder') as { raw_rgb: GoldenInt }).raw_rgb);
  return pattern(source, w, h);
}

const sha256 = (a: Uint8Array | Float32Array): string =>
  createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('resizeBicubicU8 (Pillow flavour)', () => {
  for (const c of fixture.resize) {
    it(`matches Pillow ${c.source} ${c.width}×${c.height} → ${c.new_width}×${c.new_height}`, () => {
      const src = c.source === 'golden:interpolate' ? interpolateImage() : pattern(c.source, c.width, c.height);
      const out = resizeBicubicU8(src, c.width, c.height, c.new_width, c.new_height);
      expect(out.length).toBe(c.new_width * c.new_height * 3);
      if (c.b64 !== undefined) {
        const want = Buffer.from(c.b64, 'base64');
        let differing = 0;
        for (let i = 0; i < out.length; i++) if (out[i] !== want[i]) differing++;
        expect(differing).toBe(0);
      } else {
        expect(createHash('sha256').update(out).digest('hex')).toBe(c.sha256);
      }
    });
  }

  it('returns a copy when the size is unchanged and rejects bad sizes', () => {
    const src = pattern('noise', 5, 4);
    const out = resizeBicubicU8(src, 5, 4, 5, 4);
    expect(out).toEqual(src);
    expect(out).not.toBe(src);
    expect(() => resizeBicubicU8(src, 5, 5, 3, 3)).toThrow(/expected 75 bytes/);
    expect(() => resizeBicubicU8(src, 5, 4, 0, 3)).toThrow(/positive integers/);
  });
});

describe('resizeBicubicU8 (torchvision flavour)', () => {
  for (const c of tvFixture.resize) {
    it(`matches torchvision ${c.source} ${c.width}×${c.height} → ${c.new_width}×${c.new_height}`, () => {
      const out = resizeBicubicU8(sourceImage(c.source, c.width, c.height), c.width, c.height, c.new_width, c.new_height, 'torchvision');
      if (c.b64 !== undefined) expect(Array.from(out)).toEqual(Array.from(Buffer.from(c.b64, 'base64')));
      else expect(sha256(out)).toBe(c.sha256);
    });
  }
});

describe('clipPreprocess', () => {
  const proc = { size: 224, crop_size: 224, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };

  it('reproduces the golden pixel_values (transformers torchvision backend) bit for bit', () => {
    const g = golden('image_encoder') as { raw_rgb: GoldenInt; pixel_values: GoldenF32 };
    const [h, w] = g.raw_rgb.shape as [number, number];
    const got = clipPreprocess(u8(g.raw_rgb), w, h, proc);
    const err = maxAbsDiff(got, f32(g.pixel_values.b64));
    console.log(`clipPreprocess vs golden image_encoder pixel_values (300×200): max abs error ${err}`);
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('differs from the golden by one pixel step in the PIL backend (why torchvision is the default)', () => {
    const g = golden('image_encoder') as { raw_rgb: GoldenInt; pixel_values: GoldenF32 };
    const got = clipPreprocess(u8(g.raw_rgb), 300, 200, proc, 'pil');
    const err = maxAbsDiff(got, f32(g.pixel_values.b64));
    expect(err).toBeGreaterThan(0.01);
    expect(err).toBeLessThan(1 / 255 / 0.26 + 1e-3); // at most one uint8 step
  });

  it('upscales the 64×64 interpolate condition to 224×224 as Pillow does (PIL backend)', () => {
    const c = fixture.resize.find((r) => r.source === 'golden:interpolate')!;
    const img = interpolateImage();
    const resized = resizeBicubicU8(img, 64, 64, 224, 224);
    expect(createHash('sha256').update(resized).digest('hex')).toBe(c.sha256);
    // Square input: no crop, so preprocessing is resize + normalise.
    const px = clipPreprocess(img, 64, 64, proc, 'pil');
    expect(px.length).toBe(3 * 224 * 224);
    const plane = 224 * 224;
    const i = 100 * 224 + 37;
    expect(px[plane + i]).toBe(Math.fround(Math.fround(Math.fround(resized[i * 3 + 1]! / 255) - Math.fround(proc.mean[1]!)) / Math.fround(proc.std[1]!)));
    // torchvision's int16 weights move a pixel by one step per pass, so at most two steps here.
    const tv = clipPreprocess(img, 64, 64, proc);
    expect(maxAbsDiff(tv, px)).toBeLessThan(2 / 255 / 0.26 + 1e-3);
  });

  for (const c of tvFixture.clip_torchvision) {
    it(`matches transformers' torchvision backend: ${c.source} ${c.width}×${c.height}, size ${c.size}, crop ${c.crop_size}`, () => {
      const got = clipPreprocess(sourceImage(c.source, c.width, c.height), c.width, c.height, c);
      expect(got.length).toBe(3 * c.crop_size * c.crop_size);
      if (c.b64 !== undefined) expect(maxAbsDiff(got, f32(c.b64))).toBe(0);
      else expect(sha256(got)).toBe(c.sha256);
    });
  }

  for (const c of fixture.clip_pil) {
    it(`matches transformers' PIL backend: ${c.width}×${c.height}, size ${c.size}, crop ${c.crop_size}`, () => {
      const got = clipPreprocess(pattern(c.source, c.width, c.height), c.width, c.height, c, 'pil');
      expect(maxAbsDiff(got, f32(c.b64))).toBe(0);
    });
  }
});

describe('pixel conversions', () => {
  it('rgbaToRgb drops alpha', () => {
    const rgba = Uint8ClampedArray.of(1, 2, 3, 255, 4, 5, 6, 0);
    expect(Array.from(rgbaToRgb(rgba, 2, 1))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => rgbaToRgb(rgba, 3, 1)).toThrow(/expected 12 bytes/);
  });

  it('rgbToSigned maps 0..255 to [-1, 1] in NCHW', () => {
    const rgb = Uint8Array.of(0, 255, 127, 255, 0, 51); // 2×1 image
    const x = rgbToSigned(rgb, 2, 1);
    expect(Array.from(x)).toEqual([-1, 1, 1, -1, Math.fround(127 / 127.5 - 1), Math.fround(51 / 127.5 - 1)]);
  });

  it('nchwToRgba clamps, rounds and picks the batch item', () => {
    // Batch of 2 images 2×1; image 1 holds the interesting values.
    const x = Float32Array.of(0, 0, 0, 0, 0, 0, -1, 1, -2, 2, 0, 0.001);
    const rgba = nchwToRgba(x, 2, 1, 1);
    expect(Array.from(rgba)).toEqual([0, 0, 128, 255, 255, 255, 128, 255]);
    expect(() => nchwToRgba(x, 2, 1, 2)).toThrow(/outside/);
  });

  it('rgbToSigned then nchwToRgba round-trips bytes', () => {
    const rgb = pattern('noise', 7, 5);
    const back = rgbaToRgb(nchwToRgba(rgbToSigned(rgb, 7, 5), 7, 5, 0), 7, 5);
    expect(back).toEqual(rgb);
  });
});
