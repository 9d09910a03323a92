/**
 * Kandinsky 2.1's decoder differences (docs/kandinsky-2-1.md), on a recording stand-in runner: the UNet gets the
 * multilingual text batched [negative, prompt] like the image embeddings, img2img noises with the pipeline's own
 * schedule at int(1000 × strength) − 2, inpainting never resets the kept region.
 */
import { describe, expect, it } from 'vitest';
import type { StageRunner, StageName } from '../runtime/types.ts';
import type { StageFeeds, StageResult } from '../runtime/stage-io.ts';
import { createScheduler } from '../schedulers/index.ts';
import { recordedNoise } from '../tensor/noise.ts';
import type { F32Tensor, HostTensor } from '../tensor/tensor.ts';
import type { ModelFacts, PipelineContext, PromptTokenizer } from './context.ts';
import {
  IMAGE_ONLY, decoderConditioning, kandinsky21AddNoise, kandinsky21LatentTimestep, runDecoder, type DecoderConditioning,
} from './decoder.ts';

const D = 4, L = 6, C = 4, h = 2, w = 2, plane = C * h * w;
const DDIM = {
  _class_name: 'DDIMScheduler', num_train_timesteps: 1000, beta_schedule: 'linear', beta_start: 0.00085, beta_end: 0.012,
  clip_sample: false, set_alpha_to_one: false, steps_offset: 1, prediction_type: 'epsilon', timestep_spacing: 'leading',
};

/** Records every call; the UNet predicts eps = 0.1 × sample (so every step depends on its input), the encoder embeds ids. */
class Recorder implements StageRunner {
  readonly ep = 'wasm' as const;
  readonly calls: { stage: StageName; feeds: Record<string, HostTensor> }[] = [];
  has(): boolean { return true; }
  async run<S extends StageName>(stage: S, feeds: Readonly<StageFeeds<S>>): Promise<StageResult<S>> {
    const f = feeds as Readonly<Record<string, HostTensor>>;
    this.calls.push({ stage, feeds: { ...f } });
    const float = (data: Float32Array, dims: number[]): F32Tensor => ({ type: 'float32', data, dims });
    if (stage === 'text_encoder_multilingual') {
      const ids = f.input_ids!.data as BigInt64Array;
      const B = f.input_ids!.dims[0]!;
      const rows = Array.from({ length: B }, (_, b) => Number(ids[b * L + 1]));
      return {
        text_embeds: float(Float32Array.from({ length: B * D }, (_, i) => rows[Math.floor(i / D)]!), [B, D]),
        last_hidden_state: float(Float32Array.from({ length: B * L * 3 }, (_, i) => rows[Math.floor(i / (L * 3))]!), [B, L, 3]),
      } as unknown as StageResult<S>;
    }
    const sample = f.sample as F32Tensor;
    const [B = 1, inC = C] = sample.dims;
    const out = new Float32Array(B * 2 * plane);
    for (let b = 0; b < B; b++) for (let k = 0; k < plane; k++) out[b * 2 * plane + k] = 0.1 * sample.data[b * inC * h * w + k]!;
    return { out_sample: float(out, [B, 2 * C, h, w]) } as unknown as StageResult<S>;
  }
}

/** Tokenises a prompt to [start, its length + 10, end, pad…]: enough to tell prompts apart in the batch. */
const tokenizer: PromptTokenizer = {
  encode(prompt) {
    const inputIds = new BigInt64Array(L).fill(1n);
    inputIds[0] = 0n; inputIds[1] = BigInt(prompt.length + 10); inputIds[2] = 2n;
    const attentionMask = new BigInt64Array(L); attentionMask.fill(1n, 0, 3);
    return { inputIds, attentionMask, truncated: false, tokenCount: 3 };
  },
};

const model = (family: ModelFacts['family']): ModelFacts => ({
  family, embeddingDim: D, maxLength: L, latentChannels: C, scaleFactor: 8,
  imageProcessor: { size: 8, crop_size: 8, mean: [0, 0, 0], std: [1, 1, 1] },
  clipMean: new Float32Array(D), clipStd: new Float32Array(D).fill(1), multilingualMaxLength: L,
});

const ramp = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

function ctxOf(family: ModelFacts['family'], runner: Recorder, draws: Float32Array[]): PipelineContext {
  return { runner, model: model(family), tokenizer, multilingualTokenizer: tokenizer, noise: recordedNoise(draws), warnings: [] };
}

describe('Kandinsky 2.1 decoder', () => {
  it('conditions the UNet on the multilingual text, batched [negative, prompt] like the image embeddings', async () => {
    const runner = new Recorder();
    const ctx = ctxOf('kandinsky-2.1', runner, [ramp(plane, 0.1)]);
    const conditioning = await decoderConditioning(ctx, 'a red cat', 'blur', 4);
    expect(conditioning.family).toBe('kandinsky-2.1');
    await runDecoder(ctx, {
      conditioning, imageEmbeds: new Float32Array(D).fill(1), negativeImageEmbeds: new Float32Array(D).fill(-1),
      latentH: h, latentW: w, guidance: 4, steps: 2, scheduler: createScheduler(DDIM), start: { kind: 'noise' },
    });
    const enc = runner.calls[0]!;
    expect(enc.stage).toBe('text_encoder_multilingual');
    expect(Array.from(enc.feeds.input_ids!.data as BigInt64Array, Number).filter((_, i) => i % L === 1)).toEqual([14, 19]); // "blur", then "a red cat"
    const unet = runner.calls.filter((c) => c.stage === 'unet');
    expect(unet).toHaveLength(2);
    for (const call of unet) {
      expect(Object.keys(call.feeds).sort()).toEqual(['encoder_hidden_states', 'image_embeds', 'sample', 'text_embeds', 'timestep']);
      expect(Array.from((call.feeds.text_embeds as F32Tensor).data.filter((_, i) => i % D === 0))).toEqual([14, 19]);
      expect(Array.from((call.feeds.image_embeds as F32Tensor).data.filter((_, i) => i % D === 0))).toEqual([-1, 1]);
      expect(call.feeds.encoder_hidden_states!.dims).toEqual([2, L, 3]);
    }
  });

  it('without guidance encodes the prompt alone (batch 1); 2.2 encodes nothing and feeds image embeddings only', async () => {
    const r21 = new Recorder();
    const c21 = await decoderConditioning(ctxOf('kandinsky-2.1', r21, []), 'a red cat', 'blur', 1);
    expect(c21.family === 'kandinsky-2.1' && c21.text.textEmbeds.dims).toEqual([1, D]);
    const r22 = new Recorder();
    const ctx22 = ctxOf('kandinsky-2.2', r22, [ramp(plane, 0.1)]);
    expect(await decoderConditioning(ctx22, 'a red cat', 'blur', 4)).toBe(IMAGE_ONLY);
    await runDecoder(ctx22, {
      imageEmbeds: new Float32Array(D), negativeImageEmbeds: new Float32Array(D), latentH: h, latentW: w, guidance: 4, steps: 1,
      scheduler: createScheduler(DDIM), start: { kind: 'noise' },
    });
    expect(r22.calls.map((c) => c.stage)).toEqual(['unet']);
    expect(Object.keys(r22.calls[0]!.feeds).sort()).toEqual(['image_embeds', 'sample', 'timestep']);
  });

  it('img2img: latent_timestep = int(1000 × strength) − 2 (−1 wraps), noised with linspace(0.0001, 0.02) betas', async () => {
    expect(kandinsky21LatentTimestep(0.5)).toBe(498);
    expect(kandinsky21LatentTimestep(0.3)).toBe(298);
    expect(kandinsky21LatentTimestep(0.001)).toBe(999);
    expect(kandinsky21LatentTimestep(0)).toBe(998);
    // sqrt(ᾱ_t) and sqrt(1 − ᾱ_t) from torch (cumprod of 1 − torch.linspace(0.0001, 0.02, 1000), float32), to a
    // float32 ulp or two (torch's CPU cumprod and pow round differently in the last bit).
    for (const [t, a, s] of [[0, 0.9999499917030334, 0.010000829584896564], [498, 0.2817521393299103, 0.95948725938797], [999, 0.006352818571031094, 0.9999798536300659]] as const) {
      const [x] = kandinsky21AddNoise(new Float32Array([1]), new Float32Array([0]), t);
      const [n] = kandinsky21AddNoise(new Float32Array([0]), new Float32Array([1]), t);
      expect(Math.abs(x! - a)).toBeLessThan(2.5e-7);
      expect(Math.abs(n! - s)).toBeLessThan(2.5e-7);
    }
    const image = ramp(plane, 0.05);
    const noise = ramp(plane, -0.07);
    const runner = new Recorder();
    const ctx = ctxOf('kandinsky-2.1', runner, [noise]);
    const text = await decoderConditioning(ctx, 'a red cat', '', 4);
    const r = await runDecoder(ctx, {
      conditioning: text, imageEmbeds: new Float32Array(D), negativeImageEmbeds: new Float32Array(D), latentH: h, latentW: w,
      guidance: 4, steps: 10, scheduler: createScheduler(DDIM), start: { kind: 'image', imageLatents: image, strength: 0.5 },
    });
    expect(r.latentTimestep).toBe(498);
    expect(r.timesteps).toEqual([401, 301, 201, 101, 1]); // the last int(10 × 0.5) of the schedule
    const first = runner.calls.find((c) => c.stage === 'unet')!.feeds.sample as F32Tensor;
    expect(Array.from(first.data.subarray(0, plane))).toEqual(Array.from(kandinsky21AddNoise(image, noise, 498)));
  });

  it('inpainting: 2.1 never resets the kept region between steps, 2.2 does', async () => {
    const image = ramp(plane, 0.05);
    const keepMask = new Float32Array([1, 1, 0, 0]);
    const run = async (conditioning: DecoderConditioning, runner: Recorder, ctx: PipelineContext) => runDecoder(ctx, {
      conditioning, imageEmbeds: new Float32Array(D), negativeImageEmbeds: new Float32Array(D), latentH: h, latentW: w,
      guidance: 4, steps: 3, scheduler: createScheduler(DDIM), start: { kind: 'inpaint', imageLatents: image, keepMask }, record: true,
    }).then((r) => ({ r, samples: runner.calls.filter((c) => c.stage === 'unet_inpaint').map((c) => c.feeds.sample as F32Tensor) }));
    const r21 = new Recorder();
    const ctx21 = ctxOf('kandinsky-2.1', r21, [ramp(plane, 0.1)]);
    const a = await run(await decoderConditioning(ctx21, 'p', '', 4), r21, ctx21);
    const r22 = new Recorder();
    const b = await run(IMAGE_ONLY, r22, ctxOf('kandinsky-2.2', r22, [ramp(plane, 0.1)]));
    // The UNet input is concat(latents, masked image, keep-mask) in both.
    expect(Array.from(a.samples[0]!.data.subarray(2 * plane, 2 * plane + h * w))).toEqual([1, 1, 0, 0]);
    // 2.2 ends with the plain image latents in the kept cells; 2.1 leaves them to the loop.
    const kept = (lat: Float32Array | null) => [0, 1, 4, 5, 8, 9, 12, 13].map((i) => lat?.[i]);
    expect(kept(b.r.latents)).toEqual(kept(image));
    expect(kept(a.r.latents)).not.toEqual(kept(image));
    // Repainted cells follow the same loop in both until the kept cells differ (step 1 onwards).
    expect(a.r.steps[0]!.latents[2]).toBeCloseTo(b.r.steps[0]!.latents[2]!, 6);
  });
});
