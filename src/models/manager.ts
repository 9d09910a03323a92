/**
 * The model manager's state and actions (vanilla zustand, no React): sources, downloads with progress,
 * the stored list, delete, and which bundle the editor loads. React components in this folder only
 * render it. The editor is reached through one function: `reload()` (the controller's loadModel).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EngineErrorData } from '../../workers/errors.ts';
import type { Result } from '../../workers/protocol.ts';
import { formatBytes } from '../../workers/storage/format.ts';
import type { AddProgress, AddRequest, FolderFile, GpuFacts, StorageUsage, StoredBundle } from '../../workers/storage/protocol.ts';
import { builtinModel, type ModelChoice } from '../app/model-source.ts';
import type { ModelsApi } from './client.ts';

/** Id of the stored copy of the built-in bundle (workers/storage/api.ts BUILTIN_ID). */
export const BUILTIN_ID = 'builtin';

/** A running add, as the panel shows it. */
export interface ModelTask {
  readonly kind: AddRequest['kind'];
  readonly label: string;
  /** Known once the manifest was read. */
  readonly bundleId: string | null;
}

/** A message line under the sources. */
export type ModelNotice =
  | { readonly kind: 'error'; readonly error: EngineErrorData }
  | { readonly kind: 'info'; readonly text: string };

/** The model manager's state (the panel renders it). */
export interface ModelsState {
  readonly open: boolean;
  readonly bundles: readonly StoredBundle[];
  readonly usage: StorageUsage | null;
  readonly gpu: GpuFacts | null;
  /** The bundle the editor loads at start and after "Use". */
  readonly activeId: string | null;
  readonly task: ModelTask | null;
  readonly progress: AddProgress | null;
  readonly notice: ModelNotice | null;
  readonly url: string;
}

/** What the editor offers the manager. */
export interface EngineHost {
  /** Load the model the manager's `startSource` names (the controller's loadModel). */
  reload(): Promise<void>;
}


function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

function isErrorData(e: unknown): e is EngineErrorData {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { message?: unknown }).message === 'string';
}

/** Model manager: the store plus its actions. */
export class ModelManager {
  readonly store: StoreApi<ModelsState>;
  private host: EngineHost | null = null;
  private backgroundCopy: Promise<void> | null = null;

  constructor(private readonly api: ModelsApi, private readonly baseHref: string) {
    this.store = createStore<ModelsState>(() => ({
      open: false, bundles: [], usage: null, gpu: null, activeId: null, task: null, progress: null, notice: null, url: '',
    }));
  }

  /** Connect the editor (done once at start). */
  attach(host: EngineHost): void {
    this.host = host;
  }

  setOpen(open: boolean): void {
    this.store.setState({ open });
    if (open) void this.refresh();
  }

  setUrl(url: string): void {
    this.store.setState({ url });
  }

  /** Re-read the list, storage usage, active bundle and GPU facts. */
  async refresh(): Promise<void> {
    const [bundles, usage, active, gpu] = await Promise.all([this.api.list(), this.api.usage(), this.api.active(), this.api.gpu()]);
    this.store.setState({
      ...(bundles.ok ? { bundles: bundles.value } : {}),
      ...(usage.ok ? { usage: usage.value } : {}),
      ...(active.ok ? { activeId: active.value } : {}),
      ...(gpu.ok ? { gpu: gpu.value } : {}),
      ...(!bundles.ok ? { notice: { kind: 'error', error: bundles.error } } : {}),
    });
  }

  /** Download (or resume) the bundle at the URL in the input. */
  addUrl(url = this.store.getState().url): Promise<StoredBundle | null> {
    return this.add({ kind: 'url', url }, url.trim());
  }

  /** Copy a picked folder into storage. */
  addFolder(files: readonly FolderFile[], label: string): Promise<StoredBundle | null> {
    if (files.length === 0) {
      this.store.setState({ notice: { kind: 'error', error: { code: 'BAD_REQUEST', message: 'The picked folder is empty: pick the folder that holds manifest.json.' } } });
      return Promise.resolve(null);
    }
    return this.add({ kind: 'folder', label, files }, label);
  }

  /** Store the built-in bundle for offline use. */
  addBuiltin(): Promise<StoredBundle | null> {
    return this.add({ kind: 'builtin' }, 'built-in tiny model');
  }

  /** Resume an incomplete bundle from its source (URL and built-in sources; a folder must be picked again). */
  resume(bundle: StoredBundle): Promise<StoredBundle | null> {
    switch (bundle.source.kind) {
      case 'builtin': return this.addBuiltin();
      case 'url': return this.addUrl(bundle.source.label);
      case 'folder':
        this.store.setState({ notice: { kind: 'error', error: { code: 'BAD_REQUEST', message: `Pick the folder "${bundle.source.label}" again to finish copying it.` } } });
        return Promise.resolve(null);
    }
  }

  /** Replace a damaged bundle: delete what is stored, then add it again from its source (URL or built-in). */
  async redownload(bundle: StoredBundle): Promise<StoredBundle | null> {
    await this.remove(bundle.id);
    // The delete failed (its notice says why): keep the damaged entry rather than add a second copy.
    if (this.store.getState().bundles.some((b) => b.id === bundle.id)) return null;
    return this.resume(bundle);
  }

  /** Pause the running download (stored bytes are kept). */
  cancel(): void {
    const id = this.store.getState().task?.bundleId ?? this.store.getState().progress?.bundleId;
    if (id) this.api.cancel(id);
  }

  private async add(request: AddRequest, label: string): Promise<StoredBundle | null> {
    if (this.store.getState().task) {
      this.store.setState({ notice: { kind: 'error', error: { code: 'BAD_REQUEST', message: 'A download is already running: wait for it or pause it first.' } } });
      return null;
    }
    this.store.setState({ task: { kind: request.kind, label, bundleId: null }, progress: null, notice: null });
    try {
      const r = await this.api.add(request, (p) => {
        const task = this.store.getState().task;
        this.store.setState({ progress: p, ...(task && p.bundleId ? { task: { ...task, bundleId: p.bundleId } } : {}) });
      });
      if (!r.ok) {
        this.store.setState({ notice: { kind: 'error', error: r.error } });
        return null;
      }
      this.store.setState({ notice: { kind: 'info', text: `${r.value.name} is stored and verified (${formatBytes(r.value.bytes)}).` } });
      return r.value;
    } finally {
      this.store.setState({ task: null });
      await this.refresh();
    }
  }

  /** Make a ready bundle the one the editor uses, and load it. */
  async activate(id: string): Promise<void> {
    const r = await this.api.setActive(id);
    if (!r.ok) {
      this.store.setState({ notice: { kind: 'error', error: r.error } });
      return;
    }
    this.store.setState({ activeId: id });
    await this.host?.reload();
  }

  /** Delete a bundle; if the editor was using it, fall back to the built-in model. */
  async remove(id: string): Promise<void> {
    const s = this.store.getState();
    if (s.task?.bundleId === id) this.api.cancel(id);
    const wasActive = s.activeId === id;
    const r = await this.api.remove(id);
    if (!r.ok) {
      this.store.setState({ notice: { kind: 'error', error: r.error } });
      return;
    }
    const name = s.bundles.find((b) => b.id === id)?.name ?? id;
    this.store.setState({ notice: { kind: 'info', text: `Deleted ${name}: ${formatBytes(r.value.freedBytes)} freed.` }, usage: r.value.usage });
    await this.refresh();
    if (wasActive) await this.host?.reload();
  }

  /**
   * What the editor loads: the active bundle from storage; else the stored built-in bundle; else the
   * built-in bundle from its URL, while a copy is stored in the background so it works offline next time.
   * Never throws: storage trouble falls back to the URL.
   */
  async startSource(): Promise<ModelChoice> {
    const url = builtinModel(this.baseHref);
    try {
      const active = unwrap(await this.api.active());
      for (const id of active === null ? [BUILTIN_ID] : [active, BUILTIN_ID]) {
        const opened = await this.api.open(id);
        if (opened.ok) {
          this.store.setState({ activeId: active });
          return { name: opened.value.bundle.name, source: opened.value.source };
        }
      }
    } catch (e) {
      console.warn('model manager: stored models unavailable, using the built-in URL', isErrorData(e) ? e.message : e);
    }
    this.backgroundCopy ??= this.api.add({ kind: 'builtin' }).then((r) => {
      if (!r.ok) console.warn(`model manager: could not store the built-in model for offline use: ${r.error.message}`);
      return this.refresh();
    }).finally(() => { this.backgroundCopy = null; });
    return url;
  }

  /** Resolves when a background copy of the built-in bundle (started by startSource) is done. */
  async settled(): Promise<void> {
    await this.backgroundCopy;
  }
}
