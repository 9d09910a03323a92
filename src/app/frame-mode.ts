/** What generating would do in the frame now (text-to-image, inpainting, or nothing: the frame is full), kept in the app store. */
import { repaintMask } from '../editor/compose.ts';
import type { Editor } from '../editor/editor.ts';
import type { StoreApi } from 'zustand/vanilla';
import { setFrameMode, type AppState, type FrameMode } from './store.ts';

/** The frame's mode now (cheap: no distance transform). */
export function frameModeOf(editor: Editor): FrameMode {
  const frame = editor.getFrame();
  const image = editor.doc.image.read(frame);
  const mask = editor.doc.mask.hasContent(frame) ? editor.doc.mask.read(frame) : null;
  const m = repaintMask(image, mask);
  let n = 0;
  for (const v of m) n += v;
  return n === m.length ? 'text2img' : n === 0 ? 'full' : 'inpaint';
}

/** Keep `frameMode` in the store up to date as the document or the frame change (at most every 50 ms); returns `update` to call at once. */
export function watchFrameMode(editor: Editor, store: StoreApi<AppState>): () => void {
  const update = (): void => setFrameMode(store, frameModeOf(editor));
  let timer: ReturnType<typeof setTimeout> | null = null;
  editor.store.subscribe((s, prev) => {
    if (s.docVersion === prev.docVersion && s.frame === prev.frame) return;
    timer ??= setTimeout(() => { timer = null; update(); }, 50);
  });
  return update;
}
