import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pillowReduce, pillowResize, referenceImg2ImgInput } from './reference.ts';

interface Case { h: number; w: number; nh: number; nw: number; src: string; out: string; reduce23: string; rh: number; rw: number }
const cases = JSON.parse(readFileSync(join(import.meta.dirname, '../../tests/pillow/pillow-resize.json'), 'utf8')) as Case[];
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('Pillow emulation used for the reference img2img preprocessing', () => {
  it.each(cases.map((c) => [`${c.w}×${c.h} → ${c.nw}×${c.nh}`, c] as const))('resize(BICUBIC, reducing_gap=1) %s is bit-exact', (_n, c) => {
    expect(Buffer.from(pillowResize(bytes(c.src), c.w, c.h, c.nw, c.nh, 1)).equals(Buffer.from(bytes(c.out)))).toBe(true);
  });

  it.each(cases.map((c) => [`${c.w}×${c.h}`, c] as const))('reduce((2,3)) %s is bit-exact, partial edge boxes included', (_n, c) => {
    const r = pillowReduce(bytes(c.src), c.w, c.h, 2, 3);
    expect([r.width, r.height]).toEqual([c.rw, c.rh]);
    expect(Buffer.from(r.rgb).equals(Buffer.from(bytes(c.reduce23)))).toBe(true);
  });

  it('transposes the requested size, as diffusers 0.42 img2img does', () => {
    const rgb = new Uint8Array(128 * 64 * 3).fill(7);
    const r = referenceImg2ImgInput(rgb, 128, 64, 128, 64, 8);
    expect([r.width, r.height]).toEqual([64, 128]);
    expect(r.rgb.every((v) => v === 7)).toBe(true);
  });
});
