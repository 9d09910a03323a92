/**
 * Personal linear priors in the app (README "Prior kinds"): the prompt panel's prior choice, the fit
 * dialog's images and captions, fitting in the generation worker with progress and cancel, and the
 * stored priors (IndexedDB) with export and import. No React here (PriorPanel.tsx renders it).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { ErrorCode } from '../../workers/errors.ts';
import { MIN_FIT_IMAGES, type BundleInfo, type FitProgress, type LinearPriorSource, type PriorChoice, type RgbaImage } from '../../workers/protocol.ts';
import { checkPriorFitsModel, decodeLinearPrior, encodeLinearPrior, LINEAR_PRIOR_SPACE, type LinearPriorHeader } from '../../workers/priors/file.ts';
import type { AppController } from '../app/controller.ts';
import type { DecodeResult } from '../app/files.ts';
import { prepareInputImage } from '../modes/image-id.ts';
import type { PriorsKey } from './i18n.ts';
import type { PriorStore, SavedPriorChoice, StoredPrior } from './store.ts';

/** Images are kept at most this large for a fit (the image encoder sees 224 px). */
export const FIT_IMAGE_SIDE = 256;

/** One image chosen for a fit. */
export interface FitImage {
  readonly name: string;
  /** Content id (SHA-256 of the prepared pixels), recorded in the prior's header. */
  readonly id: string;
  readonly image: RgbaImage;
}

/** The fit's progress and outcome. */
export type FitStatus =
  | { readonly status: 'idle' }
  | { readonly status: 'running'; readonly runId: string; readonly progress: FitProgress | null }
  | { readonly status: 'done'; readonly id: string };

/** A message in the priors' UI. */
export interface PriorsMessage {
  readonly kind: 'error' | 'info';
  readonly key: PriorsKey;
  readonly vars: Readonly<Record<string, string | number>>;
}

/** What the priors' UI reads. */
export interface PriorsState {
  readonly priors: readonly { readonly id: string; readonly header: LinearPriorHeader }[];
  readonly choice: SavedPriorChoice;
  readonly dialogOpen: boolean;
  readonly images: readonly FitImage[];
  readonly captionMode: 'shared' | 'per-image';
  readonly sharedCaption: string;
  readonly captions: string;
  readonly name: string;
  readonly fit: FitStatus;
  readonly message: PriorsMessage | null;
}

/** The default choice: the diffusion prior. */
export const DEFAULT_CHOICE: SavedPriorChoice = { kind: 'diffusion', linear: null, linearWeight: 0.5 };

/** What the controller needs besides the app (decoders differ in tests). */
export interface PriorsDeps {
  readonly decodeFile: (file: Blob) => Promise<DecodeResult>;
  readonly decodePng: (bytes: Uint8Array) => Promise<RgbaImage>;
  readonly download: (bytes: Uint8Array, filename: string, type?: string) => void;
}

let fitCounter = 0;

/** The caption lines of a per-image captions text (trailing blank lines dropped). */
export function captionLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** The choice a result's `Prior:` label (parameters.ts priorLabel) stands for; absent = diffusion. */
export function choiceFromLabel(label: string | undefined, current: SavedPriorChoice): SavedPriorChoice {
  if (label === undefined || label === 'diffusion') return { ...current, kind: 'diffusion' };
  if (label === 'none') return { ...current, kind: 'none' };
  const m = /^(?:blend ([\d.]+), )?linear: (?:model|.* \(([^()]+)\))$/.exec(label);
  if (!m) return current;
  const linear = m[2] ?? 'bundle';
  return m[1] === undefined ? { ...current, kind: 'linear', linear } : { kind: 'blend', linear, linearWeight: Number(m[1]) };
}

/** A file name for an exported prior. */
export function exportFileName(name: string): string {
  return `${name.replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'prior'}.kwlp`;
}

/** Personal priors for one AppController. */
export class PriorsController {
  readonly store: StoreApi<PriorsState>;
  /** W and b by prior id (kept out of the reactive state: megabytes of floats). */
  private readonly maps = new Map<string, StoredPrior>();

  constructor(readonly app: AppController, private readonly storage: PriorStore, private readonly deps: PriorsDeps) {
    this.store = createStore<PriorsState>(() => ({
      priors: [], choice: DEFAULT_CHOICE, dialogOpen: false, images: [], captionMode: 'per-image', sharedCaption: '',
      captions: '', name: '', fit: { status: 'idle' }, message: null,
    }));
  }

  /** Read the stored priors and the saved choice (a choice naming a deleted prior falls back to diffusion). */
  async start(): Promise<void> {
    try {
      for (const p of await this.storage.list()) this.maps.set(p.id, p);
      this.syncList();
      const saved = await this.storage.loadChoice();
      if (saved) this.store.setState({ choice: this.valid(saved) });
    } catch (e) {
      this.say('error', 'errStorage', { message: e instanceof Error ? e.message : String(e) });
    }
  }

  private syncList(): void {
    this.store.setState({ priors: [...this.maps.values()].map((p) => ({ id: p.id, header: p.header })) });
  }

  private valid(c: SavedPriorChoice): SavedPriorChoice {
    if ((c.kind === 'linear' || c.kind === 'blend') && c.linear !== 'bundle' && (c.linear === null || !this.maps.has(c.linear))) {
      const first = [...this.maps.keys()][0];
      return first === undefined ? { ...c, kind: 'diffusion', linear: null } : { ...c, linear: first };
    }
    return c;
  }

  private say(kind: PriorsMessage['kind'], key: PriorsKey, vars: PriorsMessage['vars'] = {}): void {
    this.store.setState({ message: { kind, key, vars } });
  }

  private info(): BundleInfo | null {
    const m = this.app.store.getState().model;
    return m.status === 'ready' ? m.info : null;
  }

  // ---- the prompt panel's choice ----------------------------------------------------------

  /** Change the choice and save it. */
  choose(patch: Partial<SavedPriorChoice>): void {
    const next = { ...this.store.getState().choice, ...patch };
    if ((next.kind === 'linear' || next.kind === 'blend') && next.linear === null) {
      next.linear = this.info()?.linearPrior ? 'bundle' : ([...this.maps.keys()][0] ?? null);
    }
    this.store.setState({ choice: next });
    void this.storage.saveChoice(next).catch((e: unknown) => this.say('error', 'errStorage', { message: e instanceof Error ? e.message : String(e) }));
  }

  /** Put back the prior of a gallery result ("Use these parameters"); a deleted personal prior leaves the choice as it is. */
  restore(label: string | undefined): void {
    const next = choiceFromLabel(label, this.store.getState().choice);
    if (next.linear !== null && next.linear !== 'bundle' && (next.kind === 'linear' || next.kind === 'blend') && !this.maps.has(next.linear)) return;
    this.choose(next);
  }

  /** The request's prior (undefined = the engine's default, diffusion). */
  requestPrior(): PriorChoice | undefined {
    const c = this.store.getState().choice;
    const source = (): LinearPriorSource | null => {
      if (c.linear === 'bundle') return { from: 'bundle' };
      const p = c.linear === null ? undefined : this.maps.get(c.linear);
      return p ? { from: 'user', id: p.id, name: p.header.name, weight: p.weight, bias: p.bias, family: p.header.family } : null;
    };
    switch (c.kind) {
      case 'diffusion': return undefined;
      case 'none': return { kind: 'none' };
      case 'linear': {
        const linear = source();
        return linear ? { kind: 'linear', linear } : undefined;
      }
      case 'blend': {
        const linear = source();
        return linear ? { kind: 'blend', linear, linearWeight: c.linearWeight } : undefined;
      }
    }
  }

  // ---- the fit dialog ---------------------------------------------------------------------

  open(): void { this.store.setState({ dialogOpen: true, message: null }); }
  close(): void {
    if (this.store.getState().fit.status === 'running') this.cancelFit();
    this.store.setState({ dialogOpen: false });
  }
  edit(patch: Partial<Pick<PriorsState, 'captionMode' | 'sharedCaption' | 'captions' | 'name'>>): void { this.store.setState(patch); }
  clearImages(): void { this.store.setState({ images: [], message: null }); }

  private async addImages(items: { name: string; image: RgbaImage }[], unreadable: string[]): Promise<void> {
    const prepared: FitImage[] = [];
    for (const it of items) {
      const p = await prepareInputImage(it.image, FIT_IMAGE_SIDE);
      prepared.push({ name: it.name, id: p.id, image: p.image });
    }
    this.store.setState((s) => ({ images: [...s.images, ...prepared] }));
    if (unreadable.length > 0) this.say('error', 'errUnreadable', { names: unreadable.join(', ') });
    else this.store.setState({ message: null });
  }

  /** Add image files (a multiple-file input or a folder); files that are not readable images are named and left out. */
  async addFiles(files: readonly File[]): Promise<void> {
    const ok: { name: string; image: RgbaImage }[] = [];
    const unreadable: string[] = [];
    const sorted = [...files].sort((a, b) => (a.webkitRelativePath || a.name).localeCompare(b.webkitRelativePath || b.name));
    for (const f of sorted) {
      const r = await this.deps.decodeFile(f);
      if (r.ok) ok.push({ name: f.name, image: r.raster });
      else unreadable.push(f.name);
    }
    await this.addImages(ok, unreadable);
  }

  /** Add every gallery image, with its prompt as the caption line. */
  async addGallery(): Promise<void> {
    const items = this.app.store.getState().gallery;
    const ok: { name: string; image: RgbaImage }[] = [];
    for (const g of items) ok.push({ name: g.params.prompt || g.id, image: await this.deps.decodePng(g.png) });
    await this.addImages(ok, []);
    const prompts = items.map((g) => g.params.prompt);
    const s = this.store.getState();
    if (s.captionMode === 'per-image' && prompts.some((p) => p !== '')) {
      this.store.setState({ captions: [...captionLines(s.captions), ...prompts].join('\n') });
    }
  }

  /** The captions as the fit sends them, or the reason they cannot be used. */
  private captionsFor(n: number): { ok: true; captions: string[] } | { ok: false; key: PriorsKey; vars: PriorsMessage['vars'] } {
    const s = this.store.getState();
    if (s.captionMode === 'shared') {
      const c = s.sharedCaption.trim();
      return c === '' ? { ok: false, key: 'errEmptyCaption', vars: {} } : { ok: true, captions: [c] };
    }
    const lines = captionLines(s.captions);
    if (lines.length !== n) return { ok: false, key: 'errCaptionCount', vars: { lines: lines.length, count: n } };
    return { ok: true, captions: lines };
  }

  /** Fit in the worker; store the prior only when the fit finished. */
  async fit(): Promise<void> {
    const s = this.store.getState();
    if (s.fit.status === 'running') return;
    const info = this.info();
    if (!info) { this.say('error', 'errNoModel'); return; }
    const n = s.images.length;
    if (n < MIN_FIT_IMAGES) { this.say('error', 'errTooFew', { min: MIN_FIT_IMAGES, count: n }); return; }
    const caps = this.captionsFor(n);
    if (!caps.ok) { this.say('error', caps.key, caps.vars); return; }
    const runId = `fit-${Date.now().toString(36)}-${++fitCounter}`;
    this.store.setState({ fit: { status: 'running', runId, progress: null }, message: null });
    const onProgress = (progress: FitProgress): void => {
      const f = this.store.getState().fit;
      if (f.status === 'running' && f.runId === runId) this.store.setState({ fit: { ...f, progress } });
    };
    const r = await this.app.client.fitPrior(runId, { images: s.images.map((i) => i.image), captions: caps.captions }, onProgress);
    if (!r.ok) {
      this.store.setState({ fit: { status: 'idle' } });
      if (r.error.code === ErrorCode.Cancelled) this.say('info', 'fitCancelled');
      else this.say('error', 'errFit', { code: r.error.code, message: r.error.message });
      return;
    }
    const v = r.value;
    const name = s.name.trim() || `prior ${this.maps.size + 1}`;
    const header: LinearPriorHeader = {
      format: 'kandinsky-linear-prior', version: 1, name, family: info.family, embedding_dim: v.embeddingDim, text_dim: v.textDim,
      space: LINEAR_PRIOR_SPACE, lambda: v.lambda, loo_error: v.looError, baseline_error: v.baselineError, num_images: v.numImages,
      image_hashes: s.images.map((i) => i.id), captions: caps.captions.length === 1 ? 'shared' : 'per-image', created_at: new Date().toISOString(),
    };
    const id = `prior-${Date.now().toString(36)}-${fitCounter}`;
    const stored: StoredPrior = { id, header, weight: v.weight, bias: v.bias, createdAt: Date.now() };
    try {
      await this.storage.put(stored);
    } catch (e) {
      this.store.setState({ fit: { status: 'idle' } });
      this.say('error', 'errStorage', { message: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.maps.set(id, stored);
    this.syncList();
    this.store.setState({ fit: { status: 'done', id } });
    const fmt = (x: number) => x.toPrecision(3);
    this.say('info', v.sharedCaption ? 'fitDoneShared' : 'fitDone', { name, error: fmt(v.looError), baseline: fmt(v.baselineError), lambda: fmt(v.lambda) });
    const kind = this.store.getState().choice.kind;
    this.choose({ kind: kind === 'blend' ? 'blend' : 'linear', linear: id });
  }

  /** Stop a running fit; the worker answers CANCELLED and nothing is stored. */
  cancelFit(): void {
    const f = this.store.getState().fit;
    if (f.status === 'running') this.app.client.cancel(f.runId);
  }

  // ---- stored priors ----------------------------------------------------------------------

  async remove(id: string): Promise<void> {
    try {
      await this.storage.remove(id);
    } catch (e) {
      this.say('error', 'errStorage', { message: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.maps.delete(id);
    this.syncList();
    const c = this.store.getState().choice;
    if (c.linear === id) this.choose(this.valid(c));
  }

  /** Download a prior as a .kwlp file (workers/priors/file.ts). */
  exportPrior(id: string): void {
    const p = this.maps.get(id);
    if (!p) return;
    this.deps.download(encodeLinearPrior({ header: p.header, weight: p.weight, bias: p.bias }), exportFileName(p.header.name), 'application/octet-stream');
  }

  /** Import a .kwlp file: validated, and refused when its dimensions differ from the loaded model's. */
  async importFile(file: File): Promise<void> {
    try {
      const parsed = decodeLinearPrior(new Uint8Array(await file.arrayBuffer()));
      const info = this.info();
      if (info) checkPriorFitsModel(parsed.header, { embeddingDim: info.embeddingDim, family: info.family, name: info.name });
      const id = `prior-${Date.now().toString(36)}-${++fitCounter}`;
      const stored: StoredPrior = { id, header: parsed.header, weight: Float32Array.from(parsed.weight), bias: Float32Array.from(parsed.bias), createdAt: Date.now() };
      await this.storage.put(stored);
      this.maps.set(id, stored);
      this.syncList();
      this.say('info', 'imported', { name: parsed.header.name });
    } catch (e) {
      this.say('error', 'errImport', { name: file.name, message: e instanceof Error ? e.message : String(e) });
    }
  }
}
