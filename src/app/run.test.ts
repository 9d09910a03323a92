import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../workers/errors.ts';
import { FAMILY_DEFAULTS, type BundleInfo, type GenerateRequest, type GenerateResult, type Progress, type Result, type UsedParams } from '../../workers/protocol.ts';
import { STAGE_NAMES } from '../../workers/runtime/types.ts';
import { modesOf } from '../../workers/storage/modes.ts';
import { TestEditor } from '../editor/test-editor.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import { buildRequest } from '../modes/request.ts';
import { INITIAL_MODES } from '../modes/state.ts';
import { translate } from './i18n.ts';
import { Runs } from './run.ts';
import { createAppStore, livePreviewOn, setParams, setSettings, type AppState } from './store.ts';

const INFO: BundleInfo = {
  name: 'tiny', description: '', family: 'kandinsky-2.2', defaults: FAMILY_DEFAULTS['kandinsky-2.2'], embeddingDim: 32, ep: 'wasm', shaderF16: false, warnings: [],
  stages: STAGE_NAMES, modes: modesOf(STAGE_NAMES),
};

/** What the engine answers: one blue image per request image, at the request's size, with the parameters it used. */
function answer(req: GenerateRequest): Result<GenerateResult> {
  const used: UsedParams = {
    mode: req.mode, negativePrompt: req.negativePrompt, width: req.width, height: req.height, steps: req.steps, guidance: req.guidance,
    priorSteps: req.priorSteps, priorGuidance: req.priorGuidance, scheduler: req.scheduler, seed: req.seed, model: 'tiny', ep: 'wasm',
    prior: { kind: 'diffusion' },
  };
  const data = new Uint8ClampedArray(req.width * req.height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([0, 0, 255, 255], i);
  return { ok: true, value: { runId: 'r', warnings: [], timings: { total: 0 }, images: [{ image: { width: req.width, height: req.height, data }, params: { ...used, seed: req.seed } }] } };
}

/** Runs over a 64² frame, the frame's own mode, a stand-in engine, gallery and storage. */
function setup(
  engine: (req: GenerateRequest, onProgress: (p: Progress) => void) => Promise<Result<GenerateResult>> = async (req) => answer(req), app: Partial<AppState> = {},
) {
  const editor = new TestEditor({ longSide: 64 });
  const store = createAppStore({ model: { status: 'ready', info: INFO }, ...app });
  setParams(store, { prompt: 'a cat', randomSeed: false, seed: 7, steps: 2, priorSteps: 2 });
  const requests: GenerateRequest[] = [];
  const client = {
    restarts: 0, cancel: vi.fn(),
    generate: async (_id: string, req: GenerateRequest, onProgress: (p: Progress) => void) => { requests.push(req); return engine(req, onProgress); },
  };
  const added: ImageParameters[] = [];
  const gallery = { add: async (_img: unknown, params: ImageParameters) => { added.push(params); return `g-${added.length}`; } };
  const runs = new Runs(store, editor, client, gallery, { flush: async () => {} }, {
    modeRequest: (ctx) => buildRequest(INITIAL_MODES, ctx, () => undefined),
    priorRequest: null,
    t: (key, vars) => translate('en', key, vars),
  });
  const notices = (): string[] => store.getState().notices.map((n) => n.key);
  return { editor, store, runs, requests, added, notices };
}

describe('the run lifecycle', () => {
  it('text-to-image into an empty frame: request, staging with the recorded parameters, accept as one undo step', async () => {
    const { editor, store, runs, requests, added } = setup();
    await runs.generate();
    expect(requests.map((r) => [r.mode, 'prompt' in r ? r.prompt : null, r.seed, r.width])).toEqual([['text2img', 'a cat', 7, 64]]);
    const staging = store.getState().staging;
    expect(staging?.results.length).toBe(1);
    expect(editor.state.locked).toBe(true);
    expect(store.getState().lastSeed).toBe(7);
    expect(added).toEqual([{
      prompt: 'a cat', negativePrompt: '', style: 'none', mode: 'text2img', width: 64, height: 64, steps: 2, guidance: 4,
      priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 7, model: 'tiny', ep: 'wasm',
    }]);
    runs.accept();
    expect(store.getState().staging).toBeNull();
    expect(store.getState().lastParams).toEqual(added[0]);
    expect(editor.state.locked).toBe(false);
    expect(editor.doc.history.undoNames().at(-1)).toBe('generate');
    expect([...editor.doc.image.read({ ...editor.getFrame(), width: 1, height: 1 }).data]).toEqual([0, 0, 255, 255]);
  });

  it('live preview: by default on WebGPU only; the latest preview kept during the run, dropped after', async () => {
    const seen: (string | null)[] = [];
    const preview = { width: 8, height: 8, data: new Uint8ClampedArray(256).fill(200) };
    const { store, runs, requests } = setup(async (req, onProgress) => {
      const event = { runId: '', stage: 'unet', step: 1, total: 2, image: 0, numImages: 1, elapsedMs: 1 } as const;
      const runId = store.getState().run?.runId ?? '';
      onProgress({ ...event, runId, preview });
      seen.push(store.getState().run?.preview === preview ? 'preview' : null);
      onProgress({ ...event, runId, step: 2 }); // later events without one keep the latest
      seen.push(store.getState().run?.preview === preview ? 'preview' : null);
      return answer(req);
    });
    const generate = async (): Promise<GenerateRequest> => {
      await runs.generate();
      runs.discard();
      return requests[requests.length - 1]!;
    };
    // The stand-in model runs on wasm: nothing slower there unless asked.
    expect(livePreviewOn(store.getState())).toBe(false);
    expect(await generate()).not.toHaveProperty('preview');
    setSettings(store, { livePreview: true });
    expect((await generate()).preview).toEqual({ every: 1 });
    expect(seen).toEqual(['preview', 'preview', 'preview', 'preview']);
    expect(store.getState().run).toBeNull();
    setSettings(store, { livePreview: false });
    expect(await generate()).not.toHaveProperty('preview');
    // The default follows the provider: on with WebGPU.
    setSettings(store, { livePreview: null });
    store.setState({ model: { status: 'ready', info: { ...INFO, ep: 'webgpu' } } });
    expect((await generate()).preview).toEqual({ every: 1 });
  });

  it('inpaints over pixels and pastes back: the painted pixels far from the hole stay', async () => {
    const { editor, store, runs, requests } = setup();
    const f = editor.getFrame();
    editor.fill(f.x, f.y, 32, 64, [200, 100, 50, 255]); // the left half painted, the right half empty
    await runs.generate();
    expect(requests[0]?.mode).toBe('inpaint');
    const composite = store.getState().staging?.results[0]?.composite;
    expect([...(composite?.data.slice(0, 4) ?? [])]).toEqual([200, 100, 50, 255]);
    expect([...(composite?.data.slice(63 * 4, 64 * 4) ?? [])]).toEqual([0, 0, 255, 255]);
  });

  it('refuses with a notice and runs nothing: no model, a run going, staged results, a frame with nothing to repaint', async () => {
    const noModel = setup(undefined, { model: { status: 'none' } });
    await noModel.runs.generate();
    expect(noModel.notices()).toEqual(['errNoModel']);
    const full = setup();
    const f = full.editor.getFrame();
    full.editor.fill(f.x, f.y, 64, 64);
    await full.runs.generate();
    expect(full.notices()).toEqual(['errFrameFull']);
    await full.runs.generate();
    expect([noModel.requests, full.requests]).toEqual([[], []]);
    const staged = setup();
    await staged.runs.generate();
    await staged.runs.generate();
    expect(staged.notices()).toEqual(['errStaged']);
    expect(staged.requests.length).toBe(1);
  });

  it('a cancelled run unlocks the editor, says so and stages nothing; discard keeps the canvas', async () => {
    const cancelled = setup(async () => ({ ok: false, error: { code: ErrorCode.Cancelled, message: 'cancelled' } }));
    await cancelled.runs.generate();
    expect(cancelled.notices()).toEqual(['cancelled']);
    expect(cancelled.editor.state.locked).toBe(false);
    expect(cancelled.store.getState()).toMatchObject({ run: null, staging: null });
    const discarded = setup();
    await discarded.runs.generate();
    discarded.runs.discard();
    expect(discarded.editor.state.locked).toBe(false);
    expect(discarded.editor.doc.image.contentBounds()).toBeNull();
  });
});
