/**
 * A stored bundle's record (state.json next to its files) and the transitions between its states.
 * Invariant: `status` is 'ready' only when every required file is stored and verified; every transition
 * here keeps it, and `reconcile` drops a bundle back to 'incomplete' when storage lost a file.
 */
import { EngineError, ErrorCode, type EngineErrorData } from '../errors.ts';
import type { StageName } from '../runtime/types.ts';
import type { BundleStatus, SourceKind, StorageBackend, StoredBundle, VariantChoice } from './protocol.ts';
import type { Validator } from './resume.ts';
import { modesOf } from './modes.ts';

/** Version of state.json this code writes. */
export const STATE_VERSION = 1;

/** One file of a bundle. */
export interface FileRecord {
  readonly path: string;
  /** Expected size and hash from the manifest (null where it gives none, e.g. the tokenizer). */
  readonly bytes: number | null;
  readonly sha256: string | null;
  /** An optional file may be absent from the source (then `absent` is set and it counts as done). */
  readonly optional: boolean;
  readonly absent: boolean;
  /** Set only after the whole file was stored and its size and sha256 matched. */
  readonly verified: boolean;
  /** What was actually stored when verified. */
  readonly storedBytes: number | null;
  readonly storedSha256: string | null;
  /** Validator of the response the stored bytes came from (for If-Range). */
  readonly validator: Validator | null;
}

/** Where a bundle came from; `key` identifies the source so a second add resumes the same bundle. */
export interface SourceRecord {
  readonly kind: SourceKind;
  readonly label: string;
  /** URL prefix of the bundle's files (the variant's folder), for URL and built-in sources. */
  readonly baseUrl: string | null;
  readonly key: string;
}

/** The record kept in state.json. */
export interface BundleRecord {
  readonly version: typeof STATE_VERSION;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly family: string;
  readonly source: SourceRecord;
  readonly variant: VariantChoice | null;
  /** sha256 of the manifest.json bytes: a changed manifest means a different bundle. */
  readonly manifestSha256: string;
  readonly stages: readonly StageName[];
  readonly status: BundleStatus;
  readonly files: readonly FileRecord[];
  readonly addedAt: number;
  readonly updatedAt: number;
  readonly lastError: EngineErrorData | null;
}

/** A file the manifest names, as the store needs it. */
export interface ManifestFile {
  readonly path: string;
  readonly bytes: number | null;
  readonly sha256: string | null;
  readonly optional: boolean;
}

/** A new, incomplete record. */
export function newRecord(init: {
  id: string; name: string; description: string; family: string; source: SourceRecord; variant: VariantChoice | null;
  manifestSha256: string; stages: readonly StageName[]; files: readonly ManifestFile[]; now: number;
}): BundleRecord {
  return {
    version: STATE_VERSION,
    id: init.id,
    name: init.name,
    description: init.description,
    family: init.family,
    source: init.source,
    variant: init.variant,
    manifestSha256: init.manifestSha256,
    stages: init.stages,
    status: 'incomplete',
    files: init.files.map((f) => ({
      ...f, absent: false, verified: false, storedBytes: null, storedSha256: null, validator: null,
    })),
    addedAt: init.now,
    updatedAt: init.now,
    lastError: null,
  };
}

function updateFile(rec: BundleRecord, path: string, now: number, change: (f: FileRecord) => FileRecord): BundleRecord {
  let found = false;
  const files = rec.files.map((f) => {
    if (f.path !== path) return f;
    found = true;
    return change(f);
  });
  if (!found) throw new EngineError(ErrorCode.Internal, `Bundle ${rec.id} has no file "${path}".`);
  // Any change to a file makes the bundle incomplete until markReady checks everything again.
  return { ...rec, files, status: 'incomplete', updatedAt: now };
}

/** Record the validator of the response now being stored (the stored prefix is no longer verified). */
export function withValidator(rec: BundleRecord, path: string, validator: Validator | null, now: number): BundleRecord {
  return updateFile(rec, path, now, (f) => ({ ...f, validator, verified: false, storedBytes: null, storedSha256: null }));
}

/** Mark a file verified. Throws INTEGRITY_MISMATCH when size or hash differ from the manifest. */
export function withVerified(rec: BundleRecord, path: string, stored: { bytes: number; sha256: string }, now: number): BundleRecord {
  return updateFile(rec, path, now, (f) => {
    if (f.bytes !== null && f.bytes !== stored.bytes) {
      throw new EngineError(ErrorCode.Integrity, `${path}: expected ${f.bytes} bytes, stored ${stored.bytes}.`, {
        file: path, expected: String(f.bytes), actual: String(stored.bytes),
      });
    }
    if (f.sha256 !== null && f.sha256.toLowerCase() !== stored.sha256.toLowerCase()) {
      throw new EngineError(ErrorCode.Integrity, `${path}: sha256 differs from the manifest.`, {
        file: path, expected: f.sha256, actual: stored.sha256,
      });
    }
    return { ...f, verified: true, absent: false, storedBytes: stored.bytes, storedSha256: stored.sha256.toLowerCase() };
  });
}

/** Mark an optional file as absent from the source. Required files can never be absent. */
export function withAbsent(rec: BundleRecord, path: string, now: number): BundleRecord {
  return updateFile(rec, path, now, (f) => {
    if (!f.optional) throw new EngineError(ErrorCode.MissingFile, `${path} is required by the manifest but the source does not have it.`, { file: path });
    return { ...f, absent: true, verified: false, storedBytes: null, storedSha256: null, validator: null };
  });
}

/** Forget that a file was verified (its bytes were deleted or found damaged). */
export function withReset(rec: BundleRecord, path: string, now: number): BundleRecord {
  return updateFile(rec, path, now, (f) => ({ ...f, verified: false, storedBytes: null, storedSha256: null, validator: null }));
}

/** Files that still need work. */
export function pendingFiles(rec: BundleRecord): FileRecord[] {
  return rec.files.filter((f) => !f.verified && !f.absent);
}

/** The ready record. Throws INTEGRITY_MISMATCH naming the files when any is missing or unverified. */
export function markReady(rec: BundleRecord, now: number): BundleRecord {
  const pending = pendingFiles(rec);
  if (pending.length > 0) {
    throw new EngineError(
      ErrorCode.Integrity,
      `Bundle ${rec.name} is not complete: ${pending.map((f) => f.path).join(', ')} not verified. Press Download to finish it.`,
      { file: pending.map((f) => f.path).join(', ') },
    );
  }
  return { ...rec, status: 'ready', lastError: null, updatedAt: now };
}

/** Record a failure (the bundle stays incomplete). */
export function withError(rec: BundleRecord, error: EngineErrorData, now: number): BundleRecord {
  return { ...rec, status: rec.status === 'ready' ? 'ready' : 'incomplete', lastError: error, updatedAt: now };
}

/**
 * Check a record against what storage actually holds (`sizes`: stored size per path, null = absent).
 * A verified file that is gone or has another size is reset, and the bundle is no longer ready.
 */
export function reconcile(rec: BundleRecord, sizes: ReadonlyMap<string, number | null>, now: number): BundleRecord {
  let next = rec;
  for (const f of rec.files) {
    if (!f.verified) continue;
    const size = sizes.get(f.path) ?? null;
    if (size === null || size !== f.storedBytes) next = withReset(next, f.path, now);
  }
  if (next === rec) return rec;
  return { ...next, lastError: { code: ErrorCode.MissingFile, message: 'Some files of this model were removed from storage: press Download to restore them.' } };
}

/** Total size: manifest sizes where given, else what is stored. */
export function totalBytes(rec: BundleRecord, stored: ReadonlyMap<string, number | null>): number {
  return rec.files.reduce((s, f) => s + (f.bytes ?? f.storedBytes ?? stored.get(f.path) ?? 0), 0);
}

/** The UI's view of a record. */
export function summarise(rec: BundleRecord, backend: StorageBackend, stored: ReadonlyMap<string, number | null>): StoredBundle {
  const storedBytes = [...stored.values()].reduce<number>((s, n) => s + (n ?? 0), 0);
  return {
    id: rec.id,
    name: rec.name,
    description: rec.description,
    family: rec.family,
    source: { kind: rec.source.kind, label: rec.source.label },
    variant: rec.variant,
    status: rec.status,
    offline: rec.status === 'ready' && backend !== 'memory',
    backend,
    bytes: totalBytes(rec, stored),
    storedBytes,
    fileCount: rec.files.filter((f) => !f.absent).length,
    verifiedCount: rec.files.filter((f) => f.verified).length,
    stages: rec.stages,
    modes: modesOf(rec.stages),
    addedAt: rec.addedAt,
    updatedAt: rec.updatedAt,
    lastError: rec.lastError,
  };
}

/** Parse state.json; null when it is not a record this code wrote. */
export function parseRecord(text: string): BundleRecord | null {
  try {
    const o = JSON.parse(text) as Partial<BundleRecord>;
    if (o.version !== STATE_VERSION || typeof o.id !== 'string' || !Array.isArray(o.files) || typeof o.source !== 'object') return null;
    return o as BundleRecord;
  } catch {
    return null;
  }
}
