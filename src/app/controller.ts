/**
 * The app: one editor, one store, one engine client, wired to its parts, each in its own module:
 * model loading (model.ts), the frame's mode (frame-mode.ts), runs and staging (run.ts), the gallery
 * (gallery.ts), opening and saving files (canvas-files.ts) and storage (storage.ts). UI components
 * call the parts; the feature folders (src/models, src/modes, src/priors) plug into the hooks below.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { PriorChoice } from '../../workers/protocol.ts';
import { Editor } from '../editor/editor.ts';
import { FRAME_SIZES } from '../editor/frame.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import type { RunContext, RunPlan } from '../modes/request.ts';
import { CanvasFiles } from './canvas-files.ts';
import { EngineClient } from './engine-client.ts';
import { watchFrameMode } from './frame-mode.ts';
import { Gallery } from './gallery.ts';
import { translate, type Language, type MessageKey } from './i18n.ts';
import { ModelLoader } from './model.ts';
import { builtinModel, type ModelChoice } from './model-source.ts';
import { Runs } from './run.ts';
import type { StartOptions } from './start-options.ts';
import { AppStorage } from './storage.ts';
import { createAppStore, markRestored, setLanguage, setSettings, type AppState } from './store.ts';

/** The app: one editor, one store, one engine client, one storage, and the parts that act on them. */
export class AppController {
  readonly editor: Editor;
  readonly store: StoreApi<AppState>;
  readonly client: EngineClient;
  readonly storage: AppStorage;
  readonly model: ModelLoader;
  readonly gallery: Gallery;
  readonly runs: Runs;
  readonly files: CanvasFiles;
  private readonly updateFrameMode: () => void;

  // ---- hooks: the feature folders' installers set these before start() ---------------------

  /** What the model loader loads: the built-in model, unless the model manager (src/models/install.ts) replaces this. */
  modelSource: () => Promise<ModelChoice> = async () => builtinModel(location.href);
  /** Every mode's request, the frame's own text-to-image/inpainting included (src/modes/install.ts). */
  modeRequest: ((ctx: RunContext) => RunPlan) | null = null;
  /** The prior kind requests use (src/priors/install.ts); null or undefined = the diffusion prior. */
  priorRequest: (() => PriorChoice | undefined) | null = null;
  /** Called after gallery.reuse() with the item's parameters (src/modes and src/priors put the item's mode, inputs and prior back). */
  onReuse: ((params: ImageParameters) => void) | null = null;

  constructor(private readonly options: StartOptions = {}, client?: EngineClient) {
    this.editor = new Editor({ longSide: options.smallFrames ? 128 : 512 });
    this.store = createAppStore();
    this.storage = new AppStorage(this.store, this.editor);
    this.client = client ?? new EngineClient(undefined, {
      onCrash: (reason) => this.model.crashed(reason),
      onReloaded: (r) => this.model.loaded(r),
      onGaveUp: () => this.model.gaveUp(),
    });
    this.model = new ModelLoader(this.store, this.editor, this.client, {
      modelSource: () => this.modelSource(),
      frameChosen: () => this.storage.sessionRestored || options.smallFrames !== undefined,
      t: (key) => this.t(key),
    });
    this.gallery = new Gallery(this.store, this.editor, this.storage, this);
    this.runs = new Runs(this.store, this.editor, this.client, this.gallery, this.storage, this);
    this.files = new CanvasFiles(this.store, this.editor);
    this.updateFrameMode = watchFrameMode(this.editor, this.store);
  }

  /** Restore the autosave, start autosaving, load the gallery, then start loading the model (not awaited). */
  async start(): Promise<void> {
    await this.storage.start(this.options.dbName);
    const settings = this.store.getState().settings;
    markRestored(this.store, {
      ...settings,
      provider: this.options.provider ?? settings.provider,
      smallFrames: this.options.smallFrames ?? settings.smallFrames,
    });
    this.updateFrameMode();
    document.documentElement.lang = this.store.getState().language;
    if (this.options.autoload !== false) void this.model.load();
  }

  /** Translate with the current language. */
  t(key: MessageKey, vars: Readonly<Record<string, string | number>> = {}): string {
    return translate(this.store.getState().language, key, vars);
  }

  /** Switch the UI language. */
  setLanguage(language: Language): void {
    setLanguage(this.store, language);
    document.documentElement.lang = language;
  }

  /** Allow small test frames (64–256) besides the normal sizes. */
  /** Show live previews during runs (or not). */
  setLivePreview(livePreview: boolean): void {
    setSettings(this.store, { livePreview });
  }

  setSmallFrames(smallFrames: boolean): void {
    setSettings(this.store, { smallFrames });
    const { aspect, longSide } = this.editor.state;
    if (!this.frameSizes().includes(longSide)) this.editor.setFrameSize(aspect, smallFrames ? 128 : 512);
  }

  /** Long-side choices the size control offers (the model's native size among them). */
  frameSizes(): number[] {
    const state = this.store.getState();
    const sizes: number[] = state.settings.smallFrames ? [...FRAME_SIZES.small, ...FRAME_SIZES.normal] : [...FRAME_SIZES.normal];
    const n = state.model.status === 'ready' ? state.model.info.nativeSize : undefined;
    const native = n === undefined ? null : Math.max(n.width, n.height);
    return native === null || sizes.includes(native) ? sizes : [native, ...sizes].sort((a, b) => a - b);
  }
}
