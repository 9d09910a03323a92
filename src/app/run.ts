/**
 * The run lifecycle: check that a run may start, build its request through the chosen mode (the one
 * request path, src/modes/request.ts), run it on the engine with progress and cancel, and stage its
 * results over the frame until they are accepted (one undoable step) or discarded.
 */
import type { StoreApi } from 'zustand/vanilla';
import { ErrorCode } from '../../workers/errors.ts';
import type { CommonParams, GeneratedImage, GenerateRequest, GenerateResult, PriorChoice, Result } from '../../workers/protocol.ts';
import { pasteBack } from '../editor/compose.ts';
import type { Editor } from '../editor/editor.ts';
import { priorLabel, type ImageParameters } from '../editor/parameters.ts';
import { resizeNearest } from '../editor/raster.ts';
import type { ModeParameters, RunContext, RunPlan } from '../modes/request.ts';
import type { EngineClient } from './engine-client.ts';
import type { Gallery } from './gallery.ts';
import type { MessageKey } from './i18n.ts';
import { applyStyle } from './presets.ts';
import type { AppStorage } from './storage.ts';
import {
  clearStaging, cycleStaged, endRun, livePreviewOn, markCancelling, notify, runProgress, stageResults, startRun, type AppState, type GenParams, type StagedResult,
} from './store.ts';

/** What runs need of the app besides the store, the editor, the engine, the gallery and storage. */
export interface RunHost {
  /** Every mode's request, the frame's own text-to-image/inpainting included (src/modes/install.ts hooks it in). */
  readonly modeRequest: ((ctx: RunContext) => RunPlan) | null;
  /** The prior kind requests use (src/priors/install.ts); null or undefined = the diffusion prior. */
  readonly priorRequest: (() => PriorChoice | undefined) | null;
  readonly t: (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string;
}

let runCounter = 0;

/** Generating into the frame, and the staged results. */
export class Runs {
  constructor(
    private readonly store: StoreApi<AppState>,
    private readonly editor: Editor,
    private readonly client: Pick<EngineClient, 'generate' | 'cancel' | 'restarts'>,
    private readonly gallery: Pick<Gallery, 'add'>,
    private readonly storage: Pick<AppStorage, 'flush'>,
    private readonly host: RunHost,
  ) {}

  /** Generate into the frame with the chosen mode: text-to-image over empty canvas, inpainting over pixels, or an image mode. */
  async generate(): Promise<void> {
    const s = this.store.getState();
    const ctx = this.context(s);
    if (!ctx) return;
    if (!this.host.modeRequest) throw new Error('Runs.generate: no modes installed (call installModes before start)');
    const plan = this.host.modeRequest(ctx);
    if (!plan.ok) {
      if ('notice' in plan) notify(this.store, 'error', plan.notice);
      return; // otherwise the mode panel says why
    }
    const result = await this.run(plan.request, ctx.common.seed);
    if (!result) return;
    const results: StagedResult[] = [];
    for (const generated of result.images) results.push(await this.result(s.params, ctx, plan, generated));
    if (results.length === 0) { this.editor.setLocked(false); return; }
    stageResults(this.store, ctx.frame, results);
    void this.storage.flush(); // the results' gallery items and the run's seed
  }

  /** What the mode builds its request from, or null (and a notice) when no run may start now. */
  private context(s: AppState): RunContext | null {
    if (s.run) { notify(this.store, 'warning', 'errRunning'); return null; }
    if (s.staging) { notify(this.store, 'warning', 'errStaged'); return null; }
    // A field showing invalid text would otherwise run with its last valid value, unseen.
    const invalid = Object.values(s.invalidFields)[0];
    if (invalid) {
      const rule = this.host.t(invalid.integer ? 'fieldWhole' : 'fieldNumber', { min: invalid.min, max: invalid.max });
      notify(this.store, 'error', 'errInvalidField', { field: this.host.t(invalid.label), rule });
      return null;
    }
    if (s.model.status !== 'ready') { notify(this.store, 'error', 'errNoModel'); return null; }
    const frame = this.editor.getFrame();
    const p = s.params;
    const styled = applyStyle(p.style, p.prompt, p.negativePrompt);
    const seed = p.randomSeed ? (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) : p.seed;
    const chosenPrior = this.host.priorRequest?.();
    const common: CommonParams = {
      width: frame.width, height: frame.height, steps: p.steps, guidance: p.guidance, priorSteps: p.priorSteps,
      priorGuidance: p.priorGuidance, scheduler: p.scheduler, seed, numImages: p.numImages, negativePrompt: styled.negativePrompt,
      family: s.model.info.family,
      ...(chosenPrior === undefined ? {} : { prior: chosenPrior }),
      // Paced by the engine: a preview after any step, while previews take at most PREVIEW_MAX_SHARE of the loop.
      ...(livePreviewOn(s) ? { preview: { every: 1 } } : {}),
    };
    const image = this.editor.doc.image.read(frame);
    const mask = this.editor.doc.mask.hasContent(frame) ? this.editor.doc.mask.read(frame) : null;
    return { common, prompt: styled.prompt, rawPrompt: p.prompt, info: s.model.info, frame, image, mask };
  }

  /** Run `request` with the editor locked; null (the editor unlocked, the reason told) when it failed or was cancelled. */
  private async run(request: GenerateRequest, seed: number): Promise<GenerateResult | null> {
    const runId = `run-${Date.now().toString(36)}-${++runCounter}`;
    startRun(this.store, runId, seed);
    this.editor.setLocked(true);
    let result: Result<GenerateResult>;
    try {
      result = await this.client.generate(runId, request, (progress) => runProgress(this.store, runId, progress));
    } catch (e) {
      result = { ok: false, error: { code: ErrorCode.Internal, message: e instanceof Error ? e.message : String(e) } };
    }
    endRun(this.store);
    if (!result.ok) {
      this.editor.setLocked(false);
      if (result.error.code === ErrorCode.Cancelled) notify(this.store, 'info', 'cancelled');
      else if (this.client.restarts > 0 && result.error.message.includes('stopped unexpectedly')) { /* crash already reported */ }
      else if (result.error.code === ErrorCode.DeviceLost) { /* reported by onCrash('device-lost') */ }
      else notify(this.store, 'error', 'errEngine', { code: result.error.code, message: result.error.message });
      return null;
    }
    if (result.value.warnings.length > 0) notify(this.store, 'warning', 'warnings', { text: result.value.warnings.join('; ') });
    return result.value;
  }

  /** One generated image at the frame's size, pasted back into the frame's pixels, with its parameters, added to the gallery. */
  private async result(panel: GenParams, ctx: RunContext, plan: Extract<RunPlan, { ok: true }>, generated: GeneratedImage): Promise<StagedResult> {
    const { frame } = ctx;
    const image = generated.image.width === frame.width && generated.image.height === frame.height
      ? generated.image : resizeNearest(generated.image, frame.width, frame.height);
    const params = recordedParameters(panel, ctx, plan.params, generated);
    const composite = pasteBack(ctx.image, image, plan.weights);
    // The gallery keeps what the user sees: the frame after paste-back.
    const galleryId = await this.gallery.add(composite, params);
    return { image, composite, params, galleryId };
  }

  /** Stop the running generation; the canvas stays as it was. */
  cancel(): void {
    const runId = markCancelling(this.store);
    if (runId !== null) this.client.cancel(runId);
  }

  /** Land the staged result shown now, as one undoable step. */
  accept(): void {
    const staging = this.store.getState().staging;
    const chosen = staging?.results[staging.index];
    if (!staging || !chosen) return;
    this.editor.setLocked(false);
    this.editor.applyGeneration(staging.rect, chosen.composite, 'generate');
    clearStaging(this.store, chosen);
    // Write now, not after the quiet period: a tab closed or killed right after Accept keeps the result.
    void this.storage.flush();
  }

  /** Drop the staged results (they stay in the gallery). */
  discard(): void {
    if (!this.store.getState().staging) return;
    this.editor.setLocked(false);
    clearStaging(this.store);
  }

  /** Show the next (+1) or previous (-1) staged result. */
  cycle(delta: number): void {
    cycleStaged(this.store, delta);
  }
}

/** What a result records: the prompt panel's text, the mode's own parameters, and what the engine used. */
function recordedParameters(p: GenParams, ctx: RunContext, recorded: ModeParameters, generated: GeneratedImage): ImageParameters {
  const used = generated.params;
  const { mode, prompt, ...extra } = recorded;
  return {
    prompt, negativePrompt: p.negativePrompt, style: p.style, mode, width: ctx.frame.width, height: ctx.frame.height,
    steps: used.steps, guidance: used.guidance, priorSteps: used.priorSteps, priorGuidance: used.priorGuidance,
    scheduler: used.scheduler, seed: used.seed, model: used.model, ep: used.ep, ...extra,
    ...(used.prior.kind === 'diffusion' ? {} : { prior: priorLabel(used.prior) }),
  };
}
