/**
 * Scenes drawn in TypeScript with the training generator's geometry (tools/train/data.py `render`: sizes are
 * diameters, a square's half side is 0.85 r, ring and arc width 0.36 r, a line 0.24 r wide, an arc spans 180°,
 * 4×4 supersampling). For the analyser's tests and e2e fixtures; the jitter comes from our own seeded generator,
 * so pictures match data.py's in kind, not pixel for pixel.
 */
import type { Pixels } from './analyse.ts';
import type { Rgb, Scene, SceneObject, Vocabulary } from './scene.ts';

/** mulberry32: a small seeded generator in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUPERSAMPLE = 4;

type Inside = (x: number, y: number) => boolean;

/** An object's centre (fractions of the side) as data.py's `_geometry` places it: its cell's middle ±0.04, kept inside the cell and the image. */
function geometry(o: SceneObject, vocab: Vocabulary, rand: () => number): { cx: number; cy: number; s: number } {
  const s = vocab.sizes[o.size];
  const cell = vocab.positions[o.position];
  if (s === undefined || cell === undefined) throw new Error(`render: unknown size or position in ${JSON.stringify(o)}`);
  const lo = s / 2 + 0.02, hi = 1 - s / 2 - 0.02;
  const coord = (c: number) => {
    const v = Math.min(Math.max((c + 0.5) / 3 + (rand() * 0.08 - 0.04), lo), hi);
    return Math.min(Math.max(v, c / 3 + 0.02), (c + 1) / 3 - 0.02);
  };
  return { cx: coord(cell[0]), cy: coord(cell[1]), s };
}

function insideTest(shape: string, cx: number, cy: number, r: number, w: number, rand: () => number): Inside {
  switch (shape) {
    case 'circle':
      return (x, y) => Math.hypot(x - cx, y - cy) <= r;
    case 'ring':
      return (x, y) => {
        const d = Math.hypot(x - cx, y - cy);
        return d <= r && d >= r - w;
      };
    case 'square': {
      const h = r * 0.85;
      return (x, y) => Math.abs(x - cx) <= h && Math.abs(y - cy) <= h;
    }
    case 'triangle': {
      const v = [-Math.PI / 2, Math.PI / 6, (5 * Math.PI) / 6].map((a) => [cx + r * Math.cos(a), cy + r * 0.1 + r * Math.sin(a)] as const);
      return (x, y) => {
        const sign = (p: readonly [number, number], q: readonly [number, number]) => (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1]);
        const d1 = sign(v[0]!, v[1]!), d2 = sign(v[1]!, v[2]!), d3 = sign(v[2]!, v[0]!);
        return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
      };
    }
    case 'line': {
      const a = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4][Math.floor(rand() * 4)]! + (rand() * 0.4 - 0.2);
      const ux = Math.cos(a), uy = Math.sin(a);
      const half = Math.max((w * 2) / 3, 2 * SUPERSAMPLE) / 2;
      return (x, y) => {
        const u = (x - cx) * ux + (y - cy) * uy, v = -(x - cx) * uy + (y - cy) * ux;
        return Math.abs(u) <= r && Math.abs(v) <= half;
      };
    }
    case 'arc': {
      // PIL's arc: degrees clockwise from three o'clock (y points down), from start to start + 180.
      const start = [0, 90, 180, 270][Math.floor(rand() * 4)]! + (rand() * 30 - 15);
      return (x, y) => {
        const d = Math.hypot(x - cx, y - cy);
        if (d > r || d < r - w) return false;
        const deg = (((Math.atan2(y - cy, x - cx) * 180) / Math.PI - start) % 360 + 360) % 360;
        return deg <= 180;
      };
    }
    default:
      throw new Error(`render: unknown shape ${JSON.stringify(shape)}`);
  }
}

/** Draw a scene at `side`×`side` (opaque RGBA), anti-aliased by 4×4 supersampling. */
export function renderScene(scene: Scene, vocab: Vocabulary, side: number, seed = 0): Pixels {
  const rand = seededRandom(seed);
  const bg = vocab.backgrounds[scene.background] ?? vocab.colors[scene.background];
  if (!bg) throw new Error(`render: unknown background ${JSON.stringify(scene.background)}`);
  const big = side * SUPERSAMPLE;
  const layers: Array<{ inside: Inside; colour: Rgb }> = scene.objects.map((o) => {
    const colour = vocab.colors[o.color];
    if (!colour) throw new Error(`render: unknown colour ${JSON.stringify(o.color)}`);
    const { cx, cy, s } = geometry(o, vocab, rand);
    const r = (s * big) / 2;
    const w = Math.max(2 * SUPERSAMPLE, Math.round(r * 0.36));
    return { inside: insideTest(o.shape, cx * big, cy * big, r, w, rand), colour };
  });
  const data = new Uint8ClampedArray(side * side * 4);
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      let r = 0, g = 0, b = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = px * SUPERSAMPLE + sx + 0.5, y = py * SUPERSAMPLE + sy + 0.5;
          let c = bg;
          for (const l of layers) if (l.inside(x, y)) c = l.colour;
          r += c.r; g += c.g; b += c.b;
        }
      }
      const n = SUPERSAMPLE * SUPERSAMPLE, i = 4 * (py * side + px);
      data[i] = r / n; data[i + 1] = g / n; data[i + 2] = b / n; data[i + 3] = 255;
    }
  }
  return { width: side, height: side, data };
}

/** Add seeded Gaussian noise of standard deviation `sigma` (in [0, 1] units) to every colour channel. */
export function addNoise(img: Pixels, sigma: number, seed = 1): Pixels {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const data = new Uint8ClampedArray(img.data);
  for (let i = 0; i < data.length; i++) if (i % 4 !== 3) data[i] = data[i]! + gauss() * sigma * 255;
  return { width: img.width, height: img.height, data };
}

/** A separable Gaussian blur of standard deviation `sigma` pixels (edges clamped). */
export function blur(img: Pixels, sigma: number): Pixels {
  const { width: w, height: h } = img;
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  const pass = (src: Float32Array, dx: number, dy: number) => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const sx = Math.min(w - 1, Math.max(0, x + k * dx)), sy = Math.min(h - 1, Math.max(0, y + k * dy));
            acc += kernel[k + radius]! * src[4 * (sy * w + sx) + c]!;
          }
          out[4 * (y * w + x) + c] = acc / sum;
        }
        out[4 * (y * w + x) + 3] = src[4 * (y * w + x) + 3]!;
      }
    }
    return out;
  };
  const result = pass(pass(Float32Array.from(img.data), 1, 0), 0, 1);
  return { width: w, height: h, data: Uint8ClampedArray.from(result) };
}
