/**
 * A stored bundle's record (state.json next to its files) and the transitions between its states.
 * Invariant: `status` is 'ready' only when every required file is stored and verified; every transition
 * here keeps it, and `reconcile` drops a bundle back to 'incomplete' when storage lost a file.
 */
import { EngineError, ErrorCode, type EngineErrorData } from '../errors.ts';
import { STAGE_NAMES, type StageName } from '../runtime/types.ts';
import { BUNDLE_STATUSES, SOURCE_KINDS, type BundleStatus, type SourceKind, type StorageBackend, type StoredBundle, type VariantChoice } from './protocol.ts';
import type { Validator } from './resume.ts';
import { modesOf } from './modes.ts';

/** Id of the stored copy of the built-in bundle (api.ts BUILTIN_ID). */
const BUILTIN_RECORD_ID = 'builtin';

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
    damage: null,
  };
}

/** What a state.json holds: a record, or why it is not one (the bundle is then quarantined as damaged). */
export type RecordRead =
  | { readonly ok: true; readonly record: BundleRecord }
  | { readonly ok: false; readonly reason: string };

/** A field of state.json that is not what this code writes. */
class Damage extends Error {}

function need(ok: boolean, field: string, expected: string): void {
  if (!ok) throw new Damage(`"${field}" is not ${expected}`);
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const orNull = (v: unknown, test: (x: unknown) => boolean): boolean => v === null || test(v);
const isString = (v: unknown): boolean => typeof v === 'string';
const isHex64 = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v);

function checkFile(f: unknown, at: string): void {
  need(isObject(f), at, 'an object');
  const o = f as Record<string, unknown>;
  need(typeof o.path === 'string' && o.path !== '', `${at}.path`, 'a non-empty string');
  need(orNull(o.bytes, isCount), `${at}.bytes`, 'null or a byte count');
  need(orNull(o.sha256, isHex64), `${at}.sha256`, 'null or a sha256 digest');
  for (const k of ['optional', 'absent', 'verified'] as const) need(typeof o[k] === 'boolean', `${at}.${k}`, 'true or false');
  need(orNull(o.storedBytes, isCount), `${at}.storedBytes`, 'null or a byte count');
  need(orNull(o.storedSha256, isHex64), `${at}.storedSha256`, 'null or a sha256 digest');
  need(orNull(o.validator, (v) => isObject(v) && orNull(v.etag, isString) && orNull(v.lastModified, isString)), `${at}.validator`, 'null or {etag, lastModified}');
  need(!o.verified || isCount(o.storedBytes), `${at}.storedBytes`, 'a byte count for a verified file');
}

function checkVariant(v: unknown): void {
  if (v === null) return;
  need(isObject(v), 'variant', 'null or an object');
  const o = v as Record<string, unknown>;
  for (const k of ['id', 'label', 'reason'] as const) need(isString(o[k]), `variant.${k}`, 'a string');
  need(Array.isArray(o.options), 'variant.options', 'an array');
  (o.options as unknown[]).forEach((x, i) => {
    need(isObject(x) && isString(x.id) && isString(x.label) && typeof x.usable === 'boolean' && isString(x.why), `variant.options[${i}]`, 'a variant option');
  });
}

/** Every field of a record, as this code writes it (STATE_VERSION); throws Damage naming the first bad one. */
function checkRecord(o: unknown): BundleRecord {
  need(isObject(o), '(root)', 'an object');
  const r = o as Record<string, unknown>;
  need(r.version === STATE_VERSION, 'version', String(STATE_VERSION));
  need(typeof r.id === 'string' && r.id !== '', 'id', 'a non-empty string');
  for (const k of ['name', 'description', 'family'] as const) need(isString(r[k]), k, 'a string');
  need(isObject(r.source), 'source', 'an object');
  const src = r.source as Record<string, unknown>;
  need((SOURCE_KINDS as readonly unknown[]).includes(src.kind), 'source.kind', `one of ${SOURCE_KINDS.join(', ')}`);
  need(isString(src.label) && isString(src.key), 'source.label/key', 'strings');
  need(orNull(src.baseUrl, isString), 'source.baseUrl', 'null or a string');
  checkVariant(r.variant);
  need(isHex64(r.manifestSha256), 'manifestSha256', 'a sha256 digest');
  need(Array.isArray(r.stages) && r.stages.every((x) => (STAGE_NAMES as readonly unknown[]).includes(x)), 'stages', 'a list of stage names');
  need((BUNDLE_STATUSES as readonly unknown[]).includes(r.status), 'status', `one of ${BUNDLE_STATUSES.join(', ')}`);
  need(Array.isArray(r.files), 'files', 'an array');
  const files = r.files as unknown[];
  files.forEach((f, i) => checkFile(f, `files[${i}]`));
  need(new Set(files.map((f) => (f as FileRecord).path)).size === files.length, 'files', 'a list of distinct paths');
  need(r.status !== 'ready' || files.every((f) => (f as FileRecord).verified || (f as FileRecord).absent), 'status', '"ready" while files are unverified');
  need(Number.isFinite(r.addedAt) && Number.isFinite(r.updatedAt), 'addedAt/updatedAt', 'times');
  need(orNull(r.lastError, (e) => isObject(e) && isString(e.code) && isString(e.message)), 'lastError', 'null or an error');
  return o as BundleRecord;
}

/** Parse and check state.json: the record, or why it is damaged (not JSON, another version, a bad field). */
export function parseRecord(text: string): RecordRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'state.json is not JSON' };
  }
  try {
    return { ok: true, record: checkRecord(json) };
  } catch (e) {
    if (e instanceof Damage) return { ok: false, reason: `state.json: ${e.message}` };
    throw e;
  }
}

/** What a damaged record still tells: its name and source, where those fields are intact (for the list and Re-download). */
export function salvage(text: string, id: string): { name: string; source: { kind: SourceKind; label: string } | null } {
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* nothing to salvage */ }
  const o = isObject(json) ? json : {};
  const name = typeof o.name === 'string' && o.name !== '' ? o.name.slice(0, 200) : id;
  const src = isObject(o.source) ? o.source : {};
  if (id === BUILTIN_RECORD_ID) return { name, source: { kind: 'builtin', label: typeof src.label === 'string' ? src.label : 'built-in' } };
  const kind = (SOURCE_KINDS as readonly unknown[]).includes(src.kind) ? (src.kind as SourceKind) : null;
  return { name, source: kind !== null && typeof src.label === 'string' && src.label !== '' ? { kind, label: src.label } : null };
}

/** The UI's view of a quarantined bundle: listed as damaged with the reason; only Delete and Re-download work. */
export function summariseDamaged(
  id: string, reason: string, salvaged: ReturnType<typeof salvage>, backend: StorageBackend, storedBytes: number, now: number,
): StoredBundle {
  return {
    id,
    name: salvaged.name,
    description: '',
    family: '',
    // Without a readable source only Delete is offered (a folder has to be picked again anyway).
    source: salvaged.source ?? { kind: 'folder', label: '' },
    variant: null,
    status: 'damaged',
    damage: reason,
    offline: false,
    backend,
    bytes: storedBytes,
    storedBytes,
    fileCount: 0,
    verifiedCount: 0,
    stages: [],
    modes: modesOf([]),
    addedAt: now,
    updatedAt: now,
    lastError: null,
  };
}
