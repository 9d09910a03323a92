/**
 * WebGPU errors nobody captured. An invalid shader, pipeline or bind group is reported only as a GPUDevice
 * 'uncapturederror' event, asynchronously, and the work it invalidates simply does not happen: a run still
 * returns outputs (zeros, or stale memory). The JSEP build's f16 shaders on a device without shader-f16 gave
 * all-zero outputs, hence grey pictures, this way (tools/eval/README.md). The runtime charges such errors to
 * the run they happened in and fails it.
 */

/** The part of GPUDevice this needs. */
export interface ErrorReportingDevice {
  addEventListener(type: 'uncapturederror', listener: (event: GPUUncapturedErrorEvent) => void): void;
  readonly queue: { onSubmittedWorkDone(): Promise<undefined | void> };
}

export interface GpuErrorLog {
  /** Wait until the device has finished the work submitted so far and its error events have been dispatched. */
  settle(): Promise<void>;
  /** The errors since the last take (one line each, "GPUValidationError: message"), and forget them. */
  take(): string[];
}

/** Starts listening to a device's uncaptured errors. */
export function watchGpuErrors(device: ErrorReportingDevice): GpuErrorLog {
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const error = event.error;
    const kind = error?.constructor?.name && error.constructor.name !== 'Object' ? error.constructor.name : 'GPUError';
    errors.push(`${kind}: ${String(error?.message ?? 'unknown error').split('\n')[0]}`);
  });
  return {
    async settle() {
      await device.queue.onSubmittedWorkDone();
      // Chromium dispatches the events as tasks; let those queued with the work-done reply run first.
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    take: () => errors.splice(0),
  };
}
