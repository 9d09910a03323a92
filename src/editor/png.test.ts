import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { crc32, encodeChunk, readChunks, readTextChunks, withTextChunks } from './png.ts';
import { formatParameters, parseParameters, type ImageParameters } from './parameters.ts';

/** A minimal valid RGBA PNG built with node's zlib (test fixture). */
function makePng(w: number, h: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = new Uint8Array(h * (1 + w * 4));
  for (let i = 0; i < raw.length; i++) raw[i] = i % (1 + w * 4) === 0 ? 0 : i % 251;
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    encodeChunk('IHDR', ihdr),
    encodeChunk('IDAT', new Uint8Array(deflateSync(raw))),
    encodeChunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const params: ImageParameters = {
  prompt: 'a red fox, "quoted", with: colons\nand a newline', negativePrompt: 'blurry, low quality', style: 'anime',
  mode: 'inpaint', width: 128, height: 64, steps: 12, guidance: 4.5, priorSteps: 5, priorGuidance: 4,
  scheduler: 'dpmpp_2m', seed: 4294967295, model: 'tiny-kandinsky-2-2', ep: 'wasm',
};

describe('PNG text chunks', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('inserts chunks before IEND and reads them back (tEXt and UTF-8 iTXt)', () => {
    const png = makePng(3, 2);
    const text = formatParameters(params);
    const out = withTextChunks(png, { parameters: text, note: 'Русский текст' });
    const types = readChunks(out).map((c) => c.type);
    expect(types).toEqual(['IHDR', 'IDAT', 'tEXt', 'iTXt', 'IEND']);
    expect(readTextChunks(out)).toEqual({ parameters: text, note: 'Русский текст' });
    // The image data is untouched.
    expect(readChunks(out)[1]?.data).toEqual(readChunks(png)[1]?.data);
    // Writing again replaces rather than duplicates.
    const again = withTextChunks(out, { parameters: 'x' });
    expect(readChunks(again).filter((c) => c.type === 'tEXt').length).toBe(1);
    expect(readTextChunks(again).parameters).toBe('x');
  });

  it('rejects damaged files with a clear message', () => {
    const png = makePng(2, 2);
    const bad = png.slice();
    bad[40] = (bad[40] ?? 0) ^ 0xff;
    expect(() => readChunks(bad)).toThrow(/bad CRC/);
    expect(() => readChunks(png.subarray(0, png.length - 6))).toThrow(/truncated|IEND/);
    expect(() => readChunks(new Uint8Array([1, 2, 3]))).toThrow(/signature/);
  });

  it('parameters text round-trips', () => {
    expect(parseParameters(formatParameters(params))).toEqual(params);
    const noNeg = { ...params, negativePrompt: '', prompt: 'кот в сапогах' };
    expect(parseParameters(formatParameters(noNeg))).toEqual(noNeg);
    expect(formatParameters(params).split('\n')[2]).toMatch(/^Steps: 12, Sampler: dpmpp_2m, CFG scale: 4.5, Seed: 4294967295, Size: 128x64/);
    expect(() => parseParameters('just a prompt')).toThrow(/expected a "[A-Za-z ]+:" field/);
    expect(() => parseParameters(formatParameters(params).replace('Sampler: dpmpp_2m', 'Sampler: Euler a'))).toThrow(/"Sampler" should be one of ddpm, ddim, dpmpp_2m, got "Euler a"/);
  });
});
