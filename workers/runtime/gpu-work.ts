/**
 * Counts the work an execution provider hands a GPUDevice (issue 9 item 5): compute dispatches per
 * kernel, writeBuffer traffic, uploads, read-backs and submits. It wraps the device's methods, so it
 * works wherever WebGPU does (Chromium + SwiftShader, Node + Dawn) and needs no GPU timer. For
 * benchmarks: the runtime installs it only when asked (`RuntimeOptions.countGpuWork`).
 */

/** Totals since the counter was installed; subtract two snapshots for one run's share. */
export interface GpuWorkCounts {
  /** Compute dispatches (direct and indirect). */
  readonly dispatches: number;
  /** Dispatches of layout transposes (kernels named Transpose). */
  readonly transposes: number;
  /** Dispatches of DequantizeLinear kernels (weights expanded on every run). */
  readonly dequantizes: number;
  /** queue.writeBuffer calls and their bytes (uniforms, small inputs). */
  readonly writeBuffers: number;
  readonly writeBufferBytes: number;
  /** Buffers created mapped for upload (how both ORT builds copy host tensors in) and their bytes. */
  readonly uploads: number;
  readonly uploadBytes: number;
  /** Buffers mapped for reading (GPU → host copies). */
  readonly readBacks: number;
  readonly readBackBytes: number;
  /** queue.submit calls. */
  readonly submits: number;
  /** Dispatches per kernel, keyed by the pipeline's label (ORT names programs after their op). */
  readonly kernels: Readonly<Record<string, number>>;
}

/** GPU buffer memory: bytes of the buffers created and not yet destroyed, and the most at once. */
export interface GpuMemory {
  readonly liveBytes: number;
  readonly peakBytes: number;
}

/** Reads the counter. */
export interface GpuWorkCounter {
  snapshot(): GpuWorkCounts;
  /** Buffer memory now, and its peak since the counter was installed or since the last `resetPeak`. */
  memory(): GpuMemory;
  /** Start a new peak from the bytes live now. */
  resetPeak(): void;
}

const TRANSPOSE = /transpose/i;
const DEQUANTIZE = /dequantize/i;
// GPUMapMode.READ, GPUBufferUsage.MAP_READ: numeric so this module loads where the globals are absent.
const MAP_READ = 1;

/** One run's share: `after` minus `before`, kernels included. */
export function gpuWorkBetween(before: GpuWorkCounts, after: GpuWorkCounts): GpuWorkCounts {
  const kernels: Record<string, number> = {};
  for (const [k, n] of Object.entries(after.kernels)) {
    const d = n - (before.kernels[k] ?? 0);
    if (d !== 0) kernels[k] = d;
  }
  return {
    dispatches: after.dispatches - before.dispatches,
    transposes: after.transposes - before.transposes,
    dequantizes: after.dequantizes - before.dequantizes,
    writeBuffers: after.writeBuffers - before.writeBuffers,
    writeBufferBytes: after.writeBufferBytes - before.writeBufferBytes,
    uploads: after.uploads - before.uploads,
    uploadBytes: after.uploadBytes - before.uploadBytes,
    readBacks: after.readBacks - before.readBacks,
    readBackBytes: after.readBackBytes - before.readBackBytes,
    submits: after.submits - before.submits,
    kernels,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Byte length of writeBuffer's data argument (typed arrays count dataOffset/size in elements). */
function writeBytes(data: unknown, dataOffset?: number, size?: number): number {
  const view = ArrayBuffer.isView(data) ? data : null;
  const unit = view && !(view instanceof DataView) ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
  if (size !== undefined) return size * unit;
  const total = view ? view.byteLength : (data as ArrayBuffer).byteLength;
  return total - (dataOffset ?? 0) * unit;
}

/** Wraps `device` (and its queue, encoders and passes) so that every call is counted. Idempotent. */
export function countGpuWork(device: GPUDevice): GpuWorkCounter {
  const existing = counters.get(device);
  if (existing) return existing;
  const c: Mutable<Omit<GpuWorkCounts, 'kernels'>> = {
    dispatches: 0, transposes: 0, dequantizes: 0, writeBuffers: 0, writeBufferBytes: 0,
    uploads: 0, uploadBytes: 0, readBacks: 0, readBackBytes: 0, submits: 0,
  };
  const kernels = new Map<string, number>();
  const pipelineNames = new WeakMap<object, string>();
  const moduleNames = new WeakMap<object, string>();

  const nameOf = (d: GPUComputePipelineDescriptor): string =>
    d.label || moduleNames.get(d.compute.module) || d.compute.module.label || 'unlabelled';
  const dispatched = (pipeline: object | null): void => {
    const name = (pipeline && pipelineNames.get(pipeline)) || 'unlabelled';
    c.dispatches++;
    if (TRANSPOSE.test(name)) c.transposes++;
    if (DEQUANTIZE.test(name)) c.dequantizes++;
    kernels.set(name, (kernels.get(name) ?? 0) + 1);
  };

  const createShaderModule = device.createShaderModule.bind(device);
  device.createShaderModule = (d) => {
    const m = createShaderModule(d);
    if (d.label) moduleNames.set(m, d.label);
    return m;
  };
  const createComputePipeline = device.createComputePipeline.bind(device);
  device.createComputePipeline = (d) => {
    const p = createComputePipeline(d);
    pipelineNames.set(p, nameOf(d));
    return p;
  };
  const createComputePipelineAsync = device.createComputePipelineAsync.bind(device);
  device.createComputePipelineAsync = async (d) => {
    const p = await createComputePipelineAsync(d);
    pipelineNames.set(p, nameOf(d));
    return p;
  };
  // Read-backs are mapAsync(READ) on MAP_READ buffers: wrap theirs when they are made.
  const watchReads = (buffer: GPUBuffer): void => {
    const original = buffer.mapAsync.bind(buffer);
    buffer.mapAsync = (mode, offset, size) => {
      if ((mode & MAP_READ) !== 0) {
        c.readBacks++;
        c.readBackBytes += size ?? buffer.size - (offset ?? 0);
      }
      return original(mode, offset, size);
    };
  };
  // Memory: every buffer's size from creation until its (first) destroy; a buffer only garbage-collected stays counted.
  let liveBytes = 0;
  let peakBytes = 0;
  const track = (buffer: GPUBuffer, size: number): void => {
    liveBytes += size;
    peakBytes = Math.max(peakBytes, liveBytes);
    const destroy = buffer.destroy.bind(buffer);
    let destroyed = false;
    buffer.destroy = () => {
      if (!destroyed) liveBytes -= size;
      destroyed = true;
      destroy();
    };
  };
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (d) => {
    const b = createBuffer(d);
    track(b, d.size);
    if ((d.usage & MAP_READ) !== 0) {
      watchReads(b);
    } else if (d.mappedAtCreation) {
      c.uploads++;
      c.uploadBytes += d.size;
    }
    return b;
  };

  const createCommandEncoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (d) => {
    const encoder = createCommandEncoder(d);
    const beginComputePass = encoder.beginComputePass.bind(encoder);
    encoder.beginComputePass = (pd) => {
      const pass = beginComputePass(pd);
      let current: object | null = null;
      const setPipeline = pass.setPipeline.bind(pass);
      pass.setPipeline = (p) => {
        current = p;
        setPipeline(p);
      };
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x, y, z) => {
        dispatched(current);
        dispatch(x, y, z);
      };
      const dispatchIndirect = pass.dispatchWorkgroupsIndirect.bind(pass);
      pass.dispatchWorkgroupsIndirect = (b, o) => {
        dispatched(current);
        dispatchIndirect(b, o);
      };
      return pass;
    };
    return encoder;
  };

  const queue = device.queue;
  const writeBuffer = queue.writeBuffer.bind(queue);
  queue.writeBuffer = ((buffer: GPUBuffer, offset: number, data: BufferSource, dataOffset?: number, size?: number) => {
    c.writeBuffers++;
    c.writeBufferBytes += writeBytes(data, dataOffset, size);
    writeBuffer(buffer, offset, data, dataOffset, size);
  }) as GPUQueue['writeBuffer'];
  const submit = queue.submit.bind(queue);
  queue.submit = (buffers) => {
    c.submits++;
    submit(buffers);
  };

  const counter: GpuWorkCounter = {
    snapshot: () => ({ ...c, kernels: Object.fromEntries(kernels) }),
    memory: () => ({ liveBytes, peakBytes }),
    resetPeak: () => { peakBytes = liveBytes; },
  };
  counters.set(device, counter);
  return counter;
}

const counters = new WeakMap<GPUDevice, GpuWorkCounter>();
