/**
 * The model store's wire protocol (models worker <-> UI): plain, structured-clone-safe data.
 * Errors travel as EngineErrorData with a `code` inside Result, as in ../protocol.ts.
 */
import type { EngineErrorData } from '../errors.ts';
import type { BundleSourceData, Mode, Result } from '../protocol.ts';
import type { StageName } from '../runtime/types.ts';

/** Where a stored bundle came from. */
export const SOURCE_KINDS = ['builtin', 'url', 'folder'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Where the store keeps files: the origin private file system, Cache Storage, or memory (nothing persists). */
export const STORAGE_BACKENDS = ['opfs', 'cache', 'memory'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

/** One file picked by the user, with its path relative to the picked folder ("unet.onnx", "tokenizer/tokenizer.json"). */
export interface FolderFile {
  readonly path: string;
  readonly file: Blob;
}

/** What the UI asks the store to add (download, import or resume). `variant` forces a variant id. */
export type AddRequest =
  | { readonly kind: 'builtin' }
  | { readonly kind: 'url'; readonly url: string; readonly variant?: string }
  | { readonly kind: 'folder'; readonly label: string; readonly files: readonly FolderFile[]; readonly variant?: string };

/** Capabilities of this device that decide which variant can run (SPEC §5). */
export interface GpuFacts {
  readonly webgpu: boolean;
  readonly shaderF16: boolean;
  /** Adapter description when WebGPU is present ("" when unknown). */
  readonly adapter: string;
}

/** Requirements a variant can declare in variants.json; anything else makes the variant unusable here. */
export const VARIANT_REQUIREMENTS = ['webgpu', 'shader-f16'] as const;
export type VariantRequirement = (typeof VARIANT_REQUIREMENTS)[number];

/** One variant as the UI sees it. */
export interface VariantOption {
  readonly id: string;
  readonly label: string;
  readonly usable: boolean;
  /** Why it is (not) usable on this device. */
  readonly why: string;
}

/** The variant the store picked, and why. */
export interface VariantChoice {
  readonly id: string;
  readonly label: string;
  readonly reason: string;
  readonly options: readonly VariantOption[];
}

/** Per-file download state as shown in the UI. */
export const FILE_STATUSES = ['pending', 'checking', 'downloading', 'verified', 'failed'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** Progress of one file of a bundle. */
export interface FileProgress {
  readonly path: string;
  /** Bytes stored so far (including a resumed prefix). */
  readonly loaded: number;
  /** Expected size; null when the manifest does not say and the server did not either. */
  readonly total: number | null;
  readonly status: FileStatus;
  /** Bytes per second over the last few seconds (0 when idle). */
  readonly speed: number;
  /** Seconds left at the current speed; null when unknown. */
  readonly etaSeconds: number | null;
  /** Byte offset this session resumed from (0 = from the start). */
  readonly resumedFrom: number;
}

/** Phases of an add: resolve the source, wait for another tab, check space, transfer, done. */
export const ADD_PHASES = ['resolving', 'waiting', 'checking', 'transferring', 'ready', 'failed'] as const;
export type AddPhase = (typeof ADD_PHASES)[number];

/** One progress event of an add (download or folder import). */
export interface AddProgress {
  readonly bundleId: string;
  readonly name: string;
  readonly phase: AddPhase;
  readonly message: string;
  readonly loaded: number;
  readonly total: number;
  readonly speed: number;
  readonly etaSeconds: number | null;
  readonly files: readonly FileProgress[];
}

/** Stored state of a bundle: only `ready` bundles can be opened. */
export const BUNDLE_STATUSES = ['incomplete', 'ready'] as const;
export type BundleStatus = (typeof BUNDLE_STATUSES)[number];
/** How a bundle is listed: its stored status, or 'damaged' when its state.json fails validation (quarantined). */
export type ListedStatus = BundleStatus | 'damaged';

/** Which generation modes a bundle supports; `imageFusion` needs `image_encoder` on top of `fusion`. */
export type BundleModes = Readonly<Record<Mode, boolean>> & { readonly imageFusion: boolean };

/** What the UI learns about a stored bundle. */
export interface StoredBundle {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly family: string;
  readonly source: { readonly kind: SourceKind; readonly label: string };
  readonly variant: VariantChoice | null;
  readonly status: ListedStatus;
  /** True when ready and kept in persistent storage (usable with the network off). */
  readonly offline: boolean;
  readonly backend: StorageBackend;
  /** Total size of the bundle's files (manifest sizes, else stored sizes). */
  readonly bytes: number;
  /** Bytes currently stored. */
  readonly storedBytes: number;
  readonly fileCount: number;
  readonly verifiedCount: number;
  readonly stages: readonly StageName[];
  readonly modes: BundleModes;
  readonly addedAt: number;
  readonly updatedAt: number;
  /** Why the last add failed, if it did. */
  readonly lastError: EngineErrorData | null;
  /** Why state.json was refused (status 'damaged': only Delete and Re-download work); null when intact. */
  readonly damage: string | null;
}

/** Storage figures for the "space used" line. */
export interface StorageUsage {
  readonly backend: StorageBackend;
  /** navigator.storage.estimate(); null where the browser does not say. */
  readonly usage: number | null;
  readonly quota: number | null;
  /** Whether the browser granted persistent storage (not evicted under pressure). */
  readonly persisted: boolean;
  /** Bytes held by stored bundles. */
  readonly bundleBytes: number;
}

/** Outcome of a delete. */
export interface RemoveResult {
  readonly id: string;
  readonly freedBytes: number;
  readonly usage: StorageUsage;
}

/** A ready bundle as an engine source: OPFS File objects (Blobs), never copied into one ArrayBuffer. */
export interface OpenedBundle {
  readonly bundle: StoredBundle;
  readonly source: BundleSourceData & { readonly kind: 'files' };
}

/** The API the models worker exposes over comlink. */
export interface ModelStoreApi {
  /** Storage backend, usage and quota. */
  usage(): Promise<Result<StorageUsage>>;
  /** WebGPU facts used for variant choice. */
  gpu(): Promise<Result<GpuFacts>>;
  /** Every stored bundle (ready or not), newest first. */
  list(): Promise<Result<readonly StoredBundle[]>>;
  /** Download, import or resume a bundle; resolves when every file is verified. */
  add(request: AddRequest, onProgress?: (p: AddProgress) => void): Promise<Result<StoredBundle>>;
  /** Stop a running add (it resolves with CANCELLED; stored bytes stay for a resume). */
  cancel(bundleId: string): void;
  /** Delete a bundle and its files. */
  remove(bundleId: string): Promise<Result<RemoveResult>>;
  /** A ready bundle's files for EngineApi.load. */
  open(bundleId: string): Promise<Result<OpenedBundle>>;
  /** Remember which bundle the app loads at start (null = none). */
  setActive(bundleId: string | null): Promise<Result<null>>;
  /** The remembered active bundle id, if it still exists and is ready. */
  active(): Promise<Result<string | null>>;
}
