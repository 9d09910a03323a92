/** The app's IndexedDB: restoring the session, reading the gallery back, autosaving, and one notice for storage trouble. */
import type { StoreApi } from 'zustand/vanilla';
import type { Editor } from '../editor/editor.ts';
import { download } from './files.ts';
import type { MessageKey } from './i18n.ts';
import { Autosave, classifyStorageError, Persistence, quarantineToJson, restoreSession, type QuarantineRecord, type SaveOutcome } from './persistence.ts';
import { clearSlot, galleryReadBack, markGalleryLoaded, notify, type AppState, type GalleryItem } from './store.ts';

/** Storage of one app: null autosave until start() opened it (or when nothing is stored). */
export class AppStorage {
  private autosave: Autosave | null = null;
  /** True when start() found a saved session (the camera then comes from it). */
  sessionRestored = false;

  constructor(private readonly store: StoreApi<AppState>, private readonly editor: Editor) {}

  /**
   * Open storage (`dbName` null: none, the gallery in memory is all there is), then restore the session, load the
   * gallery and start autosaving, each on its own: a damaged session record must not keep the gallery hidden or the autosave off.
   */
  async start(dbName: string | null | undefined): Promise<void> {
    if (dbName === null) { markGalleryLoaded(this.store); return; }
    let persistence: Persistence;
    try {
      persistence = await Persistence.open(dbName);
    } catch (e) {
      // No storage at all: the gallery in memory is all there is.
      markGalleryLoaded(this.store);
      this.failed(e);
      return;
    }
    let quarantine: QuarantineRecord | null = null;
    try {
      const loaded = await persistence.loadSession();
      this.sessionRestored = restoreSession(loaded.session, this.editor, this.store);
      if (loaded.problems.length > 0) {
        quarantine = { id: `session-${new Date().toISOString()}`, foundAt: Date.now(), problems: loaded.problems, ...loaded.raw };
        const record = quarantine;
        notify(this.store, 'error', 'sessionDamaged', { count: loaded.problems.length, first: loaded.problems[0] ?? '' }, {
          slot: 'session', action: { label: 'downloadDamaged', run: () => downloadDamagedSession(record) },
        });
      } else if (this.sessionRestored) {
        notify(this.store, 'info', 'restored');
      }
    } catch (e) {
      this.failed(e);
    }
    try {
      const { items, skipped } = await persistence.loadGallery();
      galleryReadBack(this.store, items);
      if (skipped > 0) notify(this.store, 'warning', 'gallerySkipped', { count: skipped });
    } catch (e) {
      this.failed(e);
    }
    this.autosave = new Autosave(persistence, this.editor, this.store, { onOutcome: (o) => this.outcome(o) });
    // A repaired session is written back whole, with the damaged original kept beside it for export.
    if (quarantine) this.autosave.rewriteAll(quarantine);
    this.autosave.start();
  }

  /** Write pending autosave data now (page hide, end of a run, tests). */
  async flush(): Promise<void> {
    await this.autosave?.flush();
  }

  /** Store a new gallery item (with the next write). */
  putGalleryItem(item: GalleryItem): void {
    this.autosave?.putGalleryItem(item);
  }

  /** Delete a stored gallery item (with the next write). */
  deleteGalleryItem(id: string): void {
    this.autosave?.deleteGalleryItem(id);
  }

  private outcome(o: SaveOutcome): void {
    if (o.ok) clearSlot(this.store, 'storage');
    else this.failed(o.error);
  }

  /** One storage notice at a time, with the reason; it goes away when a write succeeds again. */
  private failed(e: unknown): void {
    const { reason, detail } = classifyStorageError(e);
    const key = ({ quota: 'storageQuota', blocked: 'storageBlocked', failed: 'storageError' } as const satisfies Record<typeof reason, MessageKey>)[reason];
    notify(this.store, 'error', key, { message: detail }, { slot: 'storage' });
  }
}

/** Download a damaged session record as JSON (typed arrays as base64). */
export function downloadDamagedSession(record: QuarantineRecord): void {
  download(new TextEncoder().encode(quarantineToJson(record)), `kandinsky-damaged-session-${record.foundAt}.json`, 'application/json');
}
