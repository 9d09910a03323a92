/**
 * EngineApi implementation (plain class, no comlink): one active Engine, runs serialised,
 * cancellation by runId, every error returned as data with a code.
 */
import { Engine } from './engine.ts';
import { EngineError, ErrorCode, settle } from './errors.ts';
import type {
  BundleInfo, BundleSourceData, EngineApi, FitPriorRequest, FitProgress, FittedPrior, GenerateRequest, GenerateResult, LoadOptions, Progress, Result,
} from './protocol.ts';

/** The engine service the worker exposes. Usable directly in Node tests. */
export class EngineService implements EngineApi {
  private engine: Engine | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cancelled = new Set<string>();
  private readonly active = new Set<string>();

  /** Chain work so only one load or generation runs at a time. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  load(source: BundleSourceData, options: LoadOptions): Promise<Result<BundleInfo>> {
    return settle(() => this.serial(async () => {
      const engine = await Engine.load(source, options);
      const previous = this.engine;
      this.engine = engine;
      await previous?.dispose().catch(() => undefined);
      return engine.info();
    }));
  }

  generate(runId: string, request: GenerateRequest, onProgress?: (p: Progress) => void): Promise<Result<GenerateResult>> {
    this.active.add(runId);
    return settle(() => this.serial(async () => {
      const engine = this.engine;
      if (!engine) throw new EngineError(ErrorCode.NoModel, 'No model is loaded: load a model bundle first.');
      if (this.cancelled.has(runId)) throw new EngineError(ErrorCode.Cancelled, 'The run was cancelled.');
      return engine.generate(runId, request, {
        isCancelled: () => this.cancelled.has(runId),
        ...(onProgress ? { onProgress: (p: Progress) => { void Promise.resolve(onProgress(p)).catch(() => undefined); } } : {}),
      });
    })).finally(() => {
      this.active.delete(runId);
      this.cancelled.delete(runId);
    });
  }

  fitPrior(runId: string, request: FitPriorRequest, onProgress?: (p: FitProgress) => void): Promise<Result<FittedPrior>> {
    this.active.add(runId);
    return settle(() => this.serial(async () => {
      const engine = this.engine;
      if (!engine) throw new EngineError(ErrorCode.NoModel, 'No model is loaded: load a model bundle first.');
      if (this.cancelled.has(runId)) throw new EngineError(ErrorCode.Cancelled, 'The fit was cancelled; nothing was stored.');
      return engine.fitPrior(runId, request, {
        isCancelled: () => this.cancelled.has(runId),
        ...(onProgress ? { onProgress: (p: FitProgress) => { void Promise.resolve(onProgress(p)).catch(() => undefined); } } : {}),
      });
    })).finally(() => {
      this.active.delete(runId);
      this.cancelled.delete(runId);
    });
  }

  cancel(runId: string): void {
    if (this.active.has(runId)) this.cancelled.add(runId);
  }

  async release(): Promise<void> {
    await this.serial(async () => { await this.engine?.release(); });
  }

  async info(): Promise<BundleInfo | null> {
    return this.engine?.info() ?? null;
  }
}
