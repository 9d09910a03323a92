/**
 * Held-out semantic evaluation (issue 11): `npm run eval -- --bundle DIR [--bundle DIR…] --ep wasm|webgpu [--lang en|ru|all]
 * [--limit N] [--variants fp32,fp16,...] [--reference DIR] [--steps N] [--prior-steps N] [--guidance G]
 * [--size S] [--seed S] [--json FILE] [--save-images DIR] [--drawn] [--scenes FILE]`.
 * Generates each held-out caption (tools/train/heldout.json) at the model's native size with fixed seeds, runs the
 * classical analyser (tools/eval/analyse.ts) and prints per-attribute accuracy per variant and language, then each
 * variant's pixel difference against the fp32 one (or --reference) for the same seeds. Each DIR is a bundle or a
 * folder with variants.json.
 * wasm runs in Node, webgpu in headless Chromium (SwiftShader without a GPU). `--drawn` adds the analyser's ceiling:
 * the same scenes drawn with the generator's geometry; `--scenes FILE` evaluates other records of the same format
 * (e.g. training-distribution scenes, to tell "cannot" from "does not generalise"). Prints figures; asserts nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Engine } from '../workers/engine.ts';
import { DEFAULTS, type RgbaImage, type Text2ImgRequest } from '../workers/protocol.ts';
import { bundleDirBlobs } from '../workers/testing/bundle-dir.ts';
import { accuracyTable, differenceByLang, differenceTable, evalItems, judge, requestFor, tallyByLang, type EvalItem, type EvalParams, type ItemResult } from './eval/core.ts';
import { rgbaPng } from '../e2e/support/png-fixtures.ts';
import { renderScene } from './eval/render.ts';
import { loadHeldout, loadVocabulary } from './eval/scene.ts';

const root = resolve(import.meta.dirname, '..');

function usage(msg: string): never {
  console.error(`eval: ${msg}\nusage: npm run eval -- --bundle DIR --ep wasm|webgpu [--lang en|ru|all] [--limit N] [--variants a,b] [--reference DIR] [--steps N] [--prior-steps N] [--guidance G] [--size S] [--seed S] [--json FILE] [--save-images DIR] [--drawn] [--scenes FILE]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const get = (flag: string): string | undefined => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (flag: string, fallback: number): number => {
  const v = Number(get(flag) ?? fallback);
  if (!Number.isFinite(v)) usage(`${flag} must be a number`);
  return v;
};

interface Variant { readonly id: string; readonly dir: string }

/** A bundle folder, or each variant of a folder with variants.json (in its order). */
function variantsOf(dir: string, only: readonly string[] | null): Variant[] {
  const listFile = join(dir, 'variants.json');
  if (!existsSync(listFile)) {
    if (!existsSync(join(dir, 'manifest.json'))) usage(`no manifest.json or variants.json in ${dir}`);
    // Named by the manifest's precision (fp32, fp16, int8, int4, fp16+int8…), so a lone fp32 bundle is the reference.
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name?: string; precision?: { dtype?: string; quantize?: string } };
    const p = m.precision;
    const id = p?.dtype === undefined ? undefined
      : p.quantize === undefined || p.quantize === 'none' ? p.dtype : p.dtype === 'fp32' ? p.quantize : `${p.dtype}+${p.quantize}`;
    return [{ id: id ?? m.name ?? dir, dir }];
  }
  const list = JSON.parse(readFileSync(listFile, 'utf8')) as { variants?: Array<{ id: string; path: string }> };
  const all = (list.variants ?? []).map((v) => ({ id: v.id, dir: resolve(dir, v.path) }));
  if (only === null) return all;
  return only.map((id) => all.find((v) => v.id === id) ?? usage(`no variant ${id} in ${listFile} (have ${all.map((v) => v.id).join(', ')})`));
}

/** The model's native size from the manifest's `native_size` (a number, [w, h] or { width, height }), else 64. */
function nativeSize(dir: string): number | undefined {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { native_size?: unknown };
  const n = m.native_size;
  if (typeof n === 'number') return n;
  if (Array.isArray(n) && typeof n[0] === 'number') return Math.max(n[0], Number(n[1] ?? n[0]));
  if (typeof n === 'object' && n !== null && 'width' in n) return Math.max(Number((n as { width: number }).width), Number((n as { height?: number }).height ?? 0));
  return undefined;
}

type Generate = (req: Text2ImgRequest) => Promise<RgbaImage>;

/** A generator for a bundle on an EP: the engine in Node (wasm), or one page of headless Chromium. */
async function openGenerator(dir: string, ep: 'wasm' | 'webgpu', chromium: ChromiumHost | null): Promise<{ generate: Generate; ep: string; close: () => Promise<void> }> {
  if (chromium === null) {
    const engine = await Engine.load({ kind: 'files', files: await bundleDirBlobs(dir) }, { provider: ep });
    return { ep: engine.runtime.ep, generate: async (req) => (await engine.generate('eval', req)).images[0]!.image, close: () => engine.dispose() };
  }
  const page = await chromium.browser.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`${chromium.base}/tools/parity/harness.html`);
  const url = `${chromium.base}/@fs${dir}/`;
  let actualEp = ep as string;
  const generate: Generate = async (req) => {
    const r = await page.evaluate(async ([url, ep, req]) => {
      const m = await import('/tools/eval/browser-entry.ts' as string);
      return m.generate(url, ep, req) as Promise<{ ep: string; width: number; height: number; rgba: string }>;
    }, [url, ep, req] as const);
    actualEp = r.ep;
    return { width: r.width, height: r.height, data: new Uint8ClampedArray(Buffer.from(r.rgba, 'base64')) };
  };
  await generate({ ...DEFAULTS_REQ, width: 64, height: 64 }); // load and warm up, so the EP is known before the table
  return { get ep() { return actualEp; }, generate, close: () => page.close() };
}

const DEFAULTS_REQ: Text2ImgRequest = { mode: 'text2img', prompt: '', negativePrompt: '', width: 64, height: 64, steps: 2, guidance: 4, priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 0, numImages: 1 };

interface ChromiumHost { readonly browser: import('playwright-core').Browser; readonly base: string; close(): Promise<void> }

async function startChromium(allow: string[]): Promise<ChromiumHost> {
  const { createServer } = await import('vite');
  const { launchBrowser } = await import('../e2e/support/browser.ts');
  const server = await createServer({
    root, configFile: join(root, 'vite.config.ts'), logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, fs: { allow: [root, ...allow] } },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no dev server port');
  const browser = await launchBrowser();
  return { browser, base: `http://localhost:${address.port}`, close: async () => { await browser.close(); await server.close(); } };
}

// ---------------------------------------------------------------- arguments
const bundleArgs = argv.flatMap((a, i) => (a === '--bundle' && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
if (bundleArgs.length === 0) usage('--bundle DIR is required');
const ep = (get('--ep') ?? 'wasm') as 'wasm' | 'webgpu';
if (ep !== 'wasm' && ep !== 'webgpu') usage(`--ep must be wasm or webgpu, got ${ep}`);
const langArg = get('--lang') ?? 'all';
const langs = langArg === 'all' ? ['en', 'ru'] : [langArg];
if (!langs.every((l) => l === 'en' || l === 'ru')) usage(`--lang must be en, ru or all, got ${langArg}`);
const only = get('--variants')?.split(',') ?? null;
const variants = bundleArgs.flatMap((b) => variantsOf(resolve(b), only));
const referenceArg = get('--reference');
// The reference: --reference DIR (one of the bundles when it names the same folder), else a variant called fp32.
const reference: Variant | null = referenceArg !== undefined
  ? variants.find((v) => v.dir === resolve(referenceArg)) ?? { id: 'reference', dir: resolve(referenceArg) }
  : variants.find((v) => v.id === 'fp32') ?? null;
const scenesArg = get('--scenes');
const heldout = scenesArg === undefined ? loadHeldout() : loadHeldout(resolve(scenesArg));
const vocab = loadVocabulary();
const limit = num('--limit', heldout.scenes.length);
const params: EvalParams = {
  size: num('--size', nativeSize(variants[0]!.dir) ?? 64),
  steps: num('--steps', DEFAULTS.steps),
  priorSteps: num('--prior-steps', DEFAULTS.priorSteps),
  guidance: num('--guidance', DEFAULTS.guidance),
  priorGuidance: num('--prior-guidance', DEFAULTS.priorGuidance),
  scheduler: (get('--scheduler') ?? DEFAULTS.scheduler) as EvalParams['scheduler'],
  seed: num('--seed', 0),
};
const items: EvalItem[] = evalItems(heldout.scenes, langs, limit, params.seed);
const saveArg = get('--save-images');
const saveDir = saveArg === undefined ? null : resolve(saveArg);
if (saveDir) mkdirSync(saveDir, { recursive: true });

// ---------------------------------------------------------------- run
// The reference runs first, so every other variant is compared as it finishes.
const runOrder = reference === null ? variants : [reference, ...variants.filter((v) => v !== reference)];
console.log(`eval: ${items.length} generations per variant (${limit} held-out scenes × ${langs.join(', ')}), ${params.size}×${params.size}, ` +
  `${params.priorSteps} prior + ${params.steps} decoder steps (${params.scheduler}), guidance ${params.priorGuidance}/${params.guidance}, seeds ${params.seed}…${params.seed + limit - 1}; ` +
  `held-out rule: ${heldout.rule || 'see tools/train/data.py'}`);
const chromium = ep === 'webgpu' ? await startChromium(runOrder.map((v) => v.dir)) : null;
const results = new Map<Variant, { ep: string; results: ItemResult[]; ms: number }>();
try {
  for (const v of runOrder) {
    const label = relative(root, v.dir) || v.dir;
    let g;
    try {
      g = await openGenerator(v.dir, ep, chromium);
    } catch (e) {
      console.log(`eval: ${v.id} (${label}) could not load on ${ep}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
      continue;
    }
    const out: ItemResult[] = [];
    const t0 = performance.now();
    try {
      for (const [k, item] of items.entries()) {
        const image = await g.generate(requestFor(item, params));
        out.push(judge(item, image, vocab));
        if (saveDir) writeFileSync(join(saveDir, `${v.id}-${item.lang}-${item.id}.png`), rgbaPng(image.width, image.height, image.data));
        if ((k + 1) % 25 === 0) console.error(`  ${v.id}: ${k + 1}/${items.length}`);
      }
    } catch (e) {
      console.log(`eval: ${v.id} failed on ${ep} after ${out.length} images: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    } finally {
      await g.close();
    }
    const ms = performance.now() - t0;
    console.log(`eval: ${v.id} (${label}) on ${g.ep}: ${out.length} images in ${(ms / 1000).toFixed(0)} s (${(ms / Math.max(1, out.length)).toFixed(0)} ms each)`);
    if (out.length === items.length) results.set(v, { ep: g.ep, results: out, ms });
    // Each variant's rows as soon as it finishes, so a long run that is stopped still leaves its figures.
    for (const line of accuracyTable([{ variant: v.id, ep: g.ep, tallies: tallyByLang(out) }]).slice(2)) console.error(`  ${line}`);
  }
} finally {
  await chromium?.close();
}

// ---------------------------------------------------------------- report
const accuracyRows = [...results].map(([v, r]) => ({ variant: v.id, ep: r.ep, tallies: tallyByLang(r.results) }));
if (argv.includes('--drawn')) {
  // The ceiling: the analyser on the scenes drawn with the generator's geometry instead of generated.
  accuracyRows.push({ variant: 'drawn (tools/eval/render.ts)', ep: '–', tallies: tallyByLang(items.map((item) => judge(item, renderScene(item.scene, vocab, params.size, item.seed), vocab))) });
}
console.log('\nPer-attribute accuracy on the held-out scenes (colour, shape, position, size: per object; background, scene: per image; scene = colour, shape and position all right):\n');
for (const line of accuracyTable(accuracyRows)) console.log(line);
const ref = reference ? results.get(reference) : undefined;
const diffRows = ref
  ? [...results].filter(([v]) => v !== reference).map(([v, r]) => ({ variant: v.id, ep: r.ep, diffs: differenceByLang(r.results, ref.results) }))
  : [];
if (ref && diffRows.length > 0) {
  console.log(`\nPixel difference against ${reference!.id} (same captions and seeds, RGB in [0, 1]; mean of per-image means, max over all pixels):\n`);
  for (const line of differenceTable(reference!.id, diffRows)) console.log(line);
}
const jsonOut = get('--json');
if (jsonOut) {
  const summary = {
    params, ep, limit, langs, rule: heldout.rule,
    variants: [...results].map(([v, r]) => ({
      id: v.id, dir: relative(root, v.dir), ep: r.ep, seconds: r.ms / 1000,
      tallies: Object.fromEntries(tallyByLang(r.results)),
      diffs: ref && v !== reference ? Object.fromEntries(differenceByLang(r.results, ref.results)) : null,
      items: r.results.map((x) => ({ id: x.item.id, lang: x.item.lang, caption: x.item.caption, seed: x.item.seed, check: { ...x.check, objects: x.check.objects.map(({ region, ...o }) => ({ ...o, found: region ? { color: region.color, shape: region.shape, position: region.position, size: region.size } : null })) } })),
    })),
  };
  writeFileSync(jsonOut, JSON.stringify(summary, null, 1) + '\n');
  console.log(`\neval: wrote ${jsonOut}`);
}
process.exit(results.size === runOrder.length ? 0 : 1);
