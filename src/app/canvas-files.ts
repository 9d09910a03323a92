/** Opening image files onto the canvas and saving the canvas or the frame as PNG (with the last parameters embedded). */
import type { StoreApi } from 'zustand/vanilla';
import type { RgbaImage } from '../../workers/protocol.ts';
import type { Editor } from '../editor/editor.ts';
import { decodeImageFile, download, encodePng, MAX_IMAGE_SIDE } from './files.ts';
import { notify, type AppState } from './store.ts';

/** The canvas's file actions. */
export class CanvasFiles {
  constructor(private readonly store: StoreApi<AppState>, private readonly editor: Editor) {}

  /** Open an image file onto the canvas (centred on the frame), or explain why not. */
  async open(file: File): Promise<void> {
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
    await this.save(this.editor.doc.image.read(bounds), 'kandinsky-canvas.png');
  }

  /** Save the frame's pixels as PNG with the last parameters embedded. */
  async saveFrame(): Promise<void> {
    await this.save(this.editor.doc.image.read(this.editor.getFrame()), 'kandinsky-frame.png');
  }

  private async save(image: RgbaImage, file: string): Promise<void> {
    const bytes = await encodePng(image, this.store.getState().lastParams);
    download(bytes, file);
    notify(this.store, 'info', 'saved', { file });
  }
}
