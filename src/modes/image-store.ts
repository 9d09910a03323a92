/**
 * Where input images live: IndexedDB, keyed by content id, so a result's parameters can name
 * them and a re-run (also after a reload) finds the same pixels. The panel's state is kept there too.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RgbaImage } from '../../workers/protocol.ts';
import type { SavedModes } from './state.ts';

/** One stored input image. */
export interface StoredImage {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
  readonly createdAt: number;
}

interface Schema extends DBSchema {
  images: { key: string; value: StoredImage; indexes: { createdAt: number } };
  kv: { key: string; value: SavedModes };
}

/** Storage of input images and the panel's state. */
export interface ImageStore {
  put(id: string, image: RgbaImage): Promise<void>;
  get(id: string): Promise<RgbaImage | null>;
  saveState(state: SavedModes): Promise<void>;
  loadState(): Promise<SavedModes | null>;
  /** Delete the images stored before `before` (ms since the epoch) whose id is not in `keep`; returns their ids. */
  prune(keep: ReadonlySet<string>, before: number): Promise<string[]>;
}

/** The database name beside the editor's autosave database. */
export function imageDbName(editorDb: string): string {
  return `${editorDb}-inputs`;
}

/** IndexedDB storage (one database per editor database). */
export class IdbImageStore implements ImageStore {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  static async open(name: string): Promise<IdbImageStore> {
    const db = await openDB<Schema>(name, 2, {
      upgrade(d, oldVersion, _newVersion, tx) {
        if (oldVersion < 1) {
          d.createObjectStore('images', { keyPath: 'id' });
          d.createObjectStore('kv');
        }
        // Version 2: an index on createdAt, so pruning walks keys without reading pixels.
        if (oldVersion < 2) tx.objectStore('images').createIndex('createdAt', 'createdAt');
      },
    });
    return new IdbImageStore(db);
  }

  async put(id: string, image: RgbaImage): Promise<void> {
    // Content-addressed: an id that is already stored holds the same pixels.
    if ((await this.db.getKey('images', id)) !== undefined) return;
    await this.db.put('images', { id, width: image.width, height: image.height, data: new Uint8ClampedArray(image.data), createdAt: Date.now() });
  }

  async get(id: string): Promise<RgbaImage | null> {
    const r = await this.db.get('images', id);
    return r ? { width: r.width, height: r.height, data: r.data } : null;
  }

  async saveState(state: SavedModes): Promise<void> {
    await this.db.put('kv', state, 'state');
  }

  async prune(keep: ReadonlySet<string>, before: number): Promise<string[]> {
    const tx = this.db.transaction('images', 'readwrite');
    const removed: string[] = [];
    let cursor = await tx.store.index('createdAt').openKeyCursor(IDBKeyRange.upperBound(before, true));
    while (cursor) {
      const id = cursor.primaryKey;
      if (!keep.has(id)) {
        removed.push(id);
        await tx.store.delete(id);
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return removed;
  }

  async loadState(): Promise<SavedModes | null> {
    return (await this.db.get('kv', 'state')) ?? null;
  }

  close(): void {
    this.db.close();
  }
}

/** In-memory storage (no IndexedDB: `?db=` off, or it failed to open). */
export class MemoryImageStore implements ImageStore {
  private readonly images = new Map<string, RgbaImage>();
  private readonly created = new Map<string, number>();
  private state: SavedModes | null = null;
  constructor(private readonly now: () => number = Date.now) {}
  async put(id: string, image: RgbaImage): Promise<void> {
    if (!this.created.has(id)) this.created.set(id, this.now());
    this.images.set(id, image);
  }
  async get(id: string): Promise<RgbaImage | null> { return this.images.get(id) ?? null; }
  async saveState(state: SavedModes): Promise<void> { this.state = state; }
  async loadState(): Promise<SavedModes | null> { return this.state; }
  async prune(keep: ReadonlySet<string>, before: number): Promise<string[]> {
    const removed = [...this.created].filter(([id, at]) => at < before && !keep.has(id)).map(([id]) => id);
    for (const id of removed) { this.images.delete(id); this.created.delete(id); }
    return removed;
  }
}

/**
 * A store that opens on first use and falls back to memory when IndexedDB is unavailable, so
 * the panel works at once and a failing database never blocks a run.
 */
export function lazyImageStore(open: (() => Promise<ImageStore>) | null): ImageStore {
  let opened: Promise<ImageStore> | null = null;
  const store = (): Promise<ImageStore> => {
    opened ??= (open ? open() : Promise.resolve(new MemoryImageStore())).catch((e: unknown) => {
      console.warn('modes: IndexedDB unavailable, input images are kept in memory only', e);
      return new MemoryImageStore();
    });
    return opened;
  };
  return {
    put: async (id, image) => (await store()).put(id, image),
    get: async (id) => (await store()).get(id),
    saveState: async (state) => (await store()).saveState(state),
    loadState: async () => (await store()).loadState(),
    prune: async (keep, before) => (await store()).prune(keep, before),
  };
}
