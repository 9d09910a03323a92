/** PNG files built in Node for e2e tests (no binary fixtures in the repo). */
import { deflateSync } from 'node:zlib';
import { encodeChunk } from '../../src/editor/png.ts';

function assemble(w: number, h: number, colorType: 0 | 6, raw: Uint8Array): Buffer {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, colorType, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    encodeChunk('IHDR', ihdr), encodeChunk('IDAT', new Uint8Array(deflateSync(raw))), encodeChunk('IEND', new Uint8Array()),
  ]);
}

/** RGBA pixels (row-major) as a PNG file. */
export function rgbaPng(w: number, h: number, rgba: Uint8Array | Uint8ClampedArray): Buffer {
  const raw = new Uint8Array(h * (1 + w * 4));
  for (let y = 0; y < h; y++) raw.set(rgba.subarray(y * w * 4, (y + 1) * w * 4), y * (1 + w * 4) + 1);
  return assemble(w, h, 6, raw);
}

/** An opaque RGBA gradient image. */
export function gradientPng(w: number, h: number): Buffer {
  const raw = new Uint8Array(h * (1 + w * 4));
  for (let y = 0; y < h; y++) {
    const row = y * (1 + w * 4);
    for (let x = 0; x < w; x++) raw.set([(x * 255) / Math.max(1, w - 1), (y * 255) / Math.max(1, h - 1), 128, 255], row + 1 + x * 4);
  }
  return assemble(w, h, 6, raw);
}

/** A huge grey image (compresses to a few hundred KB). */
export function hugeGreyPng(side: number): Buffer {
  const raw = new Uint8Array(side * (1 + side)).fill(90);
  for (let y = 0; y < side; y++) raw[y * (1 + side)] = 0;
  return assemble(side, side, 0, raw);
}
