import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fitInput, flattenOpaque, imageId, isImageId, prepareInputImage } from './image-id.ts';

function image(w: number, h: number, f: (i: number) => number = (i) => (i * 37) % 256) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i + 1) % 4 === 0 ? 255 : f(i);
  return { width: w, height: h, data };
}

describe('image ids', () => {
  it('is the SHA-256 of a size header and the pixels', async () => {
    const img = image(5, 3);
    const expected = createHash('sha256').update('RGBA8 5x3\n').update(img.data).digest('hex');
    const id = await imageId(img);
    expect(id).toBe(`sha256-${expected}`);
    expect(isImageId(id)).toBe(true);
    expect(isImageId('sha256-xyz')).toBe(false);
  });

  it('changes with one byte and with the shape, not with a copy', async () => {
    const a = image(4, 4);
    const b = { ...a, data: new Uint8ClampedArray(a.data) };
    expect(await imageId(b)).toBe(await imageId(a));
    b.data[17] = (b.data[17]! + 1) % 256;
    expect(await imageId(b)).not.toBe(await imageId(a));
    expect(await imageId({ width: 8, height: 2, data: a.data })).not.toBe(await imageId(a));
  });
});

describe('input preparation', () => {
  it('composites transparent pixels over white', () => {
    const data = new Uint8ClampedArray([10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128]);
    const out = flattenOpaque({ width: 3, height: 1, data });
    expect(Array.from(out.data)).toEqual([10, 20, 30, 255, 255, 255, 255, 255, 127, 127, 127, 255]);
    expect(Array.from(data.slice(4, 8))).toEqual([10, 20, 30, 0]); // input untouched
  });

  it('scales big images down to the input limit and leaves small ones alone', () => {
    const big = image(300, 150);
    const fit = fitInput(big, 100);
    expect([fit.width, fit.height]).toEqual([100, 50]);
    expect(fit.data.length).toBe(100 * 50 * 4);
    for (let i = 3; i < fit.data.length; i += 4) expect(fit.data[i]).toBe(255);
    const small = image(60, 40);
    expect(fitInput(small, 100)).toBe(small);
  });

  it('gives the same id for the same chosen image every time', async () => {
    const a = await prepareInputImage(image(40, 30), 32);
    const b = await prepareInputImage(image(40, 30), 32);
    expect(a.id).toBe(b.id);
    expect([a.image.width, a.image.height]).toEqual([32, 24]);
    expect(a.image.data).toEqual(b.image.data);
  });
});
