/**
 * Test hook, installed in development and test builds only: `window.__kandinsky` exposes the
 * document's pixels and the frame's position so end-to-end tests can check results.
 * User behaviour is still driven through the UI.
 */
import { SEAM } from '../editor/compose.ts';
import type { Point, Rect } from '../editor/geometry.ts';
import { docToScreen } from '../editor/viewport.ts';
import type { AppController } from './controller.ts';
import type { RgbaImage } from '../../workers/protocol.ts';

/** What `window.__kandinsky` offers. */
export interface KandinskyTestHook {
  /** RGBA pixels of a document rectangle (plain numbers). */
  readPixels(rect: Rect): number[];
  /** The frame in document pixels. */
  frame(): Rect;
  /** Bounds of painted pixels, or null. */
  contentBounds(): Rect | null;
  /** Where a document point is in page (client) coordinates. */
  docToClient(p: Point): Point;
  /** Pixels the repaint region grows by before paste-back (seam width). */
  readonly seamGrowPx: number;
  /** Undo stack names, oldest first. */
  undoNames(): string[];
  /** Write pending autosave data now. */
  flush(): Promise<void>;
  /** Simulate the generation worker dying (the client restarts it and reloads the model). */
  crashWorker(): void;
  /** The editor's active tool path, e.g. "frame.idle". */
  toolPath(): string;
  /** The running run's latest live preview: its size, and how many distinct colours it has; null when none. */
  runPreview(): PreviewFacts | null;
  /** How many live previews runs have shown so far, and the last one (kept after its run ends: a fast run may
   *  end between two polls). */
  previews(): { readonly count: number; readonly last: PreviewFacts | null };
}

/** What the tests learn of a live preview. */
export interface PreviewFacts { readonly width: number; readonly height: number; readonly colours: number }

function previewFacts(p: RgbaImage): PreviewFacts {
  const colours = new Set<number>();
  for (let i = 0; i < p.data.length; i += 4) colours.add(((p.data[i] ?? 0) << 16) | ((p.data[i + 1] ?? 0) << 8) | (p.data[i + 2] ?? 0));
  return { width: p.width, height: p.height, colours: colours.size };
}

declare global {
  interface Window { __kandinsky?: KandinskyTestHook }
}

/** Install the hook. */
export function installTestHook(app: AppController): void {
  const canvasEl = (): Element | null => document.querySelector('[data-testid="canvas"]');
  let lastPreview: RgbaImage | null = null;
  let previewCount = 0;
  app.store.subscribe((s) => {
    const p = s.run?.preview;
    if (p && p !== lastPreview) {
      lastPreview = p;
      previewCount++;
    }
  });
  window.__kandinsky = {
    readPixels: (rect) => Array.from(app.editor.doc.image.read(rect).data),
    frame: () => app.editor.getFrame(),
    contentBounds: () => app.editor.doc.image.contentBounds(),
    docToClient: (p) => {
      const box = canvasEl()?.getBoundingClientRect();
      const s = docToScreen(app.editor.state.camera, p);
      return { x: (box?.left ?? 0) + s.x, y: (box?.top ?? 0) + s.y };
    },
    seamGrowPx: SEAM.growPx,
    undoNames: () => app.editor.doc.history.undoNames(),
    flush: () => app.storage.flush(),
    crashWorker: () => app.client.handleCrash(),
    toolPath: () => app.editor.path(),
    runPreview: () => {
      const p = app.store.getState().run?.preview;
      return p ? previewFacts(p) : null;
    },
    previews: () => ({ count: previewCount, last: lastPreview ? previewFacts(lastPreview) : null }),
  };
}
