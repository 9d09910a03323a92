/**
 * Wiring between the editor engine, the app store, the generation worker and storage.
 * UI components call these methods; none of them holds logic of its own.
 */
import type { StoreApi } from 'zustand/vanilla';
import { BUILTIN_MODEL } from '../../workers/builtin.ts';
import { ErrorCode } from '../../workers/errors.ts';
import { SCHEDULER_KINDS, type BundleInfo, type BundleSourceData, type PriorChoice, type Progress, type Result, type SchedulerKind } from '../../workers/protocol.ts';
import type { ProviderPreference } from '../../workers/runtime/types.ts';
import { pasteBack, repaintMask } from '../editor/compose.ts';
import { Editor } from '../editor/editor.ts';
import { ASPECT_NAMES, FRAME_SIZES, frameDimensions, type AspectPreset } from '../editor/frame.ts';
import { priorLabel, type ImageParameters } from '../editor/parameters.ts';
import { resizeNearest } from '../editor/raster.ts';
import type { RunContext, RunPlan } from '../modes/request.ts';
import { EngineClient } from './engine-client.ts';
import { decodeImageFile, decodePng, download, encodePng, MAX_IMAGE_SIDE } from './files.ts';
import { translate, type Language, type MessageKey } from './i18n.ts';
import { Autosave, classifyStorageError, Persistence, quarantineToJson, restoreSession, type QuarantineRecord, type SaveOutcome } from './persistence.ts';
import { applyStyle, STYLE_IDS, type StyleId } from './presets.ts';
import { clearSlot, createAppStore, notify, setParams, type AppState, type FrameMode, type GalleryItem, type StagedResult } from './store.ts';

/** The built-in model, served from public/ (its one home is workers/builtin.ts). */
export { BUILTIN_MODEL };

/** Start-up options read from the URL (documented in README): ep, small, autoload, db. */
export interface StartOptions {
  /** Force an execution provider (`?ep=wasm|webgpu|auto`). */
  readonly provider?: ProviderPreference;
  /** Offer small test frame sizes 64–256 (`?small=1`). */
  readonly smallFrames?: boolean;
  /** Load the built-in model at start (default true; `?autoload=0` skips it). */
  readonly autoload?: boolean;
  /** IndexedDB database name (`?db=name`), or null for no persistence. */
  readonly dbName?: string | null;
}

/** Parse start options from a query string. */
export function parseStartOptions(search: string): StartOptions {
  const q = new URLSearchParams(search);
  const ep = q.get('ep');
  const out: { -readonly [K in keyof StartOptions]: StartOptions[K] } = {};
  if (ep === 'wasm' || ep === 'webgpu' || ep === 'auto') out.provider = ep;
  if (q.has('small')) out.smallFrames = q.get('small') !== '0';
  if (q.get('autoload') === '0') out.autoload = false;
  if (q.has('db')) out.dbName = q.get('db');
  return out;
}

let runCounter = 0;

/** The request's `prior` field, present only when one was chosen. */
const prior = (choice: PriorChoice | undefined): { prior?: PriorChoice } => (choice === undefined ? {} : { prior: choice });

/** The app: one editor, one store, one engine client, one autosave. */
export class AppController {
  readonly editor: Editor;
  readonly store: StoreApi<AppState>;
  readonly client: EngineClient;
  private persistence: Persistence | null = null;
  private autosave: Autosave | null = null;
  private modeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: StartOptions = {}, client?: EngineClient) {
    this.editor = new Editor({ longSide: options.smallFrames ? 128 : 512 });
    this.store = createAppStore();
    this.client = client ?? new EngineClient(undefined, {
      onCrash: (reason) => {
        if (this.store.getState().model.status !== 'none') this.store.setState({ model: { status: 'loading', name: BUILTIN_MODEL.name } });
        notify(this.store, 'error', reason === 'device-lost' ? 'errDeviceLost' : 'errWorkerCrashed');
      },
      onReloaded: (r) => this.modelLoaded(r),
      onGaveUp: () => this.store.setState({ model: { status: 'error', message: this.t('workerGaveUp') } }),
    });
    this.editor.store.subscribe((s, prev) => {
      if (s.docVersion !== prev.docVersion || s.frame !== prev.frame) this.scheduleFrameMode();
    });
  }

  /** True when start() found a saved session (the camera then comes from it). */
  sessionRestored = false;

  /** Restore the autosave, start autosaving, load the gallery, then start loading the model (not awaited). */
  async start(): Promise<void> {
    const dbName = this.options.dbName === undefined ? undefined : this.options.dbName;
    if (dbName === null) this.store.setState({ galleryLoaded: true }); // nothing stored: the gallery in memory is all there is
    if (dbName !== null) await this.startStorage(dbName);
    const settings = this.store.getState().settings;
    this.store.setState({
      restored: true,
      settings: {
        provider: this.options.provider ?? settings.provider,
        smallFrames: this.options.smallFrames ?? settings.smallFrames,
      },
    });
    this.updateFrameMode();
    document.documentElement.lang = this.store.getState().language;
    if (this.options.autoload !== false) void this.loadModel();
  }

  /** Translate with the current language. */
  t(key: MessageKey, vars: Readonly<Record<string, string | number>> = {}): string {
    return translate(this.store.getState().language, key, vars);
  }

  // ---- model ----------------------------------------------------------------------------

  /** What loadModel loads: the built-in model's URL, unless the model manager (src/models/install.ts) replaces this. */
  modelSource: () => Promise<{ readonly name: string; readonly source: BundleSourceData }> = async () => ({
    name: BUILTIN_MODEL.name, source: { kind: 'url', baseUrl: new URL(BUILTIN_MODEL.path, location.href).href },
  });

  /** Every mode's request, the frame's own text-to-image/inpainting included (src/modes/install.ts hooks it in). */
  modeRequest: ((ctx: RunContext) => RunPlan) | null = null;

  /** The prior kind requests use (src/priors/install.ts); null or undefined = the diffusion prior. */
  priorRequest: (() => PriorChoice | undefined) | null = null;

  /** Called after reuse() with the item's parameters (src/modes puts the item's mode and inputs back). */
  onReuse: ((params: ImageParameters) => void) | null = null;

  /** Load the model (built-in, or the one chosen in the model manager) with the chosen execution provider. */
  async loadModel(): Promise<void> {
    this.store.setState({ model: { status: 'loading', name: BUILTIN_MODEL.name } });
    const { name, source } = await this.modelSource();
    this.store.setState({ model: { status: 'loading', name } });
    const r = await this.client.load(source, { provider: this.store.getState().settings.provider });
    this.modelLoaded(r);
  }

  private modelLoaded(r: Result<BundleInfo>): void {
    if (r.ok) {
      this.store.setState({ model: { status: 'ready', info: r.value } });
      this.applyNativeSize(r.value);
      if (r.value.warnings.length > 0) notify(this.store, 'warning', 'warnings', { text: r.value.warnings.join('; ') });
    } else {
      this.store.setState({ model: { status: 'error', message: `${r.error.code}: ${r.error.message}` } });
    }
  }

  private nativeSizeApplied = false;

  /** The model's native size (manifest native_size) becomes the frame on its first load, unless the
   * session was restored or the URL chose the frame sizes (`?small=`). */
  private applyNativeSize(info: BundleInfo): void {
    const n = info.nativeSize;
    if (n === undefined || this.nativeSizeApplied || this.sessionRestored || this.options.smallFrames !== undefined) return;
    this.nativeSizeApplied = true;
    const long = Math.max(n.width, n.height);
    const aspect = ASPECT_NAMES.find((a) => { const d = frameDimensions(a, long); return d.width === n.width && d.height === n.height; });
    if (aspect !== undefined) this.editor.setFrameSize(aspect, long);
  }

  /** Choose the execution provider and reload the model with it. */
  async setProvider(provider: ProviderPreference): Promise<void> {
    this.store.setState((s) => ({ settings: { ...s.settings, provider } }));
    if (this.store.getState().model.status !== 'none') await this.loadModel();
  }

  setLanguage(language: Language): void {
    this.store.setState({ language });
    document.documentElement.lang = language;
  }

  /** Allow small test frames (64–256) besides the normal sizes. */
  setSmallFrames(smallFrames: boolean): void {
    this.store.setState((s) => ({ settings: { ...s.settings, smallFrames } }));
    const { aspect, longSide } = this.editor.state;
    if (!this.frameSizes().includes(longSide)) this.editor.setFrameSize(aspect, smallFrames ? 128 : 512);
  }

  /** Long-side choices the size control offers. */
  frameSizes(): number[] {
    const state = this.store.getState();
    const sizes: number[] = state.settings.smallFrames ? [...FRAME_SIZES.small, ...FRAME_SIZES.normal] : [...FRAME_SIZES.normal];
    const n = state.model.status === 'ready' ? state.model.info.nativeSize : undefined;
    const native = n === undefined ? null : Math.max(n.width, n.height);
    return native === null || sizes.includes(native) ? sizes : [native, ...sizes].sort((a, b) => a - b);
  }

  setFrameSize(aspect: AspectPreset, longSide: number): void {
    this.editor.setFrameSize(aspect, longSide);
  }

  // ---- frame mode -----------------------------------------------------------------------

  private scheduleFrameMode(): void {
    if (this.modeTimer) return;
    this.modeTimer = setTimeout(() => { this.modeTimer = null; this.updateFrameMode(); }, 50);
  }

  /** What generating would do in the frame now (cheap: no distance transform). */
  private updateFrameMode(): void {
    const frame = this.editor.getFrame();
    const image = this.editor.doc.image.read(frame);
    const mask = this.editor.doc.mask.hasContent(frame) ? this.editor.doc.mask.read(frame) : null;
    const m = repaintMask(image, mask);
    let n = 0;
    for (const v of m) n += v;
    const mode: FrameMode = n === m.length ? 'text2img' : n === 0 ? 'full' : 'inpaint';
    if (mode !== this.store.getState().frameMode) this.store.setState({ frameMode: mode });
  }

  // ---- runs -----------------------------------------------------------------------------

  /** Generate into the frame: text-to-image over empty canvas, inpaint/outpaint over pixels. */
  async generate(): Promise<void> {
    const s = this.store.getState();
    if (s.run) { notify(this.store, 'warning', 'errRunning'); return; }
    if (s.staging) { notify(this.store, 'warning', 'errStaged'); return; }
    // A field showing invalid text would otherwise run with its last valid value, unseen.
    const invalid = Object.values(s.invalidFields)[0];
    if (invalid) {
      const rule = this.t(invalid.integer ? 'fieldWhole' : 'fieldNumber', { min: invalid.min, max: invalid.max });
      notify(this.store, 'error', 'errInvalidField', { field: this.t(invalid.label), rule });
      return;
    }
    if (s.model.status !== 'ready') { notify(this.store, 'error', 'errNoModel'); return; }
    const info = s.model.info;
    const frame = this.editor.getFrame();
    const image = this.editor.doc.image.read(frame);
    const p = s.params;
    const styled = applyStyle(p.style, p.prompt, p.negativePrompt);
    const seed = p.randomSeed ? (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) : p.seed;
    const common = {
      width: frame.width, height: frame.height, steps: p.steps, guidance: p.guidance, priorSteps: p.priorSteps,
      priorGuidance: p.priorGuidance, scheduler: p.scheduler, seed, numImages: p.numImages, negativePrompt: styled.negativePrompt,
      ...prior(this.priorRequest?.()),
    };
    const mask = this.editor.doc.mask.hasContent(frame) ? this.editor.doc.mask.read(frame) : null;
    if (!this.modeRequest) throw new Error('AppController.generate: no modes installed (call installModes before start)');
    const plan = this.modeRequest({ common, prompt: styled.prompt, rawPrompt: p.prompt, info, frame, image, mask });
    if (!plan.ok) {
      if ('notice' in plan) notify(this.store, 'error', plan.notice);
      return; // otherwise the mode panel says why
    }
    const { request, params: { mode, prompt, ...recorded }, weights } = plan;
    const runId = `run-${Date.now().toString(36)}-${++runCounter}`;
    this.store.setState({ run: { runId, startedAt: performance.now(), progress: null, cancelling: false }, lastSeed: seed });
    this.editor.setLocked(true);
    const onProgress = (progress: Progress): void => {
      const run = this.store.getState().run;
      if (run?.runId === runId) this.store.setState({ run: { ...run, progress } });
    };
    let result;
    try {
      result = await this.client.generate(runId, request, onProgress);
    } catch (e) {
      result = { ok: false as const, error: { code: ErrorCode.Internal, message: e instanceof Error ? e.message : String(e) } };
    }
    this.store.setState({ run: null });
    if (!result.ok) {
      this.editor.setLocked(false);
      if (result.error.code === ErrorCode.Cancelled) notify(this.store, 'info', 'cancelled');
      else if (this.client.restarts > 0 && result.error.message.includes('stopped unexpectedly')) { /* crash already reported */ }
      else if (result.error.code === ErrorCode.DeviceLost) { /* reported by onCrash('device-lost') */ }
      else notify(this.store, 'error', 'errEngine', { code: result.error.code, message: result.error.message });
      return;
    }
    if (result.value.warnings.length > 0) notify(this.store, 'warning', 'warnings', { text: result.value.warnings.join('; ') });
    const results: StagedResult[] = [];
    for (const generated of result.value.images) {
      const used = generated.params;
      const img = generated.image.width === frame.width && generated.image.height === frame.height
        ? generated.image : resizeNearest(generated.image, frame.width, frame.height);
      const params: ImageParameters = {
        prompt, negativePrompt: p.negativePrompt, style: p.style, mode, width: frame.width, height: frame.height,
        steps: used.steps, guidance: used.guidance, priorSteps: used.priorSteps, priorGuidance: used.priorGuidance,
        scheduler: used.scheduler, seed: used.seed, model: used.model, ep: used.ep, ...recorded,
        ...(used.prior.kind === 'diffusion' ? {} : { prior: priorLabel(used.prior) }),
      };
      const composite = pasteBack(image, img, weights);
      // The gallery keeps what the user sees: the frame after paste-back.
      const galleryId = await this.addToGallery(composite, params);
      results.push({ image: img, composite, params, galleryId });
    }
    if (results.length === 0) { this.editor.setLocked(false); return; }
    this.store.setState({ staging: { rect: frame, results, index: 0 } });
    void this.flush(); // the results' gallery items and the run's seed
  }

  /** Stop the running generation; the canvas stays as it was. */
  cancel(): void {
    const run = this.store.getState().run;
    if (!run || run.cancelling) return;
    this.store.setState({ run: { ...run, cancelling: true } });
    this.client.cancel(run.runId);
  }

  /** Land the staged result shown now, as one undoable step. */
  accept(): void {
    const staging = this.store.getState().staging;
    const chosen = staging?.results[staging.index];
    if (!staging || !chosen) return;
    this.editor.setLocked(false);
    this.editor.applyGeneration(staging.rect, chosen.composite, 'generate');
    this.store.setState({ staging: null, lastParams: chosen.params });
    // Write now, not after the quiet period: a tab closed or killed right after Accept keeps the result.
    void this.flush();
  }

  /** Drop the staged results (they stay in the gallery). */
  discard(): void {
    if (!this.store.getState().staging) return;
    this.editor.setLocked(false);
    this.store.setState({ staging: null });
  }

  /** Show the next (+1) or previous (-1) staged result. */
  cycle(delta: number): void {
    const st = this.store.getState().staging;
    if (!st) return;
    const n = st.results.length;
    this.store.setState({ staging: { ...st, index: (((st.index + delta) % n) + n) % n } });
  }

  // ---- gallery --------------------------------------------------------------------------

  private async addToGallery(image: { width: number; height: number; data: Uint8ClampedArray }, params: ImageParameters): Promise<string> {
    const id = `g-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const item: GalleryItem = { id, createdAt: Date.now(), params, width: image.width, height: image.height, png: await encodePng(image, params) };
    this.store.setState((s) => ({ gallery: [...s.gallery, item] }));
    this.autosave?.putGalleryItem(item);
    return id;
  }

  /** Put a gallery item's parameters back into the prompt panel and the frame size. */
  reuse(id: string): void {
    const item = this.store.getState().gallery.find((g) => g.id === id);
    if (!item) return;
    const q = item.params;
    const style = (STYLE_IDS as readonly string[]).includes(q.style) ? (q.style as StyleId) : 'none';
    const scheduler = (SCHEDULER_KINDS as readonly string[]).includes(q.scheduler) ? (q.scheduler as SchedulerKind) : this.store.getState().params.scheduler;
    setParams(this.store, {
      prompt: q.prompt, negativePrompt: q.negativePrompt, style, randomSeed: false, seed: q.seed, steps: q.steps,
      guidance: q.guidance, priorSteps: q.priorSteps, priorGuidance: q.priorGuidance, scheduler,
    });
    if (q.width !== this.editor.getFrame().width || q.height !== this.editor.getFrame().height) this.editor.setFrameExactSize(q.width, q.height);
    this.onReuse?.(q);
  }

  /** Place a gallery image into the frame (one undoable step). */
  async place(id: string): Promise<void> {
    const item = this.store.getState().gallery.find((g) => g.id === id);
    if (!item || this.editor.state.locked) return;
    const raster = await decodePng(item.png);
    const f = this.editor.getFrame();
    this.editor.placeImage(raster, Math.round(f.x + (f.width - raster.width) / 2), Math.round(f.y + (f.height - raster.height) / 2), 'place image');
  }

  /** Download a gallery item's PNG. */
  downloadItem(id: string): void {
    const item = this.store.getState().gallery.find((g) => g.id === id);
    if (item) download(item.png, `kandinsky-${item.params.seed}.png`);
  }

  async removeGalleryItem(id: string): Promise<void> {
    this.store.setState((s) => ({ gallery: s.gallery.filter((g) => g.id !== id) }));
    this.autosave?.deleteGalleryItem(id);
    await this.flush();
  }

  // ---- files ----------------------------------------------------------------------------

  /** Open an image file onto the canvas (centred on the frame), or explain why not. */
  async openFile(file: File): Promise<void> {
    if (this.editor.state.locked) { notify(this.store, 'warning', 'errStaged'); return; }
    const r = await decodeImageFile(file);
    if (!r.ok) {
      if (r.reason === 'not-image') notify(this.store, 'error', 'errNotImage', { name: file.name });
      else notify(this.store, 'error', 'errCorrupt', { name: file.name, message: r.message });
      return;
    }
    const f = this.editor.getFrame();
    const x = Math.round(f.x + f.width / 2 - r.raster.width / 2);
    const y = Math.round(f.y + f.height / 2 - r.raster.height / 2);
    this.editor.placeImage(r.raster, x, y, 'open image');
    this.editor.fitToContent();
    if (r.downscaled) {
      notify(this.store, 'warning', 'imageDownscaled', {
        name: file.name, width: r.originalWidth, height: r.originalHeight, newWidth: r.raster.width, newHeight: r.raster.height, max: MAX_IMAGE_SIDE,
      });
    } else {
      notify(this.store, 'info', 'imageOpened', { name: file.name, width: r.raster.width, height: r.raster.height });
    }
  }

  /** Save the whole painted canvas as PNG with the last parameters embedded. */
  async saveCanvas(): Promise<void> {
    const bounds = this.editor.doc.image.contentBounds();
    if (!bounds) { notify(this.store, 'warning', 'nothingToSave'); return; }
    await this.savePng(this.editor.doc.image.read(bounds), 'kandinsky-canvas.png');
  }

  /** Save the frame's pixels as PNG with the last parameters embedded. */
  async saveFrame(): Promise<void> {
    await this.savePng(this.editor.doc.image.read(this.editor.getFrame()), 'kandinsky-frame.png');
  }

  private async savePng(image: { width: number; height: number; data: Uint8ClampedArray }, file: string): Promise<void> {
    const bytes = await encodePng(image, this.store.getState().lastParams);
    download(bytes, file);
    notify(this.store, 'info', 'saved', { file });
  }

  // ---- storage --------------------------------------------------------------------------

  /** Write pending autosave data now (page hide, tests). */
  async flush(): Promise<void> {
    await this.autosave?.flush();
  }

  /**
   * Open storage, then restore the session, load the gallery and start autosaving, each on its own:
   * a damaged session record must not keep the gallery hidden or the autosave off.
   */
  private async startStorage(dbName: string | undefined): Promise<void> {
    let persistence: Persistence;
    try {
      persistence = await Persistence.open(dbName);
    } catch (e) {
      // No storage at all: the gallery in memory is all there is.
      this.store.setState({ galleryLoaded: true });
      this.storageFailed(e);
      return;
    }
    this.persistence = persistence;
    let quarantine: QuarantineRecord | null = null;
    try {
      const loaded = await persistence.loadSession();
      this.sessionRestored = restoreSession(loaded.session, this.editor, this.store);
      if (loaded.problems.length > 0) {
        quarantine = { id: `session-${new Date().toISOString()}`, foundAt: Date.now(), problems: loaded.problems, ...loaded.raw };
        const record = quarantine;
        notify(this.store, 'error', 'sessionDamaged', { count: loaded.problems.length, first: loaded.problems[0] ?? '' }, {
          slot: 'session', action: { label: 'downloadDamaged', run: () => this.downloadDamagedSession(record) },
        });
      } else if (this.sessionRestored) {
        notify(this.store, 'info', 'restored');
      }
    } catch (e) {
      this.storageFailed(e);
    }
    try {
      const { items, skipped } = await persistence.loadGallery();
      this.store.setState((s) => ({ gallery: [...items, ...s.gallery.filter((g) => !items.some((i) => i.id === g.id))], galleryLoaded: true }));
      if (skipped > 0) notify(this.store, 'warning', 'gallerySkipped', { count: skipped });
    } catch (e) {
      this.storageFailed(e);
    }
    this.autosave = new Autosave(persistence, this.editor, this.store, { onOutcome: (o) => this.saveOutcome(o) });
    // A repaired session is written back whole, with the damaged original kept beside it for export.
    if (quarantine) this.autosave.rewriteAll(quarantine);
    this.autosave.start();
  }

  /** Download a damaged session record as JSON (typed arrays as base64). */
  downloadDamagedSession(record: QuarantineRecord): void {
    download(new TextEncoder().encode(quarantineToJson(record)), `kandinsky-damaged-session-${record.foundAt}.json`, 'application/json');
  }

  private saveOutcome(o: SaveOutcome): void {
    if (o.ok) clearSlot(this.store, 'storage');
    else this.storageFailed(o.error);
  }

  /** One storage notice at a time, with the reason; it goes away when a write succeeds again. */
  private storageFailed(e: unknown): void {
    const { reason, detail } = classifyStorageError(e);
    const key = ({ quota: 'storageQuota', blocked: 'storageBlocked', failed: 'storageError' } as const satisfies Record<typeof reason, MessageKey>)[reason];
    notify(this.store, 'error', key, { message: detail }, { slot: 'storage' });
  }
}
