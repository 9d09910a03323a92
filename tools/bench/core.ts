/** Benchmark core (isomorphic): per-stage and end-to-end times for a loaded engine. Figures only. */
import type { Engine } from '../../workers/engine.ts';
import { f32 } from '../../workers/tensor/tensor.ts';
import { runMovqDecoder, runMultilingualEncoder, runPriorStage, runTextEncoder, runUnet } from '../../workers/stages/index.ts';
import type { Text2ImgRequest } from '../../workers/protocol.ts';
import { gpuWorkBetween, type GpuWorkCounts } from '../../workers/runtime/gpu-work.ts';
import { runDecoder } from '../../workers/pipelines/decoder.ts';
import { createScheduler, decoderConfigFor } from '../../workers/schedulers/index.ts';
import { seededNoise } from '../../workers/tensor/noise.ts';

/** One timed thing; `work` is the GPU work of its last run (WebGPU with a counting runtime only). */
export interface BenchRow {
  readonly what: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  readonly work?: GpuWorkCounts;
}

export interface BenchOptions { readonly size: number; readonly repeats: number; readonly steps: number; readonly priorSteps: number }

async function time(what: string, repeats: number, fn: () => Promise<unknown>, work: () => GpuWorkCounts | null): Promise<BenchRow> {
  await fn(); // warm-up: session creation and shader compilation are not part of a step
  const ms: number[] = [];
  let counted: GpuWorkCounts | undefined;
  for (let i = 0; i < repeats; i++) {
    const before = work();
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
    const after = work();
    if (before && after) counted = gpuWorkBetween(before, after);
  }
  ms.sort((a, b) => a - b);
  return { what, medianMs: ms[Math.floor(ms.length / 2)]!, minMs: ms[0]!, runs: repeats, ...(counted ? { work: counted } : {}) };
}

/** Time each stage as the pipelines call it (CFG batch 2), then a whole text-to-image run. */
export async function benchEngine(engine: Engine, o: BenchOptions): Promise<BenchRow[]> {
  const m = engine.model;
  const rt = engine.runtime;
  const D = m.embeddingDim, L = m.maxLength, C = m.latentChannels;
  const lat = (o.size / 64) * m.scaleFactor;
  const rows: BenchRow[] = [];
  const work = (): GpuWorkCounts | null => rt.gpuWork();
  // Each stage through its wrapper (workers/stages), on the shapes the pipelines give it.
  const tokens = { batch: 2, length: L, inputIds: new BigInt64Array(2 * L), attentionMask: new BigInt64Array(2 * L).fill(1n) };
  const text = await runTextEncoder(rt, tokens);
  rows.push(await time('text encoder (batch 2)', o.repeats, () => runTextEncoder(rt, tokens), work));
  if (rt.has('text_encoder_multilingual')) {
    rows.push(await time('multilingual text encoder (batch 2)', o.repeats, () => runMultilingualEncoder(rt, tokens), work));
  }
  const prior = { latents: new Float32Array(2 * D), timestep: 500, textEmbeds: text.textEmbeds, hiddenStates: text.hiddenStates, attentionMask: tokens.attentionMask };
  rows.push(await time('prior step (batch 2)', o.repeats, () => runPriorStage(rt, prior), work));
  // A Kandinsky 2.1 UNet also takes the multilingual text: its encoder's outputs on the same tokens.
  const unetText = engine.model.family === 'kandinsky-2.1' ? await runMultilingualEncoder(rt, tokens) : undefined;
  const unet = {
    sample: f32(new Float32Array(2 * C * lat * lat), [2, C, lat, lat]), timestep: 500,
    imageEmbeds: f32(new Float32Array(2 * D), [2, D]), ...(unetText === undefined ? {} : { text: unetText }),
  };
  rows.push(await time(`UNet step (batch 2, ${o.size}×${o.size})`, o.repeats, () => runUnet(rt, 'unet', unet), work));
  const latents = f32(new Float32Array(C * lat * lat), [1, C, lat, lat]);
  rows.push(await time(`MoVQ decode (${o.size}×${o.size})`, o.repeats, () => runMovqDecoder(rt, latents), work));
  // The denoising loop alone (CFG, DDPM), at N and 2N steps: per UNet step = (W(2N) − W(N)) / N, the rest is per run.
  const loop = (steps: number) => () => runDecoder(engine.context(seededNoise(1), []), {
    imageEmbeds: new Float32Array(D).fill(0.1), negativeImageEmbeds: new Float32Array(D), latentH: lat, latentW: lat, guidance: 4, steps,
    scheduler: createScheduler(decoderConfigFor(engine.bundle.manifest.schedulers.decoder, engine.bundle.manifest.scheduler_alternatives, 'ddpm')),
    start: { kind: 'noise' }, ...(unetText === undefined ? {} : { conditioning: { family: 'kandinsky-2.1' as const, text: unetText } }),
  });
  const n = Math.max(1, o.steps);
  const once = await time(`denoising loop (${n} steps)`, o.repeats, loop(n), work);
  const twice = await time(`denoising loop (${2 * n} steps)`, o.repeats, loop(2 * n), work);
  rows.push(once, twice);
  if (once.work && twice.work) {
    const perStep = scaleWork(gpuWorkBetween(once.work, twice.work), 1 / n);
    rows.push({ what: `denoising loop, per UNet step (${o.size}×${o.size})`, medianMs: (twice.medianMs - once.medianMs) / n, minMs: NaN, runs: o.repeats, work: perStep });
    rows.push({ what: 'denoising loop, per run besides its steps', medianMs: NaN, minMs: NaN, runs: o.repeats, work: gpuWorkBetween(perStepTimes(perStep, n), once.work) });
  }
  const req: Text2ImgRequest = {
    mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: o.size, height: o.size, steps: o.steps, guidance: 4,
    priorSteps: o.priorSteps, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 1,
  };
  rows.push(await time(`text-to-image end to end (${o.priorSteps} prior + ${o.steps} decoder steps)`, Math.max(1, Math.min(3, o.repeats)), () => engine.generate('bench', req), work));
  return rows;
}

/** Counts × f (per-step shares of a difference). */
function scaleWork(w: GpuWorkCounts, f: number): GpuWorkCounts {
  const r = (v: number) => Math.round(v * f * 100) / 100;
  return {
    dispatches: r(w.dispatches), transposes: r(w.transposes), dequantizes: r(w.dequantizes), writeBuffers: r(w.writeBuffers),
    writeBufferBytes: r(w.writeBufferBytes), uploads: r(w.uploads), uploadBytes: r(w.uploadBytes), readBacks: r(w.readBacks),
    readBackBytes: r(w.readBackBytes), submits: r(w.submits), kernels: Object.fromEntries(Object.entries(w.kernels).map(([k, v]) => [k, r(v)])),
  };
}

/** n steps' worth of per-step counts (subtracted from a run of n steps, the rest is per run). */
const perStepTimes = (w: GpuWorkCounts, n: number): GpuWorkCounts => scaleWork(w, n);

/** The GPU-work table's header (see formatWork). */
export const WORK_HEADER = [
  '| environment | what | dispatches | transposes | dequantizes | writeBuffer calls (bytes) | uploads (bytes) | read-backs (bytes) | submits | top kernels |',
  '|---|---|---|---|---|---|---|---|---|---|',
] as const;

/** Rows with GPU-work counts as markdown table lines: one run of each, its `topKernels` most dispatched kernels. */
export function formatWork(env: string, rows: readonly BenchRow[], topKernels = 5): string[] {
  return rows.flatMap((r) => {
    const w = r.work;
    if (!w) return [];
    const top = Object.entries(w.kernels).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, topKernels).map(([k, n]) => `${k} ${n}`).join(', ');
    return [`| ${env} | ${r.what} | ${w.dispatches} | ${w.transposes} | ${w.dequantizes} | ${w.writeBuffers} (${w.writeBufferBytes}) | ${w.uploads} (${w.uploadBytes}) | ${w.readBacks} (${w.readBackBytes}) | ${w.submits} | ${top} |`];
  });
}

/** Format rows for one environment as markdown table lines. */
export function formatRows(env: string, rows: readonly BenchRow[]): string[] {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
  return rows.map((r) => `| ${env} | ${r.what} | ${ms(r.medianMs)} | ${ms(r.minMs)} | ${r.runs} |`);
}
