/** Held-out evaluation core (isomorphic): the requests, the per-attribute tallies, the pixel differences, the tables. */
import type { Text2ImgRequest } from '../../workers/protocol.ts';
import { addToTally, analyseImage, ATTRIBUTES, checkScene, emptyTally, type Pixels, type SceneCheck, type Tally } from './analyse.ts';
import type { HeldoutRecord, Scene, Vocabulary } from './scene.ts';

/** The sampling parameters of an evaluation run (the same for every variant and language). */
export interface EvalParams {
  readonly size: number;
  readonly steps: number;
  readonly priorSteps: number;
  readonly guidance: number;
  readonly priorGuidance: number;
  readonly scheduler: Text2ImgRequest['scheduler'];
  /** Item k is generated with seed `seed + k`, in every variant and language. */
  readonly seed: number;
}

/** One generation of the evaluation: a held-out scene, one of its captions, a fixed seed. */
export interface EvalItem { readonly id: string; readonly lang: string; readonly caption: string; readonly scene: Scene; readonly seed: number }

/** Items for the first `limit` records in each language; record k uses paraphrase k mod n and seed `seed + k`. */
export function evalItems(records: readonly HeldoutRecord[], langs: readonly string[], limit: number, seed: number): EvalItem[] {
  const chosen = records.slice(0, limit);
  return langs.flatMap((lang) => chosen.map((r, k) => {
    const captions = r.captions[lang];
    if (!captions || captions.length === 0) throw new Error(`held-out record ${r.id} has no ${lang} caption`);
    return { id: r.id, lang, caption: captions[k % captions.length]!, scene: r.scene, seed: seed + k };
  }));
}

/** The engine request for one item. */
export function requestFor(item: EvalItem, p: EvalParams): Text2ImgRequest {
  return {
    mode: 'text2img', prompt: item.caption, negativePrompt: '', width: p.size, height: p.size, steps: p.steps, guidance: p.guidance,
    priorSteps: p.priorSteps, priorGuidance: p.priorGuidance, scheduler: p.scheduler, seed: item.seed, numImages: 1,
  };
}

/** Mean and largest absolute difference of the colour channels, in [0, 1]. */
export function pixelDifference(a: Pixels, b: Pixels): { mean: number; max: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`pixelDifference: ${a.width}×${a.height} against ${b.width}×${b.height}`);
  let sum = 0, max = 0, n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a.data[i]! - b.data[i]!) / 255;
    sum += d;
    max = Math.max(max, d);
    n++;
  }
  return { mean: sum / n, max };
}

/** What one variant made of one item. */
export interface ItemResult { readonly item: EvalItem; readonly check: SceneCheck; readonly image: Pixels }

/** Analyse one generated image against its item's scene. */
export function judge(item: EvalItem, image: Pixels, vocab: Vocabulary): ItemResult {
  return { item, check: checkScene(analyseImage(image, vocab), item.scene), image };
}

/** Per-language tallies of a variant's results. */
export function tallyByLang(results: readonly ItemResult[]): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const r of results) {
    const t = out.get(r.item.lang) ?? emptyTally();
    addToTally(t, r.check);
    out.set(r.item.lang, t);
  }
  return out;
}

/** Per-language pixel differences of a variant against the reference's images for the same items (same order). */
export function differenceByLang(results: readonly ItemResult[], reference: readonly ItemResult[]): Map<string, { mean: number; max: number; n: number }> {
  const out = new Map<string, { sum: number; max: number; n: number }>();
  results.forEach((r, k) => {
    const ref = reference[k];
    if (!ref || ref.item.id !== r.item.id || ref.item.lang !== r.item.lang) throw new Error('differenceByLang: results and reference are not the same items');
    const d = pixelDifference(r.image, ref.image);
    const acc = out.get(r.item.lang) ?? { sum: 0, max: 0, n: 0 };
    acc.sum += d.mean;
    acc.max = Math.max(acc.max, d.max);
    acc.n++;
    out.set(r.item.lang, acc);
  });
  return new Map([...out].map(([lang, a]) => [lang, { mean: a.sum / a.n, max: a.max, n: a.n }]));
}

const pct = (c: { correct: number; total: number }) => (c.total === 0 ? '–' : `${((100 * c.correct) / c.total).toFixed(0)} %`);

/** Markdown accuracy table: one row per variant and language. */
export function accuracyTable(rows: ReadonlyArray<{ variant: string; ep: string; tallies: Map<string, Tally> }>): string[] {
  const attrs = ATTRIBUTES.filter((a) => rows.some((r) => [...r.tallies.values()].some((t) => t[a].total > 0)));
  const lines = [`| variant | EP | lang | n | ${attrs.join(' | ')} |`, `|---|---|---|---|${attrs.map(() => '---').join('|')}|`];
  for (const r of rows) {
    for (const [lang, t] of r.tallies) lines.push(`| ${r.variant} | ${r.ep} | ${lang} | ${t.background.total} | ${attrs.map((a) => pct(t[a])).join(' | ')} |`);
  }
  return lines;
}

/** Markdown pixel-difference table against the reference variant. */
export function differenceTable(reference: string, rows: ReadonlyArray<{ variant: string; ep: string; diffs: Map<string, { mean: number; max: number; n: number }> }>): string[] {
  const lines = [`| variant | EP | lang | n | mean abs vs ${reference} | max abs vs ${reference} |`, '|---|---|---|---|---|---|'];
  for (const r of rows) for (const [lang, d] of r.diffs) lines.push(`| ${r.variant} | ${r.ep} | ${lang} | ${d.n} | ${d.mean.toFixed(4)} | ${d.max.toFixed(3)} |`);
  return lines;
}
