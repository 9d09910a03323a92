import { describe, expect, it } from 'vitest';
import { countGpuWork, gpuWorkBetween } from './gpu-work.ts';

/**
 * A minimal object with GPUDevice's call surface (no WebGPU in Node unit tests): it records what
 * reaches it, so the test sees that the counter both counts and passes every call on unchanged.
 */
function recordingDevice() {
  const reached: string[] = [];
  const buffer = (d: GPUBufferDescriptor) => ({
    size: d.size,
    destroy: () => { reached.push(`destroy ${d.size}`); },
    mapAsync: async (mode: number) => { reached.push(`mapAsync ${mode}`); },
  });
  const device = {
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({ label: d.label ?? '' }),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => ({ label: d.label ?? '' }),
    createComputePipelineAsync: async (d: GPUComputePipelineDescriptor) => ({ label: d.label ?? '' }),
    createBuffer: (d: GPUBufferDescriptor) => buffer(d),
    createCommandEncoder: () => ({
      beginComputePass: () => ({
        setPipeline: () => { reached.push('setPipeline'); },
        dispatchWorkgroups: (x: number) => { reached.push(`dispatch ${x}`); },
        dispatchWorkgroupsIndirect: () => { reached.push('dispatchIndirect'); },
      }),
    }),
    queue: {
      writeBuffer: (_b: unknown, _o: number, data: ArrayBufferView | ArrayBuffer) => { reached.push(`write ${data.byteLength}`); },
      submit: (b: unknown[]) => { reached.push(`submit ${b.length}`); },
    },
  };
  return { device: device as unknown as GPUDevice, reached };
}

describe('countGpuWork', () => {
  it('counts dispatches per kernel label, transposes, dequantizes, writes, uploads, read-backs and submits', async () => {
    const { device, reached } = recordingDevice();
    const counter = countGpuWork(device);
    expect(countGpuWork(device)).toBe(counter); // one counter per device
    const start = counter.snapshot();

    const conv = device.createComputePipeline({ label: 'Conv', layout: 'auto', compute: { module: device.createShaderModule({ code: '' }) } });
    // Unlabelled pipeline: the name comes from its shader module's label.
    const transpose = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: '', label: 'Transpose' }) } });
    const dq = await device.createComputePipelineAsync({ label: 'DequantizeLinear', layout: 'auto', compute: { module: device.createShaderModule({ code: '' }) } });
    const pass = device.createCommandEncoder().beginComputePass();
    pass.setPipeline(conv);
    pass.dispatchWorkgroups(4);
    pass.dispatchWorkgroups(8);
    pass.setPipeline(transpose);
    pass.dispatchWorkgroups(1);
    pass.setPipeline(dq);
    pass.dispatchWorkgroupsIndirect({} as GPUBuffer, 0);

    const target = device.createBuffer({ size: 64, usage: 0x80 });
    device.queue.writeBuffer(target, 0, new Float32Array(10), 2, 4); // 4 elements = 16 bytes
    device.queue.writeBuffer(target, 0, new Uint8Array(24));
    device.createBuffer({ size: 256, usage: 0x04, mappedAtCreation: true }); // an upload
    const readback = device.createBuffer({ size: 128, usage: 0x01 | 0x08 });
    await readback.mapAsync(1);
    device.queue.submit([]);

    const w = gpuWorkBetween(start, counter.snapshot());
    expect(w).toEqual({
      dispatches: 4, transposes: 1, dequantizes: 1, writeBuffers: 2, writeBufferBytes: 40,
      uploads: 1, uploadBytes: 256, readBacks: 1, readBackBytes: 128, submits: 1,
      kernels: { Conv: 2, Transpose: 1, DequantizeLinear: 1 },
    });
    // Every call still reached the device, with its arguments.
    expect(reached).toEqual(['setPipeline', 'dispatch 4', 'dispatch 8', 'setPipeline', 'dispatch 1', 'setPipeline', 'dispatchIndirect',
      'write 40', 'write 24', 'mapAsync 1', 'submit 0']);
  });

  it('gives one run its own share: a second run counts from the first snapshot', () => {
    const { device } = recordingDevice();
    const counter = countGpuWork(device);
    const p = device.createComputePipeline({ label: 'Add', layout: 'auto', compute: { module: device.createShaderModule({ code: '' }) } });
    const run = () => {
      const pass = device.createCommandEncoder().beginComputePass();
      pass.setPipeline(p);
      pass.dispatchWorkgroups(1);
      device.queue.submit([]);
    };
    run();
    const after1 = counter.snapshot();
    run();
    run();
    const w = gpuWorkBetween(after1, counter.snapshot());
    expect(w.dispatches).toBe(2);
    expect(w.submits).toBe(2);
    expect(w.kernels).toEqual({ Add: 2 });
  });

  it('tracks live buffer bytes until destroy (once per buffer) and their peak, which resetPeak restarts', () => {
    const { device, reached } = recordingDevice();
    const counter = countGpuWork(device);
    const a = device.createBuffer({ size: 1000, usage: 0x80 });
    const b = device.createBuffer({ size: 24, usage: 0x01 | 0x08 });
    expect(counter.memory()).toEqual({ liveBytes: 1024, peakBytes: 1024 });
    a.destroy();
    a.destroy();
    expect(counter.memory()).toEqual({ liveBytes: 24, peakBytes: 1024 });
    expect(reached).toEqual(['destroy 1000', 'destroy 1000']); // each call still reaches the buffer
    counter.resetPeak();
    device.createBuffer({ size: 100, usage: 0x80 }).destroy();
    b.destroy();
    expect(counter.memory()).toEqual({ liveBytes: 0, peakBytes: 124 });
  });
});
