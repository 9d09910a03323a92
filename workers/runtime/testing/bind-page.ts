/**
 * Loaded into Chromium by bind.browser.test.ts: bound stages (GpuStageRunner.bind) on the tiny bundle, on the native
 * WebGPU EP over SwiftShader, against host runs of the same sessions' graphs. Returns figures; the test asserts.
 */
import { EngineError } from '../../errors.ts';
import { readFloats } from '../../gpu/step-kernel.ts';
import { f32, i64 } from '../../tensor/tensor.ts';
import { loadBundle } from '../bundle.ts';
import { gpuWorkBetween } from '../gpu-work.ts';
import { createRuntime } from '../ort.ts';
import type { GpuTensor } from '../types.ts';

const wave = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(0.5 * Math.sin(i * 12.9898 + seed)));
const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), a.length === b.length ? 0 : Infinity);
const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e) => (e instanceof EngineError ? e.code : `not an EngineError: ${String(e)}`));

/** Per run of a bound UNet: the max difference from the host run on the same inputs, and what the run cost the GPU. */
export interface BoundRun { readonly diff: number; readonly writeBuffers: number; readonly uploads: number; readonly readBacks: number; readonly sameOutput: boolean }

export async function runBindCases(bundleUrl: string, graphCapture: boolean) {
  const bundle = await loadBundle({ kind: 'url', baseUrl: bundleUrl });
  const rt = await createRuntime(bundle, { provider: 'webgpu', countGpuWork: true, graphCapture });
  try {
    const B = 2, C = 4, H = 8, W = 8, D = 32, L = 77;
    const samples = [wave(B * C * H * W, 1), wave(B * C * H * W, 2), wave(B * C * H * W, 3)];
    const embeds = wave(B * D, 4);
    // The reference: host runs (ordinary session, host tensors in and out).
    const host: Float32Array[] = [];
    for (const sample of samples) {
      const out = await rt.run('unet', { sample: f32(sample, [B, C, H, W]), timestep: f32(new Float32Array([500, 500]), [B]), image_embeds: f32(embeds, [B, D]) });
      host.push(out.out_sample.data as Float32Array);
    }
    const gpu = rt.gpuRunner?.('unet');
    if (!gpu) throw new Error('no GPU door for the UNet');
    const device = await gpu.device();
    const bound = await gpu.bind('unet', { sample: [B, C, H, W], timestep: [B], image_embeds: [B, D] });
    const again = await gpu.bind('unet', { sample: [B, C, H, W], timestep: [B], image_embeds: [B, D] });
    device.queue.writeBuffer(bound.inputs.timestep!.buffer, 0, new Float32Array([500, 500]));
    device.queue.writeBuffer(bound.inputs.image_embeds!.buffer, 0, embeds);
    const runs: BoundRun[] = [];
    let first: GPUBuffer | null = null;
    for (const [i, sample] of samples.entries()) {
      device.queue.writeBuffer(bound.inputs.sample!.buffer, 0, sample);
      const before = rt.gpuWork()!;
      const out = (await bound.run()).out_sample!;
      const work = gpuWorkBetween(before, rt.gpuWork()!);
      first ??= out.buffer;
      const got = await readFloats(device, out.buffer, host[i]!.length);
      runs.push({ diff: maxDiff(got, host[i]!), writeBuffers: work.writeBuffers, uploads: work.uploads, readBacks: work.readBacks, sameOutput: out.buffer === first });
    }
    // Other shapes end the binding; so does a host run of the stage.
    const wider = await gpu.bind('unet', { sample: [B, C, H, 2 * W], timestep: [B], image_embeds: [B, D] });
    const afterRebind = await codeOf(bound.run());
    await rt.run('unet', { sample: f32(samples[0]!, [B, C, H, W]), timestep: f32(new Float32Array([500, 500]), [B]), image_embeds: f32(embeds, [B, D]) });
    const afterHostRun = await codeOf(wider.run());
    const badShape = await codeOf(gpu.bind('unet', { sample: [B, 5, H, W], timestep: [B], image_embeds: [B, D] }));

    // The prior, whose attention mask is an int64 input.
    const prior = {
      hidden_states: wave(B * D, 5), timestep: new Float32Array([500, 500]), proj_embedding: wave(B * D, 6), encoder_hidden_states: wave(B * L * D, 7),
      attention_mask: BigInt64Array.from({ length: B * L }, (_, i) => (i % L < 6 ? 1n : 0n)),
    };
    const priorHost = (await rt.run('prior', {
      hidden_states: f32(prior.hidden_states, [B, D]), timestep: f32(prior.timestep, [B]), proj_embedding: f32(prior.proj_embedding, [B, D]),
      encoder_hidden_states: f32(prior.encoder_hidden_states, [B, L, D]), attention_mask: i64(prior.attention_mask, [B, L]),
    })).predicted_image_embedding.data as Float32Array;
    const mask2 = BigInt64Array.from({ length: B * L }, (_, i) => (i % L < 13 ? 1n : 0n));
    const priorHost2 = (await rt.run('prior', {
      hidden_states: f32(prior.hidden_states, [B, D]), timestep: f32(prior.timestep, [B]), proj_embedding: f32(prior.proj_embedding, [B, D]),
      encoder_hidden_states: f32(prior.encoder_hidden_states, [B, L, D]), attention_mask: i64(mask2, [B, L]),
    })).predicted_image_embedding.data as Float32Array;
    const priorGpu = rt.gpuRunner?.('prior');
    if (!priorGpu) throw new Error('no GPU door for the prior');
    const boundPrior = await priorGpu.bind('prior', { hidden_states: [B, D], timestep: [B], proj_embedding: [B, D], encoder_hidden_states: [B, L, D], attention_mask: [B, L] });
    for (const [name, data] of Object.entries(prior)) device.queue.writeBuffer((boundPrior.inputs as Record<string, GpuTensor>)[name]!.buffer, 0, data);
    let priorDiff = 0;
    let priorReadBacks = 0;
    for (let i = 0; i < 2; i++) {
      const before = rt.gpuWork()!;
      const out = (await boundPrior.run()).predicted_image_embedding!;
      priorReadBacks = gpuWorkBetween(before, rt.gpuWork()!).readBacks;
      priorDiff = Math.max(priorDiff, maxDiff(await readFloats(device, out.buffer, priorHost.length), priorHost));
    }
    // A new run with another prompt: another attention mask written into the same binding (replays must see it).
    for (const [name, data] of Object.entries({ ...prior, attention_mask: mask2 })) device.queue.writeBuffer((boundPrior.inputs as Record<string, GpuTensor>)[name]!.buffer, 0, data);
    const out2 = (await boundPrior.run()).predicted_image_embedding!;
    const priorMaskDiff = maxDiff(await readFloats(device, out2.buffer, priorHost2.length), priorHost2);
    const masksDiffer = maxDiff(priorHost, priorHost2);
    // Batch 1 (guidance ≤ 1): the int64 mask is 616 bytes, not a multiple of 16, and ORT copies it in 16-byte units.
    const one = {
      hidden_states: prior.hidden_states.subarray(0, D), timestep: prior.timestep.subarray(0, 1), proj_embedding: prior.proj_embedding.subarray(0, D),
      encoder_hidden_states: prior.encoder_hidden_states.subarray(0, L * D), attention_mask: prior.attention_mask.subarray(0, L),
    };
    const oneHost = (await rt.run('prior', {
      hidden_states: f32(one.hidden_states, [1, D]), timestep: f32(one.timestep, [1]), proj_embedding: f32(one.proj_embedding, [1, D]),
      encoder_hidden_states: f32(one.encoder_hidden_states, [1, L, D]), attention_mask: i64(one.attention_mask, [1, L]),
    })).predicted_image_embedding.data as Float32Array;
    const boundOne = await priorGpu.bind('prior', { hidden_states: [1, D], timestep: [1], proj_embedding: [1, D], encoder_hidden_states: [1, L, D], attention_mask: [1, L] });
    for (const [name, data] of Object.entries(one)) device.queue.writeBuffer((boundOne.inputs as Record<string, GpuTensor>)[name]!.buffer, 0, data);
    const oneOut = (await boundOne.run()).predicted_image_embedding!;
    const priorBatch1Diff = maxDiff(await readFloats(device, oneOut.buffer, oneHost.length), oneHost);
    // The timestep and the mask fed from the host (what ORT reads on the CPU): no read-back for them.
    const hostFed = await priorGpu.bind('prior', { hidden_states: [B, D], timestep: [B], proj_embedding: [B, D], encoder_hidden_states: [B, L, D], attention_mask: [B, L] }, ['timestep', 'attention_mask']);
    for (const [name, t] of Object.entries(hostFed.inputs)) device.queue.writeBuffer((t as GpuTensor).buffer, 0, prior[name as keyof typeof prior]);
    const hostFeeds = { timestep: f32(prior.timestep, [B]), attention_mask: i64(prior.attention_mask, [B, L]) };
    const missingHostInput = await codeOf(hostFed.run({ timestep: hostFeeds.timestep }));
    let hostFedDiff = 0;
    let hostFedReadBacks = 0;
    for (let i = 0; i < 2; i++) {
      const before = rt.gpuWork()!;
      const out = (await hostFed.run(hostFeeds)).predicted_image_embedding!;
      hostFedReadBacks = gpuWorkBetween(before, rt.gpuWork()!).readBacks;
      hostFedDiff = Math.max(hostFedDiff, maxDiff(await readFloats(device, out.buffer, priorHost.length), priorHost));
    }
    const hostFedMask2 = (await hostFed.run({ ...hostFeeds, attention_mask: i64(mask2, [B, L]) })).predicted_image_embedding!;
    const hostFedMaskDiff = maxDiff(await readFloats(device, hostFedMask2.buffer, priorHost2.length), priorHost2);
    const priorScale = Math.max(1, ...priorHost.map(Math.abs));
    return {
      captured: bound.captured, sameBinding: again === bound, runs, afterRebind, afterHostRun, badShape, priorCaptured: boundPrior.captured, priorDiff, priorScale, priorMaskDiff, masksDiffer, priorBatch1Diff,
      priorReadBacks, hostFed: { inputs: Object.keys(hostFed.inputs).sort(), hostInputs: [...hostFed.hostInputs], diff: hostFedDiff, readBacks: hostFedReadBacks, maskDiff: hostFedMaskDiff, missingHostInput },
    };
  } finally {
    await rt.dispose();
  }
}
