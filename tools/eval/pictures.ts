/**
 * `npx tsx tools/eval/pictures.ts [--bundle DIR] [--out docs/micro]`: the README's pictures of the micro model,
 * made by the engine on wasm in Node with fixed prompts and the first seeds (nothing picked by hand): text-to-image
 * in English and Russian, an inpainted hole, an outpainted strip and a variation. Each 64×64 result is written
 * enlarged 3× (nearest neighbour) so it can be seen on a page, with a line per picture in pictures.md.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Engine } from '../../workers/engine.ts';
import { DEFAULTS, type GenerateRequest, type RgbaImage } from '../../workers/protocol.ts';
import { bundleDirBlobs } from '../../workers/testing/bundle-dir.ts';
import { rgbaPng } from '../../e2e/support/png-fixtures.ts';

const root = resolve(import.meta.dirname, '../..');
const argv = process.argv.slice(2);
const arg = (flag: string, fallback: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const bundleDir = resolve(arg('--bundle', join(root, 'public/models/micro-kandinsky-2-2')));
const outDir = resolve(arg('--out', join(root, 'docs/micro')));
const SIDE = 64, SCALE = 3;
const EN = 'a large red circle on the left on a white background';
const RU = 'синий квадрат справа на жёлтом фоне';
const HOLE = { x: 36, y: 20, width: 24, height: 24 }; // on the right, where EN asks for empty background
const INPAINT = 'a green square on the right';

/** Nearest-neighbour enlargement; transparent pixels become a grey checkerboard so a hole is visible. */
function enlarge(img: RgbaImage): Uint8ClampedArray {
  const w = img.width * SCALE, h = img.height * SCALE;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = 4 * (Math.floor(y / SCALE) * img.width + Math.floor(x / SCALE)), d = 4 * (y * w + x);
      const a = img.data[s + 3]! / 255, checker = ((x >> 3) + (y >> 3)) % 2 ? 200 : 150;
      for (let c = 0; c < 3; c++) out[d + c] = img.data[s + c]! * a + checker * (1 - a);
      out[d + 3] = 255;
    }
  }
  return out;
}

const engine = await Engine.load({ kind: 'files', files: await bundleDirBlobs(bundleDir) }, { provider: 'wasm' });
const common = {
  negativePrompt: '', width: SIDE, height: SIDE, steps: DEFAULTS.steps, guidance: DEFAULTS.guidance,
  priorSteps: DEFAULTS.priorSteps, priorGuidance: DEFAULTS.priorGuidance, scheduler: DEFAULTS.scheduler, numImages: 1,
} as const;
const run = async (req: GenerateRequest) => (await engine.generate('pictures', req)).images[0]!.image;
const notes: string[] = [];
mkdirSync(outDir, { recursive: true });
const save = (name: string, img: RgbaImage, note: string) => {
  writeFileSync(join(outDir, name), rgbaPng(img.width * SCALE, img.height * SCALE, enlarge(img)));
  notes.push(`| ![${name}](${name}) | ${note} |`);
};

const en = await run({ mode: 'text2img', prompt: EN, seed: 1, ...common });
save('text2img-en.png', en, `text-to-image, seed 1: “${EN}”`);
const ru = await run({ mode: 'text2img', prompt: RU, seed: 1, ...common });
save('text2img-ru.png', ru, `text-to-image, seed 1: «${RU}»`);

// Inpainting: a square hole in the English picture, refilled from a prompt.
const mask = new Uint8Array(SIDE * SIDE);
const holed = new Uint8ClampedArray(en.data);
for (let y = HOLE.y; y < HOLE.y + HOLE.height; y++) {
  for (let x = HOLE.x; x < HOLE.x + HOLE.width; x++) {
    mask[y * SIDE + x] = 255;
    holed[4 * (y * SIDE + x) + 3] = 0;
  }
}
save('inpaint-hole.png', { width: SIDE, height: SIDE, data: holed }, `the English picture with a ${HOLE.width}×${HOLE.height} hole`);
const generated = await run({ mode: 'inpaint', prompt: INPAINT, image: en, mask: { width: SIDE, height: SIDE, data: mask }, seed: 1, ...common });
// The engine returns the whole generated frame (as diffusers does); the app pastes back only the repainted region.
const filled = new Uint8ClampedArray(en.data);
for (let i = 0; i < SIDE * SIDE; i++) if (mask[i]) filled.set(generated.data.subarray(4 * i, 4 * i + 4), 4 * i);
save('inpaint-filled.png', { width: SIDE, height: SIDE, data: filled }, `inpainted, seed 1: “${INPAINT}” (the hole pasted back without the app's seam blend)`);
save('inpaint-generated.png', generated, 'the whole frame the inpainting UNet returned for it, before the paste-back');

// Outpainting: the frame moved half off the picture; its new half is generated, the old half kept as it was.
const half = SIDE / 2;
const shifted = new Uint8ClampedArray(SIDE * SIDE * 4);
const outMask = new Uint8Array(SIDE * SIDE);
for (let y = 0; y < SIDE; y++) {
  shifted.set(en.data.subarray(4 * (y * SIDE + half), 4 * (y * SIDE + SIDE)), 4 * y * SIDE);
  outMask.fill(255, y * SIDE + half, (y + 1) * SIDE);
}
const extended = await run({ mode: 'inpaint', prompt: EN, image: { width: SIDE, height: SIDE, data: shifted }, mask: { width: SIDE, height: SIDE, data: outMask }, seed: 1, ...common });
const strip = new Uint8ClampedArray((SIDE + half) * SIDE * 4);
for (let y = 0; y < SIDE; y++) {
  strip.set(en.data.subarray(4 * y * SIDE, 4 * (y + 1) * SIDE), 4 * y * (SIDE + half));
  strip.set(extended.data.subarray(4 * (y * SIDE + half), 4 * (y + 1) * SIDE), 4 * (y * (SIDE + half) + SIDE));
}
save('outpaint-strip.png', { width: SIDE + half, height: SIDE, data: strip }, `outpainted: the English picture extended by ${half} px to the right (seed 1, same prompt; pasted without the app's seam blend)`);

const variation = await run({ mode: 'variations', image: en, seed: 2, ...common });
save('variation.png', variation, 'a variation of the English picture (image embedding only), seed 2');
await engine.dispose();

const md = [
  `Made by \`npx tsx tools/eval/pictures.ts\` from \`${relative(root, bundleDir)}\` (manifest.json sha256 ${createHash('sha256').update(readFileSync(join(bundleDir, 'manifest.json'))).digest('hex').slice(0, 12)}) on wasm: ${SIDE}×${SIDE}, ${common.priorSteps} prior + ${common.steps} decoder steps (${common.scheduler}), guidance ${common.guidance}; fixed prompts and the first seeds, not picked by hand; shown ${SCALE}× enlarged.`,
  '', '| picture | what |', '|---|---|', ...notes, '',
].join('\n');
writeFileSync(join(outDir, 'pictures.md'), md);
console.log(md);
