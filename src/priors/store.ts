/**
 * Where personal linear priors live: IndexedDB, one record per prior (header, W, b), plus the prompt
 * panel's prior choice, so both survive a reload. A record is written only when a fit has finished
 * or an import has been validated: a cancelled fit never leaves half a prior behind.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LinearPriorHeader } from '../../workers/priors/file.ts';

/** One stored prior. */
export interface StoredPrior {
  readonly id: string;
  readonly header: LinearPriorHeader;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly createdAt: number;
}

/** The prompt panel's prior choice: a kind, which linear prior ('bundle' or a stored id), the blend weight. */
export interface SavedPriorChoice {
  readonly kind: 'diffusion' | 'linear' | 'none' | 'blend';
  readonly linear: string | null;
  readonly linearWeight: number;
}

interface Schema extends DBSchema {
  priors: { key: string; value: StoredPrior };
  kv: { key: string; value: SavedPriorChoice };
}

/** Storage of personal priors and the choice. */
export interface PriorStore {
  list(): Promise<StoredPrior[]>;
  put(prior: StoredPrior): Promise<void>;
  remove(id: string): Promise<void>;
  saveChoice(choice: SavedPriorChoice): Promise<void>;
  loadChoice(): Promise<SavedPriorChoice | null>;
}

/** The database name beside the editor's autosave database. */
export function priorDbName(editorDb: string): string {
  return `${editorDb}-priors`;
}

/** IndexedDB storage. */
export class IdbPriorStore implements PriorStore {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  static async open(name: string): Promise<IdbPriorStore> {
    const db = await openDB<Schema>(name, 1, {
      upgrade(d) {
        d.createObjectStore('priors', { keyPath: 'id' });
        d.createObjectStore('kv');
      },
    });
    return new IdbPriorStore(db);
  }

  async list(): Promise<StoredPrior[]> {
    return (await this.db.getAll('priors')).sort((a, b) => a.createdAt - b.createdAt);
  }
  async put(prior: StoredPrior): Promise<void> { await this.db.put('priors', prior); }
  async remove(id: string): Promise<void> { await this.db.delete('priors', id); }
  async saveChoice(choice: SavedPriorChoice): Promise<void> { await this.db.put('kv', choice, 'choice'); }
  async loadChoice(): Promise<SavedPriorChoice | null> { return (await this.db.get('kv', 'choice')) ?? null; }
}

/** In-memory storage (no persistence, `?db=` without a name; unit tests). */
export class MemoryPriorStore implements PriorStore {
  private readonly priors = new Map<string, StoredPrior>();
  private choice: SavedPriorChoice | null = null;
  async list(): Promise<StoredPrior[]> { return [...this.priors.values()].sort((a, b) => a.createdAt - b.createdAt); }
  async put(prior: StoredPrior): Promise<void> { this.priors.set(prior.id, prior); }
  async remove(id: string): Promise<void> { this.priors.delete(id); }
  async saveChoice(choice: SavedPriorChoice): Promise<void> { this.choice = choice; }
  async loadChoice(): Promise<SavedPriorChoice | null> { return this.choice; }
}
