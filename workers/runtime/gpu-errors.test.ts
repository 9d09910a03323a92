import { describe, expect, it } from 'vitest';
import { watchGpuErrors, type ErrorReportingDevice } from './gpu-errors.ts';

/** A device whose errors the test raises the way WebGPU does: as events, after the work is submitted. */
function fakeDevice() {
  const listeners: ((event: GPUUncapturedErrorEvent) => void)[] = [];
  let pending: (() => void)[] = [];
  const device: ErrorReportingDevice = {
    addEventListener: (_type, listener) => { listeners.push(listener); },
    // The work-done reply comes after the error events queued before it, as on Chromium's wire.
    queue: { onSubmittedWorkDone: () => new Promise<void>((resolve) => { pending.push(resolve); setTimeout(() => { for (const r of pending) r(); pending = []; }, 5); }) },
  };
  class GPUValidationError { constructor(readonly message: string) {} }
  const raise = (message: string): void => {
    const event = { type: 'uncapturederror', error: new GPUValidationError(message) } as unknown as GPUUncapturedErrorEvent;
    setTimeout(() => { for (const l of listeners) l(event); }, 0);
  };
  return { device, raise };
}

describe('watchGpuErrors', () => {
  it('collects the uncaptured errors raised before the work is done, one line each, and forgets them once taken', async () => {
    const { device, raise } = fakeDevice();
    const log = watchGpuErrors(device);
    raise("Error while parsing WGSL: :38:60 error: 'f16' type used without 'f16' extension enabled\n  @group(0) ...");
    raise('[Invalid ShaderModule "Gather"] is invalid due to a previous error.');
    expect(log.take()).toEqual([]); // not dispatched yet: why the runtime settles first
    await log.settle();
    expect(log.take()).toEqual([
      "GPUValidationError: Error while parsing WGSL: :38:60 error: 'f16' type used without 'f16' extension enabled",
      'GPUValidationError: [Invalid ShaderModule "Gather"] is invalid due to a previous error.',
    ]);
    expect(log.take()).toEqual([]);
  });

  it('a device without errors gives nothing to charge', async () => {
    const { device } = fakeDevice();
    const log = watchGpuErrors(device);
    await log.settle();
    expect(log.take()).toEqual([]);
  });
});
