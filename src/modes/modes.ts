/**
 * The image modes' controller: the panel's store and actions (choose images from the frame, the
 * gallery or a file; weights, texts, strength), the image cache and store, and the two hooks the
 * editor's AppController calls: the request of the chosen mode (every mode's, the frame's included),
 * and restoring a gallery result's inputs.
 * No React; the browser-only decoding is injected so tests run in Node.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BundleInfo, RgbaImage } from '../../workers/protocol.ts';
import type { Editor } from '../editor/editor.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import { isTransparent } from '../editor/raster.ts';
import type { AppState } from '../app/store.ts';
import type { DecodeResult } from '../app/files.ts';
import { prepareInputImage, shortId } from './image-id.ts';
import type { ImageStore } from './image-store.ts';
import { imageIdsOf, stateFromParameters } from './params.ts';
import { buildRequest, checkInputs, missingForImages, type InputCheck, type RunContext, type RunPlan } from './request.ts';
import {
  INITIAL_MODES, fromSaved, referencedImages, toSaved, withImage, withMode, withStrength, withText, withTextPrompt, withWeight,
  withoutInput, type EditorMode, type ImageRef, type ImageSource, type ModesState, type Problem,
} from './state.ts';

/** What the modes need of the app. */
export interface ModesHost {
  readonly store: StoreApi<AppState>;
  readonly editor: Editor;
}

/** Browser decoders (src/app/files.ts), injected. */
export interface ModesDecoders {
  readonly decodeFile: (file: Blob) => Promise<DecodeResult>;
  readonly decodePng: (png: Uint8Array) => Promise<RgbaImage>;
}

/**
 * Unreferenced input images younger than this are kept: another tab may have stored one for a run
 * whose result it has not recorded yet.
 */
export const INPUT_GC_GRACE_MS = 60 * 60 * 1000;

/** The image modes of one editor. */
export class ModesController {
  readonly store: StoreApi<ModesState>;
  private readonly cache = new Map<string, RgbaImage>();
  private saving: Promise<void> = Promise.resolve();
  /** Ids being stored right now, not yet in the panel's state. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly host: ModesHost,
    private readonly images: ImageStore,
    private readonly decoders: ModesDecoders,
  ) {
    this.store = createStore<ModesState>(() => INITIAL_MODES);
    this.store.subscribe((s, prev) => {
      if (s.mode !== prev.mode || s.single !== prev.single || s.conditions !== prev.conditions || s.strength !== prev.strength) this.save();
    });
  }

  /**
   * Restore the saved panel and load the pixels of the images it refers to; once the app has read
   * the gallery back, delete the stored input images nothing refers to any more.
   */
  async start(): Promise<void> {
    await this.restorePanel();
    void this.whenGalleryLoaded().then(() => this.collect()).catch((e: unknown) => {
      console.warn('modes: could not clean up unused input images', e);
    });
  }

  private whenGalleryLoaded(): Promise<void> {
    return new Promise((resolve) => {
      const loaded = (): boolean => {
        const s = this.host.store.getState();
        return s.restored && s.galleryLoaded;
      };
      if (loaded()) { resolve(); return; }
      // `restored` without `galleryLoaded`: storage failed, so the gallery is not known and nothing is collected.
      const stop = this.host.store.subscribe((s) => {
        if (s.restored) { stop(); if (loaded()) resolve(); }
      });
    });
  }

  /**
   * Delete stored input images that neither a gallery result nor the panel refers to, stored more
   * than INPUT_GC_GRACE_MS before `now`. Runs only once the gallery is known; returns the ids removed.
   */
  async collect(now = Date.now()): Promise<string[]> {
    const app = this.host.store.getState();
    if (!app.galleryLoaded) return [];
    const keep = new Set([...referencedImages(this.state), ...app.gallery.flatMap((g) => imageIdsOf(g.params)), ...this.pending]);
    const removed = await this.images.prune(keep, now - INPUT_GC_GRACE_MS);
    // An image chosen again while the prune ran (same pixels, same id) is written back.
    const inUse = new Set([...referencedImages(this.state), ...this.pending]);
    for (const id of removed) {
      const img = this.cache.get(id);
      if (inUse.has(id) && img) await this.images.put(id, img);
      else this.cache.delete(id);
    }
    return removed.filter((id) => !inUse.has(id));
  }

  private async restorePanel(): Promise<void> {
    let saved: unknown = null;
    try {
      saved = await this.images.loadState();
    } catch (e) {
      console.warn('modes: could not read the saved panel', e);
    }
    if (!saved) return;
    const state = fromSaved(saved);
    const missing: string[] = [];
    for (const id of referencedImages(state)) if (!(await this.load(id))) missing.push(id);
    // Inputs whose pixels are gone are dropped (and said so), the rest comes back.
    const gone = new Set(missing);
    this.store.setState({
      ...state,
      single: state.single && gone.has(state.single.id) ? null : state.single,
      conditions: state.conditions.filter((c) => c.kind === 'text' || !gone.has(c.image.id)),
      problem: missing[0] ? { key: 'errImageMissing', vars: { id: shortId(missing[0]) } } : null,
    });
  }

  get state(): ModesState {
    return this.store.getState();
  }

  /** Pixels of a loaded input image. */
  pixels(id: string): RgbaImage | undefined {
    return this.cache.get(id);
  }

  // ---- panel actions ----------------------------------------------------------------------

  setMode(mode: EditorMode): void {
    this.store.setState(withMode(this.state, mode));
  }

  setWeight(index: number, weight: number): void {
    this.store.setState(withWeight(this.state, index, weight));
  }

  setText(index: number, prompt: string): void {
    this.store.setState(withTextPrompt(this.state, index, prompt));
  }

  addText(prompt = ''): void {
    this.store.setState(withText(this.state, prompt));
  }

  remove(index: number): void {
    this.store.setState(withoutInput(this.state, index));
  }

  setStrength(strength: number): void {
    this.store.setState(withStrength(this.state, strength));
  }

  /** Show why something was refused (until the next change). */
  refuse(problem: Problem): void {
    this.store.setState({ problem });
  }

  /** Take the frame's pixels as an input image. */
  async addFromFrame(): Promise<boolean> {
    const frame = this.host.editor.getFrame();
    const pixels = this.host.editor.doc.image.read(frame);
    if (isTransparent(pixels)) { this.refuse({ key: 'errFrameEmpty' }); return false; }
    return this.add(pixels, 'frame', 'frame');
  }

  /** Take a gallery item (the frame it produced) as an input image. */
  async addFromGallery(galleryId: string): Promise<boolean> {
    const item = this.host.store.getState().gallery.find((g) => g.id === galleryId);
    if (!item) return false;
    return this.add(await this.decoders.decodePng(item.png), 'gallery', galleryId);
  }

  /** Take an image file as an input image; a non-image or corrupt file is refused with its name. */
  async addFromFile(file: File): Promise<boolean> {
    this.store.setState({ busy: true });
    const r = await this.decoders.decodeFile(file);
    if (!r.ok) {
      this.store.setState({ busy: false });
      this.refuse(r.reason === 'not-image' ? { key: 'errNotImage', vars: { name: file.name } } : { key: 'errCorrupt', vars: { name: file.name, message: r.message } });
      return false;
    }
    return this.add(r.raster, 'file', file.name);
  }

  private async add(pixels: RgbaImage, source: ImageSource, name: string): Promise<boolean> {
    const stages = this.stages();
    if (stages) {
      const missing = missingForImages(this.state.mode, stages);
      if (missing.length > 0) {
        this.refuse(this.state.mode === 'fusion' ? { key: 'noImageEncoder' } : { key: 'unavailable', vars: { mode: this.state.mode, stages: missing.join(', ') } });
        return false;
      }
    }
    this.store.setState({ busy: true });
    try {
      const { id, image } = await prepareInputImage(pixels);
      this.cache.set(id, image);
      let problem: Problem | null = null;
      this.pending.add(id);
      try {
        await this.images.put(id, image);
      } catch (e) {
        problem = { key: 'errStore', vars: { message: e instanceof Error ? e.message : String(e) } };
      }
      const ref: ImageRef = { id, width: image.width, height: image.height, source, name };
      this.store.setState({ ...withImage(this.state, ref), problem });
      this.pending.delete(id);
      return true;
    } finally {
      this.store.setState({ busy: false });
    }
  }

  // ---- checks and hooks -------------------------------------------------------------------

  private stages(): BundleInfo['stages'] | null {
    const m = this.host.store.getState().model;
    return m.status === 'ready' ? m.info.stages : null;
  }

  /** Live check of the panel for the frame and steps now. */
  check(frame: { width: number; height: number }, steps: number): InputCheck {
    return checkInputs(this.state, { frame, steps, stages: this.stages() });
  }

  /** AppController hook: the request of the chosen mode (the frame's own text-to-image/inpainting in text2img mode), or why not; the panel shows its problems. */
  requestFor(ctx: RunContext): RunPlan {
    const plan = buildRequest(this.state, ctx, (id) => this.cache.get(id));
    if (!plan.ok) {
      if ('problem' in plan) this.refuse(plan.problem);
      return plan;
    }
    // A run of an image mode answers the panel's last refusal; the frame's own mode leaves the panel's message alone.
    if (this.state.mode !== 'text2img' && this.state.problem) this.store.setState({ problem: null });
    return plan;
  }

  /** AppController hook: put a gallery result's mode and inputs back, loading its images from the store. */
  async restore(params: ImageParameters): Promise<void> {
    for (const id of imageIdsOf(params)) await this.load(id);
    const { state, missing } = stateFromParameters(params, this.state, (id) => {
      const img = this.cache.get(id);
      if (!img) return null;
      const known = [this.state.single, ...this.state.conditions.map((c) => (c.kind === 'image' ? c.image : null))].find((r) => r?.id === id);
      return known ?? { id, width: img.width, height: img.height, source: 'gallery', name: shortId(id) };
    });
    this.store.setState({ ...state, problem: missing[0] ? { key: 'errImageMissing', vars: { id: shortId(missing[0]) } } : null });
  }

  private async load(id: string): Promise<boolean> {
    if (this.cache.has(id)) return true;
    try {
      const img = await this.images.get(id);
      if (img) this.cache.set(id, img);
      return img !== null;
    } catch (e) {
      console.warn(`modes: could not read input image ${id}`, e);
      return false;
    }
  }

  private save(): void {
    const snapshot = toSaved(this.state);
    this.saving = this.saving.then(() => this.images.saveState(snapshot)).catch((e: unknown) => {
      console.warn('modes: could not save the panel', e);
    });
  }

  /** Resolves when every change so far is saved. */
  flush(): Promise<void> {
    return this.saving;
  }
}
