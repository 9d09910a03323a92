/** Recognise PNG / JPEG / WebP files by their bytes and read their size without decoding. */

/** Image formats the editor opens. */
export const IMAGE_KINDS = ['png', 'jpeg', 'webp'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

/** Format and (when the header says) size of an image file. */
export interface ImageHeader {
  readonly kind: ImageKind;
  readonly width: number | null;
  readonly height: number | null;
}

const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));

/** The file's format and size, or null when it is none of PNG, JPEG, WebP. */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') {
    if (b.length >= 24 && ascii(b, 12, 4) === 'IHDR') return { kind: 'png', width: v.getUint32(16), height: v.getUint32(20) };
    return { kind: 'png', width: null, height: null };
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    // Walk the marker segments to the first start-of-frame (SOF0–SOF15 except DHT, JPG, DAC).
    let p = 2;
    while (p + 9 < b.length) {
      if (b[p] !== 0xff) { p++; continue; }
      const marker = b[p + 1] ?? 0;
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) { p += marker === 0xff ? 1 : 2; continue; }
      const len = v.getUint16(p + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { kind: 'jpeg', height: v.getUint16(p + 5), width: v.getUint16(p + 7) };
      }
      p += 2 + len;
    }
    return { kind: 'jpeg', width: null, height: null };
  }
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8X' && b.length >= 30) {
      const w = 1 + ((b[24] ?? 0) | ((b[25] ?? 0) << 8) | ((b[26] ?? 0) << 16));
      const h = 1 + ((b[27] ?? 0) | ((b[28] ?? 0) << 8) | ((b[29] ?? 0) << 16));
      return { kind: 'webp', width: w, height: h };
    }
    if (chunk === 'VP8 ' && b.length >= 30) {
      return { kind: 'webp', width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
    }
    if (chunk === 'VP8L' && b.length >= 25) {
      const bits = v.getUint32(21, true);
      return { kind: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    return { kind: 'webp', width: null, height: null };
  }
  return null;
}

/** The size that fits within `maxSide` on both sides, keeping the aspect ratio (unchanged when it fits). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}
