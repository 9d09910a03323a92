import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../workers/engine.ts';
import { bundleDirBlobs } from '../../workers/testing/bundle-dir.ts';
import { addToTally, analyseImage, checkScene, crop, emptyTally, rgbToLab, type Pixels, type Tally } from './analyse.ts';
import { addNoise, blur, renderScene, seededRandom } from './render.ts';
import { loadVocabulary, type Scene, type SceneObject } from './scene.ts';

const vocab = loadVocabulary();
const SIDE = 64; // the micro model's native size

// data.py never draws these (object colour, background) pairs: too close to tell apart.
const LOW_CONTRAST = new Set(['white|cream', 'orange|yellow', 'yellow|cream']);

/** Random single-object scenes under data.py's rules, from a fixed seed. */
function randomScenes(n: number, seed: number): Scene[] {
  const rand = seededRandom(seed);
  const pick = <T,>(a: readonly T[]) => a[Math.floor(rand() * a.length)]!;
  return Array.from({ length: n }, () => {
    const background = pick(Object.keys(vocab.backgrounds));
    const colours = Object.keys(vocab.colors).filter((c) => c !== background && !LOW_CONTRAST.has(`${c}|${background}`));
    const object: SceneObject = { shape: pick(vocab.shapes), color: pick(colours), size: pick(Object.keys(vocab.sizes)), position: pick(Object.keys(vocab.positions)) };
    return { background, objects: [object], relation: null };
  });
}

function tally(scenes: Scene[], degrade: (img: Pixels, k: number) => Pixels): Tally {
  const t = emptyTally();
  scenes.forEach((scene, k) => addToTally(t, checkScene(analyseImage(degrade(renderScene(scene, vocab, SIDE, k), k), vocab), scene)));
  return t;
}

const rate = (t: Tally, a: keyof Tally) => t[a].correct / t[a].total;

describe('colour space', () => {
  it('matches CIELAB reference values (sRGB, D65)', () => {
    const white = rgbToLab(255, 255, 255), red = rgbToLab(255, 0, 0), black = rgbToLab(0, 0, 0);
    expect(white.L).toBeCloseTo(100, 2);
    expect(Math.abs(white.a) + Math.abs(white.b)).toBeLessThan(0.01);
    expect([red.L, red.a, red.b].map((x) => Math.round(x * 10) / 10)).toEqual([53.2, 80.1, 67.2]);
    expect(black.L).toBeCloseTo(0, 6);
  });
});

describe('analyseImage on rendered scenes', () => {
  it('names every shape, size and position of a clean render exactly', () => {
    for (const shape of vocab.shapes) {
      for (const size of Object.keys(vocab.sizes)) {
        for (const position of ['center', 'top-left', 'bottom-right']) {
          const scene: Scene = { background: 'white', objects: [{ shape, color: 'red', size, position }], relation: null };
          const a = analyseImage(renderScene(scene, vocab, SIDE, 3), vocab);
          expect(a.background).toMatchObject({ name: 'white', found: true });
          expect(a.regions.map((r) => [r.color, r.shape, r.size, r.position])).toEqual([['red', shape, size, position]]);
        }
      }
    }
  });

  it('finds the colour, shape and position of random scenes, clean, noisy (σ 0.05) and blurred (σ 0.8 px)', () => {
    const scenes = randomScenes(100, 11);
    const degradations: Record<string, (img: Pixels, k: number) => Pixels> = {
      clean: (img) => img,
      noise: (img, k) => addNoise(img, 0.05, k),
      'noise and blur': (img, k) => blur(addNoise(img, 0.05, k), 0.8),
    };
    for (const [name, degrade] of Object.entries(degradations)) {
      const t = tally(scenes, degrade);
      const summary = `${name}: ${JSON.stringify(t)}`;
      expect(rate(t, 'background'), summary).toBe(1);
      expect(rate(t, 'color'), summary).toBeGreaterThanOrEqual(0.97);
      expect(rate(t, 'position'), summary).toBeGreaterThanOrEqual(0.97);
      expect(rate(t, 'shape'), summary).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('tells синий from голубой and a red disc from its pink-looking soft edge', () => {
    for (const color of ['blue', 'light_blue', 'red', 'pink']) {
      const scene: Scene = { background: 'white', objects: [{ shape: 'circle', color, size: 'medium', position: 'left' }], relation: null };
      const a = analyseImage(blur(renderScene(scene, vocab, SIDE, 5), 1.2), vocab);
      expect(a.regions.map((r) => r.color)).toEqual([color]);
    }
  });

  it('judges relations between two objects by their centres', () => {
    const scene: Scene = {
      background: 'cream',
      objects: [{ shape: 'circle', color: 'yellow', size: 'medium', position: 'top' }, { shape: 'square', color: 'blue', size: 'small', position: 'bottom' }],
      relation: { a: 0, b: 1, kind: 'above' },
    };
    const a = analyseImage(renderScene(scene, vocab, SIDE, 9), vocab);
    const check = checkScene(a, scene);
    expect(check.relation).toBe(true);
    expect(check.objects.map((o) => [o.color, o.shape, o.position])).toEqual([[true, true, true], [true, true, true]]);
    expect(checkScene(a, { ...scene, relation: { a: 0, b: 1, kind: 'below' } }).relation).toBe(false);
  });

  it('fails every attribute of an object whose colour is missing (no credit for another colour)', () => {
    const drawn: Scene = { background: 'white', objects: [{ shape: 'square', color: 'green', size: 'large', position: 'left' }], relation: null };
    const asked: Scene = { ...drawn, objects: [{ ...drawn.objects[0]!, color: 'purple' }] };
    const check = checkScene(analyseImage(renderScene(drawn, vocab, SIDE), vocab), asked);
    expect(check.objects[0]).toMatchObject({ color: false, shape: false, position: false, size: false, region: null });
    expect(check.background).toBe(true);
  });

  it('finds no background and no region in uniform noise', () => {
    const rand = seededRandom(4);
    const data = new Uint8ClampedArray(SIDE * SIDE * 4).map((_, i) => (i % 4 === 3 ? 255 : rand() * 256));
    const a = analyseImage({ width: SIDE, height: SIDE, data }, vocab);
    expect(a.background.found).toBe(false);
    expect(a.regions).toEqual([]);
  });

  it('crops a rectangle', () => {
    const scene: Scene = { background: 'black', objects: [{ shape: 'circle', color: 'yellow', size: 'small', position: 'right' }], relation: null };
    const img = renderScene(scene, vocab, SIDE);
    const right = analyseImage(crop(img, { x: (2 * SIDE) / 3, y: 0, width: SIDE / 3 + 10, height: SIDE }), vocab);
    const left = analyseImage(crop(img, { x: 0, y: 0, width: SIDE / 3, height: SIDE }), vocab);
    expect(right.regions.map((r) => r.color)).toEqual(['yellow']);
    expect(left.regions).toEqual([]);
    expect(left.background.name).toBe('black');
  });
});

describe('analyseImage on scenes drawn by the training generator (tools/eval/fixture.py)', () => {
  it('reads background, colours, positions and relations of all 48, shapes of all but overlapping objects', () => {
    const dir = join(import.meta.dirname, 'fixtures');
    const meta = JSON.parse(readFileSync(join(dir, 'datapy-64.json'), 'utf8')) as { side: number; scenes: Scene[] };
    const rgb = gunzipSync(readFileSync(join(dir, 'datapy-64.rgb.gz')));
    const n = meta.side * meta.side;
    const t = emptyTally();
    meta.scenes.forEach((scene, k) => {
      const data = new Uint8ClampedArray(4 * n);
      for (let i = 0; i < n; i++) data.set([rgb[3 * (k * n + i)]!, rgb[3 * (k * n + i) + 1]!, rgb[3 * (k * n + i) + 2]!, 255], 4 * i);
      addToTally(t, checkScene(analyseImage({ width: meta.side, height: meta.side, data }, vocab), scene));
    });
    expect(t.background.total).toBe(48);
    expect(t.relation.total).toBeGreaterThan(0);
    for (const a of ['background', 'color', 'position', 'relation'] as const) expect(rate(t, a), JSON.stringify(t)).toBe(1);
    // One scene of the 48 has a white circle drawn over part of a light-blue one: the covered circle is not round.
    expect(rate(t, 'shape'), JSON.stringify(t)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('analyseImage on the random-weights tiny model', () => {
  it('finds nothing meaningful in its noise', async () => {
    const engine = await Engine.load({ kind: 'files', files: await bundleDirBlobs('public/models/tiny-kandinsky-2-2') }, { provider: 'wasm' });
    try {
      const r = await engine.generate('noise', {
        mode: 'text2img', prompt: 'a red circle on the left', negativePrompt: '', width: SIDE, height: SIDE, steps: 4, guidance: 4,
        priorSteps: 4, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 2,
      });
      for (const { image } of r.images) {
        const a = analyseImage(image, vocab);
        expect(a.background.found).toBe(false);
        expect(a.regions).toEqual([]);
      }
    } finally {
      await engine.dispose();
    }
  });
});
