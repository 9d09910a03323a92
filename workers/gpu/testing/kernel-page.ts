/** Loaded into Chromium by kernel.browser.test.ts: the real WGSL step against the TypeScript schedulers. */
import { floatBuffer, readFloats, StepKernel } from '../step-kernel.ts';
import { compareKernel } from './kernel-cases.ts';

/** Max |GPU − reference| per case, on this browser's WebGPU (SwiftShader in tests); WGSL validation errors throw. */
export async function runKernelCases(): Promise<Record<string, number>> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  try {
    return await compareKernel(async (state, params) => {
      const { shape } = state;
      const pred = floatBuffer(device, 'pred', shape.batch * shape.outChannels * shape.hw);
      const latents = floatBuffer(device, 'latents', state.latents);
      const sample = floatBuffer(device, 'sample', state.sample);
      const noise = floatBuffer(device, 'noise', state.noise);
      const kept = floatBuffer(device, 'kept', state.kept);
      const kernel = new StepKernel(device, shape, { pred, latents, sample, noise, kept }, params);
      return {
        async run(i) {
          device.pushErrorScope('validation');
          device.queue.writeBuffer(pred, 0, state.pred);
          device.queue.writeBuffer(latents, 0, state.latents);
          kernel.run(i);
          const error = await device.popErrorScope();
          if (error) throw new Error(`step ${i}: ${error.message}`);
          return {
            latents: await readFloats(device, latents, shape.plane),
            sample: await readFloats(device, sample, state.sample.length),
            x0: await readFloats(device, kernel.history, shape.plane),
          };
        },
        dispose() {
          kernel.destroy();
          for (const b of [pred, latents, sample, noise, kept]) b.destroy();
        },
      };
    });
  } finally {
    device.destroy();
  }
}
