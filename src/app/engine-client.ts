/**
 * The UI's door to the generation worker: comlink over a module worker, progress through a
 * proxied callback, cancel by run id, and restart + model reload when the worker dies.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { ErrorCode } from '../../workers/errors.ts';
import type {
  BundleInfo, BundleSourceData, EngineApi, GenerateRequest, GenerateResult, LoadOptions, Progress, Result,
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

/** Engine client events. */
export interface EngineClientEvents {
  /** The worker died; a new one is being started. */
  onCrash?(): void;
  /** A reload after a crash finished. */
  onReloaded?(result: Result<BundleInfo>): void;
}

const CRASH: Result<never> = {
  ok: false,
  error: { code: ErrorCode.Internal, message: 'The generation worker stopped unexpectedly; it has been restarted.' },
};

/** Comlink client with crash recovery. */
export class EngineClient {
  private worker!: WorkerLike;
  private api!: Remote<EngineApi>;
  private lastLoad: { source: BundleSourceData; options: LoadOptions } | null = null;
  /** Resolves when the current worker crashes (races every call). */
  private crashed!: Promise<Result<never>>;
  private signalCrash!: () => void;
  private readonly onError = (): void => { this.handleCrash(); };
  /** How many times the worker was restarted. */
  restarts = 0;

  constructor(private readonly factory: () => WorkerLike = createGeneratorWorker, private readonly events: EngineClientEvents = {}) {
    this.start();
  }

  private start(): void {
    this.worker = this.factory();
    this.worker.addEventListener('error', this.onError);
    this.api = wrap<EngineApi>(this.worker as unknown as Worker);
    this.crashed = new Promise((resolve) => { this.signalCrash = () => resolve(CRASH); });
  }

  /** Load a bundle; remembered so a restarted worker loads it again. */
  async load(source: BundleSourceData, options: LoadOptions): Promise<Result<BundleInfo>> {
    this.lastLoad = { source, options };
    return Promise.race([this.api.load(source, options), this.crashed]);
  }

  /** Run a generation; resolves with CANCELLED when cancelled, INTERNAL when the worker died. */
  async generate(runId: string, request: GenerateRequest, onProgress: (p: Progress) => void): Promise<Result<GenerateResult>> {
    return Promise.race([this.api.generate(runId, request, proxy(onProgress)), this.crashed]);
  }

  /** Ask the worker to stop a run within one step. */
  cancel(runId: string): void {
    void this.api.cancel(runId);
  }

  /** Details of the loaded bundle. */
  info(): Promise<BundleInfo | null> {
    return this.api.info();
  }

  /** Treat the worker as dead: fail pending calls, start a fresh worker, reload the model. */
  handleCrash(): void {
    this.worker.removeEventListener('error', this.onError);
    this.worker.terminate();
    this.signalCrash();
    this.restarts++;
    this.start();
    this.events.onCrash?.();
    if (this.lastLoad) {
      const { source, options } = this.lastLoad;
      void this.load(source, options).then((r) => this.events.onReloaded?.(r));
    }
  }

  /** Stop the worker for good. */
  dispose(): void {
    this.worker.removeEventListener('error', this.onError);
    this.worker.terminate();
  }
}
