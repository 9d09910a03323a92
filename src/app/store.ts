/** The app's state outside the editor engine (prompt parameters, model, runs, staging, gallery, messages) and the actions that change it. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { DEFAULTS, type BundleInfo, type CommonParams, type ModelFamily, type Progress, type RgbaImage } from '../../workers/protocol.ts';
import type { ProviderPreference } from '../../workers/runtime/types.ts';
import type { Rect } from '../editor/geometry.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import type { Raster } from '../editor/raster.ts';
import type { Language, MessageKey } from './i18n.ts';
import type { StyleId } from './presets.ts';

/** What the prompt panel edits: the engine's shared parameters but the frame size (the frame's) and the prior (src/priors), plus the panel's own. */
export interface GenParams
  extends Pick<CommonParams, 'negativePrompt' | 'seed' | 'steps' | 'guidance' | 'priorSteps' | 'priorGuidance' | 'scheduler' | 'numImages'> {
  readonly prompt: string;
  readonly style: StyleId;
  /** A fresh seed each run instead of `seed`. */
  readonly randomSeed: boolean;
  /** The model family whose defaults (FAMILY_DEFAULTS) the panel was set up for; loading another family's model resets them. */
  readonly family: ModelFamily;
}

/** Defaults of the prompt panel. */
export const DEFAULT_PARAMS: GenParams = {
  prompt: '', negativePrompt: '', style: 'none', randomSeed: true, seed: DEFAULTS.seed,
  steps: DEFAULTS.steps, guidance: DEFAULTS.guidance, priorSteps: DEFAULTS.priorSteps,
  priorGuidance: DEFAULTS.priorGuidance, scheduler: DEFAULTS.scheduler, numImages: DEFAULTS.numImages, family: 'kandinsky-2.2',
};

/** Model loading state. */
export type ModelState =
  | { readonly status: 'none' }
  | { readonly status: 'loading'; readonly name: string }
  | { readonly status: 'ready'; readonly info: BundleInfo }
  | { readonly status: 'error'; readonly message: string };

/** A run in progress. */
export interface RunState {
  readonly runId: string;
  readonly startedAt: number;
  readonly progress: Progress | null;
  /** The latest live preview of the image being made (null until the first). */
  readonly preview: RgbaImage | null;
  readonly cancelling: boolean;
}

/** One result waiting in the staging strip. */
export interface StagedResult {
  readonly image: RgbaImage;
  /** The frame's pixels after paste-back (what accepting writes). */
  readonly composite: Raster;
  readonly params: ImageParameters;
  readonly galleryId: string;
}

/** Results of the last run, shown over the frame until accepted or discarded. */
export interface Staging {
  readonly rect: Rect;
  readonly results: readonly StagedResult[];
  readonly index: number;
}

/** One gallery entry (its PNG bytes, parameters embedded, live in IndexedDB). */
export interface GalleryItem {
  readonly id: string;
  readonly createdAt: number;
  readonly params: ImageParameters;
  readonly width: number;
  readonly height: number;
  readonly png: Uint8Array;
}

/** A message shown to the user. */
export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'warning' | 'info';
  readonly key: MessageKey;
  readonly vars: Readonly<Record<string, string | number>>;
  /** A notice with a slot replaces the one before it in that slot (one storage notice, not one per failure). */
  readonly slot?: string;
  /** A button on the notice (e.g. download the damaged session). */
  readonly action?: { readonly label: MessageKey; readonly run: () => void };
}

/** A number field whose typed text is no valid value: Generate refuses while one is, naming it. */
export interface InvalidField {
  readonly label: MessageKey;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** App settings (persisted; URL parameters may override them at start). */
export interface Settings {
  readonly provider: ProviderPreference;
  readonly smallFrames: boolean;
  /** Show the run's live previews over the frame (each a MoVQ decode: at most 10 % more time); null: on WebGPU
   *  only, so that nothing is slower on the CPU (wasm) path unless asked (livePreviewOn). */
  readonly livePreview: boolean | null;
}

/** Everything the app's UI reads besides the editor. */
export interface AppState {
  readonly params: GenParams;
  readonly lastSeed: number | null;
  readonly model: ModelState;
  readonly run: RunState | null;
  readonly staging: Staging | null;
  readonly gallery: readonly GalleryItem[];
  readonly notices: readonly Notice[];
  readonly language: Language;
  readonly settings: Settings;
  /** Parameters of the last accepted result (written into saved PNGs). */
  readonly lastParams: ImageParameters | null;
  /** True once the autosave has been read back (or found empty). */
  readonly restored: boolean;
  /** True when `gallery` holds every stored result (read from storage, or no storage in use). */
  readonly galleryLoaded: boolean;
  /** What generating in the frame would do now. */
  readonly frameMode: FrameMode;
  /** Number fields (by test id) whose typed text is invalid; not persisted. */
  readonly invalidFields: Readonly<Record<string, InvalidField>>;
}

/** What generating in the frame would do. */
export type FrameMode = 'text2img' | 'inpaint' | 'full';

/** A fresh app store. */
export function createAppStore(initial: Partial<AppState> = {}): StoreApi<AppState> {
  return createStore<AppState>(() => ({
    params: DEFAULT_PARAMS,
    lastSeed: null,
    model: { status: 'none' },
    run: null,
    staging: null,
    gallery: [],
    notices: [],
    language: 'en',
    settings: { provider: 'auto', smallFrames: false, livePreview: null },
    lastParams: null,
    restored: false,
    galleryLoaded: false,
    frameMode: 'text2img',
    invalidFields: {},
    ...initial,
  }));
}

let noticeId = 1;

/** Show a message; errors stay until dismissed, others fade after a while (handled by the UI). */
export function notify(
  store: StoreApi<AppState>, kind: Notice['kind'], key: MessageKey, vars: Notice['vars'] = {},
  extra: Pick<Notice, 'slot' | 'action'> = {},
): void {
  const notice: Notice = { id: noticeId++, kind, key, vars, ...extra };
  store.setState((s) => {
    // Slotted notices stay until replaced or cleared; of the others only the latest few are kept.
    const others = s.notices.filter((n) => n.slot === undefined).slice(-2);
    const slotted = s.notices.filter((n) => n.slot !== undefined && n.slot !== extra.slot);
    return { notices: [...s.notices.filter((n) => others.includes(n) || slotted.includes(n)), notice] };
  });
}

/** Remove the notice in `slot`, if any. */
export function clearSlot(store: StoreApi<AppState>, slot: string): void {
  if (store.getState().notices.some((n) => n.slot === slot)) store.setState((s) => ({ notices: s.notices.filter((n) => n.slot !== slot) }));
}

/** Remove a message. */
export function dismiss(store: StoreApi<AppState>, id: number): void {
  store.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

/** Record that field `id` holds invalid text (`field`), or no longer does (null). */
export function setFieldInvalid(store: StoreApi<AppState>, id: string, field: InvalidField | null): void {
  store.setState((s) => {
    if (field === null && !(id in s.invalidFields)) return s;
    const { [id]: _old, ...rest } = s.invalidFields;
    return { invalidFields: field === null ? rest : { ...rest, [id]: field } };
  });
}

/** Update prompt parameters. */
export function setParams(store: StoreApi<AppState>, patch: Partial<GenParams>): void {
  store.setState((s) => ({ params: { ...s.params, ...patch } }));
}

// ---- actions: the only writers of the state above, besides the helpers before them ---------

/** Put back the persisted part of the state (a restored session). */
export function restoreAppState(store: StoreApi<AppState>, saved: Pick<AppState, 'params' | 'lastSeed' | 'lastParams' | 'language' | 'settings'>): void {
  store.setState(saved);
}

/** Record the model's loading state. */
export function setModel(store: StoreApi<AppState>, model: ModelState): void {
  store.setState({ model });
}

/** Change settings (persisted with the session). */
export function setSettings(store: StoreApi<AppState>, patch: Partial<Settings>): void {
  store.setState((s) => ({ settings: { ...s.settings, ...patch } }));
}

/** Set the UI language. */
export function setLanguage(store: StoreApi<AppState>, language: Language): void {
  store.setState({ language });
}

/** Record what generating in the frame would do now. */
export function setFrameMode(store: StoreApi<AppState>, frameMode: FrameMode): void {
  if (store.getState().frameMode !== frameMode) store.setState({ frameMode });
}

/** Whether runs ask for live previews now: the setting, or by default while the model runs on WebGPU. */
export function livePreviewOn(s: Pick<AppState, 'settings' | 'model'>): boolean {
  return s.settings.livePreview ?? (s.model.status === 'ready' && s.model.info.ep === 'webgpu');
}

/** Mark the saved session as read back (or found empty), with `settings` from it and the URL. */
export function markRestored(store: StoreApi<AppState>, settings: Settings): void {
  store.setState({ restored: true, settings });
}

/** A run starts (its seed is shown as the last used seed). */
export function startRun(store: StoreApi<AppState>, runId: string, seed: number): void {
  store.setState({ run: { runId, startedAt: performance.now(), progress: null, preview: null, cancelling: false }, lastSeed: seed });
}

/** A progress event of run `runId` (ignored once that run is over). */
export function runProgress(store: StoreApi<AppState>, runId: string, progress: Progress): void {
  const run = store.getState().run;
  if (run?.runId === runId) store.setState({ run: { ...run, progress, preview: progress.preview ?? run.preview } });
}

/** Ask the running run to stop; returns its id, or null when there is none or it is already stopping. */
export function markCancelling(store: StoreApi<AppState>): string | null {
  const run = store.getState().run;
  if (!run || run.cancelling) return null;
  store.setState({ run: { ...run, cancelling: true } });
  return run.runId;
}

/** The run is over (results or not). */
export function endRun(store: StoreApi<AppState>): void {
  store.setState({ run: null });
}

/** Show a run's results over the frame. */
export function stageResults(store: StoreApi<AppState>, rect: Rect, results: readonly StagedResult[]): void {
  store.setState({ staging: { rect, results, index: 0 } });
}

/** Show the next (+1) or previous (-1) staged result. */
export function cycleStaged(store: StoreApi<AppState>, delta: number): void {
  const st = store.getState().staging;
  if (!st) return;
  const n = st.results.length;
  store.setState({ staging: { ...st, index: (((st.index + delta) % n) + n) % n } });
}

/** Drop the staged results; `accepted` (the one landed on the canvas) becomes the last parameters. */
export function clearStaging(store: StoreApi<AppState>, accepted: StagedResult | null = null): void {
  store.setState(accepted ? { staging: null, lastParams: accepted.params } : { staging: null });
}

/** Add a result to the end of the gallery. */
export function addGalleryItem(store: StoreApi<AppState>, item: GalleryItem): void {
  store.setState((s) => ({ gallery: [...s.gallery, item] }));
}

/** The stored gallery, read back: it goes first, before results made meanwhile (kept once by id). */
export function galleryReadBack(store: StoreApi<AppState>, items: readonly GalleryItem[]): void {
  store.setState((s) => ({ gallery: [...items, ...s.gallery.filter((g) => !items.some((i) => i.id === g.id))], galleryLoaded: true }));
}

/** Remove a gallery item. */
export function removeGalleryItem(store: StoreApi<AppState>, id: string): void {
  store.setState((s) => ({ gallery: s.gallery.filter((g) => g.id !== id) }));
}

/** The gallery in the store is all there is (it was read back, or nothing is stored). */
export function markGalleryLoaded(store: StoreApi<AppState>): void {
  store.setState({ galleryLoaded: true });
}
