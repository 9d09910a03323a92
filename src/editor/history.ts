/**
 * Undo history recorded as tile diffs between named marks (tldraw's model: changes
 * accumulate, marks are stopping points, a drag squashes into one step).
 *
 * A step stores, for each tile it touched, the tile's content on the *other* side of the
 * step. Undo and redo both swap those tiles with the document's, so a step costs one
 * copy of each touched tile whichever side it is on.
 */

/** What the history edits: swaps a whole tile and returns what was there (null = empty tile). */
export interface HistoryTarget {
  swap(key: string, data: Uint8ClampedArray | null): Uint8ClampedArray | null;
}

/** One undoable step; `tiles` holds the other side's tile contents. */
export interface HistoryStep {
  readonly id: number;
  name: string;
  readonly tiles: Map<string, Uint8ClampedArray | null>;
  bytes: number;
}

/** Bounds on history memory. */
export interface HistoryLimits {
  /** Steps kept on the undo stack at most. */
  readonly maxSteps: number;
  /** Bytes of tile copies kept at most (undo + redo); the oldest steps go first. The latest step always stays. */
  readonly maxBytes: number;
}

/** Default limits: 200 steps, 512 MiB. */
export const DEFAULT_HISTORY_LIMITS = { maxSteps: 200, maxBytes: 512 * 1024 * 1024 } as const satisfies HistoryLimits;

/** Serialisable form of the history (for autosave). */
export interface HistorySnapshot {
  readonly nextId: number;
  readonly undo: readonly HistoryStep[];
  readonly redo: readonly HistoryStep[];
}

/** Diff-based undo/redo with marks and bounded memory. */
export class History {
  private undoStack: HistoryStep[] = [];
  private redoStack: HistoryStep[] = [];
  /** The step collecting changes now; null until the first change after a mark. */
  private open: HistoryStep | null = null;
  private openName = 'edit';
  private nextId = 1;
  private readonly listeners = new Set<() => void>();
  /** Steps created, changed or dropped since the last `takeDirty()` (autosave). */
  private dirty = new Set<number>();

  constructor(private readonly target: HistoryTarget, private readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {}

  /** Close the current step and start a new one named `name`; returns the mark's id for bail/squash. */
  mark(name: string): number {
    this.close();
    this.openName = name;
    return this.nextId;
  }

  /** True if `key` was already recorded in the open step (the caller may skip copying). */
  isRecorded(key: string): boolean {
    return this.open?.tiles.has(key) ?? false;
  }

  /** Record a tile's content before its first change in the open step (`before` must be a copy). */
  record(key: string, before: Uint8ClampedArray | null): void {
    if (!this.open) {
      this.open = { id: this.nextId++, name: this.openName, tiles: new Map(), bytes: 0 };
      this.dropRedo();
    }
    if (this.open.tiles.has(key)) return;
    this.open.tiles.set(key, before);
    this.open.bytes += before?.byteLength ?? 0;
    this.dirty.add(this.open.id);
  }

  /** Undo the latest step; returns its name, or null when there is nothing to undo. */
  undo(): string | null {
    this.close();
    const step = this.undoStack.pop();
    if (!step) return null;
    this.apply(step);
    this.redoStack.push(step);
    this.changed();
    return step.name;
  }

  /** Redo the latest undone step; returns its name, or null. */
  redo(): string | null {
    this.close();
    const step = this.redoStack.pop();
    if (!step) return null;
    this.apply(step);
    this.undoStack.push(step);
    this.changed();
    return step.name;
  }

  /** Revert and forget every change since mark `id` (e.g. a cancelled drag). */
  bailToMark(id: number): void {
    this.close();
    while (this.undoStack.length > 0 && (this.undoStack.at(-1)?.id ?? 0) >= id) {
      const step = this.undoStack.pop();
      if (!step) break;
      this.apply(step);
      this.dirty.add(step.id);
    }
    this.changed();
  }

  /** Merge every step since mark `id` into one step named `name`. */
  squashToMark(id: number, name: string): void {
    this.close();
    const since: HistoryStep[] = [];
    while (this.undoStack.length > 0 && (this.undoStack.at(-1)?.id ?? 0) >= id) {
      const step = this.undoStack.pop();
      if (step) since.unshift(step);
    }
    if (since.length === 0) return;
    const first = since[0];
    if (!first) return;
    const merged: HistoryStep = { id: first.id, name, tiles: new Map(first.tiles), bytes: first.bytes };
    for (const step of since.slice(1)) {
      // The earliest "before" of each tile wins: that is the state before the whole squash.
      for (const [key, data] of step.tiles) {
        if (!merged.tiles.has(key)) {
          merged.tiles.set(key, data);
          merged.bytes += data?.byteLength ?? 0;
        }
      }
      this.dirty.add(step.id);
    }
    this.undoStack.push(merged);
    this.dirty.add(merged.id);
    this.changed();
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0 || this.open !== null;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0 && this.open === null;
  }

  /** Names of the undo stack, oldest first (for display and tests). */
  undoNames(): string[] {
    const names = this.undoStack.map((s) => s.name);
    if (this.open) names.push(this.open.name);
    return names;
  }

  /** Names of the redo stack, next-to-redo last. */
  redoNames(): string[] {
    return this.redoStack.map((s) => s.name);
  }

  /** Bytes of tile copies held now. */
  get bytes(): number {
    let n = this.open?.bytes ?? 0;
    for (const s of this.undoStack) n += s.bytes;
    for (const s of this.redoStack) n += s.bytes;
    return n;
  }

  /** Subscribe to stack changes; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Closed steps (for autosave); a step still collecting changes is left out until it closes. */
  snapshot(): HistorySnapshot {
    return { nextId: this.nextId, undo: [...this.undoStack], redo: [...this.redoStack] };
  }

  /** Replace the whole history (after loading an autosave). */
  restore(snap: HistorySnapshot): void {
    this.open = null;
    this.undoStack = [...snap.undo];
    this.redoStack = [...snap.redo];
    this.nextId = Math.max(snap.nextId, ...snap.undo.map((s) => s.id + 1), ...snap.redo.map((s) => s.id + 1), 1);
    this.dirty.clear();
    this.changed();
  }

  /** Ids of steps changed since the last call (autosave writes or deletes exactly these). */
  takeDirty(): number[] {
    const open = this.open?.id;
    const ids = [...this.dirty].filter((id) => id !== open);
    this.dirty = new Set(open !== undefined && this.dirty.has(open) ? [open] : []);
    return ids;
  }

  /** The step with this id if it is still held. */
  step(id: number): HistoryStep | undefined {
    return this.undoStack.find((s) => s.id === id) ?? this.redoStack.find((s) => s.id === id);
  }

  /** Close the open step: push it, then enforce the limits. */
  private close(): void {
    if (!this.open) return;
    this.undoStack.push(this.open);
    this.open = null;
    this.enforceLimits();
    this.changed();
  }

  private apply(step: HistoryStep): void {
    let bytes = 0;
    for (const [key, data] of step.tiles) {
      const other = this.target.swap(key, data);
      step.tiles.set(key, other);
      bytes += other?.byteLength ?? 0;
    }
    step.bytes = bytes;
    this.dirty.add(step.id);
  }

  private dropRedo(): void {
    for (const s of this.redoStack) this.dirty.add(s.id);
    this.redoStack = [];
  }

  private enforceLimits(): void {
    while (this.undoStack.length > this.limits.maxSteps) this.evictOldest();
    while (this.bytes > this.limits.maxBytes && this.undoStack.length + this.redoStack.length > 1) {
      if (this.undoStack.length > 1 || this.redoStack.length === 0) this.evictOldest();
      else {
        const dropped = this.redoStack.shift();
        if (dropped) this.dirty.add(dropped.id);
      }
    }
  }

  private evictOldest(): void {
    const step = this.undoStack.shift();
    if (step) this.dirty.add(step.id);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
