// Its own file: the failed run grows this process's wasm heap to about 2.5 GB, which wasm never gives back.
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { f32 } from '../tensor/tensor.ts';
import { tinyBundleSource } from '../testing/tiny-bundle.ts';
import { loadBundle } from './bundle.ts';
import { createRuntime, outOfMemoryError } from './ort.ts';

const unetFeeds = (side: number) => ({
  sample: f32(new Float32Array(2 * 4 * side * side), [2, 4, side, side]),
  timestep: f32(new Float32Array([999, 999]), [2]),
  image_embeds: f32(new Float32Array(2 * 32), [2, 32]),
});

describe('onnxruntime allocation failures', () => {
  it('a UNet run past wasm memory (1024², CFG batch 2) is OUT_OF_MEMORY with a readable message, and the runtime keeps serving', async () => {
    const runtime = await createRuntime(await loadBundle(await tinyBundleSource()), { provider: 'wasm' });
    try {
      let error: unknown;
      try {
        await runtime.run('unet', unetFeeds(128));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EngineError);
      const e = error as EngineError;
      expect(e.code).toBe(ErrorCode.OutOfMemory);
      expect(e.message).toMatch(/^Stage unet ran out of memory on the CPU \(wasm\) path, whose memory is at most 4 GiB; use a smaller size or WebGPU\./);
      expect(e.message).not.toMatch(/OrtRun|ERROR_CODE/);
      const out = await runtime.run('unet', unetFeeds(8));
      expect(out.out_sample!.dims).toEqual([2, 8, 8, 8]);
    } finally {
      await runtime.dispose();
    }
  });

  it('only allocation failures are mapped', () => {
    const safeInt = 'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: onnxruntime/core/common/safeint.h:17 static void '
      + 'SafeIntExceptionHandler<onnxruntime::OnnxRuntimeException>::SafeIntOnOverflow() Integer overflow';
    expect(outOfMemoryError('movq_decoder', 'm.onnx', 'wasm', 'latents float32[1,4,200,200]', safeInt)?.code).toBe(ErrorCode.OutOfMemory);
    expect(outOfMemoryError('unet', 'u.onnx', 'webgpu', 'x', 'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded')?.message)
      .toMatch(/ran out of memory on the GPU; use a smaller size/);
    expect(outOfMemoryError('unet', 'u.onnx', 'wasm', 'x', 'Got invalid dimensions for input: sample')).toBeNull();
  });
});
