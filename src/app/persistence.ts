/**
 * Autosave to IndexedDB: document tiles, undo history, session settings and the gallery,
 * written incrementally (only changed tiles and steps) shortly after each change, and at once on
 * Accept, at the end of a run and when the page is hidden. Records are checked on load
 * (session-record.ts); a damaged one is repaired and its original kept under its own `quarantine/…` key.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { StoreApi } from 'zustand/vanilla';
import type { Editor, EditorState } from '../editor/editor.ts';
import type { HistoryStep } from '../editor/history.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import { restoreAppState, type AppState, type GalleryItem, type GenParams, type Settings } from './store.ts';
import type { Language } from './i18n.ts';
import { readGalleryRecords, readSessionRecord, type RawSession, type ReadSession, type SavedSession } from './session-record.ts';

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
  /** `session` → SessionMeta; `quarantine/<id>` → QuarantineRecord (in kv, so the database needs no upgrade). */
  kv: { key: string; value: SessionMeta | QuarantineRecord };
  gallery: { key: string; value: GalleryItem; indexes: { createdAt: number } };
}

/** Key prefix of quarantined session records in the `kv` store. */
const QUARANTINE_PREFIX = 'quarantine/';

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

/** A damaged session record as it was found, kept intact for export (kv key `quarantine/<id>`). */
export interface QuarantineRecord {
  readonly id: string;
  readonly foundAt: number;
  /** What was wrong, one line each (from `readSessionRecord`). */
  readonly problems: readonly string[];
  readonly meta: unknown;
  readonly tiles: readonly unknown[];
  readonly steps: readonly unknown[];
}

/** One autosave write: changed tiles (null = deleted), steps (null = dropped), the meta and gallery changes. */
export interface SessionWrite {
  readonly tiles: ReadonlyMap<string, Uint8ClampedArray | null>;
  readonly steps: ReadonlyMap<number, StepRecord | null>;
  readonly meta: SessionMeta;
  /** Gallery items to put (an item) or delete (null). */
  readonly gallery?: ReadonlyMap<string, GalleryItem | null>;
  /** Clear the stored tiles and steps first: `tiles` and `steps` are the whole session (after a repair). */
  readonly replace?: boolean;
  /** The damaged record to keep, written in the same transaction as its repair. */
  readonly quarantine?: QuarantineRecord | null;
}

/** Why storage failed, as the user is told. */
export const STORAGE_FAILURES = ['quota', 'blocked', 'failed'] as const;
export type StorageFailure = (typeof STORAGE_FAILURES)[number];

/** Classify a storage error: quota exceeded, storage blocked by the browser, or anything else; with a non-empty detail. */
export function classifyStorageError(e: unknown): { readonly reason: StorageFailure; readonly detail: string } {
  const field = (k: 'name' | 'message'): string => {
    const v = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' ? v.trim() : '';
  };
  const name = field('name');
  const message = typeof e === 'string' ? e : field('message');
  // Chromium's quota error has an empty message: the name is the reason then.
  const detail = [name, message].filter((x) => x !== '' && x !== 'Error').join(': ') || 'unknown error';
  // Chromium and Firefox name it QuotaExceededError; older Firefox used NS_ERROR_DOM_QUOTA_REACHED.
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || /quota/i.test(message)) return { reason: 'quota', detail };
  // IndexedDB refused outright: private windows, blocked site data.
  if (name === 'SecurityError' || name === 'NotAllowedError') return { reason: 'blocked', detail };
  return { reason: 'failed', detail };
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

  /** Read the session's three stores as stored, unchecked (see `loadSession`). */
  async loadRawSession(): Promise<RawSession> {
    const tx = this.db.transaction(['tiles', 'steps', 'kv'], 'readonly');
    const [meta, tiles, steps] = await Promise.all([
      tx.objectStore('kv').get('session') as Promise<unknown>, tx.objectStore('tiles').getAll() as Promise<unknown[]>,
      tx.objectStore('steps').getAll() as Promise<unknown[]>,
    ]);
    await tx.done;
    return { meta: meta ?? null, tiles, steps };
  }

  /** Read and check the saved session: what can be restored, what was repaired, and the record as found. */
  async loadSession(): Promise<ReadSession & { readonly raw: RawSession }> {
    const raw = await this.loadRawSession();
    return { ...readSessionRecord(raw), raw };
  }

  /** Write one autosave batch in one transaction; resolves only once it has committed. */
  async saveSession(w: SessionWrite): Promise<void> {
    const tx = this.db.transaction(['tiles', 'steps', 'kv', 'gallery'], 'readwrite');
    const ts = tx.objectStore('tiles');
    const ss = tx.objectStore('steps');
    const ops: Promise<unknown>[] = [];
    if (w.quarantine) ops.push(tx.objectStore('kv').put(w.quarantine, QUARANTINE_PREFIX + w.quarantine.id));
    if (w.replace) ops.push(ts.clear(), ss.clear());
    for (const [key, data] of w.tiles) {
      if (data) ops.push(ts.put({ key, data }));
      else if (!w.replace) ops.push(ts.delete(key));
    }
    for (const [id, rec] of w.steps) {
      if (rec) ops.push(ss.put(rec));
      else if (!w.replace) ops.push(ss.delete(id));
    }
    ops.push(tx.objectStore('kv').put(w.meta, 'session'));
    const gs = tx.objectStore('gallery');
    for (const [id, item] of w.gallery ?? []) ops.push(item ? gs.put(item) : gs.delete(id));
    // Ask for the commit now rather than when the task ends: a page killed right after stands a better chance.
    tx.commit();
    await Promise.all([...ops, tx.done]);
  }

  /** All well-formed gallery items, oldest first, and how many stored items were not readable (left in storage). */
  async loadGallery(): Promise<{ readonly items: GalleryItem[]; readonly skipped: number }> {
    return readGalleryRecords(await this.db.getAllFromIndex('gallery', 'createdAt') as unknown[]);
  }

  /** Damaged session records kept from earlier loads, oldest first. */
  async loadQuarantine(): Promise<QuarantineRecord[]> {
    return await this.db.getAll('kv', IDBKeyRange.bound(QUARANTINE_PREFIX, `${QUARANTINE_PREFIX}\uffff`)) as QuarantineRecord[];
  }

  close(): void {
    this.db.close();
  }
}

/** A damaged record as JSON (typed arrays as base64) for the "download damaged session" action. */
export function quarantineToJson(rec: QuarantineRecord): string {
  return JSON.stringify(rec, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { type: v.constructor.name, base64: btoa(bin) };
    }
    return v;
  }, 1);
}

/** Put a checked session back into the editor and app stores. Returns false when nothing was saved. */
export function restoreSession(saved: SavedSession | null, editor: Editor, app: StoreApi<AppState>): boolean {
  if (!saved) return false;
  for (const t of saved.tiles) editor.doc.swapTile(t.key, t.data);
  const meta = saved.meta;
  if (!meta) return true;
  const byId = new Map(saved.steps.map((r) => [r.id, r]));
  const pick = (ids: readonly number[]): HistoryStep[] =>
    ids.map((id) => byId.get(id)).filter((r): r is StepRecord => r !== undefined).map(recordToStep);
  editor.doc.history.restore({ nextId: meta.history.nextId, undo: pick(meta.history.undo), redo: pick(meta.history.redo) });
  editor.setFrameSize(meta.aspect, meta.longSide);
  editor.setFrame(meta.frame);
  editor.setCamera(meta.camera);
  editor.setBrush(meta.brush);
  editor.setTool(meta.tool);
  restoreAppState(app, { params: meta.params, lastSeed: meta.lastSeed, lastParams: meta.lastParams, language: meta.language, settings: meta.settings });
  return true;
}

/** What the autosave reports after each write. */
export type SaveOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: unknown; readonly retryInMs: number };

/** Autosave timing: the quiet period after a change, and the retry backoff after a failed write. */
export interface AutosaveOptions {
  readonly onOutcome?: (outcome: SaveOutcome) => void;
  readonly delayMs?: number;
  /** First retry delay; it doubles per failure up to `retryMaxMs`. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
}

/** Default autosave timing: 300 ms quiet period; retries after 1 s, 2 s, 4 s … at most 30 s. */
export const AUTOSAVE_TIMING = { delayMs: 300, retryFirstMs: 1000, retryMaxMs: 30_000 } as const;

/**
 * Watches the editor and app stores and writes changes after a short quiet period.
 * Nothing is marked clean before its transaction has committed: a failed write leaves every change
 * pending and retries with backoff, and a later write carries it.
 */
export class Autosave {
  /** Changed tiles and steps, each with the change counter of its latest change (cleared only if unchanged since the write). */
  private readonly dirtyTiles = new Map<string, number>();
  private readonly dirtySteps = new Map<number, number>();
  private readonly dirtyGallery = new Map<string, { readonly item: GalleryItem | null; readonly seq: number }>();
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  /** Write the whole session (clearing what is stored) next, keeping this damaged record. */
  private rewrite: { readonly quarantine: QuarantineRecord | null } | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly unsubscribers: (() => void)[] = [];
  private stopped = false;
  private readonly timing: Required<Omit<AutosaveOptions, 'onOutcome'>>;

  constructor(
    private readonly persistence: Persistence,
    private readonly editor: Editor,
    private readonly app: StoreApi<AppState>,
    private readonly options: AutosaveOptions = {},
  ) {
    this.timing = { ...AUTOSAVE_TIMING, ...options };
  }

  /** Start watching (call after the session was restored). */
  start(): void {
    this.unsubscribers.push(
      this.editor.doc.onTileChange((key) => { this.dirtyTiles.set(key, ++this.seq); this.schedule(); }),
      this.editor.doc.history.subscribe(() => this.schedule()),
      this.editor.store.subscribe((s, prev) => { if (s.frame !== prev.frame || s.camera !== prev.camera || s.tool !== prev.tool || s.brush !== prev.brush || s.aspect !== prev.aspect || s.longSide !== prev.longSide) this.schedule(); }),
      this.app.subscribe((s, prev) => { if (s.params !== prev.params || s.language !== prev.language || s.settings !== prev.settings || s.lastParams !== prev.lastParams || s.lastSeed !== prev.lastSeed) this.schedule(); }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.clearTimers();
    this.stopped = true;
  }

  /** The next write replaces the stored session with the editor's whole state (after a repair), keeping `quarantine`. */
  rewriteAll(quarantine: QuarantineRecord | null): void {
    this.rewrite = { quarantine };
    this.schedule();
  }

  /** Store a gallery item (kept pending and retried until a write commits). */
  putGalleryItem(item: GalleryItem): void {
    this.dirtyGallery.set(item.id, { item, seq: ++this.seq });
    this.schedule();
  }

  /** Delete a gallery item (kept pending and retried until a write commits). */
  deleteGalleryItem(id: string): void {
    this.dirtyGallery.set(id, { item: null, seq: ++this.seq });
    this.schedule();
  }

  /** True while changes wait for a write that has not committed yet. */
  get pending(): boolean {
    return this.dirtyTiles.size > 0 || this.dirtySteps.size > 0 || this.dirtyGallery.size > 0 || this.rewrite !== null;
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = null;
    this.retryTimer = null;
  }

  private schedule(): void {
    // While a retry is waiting, it will carry this change too: storage that just failed is not hammered.
    if (this.stopped || this.retryTimer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.timing.delayMs);
  }

  /** Write everything pending now (waits for a gesture in progress to finish); resolves after the attempt, failed or not. */
  flush(): Promise<void> {
    if (this.stopped) return this.saving;
    this.clearTimers();
    this.saving = this.saving.then(() => this.write());
    return this.saving;
  }

  private async write(): Promise<void> {
    if (this.stopped) return;
    if (!this.editor.state.toolPath.endsWith('.idle')) {
      // A stroke or drag is in progress: its step is still open. Save when it ends.
      this.schedule();
      return;
    }
    const history = this.editor.doc.history;
    for (const id of history.takeDirty()) this.dirtySteps.set(id, ++this.seq);
    const rewrite = this.rewrite;
    const tileSnap = [...this.dirtyTiles];
    const stepSnap = [...this.dirtySteps];
    const gallerySnap = [...this.dirtyGallery];
    const tiles = new Map<string, Uint8ClampedArray | null>();
    const steps = new Map<number, StepRecord | null>();
    // IndexedDB clones values when put() is called (synchronously in saveSession), so live tiles are safe to pass.
    if (rewrite) {
      for (const [key, data] of this.editor.doc.allTiles()) tiles.set(key, data);
      const snap = history.snapshot();
      for (const step of [...snap.undo, ...snap.redo]) steps.set(step.id, stepToRecord(step));
    } else {
      for (const [key] of tileSnap) tiles.set(key, this.editor.doc.getTile(key) ?? null);
      for (const [id] of stepSnap) {
        const step = history.step(id);
        steps.set(id, step ? stepToRecord(step) : null);
      }
    }
    const gallery = new Map(gallerySnap.map(([id, g]) => [id, g.item]));
    try {
      await this.persistence.saveSession({
        tiles, steps, meta: collectMeta(this.editor, this.app.getState()), gallery, replace: rewrite !== null, quarantine: rewrite?.quarantine ?? null,
      });
    } catch (error) {
      this.failures++;
      const retryInMs = Math.min(this.timing.retryFirstMs * 2 ** (this.failures - 1), this.timing.retryMaxMs);
      if (!this.stopped) this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.flush(); }, retryInMs);
      this.options.onOutcome?.({ ok: false, error, retryInMs });
      return;
    }
    // Committed: clear what was written, unless it changed again while the write was in flight.
    for (const [key, seq] of tileSnap) if (this.dirtyTiles.get(key) === seq) this.dirtyTiles.delete(key);
    for (const [id, seq] of stepSnap) if (this.dirtySteps.get(id) === seq) this.dirtySteps.delete(id);
    for (const [id, g] of gallerySnap) if (this.dirtyGallery.get(id)?.seq === g.seq) this.dirtyGallery.delete(id);
    if (this.rewrite === rewrite) this.rewrite = null;
    this.failures = 0;
    this.options.onOutcome?.({ ok: true });
  }
}
