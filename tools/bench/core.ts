/** Benchmark core (isomorphic): per-stage and end-to-end times for a loaded engine. Figures only. */
import type { Engine } from '../../workers/engine.ts';
import { f32, i64 } from '../../workers/tensor/tensor.ts';
import type { Text2ImgRequest } from '../../workers/protocol.ts';

export interface BenchRow { readonly what: string; readonly medianMs: number; readonly minMs: number; readonly runs: number }

export interface BenchOptions { readonly size: number; readonly repeats: number; readonly steps: number; readonly priorSteps: number }

async function time(what: string, repeats: number, fn: () => Promise<unknown>): Promise<BenchRow> {
  await fn(); // warm-up: session creation and shader compilation are not part of a step
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { what, medianMs: ms[Math.floor(ms.length / 2)]!, minMs: ms[0]!, runs: repeats };
}

/** Time each stage as the pipelines call it (CFG batch 2), then a whole text-to-image run. */
export async function benchEngine(engine: Engine, o: BenchOptions): Promise<BenchRow[]> {
  const m = engine.model;
  const rt = engine.runtime;
  const D = m.embeddingDim, L = m.maxLength, C = m.latentChannels;
  const lat = (o.size / 64) * m.scaleFactor;
  const rows: BenchRow[] = [];
  const ids = i64(new BigInt64Array(2 * L), [2, L]);
  const text = await rt.run('text_encoder', { input_ids: ids });
  rows.push(await time('text encoder (batch 2)', o.repeats, () => rt.run('text_encoder', { input_ids: ids })));
  const priorFeeds = {
    hidden_states: f32(new Float32Array(2 * D), [2, D]),
    timestep: f32(new Float32Array([500, 500]), [2]),
    proj_embedding: text.text_embeds!,
    encoder_hidden_states: text.last_hidden_state!,
    attention_mask: i64(new BigInt64Array(2 * L).fill(1n), [2, L]),
  };
  rows.push(await time('prior step (batch 2)', o.repeats, () => rt.run('prior', priorFeeds)));
  const unetFeeds = {
    sample: f32(new Float32Array(2 * C * lat * lat), [2, C, lat, lat]),
    timestep: f32(new Float32Array([500, 500]), [2]),
    image_embeds: f32(new Float32Array(2 * D), [2, D]),
  };
  rows.push(await time(`UNet step (batch 2, ${o.size}×${o.size})`, o.repeats, () => rt.run('unet', unetFeeds)));
  const movqFeeds = { latents: f32(new Float32Array(C * lat * lat), [1, C, lat, lat]) };
  rows.push(await time(`MoVQ decode (${o.size}×${o.size})`, o.repeats, () => rt.run('movq_decoder', movqFeeds)));
  const req: Text2ImgRequest = {
    mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: o.size, height: o.size, steps: o.steps, guidance: 4,
    priorSteps: o.priorSteps, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 1,
  };
  rows.push(await time(`text-to-image end to end (${o.priorSteps} prior + ${o.steps} decoder steps)`, Math.max(1, Math.min(3, o.repeats)), () => engine.generate('bench', req)));
  return rows;
}

/** Format rows for one environment as markdown table lines. */
export function formatRows(env: string, rows: readonly BenchRow[]): string[] {
  return rows.map((r) => `| ${env} | ${r.what} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${r.runs} |`);
}
