import type { Result } from './protocol.ts';

/** Error codes that cross the worker boundary as data (never as class instances). */
export const ErrorCode = {
  /** manifest.json is not JSON, or not of our format/version, or is missing fields. */
  BadManifest: 'BAD_MANIFEST',
  /** A file the manifest names could not be fetched or read. */
  MissingFile: 'MISSING_FILE',
  /** A file's size or sha256 differs from the manifest. */
  Integrity: 'INTEGRITY_MISMATCH',
  /** An ONNX graph's input/output names differ from the manifest or SPEC. */
  StageMismatch: 'STAGE_MISMATCH',
  /** The bundle lacks a stage this request needs (e.g. no unet_inpaint). */
  StageMissing: 'STAGE_MISSING',
  /** A request parameter is invalid (NaN steps, wrong mask size, ...). */
  BadRequest: 'BAD_REQUEST',
  /** The run was cancelled by the caller. */
  Cancelled: 'CANCELLED',
  /** The GPU device was lost; sessions were dropped, and a new device needs a new worker (EngineClient restarts it). */
  DeviceLost: 'DEVICE_LOST',
  /** onnxruntime failed to create a session or run a graph. */
  Runtime: 'RUNTIME_ERROR',
  /** onnxruntime could not allocate a stage's memory (wasm's 4 GiB, or the GPU's buffers): use a smaller size. */
  OutOfMemory: 'OUT_OF_MEMORY',
  /** No model bundle is loaded. */
  NoModel: 'NO_MODEL',
  /** Storage quota exceeded. */
  Quota: 'QUOTA_EXCEEDED',
  /** Network failure (404, CORS, offline). */
  Network: 'NETWORK_ERROR',
  /** A download was redirected to another origin than the one the bundle was added from. */
  CrossOriginRedirect: 'CROSS_ORIGIN_REDIRECT',
  /** The platform cannot do this (no WebGPU, no shader-f16, ...). */
  Unsupported: 'UNSUPPORTED',
  /** A linear prior file is not ours, is damaged, or does not fit the loaded model (README "Prior kinds"). */
  BadPriorFile: 'BAD_PRIOR_FILE',
  /** A bug: anything not mapped above. */
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Plain-data form of an engine error; what the UI receives. */
export interface EngineErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  /** The file or stage the error is about, if any. */
  readonly file?: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** Error thrown inside the engine; converted to EngineErrorData at the worker boundary. */
export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly details: Omit<EngineErrorData, 'code' | 'message'>;
  constructor(code: ErrorCode, message: string, details: Omit<EngineErrorData, 'code' | 'message'> = {}) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.details = details;
  }
  /** Plain data, safe for structured clone. */
  toData(): EngineErrorData {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** True when `e` looks like EngineErrorData (e.g. after crossing a worker boundary). */
export function isEngineErrorData(e: unknown): e is EngineErrorData {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    && typeof (e as { message?: unknown }).message === 'string'
    && Object.values(ErrorCode).includes((e as { code: ErrorCode }).code);
}

/** Map anything thrown to EngineErrorData. */
export function toErrorData(e: unknown): EngineErrorData {
  if (e instanceof EngineError) return e.toData();
  if (isEngineErrorData(e)) return e;
  if (e instanceof DOMException && e.name === 'AbortError') return { code: ErrorCode.Cancelled, message: 'Cancelled' };
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return { code: ErrorCode.Quota, message: 'Storage quota exceeded: free space or delete a model.' };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: ErrorCode.Internal, message };
}

/** Run `work` and answer as data: its value, or what it threw as EngineErrorData (what crosses a worker boundary). */
export async function settle<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}
