/** Loading the model into the generation worker: the built-in one or the model manager's choice, on the chosen execution provider. */
import type { StoreApi } from 'zustand/vanilla';
import { BUILTIN_MODEL } from '../../workers/builtin.ts';
import { familyName, type BundleInfo, type Result } from '../../workers/protocol.ts';
import type { ProviderPreference } from '../../workers/runtime/types.ts';
import type { Editor } from '../editor/editor.ts';
import { ASPECT_NAMES, frameDimensions } from '../editor/frame.ts';
import type { EngineClient, RestartReason } from './engine-client.ts';
import type { MessageKey } from './i18n.ts';
import type { ModelChoice } from './model-source.ts';
import { notify, setModel, setParams, setSettings, type AppState } from './store.ts';

/** What the loader needs of the app besides the store, the editor and the engine. */
export interface ModelHost {
  /** What to load (the model manager's choice once installed). */
  readonly modelSource: () => Promise<ModelChoice>;
  /** True when the frame must not follow the model's native size: a restored session or `?small=` chose it. */
  readonly frameChosen: () => boolean;
  readonly t: (key: MessageKey) => string;
}

/** Model loading and the engine client's crash events. */
export class ModelLoader {
  private nativeSizeApplied = false;

  constructor(
    private readonly store: StoreApi<AppState>,
    private readonly editor: Editor,
    private readonly client: EngineClient,
    private readonly host: ModelHost,
  ) {}

  /** Load the model (built-in, or the one chosen in the model manager) with the chosen execution provider. */
  async load(): Promise<void> {
    setModel(this.store, { status: 'loading', name: BUILTIN_MODEL.name });
    const { name, source } = await this.host.modelSource();
    setModel(this.store, { status: 'loading', name });
    this.loaded(await this.client.load(source, { provider: this.store.getState().settings.provider }));
  }

  /** Choose the execution provider and reload the model with it. */
  async setProvider(provider: ProviderPreference): Promise<void> {
    setSettings(this.store, { provider });
    if (this.store.getState().model.status !== 'none') await this.load();
  }

  /** A load finished (ours, or the client's reload after a crash). */
  loaded(r: Result<BundleInfo>): void {
    if (r.ok) {
      setModel(this.store, { status: 'ready', info: r.value });
      this.applyNativeSize(r.value);
      this.applyFamilyDefaults(r.value);
      if (r.value.warnings.length > 0) notify(this.store, 'warning', 'warnings', { text: r.value.warnings.join('; ') });
    } else {
      setModel(this.store, { status: 'error', message: `${r.error.code}: ${r.error.message}` });
    }
  }

  /** The worker died or lost its device: the client restarts it and reloads the model. */
  crashed(reason: RestartReason): void {
    if (this.store.getState().model.status !== 'none') setModel(this.store, { status: 'loading', name: BUILTIN_MODEL.name });
    notify(this.store, 'error', reason === 'device-lost' ? 'errDeviceLost' : 'errWorkerCrashed');
  }

  /** The worker kept dying: the client stopped reloading. */
  gaveUp(): void {
    setModel(this.store, { status: 'error', message: this.host.t('workerGaveUp') });
  }

  /**
   * A model of another family than the panel was set up for: the panel takes that family's defaults (2.1: the
   * reference's DDIM, 100 steps; 2.2: DDPM, 30 steps) and says so. Reloading the same family keeps the user's values.
   */
  private applyFamilyDefaults(info: BundleInfo): void {
    if (this.store.getState().params.family === info.family) return;
    const d = info.defaults;
    setParams(this.store, { ...d, family: info.family });
    notify(this.store, 'info', 'familyDefaults', {
      family: familyName(info.family), scheduler: d.scheduler, steps: d.steps, guidance: d.guidance,
    });
  }

  /** The model's native size (manifest native_size) becomes the frame on its first load, unless the frame was chosen otherwise. */
  private applyNativeSize(info: BundleInfo): void {
    const n = info.nativeSize;
    if (n === undefined || this.nativeSizeApplied || this.host.frameChosen()) return;
    this.nativeSizeApplied = true;
    const long = Math.max(n.width, n.height);
    const aspect = ASPECT_NAMES.find((a) => { const d = frameDimensions(a, long); return d.width === n.width && d.height === n.height; });
    if (aspect !== undefined) this.editor.setFrameSize(aspect, long);
  }
}
