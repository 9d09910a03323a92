/**
 * Autosave to IndexedDB: document tiles, undo history, session settings and the gallery,
 * written incrementally (only changed tiles and steps) shortly after each change.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { StoreApi } from 'zustand/vanilla';
import { TOOL_IDS, type Editor, type EditorState } from '../editor/editor.ts';
import type { HistoryStep } from '../editor/history.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import type { AppState, GalleryItem, GenParams, Settings } from './store.ts';
import type { Language } from './i18n.ts';

/** Session state besides pixels and history. */
export interface SessionMeta {
  readonly version: 1;
  readonly frame: EditorState['frame'];
  readonly aspect: EditorState['aspect'];
  readonly longSide: number;
  readonly camera: EditorState['camera'];
  readonly brush: EditorState['brush'];
  readonly tool: EditorState['tool'];
  readonly params: GenParams;
  readonly lastSeed: number | null;
  readonly lastParams: ImageParameters | null;
  readonly language: Language;
  readonly settings: Settings;
  readonly history: { readonly nextId: number; readonly undo: readonly number[]; readonly redo: readonly number[] };
}

/** A history step as stored. */
export interface StepRecord {
  readonly id: number;
  readonly name: string;
  readonly tiles: readonly { readonly key: string; readonly data: Uint8ClampedArray | null }[];
}

interface Schema extends DBSchema {
  tiles: { key: string; value: { key: string; data: Uint8ClampedArray } };
  steps: { key: number; value: StepRecord };
  kv: { key: string; value: SessionMeta };
  gallery: { key: string; value: GalleryItem; indexes: { createdAt: number } };
}

/** Default database name. */
export const DB_NAME = 'kandinsky-web';

/** A history step → its stored form. */
export function stepToRecord(step: HistoryStep): StepRecord {
  return { id: step.id, name: step.name, tiles: [...step.tiles].map(([key, data]) => ({ key, data })) };
}

/** Stored form → history step. */
export function recordToStep(r: StepRecord): HistoryStep {
  const tiles = new Map<string, Uint8ClampedArray | null>();
  let bytes = 0;
  for (const t of r.tiles) {
    tiles.set(t.key, t.data);
    bytes += t.data?.byteLength ?? 0;
  }
  return { id: r.id, name: r.name, tiles, bytes };
}

/** Collect the session meta from the editor and app stores. */
export function collectMeta(editor: Editor, app: AppState): SessionMeta {
  const e = editor.state;
  const snap = editor.doc.history.snapshot();
  return {
    version: 1, frame: e.frame, aspect: e.aspect, longSide: e.longSide, camera: e.camera, brush: e.brush, tool: e.tool,
    params: app.params, lastSeed: app.lastSeed, lastParams: app.lastParams, language: app.language, settings: app.settings,
    history: { nextId: snap.nextId, undo: snap.undo.map((s) => s.id), redo: snap.redo.map((s) => s.id) },
  };
}

/** What a saved session holds. */
export interface SavedSession {
  readonly meta: SessionMeta | null;
  readonly tiles: readonly { key: string; data: Uint8ClampedArray }[];
  readonly steps: readonly StepRecord[];
}

/** Thin typed access to the database. */
export class Persistence {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  /** Open (and create or upgrade) the database. */
  static async open(name: string = DB_NAME): Promise<Persistence> {
    const db = await openDB<Schema>(name, 1, {
      upgrade(d) {
        d.createObjectStore('tiles', { keyPath: 'key' });
        d.createObjectStore('steps', { keyPath: 'id' });
        d.createObjectStore('kv');
        d.createObjectStore('gallery', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
      },
    });
    return new Persistence(db);
  }

  /** Read the whole saved session. */
  async loadSession(): Promise<SavedSession> {
    const tx = this.db.transaction(['tiles', 'steps', 'kv'], 'readonly');
    const [meta, tiles, steps] = await Promise.all([
      tx.objectStore('kv').get('session'), tx.objectStore('tiles').getAll(), tx.objectStore('steps').getAll(),
    ]);
    await tx.done;
    return { meta: meta ?? null, tiles, steps };
  }

  /** Write changed tiles (null = deleted), changed steps (null = dropped) and the meta in one transaction. */
  async saveSession(
    tiles: ReadonlyMap<string, Uint8ClampedArray | null>,
    steps: ReadonlyMap<number, StepRecord | null>,
    meta: SessionMeta,
  ): Promise<void> {
    const tx = this.db.transaction(['tiles', 'steps', 'kv'], 'readwrite');
    const ts = tx.objectStore('tiles');
    const ss = tx.objectStore('steps');
    const ops: Promise<unknown>[] = [];
    for (const [key, data] of tiles) ops.push(data ? ts.put({ key, data }) : ts.delete(key));
    for (const [id, rec] of steps) ops.push(rec ? ss.put(rec) : ss.delete(id));
    ops.push(tx.objectStore('kv').put(meta, 'session'));
    await Promise.all([...ops, tx.done]);
  }

  /** All gallery items, oldest first. */
  async loadGallery(): Promise<GalleryItem[]> {
    return this.db.getAllFromIndex('gallery', 'createdAt');
  }

  async putGalleryItem(item: GalleryItem): Promise<void> {
    await this.db.put('gallery', item);
  }

  async deleteGalleryItem(id: string): Promise<void> {
    await this.db.delete('gallery', id);
  }

  close(): void {
    this.db.close();
  }
}

/** Put a saved session back into the editor and app stores. Returns false when nothing was saved. */
export function restoreSession(saved: SavedSession, editor: Editor, app: StoreApi<AppState>): boolean {
  if (!saved.meta && saved.tiles.length === 0) return false;
  for (const t of saved.tiles) editor.doc.swapTile(t.key, t.data);
  const meta = saved.meta;
  // A session written by another version keeps its pixels; its settings are left at the defaults.
  if (!meta || meta.version !== 1) return true;
  const byId = new Map(saved.steps.map((r) => [r.id, r]));
  const pick = (ids: readonly number[]): HistoryStep[] =>
    ids.map((id) => byId.get(id)).filter((r): r is StepRecord => r !== undefined).map(recordToStep);
  editor.doc.history.restore({ nextId: meta.history.nextId, undo: pick(meta.history.undo), redo: pick(meta.history.redo) });
  editor.store.setState({
    frame: meta.frame, aspect: meta.aspect, longSide: meta.longSide, camera: meta.camera, brush: meta.brush,
  });
  if ((TOOL_IDS as readonly string[]).includes(meta.tool)) editor.setTool(meta.tool);
  app.setState({
    params: meta.params, lastSeed: meta.lastSeed, lastParams: meta.lastParams, language: meta.language, settings: meta.settings,
  });
  return true;
}

/** Watches the editor and app stores and writes changes after a short quiet period. */
export class Autosave {
  private readonly dirtyTiles = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly persistence: Persistence,
    private readonly editor: Editor,
    private readonly app: StoreApi<AppState>,
    private readonly onError: (e: unknown) => void = () => {},
    private readonly delayMs = 300,
  ) {}

  /** Start watching (call after the session was restored). */
  start(): void {
    this.unsubscribers.push(
      this.editor.doc.onTileChange((key) => { this.dirtyTiles.add(key); this.schedule(); }),
      this.editor.doc.history.subscribe(() => this.schedule()),
      this.editor.store.subscribe((s, prev) => { if (s.frame !== prev.frame || s.camera !== prev.camera || s.tool !== prev.tool || s.brush !== prev.brush || s.aspect !== prev.aspect || s.longSide !== prev.longSide) this.schedule(); }),
      this.app.subscribe((s, prev) => { if (s.params !== prev.params || s.language !== prev.language || s.settings !== prev.settings || s.lastParams !== prev.lastParams || s.lastSeed !== prev.lastSeed) this.schedule(); }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopped = true;
  }

  private stopped = false;

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.delayMs);
  }

  /** Write everything pending now (waits for a gesture in progress to finish). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.saving = this.saving.then(() => this.write()).catch((e: unknown) => this.onError(e));
    return this.saving;
  }

  private async write(): Promise<void> {
    if (!this.editor.state.toolPath.endsWith('.idle')) {
      // A stroke or drag is in progress: its step is still open. Save when it ends.
      this.schedule();
      return;
    }
    const tiles = new Map<string, Uint8ClampedArray | null>();
    // IndexedDB clones values when put() is called (synchronously below), so live tiles are safe to pass.
    for (const key of this.dirtyTiles) tiles.set(key, this.editor.doc.getTile(key) ?? null);
    this.dirtyTiles.clear();
    const steps = new Map<number, StepRecord | null>();
    for (const id of this.editor.doc.history.takeDirty()) {
      const step = this.editor.doc.history.step(id);
      steps.set(id, step ? stepToRecord(step) : null);
    }
    await this.persistence.saveSession(tiles, steps, collectMeta(this.editor, this.app.getState()));
  }
}
