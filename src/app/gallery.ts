/** The gallery's actions: add a result, put its parameters back, place it into the frame, download or remove it. */
import type { StoreApi } from 'zustand/vanilla';
import { SCHEDULER_KINDS } from '../../workers/protocol.ts';
import type { Editor } from '../editor/editor.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import type { RgbaImage } from '../../workers/protocol.ts';
import { decodePng, download, encodePng } from './files.ts';
import { STYLE_IDS } from './presets.ts';
import type { AppStorage } from './storage.ts';
import { addGalleryItem, removeGalleryItem, setParams, type AppState, type GalleryItem } from './store.ts';

/** What the gallery needs of the app besides the store, the editor and storage. */
export interface GalleryHost {
  /** Called after reuse() with the item's parameters (src/modes and src/priors put the item's mode, inputs and prior back). */
  readonly onReuse: ((params: ImageParameters) => void) | null;
}

/** The gallery of one app. */
export class Gallery {
  constructor(
    private readonly store: StoreApi<AppState>,
    private readonly editor: Editor,
    private readonly storage: AppStorage,
    private readonly host: GalleryHost,
  ) {}

  private item(id: string): GalleryItem | undefined {
    return this.store.getState().gallery.find((g) => g.id === id);
  }

  /** Add a result (its PNG carries `params`) and store it; returns its id. */
  async add(image: RgbaImage, params: ImageParameters): Promise<string> {
    const id = `g-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const item: GalleryItem = { id, createdAt: Date.now(), params, width: image.width, height: image.height, png: await encodePng(image, params) };
    addGalleryItem(this.store, item);
    this.storage.putGalleryItem(item);
    return id;
  }

  /** Put a gallery item's parameters back into the prompt panel and the frame size. */
  reuse(id: string): void {
    const q = this.item(id)?.params;
    if (!q) return;
    const style = STYLE_IDS.find((s) => s === q.style) ?? 'none';
    const scheduler = SCHEDULER_KINDS.find((s) => s === q.scheduler) ?? this.store.getState().params.scheduler;
    setParams(this.store, {
      prompt: q.prompt, negativePrompt: q.negativePrompt, style, randomSeed: false, seed: q.seed, steps: q.steps,
      guidance: q.guidance, priorSteps: q.priorSteps, priorGuidance: q.priorGuidance, scheduler,
    });
    const frame = this.editor.getFrame();
    if (q.width !== frame.width || q.height !== frame.height) this.editor.setFrameExactSize(q.width, q.height);
    this.host.onReuse?.(q);
  }

  /** Place a gallery image into the frame (one undoable step). */
  async place(id: string): Promise<void> {
    const item = this.item(id);
    if (!item || this.editor.state.locked) return;
    const raster = await decodePng(item.png);
    const f = this.editor.getFrame();
    this.editor.placeImage(raster, Math.round(f.x + (f.width - raster.width) / 2), Math.round(f.y + (f.height - raster.height) / 2), 'place image');
  }

  /** Download a gallery item's PNG. */
  download(id: string): void {
    const item = this.item(id);
    if (item) download(item.png, `kandinsky-${item.params.seed}.png`);
  }

  /** Remove a gallery item, from storage too. */
  async remove(id: string): Promise<void> {
    removeGalleryItem(this.store, id);
    this.storage.deleteGalleryItem(id);
    await this.storage.flush();
  }
}
