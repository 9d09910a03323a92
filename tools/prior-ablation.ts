/**
 * The paper's prior ablation (Table 3, Figure 5) on a trained model: `npx tsx tools/prior-ablation.ts --bundle DIR
 * --fit DIR [--cat DIR] [--limit N] [--lang en|ru|all] [--steps N] [--prior-steps N] [--size S] [--seed S] [--json FILE]`.
 * Fits a linear prior in the engine (workers/priors/fit.ts) on a fit set (`python -m tools.ablation.fit_set`: training
 * scenes and captions), then generates the held-out captions (tools/train/heldout.json) with the diffusion prior, the
 * linear prior and no prior, same seeds, and prints the semantic evaluator's per-attribute accuracy (tools/eval) per
 * kind. `--cat DIR` also fits a prior on one scene type and reports how often unrelated held-out prompts come out as it.
 * wasm in Node. Prints figures; asserts nothing. Needs tools/eval and tools/train (the evaluator and the scene data).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../workers/engine.ts';
import { DEFAULTS, type FittedPrior, type PriorChoice, type RgbaImage, type Text2ImgRequest } from '../workers/protocol.ts';
import { bundleDirBlobs } from '../workers/testing/bundle-dir.ts';

const root = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const get = (flag: string): string | undefined => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};
function usage(msg: string): never {
  console.error(`prior-ablation: ${msg}\nusage: npx tsx tools/prior-ablation.ts --bundle DIR --fit DIR [--cat DIR] [--limit N] [--lang en|ru|all] [--steps N] [--prior-steps N] [--size S] [--seed S] [--json FILE]`);
  process.exit(2);
}
const num = (flag: string, fallback: number): number => {
  const v = Number(get(flag) ?? fallback);
  if (!Number.isFinite(v)) usage(`${flag} must be a number`);
  return v;
};

// The evaluator and the scene data live in tools/eval and tools/train (other branches of this project): loaded at
// run time so this file type-checks without them.
const evalPath = join(root, 'tools/eval/core.ts');
if (!existsSync(evalPath) || !existsSync(join(root, 'tools/train/heldout.json'))) {
  usage('tools/eval (the semantic evaluator) and tools/train/heldout.json are needed; they are not in this checkout');
}
/* eslint-disable @typescript-eslint/no-explicit-any */
const core: any = await import(evalPath);
const scene: any = await import(join(root, 'tools/eval/scene.ts'));
const analyse: any = await import(join(root, 'tools/eval/analyse.ts'));

/** A fit set written by `python -m tools.ablation.fit_set`. */
function readFitSet(dir: string): { images: RgbaImage[]; captions: string[]; shapes: string[][] } {
  const meta = JSON.parse(readFileSync(join(dir, 'fit-set.json'), 'utf8')) as { width: number; height: number; items: { caption: string; scene: { objects: { shape: string }[] } }[] };
  const bytes = readFileSync(join(dir, 'images.rgba'));
  const size = meta.width * meta.height * 4;
  if (bytes.length !== size * meta.items.length) usage(`${dir}/images.rgba has ${bytes.length} bytes; ${meta.items.length} images of ${meta.width}×${meta.height} need ${size * meta.items.length}`);
  return {
    images: meta.items.map((_, i) => ({ width: meta.width, height: meta.height, data: new Uint8ClampedArray(bytes.buffer, bytes.byteOffset + i * size, size) })),
    captions: meta.items.map((x) => x.caption),
    shapes: meta.items.map((x) => x.scene.objects.map((o) => o.shape)),
  };
}

const bundleDir = resolve(get('--bundle') ?? usage('--bundle DIR is required'));
const fitDir = resolve(get('--fit') ?? usage('--fit DIR is required'));
const catDir = get('--cat');
const langArg = get('--lang') ?? 'en';
const langs = langArg === 'all' ? ['en', 'ru'] : [langArg];
const heldout = scene.loadHeldout();
const vocab = scene.loadVocabulary();
const limit = num('--limit', heldout.scenes.length);
const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as { native_size?: unknown };
/** The manifest's native_size (a number, [w, h] or {width, height}), else 64. */
const nativeSize = ((n: unknown): number => {
  if (typeof n === 'number') return n;
  if (Array.isArray(n) && typeof n[0] === 'number') return Math.max(n[0], Number(n[1] ?? n[0]));
  if (n && typeof n === 'object' && 'width' in n) return Math.max(Number((n as { width: number }).width), Number((n as { height?: number }).height ?? 0));
  return 64;
})(manifest.native_size);
const params = {
  size: num('--size', nativeSize),
  steps: num('--steps', DEFAULTS.steps), priorSteps: num('--prior-steps', DEFAULTS.priorSteps),
  guidance: num('--guidance', DEFAULTS.guidance), priorGuidance: num('--prior-guidance', DEFAULTS.priorGuidance),
  scheduler: DEFAULTS.scheduler, seed: num('--seed', 0),
};
const items = core.evalItems(heldout.scenes, langs, limit, params.seed) as { id: string; lang: string; caption: string; scene: unknown; seed: number }[];

const engine = await Engine.load({ kind: 'files', files: await bundleDirBlobs(bundleDir) }, { provider: 'wasm' });
const fitWith = async (dir: string, label: string): Promise<FittedPrior> => {
  const set = readFitSet(dir);
  const t0 = performance.now();
  const fit = await engine.fitPrior(label, { images: set.images, captions: set.captions });
  console.log(`prior-ablation: ${label} fitted on ${set.images.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
    `λ ${fit.lambda.toPrecision(3)}, leave-one-out error ${fit.looError.toPrecision(3)} (mean-only ${fit.baselineError.toPrecision(3)})`);
  return fit;
};
const linearOf = (fit: FittedPrior, id: string): PriorChoice => ({ kind: 'linear', linear: { from: 'user', id, name: id, weight: fit.weight, bias: fit.bias } });

const fitted = await fitWith(fitDir, 'linear');
const kinds: { id: string; prior?: PriorChoice }[] = [{ id: 'diffusion' }, { id: 'linear', prior: linearOf(fitted, 'linear') }, { id: 'none', prior: { kind: 'none' } }];
let cat: { shape: string; fit: FittedPrior } | null = null;
if (catDir) {
  const set = readFitSet(resolve(catDir));
  const shape = set.shapes[0]?.[0] ?? '?';
  cat = { shape, fit: await fitWith(resolve(catDir), `cat prior (${shape})`) };
  kinds.push({ id: `cat prior (${shape})`, prior: linearOf(cat.fit, 'cat') });
}

console.log(`prior-ablation: ${items.length} held-out generations per kind, ${params.size}×${params.size}, ${params.priorSteps} prior + ${params.steps} decoder steps, seeds ${params.seed}…`);
const rows: { variant: string; ep: string; tallies: unknown; catShare?: number; seconds: number }[] = [];
for (const k of kinds) {
  const results: unknown[] = [];
  let asCat = 0;
  const t0 = performance.now();
  for (const item of items) {
    const req: Text2ImgRequest = { ...core.requestFor(item, params), ...(k.prior ? { prior: k.prior } : {}) };
    const image = (await engine.generate(`abl-${k.id}`, req)).images[0]!.image;
    results.push(core.judge(item, image, vocab));
    if (cat && analyse.analyseImage(image, vocab).regions[0]?.shape === cat.shape) asCat++;
  }
  rows.push({ variant: k.id, ep: engine.runtime.ep, tallies: core.tallyByLang(results), seconds: (performance.now() - t0) / 1000, ...(cat ? { catShare: asCat / items.length } : {}) });
  console.error(`  ${k.id}: ${items.length} images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
console.log('\nPer-attribute accuracy on the held-out scenes by prior kind:\n');
for (const line of core.accuracyTable(rows) as string[]) console.log(line);
if (cat) {
  console.log(`\nShare of held-out images whose largest region the analyser calls a ${cat.shape} (held-out scenes with that shape: ` +
    `${(100 * items.filter((i) => (i.scene as { objects: { shape: string }[] }).objects.some((o) => o.shape === cat!.shape)).length / items.length).toFixed(0)} %):\n`);
  console.log('| prior | share |\n|---|---|');
  for (const r of rows) console.log(`| ${r.variant} | ${(100 * (r.catShare ?? 0)).toFixed(0)} % |`);
}
const jsonOut = get('--json');
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ params, limit, langs, fit: { lambda: fitted.lambda, looError: fitted.looError, baselineError: fitted.baselineError },
    rows: rows.map((r) => ({ ...r, tallies: Object.fromEntries(r.tallies as Map<string, unknown>) })) }, null, 1) + '\n');
}
await engine.dispose();
