/**
 * The UI's door to the generation worker: comlink over a module worker, progress through a
 * proxied callback, cancel by run id, and restart + model reload when the worker dies or its GPU
 * device is lost (onnxruntime-web creates one GPUDevice per module and cannot replace it, so a fresh
 * worker is the way to a new device).
 */
import { proxy, wrap, type Remote } from 'comlink';
import { ErrorCode } from '../../workers/errors.ts';
import type {
  BundleInfo, BundleSourceData, EngineApi, FitPriorRequest, FitProgress, FittedPrior, GenerateRequest, GenerateResult, LoadOptions,
  Progress, Result,
} from '../../workers/protocol.ts';

/** The minimum a worker must offer (a real Worker, or a stand-in in unit tests). */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: (ev: Event) => void): void;
  removeEventListener(type: string, listener: (ev: Event) => void): void;
  terminate(): void;
}

/** Start the real generation worker. */
export function createGeneratorWorker(): WorkerLike {
  return new Worker(new URL('../../workers/generator.worker.ts', import.meta.url), { type: 'module' });
}

/** Why the client restarted its worker. */
export type RestartReason = 'crash' | 'device-lost';

/** Engine client events. */
export interface EngineClientEvents {
  /** The worker died or lost its GPU device; a new one is being started. */
  onCrash?(reason: RestartReason): void;
  /** A reload after a crash finished. */
  onReloaded?(result: Result<BundleInfo>): void;
  /** The worker died again and again; it will be started afresh by the next call. */
  onGaveUp?(): void;
}

/** Restarts allowed within CRASH_WINDOW_MS before the client stops reloading on its own. */
const MAX_RESTARTS = 3;
const CRASH_WINDOW_MS = 60_000;

const CRASH: Result<never> = {
  ok: false,
  error: { code: ErrorCode.Internal, message: 'The generation worker stopped unexpectedly; it has been restarted.' },
};

/** Comlink client with crash recovery. */
export class EngineClient {
  private worker: WorkerLike | null = null;
  private api: Remote<EngineApi> | null = null;
  private crashTimes: number[] = [];
  private lastLoad: { source: BundleSourceData; options: LoadOptions } | null = null;
  /** Resolves when the current worker crashes (races every call). */
  private crashed!: Promise<Result<never>>;
  private signalCrash!: (result: Result<never>) => void;
  private readonly onError = (): void => { this.handleCrash(); };
  /** How many times the worker was restarted. */
  restarts = 0;
  /** Bumped by every restart: a reload that another restart overtook reports nothing. */
  private generation = 0;

  /** The worker starts lazily, on the first call. */
  constructor(private readonly factory: () => WorkerLike = createGeneratorWorker, private readonly events: EngineClientEvents = {}) {}

  private ensure(): Remote<EngineApi> {
    if (this.api) return this.api;
    const worker = this.factory();
    worker.addEventListener('error', this.onError);
    this.worker = worker;
    this.api = wrap<EngineApi>(worker as unknown as Worker);
    this.crashed = new Promise((resolve) => { this.signalCrash = resolve; });
    return this.api;
  }

  /** Load a bundle; remembered so a restarted worker loads it again. */
  async load(source: BundleSourceData, options: LoadOptions): Promise<Result<BundleInfo>> {
    this.lastLoad = { source, options };
    const api = this.ensure();
    const worker = this.worker;
    return this.watch(worker, await Promise.race([api.load(source, options), this.crashed]));
  }

  /** Run a generation; resolves with CANCELLED when cancelled, INTERNAL when the worker died. */
  async generate(runId: string, request: GenerateRequest, onProgress: (p: Progress) => void): Promise<Result<GenerateResult>> {
    const api = this.ensure();
    const worker = this.worker;
    return this.watch(worker, await Promise.race([api.generate(runId, request, proxy(onProgress)), this.crashed]));
  }

  /** Fit a linear prior in the worker (README "Prior kinds"); cancel with cancel(runId). */
  async fitPrior(runId: string, request: FitPriorRequest, onProgress: (p: FitProgress) => void): Promise<Result<FittedPrior>> {
    const api = this.ensure();
    const worker = this.worker;
    return this.watch(worker, await Promise.race([api.fitPrior(runId, request, proxy(onProgress)), this.crashed]));
  }

  /** A lost GPU device cannot come back inside the worker: restart it, then pass the result on. */
  private watch<T>(worker: WorkerLike | null, result: Result<T>): Result<T> {
    if (!result.ok && result.error.code === ErrorCode.DeviceLost && worker !== null && worker === this.worker) this.restart('device-lost', result);
    return result;
  }

  /** Ask the worker to stop a run within one step. */
  cancel(runId: string): void {
    if (this.api) void this.api.cancel(runId);
  }

  /** Details of the loaded bundle. */
  info(): Promise<BundleInfo | null> {
    return this.ensure().info();
  }

  /** Treat the worker as dead: fail pending calls, start a fresh worker, reload the model. */
  handleCrash(): void {
    if (this.worker) this.restart('crash', CRASH);
  }

  /** Stop the worker, fail its pending calls with `failure`, start a fresh one and reload the model. */
  private restart(reason: RestartReason, failure: Result<never>): void {
    this.stopWorker();
    this.signalCrash(failure);
    this.restarts++;
    const generation = ++this.generation;
    const now = Date.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    this.events.onCrash?.(reason);
    if (this.crashTimes.length > MAX_RESTARTS) {
      this.events.onGaveUp?.();
      return;
    }
    if (this.lastLoad) {
      const { source, options } = this.lastLoad;
      void this.load(source, options).then((r) => {
        if (this.generation === generation) this.events.onReloaded?.(r);
      });
    }
  }

  private stopWorker(): void {
    this.worker?.removeEventListener('error', this.onError);
    this.worker?.terminate();
    this.worker = null;
    this.api = null;
  }

  /** Stop the worker for good. */
  dispose(): void {
    this.stopWorker();
  }
}
