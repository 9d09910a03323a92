/** What every pipeline needs: stages to run, the bundle's facts, a noise source, and a way to stop. */
import type { ModelFamily } from '../runtime/stage-io.ts';
import type { StageRunner } from '../runtime/types.ts';
import type { NoiseSource } from '../tensor/noise.ts';
import type { ProgressStage } from '../protocol.ts';
import { EngineError, ErrorCode } from '../errors.ts';
import type { PreviewSink } from './preview.ts';

/** Bundle facts the pipelines read (a subset of the manifest, so tests can build it by hand). */
export interface ModelFacts {
  /** Which Kandinsky: 2.1 conditions its UNet on multilingual text as well (docs/kandinsky-2-1.md). */
  readonly family: ModelFamily;
  readonly embeddingDim: number;
  readonly maxLength: number;
  readonly latentChannels: number;
  /** MoVQ spatial scale factor (8). */
  readonly scaleFactor: number;
  readonly imageProcessor: {
    readonly size: number;
    readonly crop_size: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };
  readonly clipMean: Float32Array;
  readonly clipStd: Float32Array;
  /** Kandinsky 2.1: the multilingual tokenizer's sequence length (text_multilingual.max_length). */
  readonly multilingualMaxLength?: number;
}

/** Tokenises one prompt to fixed-length ids and mask (SPEC §3). */
export interface PromptTokenizer {
  encode(prompt: string): { inputIds: BigInt64Array; attentionMask: BigInt64Array; truncated: boolean; tokenCount: number };
}

/** Called before each unit of work; throws to cancel. */
export type StepHook = (stage: ProgressStage, step: number, total: number) => void;

/** Everything a pipeline run needs. */
export interface PipelineContext {
  readonly runner: StageRunner;
  readonly model: ModelFacts;
  readonly tokenizer: PromptTokenizer;
  /** Kandinsky 2.1: the XLM-R tokenizer of the decoder's text (text_multilingual). */
  readonly multilingualTokenizer?: PromptTokenizer;
  readonly noise: NoiseSource;
  /** Progress and cancellation hook; the worker throws CANCELLED from it. */
  readonly onStep?: StepHook;
  /** Warnings collected during the run (prompt truncated, ...). */
  readonly warnings: string[];
  /** Live previews of the decoder's loop (the request's previewEvery); absent: none. */
  readonly preview?: PreviewSink;
}

/** Report progress (and let the hook cancel). */
export function checkpoint(ctx: PipelineContext, stage: ProgressStage, step: number, total: number): void {
  ctx.onStep?.(stage, step, total);
}

/** Fail with STAGE_MISSING when the bundle lacks a stage a mode needs. */
export function requireStage(ctx: PipelineContext, stage: Parameters<StageRunner['has']>[0], forWhat: string): void {
  if (!ctx.runner.has(stage)) {
    throw new EngineError(ErrorCode.StageMissing, `This model has no '${stage}' stage, so it cannot do ${forWhat}.`, {
      file: stage,
      expected: `a '${stage}' entry in manifest.json`,
    });
  }
}
