/**
 * Draws the PWA icons (a Kandinsky-style circle, triangle and square on a dark tile) and writes them
 * as PNGs to public/icons/. Run: `npx tsx scripts/make-icons.ts`. Pure Node: zlib + a CRC table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

type Rgb = readonly [number, number, number];

const BG: Rgb = [0x17, 0x18, 0x1c];
const BLUE: Rgb = [0x3d, 0x7f, 0xd6];
const YELLOW: Rgb = [0xf2, 0xc1, 0x2e];
const RED: Rgb = [0xe0, 0x4f, 0x4f];
const LINE: Rgb = [0xe6, 0xe7, 0xea];

/** A shape in unit coordinates (0..1 across the safe area): true where the point is inside. */
type Shape = { color: Rgb; inside: (x: number, y: number) => boolean };

const shapes: Shape[] = [
  { color: BLUE, inside: (x, y) => (x - 0.38) ** 2 + (y - 0.4) ** 2 < 0.25 ** 2 },
  {
    color: YELLOW,
    inside: (x, y) => {
      // Triangle with corners (0.55,0.85), (0.92,0.85), (0.735,0.5).
      const s = (ax: number, ay: number, bx: number, by: number) => (bx - ax) * (y - ay) - (by - ay) * (x - ax);
      const a = s(0.55, 0.85, 0.92, 0.85), b = s(0.92, 0.85, 0.735, 0.5), c = s(0.735, 0.5, 0.55, 0.85);
      return (a <= 0 && b <= 0 && c <= 0) || (a >= 0 && b >= 0 && c >= 0);
    },
  },
  { color: RED, inside: (x, y) => x > 0.14 && x < 0.4 && y > 0.66 && y < 0.92 },
  { color: LINE, inside: (x, y) => Math.abs((y - 0.08) - (x - 0.08) * 0.95) < 0.018 && x > 0.08 && x < 0.95 },
];

/** Render an RGBA image: `safe` is the fraction of the tile the drawing fills (maskable icons need margins). */
function render(size: number, safe: number, rounded: boolean): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const ss = 4; // 4x4 supersampling for smooth edges
  const margin = (1 - safe) / 2;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const u = (px + (sx + 0.5) / ss) / size;
          const v = (py + (sy + 0.5) / ss) / size;
          const corner = 0.18;
          const cx = Math.min(Math.max(u, corner), 1 - corner), cy = Math.min(Math.max(v, corner), 1 - corner);
          if (rounded && (u - cx) ** 2 + (v - cy) ** 2 > corner ** 2) continue;
          let c: Rgb = BG;
          const x = (u - margin) / safe, y = (v - margin) / safe;
          for (const s of shapes) if (s.inside(x, y)) c = s.color;
          r += c[0]; g += c[1]; b += c[2]; a += 255;
        }
      }
      const n = ss * ss;
      const i = (py * size + px) * 4;
      const cover = a / n;
      // Store colour un-premultiplied: average over covered samples only.
      const k = a > 0 ? 255 / a : 0;
      out[i] = Math.round(r * k); out[i + 1] = Math.round(g * k); out[i + 2] = Math.round(b * k); out[i + 3] = Math.round(cover);
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encode RGBA pixels as a PNG (8-bit RGBA, filter 0 on every row). */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const raw = new Uint8Array((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const dir = join(import.meta.dirname, '..', 'public', 'icons');
mkdirSync(dir, { recursive: true });
const icons = [
  { file: 'icon-192.png', size: 192, safe: 0.8, rounded: true },
  { file: 'icon-512.png', size: 512, safe: 0.8, rounded: true },
  // Maskable: full-bleed background, drawing inside the 80% safe zone.
  { file: 'maskable-512.png', size: 512, safe: 0.62, rounded: false },
  { file: 'apple-touch-icon.png', size: 180, safe: 0.72, rounded: false },
] as const;
for (const icon of icons) {
  writeFileSync(join(dir, icon.file), encodePng(render(icon.size, icon.safe, icon.rounded), icon.size, icon.size));
  console.log(`wrote public/icons/${icon.file}`);
}
