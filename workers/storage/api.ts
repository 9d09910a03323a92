/**
 * ModelStore: the model manager behind the models worker. Downloads, imports, lists, opens and deletes
 * bundles kept in the origin private file system; every method returns Result<T> (errors as data).
 *
 * Layout in the store: `bundles/<id>/state.json` (the record, see state.ts), `bundles/<id>/files/<path>`
 * (manifest.json and the files it names), `active.json` (the bundle the app opens at start).
 */
import { BUILTIN_MODEL } from '../builtin.ts';
import { EngineError, ErrorCode, settle, toErrorData } from '../errors.ts';
import type { Result } from '../protocol.ts';
import { openBestStore, type FileStore } from './files.ts';
import { sha256OfBlob } from './hash.ts';
import { defaultLocks, withLock, type LockManagerLike } from './locks.ts';
import type {
  AddProgress, AddRequest, FileProgress, GpuFacts, ModelStoreApi, OpenedBundle, RemoveResult, StorageUsage, StoredBundle,
} from './protocol.ts';
import { checkSpace, type SpaceEstimate } from './quota.ts';
import { RateMeter, etaSeconds } from './rate.ts';
import { resolveSource, type ResolvedSource } from './sources.ts';
import {
  markReady, newRecord, parseRecord, pendingFiles, reconcile, salvage, summarise, summariseDamaged, withAbsent, withError,
  withValidator, withVerified, type BundleRecord,
} from './state.ts';
import { transferFile } from './transfer.ts';
import { detectGpu } from './variants.ts';
import { formatBytes } from './format.ts';

/** Directory (OPFS) or cache name (Cache Storage) the store lives in. */
export const STORE_NAME = 'kandinsky-web-models';
/** Id of the stored copy of the built-in bundle. */
export const BUILTIN_ID = 'builtin';
/** Prefix of Web Lock names, one lock per bundle id. */
export const LOCK_PREFIX = 'kandinsky-web:bundle:';
/** How often progress events are sent at most (ms). */
const PROGRESS_INTERVAL_MS = 200;

/** Everything the store touches outside itself; defaults use the browser's APIs. */
export interface ModelStoreOptions {
  readonly store?: FileStore | Promise<FileStore>;
  readonly fetch?: typeof fetch;
  /** Absolute URL of the built-in bundle folder. */
  readonly builtinUrl?: string;
  readonly baseHref?: string;
  readonly gpu?: () => Promise<GpuFacts>;
  readonly locks?: LockManagerLike;
  readonly estimate?: () => Promise<SpaceEstimate | null>;
  readonly persist?: () => Promise<boolean>;
  readonly persisted?: () => Promise<boolean>;
  readonly now?: () => number;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
  return s === '' ? 'model' : s;
}

const bundleDir = (id: string) => `bundles/${id}`;

/** A bundle folder's record: intact, damaged (quarantined: listed with the reason, only delete and a new add
 *  touch it) or absent. One bad folder never stops the others from being listed, added or deleted. */
type StoredRecord =
  | { readonly kind: 'ok'; readonly rec: BundleRecord }
  | { readonly kind: 'damaged'; readonly reason: string; readonly text: string | null }
  | { readonly kind: 'none' };
const filePath = (id: string, path: string) => `bundles/${id}/files/${path}`;

/** Tracks per-file and overall progress and sends throttled events. */
class ProgressTracker {
  private readonly files = new Map<string, FileProgress & { meter: RateMeter }>();
  private readonly overall = new RateMeter();
  private phase: AddProgress['phase'] = 'resolving';
  private message = '';
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly bundleId: string,
    private readonly name: string,
    private readonly send: ((p: AddProgress) => void) | undefined,
    private readonly now: () => number,
  ) {}

  init(rec: BundleRecord, stored: ReadonlyMap<string, number | null>): void {
    for (const f of rec.files) {
      if (f.absent) continue;
      const have = f.verified ? (f.storedBytes ?? 0) : (stored.get(f.path) ?? 0);
      this.files.set(f.path, {
        path: f.path, loaded: have, total: f.bytes ?? (f.verified ? f.storedBytes : null), status: f.verified ? 'verified' : 'pending',
        speed: 0, etaSeconds: f.verified ? 0 : null, resumedFrom: 0, meter: new RateMeter(),
      });
    }
  }

  update(path: string, change: Partial<FileProgress>, urgent = false): void {
    const f = this.files.get(path);
    if (!f) return;
    this.files.set(path, { ...f, ...change });
    this.emit(urgent);
  }

  bytes(path: string, n: number): void {
    const f = this.files.get(path);
    if (!f) return;
    const t = this.now();
    f.meter.add(n, t);
    this.overall.add(n, t);
    this.files.set(path, { ...f, loaded: f.loaded + n });
    this.emit(false);
  }

  setPhase(phase: AddProgress['phase'], message: string): void {
    this.phase = phase;
    this.message = message;
    this.emit(true);
  }

  snapshot(): AddProgress {
    const t = this.now();
    const files: FileProgress[] = [...this.files.values()].map(({ meter, ...f }) => {
      const speed = f.status === 'downloading' ? meter.speed(t) : 0;
      const eta = f.status === 'verified' ? 0 : etaSeconds(f.total === null ? null : f.total - f.loaded, speed);
      return { ...f, speed, etaSeconds: eta };
    });
    const loaded = files.reduce((s, f) => s + f.loaded, 0);
    const total = files.reduce((s, f) => s + (f.total ?? f.loaded), 0);
    const speed = this.overall.speed(t);
    return {
      bundleId: this.bundleId, name: this.name, phase: this.phase, message: this.message, loaded, total, speed,
      etaSeconds: this.phase === 'ready' ? 0 : etaSeconds(total - loaded, speed), files,
    };
  }

  private emit(urgent: boolean): void {
    if (!this.send) return;
    const t = this.now();
    if (urgent || t - this.lastSent >= PROGRESS_INTERVAL_MS) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      this.lastSent = t;
      this.send(this.snapshot());
    } else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = null; this.emit(true); }, PROGRESS_INTERVAL_MS);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The model manager (plain class: the models worker exposes it over comlink; Node tests use it directly). */
export class ModelStore implements ModelStoreApi {
  private readonly storeP: Promise<FileStore>;
  private readonly fetchFn: typeof fetch;
  private readonly locks: LockManagerLike;
  private readonly now: () => number;
  private readonly running = new Map<string, AbortController>();
  private gpuFacts: Promise<GpuFacts> | null = null;
  private persistAsked = false;

  constructor(private readonly options: ModelStoreOptions = {}) {
    this.storeP = Promise.resolve(options.store ?? openBestStore(STORE_NAME));
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.locks = options.locks ?? defaultLocks();
    this.now = options.now ?? (() => Date.now());
  }

  // ---- queries ----

  usage(): Promise<Result<StorageUsage>> {
    return settle(() => this.currentUsage());
  }

  gpu(): Promise<Result<GpuFacts>> {
    return settle(() => this.gpuOnce());
  }

  list(): Promise<Result<readonly StoredBundle[]>> {
    return settle(async () => {
      const store = await this.storeP;
      const out: StoredBundle[] = [];
      for (const id of await store.list('bundles')) {
        const stored = await this.readStored(id);
        if (stored.kind === 'none') continue;
        if (stored.kind === 'damaged') {
          const bytes = await this.dirBytes(bundleDir(id));
          out.push(summariseDamaged(id, stored.reason, salvage(stored.text ?? '', id), store.kind, bytes, this.now()));
          continue;
        }
        const { rec: checked, sizes } = await this.checked(stored.rec);
        out.push(summarise(checked, store.kind, sizes));
      }
      return out.sort((a, b) => b.addedAt - a.addedAt);
    });
  }

  active(): Promise<Result<string | null>> {
    return settle(async () => {
      const text = await (await this.storeP).readText('active.json');
      if (!text) return null;
      let id: unknown;
      try { id = (JSON.parse(text) as { id?: unknown }).id; } catch { return null; }
      if (typeof id !== 'string') return null;
      const rec = await this.readRecord(id);
      if (!rec) return null;
      return (await this.checked(rec)).rec.status === 'ready' ? id : null;
    });
  }

  setActive(bundleId: string | null): Promise<Result<null>> {
    return settle(async () => {
      const store = await this.storeP;
      if (bundleId === null) {
        await store.remove('active.json');
        return null;
      }
      await this.openRecord(bundleId);
      await store.writeText('active.json', JSON.stringify({ id: bundleId }));
      return null;
    });
  }

  open(bundleId: string): Promise<Result<OpenedBundle>> {
    return settle(async () => {
      const store = await this.storeP;
      const rec = await this.openRecord(bundleId);
      const files = new Map<string, Blob>();
      const manifest = await store.read(filePath(rec.id, 'manifest.json'));
      if (!manifest || (await sha256OfBlob(manifest)) !== rec.manifestSha256) {
        throw new EngineError(ErrorCode.Integrity, `The stored manifest of ${rec.name} is missing or changed: delete the model and add it again.`, { file: 'manifest.json' });
      }
      files.set('manifest.json', manifest);
      for (const f of rec.files) {
        if (f.absent) continue;
        const blob = await store.read(filePath(rec.id, f.path));
        if (!blob) throw new EngineError(ErrorCode.MissingFile, `${f.path} of ${rec.name} is missing from storage: press Download to restore it.`, { file: f.path });
        files.set(f.path, blob);
      }
      const { sizes } = await this.checked(rec);
      return { bundle: summarise(rec, store.kind, sizes), source: { kind: 'files', files } };
    });
  }

  // ---- changes ----

  add(request: AddRequest, onProgress?: (p: AddProgress) => void): Promise<Result<StoredBundle>> {
    const send = onProgress ? (p: AddProgress) => { void Promise.resolve(onProgress(p)).catch(() => undefined); } : undefined;
    return settle(async () => {
      send?.({ bundleId: '', name: '', phase: 'resolving', message: 'Reading the manifest…', loaded: 0, total: 0, speed: 0, etaSeconds: null, files: [] });
      const resolved = await resolveSource(request, {
        fetch: this.fetchFn,
        gpu: () => this.gpuOnce(),
        builtinUrl: this.options.builtinUrl ?? new URL(`/${BUILTIN_MODEL.path}`, this.baseHref()).href,
        baseHref: this.baseHref(),
      });
      const manifestSha256 = await sha256OfBlob(new Blob([resolved.manifestText]));
      const key = resolved.kind === 'folder' ? `${resolved.key}#${manifestSha256}` : resolved.key;
      const id = await this.idFor(key, resolved.manifest.name);
      const controller = new AbortController();
      const tracker = new ProgressTracker(id, resolved.manifest.name, send, this.now);
      try {
        return await withLock(this.locks, LOCK_PREFIX + id, () => {
          tracker.setPhase('waiting', 'Another tab is downloading this model; waiting for it to finish…');
        }, async () => {
          this.running.set(id, controller);
          try {
            return await this.fill(id, key, manifestSha256, resolved, controller.signal, tracker);
          } finally {
            this.running.delete(id);
          }
        });
      } finally {
        tracker.dispose();
      }
    });
  }

  cancel(bundleId: string): void {
    this.running.get(bundleId)?.abort();
  }

  remove(bundleId: string): Promise<Result<RemoveResult>> {
    return settle(async () => {
      const store = await this.storeP;
      const stored = await this.readStored(bundleId);
      if (stored.kind === 'none') throw new EngineError(ErrorCode.BadRequest, `No stored model "${bundleId}".`);
      this.running.get(bundleId)?.abort();
      return withLock(this.locks, LOCK_PREFIX + bundleId, () => undefined, async () => {
        const freedBytes = await this.storedBytes(bundleId, stored);
        await store.remove(bundleDir(bundleId));
        const active = await store.readText('active.json');
        if (active && active.includes(JSON.stringify(bundleId))) await store.remove('active.json');
        return { id: bundleId, freedBytes, usage: await this.currentUsage() };
      });
    });
  }

  // ---- internals ----

  private baseHref(): string {
    return this.options.baseHref ?? (typeof self !== 'undefined' && 'location' in self ? self.location.href : 'http://localhost/');
  }

  private gpuOnce(): Promise<GpuFacts> {
    this.gpuFacts ??= (this.options.gpu ?? detectGpu)();
    return this.gpuFacts;
  }

  private async currentUsage(): Promise<StorageUsage> {
    const store = await this.storeP;
    const estimate = await this.estimate();
    let bundleBytes = 0;
    for (const id of await store.list('bundles')) bundleBytes += await this.storedBytes(id, await this.readStored(id));
    const persisted = await (this.options.persisted ?? (async () => {
      try { return (await navigator.storage?.persisted?.()) ?? false; } catch { return false; }
    }))();
    return { backend: store.kind, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted, bundleBytes };
  }

  private async estimate(): Promise<SpaceEstimate | null> {
    if (this.options.estimate) return this.options.estimate();
    try {
      return (await navigator.storage?.estimate?.()) ?? null;
    } catch {
      return null;
    }
  }

  private async readRecord(id: string): Promise<BundleRecord | null> {
    const stored = await this.readStored(id);
    return stored.kind === 'ok' ? stored.rec : null;
  }

  /** state.json, else its spare copy; a folder whose records are both unreadable or invalid is damaged. */
  private async readStored(id: string): Promise<StoredRecord> {
    const store = await this.storeP;
    let damaged: { reason: string; text: string | null } | null = null;
    for (const name of ['state.json', 'state.json.tmp']) {
      let text: string | null;
      try {
        text = await store.readText(`${bundleDir(id)}/${name}`);
      } catch (e) {
        damaged ??= { reason: `${name} cannot be read (${e instanceof Error ? e.message : String(e)})`, text: null };
        continue;
      }
      if (text === null) continue;
      const read = parseRecord(text);
      if (read.ok && read.record.id === id) return { kind: 'ok', rec: read.record };
      damaged ??= { reason: read.ok ? `state.json belongs to another model ("${read.record.id.slice(0, 60)}")` : read.reason, text };
    }
    if (damaged) return { kind: 'damaged', ...damaged };
    // Files without any record: bytes nobody can verify, still worth listing so they can be deleted.
    return (await store.list(bundleDir(id))).length > 0 ? { kind: 'damaged', reason: 'state.json is missing', text: null } : { kind: 'none' };
  }

  /** Bytes a bundle folder holds: its record's files, or everything under it when the record is damaged. */
  private async storedBytes(id: string, stored: StoredRecord): Promise<number> {
    switch (stored.kind) {
      case 'none':
        return 0;
      case 'ok':
        return [...(await this.sizes(stored.rec)).values()].reduce<number>((s, n) => s + (n ?? 0), 0);
      case 'damaged':
        return this.dirBytes(bundleDir(id));
      default: {
        const never: never = stored;
        throw new Error(`unreachable record ${String(never)}`);
      }
    }
  }

  /** Total size of the files under a folder (a path with no size is a folder: its files are counted). */
  private async dirBytes(dir: string): Promise<number> {
    const store = await this.storeP;
    let total = 0;
    for (const name of await store.list(dir)) {
      const path = `${dir}/${name}`;
      const size = await store.size(path);
      total += size ?? (await this.dirBytes(path));
    }
    return total;
  }

  private async saveRecord(rec: BundleRecord): Promise<void> {
    const store = await this.storeP;
    const text = JSON.stringify(rec);
    // Write a spare copy first: if the tab dies while state.json is rewritten, the spare is read instead.
    await store.writeText(`${bundleDir(rec.id)}/state.json.tmp`, text);
    await store.writeText(`${bundleDir(rec.id)}/state.json`, text);
  }

  private async sizes(rec: BundleRecord): Promise<Map<string, number | null>> {
    const store = await this.storeP;
    const out = new Map<string, number | null>();
    for (const f of rec.files) out.set(f.path, await store.size(filePath(rec.id, f.path)));
    return out;
  }

  /** The record checked against storage (a lost file drops it back to incomplete, and that is saved). */
  private async checked(rec: BundleRecord): Promise<{ rec: BundleRecord; sizes: Map<string, number | null> }> {
    const sizes = await this.sizes(rec);
    const next = reconcile(rec, sizes, this.now());
    if (next !== rec && !this.running.has(rec.id)) await this.saveRecord(next);
    return { rec: next, sizes };
  }

  private async openRecord(id: string): Promise<BundleRecord> {
    const stored = await this.readStored(id);
    if (stored.kind === 'damaged') {
      throw new EngineError(ErrorCode.Integrity, `The stored model "${id}" is damaged (${stored.reason}): delete it or download it again in the model manager.`, { file: 'state.json' });
    }
    if (stored.kind === 'none') throw new EngineError(ErrorCode.NoModel, `No stored model "${id}": add it in the model manager first.`);
    const rec = stored.rec;
    const { rec: checked } = await this.checked(rec);
    if (checked.status !== 'ready') {
      throw new EngineError(ErrorCode.NoModel, `${rec.name} is not completely downloaded and verified yet: press Download to finish it.`);
    }
    return checked;
  }

  /** Reuse the id of a bundle from the same source, else a new id from the name ("builtin" for the built-in bundle). */
  private async idFor(key: string, name: string): Promise<string> {
    if (key === 'builtin') return BUILTIN_ID;
    const store = await this.storeP;
    const ids = await store.list('bundles');
    for (const id of ids) {
      const rec = await this.readRecord(id);
      if (rec?.source.key === key) return id;
    }
    const base = slug(name);
    if (!ids.includes(base) && base !== BUILTIN_ID) return base;
    for (let i = 2; ; i++) if (!ids.includes(`${base}-${i}`)) return `${base}-${i}`;
  }

  /** Download or copy every file that is not verified yet, then mark the bundle ready. Runs under the bundle lock. */
  private async fill(
    id: string, key: string, manifestSha256: string, resolved: ResolvedSource, signal: AbortSignal, tracker: ProgressTracker,
  ): Promise<StoredBundle> {
    const store = await this.storeP;
    const previous = await this.readRecord(id);
    let rec: BundleRecord;
    if (previous && previous.manifestSha256 === manifestSha256) {
      rec = (await this.checked(previous)).rec;
    } else {
      rec = newRecord({
        id, name: resolved.manifest.name, description: resolved.manifest.description, family: resolved.manifest.family,
        source: { kind: resolved.kind, label: resolved.label, baseUrl: resolved.baseUrl, key },
        variant: resolved.variant, manifestSha256, stages: resolved.manifest.stages, files: resolved.manifest.files, now: this.now(),
      });
      // A changed manifest keeps the stored bytes: unchanged files verify without a download, others resume or
      // restart; files the new manifest no longer names are deleted.
      if (previous) {
        for (const f of previous.files) {
          if (rec.files.some((g) => g.path === f.path)) rec = withValidator(rec, f.path, f.validator, this.now());
          else await store.remove(filePath(id, f.path));
        }
      }
    }
    const sizes = await this.sizes(rec);
    tracker.init(rec, sizes);
    if (rec.status === 'ready') {
      tracker.setPhase('ready', `${rec.name} is already stored and verified.`);
      return summarise(rec, store.kind, sizes);
    }

    let current: string | null = null;
    try {
      tracker.setPhase('checking', 'Checking free space…');
      const needed = pendingFiles(rec).reduce((s, f) => s + Math.max(0, (f.bytes ?? 0) - (sizes.get(f.path) ?? 0)), 0);
      checkSpace(needed, await this.estimate(), rec.name);
      await this.askPersist();
      await this.saveRecord(rec);
      await store.writeText(filePath(id, 'manifest.json'), resolved.manifestText);

      const transferring = resolved.kind === 'folder' ? 'Copying' : 'Downloading';
      tracker.setPhase('transferring', `${transferring} ${rec.name} (${formatBytes(needed)} to go)…`);
      // A damaged file does not stop the others (the retry then fetches only it); other errors do.
      let damaged: unknown = null;
      // Origins that served pinned files after a cross-origin redirect (e.g. a CDN): reported, never silent.
      const servedFrom = new Set<string>();
      for (const f of pendingFiles(rec)) {
        if (signal.aborted) throw new EngineError(ErrorCode.Cancelled, 'Download paused. Press Download to resume.');
        current = f.path;
        let resumedFrom = 0;
        const source = resolved.bytesOf(f.path, f.optional, f.sha256 !== null);
        const result = await transferFile(source, f, store, filePath(id, f.path), signal, {
          onChecking: (checked, of) => tracker.update(f.path, { status: 'checking', loaded: checked, resumedFrom: of }),
          onStart: async (start, total, validator) => {
            resumedFrom = start;
            tracker.update(f.path, { status: 'downloading', loaded: start, total: f.bytes ?? total, resumedFrom: start }, true);
            rec = withValidator(rec, f.path, validator, this.now());
            await this.saveRecord(rec);
          },
          onBytes: (n) => tracker.bytes(f.path, n),
        }).catch((e: unknown) => {
          if (toErrorData(e).code !== ErrorCode.Integrity) throw e;
          damaged ??= e;
          tracker.update(f.path, { status: 'failed', loaded: 0 }, true);
          return null;
        });
        const other = source.servedFrom?.() ?? null;
        if (other !== null) servedFrom.add(other);
        if (result === null) {
          current = null;
          continue;
        }
        if (result.kind === 'absent') {
          rec = withAbsent(rec, f.path, this.now());
          tracker.update(f.path, { status: 'verified', loaded: 0, total: 0 }, true);
        } else {
          rec = withVerified(rec, f.path, { bytes: result.bytes, sha256: result.sha256 }, this.now());
          tracker.update(f.path, { status: 'verified', loaded: result.bytes, total: result.bytes, resumedFrom }, true);
        }
        await this.saveRecord(rec);
        current = null;
      }
      if (damaged !== null) throw damaged;
      rec = markReady(rec, this.now());
      await this.saveRecord(rec);
      const elsewhere = servedFrom.size === 0 ? ''
        : ` Some files were served from ${[...servedFrom].join(', ')} after a redirect; each matched its SHA-256 in the manifest.`;
      tracker.setPhase('ready', `${rec.name} is stored and verified${store.kind === 'memory' ? ' (in memory only: it is gone after a reload)' : ''}.${elsewhere}`);
      return summarise(rec, store.kind, await this.sizes(rec));
    } catch (e) {
      const err = toErrorData(e);
      if (current !== null) tracker.update(current, { status: 'failed' }, true);
      tracker.setPhase('failed', err.message);
      rec = withError(rec, err, this.now());
      await this.saveRecord(rec).catch(() => undefined);
      throw e;
    }
  }

  private async askPersist(): Promise<void> {
    if (this.persistAsked) return;
    this.persistAsked = true;
    try {
      await (this.options.persist ?? (async () => (await navigator.storage?.persist?.()) ?? false))();
    } catch {
      // Persistence is a request; without it the browser may evict under pressure, which `usage` reports.
    }
  }
}
