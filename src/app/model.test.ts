import { describe, expect, it } from 'vitest';
import { FAMILY_DEFAULTS, type BundleInfo, type ModelFamily } from '../../workers/protocol.ts';
import { STAGE_NAMES } from '../../workers/runtime/types.ts';
import { modesOf } from '../../workers/storage/modes.ts';
import { TestEditor } from '../editor/test-editor.ts';
import type { EngineClient } from './engine-client.ts';
import { translate } from './i18n.ts';
import { ModelLoader } from './model.ts';
import { readSessionRecord } from './session-record.ts';
import { createAppStore, DEFAULT_PARAMS, setParams } from './store.ts';

const info = (family: ModelFamily): BundleInfo => ({
  name: `tiny-${family}`, description: '', family, defaults: FAMILY_DEFAULTS[family], embeddingDim: 32, ep: 'wasm', shaderF16: false,
  warnings: [], stages: STAGE_NAMES, modes: modesOf(STAGE_NAMES),
});

function setup() {
  const store = createAppStore();
  const loader = new ModelLoader(store, new TestEditor({ longSide: 64 }), {} as EngineClient, {
    modelSource: async () => { throw new Error('not used'); }, frameChosen: () => true, t: (k) => translate('en', k),
  });
  return { store, loader };
}

describe('model family defaults in the prompt panel', () => {
  it('loading a 2.1 model sets the 2.1 reference defaults and says so; reloading 2.1 keeps the user\'s values', () => {
    const { store, loader } = setup();
    setParams(store, { steps: 12, prompt: 'a cat' });
    loader.loaded({ ok: true, value: info('kandinsky-2.1') });
    const p = store.getState().params;
    expect(p).toMatchObject({ family: 'kandinsky-2.1', scheduler: 'ddim', steps: 100, guidance: 4, priorSteps: 25, priorGuidance: 4, prompt: 'a cat' });
    const notice = store.getState().notices.at(-1);
    expect(notice).toMatchObject({ kind: 'info', key: 'familyDefaults', vars: { family: 'Kandinsky 2.1', scheduler: 'ddim', steps: 100 } });

    setParams(store, { steps: 40 });
    loader.loaded({ ok: true, value: info('kandinsky-2.1') }); // the same family again (a worker restart, a re-download)
    expect(store.getState().params.steps).toBe(40);
  });

  it('switching back to 2.2 restores the 2.2 defaults', () => {
    const { store, loader } = setup();
    loader.loaded({ ok: true, value: info('kandinsky-2.1') });
    loader.loaded({ ok: true, value: info('kandinsky-2.2') });
    expect(store.getState().params).toMatchObject({ family: 'kandinsky-2.2', scheduler: 'ddpm', steps: FAMILY_DEFAULTS['kandinsky-2.2'].steps });
  });

  it('a 2.2 model on a fresh panel changes nothing and says nothing', () => {
    const { store, loader } = setup();
    loader.loaded({ ok: true, value: info('kandinsky-2.2') });
    expect(store.getState().params).toEqual(DEFAULT_PARAMS);
    expect(store.getState().notices).toEqual([]);
  });
});

describe('the panel family in a saved session', () => {
  const meta = (params: unknown) => ({
    meta: {
      version: 1, frame: { x: 0, y: 0, width: 512, height: 512 }, aspect: '1:1', longSide: 512, camera: { offsetX: 0, offsetY: 0, zoom: 1 },
      brush: { size: 32, hardness: 0.8 }, tool: 'frame', params, lastSeed: null, lastParams: null, language: 'en',
      settings: { provider: 'auto', smallFrames: false, livePreview: null }, history: { nextId: 1, undo: [], redo: [] },
    },
    tiles: [], steps: [],
  });

  it('a record from before families (no field) reads as 2.2 without a repair', () => {
    const { family: _omitted, ...old } = DEFAULT_PARAMS;
    const read = readSessionRecord(meta(old));
    expect(read.session?.meta?.params.family).toBe('kandinsky-2.2');
    expect(read.problems).toEqual([]);
  });

  it('a 2.1 panel is kept; an unknown family is repaired to 2.2 and reported', () => {
    expect(readSessionRecord(meta({ ...DEFAULT_PARAMS, family: 'kandinsky-2.1' })).session?.meta?.params.family).toBe('kandinsky-2.1');
    const bad = readSessionRecord(meta({ ...DEFAULT_PARAMS, family: 'kandinsky-9' }));
    expect(bad.session?.meta?.params.family).toBe('kandinsky-2.2');
    expect(bad.problems.some((p) => p.startsWith('params.family'))).toBe(true);
  });
});
