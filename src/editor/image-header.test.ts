import { describe, expect, it } from 'vitest';
import { fitWithin, readImageHeader } from './image-header.ts';

describe('image headers', () => {
  it('reads PNG size from IHDR', () => {
    const b = new Uint8Array(33);
    b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(b.buffer).setUint32(16, 10000);
    new DataView(b.buffer).setUint32(20, 300);
    expect(readImageHeader(b)).toEqual({ kind: 'png', width: 10000, height: 300 });
  });

  it('reads JPEG size from the first SOF after other segments', () => {
    const b = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, // APP0, length 4
      0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x02, 0x58, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(readImageHeader(b)).toEqual({ kind: 'jpeg', width: 600, height: 300 });
  });

  it('reads WebP (lossless VP8L) size', () => {
    const b = new Uint8Array(30);
    b.set(new TextEncoder().encode('RIFF'), 0);
    b.set(new TextEncoder().encode('WEBPVP8L'), 8);
    b[20] = 0x2f;
    new DataView(b.buffer).setUint32(21, (99 & 0x3fff) | ((49 & 0x3fff) << 14), true);
    expect(readImageHeader(b)).toEqual({ kind: 'webp', width: 100, height: 50 });
  });

  it('rejects other files', () => {
    expect(readImageHeader(new TextEncoder().encode('hello, this is text'))).toBeNull();
    expect(readImageHeader(new Uint8Array())).toBeNull();
  });

  it('fitWithin scales the long side down to the limit', () => {
    expect(fitWithin(10000, 10000, 4096)).toEqual({ width: 4096, height: 4096 });
    expect(fitWithin(8000, 2000, 4000)).toEqual({ width: 4000, height: 1000 });
    expect(fitWithin(100, 50, 4096)).toEqual({ width: 100, height: 50 });
  });
});
