/** Benchmark core (isomorphic): per-stage and end-to-end times for a loaded engine. Figures only. */
import type { Engine } from '../../workers/engine.ts';
import { f32 } from '../../workers/tensor/tensor.ts';
import { runMovqDecoder, runMultilingualEncoder, runPriorStage, runTextEncoder, runUnet } from '../../workers/stages/index.ts';
import type { Text2ImgRequest } from '../../workers/protocol.ts';
import { gpuWorkBetween, type GpuMemory, type GpuWorkCounts } from '../../workers/runtime/gpu-work.ts';
import { runDecoder } from '../../workers/pipelines/decoder.ts';
import type { PreviewSink } from '../../workers/pipelines/preview.ts';
import { runPrior } from '../../workers/pipelines/prior.ts';
import type { SchedulerConfig } from '../../workers/schedulers/types.ts';
import { createScheduler, decoderConfigFor } from '../../workers/schedulers/index.ts';
import { seededNoise } from '../../workers/tensor/noise.ts';

/** One timed thing; `work` is the GPU work of its last run (WebGPU with a counting runtime only). */
export interface BenchRow {
  readonly what: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  readonly work?: GpuWorkCounts;
  /** GPU buffer bytes live after its last run, and the peak during that run (WebGPU with a counting runtime only). */
  readonly memory?: GpuMemory;
}

export interface BenchOptions { readonly size: number; readonly repeats: number; readonly steps: number; readonly priorSteps: number }

/** The counting runtime's readings (null where it does not count). */
interface GpuReadings {
  work(): GpuWorkCounts | null;
  memory(resetPeak?: boolean): GpuMemory | null;
}

async function time(what: string, repeats: number, fn: () => Promise<unknown>, gpu: GpuReadings): Promise<BenchRow> {
  await fn(); // warm-up: session creation and shader compilation are not part of a step
  const ms: number[] = [];
  let counted: GpuWorkCounts | undefined;
  let memory: GpuMemory | null = null;
  for (let i = 0; i < repeats; i++) {
    const before = gpu.work();
    gpu.memory(true);
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
    const after = gpu.work();
    memory = gpu.memory();
    if (before && after) counted = gpuWorkBetween(before, after);
  }
  ms.sort((a, b) => a - b);
  return { what, medianMs: ms[Math.floor(ms.length / 2)]!, minMs: ms[0]!, runs: repeats, ...(counted ? { work: counted } : {}), ...(memory ? { memory } : {}) };
}

/** One run, timed and counted with nothing before it (first-run costs: session creation, shader compilation). */
async function once1(what: string, fn: () => Promise<unknown>, gpu: GpuReadings): Promise<BenchRow> {
  const before = gpu.work();
  gpu.memory(true);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const after = gpu.work();
  const memory = gpu.memory();
  return { what, medianMs: ms, minMs: ms, runs: 1, ...(before && after ? { work: gpuWorkBetween(before, after) } : {}), ...(memory ? { memory } : {}) };
}

/** A CFG pair of all-zero token rows of length L (the stage timings do not depend on the prompt). */
const emptyPromptPair = (L: number) => ({ batch: 2, length: L, inputIds: new BigInt64Array(2 * L), attentionMask: new BigInt64Array(2 * L).fill(1n) });

/** One stage run as the pipelines call it, with fixed inputs. */
export interface StageCall {
  readonly what: string;
  readonly run: () => Promise<unknown>;
}

/** Each stage of a loaded engine as the pipelines call it (CFG batch 2 where they batch), on one image size. */
export async function stageCalls(engine: Engine, size: number): Promise<StageCall[]> {
  const m = engine.model;
  const rt = engine.runtime;
  const D = m.embeddingDim, L = m.maxLength, C = m.latentChannels;
  const lat = (size / 64) * m.scaleFactor;
  const calls: StageCall[] = [];
  // Each stage through its wrapper (workers/stages), on the shapes the pipelines give it.
  const tokens = emptyPromptPair(L);
  const text = await runTextEncoder(rt, tokens);
  calls.push({ what: 'text encoder (batch 2)', run: () => runTextEncoder(rt, tokens) });
  if (rt.has('text_encoder_multilingual')) calls.push({ what: 'multilingual text encoder (batch 2)', run: () => runMultilingualEncoder(rt, tokens) });
  const prior = { latents: new Float32Array(2 * D), timestep: 500, textEmbeds: text.textEmbeds, hiddenStates: text.hiddenStates, attentionMask: tokens.attentionMask };
  calls.push({ what: 'prior step (batch 2)', run: () => runPriorStage(rt, prior) });
  // A Kandinsky 2.1 UNet also takes the multilingual text: its encoder's outputs on the same tokens.
  const unetText = m.family === 'kandinsky-2.1' ? await runMultilingualEncoder(rt, tokens) : undefined;
  const unet = {
    sample: f32(new Float32Array(2 * C * lat * lat), [2, C, lat, lat]), timestep: 500,
    imageEmbeds: f32(new Float32Array(2 * D), [2, D]), ...(unetText === undefined ? {} : { text: unetText }),
  };
  calls.push({ what: `UNet step (batch 2, ${size}×${size})`, run: () => runUnet(rt, 'unet', unet) });
  const latents = f32(new Float32Array(C * lat * lat), [1, C, lat, lat]);
  calls.push({ what: `MoVQ decode (${size}×${size})`, run: () => runMovqDecoder(rt, latents) });
  return calls;
}

/** Time each stage as the pipelines call it (CFG batch 2), then a whole text-to-image run. */
export async function benchEngine(engine: Engine, o: BenchOptions): Promise<BenchRow[]> {
  const m = engine.model;
  const rt = engine.runtime;
  const D = m.embeddingDim, L = m.maxLength;
  const lat = (o.size / 64) * m.scaleFactor;
  const rows: BenchRow[] = [];
  const work: GpuReadings = { work: () => rt.gpuWork(), memory: (reset) => rt.gpuMemory(reset) };
  for (const c of await stageCalls(engine, o.size)) rows.push(await time(c.what, o.repeats, c.run, work));
  const tokens = emptyPromptPair(L);
  const unetText = m.family === 'kandinsky-2.1' ? await runMultilingualEncoder(rt, tokens) : undefined;
  // The denoising loop alone (CFG, DDPM), at N and 2N steps: per UNet step = (W(2N) − W(N)) / N, the rest is per run.
  const decoderRun = (steps: number, latentW: number, preview?: PreviewSink) => () => runDecoder(engine.context(seededNoise(1), [], rt, undefined, preview), {
    imageEmbeds: new Float32Array(D).fill(0.1), negativeImageEmbeds: new Float32Array(D), latentH: lat, latentW, guidance: 4, steps,
    scheduler: createScheduler(decoderConfigFor(engine.bundle.manifest.schedulers.decoder, engine.bundle.manifest.scheduler_alternatives, 'ddpm')),
    start: { kind: 'noise' }, ...(unetText === undefined ? {} : { conditioning: { family: 'kandinsky-2.1' as const, text: unetText } }),
  });
  const loop = (steps: number) => decoderRun(steps, lat);
  const n = Math.max(1, o.steps);
  const once = await time(`denoising loop (${n} steps)`, o.repeats, loop(n), work);
  const twice = await time(`denoising loop (${2 * n} steps)`, o.repeats, loop(2 * n), work);
  rows.push(once, twice, ...perStepRows(`denoising loop, per UNet step (${o.size}×${o.size})`, 'denoising loop', once, twice, n));
  // Live previews, unpaced: the 2N-step loop with a preview after every step but the last; per preview = the difference / (2N − 1).
  const previews = 2 * n - 1;
  const previewed = await time(`denoising loop (${2 * n} steps, ${previews} live previews)`, o.repeats, decoderRun(2 * n, lat, { every: 1, maxShare: 1, show: async () => {} }), work);
  rows.push(previewed);
  if (previews > 0) {
    rows.push({
      what: `live preview, per preview (MoVQ decode of x̂_0, ${o.size}×${o.size})`, medianMs: (previewed.medianMs - twice.medianMs) / previews, minMs: NaN,
      runs: previewed.runs, ...(previewed.work && twice.work ? { work: scaleWork(gpuWorkBetween(twice.work, previewed.work), 1 / previews) } : {}),
    });
  }
  // A loop at a size not bound before, first run included: on the GPU loop a new bound UNet session (its weights go
  // up again) and, with graph capture, its recording. What a size change (outpainting) costs once.
  const wider = (lat + m.scaleFactor) * 64 / m.scaleFactor;
  rows.push(await once1(`denoising loop, 1 step, first at a new size (${wider}×${o.size})`, decoderRun(1, lat + m.scaleFactor), work));
  // The prior's loop alone (CFG, UnCLIP), the same way: per prior step = (W(2N) − W(N)) / N.
  const priorLoop = (steps: number) => () => runPrior(engine.context(seededNoise(1), []), {
    prompt: 'a red cat', negativePrompt: null, guidance: 4, steps, scheduler: createScheduler(engine.bundle.manifest.schedulers.prior as SchedulerConfig),
  });
  const pn = Math.max(1, o.priorSteps);
  const priorOnce = await time(`prior loop (${pn} steps)`, o.repeats, priorLoop(pn), work);
  const priorTwice = await time(`prior loop (${2 * pn} steps)`, o.repeats, priorLoop(2 * pn), work);
  rows.push(priorOnce, priorTwice, ...perStepRows('prior loop, per prior step', 'prior loop', priorOnce, priorTwice, pn));
  const req: Text2ImgRequest = {
    mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: o.size, height: o.size, steps: o.steps, guidance: 4,
    priorSteps: o.priorSteps, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 1,
  };
  rows.push(await time(`text-to-image end to end (${o.priorSteps} prior + ${o.steps} decoder steps)`, Math.max(1, Math.min(3, o.repeats)), () => engine.generate('bench', req), work));
  return rows;
}

/** A loop timed at n and 2n steps as its per-step share ((W(2n) − W(n)) / n) and the rest, per run; none uncounted. */
function perStepRows(perStepWhat: string, loop: string, once: BenchRow, twice: BenchRow, n: number): BenchRow[] {
  if (!once.work || !twice.work) return [];
  const perStep = scaleWork(gpuWorkBetween(once.work, twice.work), 1 / n);
  return [
    { what: perStepWhat, medianMs: (twice.medianMs - once.medianMs) / n, minMs: NaN, runs: once.runs, work: perStep },
    { what: `${loop}, per run besides its steps`, medianMs: NaN, minMs: NaN, runs: once.runs, work: gpuWorkBetween(perStepTimes(perStep, n), once.work) },
  ];
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
  '| environment | what | dispatches | transposes | dequantizes | writeBuffer calls (bytes) | uploads (bytes) | read-backs (bytes) | submits | GPU buffers KB, live after / peak during | top kernels |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
] as const;

/** Rows with GPU-work counts as markdown table lines: one run of each, its `topKernels` most dispatched kernels. */
export function formatWork(env: string, rows: readonly BenchRow[], topKernels = 5): string[] {
  return rows.flatMap((r) => {
    const w = r.work;
    if (!w) return [];
    const top = Object.entries(w.kernels).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, topKernels).map(([k, n]) => `${k} ${n}`).join(', ');
    const kb = (b: number) => (b / 1024).toFixed(0);
    const mem = r.memory ? `${kb(r.memory.liveBytes)} / ${kb(r.memory.peakBytes)}` : '—';
    return [`| ${env} | ${r.what} | ${w.dispatches} | ${w.transposes} | ${w.dequantizes} | ${w.writeBuffers} (${w.writeBufferBytes}) | ${w.uploads} (${w.uploadBytes}) | ${w.readBacks} (${w.readBackBytes}) | ${w.submits} | ${mem} | ${top} |`];
  });
}

/** Format rows for one environment as markdown table lines. */
export function formatRows(env: string, rows: readonly BenchRow[]): string[] {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
  return rows.map((r) => `| ${env} | ${r.what} | ${ms(r.medianMs)} | ${ms(r.minMs)} | ${r.runs} |`);
}
