import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleDirBytes } from '../testing/bundle-dir.ts';
import { withNavigatorGpu } from '../testing/fake-gpu.ts';
import { i64 } from '../tensor/tensor.ts';
import { loadBundle } from './bundle.ts';
import { createRuntime } from './ort.ts';

// Its own file: an ORT module keeps the first adapter's GPU state for good (ort.ts gpuStateFor), so this test
// needs a module no other WebGPU test has touched.
describe('the device a WebGPU session asks for', () => {
  it('has no subgroups where the adapter says they can be 4 lanes wide (SwiftShader)', async () => {
    const requested: string[][] = [];
    const fakeAdapter = {
      features: new Set(['shader-f16', 'subgroups', 'timestamp-query']),
      limits: {},
      info: { vendor: 'google', subgroupMinSize: 4, subgroupMaxSize: 4 },
      requestDevice: async (descriptor?: GPUDeviceDescriptor) => {
        requested.push([...(descriptor?.requiredFeatures ?? [])]);
        throw new Error('no real GPU in this test');
      },
    };
    await withNavigatorGpu({ requestAdapter: async () => fakeAdapter }, async () => {
      const dir = fileURLToPath(new URL('../../public/models/tiny-kandinsky-2-2/', import.meta.url));
      const rt = await createRuntime(await loadBundle({ kind: 'files', files: bundleDirBytes(dir) }), { provider: 'webgpu' });
      try {
        const ids = i64(new BigInt64Array(77), [1, 77]);
        await expect(rt.run('text_encoder', { input_ids: ids })).rejects.toThrow(/no real GPU/);
        expect(requested).toEqual([['shader-f16', 'timestamp-query']]);
      } finally {
        await rt.dispose();
      }
    });
  });
});
