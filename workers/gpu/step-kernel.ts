/**
 * The denoising step on the GPU (issue 9 item 2): one WGSL compute dispatch per UNet step does classifier-free
 * guidance, the scheduler update, Kandinsky 2.2's inpainting reset and writes the next UNet input.
 *
 * Why WGSL on ORT's own device rather than small ONNX graphs: the update is one element-wise expression whose
 * coefficients change every step (DPM-Solver++ also switches order). As ONNX graphs that is a session per scheduler,
 * a dozen element-wise kernels per step (each with ORT's per-dispatch uniform write) and the coefficients as tiny
 * per-step uploads; here it is one dispatch, and every step's coefficients go up once per run (dynamic offsets into
 * one uniform buffer). The math is the schedulers' own: they hand out their step as coefficients (`linearStep`, see
 * schedulers/types.ts), computed with the same float32 scalars as their step(), which stays the reference.
 */
import type { LinearStep } from '../schedulers/types.ts';
import { GPU_TENSOR_USAGE, gpuTensorBytes } from '../runtime/types.ts';

/** What the kernel's buffers hold: one image's latent grid and the UNet batch around it. */
export interface StepShape {
  /** Latent channels × h × w. */
  readonly plane: number;
  /** h × w (the inpainting mask's size). */
  readonly hw: number;
  /** UNet batch: 2 under guidance (unconditional first), else 1. */
  readonly batch: number;
  /** Channels of the UNet input (C, or 2C + 1 for inpainting) and of its output (2C: ε, then the variance). */
  readonly inChannels: number;
  readonly outChannels: number;
}

/** One step's work beyond the scheduler update. */
export interface StepExtras {
  readonly guidance: number;
  /** Offset (elements) of this step's noise in the noise buffer (steps that draw noise). */
  readonly noiseOffset: number;
  /** Kandinsky 2.2 inpainting: reset the kept region to keepAlpha·image latents + keepSigma·initial noise. */
  readonly reset: { readonly keepAlpha: number; readonly keepSigma: number } | null;
}

const PREDICTIONS = { epsilon: 0, sample: 1, v_prediction: 2 } as const satisfies Record<LinearStep['prediction'], number>;
const FLAG_CFG = 1;
const FLAG_RESET = 4;
/** WGSL has no infinity literal and may assume finite math: an unclipped x̂_0 gets this bound instead. */
const NO_CLIP = 3.0e38;
/** Bytes per step in the parameter buffer (minUniformBufferOffsetAlignment is at most 256). */
export const STEP_STRIDE = 256;
const WORKGROUP = 64;

/** The kernel. m = guided ε (or x0 / v), x = latents; see LinearStep for the update and decoder.ts for the host loop it mirrors. */
export const STEP_WGSL = /* wgsl */ `
struct Shape { plane: u32, hw: u32, batch: u32, sampleStride: u32, predStride: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Step {
  guidance: f32, alpha: f32, sigma: f32, clip: f32,
  cSample: f32, cX0: f32, cEps: f32, cNoise: f32,
  cHistory: f32, keepAlpha: f32, keepSigma: f32, noiseOffset: u32,
  prediction: u32, flags: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> pred: array<f32>;
@group(0) @binding(3) var<storage, read_write> latents: array<f32>;
@group(0) @binding(4) var<storage, read_write> sample: array<f32>;
// The last step's x̂_0: the next step's history (multistep solvers) and the live preview's estimate.
@group(0) @binding(5) var<storage, read_write> history: array<f32>;
@group(0) @binding(6) var<storage, read> noise: array<f32>;
// Inpainting: image latents [plane], initial noise [plane], keep-mask [hw].
@group(0) @binding(7) var<storage, read> kept: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let k = id.x;
  if (k >= shape.plane) { return; }
  // Classifier-free guidance on the predicted channels: uncond + g·(cond − uncond) (SPEC §3).
  var m = pred[k];
  if ((step.flags & ${FLAG_CFG}u) != 0u) { m = m + step.guidance * (pred[shape.predStride + k] - m); }
  let x = latents[k];
  var x0: f32;
  var eps: f32;
  switch step.prediction {
    case ${PREDICTIONS.epsilon}u: { x0 = (x - step.sigma * m) / step.alpha; eps = m; }
    case ${PREDICTIONS.sample}u: { x0 = m; eps = (x - step.alpha * m) / step.sigma; }
    default: { x0 = step.alpha * x - step.sigma * m; eps = step.alpha * m + step.sigma * x; }
  }
  x0 = clamp(x0, -step.clip, step.clip);
  var out = step.cSample * x + step.cX0 * x0 + step.cEps * eps;
  if (step.cNoise != 0.0) { out = out + step.cNoise * noise[step.noiseOffset + k]; }
  if (step.cHistory != 0.0) { out = out + step.cHistory * (x0 - history[k]); }
  history[k] = x0;
  if ((step.flags & ${FLAG_RESET}u) != 0u) {
    let keep = kept[2u * shape.plane + k % shape.hw];
    let proper = step.keepAlpha * kept[k] + step.keepSigma * kept[shape.plane + k];
    out = keep * proper + (1.0 - keep) * out;
  }
  latents[k] = out;
  // The next UNet input: these latents in every batch entry (its other channels are constant per run).
  for (var b = 0u; b < shape.batch; b = b + 1u) { sample[b * shape.sampleStride + k] = out; }
}
`;

/** Pack one step's parameters as the kernel's `Step` struct (64 bytes). */
export function packStep(ls: LinearStep, extras: StepExtras, shape: StepShape): ArrayBuffer {
  const buf = new ArrayBuffer(64);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  f.set([
    extras.guidance, ls.alpha, ls.sigma, Number.isFinite(ls.clip) ? ls.clip : NO_CLIP,
    ls.cSample, ls.cX0, ls.cEps, ls.cNoise,
    ls.cHistory, extras.reset?.keepAlpha ?? 0, extras.reset?.keepSigma ?? 0,
  ]);
  u[11] = extras.noiseOffset;
  u[12] = PREDICTIONS[ls.prediction];
  u[13] = (shape.batch === 2 ? FLAG_CFG : 0) | (extras.reset ? FLAG_RESET : 0);
  return buf;
}

// GPUBufferUsage flags as numbers: this module loads where the globals are absent.
const COPY_DST = 0x08;
const UNIFORM = 0x40;

/** A float32 buffer of `data` (or zeros of `length`), written once. */
export function floatBuffer(device: GPUDevice, label: string, data: Float32Array | number, usage = GPU_TENSOR_USAGE): GPUBuffer {
  const length = typeof data === 'number' ? data : data.length;
  // WebGPU rejects zero-sized bindings; ORT copies tensors in 16-byte multiples.
  const buffer = device.createBuffer({ label, size: gpuTensorBytes(length * 4), usage });
  if (typeof data !== 'number' && data.length > 0) device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();
const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

/** The kernel's pipeline, compiled once per device; binding 1 (the step's parameters) takes a dynamic offset. */
function pipelineOf(device: GPUDevice): GPUComputePipeline {
  let p = pipelines.get(device);
  if (!p) {
    const kinds = ['uniform', 'uniform', 'read-only-storage', 'storage', 'storage', 'storage', 'read-only-storage', 'read-only-storage'] as const;
    const layout = device.createBindGroupLayout({
      label: 'DenoiseStep',
      entries: kinds.map((type, binding) => ({ binding, visibility: COMPUTE, buffer: { type, hasDynamicOffset: binding === 1 } })),
    });
    const module = device.createShaderModule({ label: 'DenoiseStep', code: STEP_WGSL });
    p = device.createComputePipeline({
      label: 'DenoiseStep', layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' },
    });
    pipelines.set(device, p);
  }
  return p;
}

/** The buffers one run's steps bind: what ORT reads and writes, and the kernel's own state. */
export interface StepBuffers {
  /** UNet output [batch, outChannels, h, w]. */
  readonly pred: GPUBuffer;
  /** Latents [C, h, w]. */
  readonly latents: GPUBuffer;
  /** UNet input [batch, inChannels, h, w]. */
  readonly sample: GPUBuffer;
  /** Every step's noise, in draw order (DDPM); otherwise a minimal unused buffer (every binding needs one). */
  readonly noise: GPUBuffer;
  /** Inpainting reset data; otherwise a minimal unused buffer (every binding needs one). */
  readonly kept: GPUBuffer;
  /**
   * A bound UNet's one timestep input and every step's timestep (`bytes` each, in order): after step i the kernel's
   * submit also copies step i + 1's into it (GPU to GPU), so a replayed graph reads the right one.
   */
  readonly timesteps?: { readonly input: GPUBuffer; readonly table: GPUBuffer; readonly bytes: number; readonly steps: number };
}

/**
 * The step kernel bound to one run's buffers, with every step's parameters uploaded at creation (one
 * writeBuffer per run). `encode(i)` records step i; the caller submits.
 */
export class StepKernel {
  private readonly params: GPUBuffer;
  private readonly shapeBuffer: GPUBuffer;
  /** Every step's x̂_0 [plane] (clipped as the scheduler clips it): the next step's history, and what a preview reads. */
  readonly history: GPUBuffer;
  private bindGroup: GPUBindGroup;
  private entries: GPUBindGroupEntry[];
  private pred: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;
  private readonly timesteps: StepBuffers['timesteps'];

  constructor(private readonly device: GPUDevice, private readonly shape: StepShape, buffers: StepBuffers, steps: readonly ArrayBuffer[]) {
    this.pipeline = pipelineOf(device);
    this.timesteps = buffers.timesteps;
    const all = new Uint8Array(Math.max(1, steps.length) * STEP_STRIDE);
    steps.forEach((s, i) => all.set(new Uint8Array(s), i * STEP_STRIDE));
    this.params = device.createBuffer({ label: 'DenoiseStep params', size: all.byteLength, usage: UNIFORM | COPY_DST });
    device.queue.writeBuffer(this.params, 0, all);
    const s = shape;
    const shapeWords = new Uint32Array([s.plane, s.hw, s.batch, s.inChannels * s.hw, s.outChannels * s.hw, 0, 0, 0]);
    this.shapeBuffer = device.createBuffer({ label: 'DenoiseStep shape', size: shapeWords.byteLength, usage: UNIFORM | COPY_DST });
    device.queue.writeBuffer(this.shapeBuffer, 0, shapeWords);
    // A GPU tensor's usage: the preview's MoVQ decode reads it as ORT input, estimate() copies it out.
    this.history = floatBuffer(device, 'DenoiseStep history', s.plane);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.shapeBuffer } },
      { binding: 1, resource: { buffer: this.params, size: 64 } },
      { binding: 2, resource: { buffer: buffers.pred } },
      { binding: 3, resource: { buffer: buffers.latents } },
      { binding: 4, resource: { buffer: buffers.sample } },
      { binding: 5, resource: { buffer: this.history } },
      { binding: 6, resource: { buffer: buffers.noise } },
      { binding: 7, resource: { buffer: buffers.kept } },
    ];
    this.entries = entries;
    this.pred = buffers.pred;
    this.bindGroup = device.createBindGroup({ label: 'DenoiseStep', layout: this.pipeline.getBindGroupLayout(0), entries });
  }

  /** Read the UNet output from `pred` from now on (a bound stage's output buffer can change between runs). */
  usePred(pred: GPUBuffer): void {
    if (pred === this.pred) return;
    this.pred = pred;
    this.entries = this.entries.map((e) => (e.binding === 2 ? { binding: 2, resource: { buffer: pred } } : e));
    this.bindGroup = this.device.createBindGroup({ label: 'DenoiseStep', layout: this.pipeline.getBindGroupLayout(0), entries: this.entries });
  }

  /** Record step i's dispatch into `encoder` (and the next step's timestep copy, where given). */
  encode(encoder: GPUCommandEncoder, i: number): void {
    const pass = encoder.beginComputePass({ label: 'DenoiseStep' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup, [i * STEP_STRIDE]);
    pass.dispatchWorkgroups(Math.ceil(this.shape.plane / WORKGROUP));
    pass.end();
    const t = this.timesteps;
    if (t && i + 1 < t.steps) encoder.copyBufferToBuffer(t.table, (i + 1) * t.bytes, t.input, 0, t.bytes);
  }

  /** Submit step i alone. */
  run(i: number): void {
    const encoder = this.device.createCommandEncoder({ label: 'DenoiseStep' });
    this.encode(encoder, i);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Free the kernel's own buffers (the caller's stay). */
  destroy(): void {
    this.params.destroy();
    this.shapeBuffer.destroy();
    this.history.destroy();
  }
}

/** Copy `length` floats of a buffer to the host (one read-back). */
export async function readFloats(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const bytes = length * 4;
  const staging = device.createBuffer({ label: 'read-back', size: bytes, usage: 0x01 /* MAP_READ */ | COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: 'read-back' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(0x01 /* GPUMapMode.READ */);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}
