/**
 * Where bundle files live: the origin private file system (OPFS) first, Cache Storage where OPFS is
 * missing, memory where neither exists (nothing survives a reload then). Paths are "/"-separated.
 */
import type { StorageBackend } from './protocol.ts';

/** An open file being written; bytes go to the end. */
export interface FileSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Commit what was written (also after a failed download: the prefix is kept for a resume). */
  close(): Promise<void>;
}

/** A small file store with appendable files. */
export interface FileStore {
  readonly kind: StorageBackend;
  /** False where files can only be written whole (Cache Storage): a resume then restarts the file. */
  readonly canAppend: boolean;
  /** Size in bytes, or null when absent. */
  size(path: string): Promise<number | null>;
  /** The file as a Blob (OPFS: a File backed by disk, not a copy), or null when absent. */
  read(path: string): Promise<Blob | null>;
  /** Open for writing: keep the first `from` bytes, drop the rest, append after them. */
  open(path: string, from: number): Promise<FileSink>;
  writeText(path: string, text: string): Promise<void>;
  readText(path: string): Promise<string | null>;
  /** Remove a file or a whole directory; absent paths are fine. */
  remove(path: string): Promise<void>;
  /** Names directly under a directory ([] when absent). */
  list(dir: string): Promise<string[]>;
}

function segments(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '.' || p === '..') throw new Error(`Invalid storage path "${path}": "." and ".." are not allowed.`);
  }
  return parts;
}

function isNotFound(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');
}

/** In-memory store: for tests and for browsers without OPFS or Cache Storage. */
export class MemoryFileStore implements FileStore {
  readonly kind = 'memory' as const;
  readonly canAppend = true;
  private readonly files = new Map<string, Blob>();

  async size(path: string): Promise<number | null> {
    return this.files.get(segments(path).join('/'))?.size ?? null;
  }
  async read(path: string): Promise<Blob | null> {
    return this.files.get(segments(path).join('/')) ?? null;
  }
  async open(path: string, from: number): Promise<FileSink> {
    const key = segments(path).join('/');
    const prefix = (this.files.get(key) ?? new Blob([])).slice(0, from);
    this.files.set(key, prefix);
    const parts: BlobPart[] = [prefix];
    return {
      write: async (chunk) => {
        parts.push(chunk.slice());
        this.files.set(key, new Blob(parts));
      },
      close: async () => { this.files.set(key, new Blob(parts)); },
    };
  }
  async writeText(path: string, text: string): Promise<void> {
    this.files.set(segments(path).join('/'), new Blob([text]));
  }
  async readText(path: string): Promise<string | null> {
    const b = await this.read(path);
    return b ? b.text() : null;
  }
  async remove(path: string): Promise<void> {
    const key = segments(path).join('/');
    for (const k of [...this.files.keys()]) if (k === key || k.startsWith(`${key}/`)) this.files.delete(k);
  }
  async list(dir: string): Promise<string[]> {
    const prefix = segments(dir).join('/');
    const names = new Set<string>();
    for (const k of this.files.keys()) {
      if (prefix !== '' && !k.startsWith(`${prefix}/`)) continue;
      const rest = prefix === '' ? k : k.slice(prefix.length + 1);
      const first = rest.split('/')[0];
      if (first) names.add(first);
    }
    return [...names];
  }
}

/** Bytes written through createWritable() between commits (its data only lands on close). */
const WRITABLE_COMMIT_BYTES = 64 * 1024 * 1024;
/** Bytes written through a sync access handle between flushes. */
const SYNC_FLUSH_BYTES = 16 * 1024 * 1024;

/** OPFS store under one top directory. Uses sync access handles in dedicated workers, createWritable elsewhere. */
export class OpfsFileStore implements FileStore {
  readonly kind = 'opfs' as const;
  readonly canAppend = true;
  constructor(private readonly root: FileSystemDirectoryHandle) {}

  /** Open the store, or null where OPFS is not available. */
  static async open(topDir: string): Promise<OpfsFileStore | null> {
    try {
      if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return null;
      const root = await navigator.storage.getDirectory();
      return new OpfsFileStore(await root.getDirectoryHandle(topDir, { create: true }));
    } catch {
      return null;
    }
  }

  private async dir(parts: readonly string[], create: boolean): Promise<FileSystemDirectoryHandle | null> {
    let d = this.root;
    try {
      for (const p of parts) d = await d.getDirectoryHandle(p, { create });
      return d;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  private async file(path: string, create: boolean): Promise<FileSystemFileHandle | null> {
    const parts = segments(path);
    const name = parts.pop();
    if (!name) throw new Error(`Invalid storage path "${path}".`);
    const d = await this.dir(parts, create);
    if (!d) return null;
    try {
      return await d.getFileHandle(name, { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async size(path: string): Promise<number | null> {
    const f = await this.file(path, false);
    return f ? (await f.getFile()).size : null;
  }

  async read(path: string): Promise<Blob | null> {
    const f = await this.file(path, false);
    return f ? f.getFile() : null;
  }

  async open(path: string, from: number): Promise<FileSink> {
    const handle = await this.file(path, true);
    if (!handle) throw new Error(`Could not create "${path}" in the origin private file system.`);
    if ('createSyncAccessHandle' in handle && typeof handle.createSyncAccessHandle === 'function') {
      return syncSink(await handle.createSyncAccessHandle(), from);
    }
    return writableSink(handle, from);
  }

  async writeText(path: string, text: string): Promise<void> {
    const sink = await this.open(path, 0);
    try {
      await sink.write(new TextEncoder().encode(text));
    } finally {
      // Always release the handle: a leaked sync access handle locks the file until the worker dies.
      await sink.close();
    }
  }

  async readText(path: string): Promise<string | null> {
    const b = await this.read(path);
    return b ? b.text() : null;
  }

  async remove(path: string): Promise<void> {
    const parts = segments(path);
    const name = parts.pop();
    if (!name) return;
    const d = await this.dir(parts, false);
    if (!d) return;
    try {
      await d.removeEntry(name, { recursive: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async list(dir: string): Promise<string[]> {
    const d = await this.dir(segments(dir), false);
    if (!d) return [];
    const names: string[] = [];
    for await (const name of (d as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  }
}

function syncSink(h: FileSystemSyncAccessHandle, from: number): FileSink {
  h.truncate(from);
  let at = from;
  let sinceFlush = 0;
  let closed = false;
  return {
    write: async (chunk) => {
      const n = h.write(chunk, { at });
      if (n !== chunk.byteLength) throw new DOMException(`Wrote ${n} of ${chunk.byteLength} bytes`, 'QuotaExceededError');
      at += n;
      sinceFlush += n;
      if (sinceFlush >= SYNC_FLUSH_BYTES) { h.flush(); sinceFlush = 0; }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try { h.flush(); } finally { h.close(); }
    },
  };
}

async function writableSink(handle: FileSystemFileHandle, from: number): Promise<FileSink> {
  const openAt = async (at: number) => {
    const w = await handle.createWritable({ keepExistingData: true });
    await w.truncate(at);
    await w.seek(at);
    return w;
  };
  let w: FileSystemWritableFileStream | null = await openAt(from);
  let at = from;
  let sinceCommit = 0;
  return {
    write: async (chunk) => {
      if (!w) throw new Error('write after close');
      await w.write(chunk as Uint8Array<ArrayBuffer>);
      at += chunk.byteLength;
      sinceCommit += chunk.byteLength;
      if (sinceCommit >= WRITABLE_COMMIT_BYTES) {
        // createWritable() writes to a swap file; closing commits, so an interruption loses at most this much.
        await w.close();
        w = await openAt(at);
        sinceCommit = 0;
      }
    },
    close: async () => {
      const current = w;
      w = null;
      await current?.close();
    },
  };
}

/** Cache Storage store: whole files only (Cache API responses cannot be appended to). */
export class CacheFileStore implements FileStore {
  readonly kind = 'cache' as const;
  readonly canAppend = false;
  constructor(private readonly cache: Cache, private readonly origin: string) {}

  /** Open the store, or null where Cache Storage is not available. */
  static async open(cacheName: string): Promise<CacheFileStore | null> {
    try {
      if (typeof caches === 'undefined') return null;
      return new CacheFileStore(await caches.open(cacheName), self.location.origin);
    } catch {
      return null;
    }
  }

  private key(path: string): string {
    return `${this.origin}/__model-store__/${segments(path).map(encodeURIComponent).join('/')}`;
  }

  async size(path: string): Promise<number | null> {
    const b = await this.read(path);
    return b ? b.size : null;
  }
  async read(path: string): Promise<Blob | null> {
    const r = await this.cache.match(this.key(path));
    return r ? r.blob() : null;
  }
  async open(path: string, from: number): Promise<FileSink> {
    if (from !== 0) throw new Error('Cache Storage cannot append: start the file from byte 0.');
    const key = this.key(path);
    const stream = new TransformStream<Uint8Array, Uint8Array>();
    const writer = stream.writable.getWriter();
    const put = this.cache.put(key, new Response(stream.readable as ReadableStream<Uint8Array<ArrayBuffer>>));
    put.catch(() => undefined);
    return {
      write: async (chunk) => {
        await writer.ready;
        await writer.write(chunk);
      },
      close: async () => {
        await writer.close();
        await put;
      },
    };
  }
  async writeText(path: string, text: string): Promise<void> {
    await this.cache.put(this.key(path), new Response(text));
  }
  async readText(path: string): Promise<string | null> {
    const r = await this.cache.match(this.key(path));
    return r ? r.text() : null;
  }
  async remove(path: string): Promise<void> {
    const key = this.key(path);
    for (const req of await this.cache.keys()) {
      if (req.url === key || req.url.startsWith(`${key}/`)) await this.cache.delete(req);
    }
  }
  async list(dir: string): Promise<string[]> {
    const prefix = `${this.key(dir)}/`.replace(/\/\/$/, '/');
    const names = new Set<string>();
    for (const req of await this.cache.keys()) {
      if (!req.url.startsWith(prefix)) continue;
      const first = req.url.slice(prefix.length).split('/')[0];
      if (first) names.add(decodeURIComponent(first));
    }
    return [...names];
  }
}

/** The best store this context offers: OPFS, else Cache Storage, else memory. */
export async function openBestStore(name: string): Promise<FileStore> {
  return (await OpfsFileStore.open(name)) ?? (await CacheFileStore.open(name)) ?? new MemoryFileStore();
}
